"""The user's code of the dashboard tests (a unique module name: workers import it)."""

from __future__ import annotations


def recip(x):
    return 1 / x


def fail_with(kind, message):
    raise {"ValueError": ValueError, "KeyError": KeyError}[kind](message)


def recip_with_blob(x, n):
    """Fails like ``recip``, with ``n`` incompressible bytes among its locals."""
    import os

    blob = os.urandom(n)
    return len(blob) / x
