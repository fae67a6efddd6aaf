"""An IDE attached to the user's own process sees the verified source after ``r.run()``.

Not ``--debugger debugpy``: the user's script has debugpy listening, a DAP
client attached as VS Code attaches with the guide's configuration
(justMyCode on, the ``uncaught`` filter), and calls ``replay.load(path).run()``
itself.  The call raises; the IDE's own stack view (``stackTrace``, then
``source`` for a file it does not have) must show the function's verified
source at the line that raised, and no line at all for a source replay could
not verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ide_session import RECIP, by_value_snapshot, line_of

USER_SCRIPT = """
import sys

import debugpy

import replay

port = debugpy.listen(("127.0.0.1", 0))[1]
print(f"debugpy is listening on 127.0.0.1:{port}", flush=True)
debugpy.wait_for_client()
replay.load(sys.argv[1]).run()
"""


def _stack(session: Any) -> list[dict[str, Any]]:
    assert session.start(session.out.parent)["reason"] == "exception"
    trace = session.dap.request("stackTrace", {"threadId": session.thread, "levels": 50})
    frames: list[dict[str, Any]] = trace["stackFrames"]
    return frames


def _shown_line(session: Any, frame: dict[str, Any]) -> str:
    """The line the IDE shows for ``frame``: from its file, or from debugpy's ``source``."""
    source = frame["source"]
    if source.get("sourceReference"):
        reply = session.dap.request("source", {"sourceReference": source["sourceReference"]})
        lines: list[str] = reply["content"].splitlines()
        return lines[frame["line"] - 1]
    return line_of(source["path"], frame["line"])


def test_the_ides_own_stack_shows_the_verified_source_after_run(
    run: Any, recip_snapshot: Path, elsewhere: Path
) -> None:
    session = run([str(recip_snapshot)], elsewhere, code=USER_SCRIPT)
    (frame,) = [f for f in _stack(session) if f["name"] == "recip"]
    # The worker's file, which this machine lacks: served from the verified copy.
    assert frame["source"]["path"] == "/worker/home/job.py"
    assert _shown_line(session, frame) == "    return scale / x"


def test_the_ides_own_stack_shows_no_line_for_an_unknown_source(
    run: Any, compile_job: Any, tmp_path: Path, elsewhere: Path
) -> None:
    snap = by_value_snapshot(compile_job, tmp_path / "unknown.zst", RECIP)
    session = run([str(snap)], elsewhere, code=USER_SCRIPT)
    frames = _stack(session)
    assert [f["name"] for f in frames][-1].startswith("<module>")  # the user's script
    # recip's text is nowhere: justMyCode leaves its frame out, and no line is claimed.
    for frame in frames:
        if frame["name"] == "recip":
            assert frame["source"].get("path") in (None, "<dynamic-code>"), frame
