"""What the numbers were measured on: the machine, the software, the scratch disk."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("dask", "distributed", "numpy", "pandas", "zstandard", "xxhash", "cloudpickle")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _filesystem(path: Path) -> str:
    """``ext4 on /dev/vda`` for the mount holding ``path`` (Linux), else ``unknown``."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    best: list[str] | None = None
    resolved = str(path.resolve())
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1]
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[1])):
            best = fields
    return f"{best[2]} on {best[0]}" if best else "unknown"


def _zstd_cli() -> str:
    exe = shutil.which("zstd")
    if exe is None:
        return "not installed"
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return exe
    return out.stdout.strip().strip("*").strip()


def _git(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not dirty.strip():
        return head or "unknown"
    files = sorted(line[3:] for line in dirty.splitlines() if line.strip())
    shown = ", ".join(files[:8]) + (", ..." if len(files) > 8 else "")
    return f"{head}, measured with uncommitted changes to {shown}"


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def machine_info(root: Path, scratch: Path) -> list[tuple[str, str]]:
    """Rows for the report's machine table."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("cpu", f"{os.cpu_count()} x {_cpu_model()}"),
        ("memory", _memory()),
        ("os", f"{platform.system()} {platform.release()}"),
        ("python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("packages", ", ".join(versions)),
        ("zstd CLI", _zstd_cli()),
        ("dask-replay", f"git {_git(root)}"),
        ("scratch directory", f"{scratch} ({_filesystem(scratch)})"),
    ]
