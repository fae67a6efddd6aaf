"""Turning one live task failure into a snapshot file, in the task's own thread.

Called from the run_spec wrapper's ``except`` block, while the traceback still
holds every frame's locals and ``data`` holds the resolved inputs.  Nothing
here may raise into the task: :meth:`Capturer.capture` returns an outcome,
and the wrapper re-raises the task's own exception whatever happened here.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, FunctionType
from typing import Any

from dask.utils import key_split

import snapshot

from ._config import Settings
from ._scrub import is_map_chunk, scrub_node
from ._storm import StormGuard, fingerprint
from ._unwrap import innermost_call, raising_frame

# A child of the worker's logger, so that the warnings reach the worker's log
# deque (Client.get_worker_logs, the dashboard) next to the task's own failure.
logger = logging.getLogger("distributed.worker.cluster_hook")

_OFF = "input capture is off (snapshot.capture-inputs)"

#: Warnings logged per worker process; further ones are suppressed (storms).
MAX_WARNINGS = 20


@dataclass(frozen=True)
class TaskInfo:
    """What the worker's ``TaskState`` says about the failed task."""

    key: Any
    prefix: str
    dependencies: tuple[Any, ...]
    annotations: dict[str, Any]
    priority: tuple[Any, ...] | None


def task_info(ts: Any, key: Any) -> TaskInfo:
    """Read the worker's ``TaskState`` from the task's thread (it is not mutated
    while the task executes); without one, just the key."""
    try:
        return TaskInfo(
            key=ts.key,
            prefix=str(getattr(ts, "prefix", "")),
            dependencies=tuple(dep.key for dep in list(ts.dependencies)),
            annotations=dict(ts.annotations or {}),
            priority=tuple(ts.priority) if ts.priority is not None else None,
        )
    except Exception:
        return TaskInfo(key, key_split(key), (), {}, None)


@dataclass(frozen=True)
class Outcome:
    """What capturing one failure did: a file, a skip, or a failure to capture."""

    path: Path | None = None
    note: str | None = None  # added to the task's exception
    event: dict[str, Any] | None = None  # published on the "snapshot" topic


