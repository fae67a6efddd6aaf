"""The user code the benchmarks run on clusters and capture.

It lives in an importable module, not in ``__main__``: workers and replaying
interpreters import it by name, as they would import a user's package.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

KINDS = ("random", "arange")

#: ``time.perf_counter()`` just before the last :func:`fail_holding` raised.
raised_at = 0.0


def make_array(kind: str, nbytes: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``nbytes`` of float64: random normal (barely compressible) or ``np.arange``."""
    n = nbytes // 8
    if kind == "random":
        return np.random.default_rng(20261127).standard_normal(n)
    if kind == "arange":
        return np.arange(n, dtype=np.float64)
    raise ValueError(f"unknown data kind {kind!r}; expected one of {KINDS}")


def inc(x: int) -> int:
    return x + 1


def fail_holding(x: Any) -> None:
    """The failing task of the capture and anchor benchmarks: a bug near a big input."""
    global raised_at
    total = float(x[:10].sum())
    raised_at = time.perf_counter()
    raise ValueError(f"bad partition (head sums to {total})")


def storm_bug(i: int) -> int:
    """The same bug in every task of the error storm."""
    return i // 0


def recip(x: float) -> float:
    return 1 / x


async def async_recip(x: float) -> float:
    return 1 / x


def recip_partition(df: Any) -> Any:
    return df.assign(y=1 / int(df.x.iloc[0]))


def recip_block(block: Any) -> Any:
    return 1 / int(block.flat[0]) + block
