"""Section 4.3, ``error``: the exception, its chain and an exception group's members.

The members are read within bounds.  A hostile file may list a million members, claim a depth of a billion or
break the depth-first order; the model keeps at most :data:`MAX_MEMBERS`
entries, each at most :data:`MAX_DEPTH` deep and at most one level below the
entry before it (an entry that is not is dropped, with its members, and said;
a missing ``depth`` is 1),
and counts what it did not keep in ``members_omitted``.
"""

from __future__ import annotations

from typing import Any

from .fields import Builder, is_int
from .manifest import ChainEntry, Error, GroupMember

__all__ = ["MAX_DEPTH", "MAX_MEMBERS", "error_section"]

#: Entries kept; the reference writer writes at most these (``_write.exception``).
MAX_MEMBERS = 20
#: Levels kept; the reference writer writes at most these.
MAX_DEPTH = 5
#: A count of members larger than this is not a count a writer made.
MAX_COUNT = 10**9


def error_section(b: Builder, error: dict[str, Any] | None) -> Error | None:
    """Section 4.3: the ``error`` section's model; None when the manifest has none."""
    if error is None:
        return None
    chain = []
    for where, entry in b.objects(b.array(error, "chain", "error."), "error.chain"):
        at = where + "."
        chain.append(
            ChainEntry(
                relation=b.string(entry, "relation", at),
                type=b.string(entry, "type", at),
                module=b.string(entry, "module", at),
                message=b.string(entry, "message", at),
                notes=b.strings(entry, "notes", at),
            )
        )
    return Error(
        type=b.string(error, "type", "error."),
        module=b.string(error, "module", "error."),
        message=b.string(error, "message", "error."),
        notes=b.strings(error, "notes", "error."),
        traceback=b.string(error, "traceback", "error."),
        chain=tuple(chain),
        **_group_members(b, error),
    )


def _group_members(b: Builder, error: dict[str, Any]) -> dict[str, Any]:
    """``members`` and ``members_omitted`` of the ``error`` section, for :class:`Error`."""
    out: dict[str, Any] = {}
    omitted = _count(b, error, "members_omitted", "error.")
    items = b.array(error, "members", "error.")
    if items is None:
        return {"members_omitted": omitted} if omitted is not None else out
    members: list[GroupMember] = []
    previous = 0
    skipped_below: int | None = None  # the depth of a dropped entry: its members go too
    for where, entry in b.objects(items[:MAX_MEMBERS], "error.members"):
        at = where + "."
        depth = entry.get("depth", 1)
        if skipped_below is not None and is_int(depth) and depth > skipped_below:
            continue  # a member of a dropped group
        if not (is_int(depth) and 1 <= depth <= min(MAX_DEPTH, previous + 1)):
            b.problem(f"{at}depth", depth, f"an integer from 1 to {min(MAX_DEPTH, previous + 1)}")
            skipped_below = depth if is_int(depth) else None
            continue
        skipped_below = None
        previous = depth
        members.append(
            GroupMember(
                depth=depth,
                type=b.string(entry, "type", at),
                module=b.string(entry, "module", at),
                message=b.string(entry, "message", at),
                omitted=_count(b, entry, "omitted", at),
            )
        )
    unread = max(0, len(items) - MAX_MEMBERS)
    out["members"] = tuple(members)
    if omitted is not None or unread:
        out["members_omitted"] = min(MAX_COUNT, (omitted or 0) + unread)
    return out


def _count(b: Builder, obj: dict[str, Any], key: str, at: str) -> int | None:
    value: Any = obj.get(key)
    if key not in obj or (is_int(value) and 0 <= value <= MAX_COUNT):
        return value
    b.problem(f"{at}{key}", value, f"an integer from 0 to {MAX_COUNT:,}")
    return None
