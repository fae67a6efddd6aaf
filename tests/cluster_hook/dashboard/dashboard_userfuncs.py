"""The user's code of the dashboard tests (a unique module name: workers import it)."""

from __future__ import annotations


def recip(x):
    return 1 / x


def fail_with(kind, message):
    raise {"ValueError": ValueError, "KeyError": KeyError}[kind](message)
