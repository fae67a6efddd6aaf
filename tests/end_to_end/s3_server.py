"""A real S3 endpoint for the tests: moto's server in a subprocess, and a counting proxy.

moto (``python -m moto.server``) speaks the S3 REST protocol over HTTP on a
local port; s3fs talks to it as to AWS, with dummy credentials and the
endpoint given the way users give theirs (``FSSPEC_S3_ENDPOINT_URL``, and
botocore's ``AWS_ENDPOINT_URL_S3`` for a process that imported fsspec before).
:class:`CountingProxy` forwards TCP to it and counts the bytes the server sends
back: what a command really fetched, measured on the wire.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from subprocess_cluster import free_port, stop

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "dask-replay-test",
    "AWS_SECRET_ACCESS_KEY": "dask-replay-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def endpoint_env(endpoint: str) -> dict[str, str]:
    """The variables that point s3fs (and botocore) at ``endpoint``, credentials included."""
    return {
        **CREDENTIALS,
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        # No instance-metadata lookups: they would wait for a cloud that is not there.
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """``python -m moto.server`` on a free port; yields its endpoint URL, always stops it."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, for stop()
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        stop(proc)  # type: ignore[arg-type]


class CountingProxy:
    """A TCP proxy to ``upstream`` (host, port) that counts the bytes sent back to clients."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.received = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.received = 0

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if count:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def without_aws(env: dict[str, str]) -> dict[str, str]:
    """``env`` without any credentials or AWS configuration a process could find."""
    clean = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    clean.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return clean
