"""The inputs of a death snapshot that were recomputed from their lineage, for the writer.

:class:`~cluster_hook._deaths.scheduler.DeathWatch` asks
:func:`cluster_hook._lineage.recover.recover` to recompute the inputs that died
with the worker; before each attempt to write, :meth:`RecomputedInputs.apply`
adds those now in memory (and their holders) to what the writing worker
gathers, names the others as lost with the reason, and flags, as recomputed,
an input that survived this death but was itself recomputed after an earlier
one (the input of a retried task: the same task object, still held).
"""

from __future__ import annotations

from typing import Any

from .._lineage.recover import Recovery, still_held

#: Recomputed keys remembered for the deaths after the one they were recomputed for.
MAX_KNOWN = 1000


class RecomputedInputs:
    """The death watch's memory of the inputs it had recomputed."""

    def __init__(self) -> None:
        self._known: dict[Any, tuple[int, dict[str, Any]]] = {}

    def apply(
        self, scheduler: Any, record: dict[str, Any], recovery: Recovery, strict: bool
    ) -> None:
        """Add the recomputed inputs (and where they are now) to what the writer gathers."""
        held = still_held(scheduler, recovery)
        lost = record["lost"]
        recomputed = {}
        for key in recovery.recomputing:
            if key in held:
                record["who_has"][key] = held[key]
                record["nbytes"][key] = int(scheduler.tasks[key].get_nbytes())
                recomputed[key] = recovery.recomputing[key]
                lost.pop(key, None)
            elif key in recovery.missing:
                lost[key] = f"held only by the dead worker, and {recovery.missing[key]}"
        for key, why in recovery.missing.items():
            if key not in recovery.recomputing:
                lost[key] = f"held only by the dead worker, and not recomputed: {why}"
        strict_keys = list(recomputed)
        # An input that survived this death but was itself recomputed after an
        # earlier one (a retried task's input): flagged as well.
        for key in record["who_has"]:
            earlier = self._known.get(key)
            ts = scheduler.tasks.get(key)
            if key not in recomputed and earlier is not None and earlier[0] == id(ts):
                recomputed[key] = {
                    **earlier[1],
                    "by": f"{earlier[1]['by']}, after an earlier death",
                }
        record["recomputed"] = recomputed
        # Until the last attempt, the writer does not write without an input
        # recomputed for it: it asks to be sent again once the input is back.
        record["strict"] = strict_keys if strict else []

    def remember(self, scheduler: Any, recovery: Recovery) -> None:
        """The keys being recomputed for a death, with their task (bounded); call at once."""
        for key, how in recovery.recomputing.items():
            self._known[key] = (id(scheduler.tasks.get(key)), how)
        while len(self._known) > MAX_KNOWN:
            del self._known[next(iter(self._known))]
