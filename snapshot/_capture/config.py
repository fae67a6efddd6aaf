"""The ``snapshot.*`` settings: their defaults, their values checked once, read without Dask.

The defaults ship in ``defaults.yaml`` beside this module.  The Dask hook
merges them into ``dask.config`` and reads the section from there
(``cluster_hook._config``); plain Python (``snapshot.capture``) reads the same
places the way ``dask.config`` does, without importing dask: YAML files under
``/etc/dask``, ``sys.prefix/etc/dask``, ``~/.config/dask`` and ``$DASK_CONFIG``,
then ``DASK_SNAPSHOT__*`` variables, then keywords.  Either way one function
(:func:`settings_values`) turns the raw values into a capture's settings, and
a bad value is a :class:`~snapshot.SnapshotConfigError` naming the key.
"""

from __future__ import annotations

import ast
import os
import re
import site
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._errors import SnapshotConfigError, SnapshotKeyError
from .._keys import read_key_file
from .settings import CaptureSettings, default_snapshot_directory

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")

#: Keys of the ``snapshot`` config section, in the order the docs list them.
CONFIG_KEYS: tuple[str, ...] = (
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
    "client-directory",  # these two are read by the hook's client part
    "client-max-size",
    "dashboard",  # read by the hook's scheduler part
)

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "p": 10**15,
}
_SECONDS = {
    "ns": 1e-9,
    "nanosecond": 1e-9,
    "us": 1e-6,
    "microsecond": 1e-6,
    "ms": 1e-3,
    "millisecond": 1e-3,
    "s": 1,
    "second": 1,
    "m": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 7 * 86400,
    "week": 7 * 86400,
}
_QUANTITY = re.compile(r"^\s*([0-9.eE+-]*)\s*([A-Za-z]*)\s*$")


def config_defaults() -> dict[str, Any]:
    """``{"snapshot": {...}}`` as ``defaults.yaml`` gives it (what Dask's config is merged with)."""
    import yaml

    with DEFAULTS_FILE.open(encoding="utf-8") as f:
        loaded = yaml.safe_load(f)
    return loaded if isinstance(loaded, dict) else {}


def parse_size(text: str) -> int:
    """``'1 GiB'``, ``'512MB'``, ``'100'`` -> bytes, as ``dask.utils.parse_bytes`` reads them."""
    match = _QUANTITY.match(text)
    if not match or not (match[1] or match[2]):
        raise ValueError(text)
    number = float(match[1]) if match[1] else 1.0
    unit = match[2].lower()
    if unit not in _UNITS:
        raise ValueError(text)
    return int(number * _UNITS[unit])


def parse_duration(text: str) -> float:
    """``'60s'``, ``'2 minutes'``, ``'500ms'`` -> seconds, as ``dask.utils.parse_timedelta``."""
    match = _QUANTITY.match(text)
    if not match or not match[1]:
        raise ValueError(text)
    unit = match[2].lower() or "s"
    if unit not in _SECONDS and unit.endswith("s"):
        unit = unit[:-1]
    if unit not in _SECONDS:
        raise ValueError(text)
    return float(match[1]) * _SECONDS[unit]


def setting(name: str, value: object) -> Any:
    """One ``snapshot.<name>`` value, raw from a config file, a variable or a keyword, checked.

    Raises :class:`SnapshotConfigError` naming the key and the bad value.
    """
    try:
        convert = _CONVERTERS[name]
    except KeyError:
        raise SnapshotConfigError(
            f"unknown snapshot setting {name!r}; expected one of {CONFIG_KEYS!r}"
        ) from None
    return convert(name, value)


def settings_values(get: Callable[[str], Any]) -> dict[str, Any]:
    """The fields of :class:`CaptureSettings` from raw values, ``get(key)`` by config key."""
    values = {
        key.replace("-", "_"): setting(key, get(key))
        for key in CONFIG_KEYS
        if key
        not in ("enabled", "key", "key-file", "client-directory", "client-max-size", "dashboard")
    }
    values["directory"] = values["directory"] or default_snapshot_directory()
    values["key"] = _key(get("key"), get("key-file"))
    return values


def setting_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keyword overrides by config key (``max_total_size`` -> ``max-total-size``), checked."""
    given = {str(k).replace("_", "-"): v for k, v in (overrides or {}).items()}
    unknown = sorted(set(given) - set(CONFIG_KEYS))
    if unknown:
        raise SnapshotConfigError(
            f"unknown snapshot setting(s) {unknown!r}; expected some of {CONFIG_KEYS!r}"
        )
    return given


def read_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``snapshot`` section as ``dask.config`` would have it, without importing dask.

    Defaults, then YAML files in Dask's config directories (later ones win),
    then ``DASK_SNAPSHOT__<KEY>`` variables (values read as Python literals,
    as Dask reads them).  Keys are normalised to kebab-case.
    """
    import yaml

    env = os.environ if env is None else env
    section: dict[str, Any] = dict(config_defaults().get("snapshot") or {})
    for directory in _config_paths(env):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".yaml", ".yml")):
                continue
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as f:
                    loaded = yaml.safe_load(f)
            except (OSError, yaml.YAMLError):
                continue  # dask skips what it cannot read too
            found = loaded.get("snapshot") if isinstance(loaded, dict) else None
            if isinstance(found, dict):
                section.update({str(k).replace("_", "-"): v for k, v in found.items()})
    for name, value in env.items():
        if name.startswith("DASK_SNAPSHOT__"):
            key = name[len("DASK_SNAPSHOT__") :].lower().replace("_", "-")
            section[key] = _literal(value)
    return section


