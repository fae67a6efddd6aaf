"""The seed write-up's session, run as ``__main__`` against a real scheduler.

Usage: ``python hook_client_script.py SCHEDULER_ADDRESS OUT.json``.  The user's
functions live in ``__main__`` (as in a notebook), so they travel by value.
Writes, per scenario, the exception type and the full text the user sees.
"""

import json
import sys
import traceback

import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask import delayed
from distributed import Client


def dec(x):
    return x - 1


def recip(x):
    return 1 / x


def recip_partition(df):
    return df["a"].map(dec).map(recip)


def recip_block(block):
    return np.array([recip(int(v)) for v in block], dtype=float)


inputs = [9, 4, 2, 76, 2, 1, 5]


def main(address, out_path):
    c = Client(address)
    ddec, drecip, dsum = delayed(dec), delayed(recip), delayed(sum)
    out = dsum([drecip(ddec(x)) for x in inputs])
    frame = dd.from_pandas(pd.DataFrame({"a": inputs}), npartitions=2)
    array = da.from_array(np.array(inputs), chunks=3)

    def futures():
        futs1 = c.map(dec, inputs)
        futs2 = c.map(recip, futs1)
        return c.gather(c.submit(sum, futs2))

    def bag():
        bag2 = c.persist(db.from_sequence(inputs).map(dec).map(recip))
        return bag2.sum().compute()

    scenarios = {
        "delayed": out.compute,
        "futures": futures,
        "bag": bag,
        "dataframe": lambda: frame.map_partitions(recip_partition, meta=("a", float)).compute(),
        "array": lambda: (array - 1).map_blocks(recip_block, dtype=float).sum().compute(),
    }
    report = {}
    for name, run in scenarios.items():
        try:
            run()
            report[name] = {"type": None, "text": ""}
        except Exception as e:
            report[name] = {
                "type": type(e).__name__,
                "text": "".join(traceback.format_exception(e)),
            }
    report["events"] = [msg for _, msg in c.get_events("snapshot")]
    c.close()
    with open(out_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
