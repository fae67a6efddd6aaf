"""Keep secrets out of snapshots: names that look secret are replaced by a marker."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

#: Case-insensitive substrings of names whose values are never stored.
DEFAULT_PATTERNS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "auth",
    "credential",
    "private_key",
    "cookie",
    "session",
)

#: What stands in place of a redacted value, in the pickle and in the manifest.
REDACTED = "<redacted by dask-replay>"

_MAX_DEPTH = 32


class Redactor:
    """Decides which names are secret and scrubs nested dicts.

    A name matches when it contains one of ``patterns`` (case-insensitive).
    :meth:`scrub` returns the object itself when nothing in it is secret, so
    ordinary values keep their identity (and their zero-copy buffers).
    """

    def __init__(self, patterns: Iterable[str] = DEFAULT_PATTERNS) -> None:
        self.patterns = tuple(p.lower() for p in patterns if p)

    def __repr__(self) -> str:
        return f"Redactor(patterns={list(self.patterns)!r})"

    def is_secret(self, name: object) -> bool:
        if not isinstance(name, str) or not self.patterns:
            return False
        lowered = name.lower()
        return any(p in lowered for p in self.patterns)

    def redact_text(self, text: str) -> str:
        """``text`` with credentials in it (URL passwords, bearer tokens) replaced.

        Applied by the builder to every repr and message it records.
        """
        return text

    def scrub(self, obj: Any) -> Any:
        """A copy of ``obj`` with secret-named dict entries replaced, or ``obj`` itself."""
        return self._scrub(obj, 0, set())

    def _scrub(self, obj: Any, depth: int, active: set[int]) -> Any:
        if depth > _MAX_DEPTH or id(obj) in active:
            return obj
        kind = type(obj)
        if isinstance(obj, dict):
            active.add(id(obj))
            changes = {}
            for key, value in obj.items():
                new = REDACTED if self.is_secret(key) else self._scrub(value, depth + 1, active)
                if new is not value:
                    changes[key] = new
            active.discard(id(obj))
            return _with_changes(obj, changes) if changes else obj
        if kind is list or kind is tuple:
            active.add(id(obj))
            items = [self._scrub(v, depth + 1, active) for v in obj]
            active.discard(id(obj))
            if all(a is b for a, b in zip(items, obj, strict=True)):
                return obj
            return items if kind is list else tuple(items)
        return obj


def _with_changes(mapping: dict[Any, Any], changes: dict[Any, Any]) -> dict[Any, Any]:
    """A copy of ``mapping`` (same type where it copies: OrderedDict, defaultdict)."""
    try:
        copied = copy.copy(mapping)
        if not isinstance(copied, dict) or copied is mapping:
            raise TypeError
    except Exception:
        copied = dict(mapping)
    for key, value in changes.items():
        dict.__setitem__(copied, key, value)
    return copied
