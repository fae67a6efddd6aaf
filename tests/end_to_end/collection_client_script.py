"""One failure of each kind of task, run as ``__main__`` on a LocalCluster with the hook.

Usage: ``python collection_client_script.py SNAPSHOT_DIR OUT.json``.  The user's
functions live in ``__main__`` (as in a notebook), so they travel by value.
Writes ``{scenario: snapshot path}`` (from the hook's note on each exception).
"""

import json
import sys

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask import delayed
from distributed import Client, LocalCluster

NOTE = "dask-replay: snapshot written to "


def make_err(x):
    return 1 / x


def block_err(block):
    scale = len(block)
    return np.array([scale / int(v) for v in block])


def partition_err(part):
    smallest = int(part["a"].min())
    return part["a"] * (1 / smallest)


def scenarios(client):
    frame = dd.from_pandas(pd.DataFrame({"a": [1, 0, 2]}), npartitions=1)
    array = da.from_array(np.array([2, 1, 3]), chunks=3)
    return {
        "delayed": lambda: delayed(make_err)(delayed(int)(0)).compute(),
        "futures": lambda: client.submit(make_err, 0).result(),
        "bag": lambda: db.from_sequence([1, 0, 2], npartitions=1).map(make_err).compute(),
        "dataframe-map": lambda: frame.a.map(make_err, meta=("a", float)).compute(),
        "dataframe-map_partitions": lambda: frame.map_partitions(
            partition_err, meta=("a", float)
        ).compute(),
        "array": lambda: (array - 1).map_blocks(block_err, dtype=float).sum().compute(),
    }


def main(directory, out):
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": directory,
        "snapshot.max-per-fingerprint": 100,
    }
    found = {}
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        for name, run in scenarios(client).items():
            try:
                run()
                found[name] = None
            except Exception as exc:
                notes = [n for n in getattr(exc, "__notes__", []) if n.startswith(NOTE)]
                found[name] = notes[-1][len(NOTE) :].split(":", 1)[1] if notes else repr(exc)
    with open(out, "w") as fh:
        json.dump(found, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