class Capturer:
    """Writes snapshots for one worker; shared by all of its task threads."""

    def __init__(
        self,
        settings: Settings,
        *,
        worker_address: str,
        worker_name: str,
        log_event: Callable[[str, Any], None],
        tasks: Mapping[Any, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.worker_address = worker_address
        self.worker_name = worker_name
        self.host = socket.gethostname()
        self.guard = StormGuard(
            settings.directory, settings.max_per_fingerprint, settings.max_directory_size
        )
        self.redactor = snapshot.Redactor(settings.redact)
        self._log_event = log_event
        self._tasks: Mapping[Any, Any] = tasks if tasks is not None else {}
        self._warned = 0
        self._warn_lock = threading.Lock()
        self._limit_warned: set[str] = set()

    # -- warnings -----------------------------------------------------------
    def warn(self, message: str, *args: object) -> None:
        """Log one warning, at most MAX_WARNINGS per process (storms stay readable)."""
        with self._warn_lock:
            self._warned += 1
            count = self._warned
        if count <= MAX_WARNINGS:
            logger.warning("dask-replay: " + message, *args)
        if count == MAX_WARNINGS:
            logger.warning("dask-replay: further capture warnings on this worker are suppressed")

    # -- capture ------------------------------------------------------------
    def capture(self, exc: BaseException, run_spec: Any, data: Mapping[Any, Any]) -> Outcome:
        """Write a snapshot of ``exc``, raised by ``run_spec(data)``; never raises."""
        key = getattr(run_spec, "key", None)
        try:
            task = task_info(self._tasks.get(key), key)
            return self._capture(exc, run_spec, data, task)
        except BaseException as err:  # nothing may escape into the task
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            self.warn(
                "could not capture the failure of task %r (%s: %s); the task's own "
                "exception is reported unchanged",
                key,
                type(err).__name__,
                err,
            )
            return Outcome()

    def _capture(
        self, exc: BaseException, run_spec: Any, data: Mapping[Any, Any], task: TaskInfo
    ) -> Outcome:
        settings = self.settings
        guard = self.guard
        filename, function, line = raising_frame(exc)
        fp = fingerprint(task.prefix, function, type(exc), filename, line)
        settings.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        guard.prune_once()
        admission = guard.admit(fp)
        if not admission.admitted:
            if fp not in self._limit_warned:
                self._limit_warned.add(fp)
                logger.info("dask-replay: %s; counting further failures only", admission.reason)
            return Outcome(note=f"dask-replay: no snapshot written: {admission.reason}")
        remaining = guard.remaining_bytes()
        if remaining <= 0:
            self.warn(
                "no snapshot written for task %r: %s holds more than %d bytes "
                "(snapshot.max-directory-size)",
                task.key,
                settings.directory,
                settings.max_directory_size,
            )
            return Outcome()
        # Counted only for failures that get a snapshot: a storm must not leave
        # a counter file per failed key behind.
        attempt = guard.attempt(task.key)

        builder = snapshot.SnapshotBuilder(
            limits=snapshot.WriteLimits(
                max_piece_bytes=settings.max_object_size,
                max_total_bytes=min(settings.max_total_size, remaining),
            ),
            redactor=self.redactor,
        )
        task_section = {
            "key": snapshot.key_to_json(task.key),
            "prefix": task.prefix,
            "dependencies": [snapshot.key_to_json(k) for k in task.dependencies],
            "annotations": self.redactor.scrub(_jsonable(task.annotations)),
            "priority": list(task.priority) if task.priority is not None else None,
            # Snapshots of this key so far on this host in this cluster, this one
            # included: with retries=N the attempts are numbered 1..N+1.
            "attempt": attempt,
            "fingerprint": fp,
            "occurrence": admission.occurrence,
            # An async def task: its call returns a coroutine to await.
            "is_coro": bool(getattr(run_spec, "is_coro", False)),
        }
        try:
            self._fill(builder, exc, run_spec, data, task_section)
            broken: Exception | None = None
        except Exception as err:  # the builder's contract says never; be sure anyway
            broken = err

        path = guard.new_path(task.key, self.host)
        written: Path | None = None
        if broken is None:
            try:
                written = builder.write(path, key=settings.key)
            except Exception as err:
                broken = err
        if broken is not None:
            # Whatever went wrong, what failed and where is still worth a file.
            try:
                written = builder.write(path, key=settings.key, pieces=False, reason=str(broken))
            except Exception as err:
                self.warn(
                    "no snapshot written for task %r: %s (%s)", task.key, err, type(err).__name__
                )
                return Outcome()
            self.warn(
                "only the manifest of the snapshot of task %r was written to %s: %s",
                task.key,
                written,
                broken,
            )
        assert written is not None
        size = _size(written)
        left_out = _left_out(written)
        if left_out and broken is None:
            self.warn(
                "the snapshot of task %r at %s is incomplete: %d object(s) left out: %s",
                task.key,
                written,
                len(left_out),
                "; ".join(left_out[:5]) + ("; ..." if len(left_out) > 5 else ""),
            )
        copy = self._upload(written, task.key) if settings.upload else None
        event = {
            "key": snapshot.key_to_json(task.key),
            "path": str(written),
            "url": copy,
            "host": self.host,
            "worker": self.worker_address,
            "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "message": _short(str(exc)),
            "fingerprint": fp,
            "attempt": attempt,
            "bytes": size,
            "complete": not left_out,
        }
        return Outcome(
            path=written,
            note=f"dask-replay: snapshot written to {self.host}:{written}"
            + (f"\ndask-replay: copied to {copy}" if copy else ""),
            event=event,
        )

    def _upload(self, written: Path, key: Any) -> str | None:
        """Copy the snapshot to ``snapshot.upload`` (an fsspec URL); None if that fails.

        Done in the task's thread before the exception is reported, so the copy
        exists when the client sees the failure, even if the worker then dies.
        """
        url = f"{self.settings.upload}/{written.name}"
        try:
            from fsspec.core import url_to_fs

            fs, target = url_to_fs(url)
            fs.makedirs(fs._parent(target), exist_ok=True)
            fs.put_file(str(written), target)
        except Exception as err:
            self.warn(
                "could not copy the snapshot of task %r to %s (%s: %s); it stays at %s",
                key,
                url,
                type(err).__name__,
                err,
                written,
            )
            return None
        return url

    def _locals(self, frame: FrameType) -> Mapping[str, Any]:
        # dask's own frames hold Task objects (``self`` in Task.__call__), whose
        # kwargs the snapshot's redactor cannot see into: scrub_node does.  They
        # also hold helper closures (``_eval``) and iterators (bag's chains of
        # _MapChunk) that would drag the task's keyword arguments in unseen;
        # those, plumbing rather than the user's state, are withheld.
        plumbing = str(frame.f_globals.get("__name__", "")).startswith(("dask.", "distributed."))
        out = {}
        for name, value in frame.f_locals.items():
            if plumbing and _opaque(value):
                # A plain string: it unpickles anywhere, unlike a stand-in class.
                out[name] = f"<withheld by dask-replay: {_type_name(value)}>"
            else:
                out[name] = scrub_node(value, self.redactor)
        return out

    def _fill(
        self,
        builder: snapshot.SnapshotBuilder,
        exc: BaseException,
        run_spec: Any,
        data: Mapping[Any, Any],
        task_section: dict[str, Any],
    ) -> None:
        """Everything but the writing: each piece is pickled as it is added."""
        settings = self.settings
        builder.manifest["task"] = task_section
        builder.manifest["origin"].update(
            {
                "host": self.host,
                "worker": self.worker_address,
                "worker_name": self.worker_name,
                "pid": os.getpid(),
                "thread": threading.current_thread().name,
                "thread_id": threading.get_ident(),
            }
        )
        builder.manifest["environment"] = snapshot.environment_info(
            env_allow=settings.env_allow, redactor=self.redactor
        )
        # Frame 0 of the traceback is our wrapper's own __call__.
        builder.capture_exception(
            exc, skip_frames=1, get_locals=self._locals if settings.capture_locals else _no_locals
        )
        call = innermost_call(exc, run_spec, data)
        if settings.capture_inputs:
            builder.set_call(call.func, call.args, call.kwargs, origin=call.origin)
            builder.add_inputs(dict(data))
            builder.add_run_spec(scrub_node(run_spec, self.redactor))
        else:
            builder.set_call(
                call.func,
                call.args,
                call.kwargs,
                origin=call.origin,
                capture_arguments=False,
                reason=_OFF,
            )
            builder.add_inputs(dict(data), capture=False, reason=_OFF)
            builder.manifest["run_spec"] = builder.omit(run_spec, label="run_spec", reason=_OFF)

    def publish(self, event: dict[str, Any]) -> None:
        """Send the event to the scheduler (thread-safe in Worker.log_event)."""
        try:
            self._log_event("snapshot", event)
        except Exception as err:
            self.warn("could not publish the snapshot event: %s", err)


def _opaque(value: Any) -> bool:
    """A closure or an iterator: holds objects that no scrubbing can reach."""
    if isinstance(value, FunctionType):
        return value.__closure__ is not None
    return isinstance(value, Iterator) and not is_map_chunk(value)


def _no_locals(frame: FrameType) -> Mapping[str, Any]:
    return {}  # snapshot.capture-locals is off


def _jsonable(value: Any, depth: int = 0) -> Any:
    """Annotations are user data: keep JSON-able parts, repr the rest."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if depth > 8:
        return repr(value)[:200]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    return repr(value)[:200]


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _left_out(path: Path) -> list[str]:
    """Objects that failed to pickle or hit a size cap (not redactions or opt-outs)."""
    try:
        pieces = snapshot.read_manifest(path).get("pieces", {})
    except snapshot.SnapshotError as err:
        return [f"the manifest cannot be read back: {err}"]
    out = []
    for record in pieces.values():
        status, reason = record.get("status"), str(record.get("reason", ""))
        if status == "placeholder" or (status == "omitted" and "cap" in reason):
            out.append(f"{record.get('label')} ({reason})")
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"
