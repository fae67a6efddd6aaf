"""Every command in the docs runs, against real snapshots, with the exit status the docs imply.

Conventions (also stated at the top of docs/cli.md):

- In a ```console block, a line starting with ``$ `` is a command; it runs in
  bash, in a directory holding ``failure.tar.zst`` (the seed's
  ``recip(0)`` failure), ``flaky.tar.zst`` (a failure that does not
  reproduce), ``signed.tar.zst`` with its key in ``snapshot.key``, and
  ``snapshots/`` (a directory of snapshots), with this interpreter first on PATH.
- ``<!-- exit: N -->`` right before a block: its commands must exit with N
  (default 0).  ``<!-- no-test -->`` right before a block skips it.
- An output line starting with ``(Pdb) `` must appear in the command's output.
- A ```python block runs as a script in the same directory, with ``q`` on
  stdin for any debugger, and must exit 0 (``no-test`` skips it too).
"""

from __future__ import annotations

import linecache
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import snapshot

DOCS = Path(__file__).resolve().parents[1] / "docs"
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARK = re.compile(r"^<!--\s*(no-test|exit:\s*(\d+))\s*-->\s*$")

JOB_SOURCE = """\
import os


def dec(x):
    return x - 1


def recip(x):
    scale = 1
    return scale / x


def call_service(x):
    if os.environ.get("SERVICE_DOWN"):
        raise ConnectionError("service unavailable")
    return x
"""


@dataclass
class Block:
    doc: str
    line: int
    language: str
    text: str
    exit_status: int = 0
    skip: bool = False
    commands: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def parse(path: Path) -> list[Block]:
    blocks: list[Block] = []
    mark: str | None = None
    status = 0
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        # Blocks inside list items are indented; their indentation is not part of them.
        line = lines[index].strip()
        indent = len(lines[index]) - len(lines[index].lstrip())
        found = _MARK.match(line)
        fence = _FENCE.match(line)
        if fence:
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            body = [text[indent:] for text in lines[index + 1 : end]]
            if fence.group(1) in ("console", "python"):
                block = Block(
                    path.name,
                    index + 1,
                    fence.group(1),
                    "\n".join(body) + "\n",
                    exit_status=status,
                    skip=mark == "no-test",
                )
                if block.language == "console":
                    block.commands = _commands(body)
                blocks.append(block)
            mark, status, index = None, 0, end
        elif found:
            mark, status = found.group(1), int(found.group(2) or 0)
        elif line:
            mark, status = None, 0
        index += 1
    return blocks


def _commands(lines: list[str]) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    return commands


def all_blocks() -> list[Block]:
    return [block for doc in sorted(DOCS.glob("*.md")) for block in parse(doc)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory the documented commands run in, with the snapshots they name."""
    root = tmp_path_factory.mktemp("docs")
    filename = "/worker/home/job.py"
    linecache.cache[filename] = (len(JOB_SOURCE), None, JOB_SOURCE.splitlines(True), filename)
    job: dict[str, object] = {"__name__": "worker_job"}
    exec(compile(JOB_SOURCE, filename, "exec"), job)

    def write(path: Path, func: object, arg: object, key: bytes | None = None) -> None:
        builder = snapshot.SnapshotBuilder()
        try:
            func(arg)  # type: ignore[operator]
        except Exception as exc:
            builder.capture_exception(exc, skip_frames=1)
        builder.set_call(func, (arg,), {})
        builder.add_inputs({"dec-abc": arg})
        builder.manifest["task"] = {"key": "recip-123" if arg == 0 else "service-7"}
        builder.write(path, key=key)

    write(root / "failure.tar.zst", job["recip"], 0)
    os.environ["SERVICE_DOWN"] = "1"
    try:
        write(root / "flaky.tar.zst", job["call_service"], 7)
    finally:
        del os.environ["SERVICE_DOWN"]
    (root / "snapshot.key").write_text("a long random secret\n")
    write(root / "signed.tar.zst", job["recip"], 0, key=b"a long random secret")
    # What cluster_hook.capture writes for a task that finished: dec(5) returned 4.
    finished = snapshot.SnapshotBuilder()
    finished.set_call(job["dec"], (5,), {}, origin="task")
    finished.manifest["task"] = {"key": "dec-5"}
    finished.manifest["on_demand"] = {"trigger": "cluster_hook.capture", "state": "finished"}
    finished.add_result(4)
    finished.write(root / "finished.tar.zst")
    (root / "snapshots").mkdir()
    for name in ("failure.tar.zst", "flaky.tar.zst"):
        (root / "snapshots" / name).write_bytes((root / name).read_bytes())
    _declare_pytest_plugin(root / ".site")
    return root


_PLUGIN_SITE: list[str] = []  # the directory declaring the entry point, when one is needed


def _declare_pytest_plugin(site: Path) -> None:
    """The ``pytest11`` entry point pyproject.toml declares, for an environment installed
    before it was (an install of the project declares it itself; pytest loads it once)."""
    from importlib.metadata import entry_points

    if entry_points(group="pytest11", name="replay"):
        return
    info = site / "dask_replay_docs_probe-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dask-replay-docs-probe\n")
    (info / "entry_points.txt").write_text("[pytest11]\nreplay = replay.pytest_plugin\n")
    _PLUGIN_SITE.append(str(site))


def _environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("PYTHONBREAKPOINT", "SERVICE_DOWN", "DASK_SNAPSHOT__KEY", "DASK_SNAPSHOT__KEY_FILE")
    }
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    if _PLUGIN_SITE:
        env["PYTHONPATH"] = os.pathsep.join(
            [*_PLUGIN_SITE[-1:], *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


BLOCKS = all_blocks()


def test_the_docs_hold_commands() -> None:
    docs = {block.doc for block in BLOCKS if block.commands and not block.skip}
    assert {"cli.md", "user-guide.md"} <= docs


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skip], ids=lambda b: b.id)
def test_documented_block_runs(block: Block, workdir: Path) -> None:
    if block.language == "python":
        runs = [([sys.executable, "-c", block.text], False, [])]
    else:
        runs = [(command, True, expected) for command, expected in block.commands]
    for command, shell, expected in runs:
        result = subprocess.run(
            command,
            shell=shell,
            executable="/bin/bash" if shell else None,
            cwd=workdir,
            input="q\n",
            capture_output=True,
            text=True,
            env=_environment(),
            timeout=120,
        )
        output = result.stdout + result.stderr
        assert result.returncode == block.exit_status, (
            f"{block.id}: {command!r} exited {result.returncode}, "
            f"the docs imply {block.exit_status}\n{output}"
        )
        assert "Traceback (most recent call last)" not in result.stderr or block.exit_status == 1
        for line in expected:
            if line.startswith("(Pdb) "):
                assert line in output, f"{block.id}: {line!r} not in the output of {command!r}"


def test_the_exit_status_table_matches_the_code() -> None:
    from replay._cli import EXIT_CODES

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    table = text.split("## Exit status", 1)[1]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert documented == set(EXIT_CODES)
