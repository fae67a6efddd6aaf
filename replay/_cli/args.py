"""The command line's grammar: one argparse parser per form, the exit codes, the key.

``python -m replay`` has six forms, picked by the first word (see
``replay._cli``); argparse's own exits become :class:`UsageError`, so that
every user error leaves through one place.

argparse (with the gettext and locale it imports, and the patterns each parser
compiles) costs a tenth of what ``info`` may take in all.  ``info`` and ``list``
command lines made only of their own options, spelled out, are therefore read
by :func:`quick_info_args` / :func:`quick_list_args`; anything else (``--help``,
an abbreviation, ``--key=K``, an error) goes to argparse, and a test keeps the
two readings equal.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import argparse

__all__ = [
    "EXIT_CODES",
    "UsageError",
    "add_key_options",
    "info_parser",
    "list_parser",
    "make_parser",
    "prog",
    "quick_info_args",
    "quick_list_args",
    "replay_parser",
    "snapshot_key",
]

EXIT_OK = 0
EXIT_RAISED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_UNLOADABLE = 4
EXIT_NO_DEBUGGER = 5
EXIT_SOME_UNREADABLE = 6
EXIT_REFUSED = 7
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "success: info or list printed, html written, the replayed call did not raise, "
    "or a --frames session ended; check: every snapshot is fixed",
    EXIT_RAISED: "the replayed call raised, with or without a debugger (as python would); "
    "check: a snapshot still fails, or fails differently (changed)",
    EXIT_USAGE: "usage error: bad or conflicting options; html: the page cannot be written "
    "to -o FILE, or the file exists (--force overwrites it)",
    EXIT_UNREADABLE: "the snapshot cannot be read: no such file (or object, bucket, prefix), "
    "not a snapshot, truncated, newer format, over a read limit, a bad signature, or remote "
    "storage that cannot be reached (no network, no credentials, its package not installed)",
    EXIT_UNLOADABLE: "the call cannot be re-run here: a module it needs is missing, a piece "
    "fails to unpickle, or the call was not captured (try --frames); check: none fails, but "
    "a snapshot cannot run here (the table says why)",
    EXIT_NO_DEBUGGER: "the requested debugger is not installed or cannot be used",
    EXIT_SOME_UNREADABLE: "list: some files in DIR could not be read as snapshots "
    "(each is listed with the reason; the others are listed as usual)",
    EXIT_REFUSED: "export-test: the inputs are too large for a test fixture (shrink them "
    "first, or --force), or the function cannot be imported by a test; shrink: the call "
    "does not fail here as on the worker, or no exception was captured (the reason is given)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C) while loading",
}

_EPILOG = "exit status:\n" + "\n".join(
    f"  {code:<4}{text}" for code, text in sorted(EXIT_CODES.items())
)


_SNAPSHOT_HELP = (
    "the snapshot: a file (*.tar.zst) or an fsspec URL (s3://bucket/prefix/name.tar.zst)"
)


class UsageError(Exception):
    """A bad command line; argparse's own exit is turned into this."""


@functools.cache
def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(message)

    return Parser


def make_parser(**kwargs: Any) -> argparse.ArgumentParser:
    import argparse

    return _parser_class()(
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs
    )


def quick_info_args(args: Sequence[str]) -> argparse.Namespace | None:
    """``info``'s arguments without argparse, when they are plain; else ``None``."""
    found: dict[str, Any] = {
        "snapshot": None,
        "json": False,
        "key_file": None,
        "key": None,
        "allow_unsigned": False,
        "all_frames": False,
        "deep": False,
    }
    tokens = iter(args)
    for token in tokens:
        if token in ("--json", "--allow-unsigned", "--all-frames", "--deep"):
            found[token[2:].replace("-", "_")] = True
        elif token in ("--key", "--key-file"):
            value = next(tokens, None)
            if value is None or value.startswith("-"):
                return None
            found[token[2:].replace("-", "_")] = value
        elif token.startswith("-") or found["snapshot"] is not None:
            return None
        else:
            found["snapshot"] = token
    if found["snapshot"] is None or (found["key"] is not None and found["key_file"] is not None):
        return None
    return types.SimpleNamespace(**found)  # type: ignore[return-value]


def quick_replay_args(args: Sequence[str]) -> argparse.Namespace | None:
    """A replay's arguments without argparse (whose parser and help formatter cost a
    replay some 20 M instructions of its start) when they are one SNAPSHOT and flags
    (``--no-debug``, ``--frames``, ``--allow-unsigned``); else ``None``."""
    found: dict[str, Any] = {
        "snapshot": None,
        "no_debug": False,
        "frames": False,
        "debugger": None,
        "source": None,
        "port": 5678,
        "memory_limit": None,
        "key_file": None,
        "key": None,
        "allow_unsigned": False,
    }
    for token in args:
        if token in ("--no-debug", "--frames", "--allow-unsigned"):
            found[token[2:].replace("-", "_")] = True
        elif token.startswith("-") or found["snapshot"] is not None:
            return None
        else:
            found["snapshot"] = token
    if found["snapshot"] is None:
        return None
    return types.SimpleNamespace(**found)  # type: ignore[return-value]


