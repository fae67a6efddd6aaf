"""What a page view reads on the worker: the file it checked, once; the manifest and
the sources, not the pickles.

Real scheduler and worker (``gen_cluster``); the page is asked through the
dashboard's HTTP server or the worker's own handler.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import body, get, hooked, names
from dashboard_userfuncs import fail_with, recip, recip_holding_many_words
from distributed import Client, wait
from distributed.utils_test import gen_cluster

import snapshot
from cluster_hook._dashboard import serve
from cluster_hook._dashboard.files import open_in
from cluster_hook._dashboard.worker import render_page

#: Paths opened while ``_WATCHED`` is set, anonymous mappings made while ``_MAPPING``
#: is (an audit hook cannot be removed: it is installed once and does nothing otherwise).
_OPENED: list[str] = []
_WATCHED: set[str] = set()
_MAPPED: list[int] = []
_MAPPING: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "mmap.__new__" and _MAPPING and args[0] == -1:
        _MAPPED.append(int(args[1]))  # the reader's large members live in such mappings
    if event == "open" and _WATCHED and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(args[0]))
        if os.path.basename(path) in _WATCHED:
            _OPENED.append(path)


sys.addaudithook(_audit)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_page_view_opens_the_file_once_and_renders_what_it_checked(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    """Checked by descriptor, then rendered by path again, the file could be swapped
    in between (a link to a file elsewhere, say): the page renders the one file it
    opened and checked."""
    await hooked(c, s, [a], directory=str(snapshot_dir))
    await wait(c.submit(recip, 0))
    (name,) = names(snapshot_dir)
    _WATCHED.add(name)
    try:
        page = await get(s, f"/snapshots/{name}")
    finally:
        _WATCHED.discard(name)
    assert page.code == 200, body(page)
    assert "ZeroDivisionError" in body(page)
    assert _OPENED == [str(snapshot_dir / name)]


def test_the_page_is_rendered_from_the_descriptor_even_when_the_path_changes(
    tmp_path: Path,
) -> None:
    directory, elsewhere = tmp_path / "snapshots", tmp_path / "elsewhere"
    with pytest.raises(ZeroDivisionError):
        snapshot.capture(recip, directory=str(directory))(0)
    with pytest.raises(ValueError):
        snapshot.capture(fail_with, directory=str(elsewhere))("ValueError", "the swapped-in file")
    (name,), (other,) = names(directory), names(elsewhere)
    fd = open_in([directory], name)
    os.replace(elsewhere / other, directory / name)  # swapped after the checks
    html = render_page(fd, name, None)
    assert "ZeroDivisionError" in html and "the swapped-in file" not in html


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_page_view_holds_no_pickles_in_memory(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    """The page shows the manifest and the sources: the worker reads past the pickles
    (they are checked as they stream) without holding them."""
    await hooked(c, s, [a], directory=str(snapshot_dir))
    await wait(c.submit(recip_holding_many_words, 0, 600_000))
    (name,) = names(snapshot_dir)
    opened = snapshot.open_snapshot(snapshot_dir / name)
    pickles = sum(len(opened.piece_bytes(pid)) for pid in opened.manifest["pieces"])
    assert pickles > 8 * 2**20  # a large pickle, no buffer
    worker = s.rpc(a.address)
    tracemalloc.start()
    _MAPPING.append(True)
    try:
        reply = await worker.dask_replay_snapshot_page(name=name, download_href=None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        _MAPPING.clear()
        tracemalloc.stop()
    assert reply["status"] == "ok" and "recip_holding_many_words" in reply["html"]
    held = peak + sum(_MAPPED)  # Python's heap at its peak, and every mapping made
    assert held < pickles / 2, (peak, _MAPPED, pickles)


@gen_cluster(client=True, nthreads=[("", 1), ("", 1)])
async def test_a_page_request_has_one_deadline_and_says_when_it_is_over(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers of the file's host, neither answering: the request ends at its one
    deadline (not one per worker), with a page saying what happened and what to do."""
    await hooked(c, s, [a, b], directory=str(snapshot_dir))
    await wait(c.submit(recip, 0, workers=[a.address]))
    (name,) = names(snapshot_dir)
    never = asyncio.Event()

    async def busy(**kwargs: Any) -> None:  # a worker too busy to render
        await never.wait()

    for worker in (a, b):
        worker.handlers["dask_replay_snapshot_page"] = busy
    monkeypatch.setattr(serve, "PAGE_DEADLINE", 0.5)
    try:
        page = await get(s, f"/snapshots/{name}")
    finally:
        never.set()
    assert page.code == 504
    html = body(page)
    assert "Page timed out" in html
    assert f"No page of {name} within 0.5 s ({a.address} did not answer in time)" in html
    assert "download the file" in html
