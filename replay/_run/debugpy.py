"""Driving debugpy: an IDE attaches, and the call re-runs in code its ``justMyCode`` counts as yours.

What this relies on, in debugpy 1.8.22 and its vendored pydevd:

- ``FilesFiltering.in_project_roots`` counts a file whose name starts with
  ``<`` (``<ipython`` excepted) as library code, and so is every file under
  the standard library or a ``site-packages`` directory.  Under ``justMyCode``
  (debugpy's default) library frames never stop.  So a function cloudpickle
  shipped by value (``<dynamic-code>``) is moved to a real file, outside any
  library root, before the call: the text replay verified for it when it is
  known, or a name no file has when it is not (the IDE then opens nothing, and
  debugpy offers its disassembly of the code that ran).
- ``debugpy.breakpoint()`` steps over in its caller's frame: the IDE stops on
  the caller's next line, if that frame is user code.  replay's own code is
  library code once installed in site-packages (and user code in an editable
  install), so the stop is made in a small generated file, the trampoline,
  whose one line calls the function.
- ``debugpy.trigger_exception_handler(exc)`` stops on a caught exception as on
  an uncaught one (VS Code's default "Uncaught Exceptions" filter), on the last
  user frame of its traceback: the raise in the user's function.
- Once the call is over, tracing is turned off for the thread
  (``debugpy.trace_this_thread(False)``), so the command line's own exit,
  ``SystemExit(1)``, is not reported to the IDE as an uncaught exception.

The files live in a directory of their own per snapshot, mode 0700, under
``$XDG_CACHE_HOME/dask-replay/debugpy/`` (``~/.cache/...``); they are text
for the IDE to show, never imported or run (the trampoline excepted, which is
ours).
"""

from __future__ import annotations

import hashlib
import importlib
import linecache
import os
import re
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from snapshot import DYNAMIC_CODE, by_value_functions

from .._errors import DebuggerUnavailableError
from .._sources.codematch import relocate
from .._terminal import source_text
from .call import finish
from .debugger import Debugger, import_debugger

if TYPE_CHECKING:
    from .._sources.report import SourceReport
    from .call import Call

__all__ = ["TRAMPOLINE", "cache_directory", "debugpy_debugger"]

#: The trampoline's text: the IDE stops on its last line, the call.
TRAMPOLINE = """\
# Written by dask-replay for debugpy: the call that failed, re-run with the captured arguments.


def replay_call(stop, func, args, kwargs):
    stop()
    return func(*args, **kwargs)  # The IDE stops here: step into (F11) to reach the failing call.
"""
_TRAMPOLINE_NAME = "replay_call.py"
_UNKNOWN = "source unknown"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=,#\[\] -]")


def debugpy_debugger(port: int) -> Debugger:
    """A :class:`Debugger` that listens on ``127.0.0.1:port`` and re-runs the call for an IDE.

    Raises :class:`DebuggerUnavailableError` at once for a debugpy too old to drive.
    """
    _debugpy()
    state: dict[str, Any] = {}

    def attach(
        snapshot_path: str, call: Call, report: SourceReport, out: TextIO, err: TextIO
    ) -> None:
        debugpy = _debugpy()
        if "debugpy.server.api" not in sys.modules:
            _import_server_quietly()
        directory = cache_directory(snapshot_path)
        for line in place_sources(call, report, directory):
            print(line, file=err, flush=True)
        state["trampoline"] = _trampoline(directory)
        host, bound = _listen(debugpy, port)
        print(
            f"debugpy is listening on {host}:{bound}: attach your IDE there "
            '(VS Code: "Python Debugger: Remote Attach"). Waiting...',
            file=out,
            flush=True,
        )
        debugpy.wait_for_client()
        print(
            f"The IDE stops before the call, in {state['trampoline'].__code__.co_filename}: "
            "step into it (F11), or continue (F5) to stop where it raises.",
            file=out,
            flush=True,
        )

    def call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        debugpy = _debugpy()
        trampoline = state["trampoline"]
        try:  # an async def task is awaited, as the worker did
            return finish(trampoline(debugpy.breakpoint, func, args, kwargs))
        except BaseException as exc:
            debugpy.trigger_exception_handler(exc)
            exc.__traceback__ = _after(exc.__traceback__, trampoline.__code__)
            raise

    def detach() -> None:
        if _LISTENING:  # else debugpy never traced this process
            _debugpy().trace_this_thread(False)

    return Debugger("debugpy", None, attach=attach, call=call, detach=detach)


# Where this process listens: debugpy.listen() may be called once per process, and a
# notebook may debug several replays, each attached by the same IDE session.
_LISTENING: list[tuple[str, int]] = []


def _listen(debugpy: types.ModuleType, port: int) -> tuple[str, int]:
    if _LISTENING:
        return _LISTENING[0]
    try:
        host, bound = debugpy.listen(("127.0.0.1", port))
    except (OSError, RuntimeError) as exc:
        raise DebuggerUnavailableError(
            f"debugpy cannot listen on 127.0.0.1:{port} ({exc}); pick another with --port."
        ) from exc
    _LISTENING.append((host, bound))
    return host, bound


