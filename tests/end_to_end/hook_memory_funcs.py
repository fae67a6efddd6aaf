"""The user's code of the memory test: importable by the worker and the replay."""

import os


def make_bytes(n):
    return os.urandom(n)


def fails_on(payload):
    raise ValueError(f"bad payload of {len(payload)} bytes")
