"""Matching by code: what makes two code objects the same, and a kernel's cells as candidates."""

from __future__ import annotations

import linecache
import types

import cloudpickle

from replay._sources.report import locate_sources
from snapshot._codehash import code_sha256

CELL = "def recip(x):\n    scale = [v for v in (1,)]\n    return scale[0] / x\n"


def function(text: str, filename: str = "cell.py", name: str = "recip") -> types.FunctionType:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(text, filename, "exec"), namespace)
    found = namespace[name]
    assert isinstance(found, types.FunctionType)
    return found


def test_the_hash_survives_pickling_and_another_offset_but_not_another_body() -> None:
    here = function(CELL).__code__
    assert code_sha256(here) == code_sha256(cloudpickle.loads(cloudpickle.dumps(here)))
    # The same cell further down a file (an export): nested code moves with it.
    assert code_sha256(function("\n\n\n" + CELL).__code__) == code_sha256(here)
    changed = [
        CELL.replace("(1,)", "(2,)"),  # a constant
        CELL.replace("scale[0] / x", "scale[0] // x"),  # the bytecode
        CELL.replace("    return", "\n    return"),  # a line moved inside the body
        CELL.replace("v for v", "w for w"),  # a nested code object's names
    ]
    for text in changed:
        assert code_sha256(function(text).__code__) != code_sha256(here), text


def test_a_kernel_cell_in_linecache_is_the_source_of_its_function() -> None:
    # ipykernel compiles each cell under /tmp/ipykernel_<pid>/<hash>.py and keeps
    # its text in linecache; the worker's copy of the function has lost both.
    name = "/tmp/ipykernel_4242/5f3a9c.py"
    linecache.cache[name] = (len(CELL), None, CELL.splitlines(True), name)
    try:
        worker_copy = cloudpickle.loads(cloudpickle.dumps(function(CELL, name)))
        assert worker_copy.__code__.co_filename == "<dynamic-code>"
        frame = {"filename": "<dynamic-code>", "function": "recip", "lineno": 3, "firstlineno": 1}
        report = locate_sources([frame], {}, [worker_copy], directory=None)
    finally:
        del linecache.cache[name]
    assert report.unknown == []
    assert report.found == [f"recip(): this session's {name}"]
    placed = report.placements[0]
    assert (placed.filename, placed.lineno, placed.firstlineno) == (name, 3, 1)
