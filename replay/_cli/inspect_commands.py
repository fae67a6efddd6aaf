"""``python -m replay info SNAPSHOT`` and ``python -m replay list DIR``: nothing is unpickled.

Both read as little as they can: ``info`` the head of the file (unless a key
asks for the whole file to be verified), ``list`` each manifest.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, TextIO

import snapshot

from .._describe.display import info_dict, snapshot_text
from .._describe.summary import Signature
from .._fetch.progress import ProgressReporter
from .._fetch.remote import open_target, target_size
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_SOME_UNREADABLE, snapshot_key

if TYPE_CHECKING:
    import argparse

__all__ = ["info", "list_directory", "open_for_cli"]


def open_for_cli(
    ns: argparse.Namespace, err: TextIO, *, inspect: bool = False
) -> snapshot.Snapshot:
    """Open the snapshot the command line names (a path or a URL), with a progress line on ``err``.

    ``inspect`` reads only its head (manifest, pickles, sources: not the data
    buffers) unless a key asks for the whole file to be verified, so that
    ``info`` costs the same for 1 KB and 1 GB.
    """
    label = for_terminal(os.path.basename(ns.snapshot), one_line=True)
    reporter = ProgressReporter(label, stream=err)
    key = snapshot_key(ns)
    try:
        return open_target(
            ns.snapshot,
            key=key,
            allow_unsigned=bool(getattr(ns, "allow_unsigned", False)),
            progress=reporter,
            head_only=inspect and key is None,
        )
    finally:
        reporter.finish()


def info(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    opened = open_for_cli(ns, err, inspect=True)
    size = target_size(ns.snapshot)
    imports = opened.imports()
    # Read head only, the signature (the last member) is not reached: the
    # manifest's own claim is all there is, and it is reported as unchecked.
    signed = opened.signed or (opened.head_only and opened.model.signed is True)
    signature = Signature(signed=signed, verified=opened.verified)
    if ns.json:
        document = info_dict(opened.model, ns.snapshot, size, imports, signature)
        out.write(json.dumps(document, indent=2, default=repr) + "\n")
    else:
        text = snapshot_text(
            opened.model,
            ns.snapshot,
            size,
            imports,
            signature,
            opened.source,
            all_frames=bool(getattr(ns, "all_frames", False)),
        )
        out.write(text)
    out.flush()
    return EXIT_OK


def list_directory(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .listing import format_entry, format_unreadable, read_storms, scan_directory

    entries, unreadable = scan_directory(ns.directory)
    storms = read_storms(ns.directory) if entries else {}
    for entry in entries:
        out.write(format_entry(entry, storms) + "\n")
    for problem in unreadable:
        out.write(format_unreadable(problem) + "\n")
    out.flush()
    where = for_terminal(ns.directory, one_line=True)
    if not entries and not unreadable:
        print(f"No snapshots in {where}.", file=err, flush=True)
    if unreadable:
        print(
            f"{len(unreadable)} file(s) in {where} could not be read as snapshots.",
            file=err,
            flush=True,
        )
        return EXIT_SOME_UNREADABLE
    return EXIT_OK
