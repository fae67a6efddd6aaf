"""Live resources are never read or touched: each is a placeholder with its type.

Each kind is captured at the top of a piece and nested in one; a file's
content (a canary) is never in the snapshot, its position is unchanged, and a
file open for writing is not flushed by the capture.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from snapshot import Placeholder, SnapshotBuilder, open_snapshot, read_manifest

CANARY = b"canary-3f9a1c: file content that must never be captured\n"


def _generator() -> Iterator[int]:
    yield 1


async def _coroutine() -> None:
    pass


async def _async_generator() -> Any:
    yield 1


@pytest.fixture
def text_file(tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "data.txt"
    path.write_bytes(CANARY * 1000)
    with path.open() as fh:
        fh.readline()
        yield fh


@pytest.fixture
def binary_file(tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "data.bin"
    path.write_bytes(CANARY * 1000)
    with path.open("rb") as fh:
        fh.read(10)
        yield fh


def _kinds() -> dict[str, Callable[[Path], Any]]:
    return {
        "socket": lambda _: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
        "lock": lambda _: threading.Lock(),
        "rlock": lambda _: threading.RLock(),
        "condition": lambda _: threading.Condition(),
        "event": lambda _: threading.Event(),
        "thread": lambda _: threading.Thread(target=print, name="worker-thread"),
        "generator": lambda _: _generator(),
        "coroutine": lambda _: _coroutine(),
        "async-generator": lambda _: _async_generator(),
        "frame": lambda _: sys._getframe(),
        "sqlite": lambda tmp: sqlite3.connect(tmp / "db.sqlite"),
        "event-loop": lambda _: asyncio.new_event_loop(),
    }


def _close(obj: Any) -> None:
    for name in ("close",):
        method = getattr(obj, name, None)
        if callable(method):
            method()


@pytest.mark.parametrize("kind", sorted(_kinds()))
def test_live_resources_become_placeholders(tmp_path: Path, kind: str) -> None:
    obj = _kinds()[kind](tmp_path)
    try:
        _check_placeholders(tmp_path, obj)
    finally:
        _close(obj)


def _check_placeholders(tmp_path: Path, obj: Any) -> None:
    builder = SnapshotBuilder()
    top = builder.add(obj, label="call.args[0]")
    nested = builder.add({"inside": [obj], "n": 1}, label="nested")
    path = builder.write(tmp_path / "live.tar.zst")
    record = read_manifest(path)["pieces"][top]
    type_name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    assert record["status"] == "placeholder"
    assert record["type"] == type_name
    assert "a live resource" in record["reason"]
    assert type_name in record["repr"]
    assert builder.left_out()[0].startswith("call.args[0] (a live resource")
    snap = open_snapshot(path)
    placeholder = snap.load(top)
    assert isinstance(placeholder, Placeholder) and placeholder.type == type_name
    inner = snap.load(nested)["inside"][0]
    assert isinstance(inner, Placeholder) and inner.type == type_name
    assert inner.status == "placeholder" and "a live resource" in inner.reason
    assert snap.load(nested)["n"] == 1


@pytest.mark.parametrize("name", ["text_file", "binary_file"])
def test_open_files_are_never_read(tmp_path: Path, name: str, request: Any) -> None:
    fh = request.getfixturevalue(name)
    before = fh.tell()
    builder = SnapshotBuilder()
    top = builder.add(fh, label="fh")
    nested = builder.add({"fh": fh}, label="holder")
    path = builder.write(tmp_path / "files.tar.zst")
    assert fh.tell() == before
    with path.open("rb") as raw:
        content = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True).read()
    assert b"canary-3f9a1c" not in content
    record = read_manifest(path)["pieces"][top]
    assert "open file" in record["reason"]
    assert "data." in record["repr"] and "mode=" in record["repr"]
    if name == "binary_file":
        assert f"position={before}" in record["repr"]
    snap = open_snapshot(path)
    assert snap.load(top).type == record["type"]
    assert isinstance(snap.load(nested)["fh"], Placeholder)


def test_a_file_open_for_writing_is_not_flushed(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with target.open("w") as fh:
        fh.write("buffered, not yet written")
        builder = SnapshotBuilder()
        builder.add(fh, label="fh")
        builder.add([fh], label="nested")
        builder.write(tmp_path / "w.tar.zst")
        assert target.read_bytes() == b""
    assert target.read_text() == "buffered, not yet written"


def test_a_live_resource_outside_the_call_loses_nothing(tmp_path: Path) -> None:
    """Withheld by design and not needed by the call: listed, not a loss."""
    builder = SnapshotBuilder()
    builder.set_call(len, ([1, 2],))
    with open(tmp_path / "data.txt", "w") as held:
        local = builder.add(held, label="frames[2].fh")
        path = builder.write(tmp_path / "s.tar.zst")
    manifest = read_manifest(path)
    assert manifest["pieces"][local]["status"] == "placeholder"
    assert manifest["capture"]["complete"] is True
    assert builder.left_out() == []
