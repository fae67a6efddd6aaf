"""Size limits for writing and for reading untrusted snapshots."""

from __future__ import annotations

from ._record import Record

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


class WriteLimits(Record):
    """Caps applied while capturing; what a cap leaves out is listed in the manifest.

    ``max_piece_bytes`` bounds one pickled piece (in-band bytes plus its
    out-of-band buffers); ``max_total_bytes`` bounds all pieces together.
    """

    max_piece_bytes: int = 1 * GiB
    max_total_bytes: int = 4 * GiB
    max_source_bytes: int = 2 * MiB
    max_repr_chars: int = 200


class ReadLimits(Record):
    """Limits a reader enforces on untrusted input (see specs/snapshot-format.md)."""

    max_total_bytes: int = 8 * GiB
    max_member_bytes: int = 4 * GiB
    max_members: int = 100_000
    max_manifest_bytes: int = 64 * MiB
    # Inspection (a head-only open, Snapshot.imports): bounded whatever the file holds.
    max_inspect_bytes: int = 64 * MiB
    max_scan_opcodes: int = 500_000
