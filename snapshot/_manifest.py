"""The manifest as typed, frozen data: built once, checked once, every field optional.

The manifest is JSON from an untrusted file.  :func:`parse_manifest` is the one
place that looks at its shape; everything else reads the :class:`Manifest` it
returns and never the raw dict::

    model = snapshot.read_model(path)        # head only, like read_manifest
    model = snapshot.parse_manifest(raw, path=path)
    model = opened.model                     # Snapshot.model, parsed once
    model.error.message if model.error else None
    for frame in model.frames: frame.filename, frame.lineno, frame.locals  # name -> pid
    model.pieces["p0"].status, model.call.func, model.inputs[0].key
    snapshot.key_from_json(model.task.key)   # JSON keys back to Dask keys (tuples)
    model.problems   # ("manifest field `error.message` is a list, not a string: ignored", ...)
    model.raw        # the JSON object as read (for ``info --json``)

A section that is absent (or of the wrong type) is ``None``; a collection that
is absent is empty.  A field of the wrong type counts as absent and is named in
``problems``.  Arrays of ids that a replay depends on (``call.args``,
``call.kwargs``, a piece's ``buffers`` and ``refs``) are all or nothing: one bad
entry makes the whole field absent, never a shorter list that would load or
call the wrong thing.  Only a manifest that is not a JSON object raises
(:class:`SnapshotFormatError`); the work is linear in the manifest's size.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import SnapshotFormatError

#: JSON keys nest tuples; deeper than this is not a Dask key (and not worth a recursion).
MAX_KEY_DEPTH = 32
#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 100

JsonKey = Any  # str | int | float | bool | None | list[JsonKey]


@dataclass(frozen=True, slots=True)
class Writer:
    name: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    pid: int | None = None
    thread: str | None = None
    thread_id: int | None = None
    host: str | None = None
    worker: str | None = None
    worker_name: str | int | None = None


@dataclass(frozen=True, slots=True)
class Task:
    key: JsonKey = None
    prefix: str | None = None
    dependencies: tuple[JsonKey, ...] = ()
    annotations: Mapping[str, Any] | None = None
    priority: tuple[Any, ...] | None = None
    attempt: int | None = None
    fingerprint: str | None = None
    occurrence: int | None = None
    is_coro: bool | None = None


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One cause or context of the exception: how it relates, and what it was."""

    relation: str | None = None
    type: str | None = None
    module: str | None = None
    message: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Error:
    type: str | None = None
    module: str | None = None
    message: str | None = None
    notes: tuple[str, ...] = ()
    traceback: str | None = None
    chain: tuple[ChainEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Frame:
    filename: str | None = None
    function: str | None = None
    qualname: str | None = None
    lineno: int | None = None
    firstlineno: int | None = None
    module: str | None = None
    locals: Mapping[str, str] | None = None  # name -> pid; None when absent
    source: str | None = None  # a key of Manifest.sources


@dataclass(frozen=True, slots=True)
class Call:
    func: str | None = None
    args: tuple[str, ...] | None = None  # None: absent or damaged (cannot be replayed)
    kwargs: Mapping[str, str] | None = None
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Input:
    key: JsonKey = None
    piece: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    nbytes: int | None = None


@dataclass(frozen=True, slots=True)
class PieceRecord:
    label: str | None = None
    status: str | None = None
    type: str | None = None
    repr: str | None = None
    reason: str | None = None
    size: int | None = None
    member: str | None = None
    buffers: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    summary: Summary | None = None
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BufferRecord:
    member: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    member: str | None = None
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PythonInfo:
    version: str | None = None
    implementation: str | None = None
    executable: str | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    python: PythonInfo | None = None
    platform: str | None = None
    machine: str | None = None
    hostname: str | None = None
    packages: Mapping[str, str] | None = None
    variables: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    pieces: int | None = None
    stored: int | None = None
    placeholders: int | None = None
    stored_bytes: int | None = None
    complete: bool | None = None
    seconds: float | None = None
    limits: Mapping[str, int] | None = None
    redaction_marker: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """The whole manifest (spec, section 4), with what was wrong with it in ``problems``."""

    format: str | None = None
    format_version: str | None = None
    writer: Writer | None = None
    created: str | None = None
    signed: bool | None = None
    task: Task | None = None
    error: Error | None = None
    origin: Origin | None = None
    environment: Environment | None = None
    call: Call | None = None
    inputs: tuple[Input, ...] = ()
    run_spec: str | None = None
    exception: str | None = None
    frames: tuple[Frame, ...] = ()
    pieces: Mapping[str, PieceRecord] | None = None
    buffers: Mapping[str, BufferRecord] | None = None
    sources: Mapping[str, SourceRecord] | None = None
    modules: Mapping[str, str | None] | None = None
    capture: Capture | None = None
    problems: tuple[str, ...] = ()
    raw: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def piece(self, pid: str) -> PieceRecord | None:
        return self.pieces.get(pid) if self.pieces is not None else None


def _kind(value: object) -> str:
    """The JSON name of a value's type, for a problem's text (never its value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def _entry(path: str, key: object) -> str:
    """``pieces['p0']``: a map's entry in a problem's path (a long key is shortened)."""
    if not isinstance(key, str):
        return f"{path}[<{_kind(key)}>]"
    shown = key if len(key) <= 40 else key[:37] + "..."
    return f"{path}[{shown!r}]"


class _Builder:
    """Reads fields of the raw JSON, recording what had the wrong type."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.dropped = 0

    def problem(self, path: str, value: object, expected: str, ignored: str = "ignored") -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(
                f"manifest field `{path}` is {_kind(value)}, not {expected}: {ignored}"
            )
        else:
            self.dropped += 1

    def get(self, obj: Mapping[str, Any], key: str, path: str, test: Any, expected: str) -> Any:
        if key not in obj:
            return None
        value = obj[key]
        if test(value):
            return value
        self.problem(f"{path}{key}", value, expected)
        return None

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, null: bool = False) -> Any:
        if null and key in obj and obj[key] is None:
            return None
        return self.get(obj, key, path, _is_str, "a string")

    def integer(self, obj: Mapping[str, Any], key: str, path: str, *, null: bool = False) -> Any:
        if null and key in obj and obj[key] is None:
            return None
        return self.get(obj, key, path, _is_int, "an integer")

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> Any:
        return self.get(obj, key, path, _is_bool, "a boolean")

    def number(self, obj: Mapping[str, Any], key: str, path: str) -> float | None:
        value = self.get(obj, key, path, _is_number, "a finite number")
        return None if value is None else float(value)

    def section(self, obj: Mapping[str, Any], key: str, path: str = "") -> Any:
        return self.get(obj, key, path, _is_dict, "an object")

    def array(self, obj: Mapping[str, Any], key: str, path: str = "") -> Any:
        return self.get(obj, key, path, _is_list, "a list")

    def strings(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        """An array of strings; bad entries are dropped (for text: notes, modules)."""
        items = self.array(obj, key, path)
        if items is None:
            return ()
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problem(f"{path}{key}[{i}]", item, "a string")
        return tuple(out)

    def ids(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        """An array of ids, all or nothing: a shorter list would load the wrong thing."""
        items = self.array(obj, key, path)
        if items is None:
            return None
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.problem(
                    f"{path}{key}[{i}]", item, "a string (an id)", f"`{path}{key}` ignored"
                )
                return None
        return tuple(items)

    def table(
        self, obj: Mapping[str, Any], key: str, path: str, test: Any, expected: str
    ) -> dict[str, Any] | None:
        """An object of ``expected``; bad entries are dropped."""
        items = self.section(obj, key, path)
        if items is None:
            return None
        out = {}
        for name, value in items.items():
            if not isinstance(name, str):
                self.problem(f"{path}{key} (a key)", name, "a string")
            elif test(value):
                out[name] = value
            else:
                self.problem(_entry(f"{path}{key}", name), value, expected)
        return out

    def key(self, value: object, path: str) -> tuple[bool, JsonKey]:
        """A JSON key (spec 4.6): (valid, value)."""
        stack = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, list):
                if depth >= MAX_KEY_DEPTH:
                    self.problem(path, item, f"a key nested at most {MAX_KEY_DEPTH} deep")
                    return False, None
                stack.extend((child, depth + 1) for child in item)
            elif not (item is None or isinstance(item, str | int) or _is_number(item)):
                self.problem(path, value, "a key (string, number, boolean, null or list)")
                return False, None
        return True, value


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_FLOAT_MAX <= value <= _FLOAT_MAX  # float() of a larger one overflows
    return isinstance(value, float) and math.isfinite(value)


_FLOAT_MAX = sys.float_info.max


def _is_dict(value: object) -> bool:
    return isinstance(value, dict)


def _is_list(value: object) -> bool:
    return isinstance(value, list)


def _is_str_or_null(value: object) -> bool:
    return value is None or isinstance(value, str)


def parse_manifest(raw: object, *, path: str = "?") -> Manifest:
    """The typed model of a manifest: the one validating builder (see the module doc).

    Raises :class:`SnapshotFormatError` only when ``raw`` is not a JSON object.
    """
    if not isinstance(raw, dict):
        raise SnapshotFormatError(
            f"{path}: manifest.json holds {_kind(raw)}, not an object; the file is corrupt "
            "or not a dask-replay snapshot",
            path=path,
        )
    b = _Builder()
    writer = b.section(raw, "writer")
    fields: dict[str, Any] = dict(
        format=b.string(raw, "format", ""),
        format_version=b.string(raw, "format_version", ""),
        writer=None
        if writer is None
        else Writer(b.string(writer, "name", "writer."), b.string(writer, "version", "writer.")),
        created=b.string(raw, "created", ""),
        signed=b.boolean(raw, "signed", ""),
        task=_task(b, b.section(raw, "task")),
        error=_error(b, b.section(raw, "error")),
        origin=_origin(b, b.section(raw, "origin")),
        environment=_environment(b, b.section(raw, "environment")),
        call=_call(b, b.section(raw, "call")),
        inputs=_inputs(b, b.array(raw, "inputs")),
        run_spec=b.string(raw, "run_spec", ""),
        exception=b.string(raw, "exception", ""),
        frames=_frames(b, b.array(raw, "frames")),
        pieces=_pieces(b, b.section(raw, "pieces")),
        buffers=_records(b, b.section(raw, "buffers"), "buffers", _buffer),
        sources=_records(b, b.section(raw, "sources"), "sources", _source),
        modules=b.table(raw, "modules", "", _is_str_or_null, "a string or null"),
        capture=_capture(b, b.section(raw, "capture")),
    )
    problems = list(b.problems)
    if b.dropped:
        problems.append(f"... and {b.dropped} more problems in the manifest")
    return Manifest(**fields, problems=tuple(problems), raw=raw)


def _task(b: _Builder, task: dict[str, Any] | None) -> Task | None:
    if task is None:
        return None
    key = None
    if "key" in task:
        _, key = b.key(task["key"], "task.key")
    dependencies = []
    for i, dep in enumerate(b.array(task, "dependencies", "task.") or ()):
        ok, value = b.key(dep, f"task.dependencies[{i}]")
        if ok:
            dependencies.append(value)
    priority = None if task.get("priority") is None else b.array(task, "priority", "task.")
    return Task(
        key=key,
        prefix=b.string(task, "prefix", "task.", null=True),
        dependencies=tuple(dependencies),
        annotations=b.section(task, "annotations", "task."),
        priority=None if priority is None else tuple(priority),
        attempt=b.integer(task, "attempt", "task."),
        fingerprint=b.string(task, "fingerprint", "task."),
        occurrence=b.integer(task, "occurrence", "task."),
        is_coro=b.boolean(task, "is_coro", "task."),
    )


def _error(b: _Builder, error: dict[str, Any] | None) -> Error | None:
    if error is None:
        return None
    chain = []
    for i, entry in enumerate(b.array(error, "chain", "error.") or ()):
        at = f"error.chain[{i}]."
        if not isinstance(entry, dict):
            b.problem(at[:-1], entry, "an object")
            continue
        chain.append(
            ChainEntry(
                relation=b.string(entry, "relation", at),
                type=b.string(entry, "type", at),
                module=b.string(entry, "module", at),
                message=b.string(entry, "message", at),
                notes=b.strings(entry, "notes", at),
            )
        )
    return Error(
        type=b.string(error, "type", "error."),
        module=b.string(error, "module", "error."),
        message=b.string(error, "message", "error."),
        notes=b.strings(error, "notes", "error."),
        traceback=b.string(error, "traceback", "error."),
        chain=tuple(chain),
    )


def _origin(b: _Builder, origin: dict[str, Any] | None) -> Origin | None:
    if origin is None:
        return None
    name = origin.get("worker_name")
    if not (name is None or isinstance(name, str) or _is_int(name)):
        b.problem("origin.worker_name", name, "a string, an integer or null")
        name = None
    return Origin(
        pid=b.integer(origin, "pid", "origin."),
        thread=b.string(origin, "thread", "origin."),
        thread_id=b.integer(origin, "thread_id", "origin."),
        host=b.string(origin, "host", "origin."),
        worker=b.string(origin, "worker", "origin.", null=True),
        worker_name=name,
    )


def _environment(b: _Builder, env: dict[str, Any] | None) -> Environment | None:
    if env is None:
        return None
    python = b.section(env, "python", "environment.")
    at = "environment.python."
    return Environment(
        python=None
        if python is None
        else PythonInfo(
            b.string(python, "version", at),
            b.string(python, "implementation", at),
            b.string(python, "executable", at),
        ),
        platform=b.string(env, "platform", "environment."),
        machine=b.string(env, "machine", "environment."),
        hostname=b.string(env, "hostname", "environment."),
        packages=b.table(env, "packages", "environment.", _is_str, "a string"),
        variables=b.table(env, "variables", "environment.", _is_str, "a string"),
    )


def _call(b: _Builder, call: dict[str, Any] | None) -> Call | None:
    if call is None:
        return None
    kwargs = b.section(call, "kwargs", "call.")
    if kwargs is not None:
        for name, pid in kwargs.items():
            if not isinstance(pid, str):
                b.problem(
                    _entry("call.kwargs", name), pid, "a string (an id)", "`call.kwargs` ignored"
                )
                kwargs = None
                break
    return Call(
        func=b.string(call, "func", "call."),
        args=b.ids(call, "args", "call."),
        kwargs=None if kwargs is None else dict(kwargs),
        origin=b.string(call, "origin", "call."),
    )


def _inputs(b: _Builder, inputs: list[Any] | None) -> tuple[Input, ...]:
    out = []
    for i, entry in enumerate(inputs or ()):
        if not isinstance(entry, dict):
            b.problem(f"inputs[{i}]", entry, "an object")
            continue
        key = None
        if "key" in entry:
            _, key = b.key(entry["key"], f"inputs[{i}].key")
        out.append(Input(key=key, piece=b.string(entry, "piece", f"inputs[{i}].")))
    return tuple(out)


def _frames(b: _Builder, frames: list[Any] | None) -> tuple[Frame, ...]:
    out = []
    for i, frame in enumerate(frames or ()):
        at = f"frames[{i}]."
        if not isinstance(frame, dict):
            b.problem(at[:-1], frame, "an object")
            # An empty frame keeps the indices: labels such as "frames[3].df" name them.
            out.append(Frame())
            continue
        out.append(
            Frame(
                filename=b.string(frame, "filename", at),
                function=b.string(frame, "function", at),
                qualname=b.string(frame, "qualname", at),
                lineno=b.integer(frame, "lineno", at),
                firstlineno=b.integer(frame, "firstlineno", at),
                module=b.string(frame, "module", at, null=True),
                locals=b.table(frame, "locals", at, _is_str, "a string (an id)"),
                source=b.string(frame, "source", at, null=True),
            )
        )
    return tuple(out)


def _pieces(b: _Builder, pieces: dict[str, Any] | None) -> dict[str, PieceRecord] | None:
    if pieces is None:
        return None
    out = {}
    for pid, record in pieces.items():
        at = _entry("pieces", pid)
        if not isinstance(pid, str) or not isinstance(record, dict):
            b.problem(at, record, "an object")
            continue
        at += "."
        summary = b.section(record, "summary", at)
        shape = None if summary is None else b.array(summary, "shape", at + "summary.")
        if shape is not None and not all(_is_int(n) for n in shape):
            b.problem(at + "summary.shape", shape, "a list of integers")
            shape = None
        out[pid] = PieceRecord(
            label=b.string(record, "label", at),
            status=b.string(record, "status", at),
            type=b.string(record, "type", at),
            repr=b.string(record, "repr", at),
            reason=b.string(record, "reason", at),
            size=b.integer(record, "size", at),
            member=b.string(record, "member", at),
            buffers=b.ids(record, "buffers", at) or (),
            modules=b.strings(record, "modules", at),
            summary=None
            if summary is None
            else Summary(
                shape=None if shape is None else tuple(shape),
                dtype=b.string(summary, "dtype", at + "summary."),
                nbytes=b.integer(summary, "nbytes", at + "summary."),
            ),
            refs=b.ids(record, "refs", at) or (),
        )
    return out


def _buffer(b: _Builder, record: dict[str, Any], at: str) -> BufferRecord:
    return BufferRecord(member=b.string(record, "member", at), size=b.integer(record, "size", at))


def _source(b: _Builder, record: dict[str, Any], at: str) -> SourceRecord:
    return SourceRecord(
        member=b.string(record, "member", at),
        size=b.integer(record, "size", at),
        sha256=b.string(record, "sha256", at),
    )


def _records(b: _Builder, section: dict[str, Any] | None, name: str, build: Any) -> Any:
    if section is None:
        return None
    out = {}
    for ident, record in section.items():
        at = _entry(name, ident)
        if not isinstance(ident, str) or not isinstance(record, dict):
            b.problem(at, record, "an object")
            continue
        out[ident] = build(b, record, at + ".")
    return out


def _capture(b: _Builder, capture: dict[str, Any] | None) -> Capture | None:
    if capture is None:
        return None
    return Capture(
        pieces=b.integer(capture, "pieces", "capture."),
        stored=b.integer(capture, "stored", "capture."),
        placeholders=b.integer(capture, "placeholders", "capture."),
        stored_bytes=b.integer(capture, "stored_bytes", "capture."),
        complete=b.boolean(capture, "complete", "capture."),
        seconds=b.number(capture, "seconds", "capture."),
        limits=b.table(capture, "limits", "capture.", _is_int, "an integer"),
        redaction_marker=b.string(capture, "redaction_marker", "capture."),
    )
