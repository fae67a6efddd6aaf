"""The layout's promises: the dependency direction and each package's public API.

``cluster_hook -> snapshot <- replay``: reading a snapshot must work on a lean
laptop without dask, so ``snapshot`` and ``replay`` import no dask or
distributed at import time, and nothing but tests imports ``cluster_hook``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("snapshot", "replay", "cluster_hook")


def _imports(package: str) -> set[str]:
    """Top-level names of every module imported anywhere in ``package``."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["snapshot", "replay"])
def test_import_pulls_in_no_dask(package: str) -> None:
    code = (
        f"import json, sys; import {package}; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('dask', 'distributed', 'cluster_hook'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert json.loads(out.stdout) == []


def test_dependency_direction() -> None:
    assert not _imports("snapshot") & {"replay", "cluster_hook", "dask", "distributed"}
    assert not _imports("replay") & {"cluster_hook"}
    assert not _imports("cluster_hook") & {"replay"}


@pytest.mark.parametrize("package", PACKAGES)
def test_public_api_is_declared_and_sorted(package: str) -> None:
    module = __import__(package)
    exported = module.__all__
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    style = sorted(exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert exported == style, f"{package}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which is missing"
    assert (ROOT / package / "py.typed").exists()
