"""The page and the terminal spell a task's key, a size and a death in the same words
(``snapshot.format_key``, ``format_size``, ``death_label``): the real CLI in a
subprocess against ``snapshot.render_html`` of the same file."""

from __future__ import annotations

import html
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crafting import members_of
from jobs import manifest_of, write_with_manifest

import snapshot


def _with(recip_snapshot: Path, path: Path, **fields: Any) -> Path:
    members = members_of(recip_snapshot)
    manifest = {**manifest_of(members), **fields}
    return write_with_manifest(path, members, manifest)


@pytest.mark.parametrize(
    ("death", "label"),
    [
        ({"cause": "unknown"}, "cause unknown"),
        ({"cause": "signal", "signal": 9, "signal_name": "SIGKILL"}, "SIGKILL"),
        ({"cause": "signal"}, "killed by a signal"),
        ({"cause": "exit", "exit_code": 3}, "exit status 3"),
        ({"cause": "memory"}, "out of memory"),
        ({"cause": "oom-killer-v2"}, "oom-killer-v2"),
    ],
)
def test_the_page_and_info_say_the_same_key_size_and_death(
    recip_snapshot: Path,
    tmp_path: Path,
    cli: Callable[..., Any],
    death: dict[str, Any],
    label: str,
) -> None:
    path = _with(
        recip_snapshot,
        tmp_path / "died.tar.zst",
        task={"key": ["x-task", 7], "name": "x-task"},
        death={**death, "memory_limit": 3 * 2**40, "worker": "tcp://10.0.0.1:1234"},
    )
    page = html.unescape(snapshot.render_html(path))
    info = cli(["info", str(path)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    for words in ("('x-task', 7)", "3.0 TiB", label):
        assert words in page, words
        assert words in info.stdout, words
    assert f"Worker died: {label}" in page
    assert f"The worker died running this task: {label}\n" in info.stdout


def test_a_string_key_is_shown_as_dask_spells_it_on_both(
    recip_snapshot: Path, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    path = _with(recip_snapshot, tmp_path / "s.tar.zst", task={"key": "recip-0123abcd"})
    page = html.unescape(snapshot.render_html(path))
    info = cli(["info", str(path)], cwd=tmp_path)
    assert "task <code>recip-0123abcd</code>" in page
    assert "task:    recip-0123abcd" in info.stdout


def test_the_one_formatters_at_their_edges() -> None:
    assert snapshot.format_size(0) == "0 B"
    assert snapshot.format_size(1023) == "1023 B"
    assert snapshot.format_size(1536) == "1.5 KiB"
    assert snapshot.format_size(2**40) == "1.0 TiB"
    assert snapshot.format_size(2**60) == "1024.0 PiB"
    for bad in (None, -1, True, 1.5, "3"):
        assert snapshot.format_size(bad) == "?"
    assert snapshot.format_key(None) == "?"
    assert snapshot.format_key(["a", [1, 2]]) == "('a', (1, 2))"
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    assert snapshot.format_key(deep) == "?" or snapshot.format_key(deep).startswith("[")


def test_bytecode_compares_only_under_a_known_and_equal_python() -> None:
    here = "{}.{}".format(*sys.version_info[:2])
    assert snapshot.same_bytecode(f"{here}.0") and snapshot.same_bytecode(here)
    for unknown in (None, "", "3", "x.y", 3.11, f"{sys.version_info[0]}.{sys.version_info[1] + 1}"):
        assert not snapshot.same_bytecode(unknown), unknown


def test_a_file_without_its_python_version_is_not_verified_by_hash_on_the_page(
    recip_snapshot: Path, tmp_path: Path
) -> None:
    manifest = manifest_of(members_of(recip_snapshot))
    environment = dict(manifest["environment"])
    environment["python"] = {k: v for k, v in environment["python"].items() if k != "version"}
    path = _with(recip_snapshot, tmp_path / "nov.tar.zst", environment=environment)
    page = html.unescape(snapshot.render_html(path))
    assert "the snapshot does not record its Python version" in page
    assert "code hash" not in page


def test_the_users_function_that_raised_is_named_alike_on_both(
    recip_snapshot: Path, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    page = html.unescape(snapshot.render_html(recip_snapshot))
    info = cli(["info", str(recip_snapshot)], cwd=tmp_path)
    assert "in your code <code>recip(x=0, scale=1)</code>" in page
    assert "  in:      recip(x=0, scale=1)  (your code's innermost frame)" in info.stdout
