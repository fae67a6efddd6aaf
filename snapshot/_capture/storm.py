"""Bounding snapshots under error storms, safely across threads and processes.

A bug that hits 10,000 partitions must not write 10,000 snapshots.  Each
failure has a *fingerprint*: the task's prefix (what the host names the
operation: dask's ``recip``, ``recip_block``; every partition shares it),
the raising function and line, and the exception type.  The first
``max-per-fingerprint`` occurrences are written, the rest counted.
Processes on one host (a cluster's workers) usually share the snapshot
directory, so the counts live there, as files, not in memory:

    <directory>/.storm/<scope>/<fingerprint>          one byte per occurrence
    <directory>/.storm/<scope>/attempts/<key digest>  one byte per snapshot of a key

``scope`` is what the host sets (the Dask hook: the scheduler's id once known,
so a new cluster starts a fresh budget; an old run's snapshots do not silence
a new one), before that the process.  A counter is bumped by one ``O_APPEND`` write; the file
offset after that write is this occurrence's number, exact even when
processes race (the kernel serialises appends to one file on a local disk).
Scope directories older than a week are pruned, best effort.

That budget is per host.  A host that can ask for a budget shared by every
host (the Dask hook asks its scheduler: ``cluster_hook._storms``) hands the
guard a *cluster* admission (:meth:`StormGuard.set_cluster`); its answer
wins, and when it has none (unreachable, too slow, no such budget) the
per-host rule applies and the snapshot says so.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: File name ending of every snapshot the hook writes.
SNAPSHOT_SUFFIX = ".tar.zst"
STORM_DIR = ".storm"
_PRUNE_AFTER = 7 * 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{16}")
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def failure_fingerprint(
    prefix: str, function: str, exc_type: type[BaseException], filename: str, line: int
) -> str:
    """A short stable digest of which operation failed, where and how."""
    kind = f"{exc_type.__module__}.{exc_type.__qualname__}"
    text = f"{prefix}\0{kind}\0{filename}\0{function}\0{line}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def raising_frame(exc: BaseException) -> tuple[str, str, int]:
    """``(filename, qualname, line)`` of the frame ``exc`` was raised in: its fingerprint's where."""
    tb = exc.__traceback__
    if tb is None:
        return ("?", "?", 0)
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return (code.co_filename, getattr(code, "co_qualname", code.co_name), tb.tb_lineno)


def _bump(path: Path) -> int:
    """Append one byte to ``path``; return how many bytes it now holds up to ours."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
        return os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Admission:
    """Whether one failure may be written, and why not if it may not."""

    admitted: bool
    occurrence: int  # 1 for the first failure with this fingerprint in this scope
    reason: str = ""
    # Whose budget decided: "cluster" (every host's failures counted together)
    # or "host" (the failures of the processes sharing this directory).
    scope: str = "host"
    # Why a cluster's budget was not used, when the host has one.
    note: str = ""


#: Asks the cluster's budget about one fingerprint; None when it cannot answer.
ClusterAdmission = Callable[[str], "Admission | None"]


class StormGuard:
    """Decides which failures get a snapshot, and where each one goes."""

    def __init__(self, directory: Path, max_per_fingerprint: int, max_directory_size: int) -> None:
        self.directory = directory
        self.max_per_fingerprint = max_per_fingerprint
        self.max_directory_size = max_directory_size
        self.scope = f"process-{socket.gethostname()}-{os.getpid()}-{int(time.time())}"
        self._pruned = False
        self._lock = threading.Lock()
        self._cluster: ClusterAdmission | None = None

    def set_scope(self, scope: str) -> None:
        self.scope = _SLUG.sub("_", scope)[-100:]

    def _scope_dir(self) -> Path:
        root = self.directory / STORM_DIR
        root.mkdir(exist_ok=True, mode=0o700)
        path = root / self.scope
        path.mkdir(exist_ok=True, mode=0o700)
        return path

    def set_cluster(self, ask: ClusterAdmission | None) -> None:
        """Ask ``ask`` first for every failure (None: the per-host rule alone)."""
        self._cluster = ask

    def admit(self, fp: str) -> Admission:
        """Count one failure with fingerprint ``fp``; admit the first few.

        The cluster's budget decides when the host has one and it answers;
        otherwise this host's count does, and the admission says why.
        """
        note = ""
        ask = self._cluster
        if ask is not None:
            try:
                answer = ask(fp)
            except Exception as err:  # a host's budget must never fail the capture
                answer = None
                note = f"the cluster's snapshot budget failed ({type(err).__name__})"
            if answer is not None:
                return answer
            note = note or "the cluster's snapshot budget did not answer"
            note += "; the per-host limit applied"
        occurrence = _bump(self._scope_dir() / fp)
        if occurrence > self.max_per_fingerprint:
            return Admission(
                False,
                occurrence,
                f"{self.max_per_fingerprint} snapshot(s) already written for this failure "
                f"(fingerprint {fp}, occurrence {occurrence}; snapshot.max-per-fingerprint)",
                note=note,
            )
        return Admission(True, occurrence, note=note)

    def attempt(self, key: object) -> int:
        """This snapshot's number among the snapshots of ``key`` (retries) in this scope."""
        digest = hashlib.sha256(repr(key).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        attempts = self._scope_dir() / "attempts"
        attempts.mkdir(exist_ok=True, mode=0o700)
        return _bump(attempts / digest)

    def used_bytes(self) -> int:
        """Bytes held by snapshots (and half-written ones) in the directory now."""
        total = 0
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if entry.name.endswith((SNAPSHOT_SUFFIX, ".partial")) and entry.is_file():
                        try:
                            total += entry.stat().st_size
                        except OSError:
                            pass
        except FileNotFoundError:
            return 0
        return total

    def remaining_bytes(self) -> int:
        """What the directory may still take (snapshot.max-directory-size)."""
        return self.max_directory_size - self.used_bytes()

    def new_path(self, key: object, host: str, token: str | None = None) -> Path:
        """A file name no other writer, thread or process, will pick.

        ``token``: the name's last part instead of a random one, for a writer
        that must find again what an earlier attempt wrote (a death's id, 16
        hex digits; anything else is ignored).
        """
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        slug = _SLUG.sub("_", str(key if not isinstance(key, tuple) else "-".join(map(str, key))))
        slug = slug.strip("_.-")[:60] or "task"
        host_slug = _SLUG.sub("_", host)[:40]
        name = f"{stamp}-{slug}-{host_slug}-{os.getpid()}-{token if token and _TOKEN.fullmatch(token) else secrets.token_hex(4)}{SNAPSHOT_SUFFIX}"
        return self.directory / name

    def written_with(self, token: str) -> Path | None:
        """The complete snapshot an earlier :meth:`new_path` with ``token`` named, if any."""
        if not _TOKEN.fullmatch(token):
            return None
        try:
            found = sorted(self.directory.glob(f"*-{token}{SNAPSHOT_SUFFIX}"))
        except OSError:
            return None
        return found[0] if found else None

    def prune_once(self) -> None:
        """Remove scope directories untouched for a week; once per process."""
        with self._lock:
            if self._pruned:
                return
            self._pruned = True
        root = self.directory / STORM_DIR
        cutoff = time.time() - _PRUNE_AFTER
        try:
            with os.scandir(root) as entries:
                for entry in entries:
                    if entry.is_dir() and entry.stat().st_mtime < cutoff:
                        shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass
