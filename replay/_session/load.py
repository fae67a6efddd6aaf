"""``replay.load(path)``: a snapshot opened for replay, from a path, a URL or a failed future.

Loading reads and verifies the snapshot but unpickles nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import snapshot

from .._fetch.remote import open_target
from .replay import Replay

if TYPE_CHECKING:
    from .._fetch.target import FutureLike

__all__ = ["Progress", "load"]


Progress = Callable[[int, int | None], None]


def load(
    path: str | os.PathLike[str] | BaseException | FutureLike,
    *,
    key: bytes | None = None,
    allow_unsigned: bool = False,
    limits: snapshot.ReadLimits | None = None,
    progress: Progress | None = None,
) -> Replay:
    """Open a snapshot for replay; unpickles nothing yet.

    ``path`` is the snapshot's path, an fsspec URL (``s3://bucket/prefix/
    name.tar.zst``: copied to a temporary file, then read as a file), a failed
    dask ``Future``, or the exception it raised: the hook's note
    (``dask-replay: snapshot written to HOST:PATH``) names the file, read here
    if it is on this machine, else from the client's copy or the note's
    ``dask-replay: copied to URL`` (``snapshot.upload``).  ``key``
    checks the HMAC signature first; ``limits`` raises the read limits for a
    genuine snapshot larger than the defaults; ``progress(done, total)`` is
    called as the file is read.  Raises a :class:`snapshot.SnapshotError`
    subclass when the file is missing (or elsewhere), damaged, of a newer
    format, over a limit, or fails its signature check.
    """
    from .._fetch.target import snapshot_path  # a future's file: not for a path's replay

    opened = open_target(
        snapshot_path(path),
        key=key,
        allow_unsigned=allow_unsigned,
        limits=limits,
        progress=progress,
    )
    return Replay(opened)
