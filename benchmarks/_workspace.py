"""What the sections of one run share: the scale, the scratch directory, its files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _userfuncs
from ._harness import BenchmarkError, python_env

#: Compiled to bytecode before the first timed start (see ``compile_bytecode``).
PACKAGES = ("snapshot", "replay", "cluster_hook", "benchmarks")

MiB = 2**20
GiB = 2**30


@dataclass(frozen=True)
class Scale:
    """How big and how often: the full run, or the smoke run of the test suite."""

    smoke: bool
    rounds: int
    tasks: int  # success path and error storm
    storm_rounds: int  # each round starts two fresh clusters
    warmup: int  # uncounted rounds before the counted ones
    #: (input bytes, rounds) of the capture rows
    capture_sizes: tuple[tuple[int, int], ...]
    #: the input size that the inspect and replay targets are stated for
    main_bytes: int
    small_bytes: int  # inspect: "whatever the snapshot's size"
    anchor_bytes: int
    #: capture on a worker (capture_inband, capture_frames)
    inband_rounds: int
    inband_budget: float  # seconds per input after which no new round starts
    fresh_worker_per_input: bool
    frame_rounds: int
    first_capture_rounds: int  # each round restarts the worker twice
    #: inspection bounds: snapshots in the directory `replay list` reads
    list_files: int


FULL = Scale(
    smoke=False,
    rounds=5,
    tasks=10_000,
    storm_rounds=3,
    warmup=1,
    capture_sizes=((64 * MiB, 7), (512 * MiB, 7), (1 * GiB, 3)),
    main_bytes=512 * MiB,
    small_bytes=1 * MiB,
    anchor_bytes=100 * MiB,
    inband_rounds=3,
    inband_budget=60.0,
    fresh_worker_per_input=True,
    frame_rounds=41,  # 9 rounds gave medians of 27-78 us per frame on a quiet machine
    first_capture_rounds=3,
    list_files=10_000,
)

SMOKE = Scale(
    smoke=True,
    rounds=1,
    tasks=200,
    storm_rounds=1,
    warmup=0,
    capture_sizes=((1 * MiB, 2),),
    main_bytes=1 * MiB,
    small_bytes=64 * 1024,
    anchor_bytes=1 * MiB,
    inband_rounds=1,
    inband_budget=0.0,
    fresh_worker_per_input=False,
    frame_rounds=1,
    first_capture_rounds=1,
    list_files=100,
)


class Workspace:
    """The scratch directory of a run and the inputs and snapshots made in it."""

    def __init__(self, root: Path, scratch: Path, scale: Scale) -> None:
        self.root = root
        self.scratch = scratch
        self.scale = scale
        self.env = python_env(root)
        self._raw: dict[tuple[str, int], Path] = {}
        self.snapshots: dict[tuple[str, int], Path] = {}
        self._started = time.perf_counter()

    def compile_bytecode(self) -> None:
        """Write the checkout's ``__pycache__`` once, as installing a package does, so
        that no timed start compiles our modules from source."""
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", *PACKAGES],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            check=True,
        )

    def log(self, message: str) -> None:
        elapsed = time.perf_counter() - self._started
        print(f"[{elapsed:6.0f} s] {message}", file=sys.stderr, flush=True)

    def fresh_dir(self, name: str) -> Path:
        path = self.scratch / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def raw_file(self, kind: str, nbytes: int) -> Path:
        """The input as raw float64 bytes on disk (made once, not timed)."""
        key = (kind, nbytes)
        if key not in self._raw:
            path = self.scratch / "inputs" / f"{kind}-{nbytes}.f64"
            path.parent.mkdir(exist_ok=True)
            _userfuncs.make_array(kind, nbytes).tofile(path)
            self._raw[key] = path
        return self._raw[key]

    def drop_raw(self, kind: str, nbytes: int) -> None:
        path = self._raw.pop((kind, nbytes), None)
        if path is not None:
            path.unlink(missing_ok=True)

    def child(self, mode: str, raw: Path, out: Path) -> dict[str, Any]:
        """Run ``benchmarks._capture_child`` once; return what it printed."""
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks._capture_child", mode, str(raw), str(out)],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchmarkError(f"capture child {mode} {raw.name} failed:\n{proc.stderr[-3000:]}")
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def snapshot(self, kind: str, nbytes: int) -> Path:
        """A snapshot of a task failing with this input: the capture section's, or a new one."""
        key = (kind, nbytes)
        path = self.snapshots.get(key)
        if path is None or not path.exists():
            directory = self.fresh_dir(f"snapshots/{kind}-{nbytes}")
            result = self.child("capture", self.raw_file(kind, nbytes), directory)
            path = Path(result["path"])
            self.snapshots[key] = path
        return path