def capture_settings(**overrides: Any) -> CaptureSettings:
    """Settings for plain-Python capture: config files, ``DASK_SNAPSHOT__*``, then keywords."""
    given = setting_overrides(overrides)
    section = read_config()
    return CaptureSettings(**settings_values(lambda k: given[k] if k in given else section.get(k)))


def _config_paths(env: Mapping[str, str]) -> list[str]:
    """Where ``dask.config`` looks for YAML files, in its order (dask/config.py)."""
    paths = [
        env.get("DASK_ROOT_CONFIG", "/etc/dask"),
        os.path.join(sys.prefix, "etc", "dask"),
        *[os.path.join(prefix, "etc", "dask") for prefix in site.PREFIXES],
        os.path.join(os.path.expanduser("~"), ".config", "dask"),
    ]
    if "DASK_CONFIG" in env:
        paths.append(env["DASK_CONFIG"])
    return list(reversed(list(dict.fromkeys(reversed(paths)))))


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        lowered = value.lower()
        return {"none": None, "null": None, "false": False, "true": True}.get(lowered, value)


def path_value(value: object) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(str(value))))


def _path(name: str, value: object) -> Path | None:
    """A directory (``~`` and ``$VARS`` expanded, made absolute: notes name it wherever
    they are read); null or empty: the default's to choose."""
    return path_value(value).absolute() if value else None


def _key_text(name: str, value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    if isinstance(value, int):
        return bool(value)
    raise SnapshotConfigError(f"snapshot.{name} must be true or false, got {value!r}")


def size_value(name: str, value: object) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        size = int(value) if isinstance(value, int | float) else parse_size(str(value))
    except (TypeError, ValueError, OverflowError):
        raise SnapshotConfigError(
            f"snapshot.{name} must be a byte count such as 1073741824 or '1 GiB', got {value!r}"
        ) from None
    if size < 0:
        raise SnapshotConfigError(f"snapshot.{name} must not be negative, got {value!r}")
    return size


def duration_value(name: str, value: object) -> float:
    """A positive duration: seconds as a number, or a string such as '60s' or '2 minutes'."""
    try:
        if isinstance(value, bool) or value is None:
            raise TypeError
        seconds = float(value) if isinstance(value, int | float) else parse_duration(str(value))
    except (TypeError, ValueError, KeyError):
        raise SnapshotConfigError(
            f"snapshot.{name} must be a duration such as 60 or '60s', got {value!r}"
        ) from None
    if not seconds or not seconds > 0 or seconds == float("inf"):
        raise SnapshotConfigError(f"snapshot.{name} must be a positive duration, got {value!r}")
    return float(seconds)


def count_value(name: str, value: object) -> int:
    wrong = f"snapshot.{name} must be a whole number >= 0, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SnapshotConfigError(wrong)
    try:
        count = int(value)
    except ValueError:
        raise SnapshotConfigError(wrong) from None
    if count < 0:
        raise SnapshotConfigError(wrong)
    return count


def strings_value(name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # DASK_SNAPSHOT__REDACT=password,token is friendlier than a Python list.
        return tuple(s.strip() for s in value.split(",") if s.strip())
    if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise SnapshotConfigError(f"snapshot.{name} must be a list of strings, got {value!r}")


def _key(key: object, key_file: object) -> bytes | None:
    if key and key_file:
        raise SnapshotConfigError("set snapshot.key or snapshot.key-file, not both")
    if key:
        return str(key).encode("utf-8")
    if key_file:
        try:
            return read_key_file(path_value(key_file))
        except SnapshotKeyError as exc:
            raise SnapshotConfigError(f"snapshot.key-file: {exc}") from exc
    return None


def upload_value(name: str, value: object) -> str | None:
    """An fsspec URL (``s3://bucket/prefix``), checked now: a missing backend
    (s3fs, gcsfs, adlfs) is a setup error, not a warning at every failure."""
    if value is None or value == "":
        return None
    url = str(value)
    try:
        from fsspec.core import url_to_fs

        url_to_fs(url)
    except Exception as exc:
        raise SnapshotConfigError(
            f"snapshot.upload {url!r}: fsspec cannot open it ({type(exc).__name__}: {exc}); "
            "install the filesystem's package (s3fs, gcsfs, adlfs, ...) on the workers"
        ) from exc
    return url.rstrip("/")


_CONVERTERS: dict[str, Callable[[str, Any], Any]] = {
    "enabled": boolean,
    "directory": _path,
    "capture-inputs": boolean,
    "capture-locals": boolean,
    "max-object-size": size_value,
    "max-total-size": size_value,
    "max-per-fingerprint": count_value,
    "max-directory-size": size_value,
    "capture-timeout": duration_value,
    "capture-stall-timeout": duration_value,
    "redact": strings_value,
    "env-allow": strings_value,
    "key": _key_text,
    "key-file": _key_text,
    "upload": upload_value,
    "client-directory": _path,
    "client-max-size": size_value,
    "dashboard": boolean,
}
