"""Live resources: objects a capture must never read, pickle or otherwise touch.

An open file pickled by cloudpickle is read whole (and replays as a
``StringIO``); a socket, a lock or a thread means nothing in another process,
and a generator or a frame cannot be pickled at all.  (Tracebacks are not
on the list: tblib, which distributed installs, pickles them as plain data.)  Such objects, at the top
of a piece or nested in one, become placeholders that carry their type name
and a description taken from attributes that cost nothing and change nothing
(a file's name, mode and, for binary files, position).
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import types
from typing import Any

from .._format import PLACEHOLDER
from .._text import safe_repr

#: Types (by module and name) that are live resources when their module is loaded.
#: Modules that are not imported are not imported here: a type of theirs cannot exist.
_CANDIDATES: tuple[tuple[str, str, str], ...] = (
    ("io", "IOBase", "open file"),
    ("socket", "socket", "socket"),
    ("_thread", "LockType", "lock"),
    ("_thread", "RLock", "lock"),
    ("threading", "Condition", "lock"),
    ("threading", "Semaphore", "lock"),
    ("threading", "Event", "lock"),
    ("threading", "Barrier", "lock"),
    ("threading", "Thread", "thread"),
    ("types", "GeneratorType", "generator"),
    ("types", "CoroutineType", "coroutine"),
    ("types", "AsyncGeneratorType", "async generator"),
    ("types", "FrameType", "frame"),
    ("sqlite3", "Connection", "database connection"),
    ("sqlite3", "Cursor", "database cursor"),
    ("sqlite3", "Blob", "database blob"),
    ("mmap", "mmap", "memory map"),
    ("select", "epoll", "selector"),
    ("selectors", "BaseSelector", "selector"),
    ("subprocess", "Popen", "process"),
    ("multiprocessing.connection", "Connection", "process connection"),
    ("asyncio", "AbstractEventLoop", "event loop"),
    ("asyncio", "Future", "event-loop future"),
    ("concurrent.futures", "Executor", "executor"),
)

_KINDS: dict[type, str | None] = {}
_IN_MEMORY = (io.BytesIO, io.StringIO)


def live_kind(kind: type) -> str | None:
    """What kind of live resource instances of ``kind`` are, or None (cached per type)."""
    try:
        return _KINDS[kind]
    except KeyError:
        pass
    except TypeError:  # an unhashable metaclass instance
        return None
    found: str | None = None
    if issubclass(kind, _IN_MEMORY):  # data, not a resource: pickled as usual
        _KINDS[kind] = None
        return None
    for module_name, name, what in _CANDIDATES:
        module = sys.modules.get(module_name)
        base = getattr(module, name, None) if module is not None else None
        try:
            if isinstance(base, type) and issubclass(kind, base):
                found = what
                break
        except TypeError:
            continue
    _KINDS[kind] = found
    return found


def describe_live(obj: Any, what: str, limit: int) -> str:
    """A one-line description from attributes only (no I/O, no flush, no repr of data)."""
    details: list[str] = []
    try:
        if isinstance(obj, io.IOBase):
            details += _file_details(obj, limit)
        elif isinstance(obj, socket.socket):
            details.append(f"fd={obj.fileno()}")
        elif isinstance(obj, threading.Thread):
            details.append(f"name={safe_repr(obj.name, limit)}")
            details.append("alive" if obj.is_alive() else "not alive")
        elif isinstance(obj, types.GeneratorType | types.CoroutineType | types.AsyncGeneratorType):
            code = getattr(obj, "gi_code", None) or getattr(obj, "cr_code", None)
            code = code or getattr(obj, "ag_code", None)
            if code is not None:
                details.append(f"of {code.co_qualname}")
        elif callable(getattr(obj, "locked", None)) and what == "lock":
            details.append("locked" if obj.locked() else "unlocked")
    except Exception:
        pass
    text = f"{what} ({type(obj).__module__}.{type(obj).__qualname__})"
    return text + (": " + ", ".join(details) if details else "")


def _file_details(obj: Any, limit: int) -> list[str]:
    out: list[str] = []
    name = getattr(obj, "name", None)
    if isinstance(name, str | bytes | int):
        out.append(f"name={safe_repr(name, limit)}")
    mode = getattr(obj, "mode", None)
    if isinstance(mode, str):
        out.append(f"mode={mode!r}")
    if obj.closed:
        out.append("closed")
        return out
    # tell() of a text file flushes its write buffer: ask the binary layer,
    # whose tell() is one lseek and changes nothing.
    binary = getattr(obj, "buffer", obj)
    raw = getattr(binary, "raw", binary)
    if isinstance(raw, io.FileIO) and isinstance(binary, io.FileIO | io.BufferedIOBase):
        try:
            out.append(f"position={binary.tell()}")
        except (OSError, ValueError):
            pass
    return out


def live_args(obj: Any, what: str, limit: int) -> tuple[str, str, str, str]:
    """The ``Placeholder`` arguments for a live resource: type, description, reason, status."""
    kind = type(obj)
    return (
        f"{kind.__module__}.{kind.__qualname__}",
        describe_live(obj, what, limit),
        f"a live resource ({what}) is never captured",
        PLACEHOLDER,
    )
