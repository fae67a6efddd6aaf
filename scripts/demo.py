"""The demo behind `make demo`: a task fails on a cluster, and is replayed after it is gone.

1. Start a LocalCluster whose workers load `cluster_hook` through Dask config.
2. Run the failing computation from Martin Durant's "Local Exceptions" post:
   sum(recip(dec(x)) for x in [9, 4, 2, 76, 2, 1, 5]); dec(1) == 0, so recip
   divides by zero on a worker, which writes a snapshot file.
3. Close the cluster.
4. In a new Python process, from another directory, replay the snapshot under
   pdb, with the debugger's commands piped in (`p x`, `q`), and show `x = 0`.

No keyboard is needed.  The snapshots are kept in ./demo-snapshots so that the
command printed at the end can be run by hand.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

SNAPSHOT_SUFFIX = ".tar.zst"
INPUTS = [9, 4, 2, 76, 2, 1, 5]


def dec(x: int) -> int:
    return x - 1


def recip(x: int) -> float:
    return 1 / x


def step(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def run_on_cluster(directory: Path) -> None:
    """Steps 1-3: the failure on a LocalCluster with the hook enabled by config."""
    import dask
    from dask import delayed
    from dask.distributed import Client, LocalCluster

    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": str(directory),
    }
    step(f"Starting a LocalCluster with the hook on: dask.config.set({config!r})")
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        out = delayed(sum)([delayed(recip)(delayed(dec)(x)) for x in INPUTS])
        step(f"Computing sum(recip(dec(x)) for x in {INPUTS}) on the cluster")
        try:
            client.compute(out).result()
        except ZeroDivisionError as exc:
            print(f"The client got: {type(exc).__name__}: {exc}")
            for note in getattr(exc, "__notes__", []):
                print(f"  {note}")
        else:
            raise SystemExit("demo: the computation was expected to fail, and did not")
    step("The cluster is closed: its workers, their memory and the task's inputs are gone")


def newest_snapshot(directory: Path) -> Path:
    found = sorted(directory.glob(f"*{SNAPSHOT_SUFFIX}"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(
            f"demo: no snapshot was written to {directory}; is cluster_hook installed "
            "(pip install -e .)?"
        )
    return found[-1]


def show(
    command: list[str], *, stdin: str | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run a command in a new process and print it with its output, as a terminal would."""
    shown = shlex.join(["python", *command[1:]])
    if stdin is not None:
        escaped = stdin.replace("\n", "\\n")
        shown = f"printf '{escaped}' | {shown}"
    print(f"$ {shown}", flush=True)
    # One pipe for both streams keeps the order a terminal would show.
    result = subprocess.run(
        command,
        input=stdin or "",
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    sys.stdout.write(result.stdout)
    print(f"(exit status {result.returncode})", flush=True)
    return result


def _shortest(path: str, here: Path) -> str:
    """``.venv/bin/python`` when the interpreter lives below ``here``, else its full path."""
    relative = os.path.relpath(path, here)
    return path if relative.startswith("..") else relative


def main() -> int:
    here = Path.cwd()
    directory = here / "demo-snapshots"
    directory.mkdir(exist_ok=True)
    for old in directory.glob(f"*{SNAPSHOT_SUFFIX}"):
        old.unlink()
    # Keep the workers' own "Compute Failed" log lines out of the demo's output.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    run_on_cluster(directory)
    path = newest_snapshot(directory)

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="replay-elsewhere-") as elsewhere:
        cwd = Path(elsewhere)
        step("What the snapshot holds (nothing is unpickled)")
        show([python, "-m", "replay", "list", str(directory)], cwd=cwd)

        step("Replaying it in a new process, from another directory, under pdb")
        # recip is defined in this __main__ script, so cloudpickle shipped it by
        # value, without its source: --source points replay at this file.
        script = str(Path(__file__).resolve())
        result = show(
            [python, "-m", "replay", str(path), "--source", script],
            stdin="ll\np x\nq\n",
            cwd=cwd,
        )

    if "Reproduced: ZeroDivisionError" not in result.stdout or "(Pdb) 0\n" not in result.stdout:
        print("\ndemo: FAILED: the replay did not show x = 0", file=sys.stderr)
        return 1
    step("The failure reproduced, and pdb printed x = 0 at the line that raised")
    relative = os.path.relpath(path, here)
    interpreter = _shortest(python, here)
    print("To debug it yourself (type pdb commands: p x, ll, where, q):")
    source = os.path.relpath(Path(__file__).resolve(), here)
    print(f"  {shlex.join([interpreter, '-m', 'replay', relative, '--source', source])}")
    print("To inspect it without running anything:")
    print(f"  {shlex.join([interpreter, '-m', 'replay', 'info', relative])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
