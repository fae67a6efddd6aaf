"""Turning one live failure into a snapshot file, bounded in time and memory.

Called from the wrapper's ``except`` block (``wrapper``; the Dask hook's
run_spec wrapper), in the failing thread, while the traceback still holds
every frame's locals and the resolved inputs are in hand.  The cheap
decisions (storm limits, memory headroom, the call) are made there; the
pickling and writing run in a helper thread that the failing thread waits for
at most ``capture_timeout``, and no longer than ``capture_stall_timeout``
while the pickling makes no progress (``budget``).  Nothing here may raise into the
caller: :meth:`Capturer.capture` returns a :class:`CaptureOutcome`, and the
wrapper re-raises the caller's own exception whatever happened.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._limits import WriteLimits
from .._text import safe_str
from .._write.builder import SnapshotBuilder
from .._write.environment import environment_info
from .._write.exception import iter_traceback
from .._write.redact import Redactor
from .budget import CaptureJob
from .contents import fill, task_section
from .directory import make_private_dirs, remove_stale_partials
from .failure import CapturePolicy, Failure, TaskInfo
from .fallback import write_manifest_only
from .gcpause import collector_paused
from .memory import RESERVE, MemoryGuard
from .outcome import CaptureOutcome, Written, exception_message, left_out_of, written_outcome
from .settings import CaptureSettings
from .storm import Admission, StormGuard, failure_fingerprint, raising_frame
from .upload import upload_snapshot

#: Warnings logged per process; further ones are suppressed (storms).
MAX_WARNINGS = 20
#: Abandoned captures still running (stuck in a ``__getstate__``) past which no
#: new capture starts: each one holds a thread and the objects it was pickling.
MAX_STUCK = 2


class Capturer:
    """Writes snapshots for one process; shared by all of its threads.

    ``policy``: the host's rules (plain Python's by default).  ``origin``: what
    the manifest's ``origin`` says of this process besides host, pid and thread
    (the Dask hook: ``worker``, ``worker_name``).  ``publish`` receives each
    snapshot's event; ``logger`` the warnings (the hook's reach the worker's log).
    """

    def __init__(
        self,
        settings: CaptureSettings,
        *,
        policy: CapturePolicy | None = None,
        origin: Mapping[str, Any] | None = None,
        publish: Callable[[dict[str, Any]], None] | None = None,
        memory: MemoryGuard | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy if policy is not None else CapturePolicy()
        self.origin = dict(origin or {})
        self.host = socket.gethostname()
        self.guard = StormGuard(
            settings.directory, settings.max_per_fingerprint, settings.max_directory_size
        )
        self.redactor = Redactor(settings.redact, literals=_key_literals(settings.key))
        self.memory = memory if memory is not None else MemoryGuard(None, None)
        self.logger = logger if logger is not None else logging.getLogger("snapshot.capture")
        self._publish = publish
        self._warned = 0
        self._warn_lock = threading.Lock()
        self._limit_warned: set[str] = set()
        self._stuck = 0
        self._stuck_lock = threading.Lock()
        removed = remove_stale_partials(settings.directory, host=self.host)
        if removed:
            self.logger.info(
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
            self.logger.warning("dask-replay: " + message, *args)
        if count == MAX_WARNINGS:
            self.logger.warning(
                "dask-replay: further capture warnings in this process are suppressed"
            )

    # -- capture ------------------------------------------------------------
    def capture(
        self, exc: BaseException, run_spec: Any, data: Mapping[Any, Any] | None = None
    ) -> CaptureOutcome:
        """Write a snapshot of ``exc``, raised by ``run_spec`` on ``data``; never raises.

        ``run_spec`` is what ran: the host's task object, or a plain call as a
        ``functools.partial``; ``data`` its resolved inputs by key.  Returns
        within ``capture_timeout`` plus a fraction of a second, whatever the
        objects to pickle do (see ``budget``).
        """
        key = getattr(run_spec, "key", None) or getattr(run_spec, "func", None)
        data = data if data is not None else {}
        try:
            task = self.policy.task_of(run_spec)
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
            return CaptureOutcome()

    def report(self, exc: BaseException, outcome: CaptureOutcome) -> None:
        """Add the outcome's note to ``exc`` and publish its event; never raises."""
        # Two independent steps: an exception that refuses notes (a __notes__
        # property, a broken __str__ in the warning) must not cost the event.
        if outcome.note is not None:
            try:
                exc.add_note(outcome.note)
            except Exception as err:
                self.warn("could not add the note to the exception: %s", type(err).__name__)
        if outcome.event is not None and self._publish is not None:
            try:
                self._publish(outcome.event)
            except Exception as err:
                self.warn("could not publish the snapshot event: %s", err)

    def _capture(
        self, exc: BaseException, run_spec: Any, data: Mapping[Any, Any], task: TaskInfo
    ) -> CaptureOutcome:
        settings = self.settings
        guard = self.guard
        filename, function, line = raising_frame(exc)
        fp = failure_fingerprint(task.prefix, function, type(exc), filename, line)
        make_private_dirs(settings.directory)
        guard.prune_once()
        admission = guard.admit(fp)
        if not admission.admitted:
            if fp not in self._limit_warned:
                self._limit_warned.add(fp)
                self.logger.info(
                    "dask-replay: %s; counting further failures only", admission.reason
                )
            return CaptureOutcome(note=f"dask-replay: no snapshot written: {admission.reason}")
        remaining = guard.remaining_bytes()
        if remaining <= 0:
            self.warn(
                "no snapshot written for task %r: %s holds more than %d bytes "
                "(snapshot.max-directory-size)",
                task.key,
                settings.directory,
                settings.max_directory_size,
            )
            return CaptureOutcome()
        with self._stuck_lock:
            stuck = self._stuck
        if stuck >= MAX_STUCK:
            return CaptureOutcome(
                note=f"dask-replay: no snapshot written: {stuck} earlier capture(s) in this "
                "process are still stuck past their budget (snapshot.capture-timeout, "
                "snapshot.capture-stall-timeout)"
            )
        # Counted only for failures that get a snapshot: a storm must not leave
        # a counter file per failed key behind.
        attempt = guard.attempt(task.key)
        redactor = self.redactor.for_capture()
        failure = Failure(
            exc=exc,
            run_spec=run_spec,
            data=data,
            call=self.policy.call_of(exc, run_spec, data),
            task_section={
                **task_section(task, run_spec, attempt, fp, admission.occurrence, self.redactor),
                **_storm_fields(admission),
            },
            origin={
                "host": self.host,
                **self.origin,
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
        with collector_paused():
            ended = job.wait(settings.capture_timeout, self.memory, settings.capture_stall_timeout)
        if not ended:
            assert job.reason is not None
            return self._manifest_only(failure, redactor, job.reason, task, attempt, fp)
        if job.error is not None:
            raise job.error
        written: Written | None = job.result
        if written is None:
            return CaptureOutcome()
        return self._outcome(exc, task, attempt, fp, written, job.reason)

    def _one_more_stuck(self) -> None:
        with self._stuck_lock:
            self._stuck += 1

    def _one_less_stuck(self) -> None:
        with self._stuck_lock:
            self._stuck -= 1

    def _work(
        self, job: CaptureJob, failure: Failure, redactor: Redactor, total: int
    ) -> Written | None:
        """The capture proper, in the capture thread: fill, write, upload."""
        settings = self.settings
        limits = WriteLimits(max_piece_bytes=settings.max_object_size, max_total_bytes=total)
        builder = SnapshotBuilder(
            limits=limits,
            redactor=redactor,
            cancel=job.cancel,  # set by the waiting thread: stops pickling, keeps what it has
            spool_dir=settings.directory,  # big pickles wait on disk, not in memory
        )
        job.builder = builder
        broken: str | None = None
        try:
            fill(settings, builder, job, failure, redactor, self.policy)
        except Exception as err:  # the builder's contract says never; be sure anyway
            broken = safe_str(err, 300)
        if job.abandoned:
            return None
        written: Path | None = None
        path = failure.path
        if broken is None:
            try:
                job.checkpoint("the exception and the frames' locals")
                builder.finish_pieces()
                job.checkpoint("writing the file", watched=False)
                if job.abandoned:  # stalled in a local: the task's thread wrote the manifest
                    return None
                written = builder.write(path, key=settings.key)
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
        left_out = left_out_of(builder)
        copy = self._upload(written)
        if job.abandoned:
            # The task's thread wrote the manifest-only file meanwhile, at the same
            # path (both writes are atomic renames): whichever landed last is the
            # file the note names, complete or manifest-only.  Never unlink it:
            # that deleted the only file when ours landed first.
            return None
        return Written(written, broken, left_out, copy, manifest_only=broken is not None)

    def _manifest_only(
        self,
        failure: Failure,
        redactor: Redactor,
        reason: str,
        task: TaskInfo,
        attempt: int,
        fp: str,
    ) -> CaptureOutcome:
        """Write the manifest alone from the task's thread (abandoned, or no memory)."""
        settings = self.settings
        try:
            written = write_manifest_only(
                failure,
                reason=reason,
                redactor=redactor,
                environment=environment_info(env_allow=settings.env_allow, redactor=redactor),
                key=settings.key,
            )
        except Exception as err:
            self.warn(
                "no snapshot written for task %r (%s): %s", task.key, reason, safe_str(err, 300)
            )
            return CaptureOutcome(note=f"dask-replay: no snapshot written: {reason}")
        self.warn(
            "the snapshot of task %r at %s holds the manifest only: %s", task.key, written, reason
        )
        copy = self._upload(written)
        return self._outcome(
            failure.exc,
            task,
            attempt,
            fp,
            Written(written, reason, [reason], copy, manifest_only=True),
            reason,
        )

    def _outcome(
        self,
        exc: BaseException,
        task: TaskInfo,
        attempt: int,
        fp: str,
        written: Written,
        stopped: str | None,
    ) -> CaptureOutcome:
        left_out = written.left_out
        if left_out and written.broken is None:
            self.warn(
                "the snapshot of task %r at %s is incomplete: %d object(s) left out: %s",
                task.key,
                written.path,
                len(left_out),
                "; ".join(left_out[:5]) + ("; ..." if len(left_out) > 5 else ""),
            )
        return written_outcome(
            exc,
            written,
            key=task.key,
            attempt=attempt,
            fp=fp,
            stopped=stopped,
            host=self.host,
            worker=self.origin.get("worker"),
            message=self.redactor.redact_text(exception_message(exc)),
        )

    def _upload(self, written: Path) -> str | None:
        upload = self.settings.upload
        return upload_snapshot(written, upload, self.warn) if upload else None


def _key_literals(key: bytes | None) -> tuple[str, ...]:
    """The signing key as text, in the forms it could appear in: never written."""
    if not key:
        return ()
    text = key.decode("utf-8", "surrogateescape")
    return tuple({text, text.strip(), key.hex()})


def _storm_fields(admission: Admission) -> dict[str, str]:
    """The task section's word on whose storm budget admitted this snapshot."""
    fields = {"storm_scope": admission.scope}
    if admission.note:
        fields["storm_note"] = admission.note
    return fields
