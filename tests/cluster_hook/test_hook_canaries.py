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


COLUMN_CANARY = "-".join(("CANARY", "column", "0f3e"))


class _Holder:
    """A class whose instances the redactor's walk does not enter (``__slots__``)."""

    __slots__ = ("table",)

    def __init__(self, table: Any) -> None:
        self.table = table


def _frame(n: int) -> Any:
    import numpy as np
    import pandas as pd

    return pd.DataFrame(
        {"amount": np.arange(n, dtype="float64"), "password": [COLUMN_CANARY] * n, "user": "ann"}
    )


def _fails_on_frame(frame: Any, table: Any) -> None:
    holder = _Holder(table.slice(0))  # noqa: F841 - a new table, met inside a local
    series = frame["password"]  # noqa: F841 - a Series named like a secret
    raise ValueError("bad frame")


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_secret_named_columns_are_not_stored(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    import pyarrow as pa

    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    frame = c.submit(_frame, 1000)
    table = pa.table({"id": [1, 2], "api_key": [COLUMN_CANARY, COLUMN_CANARY]})
    with pytest.raises(ValueError) as info:
        await c.submit(_fails_on_frame, frame, table)
    (path,) = snapshot_paths_in_notes(info.value)

    raw = plain_bytes(path)
    assert COLUMN_CANARY.encode() not in raw
    assert snapshot.REDACTED.encode() in raw and b"amount" in raw and b"ann" in raw  # controls
    opened = snapshot.open_snapshot(path)
    stored = opened.load(opened.manifest["call"]["args"][0])
    assert list(stored.columns) == ["amount", "password", "user"] and len(stored) == 1000
    assert set(stored["password"]) == {snapshot.REDACTED}
    assert stored["amount"].sum() == sum(range(1000)) and set(stored["user"]) == {"ann"}
    arrow = opened.load(opened.manifest["call"]["args"][1])
    assert arrow.column("api_key").to_pylist() == [snapshot.REDACTED] * 2
    # The user's objects, on the worker and here, are untouched.
    assert table.column("api_key").to_pylist() == [COLUMN_CANARY] * 2
    original = await frame
    assert set(original["password"]) == {COLUMN_CANARY}
    index = [f["function"] for f in opened.manifest["frames"]].index("_fails_on_frame")
    local = opened.frame_locals(index)
    assert local["holder"].table.column("api_key").to_pylist() == [snapshot.REDACTED] * 2
    assert set(local["series"]) == {snapshot.REDACTED}
    reprs = [p.get("repr", "") for p in opened.manifest["pieces"].values()]
    assert any(snapshot.REDACTED in r for r in reprs)
