"""What one capture may do: a plain frozen dataclass, whoever reads it from where.

The Dask hook fills it from ``dask.config``'s ``snapshot.*`` section
(``cluster_hook.Settings.from_config``); plain Python builds it directly.  The
field names are the config keys in snake_case.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_snapshot_directory() -> Path:
    """``$XDG_CACHE_HOME/dask-replay/snapshots``, else ``~/.cache/dask-replay/snapshots``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "dask-replay" / "snapshots"


@dataclass(frozen=True)
class CaptureSettings:
    """Where snapshots go and what a capture may take (bytes, seconds, counts)."""

    directory: Path = field(default_factory=default_snapshot_directory)
    capture_inputs: bool = True
    capture_locals: bool = True
    max_object_size: int = 2**30
    max_total_size: int = 4 * 2**30
    max_per_fingerprint: int = 3
    max_directory_size: int = 20 * 2**30
    capture_timeout: float = 60.0
    capture_stall_timeout: float = 5.0
    redact: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = ()
    key: bytes | None = field(default=None, repr=False)
    upload: str | None = None  # an fsspec URL each snapshot is copied to

    def __post_init__(self) -> None:
        if not isinstance(self.directory, Path):  # a str or another os.PathLike
            object.__setattr__(self, "directory", Path(self.directory))
