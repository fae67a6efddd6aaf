"""Progress on stderr while loading: silent for fast loads, then throttled."""

from __future__ import annotations

import io
from pathlib import Path

import replay
from replay._fetch.progress import ProgressReporter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_silent_during_the_first_second_then_throttled() -> None:
    clock, stream = Clock(), io.StringIO()
    reporter = ProgressReporter("big.tar.zst", stream=stream, clock=clock)
    reporter(1, 100 * 2**20)
    clock.now = 0.9
    reporter(2**20, 100 * 2**20)
    assert stream.getvalue() == ""
    clock.now = 1.2
    reporter(50 * 2**20, 100 * 2**20)
    clock.now = 1.3
    reporter(60 * 2**20, 100 * 2**20)  # within the interval: dropped
    clock.now = 2.0
    reporter(100 * 2**20, 100 * 2**20)
    reporter.finish()
    assert stream.getvalue().splitlines() == [
        "Loading big.tar.zst: 50.0 MiB of 100.0 MiB (50%), 1.2 s",
        "Loading big.tar.zst: 100.0 MiB of 100.0 MiB (100%), 2.0 s",
    ]


def test_load_reports_progress_through_the_callback(recip_snapshot: Path) -> None:
    stream = io.StringIO()
    replay.load(recip_snapshot, progress=ProgressReporter("s", stream=stream, delay=0, interval=0))
    assert "Loading s:" in stream.getvalue()
    assert "(100%)" in stream.getvalue()
