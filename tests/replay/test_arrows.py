"""Never a wrong line: every line shown as the one that ran is the one that ran.

The principle, checked over every display of a frame's current line
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
import inspect, pdb, sys, traceback, replay
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
def printed():
    r = replay.load(path)
    r.locate_sources(paths, rerun=False)
    r.post_mortem(False)
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
step("printed", printed)
step("bare traceback", lambda: print("".join(traceback.format_tb(replay.load(path).traceback()))))
def ran(debug):
    r = replay.load(path)
    r.locate_sources(paths)
    try:
        r.run()
    except Exception as exc:  # what the tools that are not replay's see: the re-run's own
        if debug:
            pdb.post_mortem(exc.__traceback__)
        else:
            traceback.print_exc(file=sys.stdout)
            for function in (r.func, *r.args):
                if callable(function):
                    print(f"=== getsource {function.__name__}", flush=True)
                    print(inspect.getsource(function), flush=True)
step("run, traceback", lambda: ran(False))
step("run, pdb", lambda: ran(True))
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
    snapshot: Path
    cwd: Path
    truth: dict[str, str]
    frames: frozenset[str]  # the functions whose captured frame shows source
    rerun: frozenset[str] | None  # the same for a re-run; None: it cannot re-run here
    site: Path | None = None
    sources: list[str] = field(default_factory=list)
    # The functions whose line the worker's own traceback (info) shows.
    worker: frozenset[str] = ALL


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    root = tmp_path_factory.mktemp("arrows")
    cluster = root / "cluster"
    elsewhere = root / "elsewhere"
    for d in (cluster, elsewhere):
        d.mkdir()
    out: dict[str, Case] = {}
    library = ALL - BY_VALUE

    def module(name: str, mode: str = "module", **options: Any) -> tuple[Path, Path, dict]:
        site = root / f"site-{name}"
        site.mkdir()
        (site / "arrowjob.py").write_text(JOB)
        path = cluster / f"{name}.zst"
        return path, site, make(path, mode, site=site, **options)

    path, site, truth = module("module")
    out["module unchanged"] = Case(path, elsewhere, truth, ALL, ALL, site)
    for hashes in (True, False):
        tag = "" if hashes else ", no code hash (1.0 writer)"
        path, site, truth = module(f"changed{tag}", hashes=hashes)
        (site / "arrowjob.py").write_text(SHIFTED)
        out[f"module changed after capture (lines shifted){tag}"] = Case(
            path, elsewhere, truth, ALL, ALL, site
        )
        path, site, truth = module(f"stale{tag}", "stale", extra=SHIFTED, hashes=hashes)
        out[f"module edited on the worker before the failure{tag}"] = Case(
            path, elsewhere, truth, library, ALL, site, worker=library
        )
    path, site, truth = module("deleted")
    shutil.rmtree(site)
    out["module deleted"] = Case(path, elsewhere, truth, ALL, None, site)

    script_dir = root / "script"
    script_dir.mkdir()
    script = script_dir / "arrowjob_main.py"
    script.write_text(JOB)
    decoy_dir = root / "decoy"
    decoy_dir.mkdir()
    (decoy_dir / "decoy.py").write_text(DECOY)
    but_ratio = ALL - {"ratio"}
    for hashes in (True, False):
        tag = "" if hashes else ", no code hash (1.0 writer)"
        main = cluster / f"main{tag}.zst"
        truth = make(main, "main", extra=str(script), hashes=hashes)
        out[f"__main__, script given with --source{tag}"] = Case(
            main, elsewhere, truth, ALL, ALL, sources=[str(script)], worker=library
        )
        out[f"__main__, a decoy file in the directory{tag}"] = Case(
            main, decoy_dir, truth, but_ratio, but_ratio, worker=library
        )
    out["__main__, script in the current directory"] = Case(
        main, script_dir, truth, ALL, ALL, worker=library
    )
    out["__main__, source unknown"] = Case(main, elsewhere, truth, library, library, worker=library)

    notebook_dir = root / "notebook"
    notebook_dir.mkdir()
    notebook = write_notebook(notebook_dir / "job.ipynb")
    export = notebook_dir / "job_export.py"
    export.write_text(export_of(notebook_cells()))
    cell = cluster / "notebook.zst"
    truth = make(cell, "notebook", extra=str(notebook))
    out["notebook cell, --source job.ipynb"] = Case(
        cell, elsewhere, truth, ALL, ALL, sources=[str(notebook)], worker=library
    )
    out["notebook cell, --source nbconvert export"] = Case(
        cell, elsewhere, truth, ALL, ALL, sources=[str(export)], worker=library
    )
    for case in out.values():
        assert list(case.truth) == FUNCTIONS, case.truth
    assert sorted(out) == sorted(CASES)
    return out


CASES = [
    "module unchanged",
    "module changed after capture (lines shifted)",
    "module changed after capture (lines shifted), no code hash (1.0 writer)",
    "module deleted",
    "module edited on the worker before the failure",
    "module edited on the worker before the failure, no code hash (1.0 writer)",
    "__main__, script in the current directory",
    "__main__, script given with --source",
    "__main__, script given with --source, no code hash (1.0 writer)",
    "__main__, source unknown",
    "__main__, a decoy file in the directory",
    "__main__, a decoy file in the directory, no code hash (1.0 writer)",
    "notebook cell, --source job.ipynb",
    "notebook cell, --source nbconvert export",
]


def run(cli: Callable[..., Any], case: Case, args: list[str], **kwargs: Any) -> Any:
    env = {"PYTHONPATH": str(case.site)} if case.site is not None else {}
    return cli(args, cwd=case.cwd, env=env, **kwargs)


def check(
    display: Display,
    case: Case,
    known: frozenset[str] | None,
    where: str,
    kinds: tuple[str, ...] = (),
) -> list[str]:
    """What is wrong: a line shown that did not run, a ``known`` frame without its line (by
    each of ``kinds``: pdb's ``where`` and ``ll``), a line for an unknown one."""
    problems = []
    for shown in display.shown:
        expected = case.truth.get(shown.function)
        if shown.text != expected:
            problems.append(
                f"{where}: {shown.how} shows {shown.text!r} for {shown.function}(), "
                f"which ran {expected!r}: {shown.context!r}"
            )
    if known is None:  # only what is shown is checked
        return list(dict.fromkeys(problems))
    seen = {s.function for s in display.shown}
    if not known <= seen:
        problems.append(f"{where}: no line shown for {sorted(known - seen)}")
    if seen - known:
        problems.append(f"{where}: a line shown for {sorted(seen - known)}")
    for kind in kinds:
        by = {s.function for s in display.shown if s.how == kind}
        if not known <= by:
            problems.append(f"{where}: {kind} shows no line for {sorted(known - by)}")
    return list(dict.fromkeys(problems))


def _ours(display: Display) -> Display:
    """Only the job's frames (a re-run's traceback also passes through replay's run())."""
    display.shown = [s for s in display.shown if s.function in FUNCTIONS]
    return display


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
    problems: list[str] = []
    sources = [a for s in case.sources for a in ("--source", s)]
    frames = run(cli, case, [str(case.snapshot), "--frames", *sources], stdin=COMMANDS)
    assert frames.returncode == 0, frames.stderr
    problems += check(parse_debugger(frames.stdout), case, case.frames, "--frames", PDB)

    rerun = run(cli, case, [str(case.snapshot), *sources], stdin=COMMANDS)
    if case.rerun is None:
        assert rerun.returncode != 0 and not parse_debugger(rerun.stdout).shown
    else:
        assert rerun.returncode == 1, rerun.stderr
        problems += check(parse_debugger(rerun.stdout), case, case.rerun, "re-run", PDB)
        problems += check(parse_traceback(rerun.stderr), case, case.rerun, "re-run's traceback")

    if name == "module edited on the worker before the failure":  # and why it is unknown
        assert "has its code at line 7, not at line 4 where it ran" in frames.stderr

    info = run(cli, case, ["info", str(case.snapshot)])
    assert info.returncode == 0, info.stderr
    worker = info.stdout.split("Traceback on the worker:", 1)[1]
    problems += check(parse_traceback(worker), case, case.worker, "info")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CASES)
