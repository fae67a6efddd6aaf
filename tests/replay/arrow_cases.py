"""The cases of ``test_arrows.py``: one failing call chain, written where each case needs it,
and a parser for every line a debugger or a traceback shows as the one that ran.

One call chain covers the shapes of code whose lines are easy to get wrong: a
loop body that runs three times (``job``), a closure (``scaler``), a lambda,
a generator frame (``gen``), an expression over several lines whose raising
part is not on its first line (``ratio``) and a library frame
(``fractions.Fraction.__new__``).  The maker runs the original functions once
to learn, from Python itself, the text of the line each frame was executing
(the truth), then captures the failure of the worker's copy.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

JOB = """\
import fractions


def job(values):
    total = 0
    for v in values:
        total += step(v)
    return total


def step(v):
    scale = make_scaler(v)
    return scale(v)


def make_scaler(k):
    def scaler(x):
        pick = lambda y: list(gen(y))
        return pick(x)[0] * k

    return scaler


def gen(x):
    yield ratio(1, x)


def ratio(a, b):
    whole = a // 1
    return (
        whole
        * fractions.Fraction(1, b)
    )
"""

#: The same file edited: lines shifted down by three, the same code.
SHIFTED = "VERSION = 2\nLIMIT = 10\n\n" + JOB

#: A file in the replay's directory defining every function at its captured line,
#: ``ratio`` with another body: only ``ratio`` must not be shown.
DECOY = JOB.replace("* fractions.Fraction(1, b)", "* fractions.Fraction(2, b)")

FUNCTIONS = ["job", "step", "scaler", "<lambda>", "gen", "ratio", "__new__"]

# Captures a failure as a worker would; argv: snapshot path, truth path, mode,
# its argument, and "nohash" to leave out the frames' code hashes.
# Modes: "module" (arrowjob imported, by reference), "stale" (imported, then its
# file edited before the failure, as an editable install on a live worker),
# "main" (this script's own functions: __main__, by value), "notebook" (the cells
# of argv[4] in a real IPython shell: by value).
MAKER = r"""
import json, linecache, sys, traceback
import cloudpickle, snapshot

path, truth_path, mode = sys.argv[1:4]
if mode == "notebook":
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    for cell in nbformat.read(sys.argv[4], as_version=4).cells:
        if cell.cell_type == "code":
            assert shell.run_cell(cell.source).success
    job = shell.user_ns["job"]
elif mode == "main":
    exec(compile(open(sys.argv[4]).read(), sys.argv[4], "exec"))
    job = globals()["job"]
else:
    import arrowjob
    job = arrowjob.job


def fail(func):
    try:
        func([1, 2, 0])
    except ZeroDivisionError as exc:
        return exc
    raise AssertionError("no failure")


truth = [
    (entry.name, linecache.getline(entry.filename, entry.lineno).strip())
    for entry in traceback.extract_tb(fail(job).__traceback__)[1:]
]
json.dump(truth, open(truth_path, "w"))
if mode == "stale":
    with open(arrowjob.__file__, "w") as fh:
        fh.write(sys.argv[4])
worker_job = job if mode in ("module", "stale") else cloudpickle.loads(cloudpickle.dumps(job))
builder = snapshot.SnapshotBuilder()
builder.capture_exception(fail(worker_job), skip_frames=1)
if sys.argv[5:] == ["nohash"]:  # as a 1.0 writer wrote it
    for record in builder.manifest["frames"]:
        del record["code_sha256"]
