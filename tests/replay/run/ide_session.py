"""A DAP session as VS Code holds one: the guide's attach configuration, a process under debugpy.

``Replay`` starts ``python -m replay SNAPSHOT --debugger debugpy --port 0`` (or
any code that prints debugpy's listening line) in a subprocess and attaches a
DAP client to it, sending what VS Code sends for the user guide's launch.json
(read from docs/user-guide.md, so the guide and the tests cannot drift).
"""

from __future__ import annotations

import json
import linecache
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from dap_client import VSCODE_INITIALIZE, DapClient
from jobs import write_snapshot

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "user-guide.md"


def guide_configuration() -> dict[str, Any]:
    """The launch configuration of the guide's debugpy section, as written there."""
    text = GUIDE.read_text()
    section = text[text.index("### debugpy") :]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None, "the guide's debugpy section has no ```json block"
    launch = json.loads(block.group(1))
    configuration: dict[str, Any] = launch["configurations"][0]
    return configuration


def attach_arguments(port: int, workspace: Path) -> dict[str, Any]:
    """What VS Code sends for the guide's configuration, listening port substituted."""
    arguments = guide_configuration()
    assert arguments["connect"]["port"] == 5678  # the guide's, and --port's default
    arguments["connect"]["port"] = port
    # Added by the Python Debugger extension (AttachConfigurationResolver: the
    # debugpy.debugJustMyCode setting, default true; redirectOutput, showReturnValue)
    # and by VS Code itself (__configurationTarget, __sessionId).
    arguments.update(
        justMyCode=True,
        showReturnValue=True,
        debugOptions=["RedirectOutput", "ShowReturnValue"],
        workspaceFolder=str(workspace),
        clientOS="unix",
        __configurationTarget=6,
        __sessionId=str(uuid.uuid4()),
    )
    return arguments


class Replay:
    """``python -m replay ... --debugger debugpy --port 0`` and a DAP session attached to it."""

    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str], code: str | None = None
    ) -> None:
        self.out = cwd / "replay.out"
        self.err = cwd / "replay.err"
        command = ["-m", "replay", *args, "--debugger", "debugpy", "--port", "0"]
        if code is not None:  # the Python API, as a notebook calls it
            command = ["-c", code, *args]
        with open(self.out, "w") as out, open(self.err, "w") as err:
            # stdout and stderr go to files: debugpy's adapter, a child, holds them open.
            self.proc = subprocess.Popen(
                [sys.executable, *command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.port = self._port()
        self.dap = DapClient("127.0.0.1", self.port)
        self.thread = 0

    def _port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"debugpy is listening on 127\.0\.0\.1:(\d+)", self.out.read_text())
            if found:
                return int(found.group(1))
            assert self.proc.poll() is None, self.err.read_text()
            time.sleep(0.05)
        raise AssertionError(f"replay never listened: {self.out.read_text()}")

    def start(self, workspace: Path) -> dict[str, Any]:
        """VS Code's start of an attach session; returns the first ``stopped`` event."""
        capabilities = self.dap.request("initialize", VSCODE_INITIALIZE)
        filters = capabilities["exceptionBreakpointFilters"]
        defaults = [f["filter"] for f in filters if f.get("default")]
        assert defaults == ["uncaught"]  # what VS Code ticks, and sends, by default
        attach = self.dap.send("attach", attach_arguments(self.port, workspace))
        self.dap.event("initialized")
        self.dap.request("setExceptionBreakpoints", {"filters": defaults})
        self.dap.request("configurationDone")
        self.dap.response(attach)
        return self.stopped()

    def stopped(self) -> dict[str, Any]:
        event = self.dap.event("stopped")
        self.thread = event["threadId"]
        return event

    def top(self) -> dict[str, Any]:
        trace = self.dap.request("stackTrace", {"threadId": self.thread, "levels": 20})
        frame: dict[str, Any] = trace["stackFrames"][0]
        return frame

    def locals(self, frame: dict[str, Any]) -> dict[str, str]:
        scopes = self.dap.request("scopes", {"frameId": frame["id"]})["scopes"]
        local = next(s for s in scopes if s["name"] == "Locals")
        found = self.dap.request("variables", {"variablesReference": local["variablesReference"]})
        return {v["name"]: v["value"] for v in found["variables"]}

    def resume(self) -> None:
        self.dap.request("continue", {"threadId": self.thread})

    def finish(self) -> tuple[int, str, str]:
        """Continue to the end: no other stop, the process exits; its status and output."""
        mark = len(self.dap.transcript)
        self.resume()
        self.dap.event("terminated")
        assert not [m for m in self.dap.transcript[mark:] if m.get("event") == "stopped"]
        self.dap.request("disconnect", {"restart": False})
        return self.exit()

    def exit(self) -> tuple[int, str, str]:
        self.dap.close()
        code = self.proc.wait(timeout=60)
        return code, self.out.read_text(), self.err.read_text()

    def kill(self) -> None:
        self.dap.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # replay and debugpy's adapter only
            self.proc.wait(timeout=30)


def line_of(path: str, number: int) -> str:
    return Path(path).read_text().splitlines()[number - 1]


RECIP = "def recip(x):\n    scale = 1\n    return scale / x\n"


def by_value_snapshot(compile_job: Any, path: Path, source: str) -> Path:
    """The failure of a function pickled by value from ``source``, which the worker lacks."""
    recip = compile_job(source, "<dynamic-code>")["recip"]
    linecache.cache.pop("<dynamic-code>", None)
    return write_snapshot(path, recip, (0,))