def _debugpy() -> types.ModuleType:
    debugpy = import_debugger("debugpy")
    if not hasattr(debugpy, "trigger_exception_handler"):
        version = getattr(debugpy, "__version__", "?")
        raise DebuggerUnavailableError(
            f"debugpy {version} is too old to stop where the call raises; "
            "upgrade it with `python -m pip install -U debugpy` (1.8.22 or newer)."
        )
    return debugpy


def _import_server_quietly() -> None:
    """Import debugpy's in-process server without its warning about frozen modules.

    pydevd warns, once, when the standard library runs frozen (as it does in
    Python 3.11+) that breakpoints *in the standard library* may be missed;
    ``PYDEVD_DISABLE_FILE_VALIDATION``, read when pydevd is imported, turns
    that into a debug log line.  Nothing of the user's code is concerned.
    """
    name = "PYDEVD_DISABLE_FILE_VALIDATION"
    previous = os.environ.get(name)
    os.environ[name] = "1"
    try:
        importlib.import_module("debugpy.server.api")
    except ImportError as exc:
        raise DebuggerUnavailableError(
            f"debugpy cannot be imported ({exc}); reinstall it with "
            "`python -m pip install debugpy`, or use `--debugger pdb`."
        ) from exc
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def cache_directory(snapshot_path: str) -> str:
    """The directory (mode 0700) of the files the IDE is shown for ``snapshot_path`` (or URL)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    path = snapshot_path if "://" in snapshot_path else os.path.abspath(snapshot_path)  # a URL
    stem = _safe(os.path.basename(path).split(".")[0])[:60] or "snapshot"
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    directory = os.path.join(base, "dask-replay", "debugpy", f"{stem}-{digest}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    except OSError as exc:
        raise DebuggerUnavailableError(
            f"{directory}: cannot create the directory of the files shown to the IDE ({exc}); "
            "set XDG_CACHE_HOME to a writable directory."
        ) from exc
    return directory


def place_sources(call: Call, report: SourceReport, directory: str) -> list[str]:
    """Give every by-value function of the call a real file; return what to tell the user.

    A function whose source replay verified is shown from a copy of that text
    (a notebook cell, the snapshot's copy of a file, a cell this session ran):
    the same lines, at the same numbers.  One whose source is unknown gets a name no file has.
    Functions of files on this machine keep them.
    """
    unknown = by_value_functions(list(call))  # before they are relocated
    report.install(source_text)
    lines: list[str] = []
    written: dict[str, str] = {}
    for function, _match in report.relocations:
        name = function.__code__.co_filename
        if name not in written:
            text = report.texts.get(name)
            if text is None and not os.path.isfile(name):
                text = "".join(linecache.getlines(name)) or None  # this session's cell
            if text is None:
                continue  # a file on this machine: the IDE opens it
            written[name] = _write(directory, name, text, set(written.values()))
            lines.append(
                f"debugpy: the IDE shows {name} from {written[name]} (a copy of its verified text)"
            )
        function.__code__ = relocate(function.__code__, written[name], 0)
    nowhere = os.path.join(directory, _UNKNOWN, DYNAMIC_CODE)
    for function in unknown:
        if function.__code__.co_filename != DYNAMIC_CODE:
            continue
        function.__code__ = relocate(function.__code__, nowhere, 0)
        lines.append(
            f"debugpy: {function.__qualname__}() has no verified source: the IDE shows "
            f"{nowhere}, which does not exist (debugpy offers its disassembly instead)"
        )
    return lines


def _write(directory: str, name: str, text: str, taken: set[str]) -> str:
    """Write ``text`` under a file name made from ``name``; never over another's text."""
    parts = [_safe(p)[:80] for p in re.split(r"[/\\]", name) if p not in ("", ".", "..")]
    parts = [p for p in parts if p.strip(".")][-6:] or ["source"]
    if not parts[-1].endswith(".py"):
        parts[-1] += ".py"
    path = os.path.join(directory, "sources", *parts)
    stem, suffix = os.path.splitext(path)
    number = 1
    while path in taken:
        number += 1
        path = f"{stem}-{number}{suffix}"
    _atomic_write(path, text)
    return path


def _trampoline(directory: str) -> Callable[..., Any]:
    path = os.path.join(directory, _TRAMPOLINE_NAME)
    _atomic_write(path, TRAMPOLINE)
    namespace: dict[str, Any] = {"__name__": "replay_call"}
    exec(compile(TRAMPOLINE, path, "exec", dont_inherit=True), namespace)
    function: Callable[..., Any] = namespace["replay_call"]
    return function


def _atomic_write(path: str, text: str) -> None:
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8", errors="replace", newline="") as fh:
            fh.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise DebuggerUnavailableError(
            f"{path}: cannot write the file shown to the IDE ({exc}); "
            "set XDG_CACHE_HOME to a writable directory."
        ) from exc


def _after(tb: types.TracebackType | None, code: types.CodeType) -> types.TracebackType | None:
    """The traceback below the trampoline's frame: the replayed traceback starts at the call."""
    start = tb
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return tb.tb_next
        tb = tb.tb_next
    return start


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)
