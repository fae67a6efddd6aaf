"""A minimal Debug Adapter Protocol client over TCP, speaking as VS Code does.

DAP frames each JSON message with a ``Content-Length: N\\r\\n\\r\\n`` header.
The client sends requests (``seq``, ``command``, ``arguments``) and reads
responses (``request_seq``, ``success``, ``body``) and events (``event``,
``body``) in the order the adapter writes them; a message nobody has asked
for yet is kept until someone does.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

__all__ = ["VSCODE_INITIALIZE", "DapClient", "DapError"]

# The arguments VS Code's `initialize` request carries (VS Code 1.9x, Python Debugger
# extension): the capabilities of the client, lines and columns starting at 1.
VSCODE_INITIALIZE: dict[str, Any] = {
    "clientID": "vscode",
    "clientName": "Visual Studio Code",
    "adapterID": "debugpy",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsVariableType": True,
    "supportsVariablePaging": True,
    "supportsRunInTerminalRequest": True,
    "locale": "en",
    "supportsProgressReporting": True,
    "supportsInvalidatedEvent": True,
    "supportsMemoryReferences": True,
    "supportsArgsCanBeInterpretedByShell": True,
    "supportsMemoryEvent": True,
    "supportsStartDebuggingRequest": True,
    "supportsANSIStyling": True,
}


class DapError(AssertionError):
    """The adapter answered a request with ``success: false``, or not in time."""


class DapClient:
    """One DAP session on ``host:port``: send requests, wait for responses and events."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        #: Every message read, in order: what a failing test prints.
        self.transcript: list[dict[str, Any]] = []

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> DapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------
    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        """Send a request; return its ``seq``."""
        self._seq += 1
        message: dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        data = json.dumps(message).encode()
        self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        return self._seq

    def request(self, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return the body of its successful response."""
        return self.response(self.send(command, arguments))

    # -- reading ---------------------------------------------------------------
    def response(self, seq: int) -> dict[str, Any]:
        message = self._wait(lambda m: m["type"] == "response" and m["request_seq"] == seq)
        if not message.get("success"):
            raise DapError(f"{message['command']} failed: {message.get('message')}")
        body: dict[str, Any] = message.get("body") or {}
        return body

    def event(self, name: str) -> dict[str, Any]:
        """The body of the next ``name`` event (earlier ones of other names are kept)."""
        message = self._wait(lambda m: m["type"] == "event" and m["event"] == name)
        body: dict[str, Any] = message.get("body") or {}
        return body

    def _wait(self, wanted: Any) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, message in enumerate(self._pending):
                if wanted(message):
                    return self._pending.pop(index)
            if time.monotonic() > deadline:
                raise DapError(f"no such message in time; read so far: {self.transcript}")
            message = self._read()
            self.transcript.append(message)
            self._pending.append(message)

    def _read(self) -> dict[str, Any]:
        header, body_start = self._until(b"\r\n\r\n")
        length = None
        for line in header.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise DapError(f"a message without Content-Length: {header!r}")
        while len(self._buffer) < body_start + length:
            self._fill()
        data = self._buffer[body_start : body_start + length]
        self._buffer = self._buffer[body_start + length :]
        message: dict[str, Any] = json.loads(data)
        return message

    def _until(self, marker: bytes) -> tuple[bytes, int]:
        while (end := self._buffer.find(marker)) < 0:
            self._fill()
        return self._buffer[:end], end + len(marker)

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise DapError(f"the adapter closed the connection; read so far: {self.transcript}")
        self._buffer += chunk
