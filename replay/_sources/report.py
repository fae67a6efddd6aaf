"""Verified source for every captured frame and every by-value function, or none.

Debuggers (pdb, ipdb, pudb) and ``traceback`` read source lines through
``linecache``.  :func:`locate_sources` decides, for each frame of a snapshot
and each function cloudpickle shipped by value, which text to show: it
compiles the candidates (``replay._sources.candidates``) and accepts a definition
only when its code equals the one that ran (``replay._sources.codematch``).  A text
found is put into ``linecache`` with an mtime of ``None`` (the marker
``linecache.checkcache`` keeps); a frame whose source is not verified gets
no text at all, and the report says why: a debugger that shows the wrong line
is worse than one that shows none.

What is the code that ran?  For a frame, the ``code_sha256`` the writer
records, when it does; for a by-value function, its code object, unpickled
with the call.  A frame of a module file that records no hash is shown with
the text captured on the worker, which was read from that very file.
"""

from __future__ import annotations

import linecache
import os
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from snapshot import DYNAMIC_CODE, by_value_functions, code_objects, code_sha256

from .._frames import shown_line, shown_name
from .._versions import same_bytecode
from .candidates import candidate_groups, captured_name, read_text
from .codematch import FunctionLines, Match, Reference, UnitIndex, reference_for, relocate
from .drift import module_drift

if TYPE_CHECKING:
    import snapshot

__all__ = [
    "Placement",
    "SourceReport",
    "frame_records",
    "install_sources",
    "locate_sources",
    "register",
    "source_lines",
]


