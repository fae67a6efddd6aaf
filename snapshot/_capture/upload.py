"""Copying a written snapshot to ``upload`` (an fsspec URL): failures' and deaths' alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def upload_snapshot(written: Path, base_url: str, warn: Callable[..., None]) -> str | None:
    """Copy ``written`` to ``base_url/<its name>``; its URL, or None (and one warning).

    Done before the failure is reported (within the capture's time budget),
    so the copy exists when the caller sees the failure, even if the process
    then dies.
    """
    url = f"{base_url.rstrip('/')}/{written.name}"
    try:
        from fsspec.core import url_to_fs

        fs, target = url_to_fs(url)
        fs.makedirs(fs._parent(target), exist_ok=True)
        fs.put_file(str(written), target)
    except Exception as err:
        warn(
            "could not copy the snapshot %s to %s (%s: %s); it stays where it is",
            written,
            url,
            type(err).__name__,
            err,
        )
        return None
    return url
