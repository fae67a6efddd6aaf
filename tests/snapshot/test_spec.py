"""``specs/snapshot-format.md`` and the code say the same thing.

The spec's tables of manifest fields and limits are read from the Markdown and
compared with what the writer produces and the defaults the code has, so that
neither drifts without the other.
"""

from __future__ import annotations

import json
import operator
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from crafting import members_of

from snapshot import ReadLimits, SnapshotBuilder, WriteLimits, environment_info
from snapshot._model import manifest as model
from snapshot._record import fields

SPEC = Path(__file__).resolve().parents[2] / "specs" / "snapshot-format.md"
UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def table_after(heading: str, *, skip: int = 0) -> dict[str, list[str]]:
    """The rows of the ``skip``-th table after ``heading``: first cell's name -> cells."""
    lines = SPEC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    rows: dict[str, list[str]] = {}
    tables = -1
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("#") and not line.startswith("####"):
            break
        if line.startswith("|"):
            if not in_table:
                tables += 1
                in_table = True
            if tables == skip:
                cells = [c.strip() for c in line.strip("|").split("|")]
                for name in re.findall(r"`([^`]+)`", cells[0]):
                    rows[name] = cells
        else:
            in_table = False
            if tables >= skip and rows:
                break
    assert rows, f"no table after {heading!r} in {SPEC}"
    return rows


def size(text: str) -> int:
    """``"8 GiB"`` -> 8 * 2**30; ``"100 000"`` -> 100000."""
    match = re.fullmatch(r"([\d ,]+?)\s*(KiB|MiB|GiB)?", text.strip())
    assert match, text
    return int(re.sub(r"[ ,]", "", match.group(1))) * UNITS.get(match.group(2) or "", 1)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """A manifest with every section, and its signature.json."""
    builder = SnapshotBuilder(limits=WriteLimits(max_piece_bytes=1000))
    try:
        try:
            operator.truediv(1, 0)
        except ZeroDivisionError as inner:
            raise ValueError("outer") from inner
    except ValueError as exc:
        exc.add_note("a note")
        builder.capture_exception(exc)
    builder.manifest["task"] = {"key": ["x", 0]}
    builder.set_call(operator.truediv, [np.arange(10), np.zeros(1000)], {"password": 1})
    builder.add_inputs({"x": 1})
    builder.add_run_spec((operator.truediv, 1, 0))
    path = builder.write(tmp_path_factory.mktemp("spec") / "full.tar.zst", key=b"k")
    members = dict(members_of(path))
    return json.loads(members["manifest.json"]), json.loads(members["signature.json"])


def test_top_level_keys(full: tuple[dict[str, Any], dict[str, Any]]) -> None:
    manifest, _ = full
    assert set(table_after("## 4. The manifest")) == set(manifest)


def test_group_member_keys() -> None:
    from snapshot._write.exception import describe_exception

    group = ExceptionGroup("outer", [ValueError(1), ExceptionGroup("inner", [KeyError(2)])])
    error = describe_exception(group)
    assert set(table_after("### 4.3 error")) == set(error)
    members = table_after("#### group members")
    assert set(members) == set(error["members"][1])  # the inner group, with `omitted`
    assert set(members) - {"omitted"} == set(error["members"][0])


def test_section_keys(full: tuple[dict[str, Any], dict[str, Any]]) -> None:
    manifest, _ = full
    # members, members_omitted: an exception group's only (test_group_member_keys).
    group_keys = {"members", "members_omitted"}
    assert set(table_after("### 4.3 error")) - group_keys == set(manifest["error"])
    chain = table_after("#### chain entries")
    assert set(chain) == set(manifest["error"]["chain"][0])
    assert set(table_after("### 4.4 frames")) == set(manifest["frames"][-1])
    assert set(table_after("### 4.5 call")) == set(manifest["call"])
    assert set(table_after("### 4.6 inputs")) == set(manifest["inputs"][0])
    assert set(table_after("### 4.7 sources")) == set(next(iter(manifest["sources"].values())))
    assert set(table_after("### 4.9 capture")) == set(manifest["capture"])
    assert set(table_after("### 5.2 Buffer records")) == set(manifest["buffers"]["b0"])
    origin = set(table_after("### 4.1 origin"))
    assert origin == set(manifest["origin"])  # what the writer itself sets
    assert origin.isdisjoint(table_after("### 4.1 origin", skip=1))  # the cluster hook's


def test_environment_keys() -> None:
    assert set(table_after("### 4.8 environment")) == set(environment_info())


def test_piece_record_keys_and_statuses(full: tuple[dict[str, Any], dict[str, Any]]) -> None:
    manifest, _ = full
    documented = set(table_after("### 5.1 Piece records"))
    statuses = set()
    for record in manifest["pieces"].values():
        assert set(record) <= documented, record
        statuses.add(record["status"])
    assert statuses == {"stored", "omitted", "redacted"}  # "placeholder": test_roundtrip


