"""dask-replay's benchmarks: ``python -m benchmarks`` (``make bench``) writes docs/performance.md.

Each module measures one concept side by side with its baseline (``success``,
``capture``, ``inspect_replay``, ``storm``, ``anchor``); ``_harness`` runs the
contenders in alternating rounds and computes medians, spreads and ratios.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    # Lazily: the user functions that replays import by name (``_userfuncs``,
    # ``_loadfiles``) must not drag the whole harness (numpy, the workspace) in.
    if name == "main":
        from ._cli import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
