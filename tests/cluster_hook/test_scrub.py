"""scrub_node and frame_locals: one walk per container in a capture, every redaction kept."""

from __future__ import annotations

import functools
import sys
from types import FrameType
from typing import Any

from dask._task_spec import Task

import snapshot
from cluster_hook._policy import frame_locals
from cluster_hook._scrub import scrub_node


def _frames(depth: int, shared: Any) -> list[FrameType]:
    """``depth`` live frames of a recursion whose every frame holds ``shared``."""
    frames: list[FrameType] = []

    def down(n: int, held: Any, count: int) -> None:
        if n <= 1:
            frame: FrameType | None = sys._getframe()
            while frame is not None and len(frames) < depth:
                frames.append(frame)
                frame = frame.f_back
            return
        down(n - 1, held, count + 1)

    down(depth, shared, 0)
    return frames


def _secret_task() -> Task:
    return Task("k", print, 1, api_token="tok-8d2f", other="visible")


def test_a_container_every_frame_holds_is_walked_once_per_capture() -> None:
    shared = (_secret_task(), functools.partial(print, password="pw-3c9a"), [1, "x"])
    frames = _frames(20, shared)
    redactor = snapshot.Redactor().for_capture()
    stored = [frame_locals(frame, redactor)["held"] for frame in frames]
    first = stored[0]
    assert first is not shared  # a copy: the task's own objects are untouched
    assert first[0].kwargs == {"api_token": snapshot.REDACTED, "other": "visible"}
    assert first[1].keywords == {"password": snapshot.REDACTED}
    assert shared[0].kwargs["api_token"] == "tok-8d2f"
    # Walked once: every further frame gets the first walk's result itself.
    assert all(each is first for each in stored)
    # Without a per-capture redactor nothing is remembered, all is still redacted.
    plain = snapshot.Redactor()
    again = [frame_locals(frame, plain)["held"] for frame in frames[:2]]
    assert again[0] is not again[1]
    assert all(each[0].kwargs["api_token"] == snapshot.REDACTED for each in again)


def test_a_walk_cut_by_a_bound_is_not_remembered() -> None:
    levels: list[Any] = [(functools.partial(print, api_key="key-51be"),)]
    for _ in range(70):  # deeper than the walk goes: the secret is past the cut
        levels.append((levels[-1],))
    redactor = snapshot.Redactor().for_capture()
    assert scrub_node(levels[-1], redactor) is levels[-1]  # cut: stored as it is
    # Met again near the top in the same capture: walked, not the cut result.
    for level in levels[:10]:
        inner = scrub_node(level, redactor)
        while isinstance(inner, tuple):
            inner = inner[0]
        assert inner.keywords == {"api_key": snapshot.REDACTED}


def test_frame_locals_without_changes_is_the_frames_own_mapping() -> None:
    frames = _frames(3, (1, 2, "plain"))
    redactor = snapshot.Redactor().for_capture()
    stored = frame_locals(frames[0], redactor)
    assert stored == frames[0].f_locals
    assert stored["held"] == (1, 2, "plain")
