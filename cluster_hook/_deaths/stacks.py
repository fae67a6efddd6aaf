"""Python stacks of a worker process that dies: ``faulthandler`` into a file of its own.

A segfault, an abort or the SIGTERM the nanny sends when memory runs out kill
the worker before any Python code of ours can run.  ``faulthandler`` writes the
stack of every thread from its C signal handler, so each worker process points
it at ``<snapshot.directory>/.faulthandler/<worker address>.log``; the nanny
reads that file after the process exited (:mod:`cluster_hook._deaths.nanny`)
and the death snapshot carries its text.  ``os._exit``, which ends the process
without a signal, is wrapped to write the stacks first.  SIGKILL (the kernel's OOM killer,
the nanny's second try) cannot be caught: it leaves the file empty.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import threading
from pathlib import Path
from typing import IO, NoReturn

from snapshot import make_private_dirs

#: What a death snapshot keeps of a stack file, from its end (the latest dump).
MAX_STACK_BYTES = 256 * 1024
STACK_DIR = ".faulthandler"
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")

# Signals whose default action ends the process and that faulthandler can
# report: enable() covers SIGSEGV, SIGFPE, SIGABRT, SIGBUS and SIGILL; SIGTERM is
# registered on top (the nanny's memory kill), chained to its previous handler
# so that the process still ends as it would have.
_lock = threading.Lock()
_open: dict[str, IO[str]] = {}
_real_exit = os._exit


def _exit_with_stacks(status: int) -> NoReturn:
    """``os._exit``, after writing every thread's stack to the stack file.

    faulthandler reports fatal signals only; a task that calls ``os._exit``
    ends the process without one.  This stands in for ``os._exit`` while a
    stack file is open, so that such a death shows the line that called it.
    """
    for handle in list(_open.values()):
        try:
            handle.write(f"os._exit({status}) was called; the stack of each thread:\n\n")
            handle.flush()
            faulthandler.dump_traceback(file=handle, all_threads=True)
        except Exception:
            pass
    _real_exit(status)


def stack_file(directory: Path, worker_address: str) -> Path:
    """Where the worker at ``worker_address`` writes its stacks."""
    slug = _SLUG.sub("_", worker_address).strip("_.-")[-120:] or "worker"
    return directory / STACK_DIR / f"{slug}.log"


def enable(path: Path) -> bool:
    """Send this process's fatal-signal stacks (all threads) and SIGTERM's to ``path``.

    Returns False, changing nothing, when the file cannot be created.
    """
    with _lock:
        try:
            make_private_dirs(path.parent)
            handle = open(path, "w", encoding="utf-8")
            os.chmod(path, 0o600)
        except OSError:
            return False
        faulthandler.enable(file=handle, all_threads=True)
        if hasattr(signal, "SIGTERM") and hasattr(faulthandler, "register"):
            faulthandler.register(signal.SIGTERM, file=handle, all_threads=True, chain=True)
        for old in _open.values():
            old.close()
        _open.clear()
        _open[str(path)] = handle
        os._exit = _exit_with_stacks
        return True


def disable(path: Path) -> None:
    """Undo :func:`enable` for ``path`` (the worker closes cleanly) and delete the file."""
    with _lock:
        handle = _open.pop(str(path), None)
        if handle is None:
            return
        if hasattr(signal, "SIGTERM") and hasattr(faulthandler, "unregister"):
            faulthandler.unregister(signal.SIGTERM)
        faulthandler.disable()
        if os._exit is _exit_with_stacks:
            os._exit = _real_exit
        handle.close()
        path.unlink(missing_ok=True)


def collect(path: Path) -> str | None:
    """The stacks written to ``path`` (its last MAX_STACK_BYTES), then remove it.

    None when the file is missing or empty: the process died without a dump.
    """
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - MAX_STACK_BYTES))
            raw = f.read()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    text = raw.decode("utf-8", "replace").strip()
    return text or None
