"""An exception group's members (spec 4.3, ``members``): captured, then shown by ``info``,
the replay's header and the HTML page, nested groups indented, within bounds, escaped.

The captures are real: ``snapshot.capture`` around functions compiled as a
worker holds them (one gathers two failing coroutines in an
``asyncio.TaskGroup``, one raises a nested group with hostile text).  The
hostile manifests are genuine snapshots whose ``error.members`` is replaced
by huge, deep and malformed lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from crafting import members_of
from jobs import compile_job, manifest_of, run_cli, write_with_manifest
from terminal_checks import unsafe_bytes

import snapshot

JOB = """\
import asyncio


async def fail(kind, text):
    raise kind(text)


async def gather():
    async with asyncio.TaskGroup() as group:
        group.create_task(fail(ValueError, "bad value"))
        group.create_task(fail(KeyError, "missing"))


def run_group():
    asyncio.run(gather())


def nested(n):
    inner = ExceptionGroup("inner", [TypeError("\\x1b[2J<script>alert(1)</script>")])
    leaves = [OSError(i) for i in range(n)]
    raise ExceptionGroup("outer", [ValueError("one\\ntwo"), inner, *leaves])
"""
#: The bounds of spec 4.3 (``members``): entries listed, levels.
MAX_MEMBERS, MAX_DEPTH = 20, 5
HOSTILE_TEXT = "\x1b]0;title\x07\x1b[2J\u202e<script>x</script>"


def _capture(tmp_path: Path, name: str, *args: Any) -> Path:
    job = compile_job(JOB, "/worker/home/groups.py")
    directory = tmp_path / name
    wrapped = snapshot.capture(directory=str(directory))(job[name])
    with pytest.raises(BaseExceptionGroup):
        wrapped(*args)
    [path] = directory.glob("*" + snapshot.SNAPSHOT_SUFFIX)
    return path


@pytest.fixture(scope="module")
def task_group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _capture(tmp_path_factory.mktemp("groups"), "run_group")


@pytest.fixture(scope="module")
def nested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _capture(tmp_path_factory.mktemp("groups"), "nested", 30)


def test_a_task_group_s_members_are_captured(task_group: Path) -> None:
    error = snapshot.read_model(task_group).error
    assert error is not None and error.type == "ExceptionGroup"
    assert [(m.depth, m.type, m.message) for m in error.members] == [
        (1, "ValueError", "bad value"),
        (1, "KeyError", "'missing'"),
    ]
    assert error.members_omitted == 0


def test_info_and_the_replay_header_list_the_members(task_group: Path, tmp_path: Path) -> None:
    info = run_cli(["info", str(task_group)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert (
        "  error:   ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)\n"
        "  members: ValueError: bad value\n"
        "           KeyError: 'missing'\n"
    ) in info.stdout
    replayed = run_cli(["--no-debug", str(task_group)], cwd=tmp_path)
    assert "  members: ValueError: bad value\n           KeyError: 'missing'\n" in replayed.stdout
    assert "Reproduced" in replayed.stdout, replayed.stdout + replayed.stderr


def test_nested_groups_are_indented_bounded_and_escaped(nested: Path, tmp_path: Path) -> None:
    error = snapshot.read_model(nested).error
    assert error is not None and len(error.members) == MAX_MEMBERS
    # ValueError, the inner group and its TypeError, then 17 of the 30 OSErrors.
    assert error.members_omitted == 32 - (MAX_MEMBERS - 1)
    info = run_cli(["info", str(nested)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    lines = info.stdout.splitlines()
    start = lines.index("  members: ValueError: one\\x0atwo")
    assert lines[start + 1 : start + 3] == [
        "           ExceptionGroup: inner (1 sub-exception)",
        "             TypeError: \\x1b[2J<script>alert(1)</script>",
    ]
    assert lines[start + 3] == "           OSError: 0"
    assert lines[start + MAX_MEMBERS] == "           and 13 more"
    assert not unsafe_bytes(info.stdout.encode())
    page = run_cli(["html", str(nested), "-o", "-"], cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert "<script>alert" not in page.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.stdout
    assert '<li class="note">and 13 more</li>' in page.stdout
    assert (
        '<li><b class="etype">ExceptionGroup</b>: <code>inner (1 sub-exception)</code><ul><li>'
        '<b class="etype">TypeError</b>'
    ) in page.stdout


def _with_members(
    genuine: Path, tmp_path: Path, members: Any, omitted: Any = 0, name: str = "hostile.tar.zst"
) -> Path:
    parts = members_of(genuine)
    manifest = manifest_of(parts)
    manifest["error"]["members"] = members
    manifest["error"]["members_omitted"] = omitted
    return write_with_manifest(tmp_path / name, parts, manifest)


def test_a_huge_group_field_is_read_within_the_bounds(task_group: Path, tmp_path: Path) -> None:
    big = {"depth": 1, "type": "E" * 100_000, "module": "m", "message": HOSTILE_TEXT * 30_000}
    small = {"depth": 1, "type": "E", "message": HOSTILE_TEXT}
    path = _with_members(task_group, tmp_path, [big, big, *[small] * 100_000], omitted=10**9)
    model = snapshot.read_model(path)
    assert model.error is not None and len(model.error.members) == MAX_MEMBERS
    assert model.error.members_omitted == 10**9  # the bound: never more
    info = run_cli(["info", str(path)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    members = [line for line in info.stdout.splitlines() if line.startswith("  members:")]
    assert len(members) == 1 and len(members[0]) < 1_000  # each member's line is cut
    assert "           and 1,000,000,000 more" in info.stdout
    assert not unsafe_bytes(info.stdout.encode())
    page = run_cli(["html", str(path), "-o", "-"], cwd=tmp_path)
    assert page.returncode == 0 and "<script>x" not in page.stdout
    assert page.stdout.count('<b class="etype">') <= MAX_MEMBERS + 2
    assert len(page.stdout) < 2_000_000


def test_a_deep_or_disordered_group_field_is_dropped_and_said(
    task_group: Path, tmp_path: Path
) -> None:
    members = [
        {"depth": 1, "type": "ExceptionGroup", "message": "g", "omitted": 0},
        {"depth": 2, "type": "ExceptionGroup", "message": "h", "omitted": 0},
        {"depth": 9, "type": "Jump"},  # more than one level below the entry before it
        {"depth": 10, "type": "UnderJump"},  # under the dropped entry
        {"depth": 3, "type": "Fine"},
        {"depth": 3, "type": "ExceptionGroup", "omitted": 1},
        {"depth": 4, "type": "ExceptionGroup", "omitted": 1},
        {"depth": 5, "type": "ExceptionGroup", "omitted": 1},
        {"depth": 6, "type": "TooDeep"},  # past MAX_DEPTH
        {"depth": 2**200, "type": "Huge"},  # deeper still: under the dropped entry
        {"depth": True, "type": "Bool"},
        "not an object",
        {"type": ["not", "a", "string"], "omitted": -1},  # no depth: 1
        {"depth": 1, "omitted": "x", "message": 7},
    ]
    path = _with_members(task_group, tmp_path, members, omitted=-5)
    model = snapshot.read_model(path)
    error = model.error
    assert error is not None and error.members_omitted is None
    assert [m.type for m in error.members] == [
        "ExceptionGroup",
        "ExceptionGroup",
        "Fine",
        "ExceptionGroup",
        "ExceptionGroup",
        "ExceptionGroup",
        None,
        None,
    ]
    assert max(m.depth for m in error.members) == MAX_DEPTH
    problems = "\n".join(model.problems)
    for field in (
        "error.members[2].depth",
        "error.members[8].depth",
        "error.members[10].depth",
        "error.members[11]",
        "error.members[12].type",
        "error.members[12].omitted",
        "error.members[13].omitted",
        "error.members[13].message",
        "error.members_omitted",
    ):
        assert f"`{field}`" in problems, field
    # Dropped with the entry above them, silently.
    assert "error.members[3]" not in problems and "error.members[9]" not in problems
    info = run_cli(["info", str(path)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "                   and 1 more" in info.stdout  # the depth-5 group's, indented
    page = run_cli(["html", str(path), "-o", "-"], cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    garbage = _with_members(task_group, tmp_path, "members", omitted=None, name="garbage.tar.zst")
    shown = run_cli(["info", str(garbage)], cwd=tmp_path)
    assert shown.returncode == 0 and "members:" not in shown.stdout
    assert "manifest field `error.members` is a string, not a list: ignored" in shown.stdout
    document = json.loads(run_cli(["info", "--json", str(garbage)], cwd=tmp_path).stdout)
    assert document["manifest"]["error"]["members"] == "members"  # as read