builder.set_call(worker_job, ([1, 2, 0],))
builder.manifest["task"] = {"key": "job-1"}
builder.write(path)
"""


def notebook_cells() -> list[tuple[str, str]]:
    return [
        ("markdown", "# The job\nIt fails on its third value."),
        ("code", "!echo ready\nimport fractions\n"),
        ("code", "%time y = 1\n\n" + JOB.replace("import fractions\n", "")),
    ]


def write_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    for kind, text in notebook_cells():
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(new(text))
    nbformat.write(notebook, str(path))
    return path


def export_of(cells: list[tuple[str, str]]) -> str:
    """What ``jupyter nbconvert --to script`` writes for ``cells``."""
    from IPython.core.inputtransformer2 import TransformerManager

    out = "#!/usr/bin/env python\n# coding: utf-8\n\n"
    count = 0
    for kind, text in cells:
        if kind == "markdown":
            out += "".join(f"# {line}\n" for line in text.splitlines()) + "\n"
        else:
            count += 1
            out += f"# In[{count}]:\n\n\n" + TransformerManager().transform_cell(text) + "\n\n"
    return out


def make(
    path: Path, mode: str, *, site: Path | None = None, extra: str = "", hashes: bool = True
) -> dict[str, str]:
    """Write the snapshot at ``path``; return the truth: each frame's function and line text."""
    truth = path.with_suffix(".truth.json")
    env = {"PATH": "/usr/bin:/bin"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    subprocess.run(
        [sys.executable, "-c", MAKER, str(path), str(truth), mode, extra]
        + ([] if hashes else ["nohash"]),
        cwd=path.parent,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {function: text for function, text in json.loads(truth.read_text())}


# -- what a debugger shows -------------------------------------------------
# pdb's stack entry: "> /f.py(7)ratio()" (current) or "  /f.py(7)ratio()", then
# "-> line text" when it has the source; IPython's: "> /f.py(7)ratio()" as well.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROMPTS = re.compile(r"^(?:\((?:Pdb|ipdb)\) |ipdb> )+")
_ENTRY = re.compile(r"^(?P<mark>> |  )?(?P<file>.+)\((?P<line>\d+)\)(?P<function>[^()\s]*)\(\)$")
# pdb's ll/list: "  7  ->\ttext" (current line) or "  7  >>\ttext" (the exception's)
_LISTED = re.compile(r"^\s*(?P<line>\d+)\s+B?(?P<arrow>->|>>)\t(?P<text>.*)$")
# IPython's: "----> 7         text" (and "--> " in the context lines of `where`)
_IPY_LISTED = re.compile(r"^-*> ?\s*(?P<line>\d+) (?P<text>.*)$")
_IPY_CONTEXT = re.compile(r"^\s*(?:-*> ?)?\s*\d+ ")
# A traceback's: '  File "/f.py", line 7, in ratio' then the line's text, indented.
_TB_ENTRY = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+), in (?P<function>.+)$')


@dataclass
class Shown:
    """One line a display presented as the one that ran, and the frame it was for."""

    function: str
    text: str
    how: str  # "where", "ll", "traceback"
    context: str = ""


@dataclass
class Display:
    """What one display showed: the arrows, and the frames it showed no line for."""

    shown: list[Shown] = field(default_factory=list)
    without_source: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)


def parse_debugger(output: str) -> Display:
    """Every ``-> text`` of a stack entry and every ``->``/``>>`` arrow of a listing.

    A listing's arrow belongs to the current frame: the last entry marked ``>``.
    """
    display = Display()
    current: str | None = None
    last: str | None = None
    lines = [_PROMPTS.sub("", _ANSI.sub("", line)) for line in output.splitlines()]
    for index, line in enumerate(lines):
        entry = _ENTRY.match(line)
        if entry:
            last = entry.group("function")
            display.entries.append(last)
            if entry.group("mark") == "> ":
                current = last
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if not following.startswith("-> ") and not _IPY_CONTEXT.match(following):
                display.without_source.append(last)
            continue
        if line.startswith("-> ") and last is not None:
            display.shown.append(Shown(last, line[3:].strip(), "where", line))
            continue
        listed = _LISTED.match(line)
        if listed and current is not None:
            display.shown.append(Shown(current, listed.group("text").strip(), "ll", line))
        # IPython lists context under each stack entry: its arrow is that entry's line.
        listed = _IPY_LISTED.match(line) if line.startswith("-") else None
        if listed and last is not None:
            display.shown.append(Shown(last, listed.group("text").strip(), "context", line))
    return display


def parse_traceback(text: str) -> Display:
    """Each ``File ..., line N, in f`` entry and the text under it, if any."""
    display = Display()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        entry = _TB_ENTRY.match(line)
        if not entry:
            continue
        function = entry.group("function")
        display.entries.append(function)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        indent = " " * (len(line) - len(line.lstrip()) + 2)  # the text: two more spaces
        if re.match(indent + r"\S", following) and not _TB_ENTRY.match(following):
            display.shown.append(Shown(function, following.strip(), "traceback", line))
        else:
            display.without_source.append(function)
    return display
