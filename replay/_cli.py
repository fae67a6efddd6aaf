"""The command line: ``python -m replay`` (also installed as ``dask-replay``).

Three forms share one entry point; the first word picks the form, because a
positional SNAPSHOT cannot live beside argparse subcommands::

    python -m replay SNAPSHOT [options]   re-run the failing call under a debugger
    python -m replay info SNAPSHOT        describe it; never unpickles
    python -m replay list DIR             one line per snapshot, newest first

A file literally named ``info`` or ``list`` is replayed as ``./info``.  Errors a
user can cause print ``Error: ...`` on stderr and exit with a status from
``EXIT_CODES``; they never print a traceback of ours.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import sys
import traceback
import types
from collections.abc import Sequence
from typing import NoReturn, TextIO

import snapshot

from ._debuggers import (
    DEBUGGERS,
    Debugger,
    DebuggerUnavailableError,
    require_terminal,
    resolve_debugger,
)
from ._info import describe, info_dict, summary
from ._listing import format_entry, scan_directory
from ._progress import ProgressReporter
from ._session import NotReplayableError, Replay
from ._source import python_files
from ._verdict import Verdict

__all__ = ["EXIT_CODES", "main"]

EXIT_OK = 0
EXIT_RAISED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_UNLOADABLE = 4
EXIT_NO_DEBUGGER = 5
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "success: info or list printed, the replayed call did not raise, "
    "or a --frames session ended",
    EXIT_RAISED: "the replayed call raised, with or without a debugger (as python would)",
    EXIT_USAGE: "usage error: bad or conflicting options",
    EXIT_UNREADABLE: "the snapshot cannot be read: no such file, not a snapshot, truncated, "
    "newer format, over a read limit, or a bad signature",
    EXIT_UNLOADABLE: "the call cannot be re-run here: a module it needs is missing, a piece "
    "fails to unpickle, or the call was not captured (try --frames)",
    EXIT_NO_DEBUGGER: "the requested debugger is not installed or cannot be used",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C) while loading",
}

_EPILOG = "exit status:\n" + "\n".join(
    f"  {code:<4}{text}" for code, text in sorted(EXIT_CODES.items())
)

_PDB_COMMANDS = "commands: where, up, down, p NAME, pp NAME, ll, list, q to quit"


class _UsageError(Exception):
    """A bad command line; argparse's own exit is turned into this."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _prog() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("", "__main__.py", "-c", "-m"):
        return "python -m replay"
    return name


def _replay_parser(prog: str) -> _Parser:
    parser = _Parser(
        prog=prog,
        usage=(
            f"{prog} SNAPSHOT [--no-debug] [--frames] [--debugger NAME] [--port N]\n"
            f"{' ' * 7}{' ' * len(prog)} [--source FILE] [--key-file FILE | --key KEY]\n"
            f"{' ' * 7}{' ' * len(prog)} [--allow-unsigned]\n"
            f"       {prog} info SNAPSHOT [--json] [--key-file FILE | --key KEY]\n"
            f"       {prog} list DIR"
        ),
        description=(
            "Re-run a failed Dask task from its snapshot and open a debugger where it raised. "
            "`info SNAPSHOT` describes a snapshot without unpickling anything (do this first "
            "with a file you did not write: unpickling runs code); `list DIR` lists snapshots."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot file (*.tar.zst)")
    parser.add_argument(
        "--no-debug",
        action="store_true",
        help="re-run without a debugger: print the traceback; exit 1 if it raises",
    )
    parser.add_argument(
        "--frames",
        action="store_true",
        help="do not re-run: open the debugger on the frames and locals captured at the raise "
        "(with --no-debug: print them)",
    )
    parser.add_argument(
        "--debugger",
        choices=DEBUGGERS,
        help="the debugger (default: pdb, or what PYTHONBREAKPOINT names; PYTHONBREAKPOINT=0 "
        "means none)",
    )
    parser.add_argument(
        "--source",
        metavar="FILE",
        action="append",
        default=None,
        help="the script that defined functions pickled by value (in __main__ or a notebook "
        "cell exported to a file), whose source cloudpickle does not ship; by default the "
        "*.py files of the current directory are searched for them (may be repeated)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=5678,
        help="debugpy: the port to listen on for the IDE (default 5678; 0 picks a free one)",
    )
    _add_key_options(parser)
    return parser


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-file",
        metavar="FILE",
        help="check the snapshot's HMAC signature with the key in FILE before unpickling "
        "(default: $DASK_SNAPSHOT__KEY_FILE or $DASK_SNAPSHOT__KEY, as on the workers)",
    )
    keys.add_argument(
        "--key", metavar="KEY", help="the HMAC key as text (visible to `ps`; prefer --key-file)"
    )
    parser.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="with a key, accept a snapshot that carries no signature",
    )