def test_the_api_shows_only_lines_that_ran(
    cli: Callable[..., Any], cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    problems: list[str] = []
    result = run(
        cli,
        case,
        [str(case.snapshot), *case.sources],
        python_code=API,
        stdin=COMMANDS * 5,
    )
    parts = sessions(result.stdout)
    assert set(parts) >= {"post_mortem", "debug", "traceback", "printed", "bare traceback"}, (
        result.stderr
    )
    problems += check(
        parse_debugger(parts["post_mortem"]), case, case.frames, "Replay.post_mortem()", PDB
    )
    problems += check(parse_traceback(parts["traceback"]), case, case.frames, "Replay.traceback()")
    problems += check(
        parse_traceback(parts["printed"]), case, case.frames, "Replay.post_mortem(False)"
    )
    problems += check(
        parse_traceback(parts["bare traceback"]), case, None, "traceback(), nothing located"
    )
    if case.rerun is not None:
        problems += check(parse_debugger(parts["debug"]), case, case.rerun, "Replay.debug()", PDB)
        # Replay.run(): the traceback it raises, and plain pdb over it, show the sources
        # replay verified (by-value functions point at them), and never another line.
        problems += check(
            _ours(parse_traceback(parts["run, traceback"])), case, case.rerun, "run()'s traceback"
        )
        problems += check(_ours(parse_debugger(parts["run, pdb"])), case, case.rerun, "run(), pdb")
        if "job" in case.rerun:  # inspect.getsource of the function re-run: its verified text
            assert parts.get("getsource job", "").startswith("def job("), parts.get("getsource job")
        else:
            assert "=== failed: OSError" in parts["getsource job"], parts["getsource job"]
    # The shortcuts search the current directory only (and this process, where the calls
    # above put sources): no line may be wrong, which are shown depends on those.
    for title in ("replay.post_mortem", "replay.debug"):
        problems += check(parse_debugger(parts.get(title, "")), case, None, f"{title}(x)")
        assert parts.get(title, "").count("(Pdb)") > 1 or case.rerun is None, parts.get(title)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "name",
    [
        "module changed after capture (lines shifted)",
        "module edited on the worker before the failure",
        "__main__, script in the current directory",
        "__main__, a decoy file in the directory",
    ],
)
def test_ipython_and_ipdb_show_only_lines_that_ran(
    cli: Callable[..., Any], cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    problems: list[str] = []
    result = run(cli, case, [str(case.snapshot)], python_code=IPYTHON, stdin=COMMANDS)
    assert "%debug opens the frames captured on the worker" in result.stderr, result.stderr
    problems += check(parse_debugger(result.stdout), case, case.frames, "%debug", ("context",))
    sources = [a for s in case.sources for a in ("--source", s)]
    ipdb = run(
        cli, case, [str(case.snapshot), "--frames", "--debugger", "ipdb", *sources], stdin=COMMANDS
    )
    assert ipdb.returncode == 0, ipdb.stderr
    problems += check(
        parse_debugger(ipdb.stdout), case, case.frames, "--debugger ipdb", ("context",)
    )
    assert not problems, "\n".join(problems)
