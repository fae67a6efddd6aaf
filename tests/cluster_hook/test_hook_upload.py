"""snapshot.upload: every snapshot is also copied to an fsspec URL, for workers
whose disks vanish with them.  ``file://`` URLs exercise the same fsspec path
as s3:// or gcs:// would, without a network."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from distributed import Client
from distributed.utils_test import gen_cluster, inc
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import recip

import snapshot
from cluster_hook import SUFFIX, SnapshotPlugin
from cluster_hook._config import ConfigError, Settings


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_snapshot_is_copied_to_the_upload_url(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "bucket" / "snapshots"
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), upload=remote.as_uri()))
    with pytest.raises(ZeroDivisionError) as info:
        await c.submit(recip, 0, key="recip-upload")
    (local,) = snapshot_paths_in_notes(info.value)
    (copy,) = remote.glob(f"*{SUFFIX}")
    assert copy.name == Path(local).name
    assert copy.read_bytes() == Path(local).read_bytes()
    assert info.value.__notes__[0].endswith(
        f"\ndask-replay: copied to {remote.as_uri()}/{copy.name}"
    )
    assert snapshot.read_manifest(copy)["error"]["type"] == "ZeroDivisionError"
    (event,) = [msg for _, msg in await c.get_events("snapshot")]
    assert event["url"] == f"{remote.as_uri()}/{copy.name}"


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_failed_upload_keeps_the_local_file_and_warns_once(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    # /proc refuses new directories, even to root.
    await c.register_plugin(
        SnapshotPlugin(directory=str(snapshot_dir), upload="file:///proc/dask-replay-upload")
    )
    with pytest.raises(ZeroDivisionError) as info:
        await c.submit(recip, 0, key="recip-upload-fails")
    assert info.value.args == (0,) or str(info.value) == "division by zero"
    (local,) = snapshot_paths_in_notes(info.value)
    assert Path(local).exists()
    assert "copied to" not in info.value.__notes__[0]
    warnings = [
        r.getMessage()
        for r in a.logs
        if r.levelno >= logging.WARNING and r.name.endswith("cluster_hook")
    ]
    assert len(warnings) == 1 and "could not copy the snapshot" in warnings[0]
    assert await c.submit(inc, 1, key="inc-after-upload-failure") == 2


def test_an_unknown_upload_protocol_is_a_setup_error() -> None:
    with pytest.raises(ConfigError, match=r"snapshot.upload 'nosuchfs://bucket'"):
        Settings.from_config({"upload": "nosuchfs://bucket"})
    assert Settings.from_config({"upload": "file:///tmp/x/"}).upload == "file:///tmp/x"
