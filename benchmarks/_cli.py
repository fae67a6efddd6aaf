"""``python -m benchmarks``: run the sections, write docs/performance.md.

Exit status: 0 when every section finished (whether or not its targets were
met: the table says that), 1 when a section could not finish, 2 on a usage
error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import _machine
from ._clusters import quiet_logs
from ._merge import MergeError, kept_sections
from ._report import Kept, Section, render
from ._workspace import FULL, SMOKE, Workspace

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "performance.md"

#: Section name -> module; run in this order (inspect and replay reuse the
#: snapshots that capture wrote).
SECTIONS = (
    "success",
    "capture",
    "capture_inband",
    "capture_frames",
    "inspect_replay",
    "inspect_bounds",
    "html",
    "storm",
    "anchor",
    "check_shrink",
    "plain",
    "dashboard",
)


def _runner(name: str) -> Callable[[Workspace], Section]:
    import importlib

    module = importlib.import_module(f"benchmarks.{name}")
    run: Callable[[Workspace], Section] = module.run
    return run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure dask-replay side by side with its baselines; write a markdown table.",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes and one round: checks that every benchmark runs (figures meaningless)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="NAME",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the markdown (default: docs/performance.md; with --only or "
        "--smoke: printed on stdout); with --only, an existing report there keeps the "
        "sections this run does not measure",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="put the scratch directory (inputs, snapshots) under this directory; use a "
        "real disk, not tmpfs (default: the system temp directory)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory (it is printed)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet_logs()
    scale = SMOKE if args.smoke else FULL
    names = [n for n in SECTIONS if not args.only or n in args.only]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="dask-replay-bench-", dir=args.workdir))
    output: Path | None = args.output
    if output is None and not (args.only or args.smoke):
        output = DEFAULT_OUTPUT
    kept: list[Kept] = []
    if output is not None and args.only and output.exists():
        try:
            kept = kept_sections(output, smoke=args.smoke, replaced=set(names))
        except MergeError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            print(f"python -m benchmarks: {exc}", file=sys.stderr)
            return 2
    ws = Workspace(ROOT, scratch, scale)
    ws.compile_bytecode()
    machine = _machine.machine_info(ROOT, scratch)
    facts = dict(machine)
    load_before = _machine.load()
    started = time.perf_counter()
    sections: list[Section] = []
    try:
        for name in names:
            ws.log(f"section {name}")
            t0 = time.perf_counter()
            try:
                section = _runner(name)(ws)
            except Exception:
                section = Section(name, name, error=traceback.format_exc(limit=8))
                ws.log(f"section {name} FAILED:\n{section.error}")
            section.seconds = time.perf_counter() - t0
            sections.append(section)
    finally:
        if args.keep:
            ws.log(f"scratch directory kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    total = time.perf_counter() - started
    load_after = _machine.load()
    run = f"`{_command()}` at {facts.get('dask-replay', '?')}, {facts.get('date', '?')}"
    for section in sections:
        section.provenance = run
    machine = [
        *machine,
        ("load average", f"{load_before} before; {load_after} after"),
        ("run", f"{'smoke, ' if args.smoke else ''}{total / 60:.1f} min"),
        ("bytecode", "compiled ahead (`compileall`); PYTHONDONTWRITEBYTECODE is dropped"),
    ]
    text = render(
        title="Performance"
        + (" (smoke run: tiny sizes, figures meaningless)" if args.smoke else ""),
        preamble=_preamble(run, sections, kept),
        machine=machine,
        sections=sections,
        method=METHOD,
        kept=kept,
        order=SECTIONS,
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        ws.log(f"wrote {output}")
    return 1 if any(s.error for s in sections) else 0


def _command() -> str:
    return "python -m benchmarks" + "".join(f" {a}" for a in sys.argv[1:] if a != "--keep")


def _preamble(run: str, sections: Sequence[Section], kept: Sequence[Kept]) -> list[str]:
    text = [
        f"Generated by `{_command()}` (`make bench` runs `python -m benchmarks`); do not edit "
        "by hand. Every comparison was measured side by side in one run, alternating "
        "the contenders round by round: read the ratios, not the lone seconds.",
    ]
    if kept:
        runs: dict[str, list[str]] = {run: [s.title for s in sections]}
        for k in kept:
            runs.setdefault(k.provenance, []).append(k.title)
        text += [
            "",
            "This run re-measured only some sections and kept the others from the report it "
            "replaced; the Machine table is this run's. Which run measured what (each "
            "section's last line says it too):",
            "",
            *(f"- {', '.join(titles)}: {where}." for where, titles in runs.items()),
        ]
    return text


METHOD = [
    "Contenders of a comparison run one after the other in each round, and who goes first "
    "rotates from round to round, so that a slow spell of this shared machine lands on both. "
    "Medians over the rounds, with the min-max spread and the number of rounds n; the "
    "ratio is the ratio of the medians, with the range of the per-round ratios and the "
    "ratio of the fastest rounds ('bests'), which tells the cost of the work itself where "
    "the machine has two speeds (this disk does: see Capture).",
    "A target is met when the ratio of the medians (or the median, for a target in seconds) "
    "is within it. No test asserts a timing: `tests/test_benchmarks_smoke.py` runs "
    "`python -m benchmarks --smoke` (tiny sizes, one round), section group by section "
    "group, so that the benchmarks keep running.",
    "Regenerate: `make bench` (about 20 minutes; needs the `zstd` command and a few GiB "
    "free in the temp directory, or pass `--workdir DIR` on a real disk). One section: "
    "`python -m benchmarks --only capture` (prints the markdown).",
]
