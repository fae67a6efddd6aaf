"""``python -m replay html SNAPSHOT [-o FILE]``: the snapshot's page, one self-contained HTML
file (``snapshot.render_html``), readable offline; nothing is unpickled.

Without ``-o`` the page is written to the current directory, named after the
snapshot (``NAME.tar.zst`` gives ``NAME.html``): the snapshot's own directory
may be a worker's, or read-only, or a URL.  ``-o -`` writes it to stdout.  An
existing file is not overwritten without ``--force`` (exit status 2).
"""

from __future__ import annotations

import argparse
import os
import stat
from typing import TextIO

import snapshot

from .._terminal import for_terminal
from .args import EXIT_OK, UsageError, add_key_options, make_parser
from .inspect_commands import open_for_cli

__all__ = ["default_output", "html", "html_parser"]

_SUFFIXES = (".tar.zst", ".zst", ".tar")


def html_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(
        prog=f"{prog} html",
        description="Write the snapshot's page: one self-contained HTML file that loads "
        "nothing and needs no script (the error and its chain, the frames innermost first "
        "with their verified source and locals, the call, the capture report, a death, the "
        "versions, the commands to replay it). Nothing is unpickled.",
    )
    parser.add_argument(
        "snapshot", metavar="SNAPSHOT", help="a snapshot file, or an fsspec URL of one"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="where to write the page (`-` for stdout; default: NAME.html in the current "
        "directory, NAME being the snapshot's file name without .tar.zst)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite the page's file if it exists"
    )
    add_key_options(parser)
    return parser


def default_output(snapshot_name: str) -> str:
    """``NAME.html`` in the current directory for a snapshot ``.../NAME.tar.zst``."""
    base = os.path.basename(snapshot_name.rstrip("/")) or "snapshot"
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    return base + ".html"


def html(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # The page reads the manifest and the sources only: no pickle is held.
    opened = open_for_cli(ns, err, inspect=True, sources_only=True)
    page = snapshot.render_html(opened, name=ns.snapshot)
    if ns.output == "-":
        out.write(page)
        out.flush()
        return EXIT_OK
    target = ns.output if ns.output is not None else default_output(ns.snapshot)
    try:
        # "x": refused if it exists, in the same call that creates it (no
        # check-then-write); a device or a pipe (-o /dev/null) is no page to keep.
        mode = "w" if ns.force or _not_a_file(target) else "x"
        with open(target, mode, encoding="utf-8") as fh:
            fh.write(page)
    except FileExistsError as exc:
        raise UsageError(
            f"{target!r} exists; remove it, give another -o FILE, or --force to overwrite it"
        ) from exc
    except OSError as exc:
        raise UsageError(
            f"cannot write the page to {target!r}: {exc.strerror or exc}; give another "
            "-o FILE, or -o - for stdout"
        ) from exc
    shown = for_terminal(target, one_line=True)
    print(f"Wrote {shown}; open it in a browser (it loads nothing, runs no script).", file=out)
    out.flush()
    return EXIT_OK


def _not_a_file(target: str) -> bool:
    try:
        return not stat.S_ISREG(os.stat(target).st_mode)
    except OSError:
        return False