def quick_list_args(args: Sequence[str]) -> argparse.Namespace | None:
    """``list``'s argument without argparse, when it is plain; else ``None``."""
    if len(args) != 1 or args[0].startswith("-"):
        return None
    return types.SimpleNamespace(directory=args[0])  # type: ignore[return-value]


def prog() -> str:
    """The name the user typed: ``dask-replay``, or ``python -m replay``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("", "__main__.py", "-c", "-m"):
        return "python -m replay"
    return name


def replay_parser(prog: str) -> argparse.ArgumentParser:
    from .._run.choose import DEBUGGERS  # not for info and list

    pad = " " * (7 + len(prog))
    parser = make_parser(
        prog=prog,
        usage=(
            f"{prog} SNAPSHOT [--no-debug] [--frames] [--debugger NAME] [--port N]\n"
            f"{pad} [--source FILE] [--key-file FILE | --key KEY]\n"
            f"{pad} [--allow-unsigned] [--memory-limit SIZE]\n"
            f"       {prog} info SNAPSHOT [--json] [--all-frames] [--key-file FILE | --key KEY]\n"
            f"       {prog} list DIR\n"
            f"       {prog} check PATH... [--json] [--timeout S] [-j N] [--source FILE]\n"
            f"       {prog} export-test SNAPSHOT -o tests/test_NAME.py [--source FILE] [--force]\n"
            f"       {prog} shrink SNAPSHOT -o SMALL.tar.zst [--budget S] [--timeout S]\n"
            f"       {prog} html SNAPSHOT [-o FILE] [--force]"
        ),
        description=(
            "Re-run a failed Dask task from its snapshot and open a debugger where it raised. "
            "`info SNAPSHOT` describes a snapshot without unpickling anything (do this first "
            "with a file you did not write: unpickling runs code); `list DIR` lists snapshots."
        ),
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help=_SNAPSHOT_HELP)
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
        help="a script, notebook (.ipynb) or nbconvert export that defines functions pickled "
        "by value (in __main__ or a notebook cell), whose source cloudpickle does not ship; "
        "used only where it compiles to the code that ran; the notebooks and *.py files of "
        "the current directory are searched too (may be repeated)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=5678,
        help="debugpy: the port to listen on for the IDE (default 5678; 0 picks a free one)",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        default=None,
        help="a worker death: re-run under this data limit (300MB, 1GiB, none) instead of "
        "the dead worker's memory limit",
    )
    add_key_options(parser)
    return parser


def add_key_options(parser: argparse.ArgumentParser) -> None:
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


def info_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} info",
        description="Describe a snapshot: what failed, where, the traceback, versions, the "
        "capture report and the modules its pickles would import. Nothing is unpickled.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help=_SNAPSHOT_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--all-frames",
        action="store_true",
        help="show every frame's locals; by default frames of installed libraries and the "
        "standard library get one line each (--json always has everything)",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help="read and scan the pickles for the modules they would import as far as the "
        "reader's limits allow (64 MiB, 500,000 opcodes); by default info reads 512 KiB of "
        "them and scans 2,000 opcodes, smallest piece first, and says where it stopped",
    )
    add_key_options(parser)
    return parser


def list_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} list",
        description="One line per snapshot in DIR, newest first: time, size, task key, "
        "exception, path. Only manifests are read; a file that cannot be read is listed "
        "with the reason, and the exit status is 6.",
    )
    parser.add_argument(
        "directory",
        metavar="DIR",
        help="a directory of snapshots, or a URL prefix (s3://bucket/prefix/: its *.tar.zst "
        "objects)",
    )
    return parser


def memory_limit(text: str | None) -> int | str | None:
    """``--memory-limit``: bytes, ``none``, or (not given) the worker's recorded limit."""
    from .._run.conditions import parse_memory_limit  # only for the commands that re-run

    if text is None:
        return "worker"
    try:
        return parse_memory_limit(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def snapshot_key(ns: argparse.Namespace) -> bytes | None:
    """The HMAC key: --key, --key-file, else the workers' own settings from the environment."""
    import snapshot

    key, key_file = ns.key, ns.key_file
    if key is None and key_file is None:
        # The variables Dask maps to snapshot.key / snapshot.key-file on the workers.
        key = os.environ.get("DASK_SNAPSHOT__KEY") or None
        key_file = os.environ.get("DASK_SNAPSHOT__KEY_FILE") or None
    if key is not None:
        return str(key).encode("utf-8", "surrogateescape")
    if key_file is None:
        return None
    try:
        return snapshot.read_key_file(key_file)
    except snapshot.SnapshotKeyError as exc:
        raise UsageError(str(exc)) from exc
