"""`make demo` runs scripts/demo.py: it must end with pdb printing ``x = 0``, hands off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def test_demo_replays_the_seed_failure_under_pdb(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "The client got: ZeroDivisionError: division by zero" in out
    assert "Reproduced: ZeroDivisionError: division by zero" in out
    assert "(Pdb) 0\n" in out
    assert "-m replay demo-snapshots/" in out  # the command to type next
    assert list((tmp_path / "demo-snapshots").glob("*.tar.zst"))
