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

from collections.abc import Mapping
from typing import Any

from .._record import Record

JsonKey = Any  # str | int | float | bool | None | list[JsonKey]


class Writer(Record):
    name: str | None = None
    version: str | None = None


class WrittenBy(Record):
    """For a worker's death: the surviving worker that wrote the file."""

    host: str | None = None
    worker: str | None = None
    worker_name: str | int | None = None


class Origin(Record):
    pid: int | None = None
    thread: str | None = None
    thread_id: int | None = None
    host: str | None = None
    worker: str | None = None
    worker_name: str | int | None = None
    written_by: WrittenBy | None = None


class Task(Record):
    key: JsonKey = None
    prefix: str | None = None
    dependencies: tuple[JsonKey, ...] = ()
    annotations: Mapping[str, Any] | None = None
    priority: tuple[Any, ...] | None = None
    attempt: int | None = None
    fingerprint: str | None = None
    occurrence: int | None = None
    is_coro: bool | None = None
    storm_scope: str | None = None  # "cluster" or "host": whose budget admitted it
    storm_note: str | None = None  # why the cluster's budget was not used


class ChainEntry(Record):
    """One cause or context of the exception: how it relates, and what it was."""

    relation: str | None = None
    type: str | None = None
    module: str | None = None
    message: str | None = None
    notes: tuple[str, ...] = ()


class GroupMember(Record):
    """One member of an exception group (spec 4.3, ``members``), depth-first."""

    depth: int = 1  # 1: a member of the error itself; 2: of the group above it ...
    type: str | None = None
    module: str | None = None
    message: str | None = None
    omitted: int | None = None  # a group's: how many of its members are not listed


class Error(Record):
    type: str | None = None
    module: str | None = None
    message: str | None = None
    notes: tuple[str, ...] = ()
    traceback: str | None = None
    chain: tuple[ChainEntry, ...] = ()
    members: tuple[GroupMember, ...] = ()  # an exception group's (1.1, optional)
    members_omitted: int | None = None  # how many of its own members are not listed

    def outline(self) -> list[tuple[int, GroupMember | int]]:
        """The group's members as lines to show, ``(depth, member)``, each group's
        ``(depth, N)`` ("and N more") after its listed members."""
        lines: list[tuple[int, GroupMember | int]] = []
        open_groups = [(1, self.members_omitted or 0)]  # (depth of its members, omitted)
        for member in self.members:
            while len(open_groups) > 1 and open_groups[-1][0] > member.depth:
                depth, more = open_groups.pop()
                lines += [(depth, more)] if more else []
            lines.append((member.depth, member))
            if member.omitted is not None:
                open_groups.append((member.depth + 1, member.omitted))
        while open_groups:
            depth, more = open_groups.pop()
            lines += [(depth, more)] if more else []
        return lines


class Frame(Record):
    filename: str | None = None
    function: str | None = None
    qualname: str | None = None
    lineno: int | None = None
    firstlineno: int | None = None
    module: str | None = None
    locals: Mapping[str, str] | None = None  # name -> pid; None when absent
    source: str | None = None  # a key of Manifest.sources
    code_sha256: str | None = None  # 64 lowercase hex digits (1.1, optional)


class Call(Record):
    func: str | None = None
    args: tuple[str, ...] | None = None  # None: absent or damaged (cannot be replayed)
    kwargs: Mapping[str, str] | None = None
    origin: str | None = None


class Recomputed(Record):
    """An input whose only copy died with a worker, computed again from its task (spec 4.6)."""

    function: str | None = None
    sources: tuple[JsonKey, ...] = ()  # the manifest's ``from``: the task's own inputs
    tasks: int | None = None
    by: str | None = None
    note: str | None = None


class Input(Record):
    key: JsonKey = None
    piece: str | None = None
    recomputed: Recomputed | None = None


class Summary(Record):
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    nbytes: int | None = None


class PieceRecord(Record):
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


class BufferRecord(Record):
    member: str | None = None
    size: int | None = None


class SourceRecord(Record):
    member: str | None = None
    size: int | None = None
    sha256: str | None = None


class PythonInfo(Record):
    version: str | None = None
    implementation: str | None = None
    executable: str | None = None


class Environment(Record):
    python: PythonInfo | None = None
    platform: str | None = None
    machine: str | None = None
    hostname: str | None = None
    packages: Mapping[str, str] | None = None
    variables: Mapping[str, str] | None = None


class Capture(Record):
    pieces: int | None = None
    stored: int | None = None
    placeholders: int | None = None
    stored_bytes: int | None = None
    complete: bool | None = None
    seconds: float | None = None
    limits: Mapping[str, int] | None = None
    redaction_marker: str | None = None


class DeathMemory(Record):
    process: int | None = None
    managed: int | None = None
    unmanaged: int | None = None
    spilled: int | None = None


class LostInput(Record):
    key: JsonKey = None
    reason: str | None = None


class Amended(Record):
    """A client copy's record of the sources the client added (spec 4.11)."""

    by: str | None = None
    time: float | None = None
    sources: tuple[str, ...] = ()


class ShrunkInput(Record):
    """One input part a ``shrink`` made smaller (spec 4.12)."""

    path: str | None = None
    kind: str | None = None
    before: int | None = None
    after: int | None = None


class Shrunk(Record):
    """What ``python -m replay shrink`` made smaller, and from which file (spec 4.12)."""

    source: str | None = None
    failure: str | None = None
    attempts: int | None = None
    seconds: float | None = None
    complete: bool | None = None
    inputs: tuple[ShrunkInput, ...] = ()


class Death(Record):
    """A worker process that died running the task (spec 4.10); every field optional."""

    cause: str | None = None
    summary: str | None = None
    worker: str | None = None
    worker_name: str | int | None = None
    host: str | None = None
    pid: int | None = None
    nanny: str | None = None
    nthreads: int | None = None
    memory_limit: int | None = None
    memory: DeathMemory | None = None
    rss_at_kill: int | None = None
    exit_code: int | None = None
    signal: int | None = None
    signal_name: str | None = None
    suspicious: int | None = None
    allowed_failures: int | None = None
    killed_worker: bool | None = None
    executing: bool | None = None
    stacks: str | None = None
    stacks_reason: str | None = None
    lost_inputs: tuple[LostInput, ...] = ()
    time: float | None = None
    stimulus_id: str | None = None


class OnDemand(Record):
    """A snapshot written on request, not at a raise (spec 4.13); every field optional."""

    trigger: str | None = None  # who asked: "cluster_hook.capture"
    state: str | None = None  # the task when asked: "finished", "failed", "pending"
    result: str | None = None  # pid of the value the task returned (a finished task)
    requested_by: str | None = None  # the client's id
    time: float | None = None  # when it was asked, in seconds since the epoch


class Manifest(Record, hidden=("raw",)):
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
    death: Death | None = None
    amended: Amended | None = None
    shrunk: Shrunk | None = None
    on_demand: OnDemand | None = None
    problems: tuple[str, ...] = ()
    raw: Mapping[str, Any] | None = None  # hidden: not in repr, == or hash

    def piece(self, pid: str) -> PieceRecord | None:
        return self.pieces.get(pid) if self.pieces is not None else None
