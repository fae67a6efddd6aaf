"""Functions pickled by value have no source in the snapshot; replay finds the script.

cloudpickle renames the file of every function it ships by value (defined in a
client's ``__main__`` or a notebook) to ``<dynamic-code>`` and sends no source.
The user replaying it usually has that script: replay recognises it by the
functions it defines at the captured lines, in the current directory or via
``--source``.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DYNAMIC = "<dynamic-code>"

JOB_SOURCE = """\
import math


def recip(x):
    scale = 1
    return scale / x
"""


@pytest.fixture
def dynamic_snapshot(
    tmp_path: Path, compile_job: Callable[..., Any], make_snapshot: Callable[..., Path]
) -> Path:
    job = compile_job(JOB_SOURCE, DYNAMIC)
    linecache.cache.pop(DYNAMIC, None)  # the worker has no source for it either
    return make_snapshot(tmp_path / "cluster" / "recip.zst", job["recip"], (0,))


@pytest.fixture
def script_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "other.py").write_text("def recip(x):\n    return x\n")
    (directory / "pipeline.py").write_text(JOB_SOURCE)
    return directory


def test_the_script_in_the_current_directory_is_found(
    cli: Callable[..., Any], dynamic_snapshot: Path, script_dir: Path
) -> None:
    result = cli([str(dynamic_snapshot)], cwd=script_dir, stdin="ll\np x\nq\n")
    assert result.returncode == 1, result.stderr
    assert f"{script_dir / 'pipeline.py'}" in result.stderr
    assert "->\t    return scale / x" in result.stdout
    assert "(Pdb) 0" in result.stdout


def test_source_option_names_the_script_from_elsewhere(
    cli: Callable[..., Any], dynamic_snapshot: Path, script_dir: Path, elsewhere: Path
) -> None:
    script = script_dir / "pipeline.py"
    result = cli(
        [str(dynamic_snapshot), "--frames", "--source", str(script)], cwd=elsewhere, stdin="ll\nq\n"
    )
    assert result.returncode == 0, result.stderr
    assert "->\t    return scale / x" in result.stdout


def test_without_the_script_the_debugger_still_works_and_says_why(
    cli: Callable[..., Any], dynamic_snapshot: Path, elsewhere: Path
) -> None:
    result = cli([str(dynamic_snapshot)], cwd=elsewhere, stdin="p x\nq\n")
    assert result.returncode == 1
    assert "(Pdb) 0" in result.stdout
    assert "--source SCRIPT" in result.stderr


def test_a_script_that_does_not_define_the_functions_is_not_used(
    cli: Callable[..., Any], dynamic_snapshot: Path, script_dir: Path, elsewhere: Path
) -> None:
    result = cli(
        [str(dynamic_snapshot), "--no-debug", "--source", str(script_dir / "other.py")],
        cwd=elsewhere,
    )
    assert result.returncode == 1
    assert "does not define the captured functions" in result.stderr
    assert "return x" not in result.stderr


def test_a_missing_source_file_is_a_usage_error(
    cli: Callable[..., Any], dynamic_snapshot: Path, elsewhere: Path
) -> None:
    result = cli([str(dynamic_snapshot), "--source", "nope.py"], cwd=elsewhere)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: --source nope.py: no such file")
    assert "Traceback" not in result.stderr
