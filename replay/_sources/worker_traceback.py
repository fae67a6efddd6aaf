"""The traceback the worker printed, without the lines of files it read after they changed.

Python's ``traceback`` re-reads a file that changed since it was imported
(``linecache.checkcache``), so a worker whose module was edited under it (an
editable install, a shared file system) prints the new file's lines beside
the numbers of the code that ran: lines that never ran.  The snapshot holds
that same text as the file's source and, for each frame, the hash of its code
(``frames[i].code_sha256``).  A file one of whose frames' code does not compile
from its captured text at the captured lines is stale: its entries keep their
``File ..., line N`` and lose their text.  Only compiled, never executed: what
``info`` may do.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import snapshot

from .._versions import same_bytecode

__all__ = ["checked_traceback", "stale_files"]

# Patterns are compiled on first use (re's own cache): ``info`` on a file whose sources
# it did not read never needs them, and a compile is about 0.6 M instructions.
_ENTRY = r'^(?P<indent>\s*)File "(?P<file>.+)", line \d+, in .+$'
_NOT_SHOWN = "  (line not shown: the file changed on the worker after it was imported)"
_UNCHECKED = (
    "  (as the worker printed it, not checked: its source is past what was read; --deep checks it)"
)


def stale_files(model: snapshot.Manifest, source: Callable[[str], str | None]) -> dict[str, str]:
    """The frames' files whose captured text is not the code that ran there: ``{file: why}``.

    ``source`` reads a captured text by its key (``Snapshot.source``).  A frame
    with a hash made by this Python's ``X.Y`` is checked by code; one without
    (a 1.0 file, another Python) only by where its function starts and which
    lines it runs, as ``replay._sources.codematch.FunctionLines`` does.
    """
    environment = model.environment
    same = same_bytecode(environment.python.version if environment and environment.python else None)
    frames: dict[str, list[snapshot.Frame]] = {}
    for frame in model.frames:
        if frame.filename and frame.source and frame.function and frame.lineno:
            frames.setdefault(frame.filename, []).append(frame)
    stale: dict[str, str] = {}
    for filename, in_file in frames.items():
        text = source(in_file[0].source or "")
        if text is None:
            continue
        if same and all(_runs_in_statement(text, filename, frame) for frame in in_file):
            continue
        compiled = _compiled(text, filename)
        if compiled is None:
            continue  # not compilable here: nothing to check it by
        for frame in in_file:
            if not _runs(compiled, frame, hashed=same):
                stale[filename] = f"its text is not the code of {frame.function}()"
                break
    return stale


def _unread_files(model: snapshot.Manifest, source: Callable[[str], str | None]) -> set[str]:
    """The frames' files whose captured text was not read (a quick read stopped before
    it): their lines are the worker's, shown as such, not checked."""
    unread: set[str] = set()
    asked: set[str] = set()  # each file's text once, not once per frame (a recursion)
    for frame in model.frames:
        if frame.filename and frame.source and frame.filename not in asked:
            asked.add(frame.filename)
            if source(frame.source) is None:
                unread.add(frame.filename)
    return unread


def _compiled(text: str, filename: str) -> snapshot.CompiledSource | None:
    compiled = snapshot.CompiledSource(text, filename)
    return compiled if compiled.compiles else None


#: The words that go on a module-level statement (else: ...) rather than start one.
_GOES_ON = ("else", "elif", "except", "finally")


def _top(line: str) -> bool:
    """Whether a line starts a module-level statement (``re.match(r"[^\\s#)\\]}]")``)."""
    return bool(line) and not line[0].isspace() and line[0] not in "#)]}"


def _goes_on(line: str) -> bool:
    """``re.match(r"(else|elif|except|finally)\\b", line)``, without compiling a pattern."""
    for word in _GOES_ON:
        if line.startswith(word):
            after = line[len(word) : len(word) + 1]
            if not (after.isalnum() or after == "_"):
                return True
    return False


def _defines(line: str) -> bool:
    """``re.match(r"(@|def\\s|async\\s+def\\s|class\\s)", line)``."""
    if line.startswith("@"):
        return True
    if line.startswith("async"):
        rest = line[5:]
        line = rest.lstrip()
        if len(line) == len(rest):
            return False
    for word in ("def", "class"):
        if line.startswith(word) and line[len(word) : len(word) + 1].isspace():
            return True
    return False


def _runs_in_statement(text: str, filename: str, frame: snapshot.Frame) -> bool:
    """Whether the file compiled without its other functions and classes (each left as
    blank lines, so every line keeps its number) holds code of the frame's hash: a file
    of 1,000 lines is not compiled whole to check a function of 10.

    What stays is the statement around the frame's first line and all other
    module-level code (imports, which change how a function's code is compiled,
    and constants).  A match is proof (the same text at the same lines compiles
    to the same code); anything else (a multi-line string that fools the split,
    a statement misjudged) is no verdict: the caller compiles the whole file.
    """
    first = frame.firstlineno
    if not first or not frame.code_sha256:
        return False
    # Lines as the compiler counts them (str.splitlines also breaks at \f and others).
    lines = [line + "\n" for line in text.split("\n")]
    if first > len(lines):
        return False
    kept: list[str] = []
    statement: list[str] = []
    at = 0  # the statement's first line, counted from 0
    decorated = False  # the statement so far is decorators: its def or class goes on it

    def flush() -> None:
        if _defines(statement[0]) and not at < first <= at + len(statement):
            kept.append("\n" * len(statement))
        else:
            kept.extend(statement)

    for i, line in enumerate(lines):
        if _top(line) and not _goes_on(line) and not decorated:
            if statement:
                flush()
            statement, at = [], i
            decorated = line.startswith("@")
        elif decorated and _top(line):
            decorated = line.startswith("@")  # a def or a class ends the decorators
        statement.append(line)
    if statement:
        flush()
    kept[-1] = kept[-1][:-1]  # the "\n" added to the last line
    compiled = _compiled("".join(kept), filename)
    return compiled is not None and _runs(compiled, frame, hashed=True)


def _runs(compiled: snapshot.CompiledSource, frame: snapshot.Frame, *, hashed: bool) -> bool:
    """Whether ``compiled`` defines the frame's code where it ran (by hash when ``hashed``)."""
    function, first, sha = frame.function or "", frame.firstlineno, frame.code_sha256
    if hashed and first and sha:
        return compiled.defines(function, first, sha)
    return frame.lineno is not None and compiled.runs(function, first, frame.lineno)


def checked_traceback(model: snapshot.Manifest, source: Callable[[str], str | None]) -> str | None:
    """``error.traceback`` with the source lines of :func:`stale_files` left out."""
    text = model.error.traceback if model.error is not None else None
    if not text:
        return text
    stale = stale_files(model, source)
    unread = _unread_files(model, source)
    if not stale and not unread:
        return text
    out: list[str] = []
    entries = re.compile(_ENTRY)
    skipping: int | None = None  # the indent of a stale entry whose lines are left out
    for line in text.splitlines():
        entry = entries.match(line)
        if entry is not None:
            skipping = len(entry.group("indent")) if entry.group("file") in stale else None
            mark = _UNCHECKED if entry.group("file") in unread else ""
            out.append(line + (_NOT_SHOWN if skipping is not None else mark))
            continue
        if skipping is not None and len(line) - len(line.lstrip()) > skipping and line.strip():
            continue  # the line's text and its ^^^ markers
        skipping = None
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
