"""The snapshot a failure's note names: the one reading of it for every benchmark.

A capture adds ``dask-replay: snapshot written to <host>:<path>`` to the
exception (``snapshot/_capture/outcome.py``), possibly with further lines
(``copied to ...``, a stopped capture); the host is this machine here.
"""

from __future__ import annotations

from pathlib import Path

NOTE_PREFIX = "dask-replay: snapshot written to "


def snapshot_paths(exc: BaseException | None) -> list[Path]:
    """Every snapshot path the exception's notes name, in order."""
    out = []
    for note in getattr(exc, "__notes__", None) or []:
        for line in str(note).splitlines():
            if line.startswith(NOTE_PREFIX):
                out.append(Path(line[len(NOTE_PREFIX) :].split(":", 1)[1]))
    return out


def snapshot_path(exc: BaseException) -> Path:
    """The snapshot the notes name; RuntimeError, with the notes, when there is none."""
    paths = snapshot_paths(exc)
    if not paths:
        raise RuntimeError(f"no snapshot was written: {getattr(exc, '__notes__', [])}") from exc
    return paths[0]
