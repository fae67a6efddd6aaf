"""Inspect and replay: reading a snapshot back, against bare interpreter start and one pickle.

``python -m replay info`` reads the manifest (the first tar member) and checks
the frame structure; it must cost about as much as starting Python with the
modules it needs, whatever the snapshot's size or data.  ``python -m replay
SNAPSHOT --no-debug`` loads the call and its inputs and re-raises; it must
cost about as much as ``pickle.loads`` of one zstd'd pickle of the same object
(read, decompress, unpickle in a fresh interpreter), in time and peak memory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from ._harness import BenchmarkError, Contender, Series, alternate, mib, ratio, wall, wall_rss
from ._loadfiles import LOAD
from ._report import Row, Section
from ._userfuncs import KINDS
from ._workspace import Workspace

INFO_RATIO = 1.5
REPLAY_RATIO = 1.3
PEAK_RATIO = 1.1
#: In-band data (kind for ``_inworker.make_input``, full n, smoke n, label), as in
#: the capture section's rows.
INBAND = (
    ("bytes", 64 * 2**20, 2**20, "64 MiB `bytes`"),
    ("dicts", 2_000_000, 2_000, "2 million small dicts"),
    ("strdict", 1_000_000, 2_000, "dict of 1 million str -> int"),
    ("dataframe", 2_000_000, 2_000, "2 million-row DataFrame, object + pyarrow strings"),
)
#: What a replay of a numpy input cannot avoid: the interpreter, numpy, zstandard.
FLOOR = "import numpy, zstandard"


def _info_cases(ws: Workspace) -> list[tuple[str, int]]:
    """The small snapshot, the main ones, and any larger one the capture section kept."""
    scale = ws.scale
    cases = [("arange", scale.small_bytes), *((k, scale.main_bytes) for k in KINDS)]
    larger = sorted(key for key in ws.snapshots if key[1] > scale.main_bytes and key not in cases)
    return cases + larger


def run(ws: Workspace) -> Section:
    section = Section("inspect_replay", "Inspect and replay")
    python = sys.executable
    rounds = ws.scale.rounds

    def py(*args: str | Path, ok: tuple[int, ...] = (0,), expect: str | None = None) -> float:
        return wall([python, *args], ok=ok, cwd=ws.root, env=ws.env, expect=expect)

    def info_row(label: str, shown: str, path: Path) -> None:
        ws.log(f"inspect: {label}")
        s = alternate(
            {
                "replay info": partial(py, "-m", "replay", "info", path),
                "import zstandard, json": partial(py, "-c", "import zstandard, json"),
            },
            rounds,
            warmup=ws.scale.warmup,
            progress=partial(_log, ws, f"inspect {label}"),
        )
        _row(section, shown, s["replay info"], s["import zstandard, json"], INFO_RATIO)

    for kind, nbytes in _info_cases(ws):
        path = ws.snapshot(kind, nbytes)
        label = f"{kind} {mib(nbytes)} input, {mib(path.stat().st_size)} file"
        info_row(label, f"`replay info`, {label}", path)

    zstd = shutil.which("zstd")
    for kind in KINDS:
        path = ws.snapshot(kind, ws.scale.main_bytes)
        label = f"{kind} {mib(ws.scale.main_bytes)} input, {mib(path.stat().st_size)} file"
        ws.log(f"replay: {label}")
        contenders: dict[str, Contender] = {
            "replay --no-debug": partial(
                py, "-m", "replay", path, "--no-debug", ok=(1,), expect="ValueError: bad partition"
            ),
        }
        if zstd is not None:
            contenders["zstd -d"] = partial(wall, [zstd, "-d", "-q", "-c", path])
        contenders[FLOOR] = partial(py, "-c", "import numpy, zstandard")
        s = alternate(
            contenders,
            rounds,
            warmup=ws.scale.warmup,
            progress=partial(_log, ws, f"replay {label}"),
        )
        if zstd is None:
            section.rows.append(
                Row(
                    f"`replay --no-debug`, {label}",
                    s["replay --no-debug"].describe(),
                    "zstd not installed",
                    "-",
                )
            )
            continue
        # The target is against one zstd'd pickle (the load rows below); this
        # comparison with the zstd command is reported.
        section.rows.append(
            Row(
                f"`replay --no-debug` vs `zstd -d`, {label}",
                s["replay --no-debug"].describe(),
                s["zstd -d"].describe(),
                ratio(s["replay --no-debug"], s["zstd -d"]).describe(),
                "-",
            )
        )
        floor = s[FLOOR]
        section.rows.append(
            Row(
                f'the floor for any Python replay of it: `python -c "{FLOOR}"` + `zstd -d`',
                f"{floor.describe()} + {s['zstd -d'].describe()}",
                s["zstd -d"].describe(),
                f"{(floor.median + s['zstd -d'].median) / s['zstd -d'].median:.2f}",
            )
        )

    inband = _inband_files(ws)
    for label, (path, _) in inband.items():
        label = f"{label}, {mib(path.stat().st_size)} file"
        info_row(label, f"`replay info`, in-band {label}", path)

    loads = {
        f"{kind} {mib(ws.scale.main_bytes)} input": (
            ws.snapshot(kind, ws.scale.main_bytes),
            _raw_baseline(ws, kind, ws.scale.main_bytes),
        )
        for kind in KINDS
    }
    loads.update(inband)
    for label, (path, baseline) in loads.items():
        _load_rows(ws, section, label, path, baseline)

    section.notes += [
        "Wall time of each command as a new process, start to exit, run from the checkout. "
        f"{ws.scale.warmup} warm-up round(s) per pair not counted (page cache, .pyc files).",
        '`python -m replay info S` against `python -c "import zstandard, json"`: the floor '
        "for any Python tool that reads a zstd-compressed JSON manifest.",
        "`python -m replay S --no-debug` runs up to the re-raise of the task's "
        "`ValueError` (exit status 1, checked, as is the error on stderr): it reads and "
        "verifies the whole file, unpickles the call and its inputs and calls the function. "
        "The baseline `zstd -d -q -c S` decompresses the same file to a pipe read by "
        "nothing (`/dev/null`).",
        "The floor rows add the start of an interpreter that imports numpy and zstandard "
        "(measured in the same rounds) to the time of `zstd -d`: a Python process that "
        "decompresses as fast as the zstd command and rebuilds the array without a copy "
        "could not do better. Where the floor itself exceeds the target, the target is out "
        "of reach for a Python replay, whatever the reader does.",
        "In-band data: made as the capture section makes it on a worker "
        "(`_inworker.make_input`), failing in `benchmarks._loadfiles.fail_with` inside the "
        "capture core's wrapper with the hook's settings (`python -m benchmarks._loadfiles "
        "inband KIND N DIR`: the snapshot a worker writes, without a cluster). The failing "
        "function's module imports only the standard library, so that a replay imports "
        "what the data needs (numpy, pandas) and not distributed.",
        "Load rows: `python -m replay S --no-debug` against `python -c LOAD B`, where B is "
        "`cloudpickle.dumps` of the same object compressed by zstd level 1 (python-zstandard) "
        "and LOAD reads it, decompresses it and `pickle.loads` it "
        "(`benchmarks._loadfiles.LOAD`). Peak memory: `ru_maxrss` of each process alone "
        "(see Inspection bounds), worst of the rounds; the baseline's peak holds the file, "
        "its decompressed pickle and the objects.",
    ]
    return section


def _inband_files(ws: Workspace) -> dict[str, tuple[Path, Path]]:
    """``{label: (snapshot, baseline)}`` of the in-band inputs (made once per run)."""
    out: dict[str, tuple[Path, Path]] = {}
    for kind, full, smoke, label in INBAND:
        n = smoke if ws.scale.smoke else full
        directory = ws.scratch / "load-inband" / kind
        found = sorted(directory.glob("*.tar.zst")) if directory.exists() else []
        if not found or not (directory / "baseline.pkl.zst").exists():
            directory = ws.fresh_dir(f"load-inband/{kind}")
            ws.log(f"replay: making the in-band snapshot of {label}")
            facts = _child(ws, "inband", kind, str(n), str(directory))
            found = [Path(str(facts["snapshot"]))]
        out[label if not ws.scale.smoke else f"{kind} {n:,}"] = (
            found[0],
            directory / "baseline.pkl.zst",
        )
    return out


def _raw_baseline(ws: Workspace, kind: str, nbytes: int) -> Path:
    """One zstd'd pickle of the capture rows' input (an array of float64)."""
    target = ws.scratch / "load-baselines" / f"{kind}-{nbytes}.pkl.zst"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _child(ws, "baseline", str(ws.raw_file(kind, nbytes)), str(target))
    return target


def _child(ws: Workspace, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._loadfiles", *args],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchmarkError(f"benchmarks._loadfiles {' '.join(args)}:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _load_rows(ws: Workspace, section: Section, label: str, path: Path, baseline: Path) -> None:
    """``replay --no-debug`` against ``pickle.loads`` of one zstd'd pickle: time and peak RSS."""
    label = f"{label}, {mib(path.stat().st_size)} file"
    ws.log(f"replay load: {label}")

    def run(*args: str | Path, ok: tuple[int, ...] = (0,)) -> tuple[float, dict[str, object]]:
        return wall_rss([sys.executable, *args], ok=ok, cwd=ws.root, env=ws.env)

    s = alternate(
        {
            "replay": partial(run, "-m", "replay", path, "--no-debug", ok=(1,)),
            "pickle.loads": partial(run, "-c", LOAD, baseline),
        },
        ws.scale.rounds,
        warmup=ws.scale.warmup,
        progress=partial(_log, ws, f"replay load {label}"),
    )
    ours, base = s["replay"], s["pickle.loads"]
    _row(
        section,
        f"`replay --no-debug` vs `pickle.loads` of one zstd'd pickle, {label}",
        ours,
        base,
        REPLAY_RATIO,
    )
    peak, base_peak = max(ours.fact("rss")), max(base.fact("rss"))
    section.rows.append(
        Row(
            f"peak RSS of `replay --no-debug` vs of `pickle.loads`, {label}",
            f"{mib(peak)} (worst of {len(ours.seconds)})",
            f"{mib(base_peak)} (worst of {len(base.seconds)})",
            f"{peak / base_peak:.2f}",
            f"<= {PEAK_RATIO}",
            peak <= PEAK_RATIO * base_peak,
        )
    )


def _log(ws: Workspace, prefix: str, message: str) -> None:
    ws.log(f"{prefix}: {message}")


def _row(section: Section, measurement: str, ours: Series, base: Series, target: float) -> None:
    r = ratio(ours, base)
    section.rows.append(
        Row(
            measurement,
            ours.describe(),
            base.describe(),
            r.describe(),
            f"<= {target}",
            r.median <= target,
        )
    )
