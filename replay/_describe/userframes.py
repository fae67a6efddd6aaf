"""Which captured frames are the user's own code, and which belong to installed libraries.

The rule (Sentry's "in app", debugpy's ``justMyCode``) is
``snapshot.is_library_frame``, shared with the HTML page; here are what replay
builds on it: the innermost user frame is where a collection's user function
raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from snapshot import is_library_frame

__all__ = ["failing_function_index", "innermost_user_frame", "is_library_frame"]


def innermost_user_frame(frames: Sequence[Any]) -> int | None:
    """The index of the innermost frame of user code, or None when every frame is a
    library's (frames are outermost first, as the manifest records them)."""
    for index in range(len(frames) - 1, -1, -1):
        if not is_library_frame(frames[index]):
            return index
    return None


#: Frames Python makes for a comprehension or a generator expression: the user's
#: function is the one around them.
_INNER_SCOPES = ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")


def failing_function_index(frames: Sequence[Any]) -> int | None:
    """The index of the user's function where the exception was raised: the innermost
    user frame, or the function around it when that frame is a comprehension's."""
    index = innermost_user_frame(frames)
    if index is None:
        return None
    while (
        index > 0
        and frames[index].function in _INNER_SCOPES
        and not is_library_frame(frames[index - 1])
    ):
        index -= 1
    return index
