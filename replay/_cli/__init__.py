"""The command line, ``python -m replay`` and ``dask-replay``: ``main`` is its entry point."""

from __future__ import annotations

from .dispatch import EXIT_CODES, main

__all__ = ["EXIT_CODES", "main"]