def test_signature_keys(full: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, signature = full
    assert set(table_after("## 6. The signature")) == set(signature)


@pytest.mark.parametrize(
    "heading, limits", [("### ReadLimits", ReadLimits()), ("### WriteLimits", WriteLimits())]
)
def test_limit_defaults(heading: str, limits: Any) -> None:
    rows = table_after(heading)
    assert set(rows) == set(fields(limits))
    for field, cells in rows.items():
        assert size(cells[1]) == getattr(limits, field), field


def test_member_name_grammar_in_the_spec_is_the_reader_s() -> None:
    from snapshot._read import tar as _tar

    assert f"`{_tar.SAFE_NAME}`" in SPEC.read_text()


def test_the_golden_directory_named_by_the_spec_exists() -> None:
    for version in ("1.0", "1.1"):
        assert f"tests/snapshot/golden/{version}/" in SPEC.read_text()
        assert (SPEC.parents[1] / "tests" / "snapshot" / "golden" / version).is_dir()


def _fields(cls: type) -> set[str]:
    return set(fields(cls))


#: ``refs`` comes with format 1.1 (pieces referring to pieces); its row in 5.1
#: lands with the writer that emits it.  The union keeps this test true before and after.
_FORMAT_1_1 = {"refs"}


@pytest.mark.parametrize(
    "heading, cls, skip",
    [
        ("### 4.2 task", model.Task, 0),
        ("### 4.3 error", model.Error, 0),
        ("#### chain entries", model.ChainEntry, 0),
        ("#### group members", model.GroupMember, 0),
        ("### 4.4 frames", model.Frame, 0),
        ("### 4.5 call", model.Call, 0),
        ("### 4.7 sources", model.SourceRecord, 0),
        ("### 4.8 environment", model.Environment, 0),
        ("### 4.9 capture", model.Capture, 0),
        ("### 5.2 Buffer records", model.BufferRecord, 0),
        ("### 4.10 death", model.Death, 0),
        ("### 4.11 amended (client copies)", model.Amended, 0),
        ("### 4.12 shrunk (shrunk copies)", model.Shrunk, 0),
        ("### 4.13 on_demand (snapshots asked for)", model.OnDemand, 0),
    ],
)
def test_the_model_has_the_spec_s_fields(heading: str, cls: type, skip: int) -> None:
    assert set(table_after(heading, skip=skip)) == _fields(cls)


def test_the_model_has_the_spec_s_top_level_and_nested_fields() -> None:
    # death: a top-level section of the cluster hook's, its own table in 4.10.
    # amended: only in client copies, its own table in 4.11.
    # shrunk: only in shrunk copies, its own table in 4.12.
    # on_demand: only in snapshots asked for, its own table in 4.13.
    top = _fields(model.Manifest) - {"problems", "raw", "death", "amended", "shrunk", "on_demand"}
    assert set(table_after("## 4. The manifest")) == top
    assert "top-level `death` section" in SPEC.read_text()
    origin = set(table_after("### 4.1 origin")) | set(table_after("### 4.1 origin", skip=1))
    assert origin == _fields(model.Origin)
    # inputs: the writer's table, then the cluster hook's (`recomputed`).
    inputs = set(table_after("### 4.6 inputs")) | set(table_after("### 4.6 inputs", skip=1))
    assert inputs == _fields(model.Input)
    assert set(table_after("### 5.1 Piece records")) | _FORMAT_1_1 == _fields(model.PieceRecord)
    python = environment_info()["python"]
    assert set(python) == _fields(model.PythonInfo)
    assert _fields(model.Writer) == {"name", "version"}  # spec: `writer` row of section 4
    assert "`name` (string" in table_after("## 4. The manifest")["writer"][2]
    assert "`shape`" in table_after("### 5.1 Piece records")["summary"][2]
    assert _fields(model.Summary) == {"shape", "dtype", "nbytes"}
    death = table_after("### 4.10 death")
    assert "`process` (RSS), `managed`, `unmanaged`, `spilled`" in death["memory"][-1]
    assert _fields(model.DeathMemory) == {"process", "managed", "unmanaged", "spilled"}
    assert "`key` (JSON key) and `reason` (string)" in death["lost_inputs"][-1]
    assert _fields(model.LostInput) == {"key", "reason"}
    written_by = table_after("### 4.1 origin", skip=1)["written_by"][-1]
    assert "`host`, `worker` and `worker_name`" in written_by
    assert _fields(model.WrittenBy) == {"host", "worker", "worker_name"}
    shrunk_inputs = table_after("### 4.12 shrunk (shrunk copies)")["inputs"][-1]
    assert "`path` (string" in shrunk_inputs and "`before` and `after`" in shrunk_inputs
    assert _fields(model.ShrunkInput) == {"path", "kind", "before", "after"}
