"""Building the manifest's model from untrusted JSON: the one validating builder.

:func:`parse_manifest` reads each known field once, keeps it when its type is the spec's and
otherwise leaves it absent with a line in ``problems``.  It never shows a value in a problem
(a 5,000-digit integer, a lone surrogate), walks nested keys without recursion, in linear time.
"""

from __future__ import annotations

from typing import Any

from .._errors import SnapshotFormatError
from .error import error_section
from .fields import (
    SHA256,
    Builder,
    entry_path,
    is_int,
    is_sha256,
    is_str,
    is_str_or_null,
    kind,
)
from .manifest import (
    Amended,
    BufferRecord,
    Call,
    Capture,
    Death,
    DeathMemory,
    Environment,
    Frame,
    Input,
    LostInput,
    Manifest,
    OnDemand,
    Origin,
    PieceRecord,
    PythonInfo,
    Recomputed,
    Shrunk,
    SourceRecord,
    Summary,
    Task,
    Writer,
    WrittenBy,
)


def parse_manifest(raw: object, *, path: str = "?") -> Manifest:
    """The typed model of a manifest: the one validating builder (see the module doc).

    Raises :class:`SnapshotFormatError` only when ``raw`` is not a JSON object.
    """
    if not isinstance(raw, dict):
        raise SnapshotFormatError(
            f"{path}: manifest.json holds {kind(raw)}, not an object; the file is corrupt "
            "or not a dask-replay snapshot",
            path=path,
        )
    b = Builder()
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
        error=error_section(b, b.section(raw, "error")),
        origin=_origin(b, b.section(raw, "origin")),
        environment=_environment(b, b.section(raw, "environment")),
        call=_call(b, b.section(raw, "call")),
        inputs=_inputs(b, b.array(raw, "inputs")),
        run_spec=b.string(raw, "run_spec", ""),
        exception=b.string(raw, "exception", ""),
        frames=_frames(b, b.array(raw, "frames")),
        pieces=_records(b, b.section(raw, "pieces"), "pieces", _piece),
        buffers=_records(b, b.section(raw, "buffers"), "buffers", _buffer),
        sources=_records(b, b.section(raw, "sources"), "sources", _source),
        modules=b.table(raw, "modules", "", is_str_or_null, "a string or null"),
        capture=_capture(b, b.section(raw, "capture")),
        death=_death(b, b.section(raw, "death")),
        amended=_amended(b, b.section(raw, "amended")),
        shrunk=_shrunk(b, b.section(raw, "shrunk")),
        on_demand=_on_demand(b, b.section(raw, "on_demand")),
    )
    problems = list(b.problems)
    if b.dropped:
        problems.append(f"... and {b.dropped} more problems in the manifest")
    return Manifest(**fields, problems=tuple(problems), raw=raw)


# The sections only some files have are read by modules loaded for those files: a
# module costs the start of ``info`` about 0.3 M instructions to import.
def _shrunk(b: Builder, raw: dict[str, Any] | None) -> Shrunk | None:
    if raw is None:
        return None
    from .shrunk import shrunk_section

    return shrunk_section(b, raw)


def _on_demand(b: Builder, raw: dict[str, Any] | None) -> OnDemand | None:
    if raw is None:
        return None
    from .ondemand import on_demand_section

    return on_demand_section(b, raw)


def _task(b: Builder, task: dict[str, Any] | None) -> Task | None:
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
        storm_scope=b.string(task, "storm_scope", "task."),
        storm_note=b.string(task, "storm_note", "task."),
    )


def _origin(b: Builder, origin: dict[str, Any] | None) -> Origin | None:
    if origin is None:
        return None
    written = b.section(origin, "written_by", "origin.")
    return Origin(
        pid=b.integer(origin, "pid", "origin."),
        thread=b.string(origin, "thread", "origin."),
        thread_id=b.integer(origin, "thread_id", "origin."),
        host=b.string(origin, "host", "origin.", null=True),
        worker=b.string(origin, "worker", "origin.", null=True),
        worker_name=_worker_name(b, origin, "origin."),
        written_by=None
        if written is None
        else WrittenBy(
            host=b.string(written, "host", "origin.written_by.", null=True),
            worker=b.string(written, "worker", "origin.written_by.", null=True),
            worker_name=_worker_name(b, written, "origin.written_by."),
        ),
    )


def _worker_name(b: Builder, obj: dict[str, Any], at: str) -> str | int | None:
    name = obj.get("worker_name")
    if not (name is None or isinstance(name, str) or is_int(name)):
        b.problem(f"{at}worker_name", name, "a string, an integer or null")
        return None
    return name


def _environment(b: Builder, env: dict[str, Any] | None) -> Environment | None:
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
        packages=b.table(env, "packages", "environment.", is_str, "a string"),
        variables=b.table(env, "variables", "environment.", is_str, "a string"),
    )


def _call(b: Builder, call: dict[str, Any] | None) -> Call | None:
    if call is None:
        return None
    kwargs = b.section(call, "kwargs", "call.")
    if kwargs is not None:
        for name, pid in kwargs.items():
            if not isinstance(pid, str):
                b.problem(
                    entry_path("call.kwargs", name),
                    pid,
                    "a string (an id)",
                    "`call.kwargs` ignored",
                )
                kwargs = None
                break
    return Call(
        func=b.string(call, "func", "call."),
        args=b.ids(call, "args", "call."),
        kwargs=None if kwargs is None else dict(kwargs),
        origin=b.string(call, "origin", "call."),
    )


