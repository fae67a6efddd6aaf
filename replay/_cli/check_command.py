"""``python -m replay check PATH...``: each snapshot re-run against today's code, a table.

Exit status: 0 when every snapshot is fixed; 1 when one still fails or fails
differently; 4 when none fails but one cannot run here (see ``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from typing import TextIO

from .._check.runner import CheckOptions, check_paths
from .._check.verdicts import CheckResult, CheckVerdict
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_RAISED, EXIT_UNLOADABLE, UsageError, memory_limit, snapshot_key

__all__ = ["check", "check_status"]


def check(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    for path in ns.source or []:
        if not os.path.isfile(path):
            raise UsageError(f"--source {path}: no such file; give a script, notebook or export")
    if ns.jobs < 1:
        raise UsageError(f"-j {ns.jobs}: give 1 or more")
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError(f"--timeout {ns.timeout:g}: give a number of seconds above 0")
    options = CheckOptions(
        key=snapshot_key(ns),
        allow_unsigned=ns.allow_unsigned,
        sources=tuple(ns.source or ()),
        timeout=ns.timeout,
        memory_limit=memory_limit(ns.memory_limit),
    )
    lock = threading.Lock()
    counted = [0]

    def progress(result: CheckResult) -> None:
        if ns.json:
            return
        with lock:
            counted[0] += 1
            name = for_terminal(os.path.basename(result.path), one_line=True)
            print(f"checked {counted[0]}: {name}: {result.verdict.value}", file=err, flush=True)

    results = check_paths(ns.paths, options, jobs=ns.jobs, done=progress)
    if ns.json:
        document = {
            "results": [r.to_json() for r in results],
            "exit_status": check_status(results),
        }
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(f"{'VERDICT':<11} {'TASK':<24} {'CAPTURED':<36} SNAPSHOT\n")
        for result in results:
            out.write(result.line() + "\n")
            for line in result.details():
                out.write(line + "\n")
        out.write(_summary(results) + "\n")
    out.flush()
    return check_status(results)


def check_status(results: list[CheckResult]) -> int:
    """0 when every snapshot is fixed (or the same); 1 when one fails, changed or differs; else
    4 (cannot run)."""
    verdicts = {r.verdict for r in results}
    if verdicts & {CheckVerdict.FAILS, CheckVerdict.CHANGED, CheckVerdict.DIFFERS}:
        return EXIT_RAISED
    if CheckVerdict.CANNOT_RUN in verdicts:
        return EXIT_UNLOADABLE
    return EXIT_OK


def _summary(results: list[CheckResult]) -> str:
    counts = {v: sum(r.verdict is v for r in results) for v in CheckVerdict}
    said = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n)
    return f"{len(results)} snapshot(s): {said}"
