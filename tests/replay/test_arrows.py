"""Never a wrong line: every line shown as the one that ran is the one that ran.

Issue 11's principle, checked over every display of a frame's current line
(pdb's ``where`` and ``ll`` after a re-run and over the captured frames, from
the command line and the API, ``replay.debug(x)`` / ``replay.post_mortem(x)``,
IPython's ``%debug``, the tracebacks printed, ``info``'s traceback) and a
matrix of cases: a module unchanged, edited after the capture (lines
shifted), deleted, edited on the worker before the failure; functions of
``__main__`` with their script found, given, or nowhere; a decoy file; a
notebook and its nbconvert export.  Each case's failing chain has a loop, a
closure, a lambda, a generator, an expression over several lines and a library
frame (``arrow_cases.py``).  For every arrow the test parses, its text must
be the line Python reported for that frame when it raised; frames whose
source cannot be verified must show no line at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from arrow_cases import (
    DECOY,
    FUNCTIONS,
    JOB,
    SHIFTED,
    Display,
    export_of,
    make,
    notebook_cells,
    parse_debugger,
    parse_traceback,
    write_notebook,
)

ALL = frozenset(FUNCTIONS)
BY_VALUE = ALL - {"__new__"}  # every frame but the library's

# Each pdb session: the stack, the current function, then every caller's.
COMMANDS = "where\nll\n" + "up\nll\n" * (len(FUNCTIONS) - 1) + "q\n"

PDB = ("where", "ll")  # pdb shows a frame's line in both

API = """\
import sys, traceback, replay
path, *paths = sys.argv[1:]
def step(title, action):
    print(f"=== {title}", flush=True)
    try:
        action()
    except Exception as exc:
        print(f"=== failed: {type(exc).__name__}: {exc}", flush=True)
def frames():
    r = replay.load(path)
    r.locate_sources(paths, rerun=False)
    r.post_mortem()
def rerun():
    r = replay.load(path)
    r.locate_sources(paths)
    r.debug()
def text():
    r = replay.load(path)
    r.locate_sources(paths, rerun=False)
    r.install_sources(rerun=False)
    print("".join(traceback.format_tb(r.traceback())), flush=True)
