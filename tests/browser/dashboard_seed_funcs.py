"""The user's code of the dashboard's browser tests: an importable module, so that the
worker verifies its source and the page shows the line that ran."""

from __future__ import annotations


def recip(x):
    return 1 / x
