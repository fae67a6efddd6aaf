"""Real failures for ``check`` and the pytest plugin: a LocalCluster(processes=True) with the
hook, run in a subprocess whose workers import ``pricing`` from a directory on PYTHONPATH.

Two tasks fail: ``pricing.unit_price`` (a function of an importable module, pickled by
reference) and ``analysis``'s ``discount`` (defined in the client script's ``__main__``,
pickled by value, as a notebook's function would be).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import snapshot

PRICING = """\
def unit_price(total, count):
    return total / count
"""

PRICING_FIXED = """\
def unit_price(total, count):
    if count == 0:
        return 0.0
    return total / count
"""

ANALYSIS = """\
import sys

import dask
import distributed
from dask.distributed import Client, LocalCluster

import pricing


def discount(price, percent):
    return price * (1 - 100 / percent)


if __name__ == "__main__":
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": sys.argv[1],
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        by_module = client.submit(pricing.unit_price, 10.0, 0, key="unit_price-1")
        by_value = client.submit(discount, 10.0, 0, key="discount-1")
        distributed.wait([by_module, by_value])
        assert by_module.status == by_value.status == "error"
"""

ANALYSIS_FIXED = ANALYSIS.replace(
    "    return price * (1 - 100 / percent)\n",
    "    if not percent:\n        return price\n    return price * (1 - percent / 100)\n",
)


def environment(modules: Path) -> dict[str, str]:
    """This interpreter's environment with ``modules`` first on PYTHONPATH (for workers too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_SNAPSHOT__")}
    inherited = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(modules), *([inherited] if inherited else [])])
    return env


def make_failures(root: Path) -> dict[str, Path]:
    """Write the module and the script under ``root``, run the script; the two snapshots."""
    modules = root / "modules"
    modules.mkdir(parents=True)
    (modules / "pricing.py").write_text(PRICING)
    script = root / "analysis.py"
    script.write_text(ANALYSIS)
    directory = root / "snapshots"
    subprocess.run(
        [sys.executable, str(script), str(directory)],
        cwd=root,
        env=environment(modules),
        check=True,
        capture_output=True,
        timeout=240,
    )
    found = {}
    for path in directory.glob("*.tar.zst"):
        key = snapshot.read_manifest(str(path))["task"]["key"]
        found[key.partition("-")[0]] = path
    assert set(found) == {"unit_price", "discount"}, found
    return found
