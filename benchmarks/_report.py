"""The results of a run and their markdown: docs/performance.md.

A report is made of the sections this run measured (:class:`Section`) and the
sections of an earlier report that a partial run keeps as written (:class:`Kept`,
read back by ``_merge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ._harness import Series, mib, ratio

MET = "met"
NOT_MET = "**not met**"
REPORTED = "reported"
#: The line under each section's heading that names its benchmark (for merging).
SECTION_MARK = "<!-- section: "
#: The last line of each section: which run measured it.
PROVENANCE = "- Measured by"


@dataclass
class Row:
    """One line of a section's table: ours against a baseline, and the target."""

    measurement: str
    ours: str
    baseline: str
    ratio: str
    target: str = ""
    met: bool | None = None  # None: a figure to report, with no target

    @property
    def verdict(self) -> str:
        if self.met is None:
            return REPORTED
        return MET if self.met else NOT_MET


@dataclass
class Section:
    """One concept measured: its rows, extra tables and notes on the method."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # extra markdown blocks
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the section could not finish
    seconds: float = 0.0  # how long the section took
    provenance: str = ""  # which run measured it: "`command` at git C, date"


@dataclass
class Kept:
    """A section of the existing report, kept as it was written."""

    key: str
    title: str
    target_rows: list[str]  # its lines of the Targets table
    lines: list[str]  # everything after its heading, up to the next one
    provenance: str  # which run measured it


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table; ``|`` in cells is escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


ROW_HEADER = ("measurement", "ours (median, min-max)", "baseline (median, min-max)", "ratio")


def render(
    *,
    title: str,
    preamble: Sequence[str],
    machine: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    method: Sequence[str],
    kept: Sequence[Kept] = (),
    order: Sequence[str] = (),
) -> str:
    """The report: ``sections`` of this run and ``kept`` ones of an earlier report,
    in ``order`` of their keys (then any others)."""
    rank = {key: i for i, key in enumerate(order)}
    items: list[Section | Kept] = sorted([*sections, *kept], key=lambda s: rank.get(s.key, 99))
    out = [f"# {title}", "", *preamble, "", "## Machine", ""]
    out.append(table(("", ""), machine))
    out += ["", "## Targets", ""]
    targets: list[str] = []
    for item in items:
        if isinstance(item, Section):
            rows = [
                (item.title, r.measurement, r.ours, r.baseline, r.ratio, r.target, r.verdict)
                for r in item.rows
                if r.met is not None
            ]
            targets += table(("",) * 7, rows).splitlines()[2:] if rows else []
        else:
            targets += item.target_rows
    if targets:
        header = ("section", "measurement", "ours", "baseline", "ratio", "target", "verdict")
        out.append("\n".join([*table(header, []).splitlines(), *targets]))
    else:
        out.append("No target was measured in this run.")
    failed = [s for s in sections if s.error]
    if failed:
        out += ["", "Sections that could not finish: " + ", ".join(s.title for s in failed) + "."]
    for section in items:
        if not isinstance(section, Section):
            body = section.lines
            if not any(line.startswith(SECTION_MARK) for line in body):
                body = [f"{SECTION_MARK}{section.key} -->", *body]
            out += ["", f"## {section.title}", *body]
            continue
        out += ["", f"## {section.title}", f"{SECTION_MARK}{section.key} -->", ""]
        if section.error:
            out += ["The section failed before it finished:", "", "```", section.error, "```", ""]
        if section.rows:
            out.append(
                table(
                    (*ROW_HEADER, "target", "verdict"),
                    [
                        (r.measurement, r.ours, r.baseline, r.ratio, r.target or "-", r.verdict)
                        for r in section.rows
                    ],
                )
            )
            out.append("")
        for block in section.tables:
            out += [block, ""]
        for note in section.notes:
            out += [f"- {note}"]
        out.append(f"- This section took {section.seconds:.0f} s.")
        if section.provenance:
            out.append(f"{PROVENANCE} {section.provenance}.")
    out += ["", "## Method", "", *(f"- {m}" for m in method), ""]
    return "\n".join(out)


def bounded_rows(
    section: Section,
    label: str,
    ours: Series,
    base: Series,
    *,
    seconds: float,
    rss: int,
    timeout: float,
) -> None:
    """Two rows for a command held to absolute bounds (wall time and peak RSS), each beside
    its baseline's figure; a run killed after ``timeout`` or exiting non-zero says so."""
    killed = any(ours.fact("killed"))
    statuses = sorted(set(ours.fact("status")))
    suffix = f"; killed after {timeout:.0f} s" if killed else ""
    suffix += f"; exit status {', '.join(map(str, statuses))}" if statuses != [0] else ""
    section.rows.append(
        Row(
            f"{label}: wall time",
            ours.describe() + suffix,
            base.describe(),
            ratio(ours, base).describe(),
            f"<= {seconds:.0f} s",
            ours.median <= seconds and not killed,
        )
    )
    peaks, base_peaks = ours.fact("rss"), base.fact("rss")
    worst = max(peaks)
    section.rows.append(
        Row(
            f"{label}: peak RSS",
            f"{mib(worst)} (worst of {len(peaks)}){suffix}",
            f"{mib(max(base_peaks))} (worst of {len(base_peaks)})",
            f"{worst / max(base_peaks):.2f}",
            f"<= {mib(rss)}",
            worst <= rss and not killed,
        )
    )
