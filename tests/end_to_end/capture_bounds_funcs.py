"""The user's code of the capture-bounds test: importable by the workers and the test."""

import time

import numpy as np


class Inflates:
    """Small where it lives; its ``__reduce__`` returns ``n`` bytes (64 MiB in the test)."""

    def __init__(self, n):
        self.n = n

    def __reduce__(self):
        return (bytes, (b"\0" * self.n,))


class Sleeps:
    """A ``__getstate__`` that takes ``seconds`` (30 in the test)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __getstate__(self):
        time.sleep(self.seconds)
        return {"seconds": self.seconds}


def inflates(n):
    return Inflates(n)


def sleeps(seconds):
    return Sleeps(seconds)


def honest(mib, strings):
    """A large object pickled honestly: ``mib`` MiB of random bytes and many short strings."""
    rng = np.random.default_rng(0)
    return {
        "array": rng.integers(0, 256, mib * 2**20, dtype=np.uint8),
        "words": [f"word-{i}" for i in range(strings)],
    }


#: Joined at run time: this file's source, which snapshots store, must not spell it.
COLUMN_CANARY = "-".join(("CANARY", "subprocess", "column", "7c1d"))


def accounts(n):
    """A DataFrame with a column named like a secret, made on the worker."""
    import pandas as pd

    return pd.DataFrame(
        {"amount": np.arange(n, dtype="float64"), "password": [COLUMN_CANARY] * n, "user": "ann"}
    )


def fails_with(obj):
    raise ValueError(f"cannot use {type(obj).__name__}")
