"""Section 4.13, ``on_demand``: in snapshots written on request (``cluster_hook.capture``)."""

from __future__ import annotations

from typing import Any

from .fields import Builder
from .manifest import OnDemand

__all__ = ["on_demand_section"]


def on_demand_section(b: Builder, raw: dict[str, Any] | None) -> OnDemand | None:
    """Section 4.13: present means the snapshot was asked for, whatever its fields say."""
    if raw is None:
        return None
    at = "on_demand."
    return OnDemand(
        trigger=b.string(raw, "trigger", at),
        state=b.string(raw, "state", at),
        result=b.string(raw, "result", at),
        requested_by=b.string(raw, "requested_by", at, null=True),
        time=b.number(raw, "time", at),
    )
