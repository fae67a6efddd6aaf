"""dask-replay's benchmarks: ``python -m benchmarks`` (``make bench``) writes docs/performance.md.

Each module measures one concept side by side with its baseline (``success``,
``capture``, ``inspect_replay``, ``storm``, ``anchor``); ``_harness`` runs the
contenders in alternating rounds and computes medians, spreads and ratios.
"""

from __future__ import annotations

from ._cli import main

__all__ = ["main"]
