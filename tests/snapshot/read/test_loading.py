"""Reading runs no code until ``load``; a load that fails names the module and versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import snapshot
from snapshot import (
    SnapshotBuilder,
    open_snapshot,
    read_manifest,
)

PYTHON = sys.executable


class SideEffect:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.mkdir, (str(self.marker),))


def test_inspecting_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    builder = SnapshotBuilder()
    pid = builder.add(SideEffect(marker), label="payload")
    path = builder.write(tmp_path / "fx.tar.zst")
    assert not marker.exists()

    manifest = read_manifest(path)
    assert manifest["pieces"][pid]["status"] == "stored"
    snap = open_snapshot(path)
    repr(snap)
    snap.piece_bytes(pid)
    assert "posix" in snap.imports()[pid]
    assert snapshot.pickle_imports(snap.piece_bytes(pid)) == {"posix"}
    assert not marker.exists(), "reading or inspecting a snapshot ran its code"

    snap.load(pid)
    assert marker.is_dir()


def test_missing_module_names_module_and_version(tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    modules.mkdir()
    (modules / "wigglymod.py").write_text(
        '__version__ = "4.2.0"\n\nclass Thing:\n    def __init__(self, n):\n        self.n = n\n'
    )
    path = tmp_path / "needs-wigglymod.tar.zst"
    write = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(modules)!r})
        import wigglymod, snapshot
        builder = snapshot.SnapshotBuilder()
        builder.add(wigglymod.Thing(3), label="thing")
        builder.write({str(path)!r})
        """
    )
    read = textwrap.dedent(
        f"""
        import json, snapshot
        snap = snapshot.open_snapshot({str(path)!r})
        try:
            snap.load("p0")
        except snapshot.SnapshotModuleError as exc:
            print(json.dumps({{"module": exc.module, "name": exc.name, "message": str(exc),
                               "import_error": isinstance(exc, ImportError)}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([PYTHON, "-c", write], check=True, timeout=60, env=env, cwd=tmp_path)
    assert read_manifest(path)["modules"] == {"wigglymod": "4.2.0"}
    done = subprocess.run(
        [PYTHON, "-c", read], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert done.stdout, done.stderr
    result = json.loads(done.stdout)
    assert result["module"] == result["name"] == "wigglymod"
    assert result["import_error"] is True
    assert "wigglymod" in result["message"] and "4.2.0" in result["message"]
    assert str(path) in result["message"]


def test_changed_module_names_both_versions(tmp_path: Path) -> None:
    """The module is there, in another version that lacks the pickled class."""
    worker, laptop = tmp_path / "worker", tmp_path / "laptop"
    worker.mkdir()
    laptop.mkdir()
    (worker / "wobblemod.py").write_text('__version__ = "1.0"\n\nclass Thing:\n    pass\n')
    (laptop / "wobblemod.py").write_text('__version__ = "2.0"\n\nclass Renamed:\n    pass\n')
    path = tmp_path / "needs-wobblemod.tar.zst"
    write = (
        f"import sys; sys.path.insert(0, {str(worker)!r})\n"
        "import wobblemod, snapshot\n"
        "b = snapshot.SnapshotBuilder(); b.add(wobblemod.Thing(), label='thing')\n"
        f"b.write({str(path)!r})\n"
    )
    read = (
        f"import sys; sys.path.insert(0, {str(laptop)!r})\n"
        "import snapshot\n"
        f"snap = snapshot.open_snapshot({str(path)!r})\n"
        "try:\n"
        "    snap.load('p0')\n"
        "except snapshot.SnapshotUnpickleError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([PYTHON, "-c", write], check=True, timeout=60, env=env, cwd=tmp_path)
    done = subprocess.run(
        [PYTHON, "-c", read], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert done.stdout.startswith("SnapshotUnpickleError"), done.stdout + done.stderr
    assert "wobblemod 1.0 on the worker, 2.0 here" in done.stdout
