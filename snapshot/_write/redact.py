"""Keep secrets out of snapshots: by name, by value, and the signing key in any form.

Three rules, each bounded in cost (docs/user-guide.md, "Security", says what
they reach and what they do not):

- **Names.** A local, keyword argument, dict key or plain object attribute
  whose name contains one of ``patterns`` (case-insensitive) is stored as
  :data:`REDACTED`; so is a column of a pandas DataFrame or a pyarrow Table
  so named, as a column of markers (:mod:`.columns`).  Environment variables have a stricter rule of their own
  (:func:`is_secret_variable`) that no allowlist overrides.
- **Values.** Credentials inside strings (``scheme://user:password@host``,
  ``Authorization: ...`` and ``Bearer ...`` values) are replaced, in captured
  strings and in every repr and message of the manifest (:meth:`Redactor.redact_text`).
- **Literals.** Strings that must never be written in any form (the signing
  key) are replaced wherever a scrubbed string holds them.

:meth:`Redactor.scrub` copies what it changes and returns the object itself
when nothing in it is secret, so ordinary values keep their identity (and
their zero-copy buffers).  It visits at most :data:`MAX_VISITS` values per
object, walks no container longer than :data:`MAX_ITEMS`, scans no string
longer than :data:`MAX_TEXT`, and within one capture (:meth:`Redactor.for_capture`)
scrubs each object once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import FunctionType, MethodType, ModuleType
from typing import Any

from .columns import scrub_columns

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

#: Environment variables whose names contain one of these (any case) are always redacted.
SECRET_VARIABLE_WORDS: tuple[str, ...] = (
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "SIGNATURE",
)

#: What stands in place of a redacted value, in the pickle and in the manifest.
REDACTED = "<redacted by dask-replay>"

#: Containers longer than this are stored as they are, unwalked (they are data).
MAX_ITEMS = 10_000
#: Values visited per scrubbed object; past it, the rest is stored unwalked.
MAX_VISITS = 100_000
#: Strings longer than this (characters) are not scanned for credentials.
MAX_TEXT = 1 << 20
_MAX_DEPTH = 32
_MAX_CACHED_NAMES = 1 << 16
_MIN_LITERAL = 6  # a shorter "key" would redact ordinary text everywhere

_SECRET_VARIABLE = re.compile("|".join(SECRET_VARIABLE_WORDS), re.IGNORECASE)
# One search decides whether a string needs the (slower) substitutions at all.
_MAYBE_CREDENTIAL = re.compile(r"://[^\s/@]*:[^\s/@]*@|(?i:bearer|authorization)")
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s/:@'\"<>]*:)[^\s/@'\"<>]+(?=@)"
)
_AUTHORIZATION = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\b['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,;}]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)


def is_secret_variable(name: str) -> bool:
    """An environment variable name that always looks secret (``DASK_SNAPSHOT__KEY``)."""
    return _SECRET_VARIABLE.search(name) is not None


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


class Redactor:
    """Decides which names and values are secret and scrubs objects of them.

    ``patterns``: case-insensitive substrings of secret names.  ``literals``:
    strings that must never be written (the signing key); ``None`` or short
    ones are ignored.
    """

    def __init__(
        self, patterns: Iterable[str] = DEFAULT_PATTERNS, *, literals: Iterable[str] = ()
    ) -> None:
        self.patterns = tuple(p.lower() for p in patterns if p)
        self.literals = tuple(sorted({s for s in literals if s and len(s) >= _MIN_LITERAL}))
        self._names = (
            re.compile("|".join(re.escape(p) for p in self.patterns), re.IGNORECASE)
            if self.patterns
            else None
        )
        self._seen_names: dict[str, bool] = {}
        # id(obj) -> (obj, scrubbed): set only on a per-capture copy (for_capture).
        self._memo: dict[int, tuple[Any, Any]] | None = None
        # Other walks' caches (capture_memo), by the walk's name; per capture too.
        self._walks: dict[str, dict[int, tuple[Any, Any]]] | None = None

    def __repr__(self) -> str:
        return f"Redactor(patterns={list(self.patterns)!r})"

    def for_capture(self) -> Redactor:
        """A redactor for one capture: same rules, and each object scrubbed once.

        Its cache keeps the objects it has seen alive (ids stay unique) until
        the capture drops it; share it across the pieces of one snapshot only.
        """
        clone = Redactor.__new__(Redactor)
        clone.__dict__.update(self.__dict__)
        clone._memo = {}
        clone._walks = {}
        return clone

    def capture_memo(self, walk: str) -> dict[int, tuple[Any, Any]] | None:
        """A cache for another walk of the same capture (``walk`` names it), or ``None``.

        ``id(obj) -> (obj, result)``, kept as long as this per-capture redactor
        (:meth:`for_capture`), so that an id found in it is still that object;
        ``None`` on any other redactor, whose ids may be reused.  A caller that
        scrubs dask's objects (cluster_hook) walks the same containers once.
        """
        walks = self._walks
        if walks is None:
            return None
        memo = walks.get(walk)
        if memo is None:
            memo = walks[walk] = {}
        return memo

    # -- names ----------------------------------------------------------------
    def is_secret(self, name: object) -> bool:
        """Whether ``name`` (a local, keyword, dict key or attribute name) looks secret."""
        if not isinstance(name, str) or self._names is None:
            return False
        known = self._seen_names.get(name)
        if known is None:
            known = self._names.search(name) is not None
            if len(self._seen_names) >= _MAX_CACHED_NAMES:
                self._seen_names.clear()
            self._seen_names[name] = known
        return known

    # -- values ---------------------------------------------------------------
    def redact_text(self, text: str) -> str:
        """``text`` with credentials in it (URL passwords, bearer tokens) replaced.

        Applied to captured strings and to every repr and message recorded.
        """
        if not isinstance(text, str):
            return text
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        # Every credential the patterns find holds a ':' (a URL's) or an 'r'
        # (bearer, authorization): most texts (numbers, a repr) have neither.
        if ":" not in text and "r" not in text and "R" not in text:
            return text
        if _MAYBE_CREDENTIAL.search(text) is None:
            return text
        text = _URL_CREDENTIALS.sub(r"\g<head>" + REDACTED, text)
        text = _AUTHORIZATION.sub(r"\g<head>" + REDACTED, text)
        return _BEARER.sub(r"\g<head>" + REDACTED, text)

    def holds_literal(self, value: object) -> bool:
        """Whether ``value`` (a str or bytes) contains a literal that must never be written."""
        if isinstance(value, str):
            return any(lit in value for lit in self.literals)
        if isinstance(value, bytes | bytearray) and len(value) <= MAX_TEXT:
            return any(lit.encode("utf-8", "surrogateescape") in value for lit in self.literals)
        return False

    # -- objects --------------------------------------------------------------
    def scrub(self, obj: Any) -> Any:
        """A copy of ``obj`` with secrets replaced, or ``obj`` itself when it holds none."""
        kind = type(obj)
        if kind is int or kind is float or kind is bool or obj is None:
            return obj  # a frame's plain local: no walk to set up
        return self._scrub(obj, 0, set(), _Budget(MAX_VISITS))

    def _scrub(self, obj: Any, depth: int, active: set[int], budget: _Budget) -> Any:
        kind = type(obj)
        if kind is int or kind is float or kind is bool or obj is None:
            return obj
        if kind is str:
            if len(obj) > MAX_TEXT:
                return obj
            return self.redact_text(obj)
        if kind is bytes or kind is bytearray:
            return REDACTED if self.literals and self.holds_literal(obj) else obj
        memo = self._memo
        if memo is not None:
            hit = memo.get(id(obj))
            if hit is not None and hit[0] is obj:
                return hit[1]
        if depth > _MAX_DEPTH or id(obj) in active or budget.left <= 0:
            return obj
        budget.left -= 1
        active.add(id(obj))
        try:
            out = self._scrub_container(obj, kind, depth, active, budget)
        finally:
            active.discard(id(obj))
        if memo is not None:
            memo[id(obj)] = (obj, out)
        return out

    def _scrub_container(
        self, obj: Any, kind: type, depth: int, active: set[int], budget: _Budget
    ) -> Any:
        if isinstance(obj, dict):
            if len(obj) > MAX_ITEMS:
                return obj
            changes = {}
            for key, value in obj.items():
                if self.is_secret(key):
                    new: Any = REDACTED
                else:
                    new = self._scrub(value, depth + 1, active, budget)
                if new is not value:
                    changes[key] = new
            return _with_changes(obj, changes) if changes else obj
        if kind is list or kind is tuple:
            if len(obj) > MAX_ITEMS:
                return obj
            items = [self._scrub(v, depth + 1, active, budget) for v in obj]
            if all(a is b for a, b in zip(items, obj, strict=True)):
                return obj
            return items if kind is list else tuple(items)
        if _is_plain_object(kind):
            attrs = getattr(obj, "__dict__", None)
            if type(attrs) is not dict or len(attrs) > MAX_ITEMS:
                return obj
            changes = {}
            for name, value in attrs.items():
                new = (
                    REDACTED
                    if self.is_secret(name)
                    else self._scrub(value, depth + 1, active, budget)
                )
                if new is not value:
                    changes[name] = new
            if not changes:
                return obj
            # A copy through the same path pickle takes (copyreg.__newobj__):
            # the original, which the task may still use, is never touched.
            copied: Any = object.__new__(kind)
            copied.__dict__.update(attrs)
            copied.__dict__.update(changes)
            return copied
        return scrub_columns(obj, self.is_secret, REDACTED)


_NOT_PLAIN = (type, ModuleType, FunctionType, MethodType, BaseException)


_plain_kinds: dict[type, bool] = {}


def _is_plain_object(kind: type) -> bool:
    """A class whose instances pickle as ``__dict__`` alone, with no code of their own.

    Its copy can then be made without running any of the user's code
    (no ``__reduce__``, ``__getstate__``, ``__new__``, ``__copy__``).
    """
    known = _plain_kinds.get(kind)
    if known is None:
        known = _check_plain(kind)
        if len(_plain_kinds) >= _MAX_CACHED_NAMES:
            _plain_kinds.clear()
        _plain_kinds[kind] = known
    return known


def _check_plain(kind: type) -> bool:
    try:
        return (
            kind.__reduce_ex__ is object.__reduce_ex__
            and kind.__reduce__ is object.__reduce__
            and kind.__getstate__ is object.__getstate__
            and kind.__new__ is object.__new__
            and "__slots__" not in kind.__dict__
            and not issubclass(kind, _NOT_PLAIN)
            and kind.__module__ != "builtins"
        )
    except Exception:
        return False


def _with_changes(mapping: dict[Any, Any], changes: dict[Any, Any]) -> dict[Any, Any]:
    """A copy of ``mapping`` (same type where it copies: OrderedDict, defaultdict)."""
    import copy

    try:
        copied: dict[Any, Any] = copy.copy(mapping)
        if not isinstance(copied, dict) or copied is mapping:
            raise TypeError
    except Exception:
        copied = dict(mapping)
    for key, value in changes.items():
        dict.__setitem__(copied, key, value)
    return copied