def source_lines(text: str) -> list[str]:
    """Split ``text`` into ``linecache``-style lines, each ending in a newline."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def register(filename: str, text: str) -> None:
    """Make ``text`` the source of ``filename`` for debuggers, never evicted."""
    linecache.cache[filename] = (len(text), None, source_lines(text), filename)


def install_sources(sources: Mapping[str, str]) -> list[str]:
    """Register captured sources of files missing here; warn about local files that differ."""
    warnings = []
    for filename, text in sources.items():
        shown, needed = captured_name(filename, text)
        if shown == filename and needed:
            register(filename, text)
        elif shown != filename:
            warnings.append(f"{filename} differs from the source captured on the worker.")
    return warnings


@dataclass(frozen=True)
class Placement:
    """Where a captured frame is shown: the file name, line and first line a debugger sees."""

    filename: str
    lineno: int
    firstlineno: int | None


@dataclass
class SourceReport:
    """What :func:`locate_sources` found: where each frame shows, and what to tell the user."""

    placements: dict[int, Placement] = field(default_factory=dict)
    #: By-value functions and where their source is: a re-run relocates them there.
    relocations: list[tuple[types.FunctionType, Match]] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: ``--source`` files that define none of the code that ran.
    unused: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def messages(self) -> list[str]:
        """What a user should read before the debugger opens, one line each."""
        lines = [f"Source of {found} (its code matches the code that ran)" for found in self.found]
        lines += [
            f"Warning: --source {path} defines none of the code that ran; not shown"
            for path in self.unused
        ]
        lines += [f"Warning: {warning}" for warning in self.warnings]
        for unknown in self.unknown:
            hint = (
                "; pass --source SCRIPT (a script, notebook or nbconvert export that defines "
                "it) or run from its directory"
                if DYNAMIC_CODE in unknown
                else ""
            )
            lines.append(
                f"Note: source unknown for {unknown}{hint}. The debugger shows no lines for it; "
                "`p`, `pp` and `where` work."
            )
        return lines

    def install(self, shown: Callable[[str], str] = str) -> None:
        """Register the verified texts in ``linecache`` (as ``shown`` renders them: the
        same lines, terminal-safe) and point the functions at them."""
        for filename, text in self.texts.items():
            register(filename, shown(text))
        for function, match in self.relocations:
            code = function.__code__
            if code.co_filename == DYNAMIC_CODE:
                function.__code__ = relocate(code, match.unit.filename, match.shift)


def frame_records(frames: Sequence[snapshot.Frame]) -> list[dict[str, Any]]:
    """The manifest's frames as :func:`locate_sources` reads them, under the file names and
    lines a :class:`~replay.CapturedFrame` shows."""
    return [
        {
            "filename": shown_name(frame.filename or "<unknown>"),
            "function": frame.function,
            "lineno": shown_line(frame.lineno),
            "firstlineno": shown_line(frame.firstlineno),
            "module": frame.module,
            "code_sha256": frame.code_sha256,
        }
        for frame in frames
    ]


def locate_sources(
    frames: Sequence[Mapping[str, Any]],
    sources: Mapping[str, str],
    roots: Sequence[object],
    *,
    paths: Sequence[str] = (),
    directory: str | None = None,
    live: bool = True,
    rerun: bool = True,
    no_code: str = "the call was not loaded",
    python: str | None = None,
) -> SourceReport:
    """Find the verified source of ``frames`` (manifest records) and of the by-value
    functions that ``roots`` (the unpickled call) reach.

    ``no_code`` says why ``roots`` is empty, for the report; ``python`` is the
    worker's Python version (hashes compare only under the same ``X.Y``).
    """
    report = SourceReport(warnings=module_drift(frames, sources, rerun=rerun))
    functions = by_value_functions(roots)
    codes = [c for f in functions for c in code_objects(f.__code__)]
    same_python = python is None or same_bytecode(python)

    refs: dict[int, Reference] = {}
    why: dict[int, str] = {}
    for index, record in enumerate(frames):
        filename, function, lineno, first = _frame(record)
        sha = record.get("code_sha256")
        if isinstance(sha, str) and first is not None and same_python:
            refs[index] = Reference(function, first, sha)
        elif filename == DYNAMIC_CODE:
            if first is None:
                why[index] = "the snapshot records no first line for it"
                continue
            hashes = {
                code_sha256(c)
                for c in codes
                if c.co_name == function
                and c.co_firstlineno == first
                and lineno in {line for _, _, line in c.co_lines()}
            }
            if len(hashes) == 1:
                refs[index] = Reference(function, first, hashes.pop())
            elif hashes:
                why[index] = "several functions of the call have its name and first line"
            elif not same_python:
                why[index] = f"it ran under Python {python}, whose bytecode differs from this one's"
            else:
                why[index] = (
                    f"{no_code}, so there is no code to check a source against"
                    if not functions
                    else "its code is not among the functions of the captured call"
                )
    function_refs = [(f, reference_for(f.__code__)) for f in functions]

    pending = set(refs.values()) | {ref for _, ref in function_refs}
    matches: dict[Reference, Match] = {}
    near: dict[str, list[str]] = {}
    moved: dict[Reference, tuple[str, int]] = {}  # the same code, at other lines
    searched = 0
    for group in candidate_groups(frames, sources, paths=paths, directory=directory, live=live):
        if not pending:
            break
        units = group.load()
        searched += 1
        used = False
        for unit in units:
            index_ = UnitIndex(unit)
            names = index_.names()
            for wanted in list(pending):
                match = index_.find(wanted)
                if match is not None:
                    matches[wanted] = match
                    pending.discard(wanted)
                    used = True
                elif wanted.name in names:
                    near.setdefault(wanted.name, []).append(unit.origin)
                    line = index_.moved(wanted)
                    if line is not None and not unit.origin.startswith("this session"):
                        moved.setdefault(wanted, (unit.origin, line))
        if group.path is not None and not used:
            report.unused.append(group.path + (f" ({group.problem})" if group.problem else ""))

    misplaced = _misplaced(frames, sources, set(refs) | set(why))
    found: dict[str, list[str]] = {}
    for index, record in enumerate(frames):
        filename, function, lineno, first = _frame(record)
        ref = refs.get(index)
        match = matches.get(ref) if ref is not None else None
        if match is not None:
            _use(report, match, found, function)
            report.placements[index] = Placement(
                match.unit.filename, match.line(lineno), match.line(first or lineno)
            )
            continue
        if ref is not None:
            why[index] = _unmatched(ref, near, searched, moved.get(ref))
        elif filename in misplaced:
            why[index] = misplaced[filename]
        elif index not in why:
            placement = _trusted(report, function, filename, lineno, first, sources)
            if placement is not None:
                report.placements[index] = placement
            continue
        report.unknown.append(f"{function}() ({filename}, line {lineno}): {why[index]}")
        report.placements[index] = Placement(_without_source(filename, sources), lineno, first)
    for func, func_ref in function_refs:
        match = matches.get(func_ref)
        if match is not None:
            report.relocations.append((func, match))
            _use(report, match, found, func.__name__)
    report.found = [f"{', '.join(names)}: {origin}" for origin, names in found.items()]
    return report


def _frame(record: Mapping[str, Any]) -> tuple[str, str, int, int | None]:
    lineno = record.get("lineno")
    first = record.get("firstlineno")
    return (
        str(record.get("filename", "<unknown>")),
        str(record.get("function") or "<unknown>"),
        lineno if isinstance(lineno, int) and lineno > 0 else 1,
        first if isinstance(first, int) and first > 0 else None,
    )


def _use(report: SourceReport, match: Match, found: dict[str, list[str]], name: str) -> None:
    if match.unit.register:
        report.texts[match.unit.filename] = match.unit.text
    if not match.unit.announce:
        return
    names = found.setdefault(match.unit.origin, [])
    if f"{name}()" not in names:
        names.append(f"{name}()")


def _unmatched(
    ref: Reference, near: Mapping[str, list[str]], searched: int, moved: tuple[str, int] | None
) -> str:
    if moved is not None:
        origin, line = moved
        return (
            f"{origin} has its code at line {line}, not at line {ref.firstlineno} where it ran "
            "(the file was edited after that code was compiled): its lines would not be the ones "
            "that ran"
        )
    others = list(dict.fromkeys(near.get(ref.name, [])))
    text = f"no source among {searched} place(s) searched defines it with the code that ran"
    if others:
        text += f" ({', '.join(others[:3])} define(s) a {ref.name}() with other code or lines)"
    return text


def _misplaced(
    frames: Sequence[Mapping[str, Any]], sources: Mapping[str, str], checked: set[int]
) -> dict[str, str]:
    """Files whose captured text does not run a frame without a code hash where it ran (the
    file changed on the worker after it was imported): ``{filename: why}``."""
    out: dict[str, str] = {}
    layouts: dict[str, FunctionLines | None] = {}
    for index, record in enumerate(frames):
        filename, function, lineno, first = _frame(record)
        text = sources.get(filename)
        if index in checked or text is None or filename in out:
            continue
        if filename not in layouts:
            layouts[filename] = FunctionLines.of(text, filename)
        layout = layouts[filename]
        if layout is not None and not layout.runs(function, first, lineno):
            out[filename] = (
                f"the snapshot's copy of its file does not run line {lineno} in a {function}() "
                "there (the file changed on the worker after it was imported), and the snapshot "
                "records no code hash to find the code that ran"
            )
    return out


def _trusted(
    report: SourceReport,
    function: str,
    filename: str,
    lineno: int,
    first: int | None,
    sources: Mapping[str, str],
) -> Placement | None:
    """A module frame without a code hash: the text captured from its file, or nothing."""
    captured = sources.get(filename)
    if captured is not None:
        shown, needed = captured_name(filename, captured)
        if needed:
            report.texts[shown] = captured
        return None if shown == filename else Placement(shown, lineno, first)
    if filename.startswith("<") or not os.path.isfile(filename):
        return None  # nothing to show, and nothing wrong can be shown
    if read_text(filename) is None:
        return None
    report.unknown.append(
        f"{function}() ({filename}, line {lineno}): the snapshot holds no copy of this file "
        "to check this machine's against"
    )
    return Placement(f"{filename} (source unknown)", lineno, first)


def _without_source(filename: str, sources: Mapping[str, str]) -> str:
    """A name under which a debugger finds no text: never a file that may differ."""
    if filename == DYNAMIC_CODE and filename not in linecache.cache:
        return filename
    if filename in sources or os.path.exists(filename) or filename in linecache.cache:
        return f"{filename} (source unknown)"
    return filename
