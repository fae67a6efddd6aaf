"""Privacy by default: planted secrets never reach the snapshot file's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask.bag as db
import pytest
import zstandard
from dask import delayed
from distributed import Client
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import CANARIES, recip_of_text, recip_with_secrets

import snapshot
from cluster_hook import SnapshotPlugin


def _plain_bytes(path: str | Path) -> bytes:
    """The whole snapshot decompressed: every manifest, pickle and source byte."""
    with open(path, "rb") as f:
        reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        return reader.read()


async def _snapshot_of(c: Client, future: Any) -> str:
    with pytest.raises(ZeroDivisionError) as info:
        await future
    (path,) = snapshot_paths_in_notes(info.value)
    return path


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_secret_names_are_redacted_everywhere(
    c: Client, s: Any, a: Any, snapshot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASK_REPLAY_TEST_TOKEN", CANARIES[3])
    monkeypatch.setenv("DASK_REPLAY_TEST_VISIBLE", "visible-env-value-8c1e")
    monkeypatch.setenv("UNLISTED_VARIABLE_9A7F", "unlisted-env-value-9a7f")
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    # The keyword argument travels in the graph (Task.kwargs), the locals and
    # the nested dict live in the frame, the variable in the environment.
    path = await _snapshot_of(c, c.compute(delayed(recip_with_secrets)(0, api_token=CANARIES[0])))

    # bag.map binds keyword arguments in a functools.partial.
    bag = db.from_sequence([0], npartitions=1).map(recip_with_secrets, api_token=CANARIES[0])
    bag_path = await _snapshot_of(c, c.compute(bag))
    assert CANARIES[0].encode() not in _plain_bytes(bag_path)
    assert snapshot.read_manifest(bag_path)["call"]["origin"] == "bag-map"

    raw = _plain_bytes(path)
    for canary in CANARIES:
        assert canary.encode() not in raw, canary
    assert b"unlisted-env-value-9a7f" not in raw  # not on the env allowlist
    # Controls: what is not secret is there, so the test can see a leak.
    assert b"db.example" in raw
    assert b"visible-env-value-8c1e" in raw
    manifest = snapshot.read_manifest(path)
    frame = next(f for f in manifest["frames"] if f["function"] == "recip_with_secrets")
    status = {name: manifest["pieces"][pid]["status"] for name, pid in frame["locals"].items()}
    assert status == {
        "x": "stored",
        "api_token": "redacted",
        "password": "redacted",
        "settings": "stored",
    }
    assert manifest["environment"]["variables"]["DASK_REPLAY_TEST_TOKEN"] == snapshot.REDACTED


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_input_and_locals_capture_off_withholds_the_data(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(
        SnapshotPlugin(directory=str(snapshot_dir), capture_inputs=False, capture_locals=False)
    )
    data = c.submit(str, "CANARY-input-data-e41d", key="the-data")
    path = await _snapshot_of(c, c.submit(recip_of_text, data, key="uses-the-data"))

    assert b"CANARY-input-data-e41d" not in _plain_bytes(path)
    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    (entry,) = manifest["inputs"]
    assert entry["key"] == "the-data"
    withheld = manifest["pieces"][entry["piece"]]
    assert withheld["status"] == "omitted" and "capture-inputs" in withheld["reason"]
    assert all(not f["locals"] for f in manifest["frames"])


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_snapshots_are_signed_with_the_configured_key(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text("a long random secret\n")
    await c.register_plugin(
        SnapshotPlugin(directory=str(snapshot_dir), key_file=str(tmp_path / "key"))
    )
    path = await _snapshot_of(c, c.submit(recip_of_text, "abc"))
    assert snapshot.read_manifest(path)["signed"] is True
    opened = snapshot.open_snapshot(path, key=b"a long random secret")
    assert opened.manifest["error"]["type"] == "ZeroDivisionError"
    with pytest.raises(snapshot.SnapshotSignatureError):
        snapshot.open_snapshot(path, key=b"another key")
