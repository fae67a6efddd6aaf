"""The seed's failure on a real LocalCluster with the hook, as a client's ``__main__`` script.

``python seed_client_script.py DIR``: workers (processes) and the client load
``cluster_hook`` through Dask config; ``sum(recip(dec(x)) ...)`` fails where
``dec(1) == 0``.  The worker writes its snapshot to ``DIR/worker``; the client's
part writes its copy, with this script's source added, to ``DIR/client``.
Prints the two paths, one per line.
"""

from __future__ import annotations

import sys
from pathlib import Path

INPUTS = [9, 4, 2, 76, 2, 1, 5]


def dec(x):
    return x - 1


def recip(x):
    return 1 / x


def main(directory: Path) -> None:
    import dask
    import distributed
    from dask import delayed
    from dask.distributed import Client, LocalCluster

    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "distributed.client.preload": ["cluster_hook"],
        "snapshot.directory": str(directory / "worker"),
        "snapshot.client-directory": str(directory / "client"),
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        total = delayed(sum)([delayed(recip)(delayed(dec)(x)) for x in INPUTS])
        future = client.compute(total)
        distributed.wait(future)
        assert isinstance(future.exception(), ZeroDivisionError), future.exception()
    (worker,) = (directory / "worker").glob("*.tar.zst")
    (copy,) = (directory / "client").glob("*.tar.zst")
    print(worker)
    print(copy)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