def _info_parser(prog: str) -> _Parser:
    parser = _Parser(
        prog=f"{prog} info",
        description="Describe a snapshot: what failed, where, the traceback, versions, the "
        "capture report and the modules its pickles would import. Nothing is unpickled.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot file (*.tar.zst)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    _add_key_options(parser)
    return parser


def _list_parser(prog: str) -> _Parser:
    parser = _Parser(
        prog=f"{prog} list",
        description="One line per snapshot in DIR, newest first: time, size, task key, "
        "exception, path. Only manifests are read.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", metavar="DIR", help="a directory of snapshots")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see ``EXIT_CODES``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    prog = _prog()
    try:
        if args and args[0] == "info":
            return _info(_info_parser(prog).parse_args(args[1:]), out)
        if args and args[0] == "list":
            return _list(_list_parser(prog).parse_args(args[1:]), out, err)
        return _replay(_replay_parser(prog).parse_args(args), out, err)
    except SystemExit as exc:  # argparse's --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except _UsageError as exc:
        return _fail(err, f"{exc}; see `{prog} --help`", EXIT_USAGE)
    except DebuggerUnavailableError as exc:
        return _fail(err, str(exc), EXIT_NO_DEBUGGER)
    except (snapshot.SnapshotUnpickleError, NotReplayableError) as exc:
        return _fail(err, str(exc), EXIT_UNLOADABLE)
    except snapshot.SnapshotError as exc:
        return _fail(err, str(exc), EXIT_UNREADABLE)
    except KeyboardInterrupt:
        return _fail(err, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`| head`).  Point stdout at devnull
        # so the interpreter's final flush does not fail again (Python docs, signal).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _fail(err: TextIO, message: str, code: int) -> int:
    print(f"Error: {message}", file=err, flush=True)
    return code


def _say(stream: TextIO, text: str = "") -> None:
    print(text, file=stream, flush=True)


def _key(ns: argparse.Namespace) -> bytes | None:
    """The HMAC key: --key, --key-file, else the workers' own settings from the environment."""
    key, key_file = ns.key, ns.key_file
    if key is None and key_file is None:
        # The variables Dask maps to snapshot.key / snapshot.key-file on the workers.
        key = os.environ.get("DASK_SNAPSHOT__KEY") or None
        key_file = os.environ.get("DASK_SNAPSHOT__KEY_FILE") or None
    if key is not None:
        return str(key).encode("utf-8")
    if key_file is None:
        return None
    try:
        return snapshot.read_key_file(key_file)
    except snapshot.SnapshotKeyError as exc:
        raise _UsageError(str(exc)) from exc


def _open(ns: argparse.Namespace, err: TextIO, *, inspect: bool = False) -> snapshot.Snapshot:
    """Open the snapshot; ``inspect`` reads only its head (manifest, pickles,
    sources: not the data buffers) unless a key asks for the whole file to be
    verified, so that ``info`` costs the same for 1 KB and 1 GB."""
    reporter = ProgressReporter(os.path.basename(ns.snapshot), stream=err)
    key = _key(ns)
    try:
        return snapshot.open_snapshot(
            ns.snapshot,
            key=key,
            allow_unsigned=bool(getattr(ns, "allow_unsigned", False)),
            progress=reporter,
            head_only=inspect and key is None,
        )
    finally:
        reporter.finish()


# -- info and list -------------------------------------------------------------
def _info(ns: argparse.Namespace, out: TextIO) -> int:
    opened = _open(ns, sys.stderr, inspect=True)
    size = os.path.getsize(ns.snapshot)
    imports = opened.imports()
    # Read head only, the signature (the last member) is not reached: the
    # manifest's own claim is all there is, and it is reported as unchecked.
    signed = opened.signed or (opened.head_only and opened.manifest.get("signed") is True)
    if ns.json:
        document = info_dict(opened.manifest, ns.snapshot, size, imports)
        document["signature"] = {"signed": signed, "verified": opened.verified}
        out.write(json.dumps(document, indent=2, default=repr) + "\n")
    else:
        text = describe(opened.manifest, ns.snapshot, size, imports)
        if signed:
            state = "verified with the key given" if opened.verified else "not checked: no key"
            text = text.replace("  signed:  yes", f"  signed:  yes ({state})", 1)
        out.write(text)
    out.flush()
    return EXIT_OK


def _list(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    entries, skipped = scan_directory(ns.directory)
    for entry in entries:
        out.write(format_entry(entry) + "\n")
    out.flush()
    if not entries:
        _say(err, f"No snapshots in {ns.directory}.")
    if skipped:
        _say(err, f"Skipped {len(skipped)} file(s) that are not readable snapshots.")
    return EXIT_OK


# -- replay --------------------------------------------------------------------
def _replay(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    debugger: Debugger | None = None
    if not ns.no_debug:
        debugger = resolve_debugger(ns.debugger, port=ns.port)
        if debugger is None:
            _say(err, "PYTHONBREAKPOINT=0: running without a debugger.")
        elif ns.frames and debugger.post_mortem is None:
            raise _UsageError(f"--frames needs pdb, ipdb or pudb; {debugger.name} cannot open them")
        else:
            require_terminal(debugger)
    session = Replay(_open(ns, err))
    for line in summary(session.manifest, ns.snapshot):
        _say(out, line)
    for difference in session.version_differences():
        _say(err, f"Warning: version differs: {difference}")
    _find_dynamic_source(session, ns.source, err)
    for warning in session.install_sources():
        _say(err, f"Warning: {warning}")
    if ns.frames:
        return _frames(session, debugger, out, err)

    func = session.func
    _say(out, f"Re-running {_callable_name(func)} with the captured arguments...")
    if debugger is not None and debugger.attach is not None:
        debugger.attach(out)
    outcome = session.replay(debugger=debugger)
    exception = outcome.exception
    if exception is not None:
        traceback.print_exception(exception, file=err)
        err.flush()
    _say(out, outcome.describe(session.manifest.get("error") or {}))
    if exception is not None and debugger is not None and debugger.post_mortem is not None:
        tb = exception.__traceback__
        if tb is not None:
            _say(out, f"Post-mortem {debugger.name} at the line that raised{_help(debugger)}")
            _hint_missing_source(tb, err)
            _run_debugger(debugger, tb, exception)
            _end_prompt_line(out)
    if outcome.verdict is Verdict.NO_ERROR:
        return EXIT_OK
    return EXIT_RAISED


def _find_dynamic_source(session: Replay, given: list[str] | None, err: TextIO) -> None:
    for path in given or []:
        if not os.path.isfile(path):
            raise _UsageError(f"--source {path}: no such file")
    found = session.find_dynamic_source(given or python_files(os.getcwd()))
    if found is not None:
        _say(
            err,
            f"Source of the functions pickled by value: {found} (they are defined there at "
            "the captured lines)",
        )
    elif given:
        _say(
            err,
            f"Warning: {', '.join(given)} does not define the captured functions at their "
            "captured lines; showing no source for them",
        )


def _frames(session: Replay, debugger: Debugger | None, out: TextIO, err: TextIO) -> int:
    frames = session.frames
    if not frames:
        raise snapshot.SnapshotFormatError(
            f"{session.path}: the snapshot holds no captured frames; replay it without --frames",
            path=session.path,
        )
    if debugger is None or debugger.post_mortem is None:
        _say(out, "Frames captured at the raise (outermost first):")
        for frame in frames:
            _say(out, f'  File "{frame.filename}", line {frame.lineno}, in {frame.function}')
            line = linecache.getline(frame.filename, frame.lineno).strip()
            if line:
                _say(out, f"    {line}")
            for name, value in frame.locals.items():
                _say(out, f"      {name} = {_safe_repr(value)}")
        return EXIT_OK
    _say(
        out,
        f"Opening {debugger.name} on the {_plural(len(frames), 'frame')} captured at the raise; "
        f"nothing is re-run{_help(debugger)}",
    )
    tb = session.traceback()
    assert tb is not None
    _hint_missing_source(tb, err)
    _run_debugger(debugger, tb, session.frames_exception())
    _end_prompt_line(out)
    return EXIT_OK


def _hint_missing_source(tb: types.TracebackType, err: TextIO) -> None:
    """Say why the debugger will show no source for the raising frame, if it will not."""
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    if linecache.getline(filename, tb.tb_lineno):
        return
    if filename == "<dynamic-code>":
        why = (
            f"{tb.tb_frame.f_code.co_name} was pickled by value (defined in __main__ or a "
            "notebook), so its source did not travel with it; run from the script's directory "
            "or pass --source SCRIPT to see it"
        )
    else:
        why = f"the source of {filename} is neither on this machine nor in the snapshot"
    _say(err, f"Note: {why}; `p`, `pp` and `where` work, `ll` cannot show lines.")


def _run_debugger(
    debugger: Debugger, tb: types.TracebackType, exception: BaseException | None
) -> None:
    """Hand over to the debugger; its own crash becomes one of our errors, not a traceback."""
    assert debugger.post_mortem is not None
    try:
        debugger.post_mortem(tb, exception)
    except Exception as exc:
        raise DebuggerUnavailableError(
            f"{debugger.name} stopped with {type(exc).__name__}: {exc}; try `--debugger pdb`."
        ) from exc


def _end_prompt_line(out: TextIO) -> None:
    """With commands piped in, the debugger's last prompt has no newline: end it."""
    if sys.stdin is not None and not sys.stdin.isatty():
        _say(out)


def _help(debugger: Debugger) -> str:
    return f" ({_PDB_COMMANDS})." if debugger.name in ("pdb", "ipdb") else "."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _callable_name(func: object) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return f"{name}()" if name else _safe_repr(func)


def _safe_repr(value: object, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
