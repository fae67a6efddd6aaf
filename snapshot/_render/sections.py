"""The page's sections other than the frames: the error and its chain, the call and its
inputs, a worker's death, the capture report, the environment, the worker's traceback.

Each returns escaped HTML, or ``""`` when the manifest has nothing for it.
"""

from __future__ import annotations

import itertools

from .._format import key_from_json
from .._model.labels import format_size
from .._model.manifest import ChainEntry, Error, Manifest
from .escape import text
from .values import MAX_ENTRIES, piece_cells, value_rows

__all__ = [
    "call_section",
    "capture_section",
    "death_section",
    "environment_section",
    "error_section",
    "problems_section",
    "traceback_section",
]

_RELATION = {
    "cause": "Its direct cause (<code>raise ... from</code>):",
    "context": "It was raised while handling this one:",
}


def _key(value: object) -> str:
    try:
        return repr(key_from_json(value))
    except Exception:  # a key of a shape no writer makes: shown as read
        return repr(value)


def _message(message: str | None) -> str:
    if message is None:
        return ""
    if "\n" in message.strip("\n"):
        return f'<pre class="wrap">{text(message.strip(chr(10)), multiline=True)}</pre>'
    return f"<p><code>{text(message)}</code></p>"


def _notes(notes: tuple[str, ...]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{text(n, multiline=True)}</li>" for n in notes[:MAX_ENTRIES])
    return f'<ul class="notes">{items}</ul>'


def _chain_entry(entry: ChainEntry) -> str:
    relation = _RELATION.get(entry.relation or "", "Chained exception:")
    kind = text(".".join(p for p in (entry.module, entry.type) if p) or "?")
    return (
        f'<div class="chain"><p class="note">{relation}</p>'
        f'<p><b class="etype">{kind}</b></p>{_message(entry.message)}{_notes(entry.notes)}</div>'
    )


#: Characters of a group member's type or message shown.
MEMBER_LIMIT = 200


def _short(value: str) -> str:
    return text(value if len(value) <= MEMBER_LIMIT else value[:MEMBER_LIMIT] + "...")


def _members(error: Error) -> str:
    """An exception group's members (spec 4.3) as nested lists, each group's
    unlisted members as "and N more"."""
    outline = error.outline()
    if not outline:
        return ""
    parts = ['<div class="members"><p class="note">Its members (an exception group):</p>']
    level = 0
    for depth, item in outline:
        parts.append("<ul>" * (depth - level) + "</li></ul>" * (level - depth))
        parts.append("</li>" if depth <= level else "")
        level = depth
        if isinstance(item, int):
            parts.append(f'<li class="note">and {item:,} more')
            continue
        kind = ".".join(p for p in (item.module, item.type) if p and p != "builtins")
        message = f": <code>{_short(item.message)}</code>" if item.message else ""
        parts.append(f'<li><b class="etype">{_short(kind or "?")}</b>{message}')
    parts.append("</li></ul>" * level + "</div>")
    return "".join(parts)


def error_section(model: Manifest) -> str:
    error = model.error
    if error is None:
        return ""
    parts = ['<section id="error"><h2>Error</h2>']
    kind = ".".join(p for p in (error.module, error.type) if p and p != "builtins")
    parts.append(f'<p><b class="etype">{text(kind or "?")}</b></p>')
    parts.append(_message(error.message))
    parts.append(_notes(error.notes))
    parts.append(_members(error))
    # Nearest first, as the manifest lists them: each entry is the cause (or the
    # context) of the one above it, down to the root cause.
    for entry in error.chain[:MAX_ENTRIES]:
        parts.append(_chain_entry(entry))
    parts.append("</section>")
    return "".join(parts)


def call_section(model: Manifest) -> str:
    call, inputs = model.call, model.inputs
    if call is None and not inputs:
        return ""
    parts = ['<section id="call"><h2>The call and its inputs</h2>']
    if call is not None:
        parts.append(f'<p class="meta">origin: <code>{text(call.origin or "?")}</code></p>')
        entries: list[tuple[str, object]] = [("function", call.func)]
        if call.args is None:
            parts.append(
                '<p class="unknown">Its arguments are not recorded, or damaged: '
                "the call cannot be re-run.</p>"
            )
        entries += [(f"args[{i}]", pid) for i, pid in enumerate(call.args or ())]
        entries += list((call.kwargs or {}).items())
        parts.append(value_rows(model, entries, len(entries)))
    if inputs:
        parts.append("<h3>Inputs (results of other tasks)</h3>")
        rows = [(_key(entry.key), entry.piece) for entry in inputs[:MAX_ENTRIES]]
        parts.append(value_rows(model, rows, len(inputs)))
        for entry in inputs[:MAX_ENTRIES]:
            how = entry.recomputed
            if how is not None:
                sources = ", ".join(_key(k) for k in how.sources[:20])
                parts.append(
                    f'<p class="note">input <code>{text(_key(entry.key))}</code> was recomputed '
                    f"from its task <code>{text(how.function or '?')}({text(sources)})</code>: "
                    "its only copy died with a worker.</p>"
                )
    parts.append("</section>")
    return "".join(parts)


def _row(name: str, value: str) -> str:
    return f"<tr><th>{name}</th><td>{value}</td></tr>"


def death_section(model: Manifest) -> str:
    death = model.death
    if death is None:
        return ""
    parts = ['<section id="death"><h2>How the worker died</h2>']
    parts.append(f"<p>{text(death.summary or 'The worker died running this task.')}</p>")
    rows = [_row("cause", text(death.cause or "?"))]
    if death.signal_name or death.signal is not None:
        rows.append(_row("signal", text(death.signal_name or death.signal)))
    if death.exit_code is not None:
        rows.append(_row("exit status", text(death.exit_code)))
    limit = death.memory_limit if _count(death.memory_limit) else None
    memory = death.memory
    for label, used in (
        ("RSS when the nanny killed it", death.rss_at_kill),
        ("RSS at its last heartbeat", memory.process if memory is not None else None),
        ("managed memory", memory.managed if memory is not None else None),
        ("unmanaged memory", memory.unmanaged if memory is not None else None),
        ("spilled", memory.spilled if memory is not None else None),
    ):
        if _count(used):
            rows.append(_row(label, _against(used, limit)))
    if limit is not None:
        rows.append(_row("memory limit", format_size(limit)))
    for label, value in (
        ("worker", death.worker),
        ("worker name", death.worker_name),
        ("host", death.host),
        ("pid", death.pid),
        ("nanny", death.nanny),
    ):
        if value is not None:
            rows.append(_row(label, f"<code>{text(value)}</code>"))
    parts.append(f"<table>{''.join(rows)}</table>")
    for lost in death.lost_inputs[:MAX_ENTRIES]:
        parts.append(
            f'<p class="note">input <code>{text(_key(lost.key))}</code> lost: '
            f"{text(lost.reason or '?')}</p>"
        )
    if death.stacks:
        parts.append(
            "<details open><summary>Python stacks at the worker's death (faulthandler)</summary>"
            f"<pre>{text(death.stacks, multiline=True)}</pre></details>"
        )
    else:
        parts.append(
            f'<p class="note">No Python stacks: {text(death.stacks_reason or "none written")}.</p>'
        )
    parts.append("</section>")
    return "".join(parts)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _against(used: object, limit: int | None) -> str:
    shown = format_size(used)
    if limit is None or not isinstance(used, int):
        return shown
    share = used / limit
    width = max(0, min(100, round(share * 100)))
    return (
        f'{shown} ({share:.0%} of the limit)<div class="bar"><span style="width:{width}%">'
        "</span></div>"
    )


def capture_section(model: Manifest) -> str:
    capture = model.capture
    left_out = [(pid, r) for pid, r in (model.pieces or {}).items() if r.status != "stored"]
    if capture is None and not left_out:
        return ""
    parts = ['<section id="capture"><h2>What was captured</h2>']
    if capture is not None:
        complete = "complete" if capture.complete else "incomplete"
        parts.append(
            f"<p>{text(capture.stored if capture.stored is not None else '?')} of "
            f"{text(capture.pieces if capture.pieces is not None else '?')} pieces stored "
            f"({format_size(capture.stored_bytes)}), {text(capture.placeholders or 0)} "
            f"placeholders: {complete}.</p>"
        )
    if left_out:
        rows = []
        for pid, record in itertools.islice(left_out, MAX_ENTRIES):
            kind, _, _ = piece_cells(model, pid)
            rows.append(
                f"<tr><th><code>{text(record.label or pid)}</code></th><td>{kind}</td>"
                f"<td>{text(record.status or '?')}</td><td>{text(record.reason or '')}</td></tr>"
            )
        if len(left_out) > MAX_ENTRIES:
            rows.append(
                f'<tr><td colspan="4" class="note">… {len(left_out) - MAX_ENTRIES:,} more</td></tr>'
            )
        parts.append(
            '<h3>Left out, and why</h3><table class="vars"><tr><th>piece</th><th>type</th>'
            f"<th>status</th><th>why</th></tr>{''.join(rows)}</table>"
        )
    parts.append("</section>")
    return "".join(parts)


def _mapping_rows(values: object) -> str:
    if not isinstance(values, dict) and not hasattr(values, "items"):
        return ""
    items = list(itertools.islice(values.items(), MAX_ENTRIES))
    return "".join(_row(text(k), f"<code>{text(v)}</code>") for k, v in items)


def environment_section(model: Manifest) -> str:
    env, origin, writer = model.environment, model.origin, model.writer
    rows = []
    if model.created:
        rows.append(_row("written", text(model.created)))
    if writer is not None:
        rows.append(_row("by", text(f"{writer.name or '?'} {writer.version or ''}")))
    rows.append(_row("format", text(model.format_version or "?")))
    if origin is not None:
        for label, value in (
            ("host", origin.host),
            ("worker", origin.worker),
            ("worker name", origin.worker_name),
            ("pid", origin.pid),
            ("thread", origin.thread),
        ):
            if value is not None:
                rows.append(_row(label, f"<code>{text(value)}</code>"))
    if env is not None:
        python = env.python
        if python is not None:
            rows.append(
                _row("Python", text(f"{python.implementation or ''} {python.version or '?'}"))
            )
        for label, value in (("platform", env.platform), ("machine", env.machine)):
            if value is not None:
                rows.append(_row(label, text(value)))
    parts = ['<section id="environment"><h2>Versions and environment</h2>']
    parts.append(f"<table>{''.join(rows)}</table>")
    if env is not None and env.packages:
        parts.append(f"<h3>Packages</h3><table>{_mapping_rows(env.packages)}</table>")
    if model.modules:
        parts.append(
            "<details><summary>Modules the worker had loaded, with versions</summary>"
            f"<table>{_mapping_rows({k: v or '?' for k, v in model.modules.items()})}</table>"
            "</details>"
        )
    if env is not None and env.variables:
        parts.append(
            "<details><summary>Environment variables (as recorded, after redaction)</summary>"
            f"<table>{_mapping_rows(env.variables)}</table></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def traceback_section(model: Manifest) -> str:
    error = model.error
    if error is None or not error.traceback:
        return ""
    if model.death is not None and model.death.stacks == error.traceback:
        return ""  # a death's "traceback" is its stacks, shown with the death
    # An exception group's traceback holds each member's own: shown open.
    group = (error.type or "").endswith("ExceptionGroup")
    return (
        f'<section id="traceback"><details{" open" if group else ""}><summary>The traceback '
        "as the worker printed it (chained exceptions and exception groups included)</summary>"
        f"<pre>{text(error.traceback, multiline=True)}</pre></details></section>"
    )


def problems_section(model: Manifest) -> str:
    if not model.problems:
        return ""
    items = "".join(f"<li>{text(p)}</li>" for p in model.problems[:MAX_ENTRIES])
    return f'<section id="problems"><h2>Problems in the manifest</h2><ul>{items}</ul></section>'
