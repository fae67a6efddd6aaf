"""``python -m replay check`` on real cluster failures: before and after the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cluster_failures import ANALYSIS_FIXED, PRICING, PRICING_FIXED
from jobs import run_cli


def _modules(tmp_path: Path, text: str) -> Path:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "pricing.py").write_text(text)
    return modules


def test_a_module_function_fails_before_the_fix_and_is_fixed_after(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    snap = cluster_snapshots["unit_price"]
    modules = _modules(tmp_path, PRICING)
    env = {"PYTHONPATH": str(modules)}
    before = run_cli(["check", str(snap)], cwd=tmp_path, env=env)
    assert before.returncode == 1, before.stdout + before.stderr
    assert before.stdout.splitlines()[1].startswith("fails "), before.stdout
    assert "ZeroDivisionError in unit_price" in before.stdout
    assert f"pricing.unit_price, imported from {modules / 'pricing.py'}" in before.stdout

    (modules / "pricing.py").write_text(PRICING_FIXED)
    after = run_cli(["check", str(snap), "--json"], cwd=tmp_path, env=env)
    assert after.returncode == 0, after.stdout + after.stderr
    (result,) = json.loads(after.stdout)["results"]
    assert result["verdict"] == "fixed"
    assert result["reason"] == "returns 0.0"
    assert result["task"] == "unit_price-1"


def test_a_module_missing_here_cannot_run(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    result = run_cli(["check", str(cluster_snapshots["unit_price"])], cwd=tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith("cannot run "), result.stdout
    assert "pricing" in result.stdout


def test_an_error_raised_elsewhere_is_changed(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    modules = _modules(tmp_path, PRICING.replace("total / count", "int('x')"))
    result = run_cli(
        ["check", str(cluster_snapshots["unit_price"])],
        cwd=tmp_path,
        env={"PYTHONPATH": str(modules)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith("changed "), result.stdout
    assert "now raises ValueError" in result.stdout


def test_a_by_value_function_runs_its_current_definition_from_source(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    snap = cluster_snapshots["discount"]
    modules = _modules(tmp_path, PRICING)
    env = {"PYTHONPATH": str(modules)}
    before = run_cli(["check", str(snap)], cwd=tmp_path, env=env)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "discount as captured (by value" in before.stdout

    fixed = tmp_path / "analysis_fixed.py"
    fixed.write_text(ANALYSIS_FIXED)
    after = run_cli(["check", str(snap), "--source", str(fixed)], cwd=tmp_path, env=env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert after.stdout.splitlines()[1].startswith("fixed "), after.stdout
    assert "ran: discount from analysis_fixed.py, line 10 (--source)" in after.stdout


def test_a_directory_is_checked_in_parallel_and_the_worst_verdict_sets_the_status(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in cluster_snapshots.values():
        shutil.copy(path, folder / path.name)
    modules = _modules(tmp_path, PRICING_FIXED)
    result = run_cli(
        ["check", str(folder), "-j", "2", "--json"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(modules)},
    )
    verdicts = {r["task"]: r["verdict"] for r in json.loads(result.stdout)["results"]}
    assert verdicts == {"unit_price-1": "fixed", "discount-1": "fails"}
    assert result.returncode == 1
