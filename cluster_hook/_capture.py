"""Turning one live task failure into a snapshot file, bounded in time and memory.

Called from the run_spec wrapper's ``except`` block, in the task's own thread,
while the traceback still holds every frame's locals and ``data`` holds the
resolved inputs.  The cheap decisions (storm limits, memory headroom, the
call) are made there; the pickling and writing run in a helper thread that the
task's thread waits for at most ``snapshot.capture-timeout`` (``_budget``).
Nothing here may raise into the task: :meth:`Capturer.capture` returns an
outcome, and the wrapper re-raises the task's own exception whatever happened.
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snapshot
from snapshot._write.exception import iter_traceback, safe_str

from ._budget import Cancelled, CaptureJob
from ._config import Settings
from ._contents import TaskInfo, fill, task_info, task_section
from ._directory import make_private_dirs, remove_stale_partials
from ._fallback import Failure, write_manifest_only
from ._memory import RESERVE, MemoryGuard
from ._storm import StormGuard, fingerprint
from ._unwrap import innermost_call, raising_frame
from ._upload import upload

# A child of the worker's logger, so that the warnings reach the worker's log
# deque (Client.get_worker_logs, the dashboard) next to the task's own failure.
logger = logging.getLogger("distributed.worker.cluster_hook")

#: Warnings logged per worker process; further ones are suppressed (storms).
MAX_WARNINGS = 20
#: Abandoned captures still running (stuck in a ``__getstate__``) past which no
#: new capture starts: each one holds a thread and the objects it was pickling.
MAX_STUCK = 2

# pieces' SnapshotBuilder(cancel=threading.Event): stops pickling and writes
# what it has.  Without it, the capture stops at the hook's own checkpoints.
_BUILDER_PARAMETERS = inspect.signature(snapshot.SnapshotBuilder).parameters
_BUILDER_TAKES_CANCEL = "cancel" in _BUILDER_PARAMETERS
_BUILDER_SPOOLS = "spool_dir" in _BUILDER_PARAMETERS


@dataclass(frozen=True)
class Outcome:
    """What capturing one failure did: a file, a skip, or a failure to capture."""

    path: Path | None = None
    note: str | None = None  # added to the task's exception
    event: dict[str, Any] | None = None  # published on the "snapshot" topic


@dataclass(frozen=True)
class _Written:
    """What the capture thread wrote."""

    path: Path
    broken: str | None  # why only the manifest was written
    left_out: list[str]
    url: str | None  # the snapshot.upload copy
    manifest_only: bool = False


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
        memory: MemoryGuard | None = None,
    ) -> None:
        self.settings = settings
        self.worker_address = worker_address
        self.worker_name = worker_name
        self.host = socket.gethostname()
        self.guard = StormGuard(
            settings.directory, settings.max_per_fingerprint, settings.max_directory_size
        )
        self.redactor = snapshot.Redactor(settings.redact, literals=_key_literals(settings.key))
        self.memory = memory if memory is not None else MemoryGuard(None, None)
        self._log_event = log_event
        self._tasks: Mapping[Any, Any] = tasks if tasks is not None else {}
        self._warned = 0
        self._warn_lock = threading.Lock()
        self._limit_warned: set[str] = set()
        self._stuck = 0
        self._stuck_lock = threading.Lock()
        removed = remove_stale_partials(settings.directory, host=self.host)
        if removed:
            logger.info(
                "dask-replay: removed %d temporary file(s) of dead writers from %s",
                len(removed),
                settings.directory,
            )

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
        """Write a snapshot of ``exc``, raised by ``run_spec(data)``; never raises.

        Returns within ``snapshot.capture-timeout`` plus a fraction of a second,
        whatever the objects to pickle do (see ``_budget``).
        """
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
                safe_str(err, 300),
            )
            return Outcome()

    def _capture(
        self, exc: BaseException, run_spec: Any, data: Mapping[Any, Any], task: TaskInfo
    ) -> Outcome:
        settings = self.settings
        guard = self.guard
        filename, function, line = raising_frame(exc)
        fp = fingerprint(task.prefix, function, type(exc), filename, line)
        make_private_dirs(settings.directory)
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
        with self._stuck_lock:
            stuck = self._stuck
        if stuck >= MAX_STUCK:
            return Outcome(
                note=f"dask-replay: no snapshot written: {stuck} earlier capture(s) on this "
                "worker are still stuck past snapshot.capture-timeout"
            )
        # Counted only for failures that get a snapshot: a storm must not leave
        # a counter file per failed key behind.
        attempt = guard.attempt(task.key)
        redactor = self.redactor.for_capture()
        failure = Failure(
            exc=exc,
            run_spec=run_spec,
            data=data,
            call=innermost_call(exc, run_spec, data),
            task_section=task_section(
                task, run_spec, attempt, fp, admission.occurrence, self.redactor
            ),
            origin={
                "host": self.host,
                "worker": self.worker_address,
                "worker_name": self.worker_name,
                "pid": os.getpid(),
                "thread": threading.current_thread().name,
                "thread_id": threading.get_ident(),
            },
            frames=tuple(frame for frame, _ in iter_traceback(exc.__traceback__)),
            path=guard.new_path(task.key, self.host),
        )
        headroom = self.memory.headroom()
        if headroom is not None and headroom < RESERVE:
            why = f"not captured: {self.memory.describe(self.memory.rss())}"
            return self._manifest_only(failure, redactor, why, task, attempt, fp)
        job = CaptureJob(
            lambda job: self._work(job, failure, redactor, min(settings.max_total_size, remaining)),
            on_abandon=self._one_more_stuck,
            on_end=self._one_less_stuck,
        )
        if not job.wait(settings.capture_timeout, self.memory):
            assert job.reason is not None
            return self._manifest_only(failure, redactor, job.reason, task, attempt, fp)
        if job.error is not None:
            raise job.error
        written: _Written | None = job.result
        if written is None:
            return Outcome()
        return self._outcome(exc, task, attempt, fp, written, job.reason)

    def _one_more_stuck(self) -> None:
        with self._stuck_lock:
            self._stuck += 1

    def _one_less_stuck(self) -> None:
        with self._stuck_lock:
            self._stuck -= 1

    def _work(
        self, job: CaptureJob, failure: Failure, redactor: snapshot.Redactor, total: int
    ) -> _Written | None:
        """The capture proper, in the capture thread: fill, write, upload."""
        settings = self.settings
        limits = snapshot.WriteLimits(
            max_piece_bytes=settings.max_object_size, max_total_bytes=total
        )
        extra: dict[str, Any] = {"cancel": job.cancel} if _BUILDER_TAKES_CANCEL else {}
        if _BUILDER_SPOOLS:
            extra["spool_dir"] = settings.directory  # big pickles wait on disk, not in memory
        job.interrupts = not _BUILDER_TAKES_CANCEL
        builder = snapshot.SnapshotBuilder(limits=limits, redactor=redactor, **extra)
        job.builder = builder
        broken: str | None = None
        try:
            fill(settings, builder, job, failure, redactor)
        except Cancelled:
            broken = job.reason or "cancelled"
        except Exception as err:  # the builder's contract says never; be sure anyway
            broken = safe_str(err, 300)
        if job.abandoned:
            return None
        written: Path | None = None
        path = failure.path
        if broken is None:
            try:
                job.checkpoint("writing the file")
                written = builder.write(path, key=settings.key)
            except Cancelled:
                broken = job.reason or "cancelled"
            except Exception as err:
                broken = safe_str(err, 300)
        if broken is not None:
            # Whatever went wrong, what failed and where is still worth a file.
            try:
                written = builder.write(path, key=settings.key, pieces=False, reason=broken)
            except Exception as err:
                self.warn(
                    "no snapshot written for task %r: %s (%s)",
                    failure.task_section["key"],
                    safe_str(err, 300),
                    type(err).__name__,
                )
                return None
            if job.reason is None:
                self.warn(
                    "only the manifest of the snapshot of task %r was written to %s: %s",
                    failure.task_section["key"],
                    written,
                    broken,
                )
        assert written is not None
        left_out = _left_out_of(builder)
        copy = self._upload(written, failure.task_section["key"]) if settings.upload else None
        if job.abandoned:  # the task's thread wrote the manifest-only file meanwhile
            written.unlink(missing_ok=True)
            return None
        return _Written(written, broken, left_out, copy, manifest_only=broken is not None)

    def _manifest_only(
        self,
        failure: Failure,
        redactor: snapshot.Redactor,
        reason: str,
        task: TaskInfo,
        attempt: int,
        fp: str,
    ) -> Outcome:
        """Write the manifest alone from the task's thread (abandoned, or no memory)."""
        settings = self.settings
        try:
            written = write_manifest_only(
                failure,
                reason=reason,
                redactor=redactor,
                environment=snapshot.environment_info(
                    env_allow=settings.env_allow, redactor=redactor
                ),
                key=settings.key,
            )
        except Exception as err:
            self.warn(
                "no snapshot written for task %r (%s): %s", task.key, reason, safe_str(err, 300)
            )
            return Outcome(note=f"dask-replay: no snapshot written: {reason}")
        self.warn(
            "the snapshot of task %r at %s holds the manifest only: %s", task.key, written, reason
        )
        copy = self._upload(written, task.key) if settings.upload else None
        return self._outcome(
            failure.exc,
            task,
            attempt,
            fp,
            _Written(written, reason, [reason], copy, manifest_only=True),
            reason,
        )

    def _outcome(
        self,
        exc: BaseException,
        task: TaskInfo,
        attempt: int,
        fp: str,
        written: _Written,
        stopped: str | None,
    ) -> Outcome:
        left_out = written.left_out
        if left_out and written.broken is None:
            self.warn(
                "the snapshot of task %r at %s is incomplete: %d object(s) left out: %s",
                task.key,
                written.path,
                len(left_out),
                "; ".join(left_out[:5]) + ("; ..." if len(left_out) > 5 else ""),
            )
        copy = written.url
        event = {
            "key": snapshot.key_to_json(task.key),
            "path": str(written.path),
            "url": copy,
            "host": self.host,
            "worker": self.worker_address,
            "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "message": self.redactor.redact_text(safe_str(exc, 500)),
            "fingerprint": fp,
            "attempt": attempt,
            "bytes": _size(written.path),
            "complete": not left_out and written.broken is None,
            "stopped": stopped,
        }
        note = f"dask-replay: snapshot written to {self.host}:{written.path}"
        if copy:
            note += f"\ndask-replay: copied to {copy}"
        if stopped:
            held = "the manifest only" if written.manifest_only else "what was captured before"
            note += f"\ndask-replay: {stopped}; the snapshot holds {held}"
        return Outcome(path=written.path, note=note, event=event)

    def _upload(self, written: Path, key: Any) -> str | None:
        return upload(written, f"{self.settings.upload}/{written.name}", key, self.warn)

    def publish(self, event: dict[str, Any]) -> None:
        """Send the event to the scheduler (thread-safe in Worker.log_event)."""
        try:
            self._log_event("snapshot", event)
        except Exception as err:
            self.warn("could not publish the snapshot event: %s", err)


def _key_literals(key: bytes | None) -> tuple[str, ...]:
    """The signing key as text, in the forms it could appear in: never written."""
    if not key:
        return ()
    text = key.decode("utf-8", "surrogateescape")
    return tuple({text, text.strip(), key.hex()})


def _left_out_of(builder: snapshot.SnapshotBuilder) -> list[str]:
    """The builder's own report of what it lost (errors, caps, cancelling, live resources)."""
    try:
        return [str(entry) for entry in builder.left_out()]
    except Exception as err:  # the report must not cost the snapshot
        return [f"the capture report could not be made: {type(err).__name__}"]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