step("post_mortem", frames)
step("debug", rerun)
step("replay.post_mortem", lambda: replay.post_mortem(path))
step("replay.debug", lambda: replay.debug(path))
step("traceback", text)
"""

IPYTHON = """\
import sys, socket
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance(colors="nocolor")
shell.extension_manager.load_extension("replay")
error = ZeroDivisionError("Fraction(1, 0)")
error.add_note(f"dask-replay: snapshot written to {socket.gethostname()}:{sys.argv[1]}")
shell.user_ns["error"] = error
shell.run_cell("raise error")
shell.run_line_magic("debug", "")
"""


@dataclass
class Case:
    name: str
    snapshot: Path
    cwd: Path
    truth: dict[str, str]
    frames: frozenset[str]  # the functions whose captured frame shows source
    rerun: frozenset[str] | None  # the same for a re-run; None: it cannot re-run here
    site: Path | None = None
    sources: list[str] = field(default_factory=list)
    worker_traceback_right: bool = True


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    root = tmp_path_factory.mktemp("arrows")
    cluster = root / "cluster"
    elsewhere = root / "elsewhere"
    for d in (cluster, elsewhere):
        d.mkdir()
    out: dict[str, Case] = {}

    def module(
        name: str, mode: str = "module", extra: str = ""
    ) -> tuple[Path, Path, dict[str, str]]:
        site = root / f"site-{name}"
        site.mkdir()
        (site / "arrowjob.py").write_text(JOB)
        path = cluster / f"{name}.zst"
        truth = dict(map(tuple, make(path, mode, site=site, extra=extra)))  # type: ignore[arg-type]
        return path, site, truth

    path, site, truth = module("module")
    out["module unchanged"] = Case("module unchanged", path, elsewhere, truth, ALL, ALL, site)
    path, site, truth = module("changed")
    (site / "arrowjob.py").write_text(SHIFTED)
    out["module changed after capture (lines shifted)"] = Case(
        "changed", path, elsewhere, truth, ALL, ALL, site
    )
    path, site, truth = module("deleted")
    shutil.rmtree(site)
    out["module deleted"] = Case("deleted", path, elsewhere, truth, ALL, None, site)
    path, site, truth = module("stale", "stale", SHIFTED)
    out["module edited on the worker before the failure"] = Case(
        "stale", path, elsewhere, truth, ALL - BY_VALUE, ALL, site, worker_traceback_right=False
    )

    script_dir = root / "script"
    script_dir.mkdir()
    script = script_dir / "arrowjob_main.py"
    script.write_text(JOB)
    main = cluster / "main.zst"
    truth = dict(map(tuple, make(main, "main", extra=str(script))))  # type: ignore[arg-type]
    out["__main__, script in the current directory"] = Case(
        "cwd", main, script_dir, truth, ALL, ALL
    )
    out["__main__, script given with --source"] = Case(
        "source", main, elsewhere, truth, ALL, ALL, sources=[str(script)]
    )
    unknown = ALL - BY_VALUE
    out["__main__, source unknown"] = Case("unknown", main, elsewhere, truth, unknown, unknown)
    decoy_dir = root / "decoy"
    decoy_dir.mkdir()
    (decoy_dir / "decoy.py").write_text(DECOY)
    known = ALL - {"ratio"}
    out["__main__, a decoy file in the directory"] = Case(
        "decoy", main, decoy_dir, truth, known, known
    )

    notebook_dir = root / "notebook"
    notebook_dir.mkdir()
    notebook = write_notebook(notebook_dir / "job.ipynb")
    export = notebook_dir / "job_export.py"
    export.write_text(export_of(notebook_cells()))
    cell = cluster / "notebook.zst"
    truth = dict(map(tuple, make(cell, "notebook", extra=str(notebook))))  # type: ignore[arg-type]
    out["notebook cell, --source job.ipynb"] = Case(
        "ipynb", cell, elsewhere, truth, ALL, ALL, sources=[str(notebook)]
    )
    out["notebook cell, --source nbconvert export"] = Case(
        "export", cell, elsewhere, truth, ALL, ALL, sources=[str(export)]
    )
    for case in out.values():
        assert list(case.truth) == FUNCTIONS, case.truth
    return out


CASES = [
    "module unchanged",
    "module changed after capture (lines shifted)",
    "module deleted",
    "module edited on the worker before the failure",
    "__main__, script in the current directory",
    "__main__, script given with --source",
    "__main__, source unknown",
    "__main__, a decoy file in the directory",
    "notebook cell, --source job.ipynb",
    "notebook cell, --source nbconvert export",
]


def run(cli: Callable[..., Any], case: Case, args: list[str], **kwargs: Any) -> Any:
    env = {"PYTHONPATH": str(case.site)} if case.site is not None else {}
    return cli(args, cwd=case.cwd, env=env, **kwargs)


def check(
    display: Display,
    case: Case,
    known: frozenset[str],
    where: str,
    kinds: tuple[str, ...] = (),
) -> None:
    """No line shown that did not run; every ``known`` frame shown (by each of ``kinds``:
    pdb's ``where`` and ``ll``), the others without lines."""
    for shown in display.shown:
        expected = case.truth.get(shown.function)
        assert shown.text == expected, (
            f"{where}: {shown.how} shows {shown.text!r} for {shown.function}(), "
            f"which ran {expected!r}: {shown.context!r}"
        )
    seen = {s.function for s in display.shown}
    assert known <= seen, f"{where}: no line shown for {sorted(known - seen)}"
    assert not (seen - known), f"{where}: a line shown for {sorted(seen - known)}"
    for kind in kinds:
        by = {s.function for s in display.shown if s.how == kind}
        assert known <= by, f"{where}: {kind} shows no line for {sorted(known - by)}"


def sessions(stdout: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    title = ""
    for line in stdout.splitlines(keepends=True):
        if line.startswith("=== ") and not line.startswith("=== failed"):
            title = line[4:].strip()
            parts[title] = ""
        else:
            parts[title] = parts.get(title, "") + line
    return parts


@pytest.mark.parametrize("name", CASES)
def test_the_command_line_shows_only_lines_that_ran(
    cli: Callable[..., Any], cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    sources = [a for s in case.sources for a in ("--source", s)]
    frames = run(cli, case, [str(case.snapshot), "--frames", *sources], stdin=COMMANDS)
    assert frames.returncode == 0, frames.stderr
    check(parse_debugger(frames.stdout), case, case.frames, "--frames", PDB)

    rerun = run(cli, case, [str(case.snapshot), *sources], stdin=COMMANDS)
    if case.rerun is None:
        assert rerun.returncode != 0 and not parse_debugger(rerun.stdout).shown
    else:
        assert rerun.returncode == 1, rerun.stderr
        check(parse_debugger(rerun.stdout), case, case.rerun, "re-run", PDB)
        check(parse_traceback(rerun.stderr), case, case.rerun, "re-run's traceback")

    info = run(cli, case, ["info", str(case.snapshot)])
    assert info.returncode == 0, info.stderr
    worker = info.stdout.split("Traceback on the worker:", 1)[1]
    # The worker's traceback shows its module frames' lines (the by-value ones have none).
    shown = ALL - BY_VALUE if case.snapshot.stem in ("main", "notebook") else ALL
    if not case.worker_traceback_right:
        shown = ALL - BY_VALUE
    check(parse_traceback(worker), case, shown, "info")


@pytest.mark.parametrize("name", CASES)
def test_the_api_shows_only_lines_that_ran(
    cli: Callable[..., Any], cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    result = run(
        cli,
        case,
        [str(case.snapshot), *case.sources],
        python_code=API,
        stdin=COMMANDS * 4,
    )
    parts = sessions(result.stdout)
    assert set(parts) >= {"post_mortem", "debug", "traceback"}, result.stdout + result.stderr
    check(parse_debugger(parts["post_mortem"]), case, case.frames, "Replay.post_mortem()", PDB)
    check(parse_traceback(parts["traceback"]), case, case.frames, "Replay.traceback()")
    if case.rerun is not None:
        check(parse_debugger(parts["debug"]), case, case.rerun, "Replay.debug()", PDB)
    # The shortcuts search the current directory only: no line may be wrong, some may be missing.
    for title in ("replay.post_mortem", "replay.debug"):
        known = case.frames if title.endswith("mortem") else case.rerun or frozenset()
        if case.sources:
            known = known - BY_VALUE
        check(parse_debugger(parts.get(title, "")), case, known, f"{title}(x)")


@pytest.mark.parametrize(
    "name",
    [
        "module changed after capture (lines shifted)",
        "module edited on the worker before the failure",
        "__main__, script in the current directory",
        "__main__, a decoy file in the directory",
    ],
)
def test_ipython_debug_shows_only_lines_that_ran(
    cli: Callable[..., Any], cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    result = run(cli, case, [str(case.snapshot)], python_code=IPYTHON, stdin=COMMANDS)
    assert "%debug opens the frames captured on the worker" in result.stderr, result.stderr
    check(parse_debugger(result.stdout), case, case.frames, "%debug", ("context",))
