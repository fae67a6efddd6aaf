"""Which captured frames are the user's own code, and which belong to installed libraries.

The rule (Sentry's "in app", debugpy's ``justMyCode``) is
``snapshot.is_library_frame``, shared with the HTML page; here are what replay
builds on it: the user's function that raised (``snapshot.failing_frame_index``),
where a collection's user function raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from snapshot import is_library_frame

__all__ = ["failing_function_index", "is_library_frame"]


def failing_function_index(frames: Sequence[Any]) -> int | None:
    """The index of the user's function where the exception was raised
    (``snapshot.failing_frame_index``, the page's answer too)."""
    import snapshot  # loaded already (is_library_frame): the name only

    return snapshot.failing_frame_index(frames)
