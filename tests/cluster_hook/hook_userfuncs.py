"""The user's code of the test scenarios: the seed write-up's functions and friends.

Workers import this module (it is on the test process's ``sys.path``), so
snapshots refer to its functions by reference; the replay subprocess gets it
on ``PYTHONPATH``.  tests/end_to_end covers functions defined in ``__main__``.
"""

from __future__ import annotations

import _thread
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


def recip_with_unpicklable(x):
    state = _thread._local()  # cannot be pickled, and no module holds it  # noqa: F841
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


#: Secrets in values rather than names: a URL password, a bearer
#: token, a plain object's secret attribute, the signing key.  Joined at run
#: time, like CANARIES.
VALUE_CANARIES = {
    part: "-".join(("CANARY", part, tag))
    for part, tag in (("urlpw", "61d0"), ("bearer", "0c9a"), ("attr", "f3e2"), ("sigkey", "a7b4"))
}


class ServiceClient:
    """A plain object holding a secret attribute next to ordinary ones."""

    def __init__(self, dsn):
        self.secret_key = VALUE_CANARIES["attr"]
        self.dsn = dsn
        self.name = "service-visible-2b7a"


def recip_with_credentials(x, dsn, extra=None):
    headers = {"Accept": "application/json", "Authorization": "Bearer " + VALUE_CANARIES["bearer"]}  # noqa: F841
    client = ServiceClient(dsn)  # noqa: F841
    message = "connecting to " + dsn  # noqa: F841
    return 1 / x


class NoRepr(Exception):
    """An exception whose __repr__ raises."""

    def __repr__(self):
        raise RuntimeError("no repr")


class NoStr(NoRepr):
    """An exception whose __str__ and __repr__ raise (distributed itself calls str())."""

    def __str__(self):
        raise RuntimeError("no str")


def raise_hostile(kind, x):
    raise {"repr": NoRepr, "str": NoStr}[kind](x)


class BlocksForever:
    """Pickling it never returns (a __getstate__ stuck on a network call)."""

    def __getstate__(self):
        threading.Event().wait()


class SleepsWhenPickled:
    """Pickling it takes ``seconds``; each pickling appends one byte to ``count_path``."""

    def __init__(self, seconds, count_path):
        self.seconds = seconds
        self.count_path = count_path

    def __getstate__(self):
        import time

        with open(self.count_path, "ab") as f:
            f.write(b".")
        time.sleep(self.seconds)
        return self.__dict__


def make(kind, *args):
    """Build an object on the worker, so that only the capture ever pickles it."""
    return {"blocks": BlocksForever, "sleeps": SleepsWhenPickled, "list": list}[kind](*args)


def recip_holding(x, obj):
    return 1 / x


#: What AllocatesWhenPickled holds on to, until the test frees it.
HELD: list[bytes] = []


class AllocatesWhenPickled:
    """Pickling it grows the process by ``nbytes`` (touched pages) and keeps them."""

    def __init__(self, nbytes):
        self.nbytes = nbytes

    def __getstate__(self):
        import time

        HELD.append(b"\x01" * self.nbytes)
        time.sleep(0.5)  # long enough for the hook's 20 ms memory checks to see it
        return self.__dict__


def release_held():
    HELD.clear()


def recip_of_two(x, first, second):
    return 1 / x
