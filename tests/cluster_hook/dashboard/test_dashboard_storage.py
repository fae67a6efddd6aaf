"""A gone worker's snapshot served from its upload copy (``snapshot.upload``), and only from there.

``file://`` URLs take the same fsspec path as ``s3://`` would, without a
network.  The scheduler reads the copy only at ``<its snapshot.upload>/<name>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask
from dashboard_helpers import body, get, hooked, names
from dashboard_userfuncs import recip
from distributed import Client, wait
from distributed.utils_test import gen_cluster


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_the_upload_copy_serves_a_gone_workers_page_and_download(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    await hooked(c, s, [a], directory=str(snapshot_dir), upload=bucket.as_uri())
    await wait(c.submit(recip, 0))
    (name,) = names(snapshot_dir)
    on_disk = (snapshot_dir / name).read_bytes()
    await a.close()
    (snapshot_dir / name).unlink()  # the worker's disk went with it

    with dask.config.set({"snapshot.upload": bucket.as_uri()}):
        html = body(await get(s, "/snapshots/"))
        assert "has left the cluster; served from the upload copy" in html
        page = await get(s, f"/snapshots/{name}")
        assert page.code == 200
        assert "return 1 / x" in body(page)
        download = await get(s, f"/snapshots/download/{name}")
        assert download.code == 200 and download.body == on_disk

    # Without the scheduler's own snapshot.upload, or with another one, storage is never read.
    with dask.config.set({"snapshot.upload": (tmp_path / "elsewhere").as_uri()}):
        assert (await get(s, f"/snapshots/{name}")).code == 410
        assert (await get(s, f"/snapshots/download/{name}")).code == 410


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_an_event_url_outside_the_upload_prefix_is_never_read(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    outside = tmp_path / "outside"
    outside.mkdir()
    name = "20261207T000000-x-h-1-22222222.tar.zst"
    (outside / name).write_bytes(b"not for the dashboard")
    await hooked(c, s, [a], directory=str(snapshot_dir))
    # A worker that is gone announced a file whose "copy" lies outside the prefix.
    s.plugins["dask-replay-pages"].index.add(
        0.0,
        {
            "path": f"/nowhere/{name}",
            "worker": "tcp://10.255.0.1:1",
            "url": (outside / name).as_uri(),
        },
    )
    with dask.config.set({"snapshot.upload": bucket.as_uri()}):
        for path in (f"/snapshots/{name}", f"/snapshots/download/{name}"):
            answer = await get(s, path)
            assert answer.code == 410
            assert b"not for the dashboard" not in (answer.body or b"")
