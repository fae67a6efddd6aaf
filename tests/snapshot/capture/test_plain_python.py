"""``snapshot.capture``: plain Python failures captured, in process pools too, without Dask.

Each scenario runs in a fresh interpreter in which ``dask`` and ``distributed``
cannot be imported, with the settings where users put them: a YAML file in
``$DASK_CONFIG`` and ``DASK_SNAPSHOT__*`` variables.  The snapshots are then
replayed by the real CLI in another directory, under pdb on stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import snapshot

ROOT = Path(__file__).resolve().parents[3]

BLOCK = """
import sys
for name in ("dask", "distributed"):
    sys.modules[name] = None  # import dask -> ImportError, as if not installed
"""

# A module of the user's: the pool's workers import it by name.
JOBS = """
import snapshot


@snapshot.capture
def recip(x):
    return 1 / x


@snapshot.capture(max_per_fingerprint=5)
def shares(total, parts):
    each = total / parts
    return [each] * parts
"""


def _run(body: str, tmp_path: Path, **env: str) -> dict[str, Any]:
    """Run ``body`` in a fresh interpreter, Dask blocked, ``jobs`` importable; its JSON."""
    (tmp_path / "jobs.py").write_text(JOBS)
    script = tmp_path / "child.py"
    script.write_text(BLOCK + textwrap.dedent(body))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    environ.update(env, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _replay_p(path: str, name: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    environ.pop("PYTHONBREAKPOINT", None)
    environ["PYTHONPATH"] = str(ROOT)  # the user's jobs module is not here: it came by value
    return subprocess.run(
        [sys.executable, "-m", "replay", path, *args],
        input=f"p {name}\nq\n",
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=120,
    )


POOLS = """
import json, multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor

import jobs

def outcome(run):
    try:
        run()
    except ZeroDivisionError as exc:
        return {"type": type(exc).__name__, "notes": getattr(exc, "__notes__", [])}
    return {"type": None, "notes": []}

if __name__ == "__main__":
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        executor = outcome(lambda: pool.submit(jobs.recip, 0).result())
    with spawn.Pool(1) as pool:
        mp_pool = outcome(lambda: pool.apply(jobs.recip, (0,)))
    print(json.dumps({"executor": executor, "pool": mp_pool}))
"""


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("plain-pools")
    config = tmp / "dask-config"
    config.mkdir()
    (config / "snapshot.yaml").write_text(f"snapshot:\n  directory: {tmp / 'from-yaml'}\n")
    return _run(POOLS, tmp, DASK_CONFIG=str(config)), tmp


@pytest.mark.parametrize("pool", ["executor", "pool"])
def test_a_failure_in_a_process_pool_reaches_the_parent_with_its_note(
    pools: tuple[dict[str, Any], Path], pool: str
) -> None:
    report, tmp = pools
    result = report[pool]
    assert result["type"] == "ZeroDivisionError"
    (note,) = result["notes"]
    assert note.startswith("dask-replay: snapshot written to ")
    path = Path(note.split(":", 2)[2].strip())
    assert path.parent == tmp / "from-yaml"  # the directory of the YAML file in $DASK_CONFIG
    model = snapshot.read_model(path)
    assert model.error is not None and model.error.type == "ZeroDivisionError"


def test_the_pools_snapshot_replays_elsewhere_with_the_failing_value(
    pools: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    report, _ = pools
    path = report["executor"]["notes"][0].split(":", 2)[2].strip()
    done = _replay_p(path, "x", tmp_path)
    assert done.returncode == 1, done.stderr
    assert "(Pdb) 0\n" in done.stdout
    assert "Reproduced: ZeroDivisionError" in done.stdout


SETTINGS = """
import json, os, sys
import jobs
import snapshot

notes = []
for parts in (0, 0, 0):
    try:
        jobs.recip(parts)
    except ZeroDivisionError as exc:
        notes.append(exc.__notes__[-1])
try:
    with snapshot.capture(directory="blocks"):
        rows = [3, 1, 0]
        ratio = rows[0] / rows[2]
except ZeroDivisionError as exc:
    notes.append(exc.__notes__[-1])
try:
    snapshot.capture(max_object_size="lots")(jobs.recip.__wrapped__)(0)
except ZeroDivisionError as exc:
    notes.append(exc.__notes__[-1])
print(json.dumps({"notes": notes, "dask": "dask" in sys.modules and sys.modules["dask"] is not None}))
"""


def test_settings_come_from_variables_and_keywords(tmp_path: Path) -> None:
    report = _run(
        SETTINGS,
        tmp_path,
        DASK_SNAPSHOT__DIRECTORY=str(tmp_path / "from-env"),
        DASK_SNAPSHOT__MAX_PER_FINGERPRINT="2",
    )
    first, second, third, block, bad = report["notes"]
    assert str(tmp_path / "from-env") in first and str(tmp_path / "from-env") in second
    assert "no snapshot written" in third and "max-per-fingerprint" in third
    assert "blocks" in block  # a keyword wins over the variable
    assert bad == (
        "dask-replay: no snapshot written: snapshot.max-object-size must be a byte count "
        "such as 1073741824 or '1 GiB', got 'lots'"
    )
    assert report["dask"] is False


def test_a_block_keeps_its_frames_and_opens_under_frames(tmp_path: Path) -> None:
    report = _run(SETTINGS, tmp_path, DASK_SNAPSHOT__DIRECTORY=str(tmp_path / "from-env"))
    block = report["notes"][3]
    path = block.split(":", 2)[2].strip()
    if not os.path.isabs(path):
        path = str(tmp_path / path)
    model = snapshot.read_model(path)
    assert model.call is None or model.call.func is None
    done = _replay_p(path, "rows", tmp_path / "from-env", "--frames")
    assert done.returncode == 0, done.stderr
    assert "(Pdb) [3, 1, 0]\n" in done.stdout


@pytest.mark.parametrize(
    "text", ["100", "1 GiB", "512MB", "5kB", "2.5 MiB", "3 TB", "1.5k", "7 B", "10 KiB"]
)
def test_sizes_read_as_dask_reads_them(text: str) -> None:
    from dask.utils import parse_bytes

    from snapshot._capture.config import parse_size

    assert parse_size(text) == parse_bytes(text)


@pytest.mark.parametrize(
    "text",
    ["60s", "2 minutes", "500ms", "1.5h", "90", "3 days", "1w", "250 us", "2m", "45 seconds"],
)
def test_durations_read_as_dask_reads_them(text: str) -> None:
    from dask.utils import parse_timedelta

    from snapshot._capture.config import parse_duration

    assert parse_duration(text) == pytest.approx(parse_timedelta(text))
