"""replay's IPython extension in a real IPython shell (in a fresh process): ``%debug``'s
frames, the bound on what a failed cell unpickles, and ``%replay``'s errors.

The kernel story end to end, with a cluster, is tests/end_to_end/test_jupyter_kernel.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobs import write_snapshot

SHELL = """\
import sys
from IPython.core.interactiveshell import InteractiveShell
import replay._ipython

replay._ipython.EAGER_MAX_BYTES = int(sys.argv[3])
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "replay")
shell.user_ns.update(path=sys.argv[1], host=sys.argv[2])
failed = shell.run_cell(
    "exc = ZeroDivisionError('division by zero')\\n"
    "exc.add_note('dask-replay: snapshot written to ' + host + ':' + path)\\n"
    "raise exc"
)
print("client's:", sys.last_value is failed.error_in_exec)
tb = sys.last_traceback
while tb is not None and tb.tb_next is not None:
    tb = tb.tb_next
print("innermost:", tb.tb_frame.f_code.co_name, tb.tb_frame.f_locals.get("x"))
shell.run_line_magic("replay", "no_such_name")
shell.run_cell("raise KeyError('plain')")
print("plain:", type(sys.last_value).__name__, sys.last_value is shell.user_ns.get("exc"))
"""


def run_shell(path: Path, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SHELL, str(path), socket.gethostname(), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_opens_the_captured_frames_unless_they_hold_too_much(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    path = write_snapshot(tmp_path / "recip.tar.zst", job["recip"], (0,))
    small = run_shell(path, 256 * 2**20)
    assert small.returncode == 0, small.stderr
    assert "client's: False" in small.stdout  # %debug gets the worker's exception...
    assert "innermost: recip 0" in small.stdout, small.stdout  # with the worker's x
    assert "dask-replay: %debug opens the frames captured on the worker" in small.stderr
    assert "cannot evaluate 'no_such_name'" in small.stdout
    assert "plain: KeyError False" in small.stdout  # ...and IPython's own for any other

    big = run_shell(path, 10)
    assert big.returncode == 0, big.stderr
    assert "client's: True" in big.stdout, big.stdout
    assert "of captured values, so %debug shows the client's traceback" in big.stderr
    assert "`%replay --frames` opens the frames" in big.stderr
