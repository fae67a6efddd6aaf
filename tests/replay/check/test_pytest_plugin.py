"""``pytest --replay-snapshots DIR`` in a real ``python -m pytest``: fails before the fix,
passes after; cannot run is an error; the ``pytest11`` entry point reaches pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from cluster_failures import PRICING, PRICING_FIXED, environment

ROOT = Path(__file__).resolve().parents[3]


def _pytest(
    args: list[str], cwd: Path, env: Mapping[str, str], *, autoload: bool = False
) -> subprocess.CompletedProcess[str]:
    environ = dict(env)
    plugin = []
    if not autoload:  # the plugin by name, whether or not the project is installed here
        environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        plugin = ["-p", "replay.pytest_plugin"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _folder(tmp_path: Path, snapshots: dict[str, Path]) -> Path:
    folder = tmp_path / "snapshots"
    folder.mkdir()
    shutil.copy(snapshots["unit_price"], folder / "unit_price.tar.zst")
    return folder


def test_a_folder_of_snapshots_fails_before_the_fix_and_passes_after(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    folder = _folder(tmp_path, cluster_snapshots)
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "pricing.py").write_text(PRICING)
    env = environment(modules)
    before = _pytest(["--replay-snapshots", str(folder), "-v"], tmp_path, env)
    output = before.stdout + before.stderr
    assert before.returncode == 1, output
    assert "snapshots/unit_price.tar.zst::unit_price-1 FAILED" in output
    assert "fails: raises ZeroDivisionError: float division by zero in unit_price" in output
    captured, _, now = output.partition("captured on the worker:")[2].partition("now:")
    assert "ZeroDivisionError" in captured and "return total / count" in captured
    assert "ZeroDivisionError" in now and str(modules / "pricing.py") in now

    (modules / "pricing.py").write_text(PRICING_FIXED)
    after = _pytest(["--replay-snapshots", str(folder), "-v"], tmp_path, env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "snapshots/unit_price.tar.zst::unit_price-1 PASSED" in after.stdout


def test_cannot_run_is_an_error_with_the_reason(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    folder = _folder(tmp_path, cluster_snapshots)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_SNAPSHOT__")}
    result = _pytest(["--replay-snapshots", str(folder)], tmp_path, env)  # no pricing here
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 error" in output
    assert "cannot run: " in output and "'pricing'" in output
    signed = _pytest(
        ["--replay-snapshots", str(folder)], tmp_path, {**env, "DASK_SNAPSHOT__KEY": "k"}
    )
    assert "not signed, but a key was given" in signed.stdout, signed.stdout


def test_the_entry_point_loads_the_plugin_and_costs_nothing_without_the_option(
    tmp_path: Path,
) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert declared["project"]["entry-points"]["pytest11"] == {"replay": "replay.pytest_plugin"}
    # A distribution declaring that entry point, as an install of the project would.
    site = tmp_path / "site"
    info = site / "dask_replay_entry_probe-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dask-replay-entry-probe\n")
    (info / "entry_points.txt").write_text("[pytest11]\nreplay = replay.pytest_plugin\n")
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\n\ndef test_plain():\n"
        "    assert 'replay._check.runner' not in sys.modules\n"
        "    assert 'snapshot' not in sys.modules\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    helped = _pytest(["--help"], tmp_path, env, autoload=True)
    assert "--replay-snapshots=DIR" in helped.stdout, helped.stdout
    plain = _pytest(["test_plain.py"], tmp_path, env, autoload=True)
    assert plain.returncode == 0, plain.stdout + plain.stderr


def test_a_hostile_task_key_is_escaped_in_the_test_id(tmp_path: Path) -> None:
    """The item's name comes from the snapshot: no escape sequence reaches the terminal."""
    from jobs import write_snapshot

    from replay.pytest_plugin import _task_name

    def recip(x: int) -> float:
        return 1 / x

    path = write_snapshot(tmp_path / "s.zst", recip, (0,), task_key="ok\x1b[2J\nnext\u202e")
    name = _task_name(path)
    assert "\x1b" not in name and "\n" not in name and "\u202e" not in name
    assert name.startswith("ok")
