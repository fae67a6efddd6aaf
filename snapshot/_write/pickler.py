"""The Pickler of a capture: cloudpickle, plus references, out-of-band bytes and live resources.

:class:`CapturePickler` is cloudpickle's Pickler with three additions in
``reducer_override`` (which the C pickler calls for every object that is not
of an exact builtin type: classes, functions, instances):

* live resources (open files, sockets, locks, ...; see :mod:`.live`) become
  :class:`~snapshot.Placeholder` objects, never read;
* ``memoryview`` objects (and the large ``bytes``/``bytearray`` the store
  hands over wrapped in :class:`OutOfBand`) go out-of-band as zero-copy
  ``PickleBuffer``s and load back as their own type;
* every class, function and module pickled by reference is noted in
  ``modules``: the manifest's list of modules without an opcode scan;
* a C object that refuses pickling but is an attribute of an importable
  module (an f2py LAPACK routine) is stored as a reference to that name
  (:mod:`.byname`);
* an exception is stored without its traceback (:func:`without_traceback`).

:class:`ReferencingPickler` adds ``persistent_id`` (format 1.1): an object that
is a piece of its own is stored as a reference to it, and a large one met
inside a piece is hoisted into a piece of its own first.  The C pickler calls
``persistent_id`` for *every* object it saves, ints included, which costs
about half again the pickling time of a container of scalars: the store uses
this pickler only where a bounded look at the object says it can pay
(:func:`.plan.plan`).
"""

from __future__ import annotations

import pickle
import threading
import types
from collections.abc import Callable
from typing import Any, Protocol

import cloudpickle

from .._format import Placeholder
from .._rebuild import memoryview_from
from .byname import find_by_name, is_candidate
from .columns import may_hold_columns
from .live import live_kind
from .spool import Abandoned, Progress, Spool

#: ``bytes``/``bytearray``/``str`` at least this long are pieces (and buffers) of their own.
HOIST_BYTES = 64 * 1024
#: Containers with at least this many entries met inside a piece become pieces of their own.
HOIST_ITEMS = 1024

#: Types pickle writes whole, never memoized; with short strings, a plan's plain scalars.
ATOMS = frozenset({int, float, bool, type(None), complex})
CONTAINERS = frozenset({list, dict, tuple, set, frozenset})
_BY_NAME = (types.FunctionType, types.BuiltinFunctionType)
_OWN = "snapshot."  # the reader itself: only its FROZEN_NAMES (_format.py) are ever pickled


class Store(Protocol):
    """What a pickler asks of the store of pieces it pickles for (a :class:`~.store.PieceStore`)."""

    cancel: threading.Event | None
    progress: Progress

    def piece_of(self, obj: object) -> str | None: ...

    def hoist(self, obj: object, what: str) -> str | None: ...

    def live_placeholder(self, obj: object, what: str) -> tuple[str, str, str, str]: ...

    def scrub_table(self, obj: object) -> object: ...


class OutOfBand:
    """A ``bytes`` or ``bytearray`` to pickle as one out-of-band buffer."""

    __slots__ = ("obj",)

    def __init__(self, obj: bytes | bytearray) -> None:
        self.obj = obj


