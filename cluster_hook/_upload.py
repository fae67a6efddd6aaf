"""Copying a written snapshot to ``snapshot.upload`` (an fsspec URL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def upload(written: Path, url: str, key: Any, warn: Callable[..., None]) -> str | None:
    """Copy ``written`` to ``url``; None (and one warning) if that fails.

    Done before the exception is reported (within snapshot.capture-timeout),
    so the copy exists when the client sees the failure, even if the worker
    then dies.
    """
    try:
        from fsspec.core import url_to_fs

        fs, target = url_to_fs(url)
        fs.makedirs(fs._parent(target), exist_ok=True)
        fs.put_file(str(written), target)
    except Exception as err:
        warn(
            "could not copy the snapshot of task %r to %s (%s: %s); it stays at %s",
            key,
            url,
            type(err).__name__,
            err,
            written,
        )
        return None
    return url
