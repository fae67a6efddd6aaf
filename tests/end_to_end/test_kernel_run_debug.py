"""After ``r.run()`` in a notebook, tools that are not replay's show the verified cell.

A real Jupyter kernel (jupyter_client).  A cell defines ``recip``; another
captures its failure into a snapshot as a worker does (``SnapshotBuilder``:
cloudpickle ships a cell's function by value, its file renamed
``<dynamic-code>``).  ``r.run()`` re-raises in the kernel, and IPython's own
``%debug`` (replay's extension is not loaded here) lists the cell with ``ll``,
the arrow on the raising line: the function replay re-ran names the cell it
verified.  The same re-run's ``traceback.format_exc()`` and
``inspect.getsource`` show the cell too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel
from test_jupyter_kernel import ANSI, Kernel

pytestmark = pytest.mark.timeout(300)

CELL = """\
import math

def recip(x):
    scale = math.pi
    return scale / x
"""

CAPTURE = """\
import snapshot
builder = snapshot.SnapshotBuilder()
try:
    recip(0)
except ZeroDivisionError as exc:
    builder.capture_exception(exc)
builder.set_call(recip, [0])
path = builder.write({path!r})
del recip  # replay must find the cell by its code, not by this name
"""

RUN = """\
import replay
r = replay.load(path)
r.run()
"""


def test_debug_after_run_shows_the_cell(tmp_path: Path) -> None:
    work = tmp_path / "notebook"
    work.mkdir()
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(work), startup_timeout=240)
    try:
        kernel = Kernel(client)
        kernel.run(CELL)
        assert "Error" not in kernel.run(CAPTURE.format(path=str(tmp_path / "cell.tar.zst")))
        failed = ANSI.sub("", kernel.run(RUN))
        assert "ZeroDivisionError" in failed
        # The traceback IPython printed under the cell shows the cell's line.
        assert "----> 5     return scale / x" in failed, failed
        assert "<dynamic-code>" not in failed

        shown = ANSI.sub("", kernel.run("%debug", answers=("ll", "p x", "q")))
        shown = shown.replace("ipdb> ", "")
        assert "could not get source code" not in shown, shown
        assert re.search(
            r"^      3 def recip\(x\):\n      4     scale = math.pi\n----> 5     return scale / x$",
            shown,
            re.M,
        ), shown
        assert re.search(r"^0$", shown, re.M), shown

        checks = ANSI.sub(
            "",
            kernel.run(
                "import inspect, traceback\n"
                "try:\n    r.run()\nexcept ZeroDivisionError:\n    printed = traceback.format_exc()\n"
                "print(inspect.getsource(r.func))\nprint(printed)"
            ),
        )
        assert checks.startswith(CELL.split("\n\n", 1)[1]), checks
        assert re.search(
            r'File "[^"]*ipykernel_\d+/[^"]+\.py", line 5, in recip\n    return scale / x', checks
        ), checks
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
