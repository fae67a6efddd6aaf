"""The page's promises at its limits, on real captures: lists cut at ``MAX_ENTRIES`` say
how many more there are, an exception group's unlisted members are counted, the
source check compiles at most ``MAX_COMPILED`` texts (the frames past it say so), and
``html --key`` verifies the signature before it writes anything."""

from __future__ import annotations

import html
import linecache
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs import write_snapshot

import snapshot
from snapshot._render.source import MAX_COMPILED
from snapshot._render.values import MAX_ENTRIES


def _define(source: str, filename: str) -> dict[str, Any]:
    """Functions defined from ``filename``, its text in linecache (as a worker's file)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "limits_job", "threading": threading}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_long_lists_say_how_many_more_and_groups_count_their_unlisted_members(
    tmp_path: Path,
) -> None:
    extra = 37
    count = MAX_ENTRIES + extra
    body = "".join(f"    v{i} = threading.Lock()\n" for i in range(count))
    source = (
        f"def many(x):\n{body}    return 1 / x\n\n\n"
        "def group(n):\n"
        "    raise ExceptionGroup('many', [ValueError(str(i)) for i in range(n)])\n"
    )
    job = _define(source, "/worker/home/limits_job.py")
    page = html.unescape(
        snapshot.render_html(write_snapshot(tmp_path / "m.zst", job["many"], (0,)))
    )

    # The frame's locals (x and the locks): MAX_ENTRIES rows, then how many more.
    assert (
        f"… and {extra + 1} more (<code>python -m replay info --json</code> has all)</td>" in page
    )
    # Locks do not pickle: every one is left out, and that list is cut the same way.
    assert f"… {extra} more</td>" in page

    members = 50
    grouped = write_snapshot(tmp_path / "g.zst", job["group"], (members,))
    listed = len(snapshot.open_snapshot(grouped).model.error.members)
    page = html.unescape(snapshot.render_html(grouped))
    assert listed < members
    assert f'<li class="note">and {members - listed:,} more' in page


def test_the_innermost_frames_are_shown_and_the_rest_counted(tmp_path: Path) -> None:
    depth = MAX_ENTRIES + 25
    job = _define(
        "def down(n):\n    if n == 0:\n        return 1 / n\n    return down(n - 1)\n",
        "/worker/home/deep_job.py",
    )
    path = write_snapshot(tmp_path / "d.zst", job["down"], (depth,))
    frames = len(snapshot.open_snapshot(path).model.frames)
    assert frames > MAX_ENTRIES
    page = snapshot.render_html(path)
    assert f"{MAX_ENTRIES} innermost of {frames:,} frames shown." in page
    assert page.count('<details class="frame') == MAX_ENTRIES


def test_the_source_check_compiles_a_bounded_number_of_texts(tmp_path: Path) -> None:
    """A frame per file, more files than the budget: the innermost are verified, the
    others say the budget was spent (never an unverified line)."""
    files = MAX_COMPILED + 6
    namespace: dict[str, Any] = {}
    for i in reversed(range(files)):
        call = f"return f{i + 1}(x)" if i + 1 < files else "return 1 / x"
        filename = f"/worker/home/chain_{i}.py"
        source = f"def f{i}(x):\n    {call}\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    path = write_snapshot(tmp_path / "c.zst", namespace["f0"], (0,))
    page = snapshot.render_html(path)
    page = html.unescape(page)
    spent = page.count("not checked: this page's budget for compiling sources was spent")
    assert spent == files - MAX_COMPILED
    assert page.count("its code matches the code that ran (code hash)") == MAX_COMPILED


def test_html_with_a_key_verifies_the_signature_first(
    tmp_path: Path, elsewhere: Path, cli: Callable[..., Any], job: dict[str, Any]
) -> None:
    key = b"k" * 32
    key_file = tmp_path / "snapshot.key"
    key_file.write_bytes(key)
    signed = write_snapshot(tmp_path / "signed.zst", job["recip"], (0,), key=key)
    unsigned = write_snapshot(tmp_path / "unsigned.zst", job["recip"], (0,))
    other = tmp_path / "other.key"
    other.write_bytes(b"o" * 32)

    ok = cli(["html", str(signed), "--key-file", str(key_file), "-o", "ok.html"], cwd=elsewhere)
    assert ok.returncode == 0, ok.stderr
    assert "ZeroDivisionError" in (elsewhere / "ok.html").read_text(encoding="utf-8")

    for args, why in (
        ([str(signed), "--key-file", str(other)], "signature"),
        ([str(unsigned), "--key-file", str(key_file)], "not signed"),
    ):
        refused = cli(["html", *args, "-o", "refused.html"], cwd=elsewhere)
        assert refused.returncode == 3, refused.stderr
        assert refused.stderr.startswith("Error: ") and why in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert not (elsewhere / "refused.html").exists()

    allowed = cli(
        ["html", str(unsigned), "--key-file", str(key_file), "--allow-unsigned", "-o", "u.html"],
        cwd=elsewhere,
    )
    assert allowed.returncode == 0, allowed.stderr
