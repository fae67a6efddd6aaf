"""A capture 900 frames deep keeps every frame: its line, its source and each of its locals.

Ints past the interpreter's small-int cache are a new object in every frame;
equal plain scalars are stored once (one piece), which must not merge values
that are equal but not the same (``0.0`` and ``-0.0``, ``1`` and ``True``),
nor let a redacted name through.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import snapshot

DEPTH = 900


def _descend(n: int, i: int, s: str, f: float, t: tuple[int, int], token: str) -> None:
    flag = i % 2 == 0  # noqa: F841  (a local: True and False, equal to 1 and 0)
    if n <= 1:
        raise ValueError(f"bad record at depth {i + 1}")
    _descend(n - 1, i + 1, s, -f, (t[0] + 1, i), token)  # the call line of every frame but one


@snapshot.capture(max_per_fingerprint=1_000_000)
def _fail_deep(depth: int) -> None:
    _descend(depth, 0, "frame", 0.0, (1, 2), "hunter2-not-stored")


def _written(exc: BaseException) -> Path:
    notes = [n for n in getattr(exc, "__notes__", []) if "snapshot written to " in n]
    assert len(notes) == 1, getattr(exc, "__notes__", None)
    return Path(notes[0].split("snapshot written to ", 1)[1].split(":", 1)[1])


def test_every_frame_of_a_recursion_900_deep_is_captured(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DASK_SNAPSHOT__DIRECTORY", str(tmp_path))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + DEPTH + 100)
    try:
        _fail_deep(DEPTH)
    except ValueError as err:
        exc: BaseException = err
    finally:
        sys.setrecursionlimit(limit)
    snap = snapshot.open_snapshot(_written(exc))
    frames = snap.model.frames
    deep = [k for k, fr in enumerate(frames) if fr.function == "_descend"]
    assert len(deep) == DEPTH
    call_line = _descend.__code__.co_firstlineno + 4
    source = snap.source(frames[deep[0]].filename)
    assert source is not None
    lines = source.splitlines()
    assert lines[call_line - 1].strip().startswith("_descend(n - 1")
    assert lines[call_line - 2].strip().startswith("raise ValueError")
    for depth, k in enumerate(deep):
        frame = frames[k]
        last = depth == DEPTH - 1
        assert frame.lineno == (call_line - 1 if last else call_line), depth
        assert frame.source == frame.filename
        values = snap.frame_locals(k)
        assert set(values) == {"n", "i", "s", "f", "t", "token", "flag"}, depth
        assert values["n"] == DEPTH - depth and type(values["n"]) is int
        assert values["i"] == depth and type(values["i"]) is int
        assert values["s"] == "frame"
        # 0.0 and -0.0 by turns: equal by ==, each kept with its sign.
        assert values["f"] == 0.0 and math.copysign(1, values["f"]) == (-1 if depth % 2 else 1)
        assert values["t"] == ((1 + depth, depth - 1) if depth else (1, 2))
        assert type(values["flag"]) is bool and values["flag"] is (depth % 2 == 0)
        assert isinstance(values["token"], snapshot.Placeholder), depth
    pieces = snap.manifest["pieces"]
    assert not any("hunter2" in str(record) for record in pieces.values())
    # One piece per distinct value: 900 depths (n and i share them), the tuples, the rest.
    ints = [r for r in pieces.values() if r["type"] == "builtins.int"]
    assert len(ints) == len({r["repr"] for r in ints})
