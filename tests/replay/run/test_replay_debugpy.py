"""``--debugger debugpy`` as VS Code drives it: a DAP client over TCP, the guide's launch.json.

``python -m replay SNAPSHOT --debugger debugpy --port 0`` runs in a subprocess;
the client sends what VS Code sends for the user guide's configuration
(read from docs/user-guide.md, so the guide and this test cannot drift):
``initialize``, ``attach``, ``setExceptionBreakpoints`` with VS Code's default
filter (``uncaught``), ``configurationDone``.  debugpy's own default,
``justMyCode: true``, is in force throughout.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ide_session import RECIP, by_value_snapshot, line_of
from jobs import JOB_SOURCE, write_snapshot

from replay._run.debugpy import TRAMPOLINE

TRAMPOLINE_LINE = next(
    n for n, line in enumerate(TRAMPOLINE.splitlines(), 1) if "step into (F11)" in line
)


def assert_exit(code: int, out: str, err: str) -> None:
    """The documented status and output after the IDE: 1, the verdict, no traceback of ours."""
    assert code == 1, err
    assert "Reproduced: ZeroDivisionError: division by zero" in out
    assert "ZeroDivisionError: division by zero" in err  # the replayed traceback
    assert "replay/_" not in err and "replay_call.py" not in err
    assert "SystemExit" not in out + err


def test_a_by_value_function_stops_at_the_call_then_at_the_raise(
    run: Any, recip_snapshot: Path, elsewhere: Path, tmp_path: Path
) -> None:
    session = run([str(recip_snapshot)], elsewhere)
    stop = session.start(elsewhere)
    assert stop["reason"] == "breakpoint"
    frame = session.top()
    assert frame["name"] == "replay_call" and frame["line"] == TRAMPOLINE_LINE
    assert frame["source"]["path"].startswith(str(tmp_path / "cache" / "dask-replay" / "debugpy"))
    assert "step into (F11)" in line_of(frame["source"]["path"], frame["line"])

    # Step into (F11), as the trampoline's line says: the function's first line.
    session.dap.request("stepIn", {"threadId": session.thread})
    assert session.stopped()["reason"] == "step"
    frame = session.top()
    assert (frame["name"], line_of(frame["source"]["path"], frame["line"])) == (
        "recip",
        "    scale = 1",
    )

    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    assert frame["name"] == "recip"
    assert session.locals(frame)["x"] == "0"
    # The snapshot's verified copy of the worker's file, in a file the IDE opens.
    path = frame["source"]["path"]
    assert frame["source"].get("sourceReference", 0) == 0
    assert Path(path).read_text() == JOB_SOURCE
    assert line_of(path, frame["line"]) == "    return scale / x"
    assert oct(Path(path).stat().st_mode & 0o777) == oct(0o600)
    info = session.dap.request("exceptionInfo", {"threadId": session.thread})
    assert info["exceptionId"] == "ZeroDivisionError" and info["breakMode"] == "unhandled"

    code, out, err = session.finish()
    assert_exit(code, out, err)
    assert f"debugpy: the IDE shows /worker/home/job.py from {path}" in err


def test_an_unknown_source_is_never_shown(
    run: Any, compile_job: Any, tmp_path: Path, elsewhere: Path
) -> None:
    # A by-value function whose source neither the snapshot nor any place here holds,
    # and a decoy that defines recip() with other code.
    path = by_value_snapshot(compile_job, tmp_path / "unknown.tar.zst", "import math\n\n\n" + RECIP)
    decoy = elsewhere / "decoy.py"
    decoy.write_text("def recip(x):\n    return x\n\n\n\n\n")
    session = run([str(path), "--source", str(decoy)], elsewhere)
    session.start(elsewhere)
    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    assert (frame["name"], frame["line"]) == ("recip", 6)
    assert session.locals(frame)["x"] == "0"
    shown = frame["source"]["path"]
    assert not os.path.exists(shown) and shown != str(decoy)
    reference = frame["source"].get("sourceReference", 0)
    if reference:  # debugpy's disassembly of the code that ran, never a source
        text = session.dap.request("source", {"sourceReference": reference})["content"]
        assert "return x" not in text and "def recip" not in text

    code, out, err = session.finish()
    assert_exit(code, out, err)
    assert "Note: source unknown for recip()" in err
    assert "recip() has no verified source" in err


def test_a_module_function_stops_in_its_own_file(
    run: Any, tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site"
    package.mkdir()
    module = package / "dap_pipeline.py"
    module.write_text("def recip(x):\n    scale = 1\n    return scale / x\n")
    monkeypatch.syspath_prepend(str(package))
    spec_module = types.ModuleType("dap_pipeline")
    spec_module.__file__ = str(module)
    exec(compile(module.read_text(), str(module), "exec"), spec_module.__dict__)
    monkeypatch.setitem(sys.modules, "dap_pipeline", spec_module)
    path = write_snapshot(tmp_path / "module.tar.zst", spec_module.recip, (0,))

    session = run([str(path)], elsewhere, PYTHONPATH=str(package))
    stop = session.start(elsewhere)
    assert stop["reason"] == "breakpoint"
    assert session.top()["line"] == TRAMPOLINE_LINE
    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    assert (frame["name"], frame["source"]["path"], frame["line"]) == ("recip", str(module), 3)
    assert session.locals(frame)["x"] == "0"
    # Disconnecting while stopped lets the replay finish as without an IDE.
    session.dap.request("disconnect", {"restart": False})
    assert_exit(*session.exit())


def test_a_script_in_the_current_directory_is_shown_as_itself(
    run: Any, compile_job: Any, tmp_path: Path, elsewhere: Path
) -> None:
    script = elsewhere / "pipeline.py"
    script.write_text("import math\n\n\n" + RECIP)
    path = by_value_snapshot(compile_job, tmp_path / "script.tar.zst", script.read_text())
    session = run([str(path)], elsewhere)
    session.start(elsewhere)
    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    assert (frame["name"], frame["source"]["path"], frame["line"]) == ("recip", str(script), 6)
    assert session.locals(frame)["x"] == "0"
    assert_exit(*session.finish())


def test_a_notebook_cell_is_shown_from_a_copy_of_the_cell(
    run: Any, compile_job: Any, tmp_path: Path, elsewhere: Path
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import math\n"), nbformat.v4.new_code_cell(RECIP)]
    analysis = tmp_path / "notebook" / "analysis.ipynb"
    analysis.parent.mkdir()
    nbformat.write(notebook, str(analysis))
    path = by_value_snapshot(compile_job, tmp_path / "cell.tar.zst", RECIP)  # cell-relative lines
    session = run([str(path), "--source", str(analysis)], elsewhere)
    session.start(elsewhere)
    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    shown = frame["source"]["path"]
    assert (frame["name"], Path(shown).name, frame["line"]) == (
        "recip",
        "analysis.ipynb [cell 2].py",
        3,
    )
    assert Path(shown).read_text() == RECIP
    assert session.locals(frame)["x"] == "0"
    code, out, err = session.finish()
    assert_exit(code, out, err)
    assert f"Source of recip(): {analysis}, cell 2" in err


def test_the_api_debugs_one_replay_after_another_in_one_process(
    run: Any, recip_snapshot: Path, elsewhere: Path
) -> None:
    # A notebook's cells: debugpy listens once per process, the IDE stays attached.
    code = (
        "import sys, replay\n"
        "for _ in range(2):\n"
        "    replay.load(sys.argv[1]).debug('debugpy')\n"
        "print('done')\n"
    )
    session = run([str(recip_snapshot)], elsewhere, code=code)
    session.start(elsewhere)
    for attempt in range(2):
        if attempt:
            assert session.stopped()["reason"] == "breakpoint"
        assert session.top()["line"] == TRAMPOLINE_LINE
        session.resume()
        assert session.stopped()["reason"] == "exception"
        assert session.locals(session.top())["x"] == "0"
        session.resume()
    session.dap.event("terminated")
    session.dap.request("disconnect", {"restart": False})
    code_, out, err = session.exit()
    assert code_ == 0, err
    assert out.count("Reproduced: ZeroDivisionError") == 2 and out.endswith("done\n")
    assert out.count(f"debugpy is listening on 127.0.0.1:{session.port}") == 2


def test_a_cell_of_the_session_that_replays_is_shown_from_a_copy(
    run: Any, tmp_path: Path, elsewhere: Path
) -> None:
    # The IPython shell that ran the cell replays its own failure (its line cache has the cell).
    code = (
        "import sys, cloudpickle, replay, snapshot\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        f"assert shell.run_cell({RECIP!r}).success\n"
        "worker_recip = cloudpickle.loads(cloudpickle.dumps(shell.user_ns['recip']))\n"
        "builder = snapshot.SnapshotBuilder()\n"
        "try:\n"
        "    worker_recip(0)\n"
        "except ZeroDivisionError as exc:\n"
        "    builder.capture_exception(exc, skip_frames=1)\n"
        "builder.set_call(worker_recip, (0,))\n"
        "builder.write(sys.argv[1])\n"
        "replay.load(sys.argv[1]).debug('debugpy')\n"
    )
    session = run([str(tmp_path / "live.tar.zst")], elsewhere, code=code)
    session.start(elsewhere)
    session.resume()
    assert session.stopped()["reason"] == "exception"
    frame = session.top()
    shown = frame["source"]["path"]
    assert (frame["name"], frame["line"]) == ("recip", 3)
    assert "ipython-input-" in Path(shown).name and Path(shown).read_text() == RECIP
    assert session.locals(frame)["x"] == "0"
    code_, _, err = session.finish()
    assert code_ == 0, err  # the script ends normally after debug()
    assert "Source of recip(): this session's <ipython-input-" in err
