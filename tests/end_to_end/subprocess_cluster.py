"""Helpers for the end-to-end tests that start `dask scheduler` / `dask worker` processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to the process group the test started (never wider)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for_workers(address: str, n: int, env: dict[str, str]) -> None:
    code = (
        "import sys; from distributed import Client\n"
        "with Client(sys.argv[1], timeout=60) as c: c.wait_for_workers(int(sys.argv[2]), timeout=60)"
    )
    subprocess.run([sys.executable, "-c", code, address, str(n)], env=env, check=True, timeout=150)
