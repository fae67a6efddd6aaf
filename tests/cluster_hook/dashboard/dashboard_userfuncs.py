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


def _touch(path):
    """What unpickling a ``Tripwire`` calls: leaves a file behind."""
    with open(path, "w") as f:
        f.write("unpickled")
    return path


class Tripwire:
    """A local whose unpickling (never its pickling) writes ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (_touch, (self.path,))


def fail_holding_a_tripwire(path):
    wire = Tripwire(path)
    return 1 / len(wire.path[:0])


def recip_holding_many_words(x, n):
    """Fails like ``recip``, with a list of ``n`` distinct strings among its locals (a
    large pickle of its own, no out-of-band buffer)."""
    words = [f"word-{i:09d}" for i in range(n)]
    return len(words) / x
