"""The hook's settings: Dask config under ``snapshot.``, defaults from snapshot's ``defaults.yaml``.

The defaults are merged into ``dask.config`` when ``cluster_hook`` is imported
(the way dask and distributed ship theirs), so ``DASK_SNAPSHOT__*`` variables
and YAML files override them as Dask users expect.  A worker reads them once,
when the plugin is set up, into the capture core's :class:`snapshot.CaptureSettings`
(plus ``enabled``); the memory line a capture must stay under comes from the
worker and ``distributed.worker.memory.terminate`` (:func:`memory_guard`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dask.config

from snapshot import (
    CONFIG_KEYS,
    CaptureSettings,
    MemoryGuard,
    SnapshotConfigError,
    config_defaults,
    default_snapshot_directory,
    setting,
    setting_overrides,
    settings_values,
)

#: Keys of the ``snapshot`` config section, in the order the docs list them.
KEYS = CONFIG_KEYS
#: A ``snapshot.*`` setting has a value the hook cannot use (snapshot's error).
ConfigError = SnapshotConfigError
#: ``$XDG_CACHE_HOME/dask-replay/snapshots``, else ``~/.cache/dask-replay/snapshots``.
default_directory = default_snapshot_directory

_registered: list[dict[str, Any]] = []


def register_defaults() -> None:
    """Merge snapshot's ``defaults.yaml`` into ``dask.config``'s defaults, once per process.

    Later calls only fill in keys missing from the live config (a test harness
    may have swapped ``dask.config.config`` for an older copy) without adding
    to ``dask.config.defaults`` again.
    """
    if _registered and any(d is _registered[0] for d in dask.config.defaults):
        dask.config.update(dask.config.config, _registered[0], priority="old")
        return
    defaults = config_defaults()
    dask.config.update_defaults(defaults)
    _registered[:] = [defaults]


@dataclass(frozen=True)
class Settings(CaptureSettings):
    """Resolved ``snapshot.*`` settings, as one worker uses them."""

    enabled: bool = True

    @classmethod
    def from_config(cls, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Read ``dask.config``'s ``snapshot`` section; ``overrides`` win over it.

        Override names may be kebab-case (``max-total-size``) or snake_case.
        Raises :class:`ConfigError` naming the key and the bad value.
        """
        register_defaults()  # a no-op if cluster_hook was imported; cheap anyway
        given = setting_overrides(overrides)

        def get(name: str) -> Any:
            return given[name] if name in given else dask.config.get(f"snapshot.{name}", None)

        return cls(
            enabled=setting("enabled", get("enabled")),
            **settings_values(get),
        )


def memory_guard(worker: Any) -> MemoryGuard:
    """The RSS line of a live worker: its memory limit, the nanny's terminate fraction."""
    manager = getattr(worker, "memory_manager", None)
    limit = getattr(manager, "memory_limit", None)
    terminate = dask.config.get("distributed.worker.memory.terminate", 0.95)
    return MemoryGuard(
        limit=int(limit) if isinstance(limit, int | float) and limit > 0 else None,
        terminate=float(terminate) if isinstance(terminate, int | float) and terminate else None,
        owner="the worker",
        setting="distributed.worker.memory.terminate",
    )
