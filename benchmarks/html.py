"""The HTML page: ``python -m replay html`` bounded in time and memory, as ``info`` is.

The targets (issue 20): under 1 s and 100 MiB of peak RSS for a small
snapshot and for the genuine snapshot of a task holding 2 million small
dicts; the crafted file that expands to 4 GiB within the default read limits
rides along.  Every command is the real CLI in a fresh process writing the
page to a file, its peak RSS read by ``os.wait4``; the baseline is ``info``
on the same file, alternating.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from . import _crafted
from ._harness import Outcome, alternate, mib, wall, wall_rss
from ._report import Section, bounded_rows
from ._workspace import Workspace

HTML_SECONDS = 1.0
HTML_RSS = 100 * 2**20
TIMEOUT = 30.0
BUDGET = 20.0


def run(ws: Workspace) -> Section:

    section = Section("html", "HTML page")
    py = [sys.executable]
    env, root = ws.env, ws.root
    out = ws.fresh_dir("html") / "page.html"

    def cli(*args: str | Path, ok: tuple[int, ...] = (0,)) -> Outcome:
        return wall_rss([*py, *args], ok=ok, cwd=root, env=env, timeout=TIMEOUT)

    small = ws.snapshot("arange", ws.scale.small_bytes)
    # pyc files and the page cache, not counted
    wall([*py, "-m", "replay", "html", small, "-o", out, "--force"], cwd=root, env=env)

    from .capture_inband import dicts_snapshot

    genuine = dicts_snapshot(ws)
    n_dicts = "2 million" if not ws.scale.smoke else "2,000"
    member = _crafted.member_size(ws)
    crafted = _crafted.crafted_snapshot(ws)  # inspect_bounds' file, when it ran first

    cases = [
        ("small snapshot (arange input)", small, (0,)),
        (f"genuine snapshot of a task holding {n_dicts} small dicts", genuine, (0,)),
        (f"crafted file that expands to {mib(member)}", crafted, (0, 3)),
    ]
    for what, path, ok in cases:
        label = f"`replay html`, {what}, {mib(path.stat().st_size)} file"
        ws.log(f"html: {label}")
        s = alternate(
            {
                "html": partial(cli, "-m", "replay", "html", path, "-o", out, "--force", ok=ok),
                "info": partial(cli, "-m", "replay", "info", path, ok=ok),
            },
            ws.scale.rounds,
            progress=partial(_log, ws, f"html: {label}"),
            budget=BUDGET,
        )
        bounded_rows(
            section,
            label,
            s["html"],
            s["info"],
            seconds=HTML_SECONDS,
            rss=HTML_RSS,
            timeout=TIMEOUT,
        )

    section.notes += [
        "Each command runs as a new process from the checkout, start to exit, writing the "
        "page to a file (`-o`); peak RSS is that process's `ru_maxrss`, read by `os.wait4` "
        "(as in 'Inspection bounds'). The baseline is `python -m replay info` on the same "
        "file, in the same rounds, alternating: both read the head of the file only and "
        f"unpickle nothing. A run still going after {TIMEOUT:.0f} s is killed and counted "
        f"as {TIMEOUT:.0f} s.",
        "The small snapshot is the capture section's (a task failing on an arange input); "
        "the genuine and crafted files are those of 'Inspection bounds'.",
    ]
    return section


def _log(ws: Workspace, prefix: str, message: str) -> None:
    ws.log(f"{prefix}: {message}")
