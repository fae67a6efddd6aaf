"""The command line: ``python -m replay`` (also installed as ``dask-replay``).

Seven forms share one entry point; the first word picks the form, because a
positional SNAPSHOT cannot live beside argparse subcommands::

    python -m replay SNAPSHOT [options]   re-run the failing call under a debugger
    python -m replay info SNAPSHOT        describe it; never unpickles
    python -m replay list DIR             one line per snapshot, newest first
    python -m replay check PATH...        re-run each against today's code: fixed or not
    python -m replay export-test SNAPSHOT -o tests/test_NAME.py   the failure as a test
    python -m replay shrink SNAPSHOT -o SMALL.tar.zst   only the inputs that fail
    python -m replay html SNAPSHOT [-o FILE] [--force]   its page: one self-contained HTML file

A file literally named ``info``, ``list``, ``check``, ``export-test``, ``shrink`` or ``html`` is replayed as ``./info``.  Errors a
user can cause print ``Error: ...`` on stderr and exit with a status from
``EXIT_CODES``; they never print a traceback of ours.  The commands are thin:
``replay._cli.inspect_commands`` (info, list) and ``replay._cli.replay_command`` call the
same functions as the Python API.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

import snapshot

from .._terminal import for_terminal, tolerant
from .args import (
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_NO_DEBUGGER,
    EXIT_OK,
    EXIT_UNLOADABLE,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    UsageError,
    info_parser,
    list_parser,
    prog,
    quick_info_args,
    quick_list_args,
    quick_replay_args,
    replay_parser,
)

__all__ = ["EXIT_CODES", "main"]


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (see ``EXIT_CODES``).

    Output goes to ``out`` and ``err`` (default: ``sys.stdout`` and
    ``sys.stderr``, made to backslash-escape what their encoding cannot hold).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    out = tolerant(sys.stdout if out is None else out)
    err = tolerant(sys.stderr if err is None else err)
    name = prog()
    try:
        if args and args[0] == "info":
            from .inspect_commands import info

            ns = quick_info_args(args[1:]) or info_parser(name).parse_args(args[1:])
            return info(ns, out, err)
        if args and args[0] == "list":
            from .inspect_commands import list_directory

            ns = quick_list_args(args[1:]) or list_parser(name).parse_args(args[1:])
            return list_directory(ns, out, err)
        if args and args[0] == "check":
            from .check_command import check
            from .tool_args import check_parser

            return check(check_parser(name).parse_args(args[1:]), out, err)
        if args and args[0] == "export-test":
            from .export_command import export
            from .tool_args import export_parser

            return export(export_parser(name).parse_args(args[1:]), out, err)
        if args and args[0] == "shrink":
            from .shrink_command import shrink
            from .tool_args import shrink_parser

            return shrink(shrink_parser(name).parse_args(args[1:]), out, err)
        if args and args[0] == "html":
            from .html_command import html, html_parser

            return html(html_parser(name).parse_args(args[1:]), out, err)
        from .replay_command import replay

        return replay(quick_replay_args(args) or replay_parser(name).parse_args(args), out, err)
    except SystemExit as exc:  # argparse's --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except UsageError as exc:
        command = f"{name} {args[0]}" if args and args[0] in _COMMANDS else name
        return _fail(err, f"{exc}; see `{command} --help`", EXIT_USAGE)
    except snapshot.SnapshotError as exc:
        return _fail(err, str(exc), _status(exc))
    except KeyboardInterrupt:
        return _fail(err, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`| head`).  Point stdout at devnull
        # so the interpreter's final flush does not fail again (Python docs, signal).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (in-process callers)
            pass
        return EXIT_OK


_COMMANDS = ("info", "list", "check", "export-test", "shrink", "html")


def _status(exc: snapshot.SnapshotError) -> int:
    """The exit status for one of our errors (imported here: ``info`` never needs these)."""
    from .._errors import DebuggerUnavailableError, NotReplayableError

    if isinstance(exc, DebuggerUnavailableError):
        return EXIT_NO_DEBUGGER
    if isinstance(exc, snapshot.SnapshotUnpickleError | NotReplayableError):
        return EXIT_UNLOADABLE
    return EXIT_UNREADABLE


def _fail(err: TextIO, message: str, code: int) -> int:
    # Messages name files and quote values from them: one escaped line.
    print(f"Error: {for_terminal(message, one_line=True)}", file=err, flush=True)
    return code
