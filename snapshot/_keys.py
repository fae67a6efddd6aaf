"""Reading an HMAC key from a file, the one way writers and readers agree on."""

from __future__ import annotations

import os

from ._errors import SnapshotKeyError


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """The key is the file's bytes without surrounding whitespace (a trailing
    newline from ``echo`` or an editor must not change the key)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read().strip()
    except OSError as exc:
        raise SnapshotKeyError(
            f"cannot read the key file {name}: {exc.strerror or exc}", path=name
        ) from exc
    if not data:
        raise SnapshotKeyError(f"the key file {name} is empty", path=name)
    return data
