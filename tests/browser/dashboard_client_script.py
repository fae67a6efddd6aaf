"""Fail ``recip(0)`` once on each worker of a running cluster; print what the client saw.

``python dashboard_client_script.py SCHEDULER``: prints JSON, per worker
address, the exception's type and its notes.  Waits first until every
worker knows the Snapshots page's URL (it learns it at setup, for its notes).
"""

from __future__ import annotations

import json
import sys
import time

from dashboard_seed_funcs import recip
from distributed import Client, wait

HOSTILE = {
    "key": '<img src=x onerror="window.__pwned=1">',
    "path": '/x/"><svg onload="window.__pwned=1">.tar.zst',
    "exception": "<script>window.__pwned=1</script>",
    "message": "javascript:alert(1) </td></tr></table><script>alert(1)</script> \u202e\x1b[31m",
    "host": '<iframe src="http://192.0.2.1/">',
    "url": "javascript:alert(1)",
    "death": {"cause": "<style>body{display:none}</style>"},
}


def _pages_url(dask_worker=None):
    capturer = dask_worker.plugins["dask-replay"]._capturer
    return getattr(capturer, "pages_url", None)


def main(address: str) -> None:
    with Client(address, timeout=60) as client:
        deadline = time.monotonic() + 60
        while not all(client.run(_pages_url).values()):
            assert time.monotonic() < deadline, client.run(_pages_url)
            time.sleep(0.1)
        # A hostile event first (any client may publish on the topic): the oldest row.
        client.log_event("snapshot", HOSTILE)
        seen = {}
        for worker in sorted(client.scheduler_info(n_workers=-1)["workers"]):
            future = client.submit(recip, 0, workers=[worker], pure=False)
            wait(future)
            exc = future.exception()
            seen[worker] = {"type": type(exc).__name__, "notes": list(exc.__notes__)}
            time.sleep(1.1)  # distinct times: the list's order is the failures' order
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
