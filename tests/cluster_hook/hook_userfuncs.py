"""The user's code of the test scenarios: the seed write-up's functions and friends.

Workers import this module (it is on the test process's ``sys.path``), so
snapshots refer to its functions by reference; the replay subprocess gets it
on ``PYTHONPATH``.  tests/end_to_end covers functions defined in ``__main__``.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np

INPUTS = [9, 4, 2, 76, 2, 1, 5]  # dec(1) == 0: recip(0) raises ZeroDivisionError

#: Planted secrets; none of them may appear in a snapshot file.  They are
#: joined at run time so that this file's source (which snapshots carry) does
#: not spell them.
CANARIES = tuple(
    "-".join(("CANARY", part))
    for part in ("kwarg-api-token-5f1c", "local-password-a9e2", "nested-secret-77b0", "env-3d4d")
)


def dec(x):
    return x - 1


def recip(x):
    return 1 / x


def dec_recip(x):
    return recip(dec(x))


async def arecip(x):
    await asyncio.sleep(0)
    return 1 / x


def recip_block(block):
    """For dask.array map_blocks: one element per call to recip."""
    return np.array([recip(int(v)) for v in block], dtype=float)


def recip_partition(df):
    """For dask.dataframe map_partitions."""
    return df["a"].map(dec).map(recip)


def recip_row(row):
    """For dask.dataframe apply(axis=1)."""
    return recip(dec(int(row["a"])))


def recip_with_lock(x):
    lock = threading.Lock()  # an unpicklable local  # noqa: F841
    return 1 / x


def recip_with_secrets(x, api_token=CANARIES[0]):
    password = CANARIES[1]  # noqa: F841
    settings = {"db": {"host": "db.example", "secret": CANARIES[2]}}  # noqa: F841
    return 1 / x


def recip_big(x, payload):
    return 1 / x


def recip_of_text(text):
    """Fails on any input; its input is the data that capture-inputs=False withholds."""
    return 1 / (len(text) - len(text))


def scaled_recip(x, scale=1, offset=0):
    """Keyword arguments, some of them dependencies."""
    return scale / (x + offset)


def recip_partition_with(df, column, offset=0):
    """map_partitions with extra positional and keyword arguments."""
    return df[column].map(lambda v: recip(v + offset))
