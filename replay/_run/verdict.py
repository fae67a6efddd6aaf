"""Whether a replay reproduced the captured failure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import snapshot

from .._terminal import for_terminal

__all__ = ["Outcome", "Verdict", "judge"]


class Verdict(enum.Enum):
    """How the replayed call ended compared with the captured failure."""

    REPRODUCED = "reproduced"
    DIFFERENT_MESSAGE = "different message"
    DIFFERENT_ERROR = "different error"
    NO_ERROR = "no error"


@dataclass(frozen=True)
class Outcome:
    """The result of re-executing the captured call."""

    verdict: Verdict
    exception: BaseException | None = None
    result: object = None

    @property
    def raised(self) -> bool:
        return self.exception is not None

    def describe(self, error: snapshot.Error | None) -> str:
        """One sentence for the user, given the manifest's ``error`` section.

        Every name and message in it is escaped for a terminal and capped.
        """
        error = error or snapshot.Error()
        captured = _label(error.module, error.type)
        said = for_terminal(error.message or "", one_line=True)
        if self.verdict is Verdict.REPRODUCED:
            return f"Reproduced: {captured}: {said}"
        if self.verdict is Verdict.NO_ERROR:
            return (
                f"Not reproduced: the call returned {_short_repr(self.result)} here, "
                f"where the worker raised {captured}. The failure may depend on "
                "something outside the inputs (time, a service, random state): "
                "`--frames` opens the frames captured at the raise."
            )
        assert self.exception is not None
        replayed = _label(type(self.exception).__module__, type(self.exception).__qualname__)
        message = for_terminal(_message(self.exception), one_line=True)
        if self.verdict is Verdict.DIFFERENT_MESSAGE:
            return (
                f"Reproduced with a different message: {replayed}: {message} "
                f"(the worker said: {said})"
            )
        return (
            f"A different error: {replayed}: {message} "
            f"(the worker raised {captured}); `--frames` shows the captured frames."
        )


def judge(error: snapshot.Error | None, exception: BaseException | None, result: object) -> Outcome:
    """Compare a replay's exception (or ``None``) with the captured ``error`` section."""
    if exception is None:
        return Outcome(Verdict.NO_ERROR, None, result)
    error = error or snapshot.Error()
    kind = type(exception)
    if kind.__qualname__ != error.type or kind.__module__ != error.module:
        return Outcome(Verdict.DIFFERENT_ERROR, exception)
    if _message(exception) == error.message:
        return Outcome(Verdict.REPRODUCED, exception)
    return Outcome(Verdict.DIFFERENT_MESSAGE, exception)


def _message(exception: BaseException) -> str:
    try:
        return str(exception)
    except Exception:
        return ""


def _label(module: str | None, name: str | None) -> str:
    if module in (None, "builtins"):
        return for_terminal(name or "?", one_line=True)
    return for_terminal(f"{module}.{name}", one_line=True)


def _short_repr(value: object, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return for_terminal(text if len(text) <= limit else text[: limit - 3] + "...", one_line=True)
