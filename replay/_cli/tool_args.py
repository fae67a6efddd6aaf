"""The parsers of the commands that go from a failure to a fix and a test: ``check``
(``export-test`` and ``shrink`` beside it), in the style of ``replay._cli.args``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .args import add_key_options, make_parser

if TYPE_CHECKING:
    import argparse

__all__ = ["check_parser", "export_parser", "shrink_parser"]


def check_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} check",
        description="Re-run each snapshot's call with this machine's code, each in a process "
        "of its own, and say per snapshot: fails (the same exception type, raised in the "
        "same function), fixed (the call returns; a death: it completes under the worker's "
        "conditions), changed (another exception, raised elsewhere, a crash or a hang), or "
        "cannot run (and why). Unpickling runs code: the signature rules of the replay apply.",
    )
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="a snapshot, a directory (its *.zst files, recursively) or an fsspec URL",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="seconds one snapshot may take; past it, its process is killed (changed)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="check N snapshots at a time (default 1)",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        default=None,
        help="a worker death: re-run under this data limit (300MB, 1GiB, none) instead of "
        "the dead worker's memory limit",
    )
    parser.add_argument(
        "--source",
        metavar="FILE",
        action="append",
        default=None,
        help="a script, notebook (.ipynb) or nbconvert export: a function pickled by value "
        "(__main__, a notebook cell) runs as it defines it now, by qualified name (may be "
        "repeated; the last definition wins)",
    )
    add_key_options(parser)
    return parser


def export_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} export-test",
        description="Write the snapshot's failing call as a pytest file and its inputs beside "
        "it (a pickle), marked as the known failure it is: xfail(strict=True, raises=...), "
        "so it passes today and fails the day the bug is fixed. Unpickling runs code: the "
        "signature rules of the replay apply.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot: a file or a URL")
    parser.add_argument(
        "-o", "--output", required=True, metavar="tests/test_NAME.py", help="the test to write"
    )
    parser.add_argument(
        "--source",
        metavar="FILE",
        action="append",
        default=None,
        help="a script defining a function pickled by value (__main__, a notebook exported "
        "with nbconvert): the test loads it from there",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write inputs over 1 MiB, and overwrite the files if they exist",
    )
    add_key_options(parser)
    return parser


def shrink_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} shrink",
        description="Minimize the call's inputs while the failure stays the same (the same "
        "exception type at the same line of the same function): rows of DataFrames and "
        "Series, first-axis slices of numpy arrays, items of lists, tuples, dicts and sets, "
        "lines then characters of str and bytes, recursively. Delta debugging; each attempt "
        "runs in a forked process. Writes a new snapshot; the original is never modified. "
        "Unpickling runs code: the signature rules of the replay apply.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot: a file or a URL")
    parser.add_argument(
        "-o", "--output", required=True, metavar="SMALL.tar.zst", help="the snapshot to write"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds the whole search may take (default 600); then the smallest found is kept",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds one attempt may take (default 60); past them it counts as not failing",
    )
    parser.add_argument("--force", action="store_true", help="overwrite SMALL.tar.zst")
    add_key_options(parser)
    return parser
