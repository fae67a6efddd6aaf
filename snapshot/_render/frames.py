"""The frames, innermost first: where each ran, its verified source, and its locals.

The user's own frames are open; frames of installed libraries are folded to
one line that opens on a click (Sentry's "in app" frames), as is every frame
in the Jupyter fragment.
"""

from __future__ import annotations

from .._inapp import is_library_frame
from .._model.manifest import Frame, Manifest
from .escape import text
from .source import Shown, SourceFinder
from .values import MAX_ENTRIES, value_rows

__all__ = ["frames_section"]


def _where(frame: Frame) -> str:
    line = frame.lineno if isinstance(frame.lineno, int) else "?"
    name = frame.qualname or frame.function or "?"
    return f"<code>{text(name)}</code> in <code>{text(frame.filename or '?')}</code>, line {line}"


def _source(shown: object) -> str:
    if not isinstance(shown, Shown):
        why = text(getattr(shown, "why", "?"))
        return f'<p class="unknown">Source unknown: {why}.</p>'
    rows = []
    for offset, line in enumerate(shown.lines):
        number = shown.start + offset
        ran = number == shown.arrow
        mark = "→" if ran else ""
        rows.append(
            f'<tr{" class=ran" if ran else ""}><td class="n">{mark}{number}</td>'
            f"<td>{text(line, limit=1000) or ' '}</td></tr>"
        )
    return (
        f'<div class="srcbox"><table class="src">{"".join(rows)}</table></div>'
        f'<p class="note">Source: {text(shown.how)}.</p>'
    )


def frames_section(model: Manifest, finder: SourceFinder, *, folded: bool) -> str:
    frames = model.frames
    if not frames:
        return ""
    shown = frames[-MAX_ENTRIES:][::-1]  # innermost first
    parts = ['<section id="frames"><h2>Frames, innermost first</h2>']
    if len(frames) > len(shown):
        parts.append(f'<p class="note">{len(shown)} innermost of {len(frames):,} frames shown.</p>')
    user = [not is_library_frame(frame) for frame in shown]
    for index, (frame, mine) in enumerate(zip(shown, user, strict=True)):
        is_open = not folded and (mine or (index == 0 and not any(user)))
        locals_ = frame.locals or {}
        tag = "" if mine else ' <span class="tag">library</span>'
        if not mine and locals_:
            tag += f' <span class="tag">{len(locals_)} local(s)</span>'
        parts.append(
            f'<details class="frame{"" if mine else " lib"}"{" open" if is_open else ""}>'
            f"<summary>{_where(frame)}{tag}</summary>"
            f"{_source(finder.frame(frame))}"
            f"<h3>Locals</h3>{value_rows(model, locals_.items(), len(locals_))}"
            "</details>"
        )
    parts.append("</section>")
    return "".join(parts)
