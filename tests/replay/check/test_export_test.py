"""``python -m replay export-test``: a lint-clean pytest file, xfail before the fix and
XPASS(strict) (a failure) after it; by-value functions from --source; large inputs refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cluster_failures import ANALYSIS, ANALYSIS_FIXED, PRICING, PRICING_FIXED, environment
from jobs import JOB_SOURCE, compile_job, run_cli, write_snapshot


def _pytest(test: Path, cwd: Path, modules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rxX", str(test)],
        cwd=cwd,
        env={**environment(modules), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _lint_clean(test: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    rules = "E,F,W,I,B,UP,RUF"  # the project's rules, at ruff's default line length (88)
    checked = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", rules, str(test)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = subprocess.run(
        [str(ruff), "format", "--isolated", "--check", str(test)], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_an_exported_test_is_xfail_before_the_fix_and_xpass_strict_after(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "pricing.py").write_text(PRICING)
    test = tmp_path / "tests" / "test_unit_price.py"
    written = run_cli(
        ["export-test", str(cluster_snapshots["unit_price"]), "-o", str(test)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(modules)},
    )
    assert written.returncode == 0, written.stdout + written.stderr
    assert (tmp_path / "tests" / "test_unit_price_inputs.pickle").is_file()
    text = test.read_text()
    assert "from pricing import unit_price" in text
    assert "raises=ZeroDivisionError" in text and "strict=True" in text
    assert "remove the mark and assert what the call" in text
    _lint_clean(test)

    before = _pytest(test, tmp_path, modules)
    assert before.returncode == 0, before.stdout + before.stderr
    assert "1 xfailed" in before.stdout

    (modules / "pricing.py").write_text(PRICING_FIXED)
    after = _pytest(test, tmp_path, modules)
    assert after.returncode == 1, after.stdout + after.stderr
    assert "[XPASS(strict)]" in after.stdout


def test_a_by_value_function_is_loaded_from_source(
    cluster_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "pricing.py").write_text(PRICING)
    script = tmp_path / "analysis.py"
    script.write_text(ANALYSIS)
    test = tmp_path / "tests" / "test_discount.py"
    snap = str(cluster_snapshots["discount"])
    env = {"PYTHONPATH": str(modules)}
    refused = run_cli(["export-test", snap, "-o", str(test)], cwd=tmp_path, env=env)
    assert refused.returncode == 7
    assert "pickled by value" in refused.stderr and "--source" in refused.stderr
    command = ["export-test", snap, "-o", str(test), "--source", str(script)]
    written = run_cli(command, cwd=tmp_path, env=env)
    assert written.returncode == 0, written.stdout + written.stderr
    _lint_clean(test)
    assert "1 xfailed" in _pytest(test, tmp_path, modules).stdout
    script.write_text(ANALYSIS_FIXED)
    assert "[XPASS(strict)]" in _pytest(test, tmp_path, modules).stdout


def test_inputs_too_large_for_a_fixture_are_refused_unless_forced(tmp_path: Path) -> None:
    job = compile_job()
    snap = write_snapshot(tmp_path / "big.zst", job["outer"], ([0] * 700_000,))
    script = tmp_path / "job.py"
    script.write_text(JOB_SOURCE)
    test = tmp_path / "test_big.py"
    command = ["export-test", str(snap), "-o", str(test), "--source", str(script)]
    refused = run_cli(command, cwd=tmp_path)
    assert refused.returncode == 7, refused.stdout + refused.stderr
    assert "python -m replay shrink" in refused.stderr and "--force" in refused.stderr
    assert not test.exists()
    forced = run_cli([*command, "--force"], cwd=tmp_path)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert (tmp_path / "test_big_inputs.pickle").stat().st_size > 1024 * 1024
