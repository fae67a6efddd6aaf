"""A snapshot's page and download through the dashboard; names validated; workers gone.

Real scheduler and workers (``gen_cluster``), both workers writing to one
directory as workers of one host do.  The page is rendered on the worker by
``snapshot.render_html``; the download streams the file in chunks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import body, get, hooked, names
from dashboard_userfuncs import fail_holding_a_tripwire, recip, recip_with_blob
from distributed import Client, wait
from distributed.utils_test import gen_cluster

import snapshot
from cluster_hook._dashboard.files import NotHere, open_in, valid_name
from cluster_hook._dashboard.serve import CHUNK


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_the_page_is_the_renderers_page_of_the_file_and_the_download_its_bytes(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir))
    await wait(c.submit(recip_with_blob, 0, 3 * CHUNK + 123))
    (name,) = names(snapshot_dir)
    on_disk = (snapshot_dir / name).read_bytes()
    assert len(on_disk) > 3 * CHUNK  # several chunks

    page = await get(s, f"/snapshots/{name}")
    assert page.code == 200, body(page)
    html = body(page)
    assert "return len(blob) / x" in html and "ZeroDivisionError" in html
    assert f'href="download/{name}"' in html
    assert "script-src 'none'" in html  # the renderer's own policy
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")

    download = await get(s, f"/snapshots/download/{name}")
    assert download.code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert download.body == on_disk


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_names_outside_the_index_or_the_directory_are_refused(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir))
    await wait(c.submit(recip, 0))
    (name,) = names(snapshot_dir)
    secret = tmp_path / "secret.tar.zst"
    secret.write_bytes(b"not for the dashboard")
    for path in (
        "/snapshots/..%2F..%2F..%2Fetc%2Fpasswd",
        "/snapshots/download/..%2Fsecret.tar.zst",
        "/snapshots/download/%2Fetc%2Fpasswd",
        f"/snapshots/download/{name}%00.tar.zst",
        "/snapshots/download/.hidden.tar.zst",
        "/snapshots/../../etc/passwd",
    ):
        answer = await get(s, path)
        assert answer.code == 404, (path, answer.code)
        assert b"not for the dashboard" not in (answer.body or b"")
    # A file in the directory that no event announced is not served either.
    shutil.copy(snapshot_dir / name, snapshot_dir / "20261207T000000-x-h-1-00000000.tar.zst")
    assert (await get(s, "/snapshots/download/20261207T000000-x-h-1-00000000.tar.zst")).code == 404

    # An announced name that is a symbolic link out of the directory is never followed.
    link = "20261207T000000-link-h-1-11111111.tar.zst"
    os.symlink(secret, snapshot_dir / link)
    # (as the worker's event would announce it: the scheduler adds the worker's address)
    a.log_event("snapshot", {"path": str(snapshot_dir / link), "exception": "builtins.X"})
    while s.plugins["dask-replay-pages"].index.get(link) is None:
        await asyncio.sleep(0.01)
    for path in (f"/snapshots/download/{link}", f"/snapshots/{link}"):
        answer = await get(s, path)
        assert answer.code == 404, (path, answer.code)
        assert b"not for the dashboard" not in (answer.body or b"")


def test_names_and_files_are_checked_on_the_worker_too(tmp_path: Path) -> None:
    good = "20261207T101010-recip-0-host-123-0a1b2c3d.tar.zst"
    assert valid_name(good)
    for bad in ("../x.tar.zst", "a/b.tar.zst", ".x.tar.zst", "x..tar.zst", "x.tar", "", None, 3):
        assert not valid_name(bad), bad
    outside = tmp_path / "outside.tar.zst"
    outside.write_bytes(b"x")
    inside = tmp_path / "snapshots"
    inside.mkdir()
    os.symlink(outside, inside / good)
    with pytest.raises(NotHere, match="cannot be opened safely"):
        open_in([inside], good)
    os.unlink(inside / good)
    os.link(outside, inside / good)  # a second name of a file elsewhere
    with pytest.raises(NotHere, match="not a plain file"):
        open_in([inside], good)
    os.unlink(inside / good)
    os.mkdir(inside / good)
    with pytest.raises(NotHere, match="not a plain file"):
        open_in([inside], good)


@gen_cluster(client=True, nthreads=[("", 1), ("", 1)])
async def test_a_gone_worker_makes_its_rows_and_its_page_say_so(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a, b], directory=str(snapshot_dir))
    await wait(c.submit(recip, 0, workers=[b.address]))
    (name,) = names(snapshot_dir)
    on_disk = (snapshot_dir / name).read_bytes()
    address = b.address
    await b.close()

    # Another worker of its host holds the same directory: it serves the file.
    html = body(await get(s, "/snapshots/"))
    assert f"worker {address} has left the cluster" in html
    assert "another worker on its host may serve it" in html
    assert (await get(s, f"/snapshots/download/{name}")).body == on_disk
    assert (await get(s, f"/snapshots/{name}")).code == 200

    await a.close()
    listed = await get(s, "/snapshots/")
    assert listed.code == 200
    html = body(listed)
    assert f"worker {address} has left the cluster; the file stays on" in html
    assert f'href="{name}"' not in html
    for path in (f"/snapshots/{name}", f"/snapshots/download/{name}"):
        gone = await get(s, path)
        assert gone.code == 410, path
        assert f"The worker {address} that holds {name} has left the cluster" in body(gone)
        assert str(snapshot_dir / name) in body(gone)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_nothing_is_unpickled_for_the_pages_or_the_download(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir))
    tripped = tmp_path / "tripped"
    await wait(c.submit(fail_holding_a_tripwire, str(tripped)))
    (name,) = names(snapshot_dir)
    assert not tripped.exists()
    page = await get(s, f"/snapshots/{name}")
    assert page.code == 200 and "Tripwire" in body(page)
    assert (await get(s, f"/snapshots/download/{name}")).code == 200
    assert (await get(s, "/snapshots/")).code == 200
    assert not tripped.exists()  # the pickle that would write it was never loaded
    # ... and it is there: loading the frame's locals (what replay does) trips it.
    opened = snapshot.open_snapshot(snapshot_dir / name)
    for index in range(len(opened.manifest["frames"])):
        opened.frame_locals(index)
    assert tripped.read_text() == "unpickled"


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_the_workers_handlers_check_names_themselves(
    c: Client, s: Any, a: Any, snapshot_dir: Path, tmp_path: Path
) -> None:
    """Asked directly (not through the scheduler's index), a worker still reads only its
    directory's snapshot files."""
    await hooked(c, s, [a], directory=str(snapshot_dir))
    (tmp_path / "x.tar.zst").write_bytes(b"not for the dashboard")
    worker = s.rpc(a.address)
    for name in ("../x.tar.zst", str(tmp_path / "x.tar.zst"), "x.tar.zst", "..", ""):
        read = await worker.dask_replay_snapshot_read(name=name, offset=0, length=100)
        assert read["status"] == "missing" and "data" not in read, (name, read)
        page = await worker.dask_replay_snapshot_page(name=name, download_href=None)
        assert page["status"] == "missing" and "html" not in page, (name, page)
    await wait(c.submit(recip, 0))
    (name,) = names(snapshot_dir)
    read = await worker.dask_replay_snapshot_read(name=name, offset=0, length=10**9)
    assert read["status"] == "ok"
    assert read["data"] == (snapshot_dir / name).read_bytes()[: 4 * 2**20]
    bad = await worker.dask_replay_snapshot_read(name=name, offset=-1, length=10)
    assert bad["status"] == "missing"
