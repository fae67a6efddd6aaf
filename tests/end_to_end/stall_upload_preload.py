"""A worker preload: a ``stall://`` remote store whose uploads never finish.

Used by tests/end_to_end/test_death_writer_dies.py: the worker writing a
death snapshot hangs in ``snapshot.upload`` after the file is complete, as a
worker does on an unreachable bucket, until the test kills it.
"""

from __future__ import annotations

import threading
from typing import Any

import fsspec
from fsspec.spec import AbstractFileSystem


class StallingFileSystem(AbstractFileSystem):  # type: ignore[misc]
    protocol = "stall"

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        pass

    def put_file(self, lpath: str, rpath: str, **kwargs: Any) -> None:
        threading.Event().wait()


fsspec.register_implementation("stall", StallingFileSystem, clobber=True)
