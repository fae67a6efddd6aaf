"""``check``'s parent side: which snapshots the paths name, one child process each, ``-j N``.

Each snapshot runs in ``python -c 'from replay._check.child import main; main()'``
(in its own session, so that a timeout kills whatever it started).  The child
writes its result to a file; a child that writes none (a segfault, ``os._exit``,
killed for its memory) is reported from its exit status and the end of its
stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

import snapshot

from .._fetch.remote import is_url, local_path
from .verdicts import CheckResult, CheckVerdict

__all__ = ["CheckOptions", "check_one", "check_paths", "snapshot_files"]

_CHILD = "from replay._check.child import main; main()"
_STDERR_TAIL = 2_000


@dataclass(frozen=True)
class CheckOptions:
    """How each snapshot is checked (the command line's options)."""

    key: bytes | None = None
    allow_unsigned: bool = False
    #: Scripts, notebooks or exports defining by-value functions (their current version runs).
    sources: tuple[str, ...] = ()
    #: Seconds one snapshot may take (None: no limit); past it, the child is killed.
    timeout: float | None = None
    #: A death's memory limit: "worker" (as recorded), bytes, or None for none.
    memory_limit: int | str | None = "worker"


def snapshot_files(paths: Iterable[str]) -> list[str]:
    """The snapshots ``paths`` name: files and URLs as given, directories searched.

    A directory yields its ``*.zst`` files, recursively, sorted, hidden names
    skipped (the writer's temporary files).  Raises
    :class:`snapshot.SnapshotNotFoundError` for a path that does not exist, or
    a directory that holds no snapshot.
    """
    found: list[str] = []
    for given in paths:
        path = local_path(given) if is_url(given) else given
        if path is None:  # a remote object: read by the child
            found.append(given)
        elif os.path.isdir(path):
            inside = sorted(_walk(path))
            if not inside:
                raise snapshot.SnapshotNotFoundError(
                    f"{given}: no snapshots (*.zst files) in this directory", path=given
                )
            found += inside
        elif os.path.exists(path):
            found.append(given)
        else:
            raise snapshot.SnapshotNotFoundError(f"{given}: no such file or directory", path=given)
    return found


def _walk(directory: str) -> Iterable[str]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".zst") and not name.startswith("."):
                yield os.path.join(root, name)


def check_paths(
    paths: Sequence[str],
    options: CheckOptions,
    *,
    jobs: int = 1,
    done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check every snapshot ``paths`` name, ``jobs`` at a time; results in their order.

    ``done(result)`` is called as each finishes (from a worker thread).
    """
    files = snapshot_files(paths)

    def one(path: str) -> CheckResult:
        result = check_one(path, options)
        if done is not None:
            done(result)
        return result

    if jobs <= 1 or len(files) <= 1:
        return [one(path) for path in files]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, files))


def check_one(path: str, options: CheckOptions) -> CheckResult:
    """Check one snapshot in a child process of its own."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="replay-check-") as scratch:
        result_file = os.path.join(scratch, "result.json")
        request = {
            "path": path,
            "key": options.key.hex() if options.key is not None else None,
            "allow_unsigned": options.allow_unsigned,
            "sources": [os.path.abspath(p) for p in options.sources],
            "memory_limit": options.memory_limit,
            "result": result_file,
            "sys_path": [p for p in sys.path if p],
        }
        with open(os.path.join(scratch, "stderr"), "w+b") as stderr:
            status = _run_child(json.dumps(request), stderr, options.timeout)
            stderr.seek(0, os.SEEK_END)
            stderr.seek(max(0, stderr.tell() - _STDERR_TAIL))
            tail = stderr.read().decode("utf-8", "replace")
        seconds = round(time.perf_counter() - started, 3)
        try:
            with open(result_file, encoding="utf-8") as fh:
                document = json.load(fh)
        except (OSError, ValueError):
            return _no_result(path, status, tail, options.timeout, seconds)
    document["seconds"] = seconds
    return CheckResult.from_json(document, path)


def _run_child(request: str, stderr: IO[bytes], timeout: float | None) -> int | None:
    """Run the child; its exit status, or None when it was killed for taking too long."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        process.communicate(request.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        return None
    except BaseException:
        _kill(process)
        raise
    return process.returncode


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()


def _no_result(
    path: str, status: int | None, tail: str, timeout: float | None, seconds: float
) -> CheckResult:
    """The result of a child that wrote none: it hung, crashed or ended itself."""
    verdict = CheckVerdict.CHANGED
    model = _manifest(path)
    death = model.death if model is not None else None
    if status is None:
        reason = f"did not finish within --timeout {timeout:g} s; killed"
    elif status < 0:
        name = signal.Signals(-status).name if -status in signal.valid_signals() else -status
        reason = f"the re-run ended the process with signal {name}"
        if death is not None and death.cause == "signal" and death.signal == -status:
            verdict, reason = CheckVerdict.FAILS, f"dies again of {name}"
    else:
        reason = f"the re-run ended the process with exit status {status}"
    last = [line for line in tail.splitlines() if line.strip()][-1:]
    if last:
        reason += f" (its last words: {last[0].strip()[:200]})"
    task = model.task.key if model is not None and model.task is not None else None
    return CheckResult(
        path,
        verdict,
        reason=reason,
        task=str(task) if task is not None else None,
        seconds=seconds,
    )


def _manifest(path: str) -> snapshot.Manifest | None:
    """The manifest of a local snapshot, for a child that said nothing; None if unreadable."""
    local = local_path(path) if is_url(path) else path
    if local is None:
        return None
    try:
        return snapshot.parse_manifest(snapshot.read_manifest(local), path=local)
    except (snapshot.SnapshotError, OSError, ValueError, TypeError):
        return None
