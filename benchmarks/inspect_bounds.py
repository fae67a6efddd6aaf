"""Inspection bounded in time and memory: ``replay info`` on big and hostile files, ``list``.

The targets: ``python -m replay info`` stays under 1 s and 100 MiB of peak
RSS on a genuine snapshot of a task holding 2 million small dicts and on a
crafted file of a few hundred KiB that expands to 4 GiB within the default
read limits; ``python -m replay list`` costs at most 0.2 ms per file over
10,000 small snapshots.  Every command is the real CLI in a fresh process,
its peak RSS read by ``os.wait4`` (``ru_maxrss`` of that process alone).
"""

from __future__ import annotations

import shutil
import sys
from functools import partial
from pathlib import Path

from . import _crafted
from ._harness import Outcome, Series, alternate, mib, ratio, wall, wall_rss
from ._report import Row, Section, bounded_rows
from ._workspace import Workspace

INFO_SECONDS = 1.0
INFO_RSS = 100 * 2**20
LIST_PER_FILE = 0.2e-3
#: A command still running after this is killed and counted at this time (a lower bound).
TIMEOUT = 30.0
#: No new round once a pair of contenders has taken this long.
BUDGET = 20.0
BASELINE = "import zstandard, json"
READ_HEADS = (
    "import os, sys\n"
    "d = sys.argv[1]\n"
    "for name in sorted(os.listdir(d)):\n"
    "    with open(os.path.join(d, name), 'rb') as f:\n"
    "        f.read(4096)\n"
)


def run(ws: Workspace) -> Section:
    import snapshot

    section = Section("inspect_bounds", "Inspection bounds")
    py = [sys.executable]
    env, root = ws.env, ws.root

    def cli(*args: str | Path, ok: tuple[int, ...] = (0,)) -> Outcome:
        return wall_rss([*py, *args], ok=ok, cwd=root, env=env, timeout=TIMEOUT)

    # pyc files and the page cache, not counted
    wall(
        [*py, "-m", "replay", "info", ws.snapshot("arange", ws.scale.small_bytes)],
        cwd=root,
        env=env,
    )

    from .capture_inband import dicts_snapshot

    genuine = dicts_snapshot(ws)
    n_dicts = "2 million" if not ws.scale.smoke else "2,000"
    limits = snapshot.ReadLimits()
    member = _crafted.member_size(ws)
    crafted = _crafted.crafted_snapshot(ws)

    cases = [
        (f"genuine snapshot of a task holding {n_dicts} small dicts", genuine, (0,)),
        (f"crafted file that expands to {mib(member)}", crafted, (0, 3)),
    ]
    for what, path, ok in cases:
        label = f"`replay info`, {what}, {mib(path.stat().st_size)} file"
        ws.log(f"inspect bounds: {label}")
        s = alternate(
            {
                "info": partial(cli, "-m", "replay", "info", path, ok=ok),
                BASELINE: partial(cli, "-c", BASELINE),
            },
            ws.scale.rounds,
            progress=partial(_log, ws, f"inspect bounds: {label}"),
            budget=BUDGET,
        )
        bounded_rows(
            section,
            label,
            s["info"],
            s[BASELINE],
            seconds=INFO_SECONDS,
            rss=INFO_RSS,
            timeout=TIMEOUT,
        )

    ws.log(f"inspect bounds: `replay list` over {ws.scale.list_files:,} snapshots")
    listed = _list_dir(ws, ws.snapshot("arange", 4096), ws.scale.list_files)
    s = alternate(
        {
            "list": partial(cli, "-m", "replay", "list", listed),
            "read heads": partial(cli, "-c", READ_HEADS, listed),
        },
        ws.scale.rounds,
        warmup=ws.scale.warmup,
        progress=lambda m: ws.log(f"inspect bounds: list: {m}"),
    )
    _list_rows(section, s["list"], s["read heads"], ws.scale.list_files)
    shutil.rmtree(listed, ignore_errors=True)

    section.notes += [
        "Each command runs as a new process from the checkout, start to exit; peak RSS is "
        "that process's `ru_maxrss`, the interpreter included, read by `os.wait4` in a small "
        "launcher that forks it (Linux carries a process's pre-`exec` high-water mark into "
        "`ru_maxrss`: spawned straight from the benchmark's 80 MiB process, every command "
        "would read at least 80 MiB). The "
        f'baseline `python -c "{BASELINE}"` runs in the same rounds, alternating. A run '
        f"still going after {TIMEOUT:.0f} s is killed and counted as {TIMEOUT:.0f} s (the row "
        f"says so); no new round starts once a pair has taken {BUDGET:.0f} s (n says how "
        "many ran).",
        "The genuine snapshot is the one the hook wrote in 'Capture of in-band data, on a "
        "worker' (a task holding the bag partition of small dicts).",
        "The crafted file is built like the hostile inputs of tests/snapshot/crafting.py "
        "(`tarfile` headers, `zstandard` frames with checksums, never our writer): a valid "
        "manifest in a first frame of its own, then one stored piece whose in-band pickle is "
        f"{mib(member)} (the default `ReadLimits().max_member_bytes` is "
        f"{mib(limits.max_member_bytes)}, the total {mib(limits.max_total_bytes)}) of "
        "`SHORT_BINUNICODE 'os'`, `SHORT_BINUNICODE 'system'`, `STACK_GLOBAL`, `POP` over "
        "and over: every byte a valid opcode, a module named every 14 bytes, while the "
        "manifest claims the piece imports `math`. `info` may describe it (status 0) or "
        "refuse it (status 3); the row gives the status.",
        f"`list`: {ws.scale.list_files:,} copies of one small genuine snapshot (written by "
        "the hook's wrapper), in one directory; the baseline is a Python loop that reads the "
        "first 4 KiB of each file (`open`, `read(4096)`), in a fresh process too. Per file: "
        "the command's wall time over the number of files, the interpreter's start included.",
    ]
    return section


def _log(ws: Workspace, prefix: str, message: str) -> None:
    ws.log(f"{prefix}: {message}")


def _list_rows(section: Section, ours: Series, base: Series, n: int) -> None:
    per, base_per = ours.median / n, base.median / n
    r = ratio(ours, base)
    section.rows.append(
        Row(
            f"`replay list` over {n:,} small snapshots, per file",
            f"{per * 1e3:.3f} ms ({ours.describe()} in all)",
            f"{base_per * 1e3:.3f} ms ({base.describe()} in all)",
            r.describe(),
            f"<= {LIST_PER_FILE * 1e3:.1f} ms",
            per <= LIST_PER_FILE,
        )
    )
    section.rows.append(
        Row(
            f"`replay list` over {n:,} small snapshots, RSS",
            f"{mib(max(ours.fact('rss')))} (worst of {len(ours.seconds)})",
            f"{mib(max(base.fact('rss')))}",
            "-",
        )
    )


def _list_dir(ws: Workspace, source: Path, n: int) -> Path:
    directory = ws.fresh_dir("list-snapshots")
    data = source.read_bytes()
    for i in range(n):
        (directory / f"{i:05d}-{source.name}").write_bytes(data)
    return directory
