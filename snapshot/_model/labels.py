"""The few values every reader shows in words: a task's key, a size, how a worker died,
the user's function that raised.

One spelling each, for the terminal (``replay``) and the page (``render``): the
callers escape the text for where it goes (a terminal, HTML).
"""

from __future__ import annotations

from .._format import key_from_json
from .manifest import Manifest

__all__ = ["death_label", "failing_call", "format_key", "format_size"]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
#: The most of an unknown cause (spec 4.10: readers accept other values) shown.
_MAX_CAUSE = 40


def format_size(size: object) -> str:
    """``1536`` -> ``"1.5 KiB"``; ``"?"`` for anything but a count of bytes."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "?"
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_key(key: object) -> str:
    """A key as stored (spec: a list for a tuple) as Dask spells it: a string as it
    is, a tuple by its ``repr``; ``"?"`` for none."""
    if key is None:
        return "?"
    try:
        decoded = key_from_json(key)
    except Exception:  # a key of a shape no writer makes (nested too deep): as read
        decoded = key
    if isinstance(decoded, str):
        return decoded
    try:
        return repr(decoded)
    except Exception:  # pragma: no cover - plain JSON values always have a repr
        return "?"


def death_label(model: Manifest) -> str:
    """``out of memory``, ``SIGSEGV``, ``exit status 1``: how the worker died, in a word.

    ``worker died`` without a cause; ``cause unknown`` for ``"unknown"`` (no nanny
    reported the end); a cause this reader does not know is shown as written, cut short.
    """
    death = model.death
    cause = death.cause if death is not None else None
    if death is None or cause is None:
        return "worker died"
    if cause == "memory":
        return "out of memory"
    if cause == "signal":
        if death.signal_name:
            return death.signal_name
        return f"signal {death.signal}" if death.signal is not None else "killed by a signal"
    if cause == "exit":
        return f"exit status {death.exit_code}" if death.exit_code is not None else "exited"
    if cause == "unknown":
        return "cause unknown"
    shown = str(cause)
    return shown if len(shown) <= _MAX_CAUSE else shown[: _MAX_CAUSE - 3] + "..."


def failing_call(model: Manifest) -> str | None:
    """``make_err(x=0)``: the user's function where the exception was raised
    (``failing_frame_index``), with a few of its locals at the raise (their captured
    reprs, short ones); None when no frame is the user's."""
    from .._inapp import failing_frame_index

    index = failing_frame_index(model.frames)
    if index is None:
        return None
    frame = model.frames[index]
    locals_ = list((frame.locals or {}).items())
    values = []
    for name, pid in locals_[:4]:
        record = model.piece(pid)
        shown = (record.repr if record is not None else None) or "?"
        if len(shown) > 40 or "\n" in shown:
            shown = f"<{(record.type if record is not None else None) or '?'}>"
        values.append(f"{name}={shown}")
    more = ", ..." if len(locals_) > 4 else ""
    return f"{frame.function or '?'}({', '.join(values)}{more})"
