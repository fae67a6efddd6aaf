"""The results of a run and their markdown: docs/performance.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MET = "met"
NOT_MET = "**not met**"
REPORTED = "reported"


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
) -> str:
    out = [f"# {title}", "", *preamble, "", "## Machine", ""]
    out.append(table(("", ""), machine))
    out += ["", "## Targets", ""]
    targets = [(s, r) for s in sections for r in s.rows if r.met is not None]
    if targets:
        out.append(
            table(
                ("section", "measurement", "ours", "baseline", "ratio", "target", "verdict"),
                [
                    (s.title, r.measurement, r.ours, r.baseline, r.ratio, r.target, r.verdict)
                    for s, r in targets
                ],
            )
        )
    else:
        out.append("No target was measured in this run.")
    failed = [s for s in sections if s.error]
    if failed:
        out += ["", "Sections that could not finish: " + ", ".join(s.title for s in failed) + "."]
    for section in sections:
        out += ["", f"## {section.title}", ""]
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
    out += ["", "## Method", "", *(f"- {m}" for m in method), ""]
    return "\n".join(out)
