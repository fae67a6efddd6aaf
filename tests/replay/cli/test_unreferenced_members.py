"""Members no piece refers to are never held, and ``info`` and the replay agree on limits.

Real crafted files (a writer's snapshot plus members added with ``tarfile`` and
``zstandard``), the real command line in a subprocess.  Peak memory is the
child's own ``ru_maxrss``: a small Python parent runs the command and reports
``RUSAGE_CHILDREN``, which then counts that one command alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crafting import members_of, with_extra_member, with_many_members

MiB = 1 << 20

_MEASURED = """\
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "replay", *sys.argv[1:]], stdin=subprocess.DEVNULL,
                      capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
print("EXIT", done.returncode)
print("PEAK", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _measured(cli: Callable[..., Any], args: list[str], cwd: Path) -> tuple[int, int, str]:
    """(exit status, peak resident KiB, output) of ``python -m replay ARGS``."""
    done = cli(args, cwd=cwd, python_code=_MEASURED)
    lines = done.stdout.splitlines()
    peak = int(lines[-1].split()[1])
    status = int(lines[-2].split()[1])
    return status, peak, "\n".join(lines[:-2]) + done.stderr


@pytest.mark.parametrize("name", ["pieces/extra.pkl", "buffers/extra"])
def test_an_unreferenced_gib_is_never_held(
    tmp_path: Path, recip_snapshot: Path, cli: Callable[..., Any], elsewhere: Path, name: str
) -> None:
    crafted = with_extra_member(tmp_path / "extra.zst", recip_snapshot, name, 1 << 30)
    assert crafted.stat().st_size < 200 * 1024
    status, peak, output = _measured(cli, [str(crafted)], elsewhere)
    assert status == 1, output  # reproduced: the ZeroDivisionError, as from the plain file
    assert "ZeroDivisionError" in output
    assert peak * 1024 < 100 * MiB, f"peak {peak} KiB"


def test_info_and_replay_agree_on_too_many_members(
    tmp_path: Path, recip_snapshot: Path, cli: Callable[..., Any], elsewhere: Path
) -> None:
    """One member over ``max_members`` (100,000), the extras among the pieces, where
    ``info`` reads: both refuse, exit 3, with the same message."""
    own = len(members_of(recip_snapshot))  # manifest.json, pieces, the source
    crafted = with_many_members(tmp_path / "many.zst", recip_snapshot, 100_001 - own)
    verdicts = []
    for args in (["info", str(crafted)], [str(crafted)]):
        done = cli(args, cwd=elsewhere)
        verdicts.append((done.returncode, done.stderr.splitlines()[-1]))
    assert verdicts[0] == verdicts[1]
    assert verdicts[0][0] == 3 and "more than 100000 members" in verdicts[0][1]
    fits = with_many_members(tmp_path / "fits.zst", recip_snapshot, 100_000 - own)
    assert cli(["info", str(fits)], cwd=elsewhere).returncode == 0
