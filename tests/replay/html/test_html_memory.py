"""``python -m replay html`` holds the manifest and the sources, not the pickles.

The page reads nothing else: a file whose call holds a 48 MiB string (in-band,
within what an inspection reads: ``ReadLimits.max_inspect_bytes``) is paged
while the command's peak memory stays as low as for a small file.  Peak memory is
the child's own ``ru_maxrss``, reported by a small Python parent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs import write_snapshot

import snapshot

MiB = 1 << 20
BLOB = 48 * MiB

_MEASURED = """\
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "replay", *sys.argv[1:]], stdin=subprocess.DEVNULL,
                      capture_output=True, text=True)
sys.stderr.write(done.stderr)
print("EXIT", done.returncode)
print("PEAK", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def fails(blob: str) -> None:
    raise ValueError(f"a record of {len(blob)} characters")


def _peak(cli: Callable[..., Any], path: Path, page: Path, cwd: Path) -> int:
    """Peak resident bytes of ``python -m replay html PATH -o PAGE``."""
    done = cli(["html", str(path), "-o", str(page)], cwd=cwd, python_code=_MEASURED)
    lines = done.stdout.splitlines()
    assert lines[-2] == "EXIT 0", done.stdout + done.stderr
    return int(lines[-1].split()[1]) * 1024


def test_the_page_of_a_large_pickle_is_written_without_holding_it(
    tmp_path: Path, cli: Callable[..., Any], elsewhere: Path
) -> None:
    large = write_snapshot(tmp_path / "large.zst", fails, ("x" * BLOB,))
    small = write_snapshot(tmp_path / "small.zst", fails, ("x",))
    pieces = snapshot.open_snapshot(large, head_only=True)
    sizes = [len(pieces.members[r.member or ""]) for r in (pieces.model.pieces or {}).values()]
    assert max(sizes) > BLOB  # the string is in a piece's pickle, and an inspection reads it
    peak_large = _peak(cli, large, elsewhere / "large.html", elsewhere)
    peak_small = _peak(cli, small, elsewhere / "small.html", elsewhere)
    assert peak_large - peak_small < BLOB // 4, (peak_large, peak_small)
    # The same page as from the whole head (pickles and all): byte for byte.
    before = snapshot.render_html(pieces, name=str(large))
    assert (elsewhere / "large.html").read_bytes() == before.encode("utf-8")
