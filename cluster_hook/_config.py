"""The hook's settings: Dask config under ``snapshot.``, defaults in ``snapshot.yaml``.

The defaults are merged into ``dask.config`` when ``cluster_hook`` is imported
(the way dask and distributed ship theirs), so ``DASK_SNAPSHOT__*`` variables
and YAML files override them as Dask users expect.  A worker reads them once,
when the plugin is set up, into the capture core's :class:`snapshot.CaptureSettings`
(plus ``enabled``); the memory line a capture must stay under comes from the
worker and ``distributed.worker.memory.terminate`` (:func:`memory_guard`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.config
import yaml
from dask.utils import parse_bytes, parse_timedelta

import snapshot
from snapshot import CaptureSettings, MemoryGuard
from snapshot import default_snapshot_directory as default_directory

_DEFAULTS_FILE = Path(__file__).with_name("snapshot.yaml")

#: Keys of the ``snapshot`` config section, in the order the docs list them.
KEYS: tuple[str, ...] = (
    "enabled",
    "directory",
    "capture-inputs",
    "capture-locals",
    "max-object-size",
    "max-total-size",
    "max-per-fingerprint",
    "max-directory-size",
    "capture-timeout",
    "capture-stall-timeout",
    "redact",
    "env-allow",
    "key",
    "key-file",
    "upload",
    "client-directory",  # these two are read by the client's part (cluster_hook._client.copies)
    "client-max-size",
)


_registered: list[dict[str, Any]] = []


def register_defaults() -> None:
    """Merge ``snapshot.yaml`` into ``dask.config``'s defaults, once per process.

    Later calls only fill in keys missing from the live config (a test harness
    may have swapped ``dask.config.config`` for an older copy) without adding
    to ``dask.config.defaults`` again.
    """
    if _registered and any(d is _registered[0] for d in dask.config.defaults):
        dask.config.update(dask.config.config, _registered[0], priority="old")
        return
    with _DEFAULTS_FILE.open(encoding="utf-8") as f:
        defaults = yaml.safe_load(f)
    dask.config.update_defaults(defaults)
    _registered[:] = [defaults]


class ConfigError(ValueError):
    """A ``snapshot.*`` setting has a value the hook cannot use."""


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
        given = {str(k).replace("_", "-"): v for k, v in (overrides or {}).items()}
        unknown = sorted(set(given) - set(KEYS))
        if unknown:
            raise ConfigError(f"unknown snapshot setting(s) {unknown!r}; expected some of {KEYS!r}")

        def get(name: str) -> Any:
            return given[name] if name in given else dask.config.get(f"snapshot.{name}", None)

        directory = get("directory")
        key = get("key")
        key_file = get("key-file")
        return cls(
            enabled=_bool("enabled", get("enabled")),
            directory=path_value(directory) if directory else default_directory(),
            capture_inputs=_bool("capture-inputs", get("capture-inputs")),
            capture_locals=_bool("capture-locals", get("capture-locals")),
            max_object_size=size_value("max-object-size", get("max-object-size")),
            max_total_size=size_value("max-total-size", get("max-total-size")),
            max_per_fingerprint=_count("max-per-fingerprint", get("max-per-fingerprint")),
            max_directory_size=size_value("max-directory-size", get("max-directory-size")),
            capture_timeout=_seconds("capture-timeout", get("capture-timeout")),
            capture_stall_timeout=_seconds("capture-stall-timeout", get("capture-stall-timeout")),
            redact=_strings("redact", get("redact")),
            env_allow=_strings("env-allow", get("env-allow")),
            key=_key(key, key_file),
            upload=_upload(get("upload")),
        )


def _upload(value: object) -> str | None:
    """An fsspec URL (``s3://bucket/prefix``), checked now: a missing backend
    (s3fs, gcsfs, adlfs) is a setup error, not a warning at every failure."""
    if value is None or value == "":
        return None
    url = str(value)
    try:
        from fsspec.core import url_to_fs

        url_to_fs(url)
    except Exception as exc:
        raise ConfigError(
            f"snapshot.upload {url!r}: fsspec cannot open it ({type(exc).__name__}: {exc}); "
            "install the filesystem's package (s3fs, gcsfs, adlfs, ...) on the workers"
        ) from exc
    return url.rstrip("/")


def path_value(value: object) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(str(value))))


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    if isinstance(value, int):
        return bool(value)
    raise ConfigError(f"snapshot.{name} must be true or false, got {value!r}")


def size_value(name: str, value: object) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        size = int(value) if isinstance(value, int | float) else parse_bytes(str(value))
    except (TypeError, ValueError):
        raise ConfigError(
            f"snapshot.{name} must be a byte count such as 1073741824 or '1 GiB', got {value!r}"
        ) from None
    if size < 0:
        raise ConfigError(f"snapshot.{name} must not be negative, got {value!r}")
    return size


def _seconds(name: str, value: object) -> float:
    """A positive duration: seconds as a number, or a string such as '60s' or '2 minutes'."""
    try:
        if isinstance(value, bool) or value is None:
            raise TypeError
        seconds = float(value) if isinstance(value, int | float) else parse_timedelta(str(value))
    except (TypeError, ValueError, KeyError):
        raise ConfigError(
            f"snapshot.{name} must be a duration such as 60 or '60s', got {value!r}"
        ) from None
    if not seconds or not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"snapshot.{name} must be a positive duration, got {value!r}")
    return float(seconds)


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"snapshot.{name} must be a whole number >= 0, got {value!r}")
    try:
        count = int(value)
    except ValueError:
        raise ConfigError(f"snapshot.{name} must be a whole number >= 0, got {value!r}") from None
    if count < 0:
        raise ConfigError(f"snapshot.{name} must be a whole number >= 0, got {value!r}")
    return count


def _strings(name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # DASK_SNAPSHOT__REDACT=password,token is friendlier than a Python list.
        return tuple(s.strip() for s in value.split(",") if s.strip())
    if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise ConfigError(f"snapshot.{name} must be a list of strings, got {value!r}")


def _key(key: object, key_file: object) -> bytes | None:
    if key and key_file:
        raise ConfigError("set snapshot.key or snapshot.key-file, not both")
    if key:
        return str(key).encode("utf-8")
    if key_file:
        try:
            return snapshot.read_key_file(path_value(key_file))
        except snapshot.SnapshotKeyError as exc:
            raise ConfigError(f"snapshot.key-file: {exc}") from exc
    return None


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
