"""A snapshot crafted to attack its page: every string it holds tries to run, load or hide.

Written with the real writer (``snapshot.SnapshotBuilder``) from a real failure,
whose file name, function, message, notes, locals' reprs, source text, task
key, chain, environment and death all carry markup, ``javascript:`` URLs,
``</pre>``, bidi overrides and control characters.
"""

from __future__ import annotations

import linecache
from pathlib import Path
from typing import Any

import snapshot

RUN = "<script>window.__pwned=1;alert(1)</script>"
LOAD = '<img src="http://127.0.0.1:9/x.png" onerror="window.__pwned=2">'
LEAVE = "</pre></td></tr></table></details></main><style>body{display:none}</style>"
LINK = '<a href="javascript:window.__pwned=3">click</a> javascript:alert(1)'
BIDI = "safe\u202egnp.exe\u2066x\u2069 \x1b[31mred\x07\x00\u200b"
IMPORT = "<style>@import url(http://127.0.0.1:9/x.css);</style>"
EVIL = f"{RUN}{LOAD}{LEAVE}{LINK}{BIDI}{IMPORT}"
FILENAME = f"/worker/{RUN}\u202e/job.py"

SOURCE = f'''\
# {RUN} {LEAVE}
def hostile(x):
    """{LINK} {BIDI.replace(chr(0), "")}"""
    note = "{IMPORT}"
    raise ValueError(x)
'''


class Evil:
    def __repr__(self) -> str:
        return EVIL + "\n" + LEAVE + "\n" + RUN


def write(path: Path) -> Path:
    linecache.cache[FILENAME] = (len(SOURCE), None, SOURCE.splitlines(True), FILENAME)
    namespace: dict[str, Any] = {"__name__": "hostile_job"}
    exec(compile(SOURCE, FILENAME, "exec"), namespace)
    builder = snapshot.SnapshotBuilder()
    try:
        try:
            raise KeyError(EVIL)
        except KeyError as inner:
            error = ValueError(EVIL)
            error.add_note(EVIL)
            raise error from inner
    except ValueError:
        pass
    try:
        namespace["hostile"](Evil())
    except ValueError as exc:
        exc.add_note(EVIL)
        exc.__cause__ = KeyError(EVIL)
        builder.capture_exception(exc)
    builder.add_source(FILENAME, SOURCE)
    builder.set_call(namespace["hostile"], [Evil()], {EVIL: Evil()})
    builder.add_inputs({EVIL: Evil()})
    manifest = builder.manifest
    manifest["task"] = {"key": EVIL, "prefix": EVIL}
    manifest["origin"] = {"host": EVIL, "worker": LINK, "thread": BIDI}
    manifest["environment"] = {
        "python": {"version": EVIL, "implementation": RUN},
        "platform": IMPORT,
        "packages": {EVIL: LINK},
        "variables": {RUN: EVIL},
    }
    manifest["death"] = {
        "cause": EVIL,
        "summary": EVIL,
        "worker": LINK,
        "memory_limit": 1000,
        "rss_at_kill": 2000,
        "stacks": EVIL + "\n" + LEAVE,
        "lost_inputs": [{"key": EVIL, "reason": EVIL}],
    }
    builder.write(path)
    return path
