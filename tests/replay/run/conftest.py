"""Fixtures of the debugger tests: a DAP session on a process under debugpy (``ide_session``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ide_session import Replay


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Any]:
    started: list[Replay] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLAY_TEST_", "DEBUGPY"))}
    env.pop("PYTHONBREAKPOINT", None)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")

    def start(args: list[str], cwd: Path, code: str | None = None, **extra: str) -> Replay:
        session = Replay(args, cwd, {**env, **extra}, code)
        started.append(session)
        return session

    yield start
    for session in started:
        session.kill()
