"""``on_demand`` (spec 4.13): a snapshot asked for, with the value the task returned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snapshot
from snapshot import Redactor, SnapshotBuilder, open_snapshot, read_model


def test_the_section_is_read_with_its_fields() -> None:
    raw = {
        "on_demand": {
            "trigger": "cluster_hook.capture",
            "state": "finished",
            "result": "p3",
            "requested_by": None,
            "time": 1.5,
        }
    }
    model = snapshot.parse_manifest(raw)
    assert model.on_demand == snapshot.OnDemand(
        trigger="cluster_hook.capture", state="finished", result="p3", time=1.5
    )
    assert model.problems == ()


def test_a_malformed_section_still_says_on_demand_and_names_its_problems() -> None:
    model = snapshot.parse_manifest({"on_demand": {"state": 3, "result": ["p1"], "time": "x"}})
    assert model.on_demand is not None and model.on_demand.result is None
    assert len(model.problems) == 3
    assert snapshot.parse_manifest({"on_demand": "yes"}).on_demand is None


def test_a_snapshot_without_the_section_has_none(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    builder.set_call(len, ([1, 2],))
    opened = open_snapshot(builder.write(tmp_path / "plain.tar.zst"))
    assert opened.model.on_demand is None
    with pytest.raises(snapshot.SnapshotFormatError, match="holds no result"):
        opened.result()


def test_the_result_is_a_piece_stored_once_and_loaded_back(tmp_path: Path) -> None:
    value = np.arange(10)
    builder = SnapshotBuilder(redactor=Redactor(patterns=()))
    builder.set_call(np.sum, (value,))
    builder.manifest["on_demand"] = {"trigger": "cluster_hook.capture", "state": "finished"}
    pid = builder.add_result(value)
    path = builder.write(tmp_path / "asked.tar.zst")
    model = read_model(path)
    assert model.on_demand is not None and model.on_demand.result == pid
    assert model.on_demand.state == "finished"
    assert model.call is not None and model.call.args == (pid,)  # one object, one piece
    assert model.error is None and model.frames == ()
    opened = open_snapshot(path)
    np.testing.assert_array_equal(opened.result(), value)
