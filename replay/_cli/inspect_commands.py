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
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_SOME_UNREADABLE, snapshot_key

if TYPE_CHECKING:
    import argparse

__all__ = ["QUICK_INSPECT_BYTES", "QUICK_SCAN_OPCODES", "info", "list_directory", "open_for_cli"]

#: ``info``'s quick read: the pickles and sources it reads after the manifest, and the
#: opcodes its import scan walks (smallest piece first).  A snapshot of small values
#: is read and scanned whole; of a large in-band one (millions of dicts, a DataFrame of
#: strings) only the head, and the list says so.  ``info --deep`` reads and scans as
#: far as ``snapshot.ReadLimits`` allow (64 MiB, 500,000 opcodes): about 0.5 s more on
#: such a file.  A small snapshot's pieces (a call, an exception, a few locals) take
#: about 200 opcodes.  Specs: snapshot-format.md, section 11.
QUICK_INSPECT_BYTES = 2**19
QUICK_SCAN_OPCODES = 2_000


def open_for_cli(
    ns: argparse.Namespace,
    err: TextIO,
    *,
    inspect: bool = False,
    limits: snapshot.ReadLimits | None = None,
    sources_only: bool = False,
) -> snapshot.Snapshot:
    """Open the snapshot the command line names (a path or a URL), with a progress line on ``err``.

    ``inspect`` reads only its head (manifest, pickles, sources: not the data
    buffers) unless a key asks for the whole file to be verified, so that
    ``info`` costs the same for 1 KB and 1 GB.  That read of a local file is
    bounded and quick: it has no progress line (nor the URL machinery's imports).
    ``sources_only`` (with ``inspect``, for a page built from the manifest and the
    sources: ``html``) holds no piece's pickle; a key's whole read holds them all.
    """
    key = snapshot_key(ns)
    head = inspect and key is None
    only_sources = sources_only and head
    if head and _local(ns.snapshot):
        return snapshot.open_snapshot(
            ns.snapshot, limits=limits, head_only=True, sources_only=only_sources
        )
    from .._fetch.progress import ProgressReporter
    from .._fetch.remote import open_target

    label = for_terminal(os.path.basename(ns.snapshot), one_line=True)
    reporter = ProgressReporter(label, stream=err)
    try:
        return open_target(
            ns.snapshot,
            key=key,
            allow_unsigned=bool(getattr(ns, "allow_unsigned", False)),
            limits=limits,
            progress=reporter,
            head_only=head,
            sources_only=only_sources,
        )
    finally:
        reporter.finish()


def info(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    deep = bool(getattr(ns, "deep", False))
    limits = None
    if not deep:
        limits = snapshot.ReadLimits(
            max_inspect_bytes=QUICK_INSPECT_BYTES, max_scan_opcodes=QUICK_SCAN_OPCODES
        )
    opened = open_for_cli(ns, err, inspect=True, limits=limits)
    size = _size(ns.snapshot)
    imports = opened.imports()
    if not deep and imports.incomplete:
        imports.incomplete = {
            pid: f"{why}; `info --deep` reads and scans further" if _stopped_early(why) else why
            for pid, why in imports.incomplete.items()
        }
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


def _local(target: str) -> bool:
    """A path, not a URL (``scheme://``, ``file://`` included: see ``replay._fetch.remote``)."""
    return "://" not in target


def _size(target: str) -> int | None:
    if _local(target):
        try:
            return os.path.getsize(target)
        except OSError:  # only a figure to show
            return None
    from .._fetch.remote import target_size

    return target_size(target)


def _stopped_early(why: str) -> bool:
    """Whether the quick read or scan (not the file itself) left a piece's list short."""
    return "ReadLimits.max_scan_opcodes" in why or "ReadLimits.max_inspect_bytes" in why


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
