"""No secret written by default: canaries grepped in the decompressed snapshot bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zstandard
from distributed import Client
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import VALUE_CANARIES, recip_with_credentials

import snapshot
from cluster_hook import SnapshotPlugin


def plain_bytes(path: str | Path) -> bytes:
    """The whole snapshot decompressed: every manifest, pickle and source byte."""
    with open(path, "rb") as f:
        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_no_canary_in_a_signed_snapshot(
    c: Client, s: Any, a: Any, snapshot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = VALUE_CANARIES["sigkey"]
    monkeypatch.setenv("DASK_SNAPSHOT__KEY", key)  # allow-listed as DASK_*: must not show
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), key=key))
    dsn = f"postgresql://analyst:{VALUE_CANARIES['urlpw']}@db.example/sales"
    # ``extra`` holds the signing key under an innocent name.
    future = c.submit(recip_with_credentials, 0, dsn, extra=key)
    with pytest.raises(ZeroDivisionError) as info:
        await future
    (path,) = snapshot_paths_in_notes(info.value)

    raw = plain_bytes(path)
    for name, canary in VALUE_CANARIES.items():
        assert canary.encode() not in raw, name
    assert key.encode().hex().encode() not in raw
    # Controls: what is not secret is there, so the test can see a leak.
    for visible in (b"db.example", b"service-visible-2b7a", b"application/json", b"analyst"):
        assert visible in raw, visible
    opened = snapshot.open_snapshot(path, key=key.encode())
    assert opened.manifest["environment"]["variables"]["DASK_SNAPSHOT__KEY"] == snapshot.REDACTED
    frame = next(
        i
        for i, f in enumerate(opened.manifest["frames"])
        if f["function"] == "recip_with_credentials"
    )
    local = opened.frame_locals(frame)
    assert local["client"].secret_key == snapshot.REDACTED
    assert local["client"].name == "service-visible-2b7a"
    assert local["headers"]["Authorization"] == snapshot.REDACTED
    assert local["dsn"] == f"postgresql://analyst:{snapshot.REDACTED}@db.example/sales"
