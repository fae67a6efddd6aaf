"""``python -m replay export-test SNAPSHOT -o tests/test_NAME.py``: the failing call as a
pytest file and its inputs beside it (``replay._export``)."""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from .._export.write import ExportRefused, export_test
from .._session.replay import Replay
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_REFUSED, UsageError
from .inspect_commands import open_for_cli

__all__ = ["export"]


def export(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    for path in ns.source or []:
        if not os.path.isfile(path):
            raise UsageError(f"--source {path}: no such file; give the script defining it")
    session = Replay(open_for_cli(ns, err))
    try:
        written = export_test(
            session.call,
            session.model,
            ns.snapshot,
            ns.output,
            sources=ns.source or (),
            force=ns.force,
        )
    except ExportRefused as exc:
        print(f"Error: {for_terminal(str(exc), one_line=True)}", file=err, flush=True)
        return EXIT_REFUSED
    test = for_terminal(written.test, one_line=True)
    data = for_terminal(written.data, one_line=True)
    print(f"Wrote {test} and {data} ({written.data_bytes:,} bytes of inputs).", file=out)
    print(f"Run it: python -m pytest {test}  (xfail while the failure is there)", file=out)
    out.flush()
    return EXIT_OK