def _inputs(b: Builder, inputs: list[Any] | None) -> tuple[Input, ...]:
    out = []
    for where, entry in b.objects(inputs, "inputs"):
        key = b.key(entry["key"], f"{where}.key")[1] if "key" in entry else None
        recomputed = _recomputed(b, b.section(entry, "recomputed", f"{where}."), where)
        out.append(Input(key, b.string(entry, "piece", f"{where}."), recomputed))
    return tuple(out)


def _recomputed(b: Builder, raw: dict[str, Any] | None, where: str) -> Recomputed | None:
    """``inputs[i].recomputed``: present means recomputed, whatever its fields say."""
    if raw is None:
        return None
    at, keys = f"{where}.recomputed.", b.array(raw, "from", f"{where}.recomputed.") or ()
    found = (b.key(k, f"{at}from[{i}]") for i, k in enumerate(keys))
    return Recomputed(
        function=b.string(raw, "function", at),
        sources=tuple(value for ok, value in found if ok),
        tasks=b.integer(raw, "tasks", at),
        by=b.string(raw, "by", at),
        note=b.string(raw, "note", at),
    )


def _frames(b: Builder, frames: list[Any] | None) -> tuple[Frame, ...]:
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
                locals=b.table(frame, "locals", at, is_str, "a string (an id)"),
                source=b.string(frame, "source", at, null=True),
                code_sha256=b.get(frame, "code_sha256", at, is_sha256, SHA256),
            )
        )
    return tuple(out)


def _piece(b: Builder, record: dict[str, Any], at: str) -> PieceRecord:
    summary = b.section(record, "summary", at)
    shape = None if summary is None else b.array(summary, "shape", at + "summary.")
    if shape is not None and not all(is_int(n) for n in shape):
        b.problem(at + "summary.shape", shape, "a list of integers")
        shape = None
    return PieceRecord(
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


def _buffer(b: Builder, record: dict[str, Any], at: str) -> BufferRecord:
    return BufferRecord(member=b.string(record, "member", at), size=b.integer(record, "size", at))


def _source(b: Builder, record: dict[str, Any], at: str) -> SourceRecord:
    return SourceRecord(
        member=b.string(record, "member", at),
        size=b.integer(record, "size", at),
        sha256=b.string(record, "sha256", at),
    )


def _records(b: Builder, section: dict[str, Any] | None, name: str, build: Any) -> Any:
    if section is None:
        return None
    out = {}
    for ident, record in section.items():
        at = entry_path(name, ident)
        if not isinstance(ident, str) or not isinstance(record, dict):
            b.problem(at, record, "an object")
            continue
        out[ident] = build(b, record, at + ".")
    return out


def _capture(b: Builder, capture: dict[str, Any] | None) -> Capture | None:
    if capture is None:
        return None
    return Capture(
        pieces=b.integer(capture, "pieces", "capture."),
        stored=b.integer(capture, "stored", "capture."),
        placeholders=b.integer(capture, "placeholders", "capture."),
        stored_bytes=b.integer(capture, "stored_bytes", "capture."),
        complete=b.boolean(capture, "complete", "capture."),
        seconds=b.number(capture, "seconds", "capture."),
        limits=b.table(capture, "limits", "capture.", is_int, "an integer"),
        redaction_marker=b.string(capture, "redaction_marker", "capture."),
    )


def _death(b: Builder, death: dict[str, Any] | None) -> Death | None:
    """Spec 4.10: every key optional, null where the producer did not know."""
    if death is None:
        return None
    at = "death."
    memory = None if death.get("memory") is None else b.section(death, "memory", at)
    lost = []
    for where, entry in b.objects(b.array(death, "lost_inputs", at), "death.lost_inputs"):
        key = b.key(entry["key"], f"{where}.key")[1] if "key" in entry else None
        lost.append(LostInput(key=key, reason=b.string(entry, "reason", where + ".")))

    def text(name: str) -> str | None:
        return b.string(death, name, at, null=True)

    def integer(name: str) -> int | None:
        return b.integer(death, name, at, null=True)

    def flag(name: str) -> bool | None:
        return None if death.get(name) is None else b.boolean(death, name, at)

    return Death(
        cause=text("cause"),
        summary=text("summary"),
        worker=text("worker"),
        worker_name=_worker_name(b, death, at),
        host=text("host"),
        pid=integer("pid"),
        nanny=text("nanny"),
        nthreads=integer("nthreads"),
        memory_limit=integer("memory_limit"),
        memory=None
        if memory is None
        else DeathMemory(
            process=b.integer(memory, "process", at + "memory.", null=True),
            managed=b.integer(memory, "managed", at + "memory.", null=True),
            unmanaged=b.integer(memory, "unmanaged", at + "memory.", null=True),
            spilled=b.integer(memory, "spilled", at + "memory.", null=True),
        ),
        rss_at_kill=integer("rss_at_kill"),
        exit_code=integer("exit_code"),
        signal=integer("signal"),
        signal_name=text("signal_name"),
        suspicious=integer("suspicious"),
        allowed_failures=integer("allowed_failures"),
        killed_worker=flag("killed_worker"),
        executing=flag("executing"),
        stacks=text("stacks"),
        stacks_reason=text("stacks_reason"),
        lost_inputs=tuple(lost),
        time=None if death.get("time") is None else b.number(death, "time", at),
        stimulus_id=text("stimulus_id"),
    )


def _amended(b: Builder, amended: dict[str, Any] | None) -> Amended | None:
    """Section 4.11, in client copies only."""
    if amended is None:
        return None
    return Amended(
        by=b.string(amended, "by", "amended."),
        time=b.number(amended, "time", "amended."),
        sources=b.strings(amended, "sources", "amended."),
    )
