"""Side-by-side timing: contenders run in alternating order, round after round.

These machines are shared and noisy, so a lone number means little.  Every
comparison runs its contenders in the same run, one after the other within a
round, and rotates who goes first from round to round (A B, then B A, ...), so
that a slow spell of the machine lands on both.  We report medians with the
min-max spread, and ratios: the ratio of the medians, and the range of the
per-round ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: A contender runs once and returns the seconds it measured (it may exclude
#: its own setup), plus optional facts about that run (sizes, memory).
Outcome = tuple[float, dict[str, Any]]
Contender = Callable[[], Outcome | float]


@dataclass
class Series:
    """The rounds of one contender."""

    label: str
    seconds: list[float] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def low(self) -> float:
        return min(self.seconds)

    @property
    def high(self) -> float:
        return max(self.seconds)

    def fact(self, name: str) -> list[Any]:
        """One fact from every round that reported it."""
        return [f[name] for f in self.facts if name in f]

    def fact_median(self, name: str) -> float | None:
        values = self.fact(name)
        return statistics.median(values) if values else None

    def describe(self) -> str:
        """``1.23 s (1.20-1.31, n=5)``, every figure in the median's unit."""
        if not self.seconds:
            return "not measured"
        scale, unit = (1000, "ms") if self.median < 1 else (1, "s")
        med = _num(self.median * scale)
        if len(self.seconds) == 1:
            return f"{med} {unit} (n=1)"
        low, high = _num(self.low * scale), _num(self.high * scale)
        return f"{med} {unit} ({low}-{high}, n={len(self.seconds)})"


