"""The page shows only verified source, with the arrow on the line that ran; otherwise
"Source unknown" and why.  Never a wrong line: a file edited after it was imported, another
Python's bytecode, a line separator Python does not count, a frame without a code hash."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import snapshot

JOB = "/worker/home/sources_job.py"


def _arrow(page: str) -> tuple[int, str] | None:
    found = re.search(r'<tr class=ran><td class="n">→(\d+)</td><td>(.*?)</td></tr>', page)
    return (int(found.group(1)), found.group(2)) if found else None


def _unknown(page: str) -> str:
    found = re.search(r'<p class="unknown">Source unknown: (.*?)</p>', page)
    assert found, "the page does not say the source is unknown"
    return found.group(1)


def _page(path: Path, make_snapshot: Any, compile_job: Any, source: str, edit: Any = None) -> str:
    job = compile_job(source, JOB)
    written = make_snapshot(path, job["recip"], (0,), edit=edit)
    return snapshot.render_html(written)


SOURCE = "def recip(x):\n    scale = 1\n    return scale / x\n"


def test_the_worker_copy_with_a_matching_code_hash_is_shown(
    tmp_path: Path, make_snapshot: Any, compile_job: Any
) -> None:
    page = _page(tmp_path / "a.zst", make_snapshot, compile_job, SOURCE)
    assert _arrow(page) == (3, "    return scale / x")
    assert "its code matches the code that ran (code hash)" in page


def test_a_file_edited_after_it_was_imported_shows_no_line(
    tmp_path: Path, make_snapshot: Any, compile_job: Any
) -> None:
    """The worker's copy was read after an edit that moved the function down two lines."""

    def edit(builder: snapshot.SnapshotBuilder) -> None:
        builder.add_source(JOB, "# edited\n# after import\n" + SOURCE)

    page = _page(tmp_path / "a.zst", make_snapshot, compile_job, SOURCE, edit)
    assert _arrow(page) is None
    assert "define(s) a recip() with other code or at other lines" in _unknown(page)


def test_another_python_checks_the_line_runs_in_the_function(
    tmp_path: Path, make_snapshot: Any, compile_job: Any
) -> None:
    def other_python(builder: snapshot.SnapshotBuilder) -> None:
        builder.manifest["environment"] = {"python": {"version": "3.99.0"}}

    page = _page(tmp_path / "a.zst", make_snapshot, compile_job, SOURCE, other_python)
    assert _arrow(page) == (3, "    return scale / x")
    assert "ran under Python 3.99" in page and "cannot be seen" in page

    def moved(builder: snapshot.SnapshotBuilder) -> None:
        other_python(builder)
        builder.add_source(JOB, "\n\n" + SOURCE)

    page = _page(tmp_path / "b.zst", make_snapshot, compile_job, SOURCE, moved)
    assert _arrow(page) is None
    assert "does not run line 3 in a recip() there" in _unknown(page)


def test_a_frame_without_a_code_hash_and_without_a_source(
    tmp_path: Path, make_snapshot: Any, compile_job: Any
) -> None:
    def no_hash_no_source(builder: snapshot.SnapshotBuilder) -> None:
        for frame in builder.manifest["frames"]:
            frame.pop("code_sha256", None)
            frame["source"] = None

    page = _page(tmp_path / "a.zst", make_snapshot, compile_job, SOURCE, no_hash_no_source)
    assert _arrow(page) is None
    assert "no source was captured for it (the snapshot records no code hash for it)" in page


def test_lines_are_counted_as_python_counts_them(
    tmp_path: Path, make_snapshot: Any, compile_job: Any
) -> None:
    """U+2028 and a form feed inside a line are not line ends to Python (str.splitlines
    would say they are, and show every later line one off)."""
    source = 'def recip(x):\n    sep = "\u2028\x0c"\n    return len(sep) / x\n'
    page = _page(tmp_path / "a.zst", make_snapshot, compile_job, source)
    assert _arrow(page) == (3, "    return len(sep) / x")
    assert "\u2028" not in page and "\\u2028" in page
