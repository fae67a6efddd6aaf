"""The format's names and small types, shared by the writer and the reader.

Kept apart so that reading a snapshot imports none of the writing machinery
(cloudpickle, the compressor set-up, package metadata): ``python -m replay
info`` starts in a few tens of milliseconds.

This module is frozen: stored pickles name :class:`Placeholder` by its path
(:data:`FROZEN_NAMES`).
"""

from __future__ import annotations

from typing import Any

from ._record import Record

FORMAT_NAME = "dask-replay-snapshot"
FORMAT_VERSION = "1.1"
WRITER_VERSION = "0.1.0"
MANIFEST_MEMBER = "manifest.json"


def version_major(version: object) -> str | None:
    """``X`` of a format version ``X.Y`` (all of ``([0-9]+)\\.([0-9]+)``, matched with
    string methods: compiling the pattern costs ``info`` 0.35 M instructions), or None."""
    if not isinstance(version, str):
        return None
    major, dot, minor = version.partition(".")
    digits = (major + minor).isascii() and major.isdigit() and minor.isdigit()
    return major if dot and digits else None


def key_to_json(key: object) -> Any:
    """Dask keys are str, int or tuples of them; JSON gets lists for tuples."""
    if isinstance(key, str | int | float | bool) or key is None:
        return key
    if isinstance(key, tuple | list):
        return [key_to_json(k) for k in key]
    return repr(key)


def key_from_json(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(key_from_json(k) for k in key)
    return key


SIGNATURE_MEMBER = "signature.json"
MAC_ALGORITHM = "hmac-sha256"


def mac_member(mac: Any, name: str, size: int) -> None:
    """Feed one member's framing into the HMAC (the spec's signing input)."""
    encoded = name.encode("utf-8")
    mac.update(len(encoded).to_bytes(4, "big") + encoded + size.to_bytes(8, "big"))


def source_entry(n: int, text: str) -> tuple[bytes, dict[str, Any]]:
    """Source file number ``n`` as stored: its member's bytes and its record (spec 4.7).

    Writers and client copies number the files from 0, each new one after the last.
    """
    import hashlib  # OpenSSL: loaded by writers only, never by ``info``

    data = text.encode("utf-8", "surrogateescape")
    return data, {
        "member": f"sources/{n}.py",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


#: The names of this package that stored pickles call when they load (spec 5.3):
#: part of the format, so each stays importable under this very path, with the
#: signature and pickled state the spec gives, for as long as files of format 1.x
#: are read.  The writer emits no other name of ``snapshot`` (tests/snapshot/test_frozen_names.py).
FROZEN_NAMES: tuple[str, ...] = (
    "snapshot._format.Placeholder",
    "snapshot._rebuild.memoryview_from",
)

STORED = "stored"
PLACEHOLDER = "placeholder"
OMITTED = "omitted"
REDACTED_STATUS = "redacted"


class Placeholder(Record):
    """What a reader gets for a piece that was not stored.

    ``status`` is ``placeholder`` (failed to pickle), ``omitted`` (a size cap or
    a setting left it out) or ``redacted`` (its name looked secret).

    Frozen (:data:`FROZEN_NAMES`): stored pickles call it, ``Placeholder(type,
    repr, reason, status)``, for a live resource, and rebuild a captured one
    from its state, the tuple of its fields (a dict from writers before the
    class was a record: see ``_record._Record.__setstate__``).  Its fields keep
    their order.
    """

    type: str
    repr: str
    reason: str
    status: str = PLACEHOLDER

    def __repr__(self) -> str:
        return f"<{self.status} {self.type}: {self.reason}>"
