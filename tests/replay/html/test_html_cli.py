"""``python -m replay html SNAPSHOT [-o FILE]``: the real command line, in a subprocess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import snapshot


def test_html_writes_the_page_next_to_where_it_runs(
    recip_snapshot: Path, elsewhere: Path, cli: Callable[..., Any]
) -> None:
    result = cli(["html", str(recip_snapshot)], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    written = elsewhere / "recip.html"
    assert f"Wrote {written.name}" in result.stdout
    page = written.read_text(encoding="utf-8")
    assert page == snapshot.render_html(recip_snapshot, name=str(recip_snapshot))


def test_html_to_a_file_and_to_stdout(
    recip_snapshot: Path, elsewhere: Path, cli: Callable[..., Any]
) -> None:
    out = elsewhere / "page.html"
    assert cli(["html", str(recip_snapshot), "-o", str(out)], cwd=elsewhere).returncode == 0
    stdout = cli(["html", str(recip_snapshot), "-o", "-"], cwd=elsewhere)
    assert stdout.returncode == 0, stdout.stderr
    assert stdout.stdout == out.read_text(encoding="utf-8")
    assert stdout.stdout.startswith("<!DOCTYPE html>")


def test_html_errors_are_one_line_with_the_documented_status(
    recip_snapshot: Path, elsewhere: Path, cli: Callable[..., Any]
) -> None:
    missing = cli(["html", "missing.tar.zst"], cwd=elsewhere)
    assert missing.returncode == 3
    assert missing.stderr.startswith("Error: missing.tar.zst: no such file")
    unwritable = cli(["html", str(recip_snapshot), "-o", "/nonexistent/dir/x.html"], cwd=elsewhere)
    assert unwritable.returncode == 2
    assert "cannot write the page to '/nonexistent/dir/x.html'" in unwritable.stderr
    assert "Traceback" not in missing.stderr + unwritable.stderr


def test_html_refuses_to_overwrite_a_page_without_force(
    recip_snapshot: Path, elsewhere: Path, cli: Callable[..., Any]
) -> None:
    for args in ([], ["-o", "mine.html"]):
        target = elsewhere / (args[1] if args else "recip.html")
        target.write_text("my notes", encoding="utf-8")
        refused = cli(["html", str(recip_snapshot), *args], cwd=elsewhere)
        assert refused.returncode == 2
        assert refused.stderr.startswith(
            f"Error: {target.name!r} exists; remove it, give another -o FILE, or --force to "
            "overwrite it"
        )
        assert refused.stderr.count("\n") == 1  # one line, no traceback
        assert target.read_text(encoding="utf-8") == "my notes"
        forced = cli(["html", str(recip_snapshot), *args, "--force"], cwd=elsewhere)
        assert forced.returncode == 0, forced.stderr
        assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_html_writes_to_a_device_without_force(
    recip_snapshot: Path, elsewhere: Path, cli: Callable[..., Any]
) -> None:
    """``-o /dev/null`` (or a pipe) exists but is no page to keep: written, not refused."""
    done = cli(["html", str(recip_snapshot), "-o", "/dev/null"], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Wrote /dev/null;")
    (elsewhere / "adir").mkdir()
    refused = cli(["html", str(recip_snapshot), "-o", "adir"], cwd=elsewhere)
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: cannot write the page to 'adir': Is a directory")
