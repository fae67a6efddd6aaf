"""Whether a replay reproduced the captured failure, or the worker's death, and the sentence saying so."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import snapshot

from .._describe.death import death_label
from .._terminal import for_terminal
from .compare import compare_results
from .conditions import ProcessExit

__all__ = ["Outcome", "Verdict", "death_verdict", "judge", "judge_death", "judge_result"]


class Verdict(enum.Enum):
    """How the replayed call ended compared with the captured failure."""

    REPRODUCED = "reproduced"
    DIFFERENT_MESSAGE = "different message"
    DIFFERENT_ERROR = "different error"
    NO_ERROR = "no error"
    # A snapshot asked for of a task that finished (spec 4.13): its value compared.
    SAME_RESULT = "same result"
    DIFFERENT_RESULT = "different result"
    NOT_COMPARED = "not compared"  # the captured result was not stored (a cap, a setting)


@dataclass(frozen=True)
class Outcome:
    """The result of re-executing the captured call."""

    verdict: Verdict
    exception: BaseException | None = None
    result: object = None
    #: How the result differs from the one captured (``DIFFERENT_RESULT``), in a line.
    difference: str = ""

    @property
    def raised(self) -> bool:
        return self.exception is not None

    def describe(self, error: snapshot.Error | None) -> str:
        """One sentence for the user, given the manifest's ``error`` section.

        Every name and message in it is escaped for a terminal and capped.
        """
        if self.verdict in (Verdict.SAME_RESULT, Verdict.DIFFERENT_RESULT, Verdict.NOT_COMPARED):
            return self._describe_result()
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

    def _describe_result(self) -> str:
        if self.verdict is Verdict.SAME_RESULT:
            return f"Same result: the call returned {_short_repr(self.result)}, as on the cluster."
        if self.verdict is Verdict.NOT_COMPARED:
            return (
                f"The call returned {_short_repr(self.result)}; the task's result was not "
                f"stored ({for_terminal(self.difference, one_line=True)}): nothing to compare."
            )
        if self.exception is not None:
            kind = _label(type(self.exception).__module__, type(self.exception).__qualname__)
            said = for_terminal(_message(self.exception), one_line=True)
            return f"A different result: the call raised {kind}: {said} here, where it returned."
        return f"A different result: {for_terminal(self.difference, one_line=True)}"


def judge_result(captured: object, exception: BaseException | None, result: object) -> Outcome:
    """Compare a replay of a finished task (spec 4.13) with the value the task returned."""
    if exception is not None:
        return Outcome(Verdict.DIFFERENT_RESULT, exception)
    if isinstance(captured, snapshot.Placeholder):
        return Outcome(Verdict.NOT_COMPARED, None, result, captured.reason or captured.status)
    difference = compare_results(captured, result)
    if difference is None:
        return Outcome(Verdict.SAME_RESULT, None, result)
    return Outcome(Verdict.DIFFERENT_RESULT, None, result, difference)


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


def judge_death(
    manifest: snapshot.Manifest, exception: BaseException | None, result: object
) -> Outcome | None:
    """The verdict of a death's replay (None for a failure): reproduced when the call
    ran out of memory where the nanny killed the worker, or called ``os._exit`` with the
    worker's exit status."""
    section = manifest.death
    if section is None:
        return None
    if exception is None:
        return Outcome(Verdict.NO_ERROR, None, result)
    same = (isinstance(exception, MemoryError) and section.cause == "memory") or (
        isinstance(exception, ProcessExit)
        and section.cause == "exit"
        and section.exit_code == exception.status
    )
    return Outcome(Verdict.REPRODUCED if same else Verdict.DIFFERENT_ERROR, exception)


def death_verdict(manifest: snapshot.Manifest, outcome: Outcome) -> str | None:
    """One sentence: did the replay die the way the worker died?  None for a failure."""
    section = manifest.death
    if section is None:
        return None
    label = death_label(manifest)
    exception = outcome.exception
    if outcome.verdict is Verdict.NO_ERROR:
        return (
            f"Not reproduced: the call returned {_short_repr(outcome.result)} here, where the "
            "worker "
            f"died ({label}). The crash may depend on the worker's conditions (other tasks' "
            "memory, threads, a library's state): try a lower --memory-limit, or read the "
            "stacks above."
        )
    if isinstance(exception, MemoryError):
        if section.cause == "memory":
            return (
                "Reproduced: the call ran out of memory under the worker's limit (MemoryError "
                "here, where the nanny killed the worker)."
            )
        return f"The call ran out of memory here (MemoryError); the worker died of {label}."
    if isinstance(exception, ProcessExit):
        if section.cause == "exit" and section.exit_code == exception.status:
            return f"Reproduced: the call called os._exit({exception.status}), as on the worker."
        return f"The call called os._exit({exception.status}); the worker died of {label}."
    kind, message = "?", ""
    if exception is not None:
        kind = for_terminal(type(exception).__qualname__, one_line=True)
        message = for_terminal(_message(exception), one_line=True)
    return (
        f"A different ending: the call raised {kind}: {message} here; the worker died of {label}."
    )


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
    return for_terminal(snapshot.safe_repr(value, limit), one_line=True)
