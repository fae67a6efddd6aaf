"""The manifest's ``frames`` section: one record per traceback entry (spec 4.4).

Written once, for both writers of it: the builder, whose records name each
frame's stored locals, and the capture core's manifest-only snapshot, whose
records hold none.  Reading a frame here calls no user code.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType, FrameType, TracebackType
from typing import Any

from .._codehash import code_sha256
from .exception import frame_source, iter_traceback


def _code_hash(code: CodeType) -> str | None:
    """The frame's ``code_sha256``; None, and the field left out, if it fails."""
    try:
        return code_sha256(code)
    except Exception:  # a capture never fails for the sake of an optional field
        return None


def frame_records(
    tb: TracebackType | None,
    *,
    sources: dict[str, str],
    max_source_bytes: int,
    locals_of: Callable[[int, FrameType], dict[str, Any]],
    skip: int = 0,
) -> list[dict[str, Any]]:
    """The records of ``tb``'s frames, outermost first.

    ``sources`` (``{filename: text}``) gains the text of each frame's file not
    in it yet; ``locals_of(index, frame)`` gives the dict a record's ``locals``
    is (the builder fills it with piece ids later).
    """
    records = []
    # What a code object's frames share, made once: a recursion 900 deep hashes
    # its function and looks for its file once, not 900 times.
    shared: dict[int, dict[str, Any]] = {}
    # Files looked for, found or not, by the globals their loader is found in.
    looked_up: set[tuple[str, int]] = set()
    for index, (frame, lineno) in enumerate(iter_traceback(tb, skip)):
        code = frame.f_code
        template = shared.get(id(code))  # the frame holds its code alive: ids are stable
        if template is None:
            filename = code.co_filename
            if filename not in sources and (filename, id(frame.f_globals)) not in looked_up:
                looked_up.add((filename, id(frame.f_globals)))
                text = frame_source(frame, max_source_bytes)
                if text is not None:
                    sources[filename] = text
            template = shared[id(code)] = _template(code, filename in sources)
        record = template.copy()  # in the template's order of keys
        record["lineno"] = lineno
        record["module"] = frame.f_globals.get("__name__")
        record["locals"] = locals_of(index, frame)
        records.append(record)
    return records


def _template(code: CodeType, has_source: bool) -> dict[str, Any]:
    """A frame record of ``code`` but for its line, module and locals."""
    filename = code.co_filename
    record: dict[str, Any] = {
        "filename": filename,
        "function": code.co_name,
        "qualname": getattr(code, "co_qualname", code.co_name),
        "lineno": None,
        "firstlineno": code.co_firstlineno,
        "module": None,
        "locals": None,
        "source": filename if has_source else None,
    }
    sha = _code_hash(code)
    if sha is not None:
        record["code_sha256"] = sha
    return record
