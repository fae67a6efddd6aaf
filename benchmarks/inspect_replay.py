"""Inspect and replay: reading a snapshot back, against bare interpreter start and ``zstd -d``.

``python -m replay info`` reads the manifest (the first tar member) and checks
the frame structure; it must cost about as much as starting Python with the
modules it needs, whatever the snapshot's size.  ``python -m replay SNAPSHOT
--no-debug`` loads the call and its inputs and re-raises; it must cost about
as much as decompressing the file.
"""

from __future__ import annotations

import shutil
import sys
from functools import partial
from pathlib import Path

from ._harness import Contender, Series, alternate, mib, ratio, wall
from ._report import Row, Section
from ._userfuncs import KINDS
from ._workspace import Workspace

INFO_RATIO = 1.5
REPLAY_RATIO = 1.3
#: What a replay of a numpy input cannot avoid: the interpreter, numpy, zstandard.
FLOOR = "import numpy, zstandard"


def _info_cases(ws: Workspace) -> list[tuple[str, int]]:
    """The small snapshot, the main ones, and any larger one the capture section kept."""
    scale = ws.scale
    cases = [("arange", scale.small_bytes), *((k, scale.main_bytes) for k in KINDS)]
    larger = sorted(key for key in ws.snapshots if key[1] > scale.main_bytes and key not in cases)
    return cases + larger


def run(ws: Workspace) -> Section:
    section = Section("inspect_replay", "Inspect and replay")
    python = sys.executable
    rounds = ws.scale.rounds

    def py(*args: str | Path, ok: tuple[int, ...] = (0,), expect: str | None = None) -> float:
        return wall([python, *args], ok=ok, cwd=ws.root, env=ws.env, expect=expect)

    for kind, nbytes in _info_cases(ws):
        path = ws.snapshot(kind, nbytes)
        label = f"{kind} {mib(nbytes)} input, {mib(path.stat().st_size)} file"
        ws.log(f"inspect: {label}")
        s = alternate(
            {
                "replay info": partial(py, "-m", "replay", "info", path),
                "import zstandard, json": partial(py, "-c", "import zstandard, json"),
            },
            rounds,
            warmup=ws.scale.warmup,
            progress=partial(_log, ws, f"inspect {label}"),
        )
        _row(
            section,
            f"`replay info`, {label}",
            s["replay info"],
            s["import zstandard, json"],
            INFO_RATIO,
        )

    zstd = shutil.which("zstd")
    for kind in KINDS:
        path = ws.snapshot(kind, ws.scale.main_bytes)
        label = f"{kind} {mib(ws.scale.main_bytes)} input, {mib(path.stat().st_size)} file"
        ws.log(f"replay: {label}")
        contenders: dict[str, Contender] = {
            "replay --no-debug": partial(
                py, "-m", "replay", path, "--no-debug", ok=(1,), expect="ValueError: bad partition"
            ),
        }
        if zstd is not None:
            contenders["zstd -d"] = partial(wall, [zstd, "-d", "-q", "-c", path])
        contenders[FLOOR] = partial(py, "-c", "import numpy, zstandard")
        s = alternate(
            contenders,
            rounds,
            warmup=ws.scale.warmup,
            progress=partial(_log, ws, f"replay {label}"),
        )
        if zstd is None:
            section.rows.append(
                Row(
                    f"`replay --no-debug`, {label}",
                    s["replay --no-debug"].describe(),
                    "zstd not installed",
                    "-",
                )
            )
            continue
        _row(
            section,
            f"`replay --no-debug`, {label}",
            s["replay --no-debug"],
            s["zstd -d"],
            REPLAY_RATIO,
        )
        floor = s[FLOOR]
        section.rows.append(
            Row(
                f'the floor for any Python replay of it: `python -c "{FLOOR}"` + `zstd -d`',
                f"{floor.describe()} + {s['zstd -d'].describe()}",
                s["zstd -d"].describe(),
                f"{(floor.median + s['zstd -d'].median) / s['zstd -d'].median:.2f}",
            )
        )

    section.notes += [
        "Wall time of each command as a new process, start to exit, run from the checkout. "
        f"{ws.scale.warmup} warm-up round(s) per pair not counted (page cache, .pyc files).",
        '`python -m replay info S` against `python -c "import zstandard, json"`: the floor '
        "for any Python tool that reads a zstd-compressed JSON manifest.",
        "`python -m replay S --no-debug` runs up to the re-raise of the task's "
        "`ValueError` (exit status 1, checked, as is the error on stderr): it reads and "
        "verifies the whole file, unpickles the call and its inputs and calls the function. "
        "The baseline `zstd -d -q -c S` decompresses the same file to a pipe read by "
        "nothing (`/dev/null`).",
        "The floor rows add the start of an interpreter that imports numpy and zstandard "
        "(measured in the same rounds) to the time of `zstd -d`: a Python process that "
        "decompresses as fast as the zstd command and rebuilds the array without a copy "
        "could not do better. Where the floor itself exceeds the target, the target is out "
        "of reach for a Python replay, whatever the reader does.",
    ]
    return section


def _log(ws: Workspace, prefix: str, message: str) -> None:
    ws.log(f"{prefix}: {message}")


def _row(section: Section, measurement: str, ours: Series, base: Series, target: float) -> None:
    r = ratio(ours, base)
    section.rows.append(
        Row(
            measurement,
            ours.describe(),
            base.describe(),
            r.describe(),
            f"<= {target}",
            r.median <= target,
        )
    )
