"""Frozen, slotted value classes without :mod:`dataclasses`, for what ``info`` imports.

``@dataclass(frozen=True, slots=True)`` costs about 1.5 ms per class at import
(it ``exec``s the source of six methods per class and rebuilds it for its
slots), and importing ``dataclasses`` pulls in ``inspect``, ``ast``, ``dis`` and
``tokenize``: together about 50 ms, as much as the interpreter's own start,
for the manifest model's two dozen classes.  :class:`Record` gives the same
behaviour from methods written once here: keyword or positional construction
with defaults, ``__repr__``, ``__eq__`` and ``__hash__`` over the fields,
assignment refused, ``__match_args__``, pickling::

    class Call(Record):
        func: str | None = None
        args: tuple[str, ...] | None = None

    class Manifest(Record, hidden=("raw",)): ...   # raw: left out of repr, == and hash

    fields(Call) == ("func", "args");  replace(call, func="f")

The class is made once, its slots from its body (a metaclass), as ``info``
imports the model's classes.

Fields are the class's own annotations, in order; a field without a default
is required.  Defaults are shared between instances, so they must be immutable.
"""

from __future__ import annotations

from typing import Any, TypeVar, dataclass_transform

__all__ = ["FrozenRecordError", "Record", "fields", "replace"]

_T = TypeVar("_T")
_MISSING: Any = object()
_set = object.__setattr__


class FrozenRecordError(AttributeError):
    """Assigning to (or deleting) a field of a record, which is frozen."""


class _Record:
    __slots__ = ()
    _fields_: tuple[str, ...] = ()
    _compared_: tuple[str, ...] = ()
    _defaults_: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields_
        if len(args) > len(names):
            raise TypeError(
                f"{type(self).__name__}() takes {len(names)} positional arguments "
                f"but {len(args)} were given"
            )
        for name, value in zip(names, args, strict=False):
            _set(self, name, value)
        if kwargs or len(args) < len(names):
            defaults = self._defaults_
            for name in names[len(args) :]:
                value = kwargs.pop(name, _MISSING)
                if value is _MISSING:
                    value = defaults.get(name, _MISSING)
                    if value is _MISSING:
                        raise TypeError(
                            f"{type(self).__name__}() missing required argument: {name!r}"
                        )
                _set(self, name, value)
            if kwargs:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument "
                    f"{next(iter(kwargs))!r}"
                )

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._compared_])

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared_)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields_])

    def __setstate__(self, state: Any) -> None:
        # A dict: a Placeholder pickled while it was a dataclass (format 1.0 writers
        # and the first 1.1 writers; spec 5.3, golden placeholder_values files).
        pairs = state.items() if isinstance(state, dict) else zip(self._fields_, state, strict=True)
        for name, value in pairs:
            _set(self, name, value)


def _prepared(namespace: dict[str, Any], hidden: tuple[str, ...]) -> dict[str, Any]:
    """A class body's namespace with the record's slots, fields and defaults."""
    names = tuple(namespace.get("__annotations__", {}))
    namespace.update(
        __slots__=names,
        __match_args__=names,
        _fields_=names,
        _compared_=tuple(name for name in names if name not in hidden),
        _defaults_={name: namespace.pop(name) for name in names if name in namespace},
    )
    return namespace


class _RecordType(type):
    """Builds a :class:`Record` subclass once, its slots made from its body (a class
    costs ``info`` some 0.1 M instructions to make)."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _RecordType:
        if bases != (_Record,):  # Record itself is made as written
            namespace = _prepared(dict(namespace), kwargs.pop("hidden", ()))
        return super().__new__(mcls, name, bases, namespace, **kwargs)

    def __init__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> None:
        kwargs.pop("hidden", None)
        super().__init__(name, bases, namespace, **kwargs)


@dataclass_transform(frozen_default=True)
class Record(_Record, metaclass=_RecordType):
    """A base class for records: ``class Call(Record): ...`` (``class Manifest(Record,
    hidden=("raw",))`` leaves ``raw`` out of repr, == and hash)."""

    __slots__ = ()


def fields(cls_or_record: type | object) -> tuple[str, ...]:
    """The field names of a record class or instance, in order."""
    fields_: tuple[str, ...] = getattr(cls_or_record, "_fields_")  # noqa: B009
    return fields_


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of the record ``obj`` with ``changes`` (as ``dataclasses.replace``)."""
    values = {name: getattr(obj, name) for name in fields(obj)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)