def _num(value: float) -> str:
    """3 significant digits, never in e-notation (1070, not 1.07e+03)."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


@dataclass
class Ratio:
    """``a / b``: of the medians, the spread of the per-round ratios, and of the bests.

    The ratio of the medians is the verdict.  The ratio of the fastest rounds is
    shown too: where the machine has two speeds (a disk that is sometimes 5x
    slower), it tells the cost of the work itself.
    """

    median: float
    low: float
    high: float
    best: float

    def describe(self) -> str:
        if self.low == self.high:
            return f"{self.median:.2f}"
        return f"{self.median:.2f} (rounds {self.low:.2f}-{self.high:.2f}; bests {self.best:.2f})"


def ratio(a: Series, b: Series) -> Ratio:
    per_round = [x / y for x, y in zip(a.seconds, b.seconds, strict=False) if y > 0]
    if not per_round:
        return Ratio(float("nan"), float("nan"), float("nan"), float("nan"))
    return Ratio(a.median / b.median, min(per_round), max(per_round), a.low / b.low)


def alternate(
    contenders: Mapping[str, Contender],
    rounds: int,
    *,
    warmup: int = 0,
    progress: Callable[[str], None] | None = None,
    budget: float | None = None,
) -> dict[str, Series]:
    """Run every contender once per round, rotating the order; keep each one's times.

    ``warmup`` rounds run first and are thrown away (imports, caches, a cold
    cluster's first tasks).  With ``budget`` (seconds), no new round starts once
    that much time has passed and at least one round was counted: a slow
    contender gets fewer rounds (the report's n says how many).
    """
    names = list(contenders)
    out = {name: Series(name) for name in names}
    started = time.perf_counter()
    for index in range(warmup + rounds):
        counted = index - warmup
        if budget is not None and counted >= 1 and time.perf_counter() - started > budget:
            break
        shift = index % len(names)
        order = names[shift:] + names[:shift]
        for name in order:
            result = contenders[name]()
            secs, facts = result if isinstance(result, tuple) else (result, {})
            if index >= warmup:
                out[name].seconds.append(secs)
                out[name].facts.append(facts)
            if progress is not None:
                tag = "warmup" if index < warmup else f"round {index - warmup + 1}/{rounds}"
                progress(f"{name}: {tag}: {seconds(secs)}")
    return out


def wall(
    command: Sequence[str | os.PathLike[str]],
    *,
    ok: Sequence[int] = (0,),
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdout: Any = subprocess.DEVNULL,
    timeout: float = 900,
    expect: str | None = None,
) -> float:
    """Wall time of one command, start to exit.

    Raise :class:`BenchmarkError` if its status is not in ``ok``, or if ``expect``
    is given and its stderr does not contain it: a benchmark that times the
    wrong outcome is worse than none.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        [os.fspath(c) for c in command],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise BenchmarkError(
            f"{_shown(command)} exited with status {proc.returncode} (expected {list(ok)}):\n"
            + proc.stderr.decode(errors="replace")[-2000:]
        )
    if expect is not None and expect not in proc.stderr.decode(errors="replace"):
        raise BenchmarkError(
            f"{_shown(command)}: expected {expect!r} on stderr, got:\n"
            + proc.stderr.decode(errors="replace")[-2000:]
        )
    return elapsed


class BenchmarkError(RuntimeError):
    """A measurement could not be taken (a command failed, a setup went wrong)."""


def _shown(command: Sequence[str | os.PathLike[str]]) -> str:
    return " ".join("python" if os.fspath(c) == sys.executable else os.fspath(c) for c in command)


#: Left out of the children's environment: DASK_* settings would change what runs, and
#: PYTHONDONTWRITEBYTECODE (set in some sandboxes) would recompile every module of
#: ours from source at each start, which an installed package never does.
_DROPPED = ("PYTHONDONTWRITEBYTECODE",)


def python_env(root: Path) -> dict[str, str]:
    """The environment for our child interpreters: this checkout first on the path,
    and none of the caller's settings that would change what runs or how fast it starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_") and k not in _DROPPED}
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def seconds(value: float) -> str:
    """3 significant digits, in ms below one second."""
    return f"{_num(value * 1000)} ms" if value < 1 else f"{_num(value)} s"


def mib(nbytes: float) -> str:
    """``512 MiB``, ``1 GiB``, ``70.3 MiB``, ``64 KiB``."""
    if nbytes < 2**20:
        return f"{nbytes / 1024:.0f} KiB"
    if nbytes >= 2**30 and nbytes % 2**30 == 0:
        return f"{nbytes / 2**30:.0f} GiB"
    return f"{nbytes / 2**20:.1f} MiB" if nbytes % 2**20 else f"{nbytes / 2**20:.0f} MiB"


#: Runs one command and reports its wall time and peak RSS (``python -c LAUNCH OUT
#: TIMEOUT CMD...``).  Standard library only, and forked from this small process:
#: Linux carries the RSS high-water mark of the address space a process had
#: before ``execve`` into its ``ru_maxrss``, so a command spawned straight from the
#: benchmark (numpy, pandas, a cluster client: 80 MiB and more) would report at
#: least that much.  Forked from here, at most this launcher's few MiB.
LAUNCH = """
import json, os, signal, sys, time
out, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
killed = []
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
def kill(*_):
    killed.append(True)
    os.kill(pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, kill)
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
signal.setitimer(signal.ITIMER_REAL, 0)
with open(out, "w") as f:
    json.dump({"seconds": elapsed, "status": os.waitstatus_to_exitcode(status),
               "rss": usage.ru_maxrss * 1024, "killed": bool(killed)}, f)
"""


def wall_rss(
    command: Sequence[str | os.PathLike[str]],
    *,
    ok: Sequence[int] = (0,),
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Outcome:
    """Wall time of one command and its peak resident memory (``ru_maxrss`` of that
    process alone, read by :data:`LAUNCH`).  Facts: ``rss`` (bytes), ``status``,
    ``killed``.

    A command still running after ``timeout`` seconds is killed; its time is then
    the timeout (a lower bound) and ``killed`` is true.  Any other status not in
    ``ok`` raises :class:`BenchmarkError`.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "out.json", Path(tmp) / "stderr"
        with err.open("wb") as err_fh:
            subprocess.run(
                [sys.executable, "-c", LAUNCH, out, str(timeout), *(os.fspath(c) for c in command)],
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdout=subprocess.DEVNULL,
                stderr=err_fh,
                timeout=timeout + 60,
                check=False,
            )
        if not out.exists():
            raise BenchmarkError(
                f"{_shown(command)}: the launcher failed:\n{err.read_text()[-2000:]}"
            )
        facts: dict[str, Any] = json.loads(out.read_text())
        if not facts["killed"] and facts["status"] not in ok:
            raise BenchmarkError(
                f"{_shown(command)} exited with status {facts['status']} (expected {list(ok)}):\n"
                + err.read_text(errors="replace")[-2000:]
            )
    secs = float(facts.pop("seconds"))
    return (timeout if facts["killed"] else secs), facts
