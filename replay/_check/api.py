"""``replay.check(paths)``: the command's work, for Python callers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .runner import CheckOptions, check_paths
from .verdicts import CheckResult

__all__ = ["check"]


def check(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    key: bytes | None = None,
    allow_unsigned: bool = False,
    sources: Sequence[str] = (),
    timeout: float | None = None,
    memory_limit: int | str | None = "worker",
    jobs: int = 1,
) -> list[CheckResult]:
    """Check the snapshots ``paths`` name (files, directories, URLs), as ``python -m replay
    check`` does: each in a process of its own, ``jobs`` at a time.

    Raises :class:`snapshot.SnapshotNotFoundError` for a path that does not exist.
    """
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    options = CheckOptions(
        key=key,
        allow_unsigned=allow_unsigned,
        sources=tuple(sources),
        timeout=timeout,
        memory_limit=memory_limit,
    )
    return check_paths([os.fspath(p) for p in given], options, jobs=jobs)