def oob_reduce(obj: bytes | bytearray | memoryview) -> tuple[Any, ...]:
    """A reduce value that stores ``obj``'s memory out-of-band and rebuilds its type."""
    kind = type(obj)
    if kind is bytes or kind is bytearray:
        return (kind, (pickle.PickleBuffer(obj),))
    view = memoryview(obj)
    shape = tuple(view.shape or (view.nbytes // max(view.itemsize, 1),))
    data: Any = pickle.PickleBuffer(view) if view.contiguous else view.tobytes()
    return (memoryview_from, (data, view.format, shape, view.readonly))


def data_bytes(obj: object) -> int | None:
    """The bytes a pickle of ``obj`` must hold *and copy* first, where that is known
    without running its code; None when it is not, or when nothing is copied.

    ``bytes`` and ``bytearray``, and a non-contiguous ``memoryview`` or numpy
    array of numbers (whose pickling copies it whole before the cap could
    see a byte of it).  A contiguous view or array is not copied: its memory
    goes out-of-band, counted once however many views of it there are.  Not
    dask or xarray objects, whose ``nbytes`` is the size of data they do not hold.
    """
    kind = type(obj)
    if kind is bytes or kind is bytearray:
        return len(obj)  # type: ignore[arg-type]
    try:
        if kind is memoryview:
            view: Any = obj
            return None if view.contiguous else int(view.nbytes)
        if kind.__name__ == "ndarray" and kind.__module__ == "numpy":
            array: Any = obj
            flags = array.flags
            if array.dtype.hasobject or flags.c_contiguous or flags.f_contiguous:
                return None
            return int(array.nbytes)
    except Exception:
        return None
    return None


#: Bytes copied between two ticks when a non-contiguous array is made contiguous.
COPY_BLOCK = 8 * 1024 * 1024


def contiguous_copy(array: Any, store: Store) -> Any:
    """A C-contiguous copy of a numpy ``array``, made a block at a time with progress."""
    out = type(array)(array.shape, dtype=array.dtype)  # numpy.ndarray(shape, dtype): empty

    def into(target: Any, source: Any) -> None:
        if store.cancel is not None and store.cancel.is_set():
            raise Abandoned
        rows = source.shape[0] if source.ndim else 1
        if source.nbytes <= COPY_BLOCK or source.ndim == 0:
            target[...] = source
            store.progress.tick()
            return
        row = source.nbytes // max(rows, 1)
        if row >= COPY_BLOCK:
            for i in range(rows):
                into(target[i], source[i])
            return
        step = COPY_BLOCK // max(row, 1)
        for start in range(0, rows, step):
            into(target[start : start + step], source[start : start + step])

    into(out, array)
    return out


def without_traceback(exc: BaseException, reducer: Callable[[Any], Any] | None) -> Any:
    """``exc``'s registered reduce value with any traceback in its arguments made None.

    distributed installs tblib's reducers for every exception class
    (``tblib.pickling_support.install()``), which pickle ``__traceback__`` with
    every frame of it: 100 us and 100 bytes a frame of a deep recursion, for
    frames the snapshot stores apart (``frames``, with their locals).  Python's
    own reduce of an exception leaves the traceback out; so does this, keeping
    whatever else the reducer stores (the cause, the context, the notes).
    None: no reducer registered, or a reduce value of another shape (the
    pickler then goes its usual way).
    """
    if reducer is None:
        return None
    reduced = reducer(exc)
    if not isinstance(reduced, tuple) or len(reduced) < 2 or not isinstance(reduced[1], tuple):
        return reduced
    args = tuple(None if isinstance(a, types.TracebackType) else a for a in reduced[1])
    return (reduced[0], args, *reduced[2:])


class CapturePickler(cloudpickle.Pickler):
    """One piece's pickler: protocol 5, writing to ``file`` (a :class:`~.spool.Spool`)."""

    def __init__(
        self,
        file: Any,
        store: Store,
        buffer_callback: Callable[[pickle.PickleBuffer], bool],
    ) -> None:
        super().__init__(file, protocol=5, buffer_callback=buffer_callback)
        self.sink = file  # the C pickler keeps no Python-visible reference to it
        self._keep: list[Any] = []  # scrubbed copies, alive while their reduce is saved
        self.store = store
        self.modules: set[str] = set()
        self.refs: list[str] = []

    def reducer_override(self, obj: Any) -> Any:
        store = self.store
        if store.cancel is not None and store.cancel.is_set():
            raise Abandoned
        store.progress.tick()  # one object of the user's reduced: a stall is none
        kind = type(obj)
        what = live_kind(kind)
        if what is not None:
            return (Placeholder, store.live_placeholder(obj, what))
        if kind is OutOfBand:
            return oob_reduce(obj.obj)
        if isinstance(obj, BaseException):
            reduced = without_traceback(obj, self.dispatch_table.get(kind))
            if reduced is not None:
                return reduced
        if may_hold_columns(kind):
            # A table met where the redactor's walk does not reach (inside a
            # class of the user's, a task object): its secret columns go too.
            scrubbed = store.scrub_table(obj)
            if scrubbed is not obj:
                self._keep.append(scrubbed)
                return scrubbed.__reduce_ex__(5)
        if kind is memoryview or kind.__name__ == "ndarray":
            # Data a non-contiguous view or array copies whole before writing a
            # byte of it: the copy is made only if it fits the cap.
            known = data_bytes(obj)
            if known is not None and isinstance(self.sink, Spool):
                self.sink.reserve(known)
            if kind is memoryview:
                return oob_reduce(obj)
            if known is not None:
                # numpy would copy it whole in one call (seconds for a large one,
                # with no progress to see): the same copy, a block at a time.
                copy = contiguous_copy(obj, store)
                self._keep.append(copy)
                return copy.__reduce_ex__(5)
        result = super().reducer_override(obj)
        if result is NotImplemented and is_candidate(kind) and kind not in self.dispatch_table:
            return self._default_or_by_name(obj)
        if result is NotImplemented:  # pickled by reference: module and name
            if isinstance(obj, type) or kind in _BY_NAME:
                module = getattr(obj, "__module__", None)
                if isinstance(module, str) and not module.startswith(_OWN):
                    self.modules.add(module)
            elif kind is types.ModuleType:
                self.modules.add(obj.__name__)
        return result

    def _default_or_by_name(self, obj: Any) -> Any:
        """The default reduce of a C object, or, where it refuses, a reference by name.

        Calling ``object.__reduce_ex__`` here runs no code of the user's (the
        type has no reduce of its own) and the pickler does not call it again.
        """
        try:
            return obj.__reduce_ex__(5)
        except TypeError:
            found = find_by_name(obj)
            if found is None:
                raise
        module, name = found
        self.modules.add(module.__name__)
        return (getattr, (module, name))


class ReferencingPickler(CapturePickler):
    """A :class:`CapturePickler` that refers to other pieces (format 1.1)."""

    def persistent_id(self, obj: Any) -> str | None:
        kind = type(obj)
        if kind in ATOMS:
            return None
        store = self.store
        pid = store.piece_of(obj)
        if pid is None:
            if kind is bytes or kind is bytearray or kind is str:
                if len(obj) < HOIST_BYTES:
                    return None
            elif kind in CONTAINERS:
                if len(obj) < HOIST_ITEMS:
                    return None
            elif kind is memoryview:
                if obj.nbytes < HOIST_BYTES:
                    return None
            else:
                return None
            pid = store.hoist(obj, kind.__name__)
            if pid is None:
                return None
        self.refs.append(pid)
        return pid
