"""The typed manifest: one builder, every field optional, a wrong type absent and named.

``parse_manifest`` is given genuine manifests (no problems), hand-made ones
(exact problem texts) and, through Hypothesis, genuine manifests with any one
field replaced by a hostile value: the only outcomes are a :class:`Manifest`
or, for a manifest that is not an object, :class:`SnapshotFormatError`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from crafting import members_of
from hypothesis import strategies as st
from strategies import hostile_json, mutated_manifests

import snapshot
from snapshot import Manifest, SnapshotFormatError, key_from_json, parse_manifest
from snapshot._codehash import code_sha256

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "1.0"


def manifest_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(dict(members_of(path))["manifest.json"])
    return data


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from samples import build_small

    return manifest_of(build_small(tmp_path_factory.mktemp("model") / "small.tar.zst"))


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.zst")))
def test_golden_manifests_have_no_problems(name: str) -> None:
    model = parse_manifest(manifest_of(GOLDEN / name), path=name)
    assert model.problems == ()
    assert model.format == "dask-replay-snapshot" and model.format_version == "1.0"
    assert model.error is not None and model.error.type
    assert model.pieces and all(r.status for r in model.pieces.values())


def test_the_model_follows_the_manifest(genuine: dict[str, Any]) -> None:
    model = parse_manifest(genuine, path="small")
    assert model.problems == () and model.raw is genuine
    assert model.call is not None and model.call.kwargs is not None
    assert set(model.call.kwargs) == {"round_to"}
    assert {key_from_json(i.key) for i in model.inputs} == {("x", 0), "y"}
    assert model.frames[-1].function == "truediv" or model.frames[-1].locals is not None
    assert model.capture is not None and model.capture.complete is True
    assert model.environment is not None and model.environment.python is not None


def test_frames_carry_the_hash_of_their_code(genuine: dict[str, Any]) -> None:
    """Each frame records ``code_sha256`` of the code that ran (spec 4.4), in the model too."""
    model = parse_manifest(genuine, path="small")
    assert model.frames
    for raw, frame in zip(genuine["frames"], model.frames, strict=True):
        assert frame.code_sha256 == raw["code_sha256"]
        assert frame.code_sha256 is not None and len(frame.code_sha256) == 64
    from samples import build_small

    assert model.frames[0].function == "build_small"
    assert model.frames[0].code_sha256 == code_sha256(build_small.__code__)


def test_reading_the_model_from_a_file(small_snapshot: Path) -> None:
    model = snapshot.read_model(small_snapshot)
    opened = snapshot.open_snapshot(small_snapshot)
    assert model == opened.model
    assert opened.model is opened.model  # parsed once


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("error", {"message": ["x"]}, "`error.message` is a list, not a string"),
        ("error", 7, "`error` is an integer, not an object"),
        ("frames", [{}, {}, {}, {"locals": 3}], "`frames[3].locals` is an integer, not an object"),
        ("frames", [1.5], "`frames[0]` is a number, not an object"),
        (
            "frames",
            [{"code_sha256": "AB" * 32}],
            "`frames[0].code_sha256` is a string, not a SHA-256 (64 lowercase hex digits)",
        ),
        ("frames", [{"code_sha256": "ab" * 31}], "`frames[0].code_sha256` is a string, not a SHA"),
        ("frames", [{"code_sha256": 7}], "`frames[0].code_sha256` is an integer, not a SHA"),
        ("call", [], "`call` is a list, not an object"),
        ("environment", [], "`environment` is a list, not an object"),
        ("pieces", {"p0": {"size": "3"}}, "`pieces['p0'].size` is a string, not an integer"),
        ("pieces", {"p0": {"size": True}}, "`pieces['p0'].size` is a boolean, not an integer"),
        ("signed", None, "`signed` is null, not a boolean"),
        ("capture", {"seconds": 10**400}, "`capture.seconds` is an integer, not a finite number"),
        ("task", {"key": {"a": 1}}, "`task.key` is an object, not a key"),
        ("modules", {"numpy": 2}, "`modules['numpy']` is an integer, not a string or null"),
    ],
)
def test_a_wrong_type_is_absent_and_named(field: str, value: object, problem: str) -> None:
    model = parse_manifest({"format": "dask-replay-snapshot", field: value})
    assert len(model.problems) == 1
    assert problem in model.problems[0] and model.problems[0].startswith("manifest field `")
    assert model.problems[0].endswith(": ignored")


def test_ids_are_all_or_nothing() -> None:
    """One bad argument id makes the whole list absent: never a call with fewer arguments."""
    model = parse_manifest({"call": {"func": "p0", "args": ["p1", 2, "p3"], "kwargs": {"k": []}}})
    assert model.call is not None
    assert model.call.args is None and model.call.kwargs is None
    assert [p.split(":")[-1].strip() for p in model.problems] == [
        "`call.kwargs` ignored",
        "`call.args` ignored",
    ]


def test_problems_are_bounded() -> None:
    model = parse_manifest({"pieces": {f"p{i}": 7 for i in range(10_000)}})
    assert len(model.problems) == 101
    assert model.problems[-1] == "... and 9900 more problems in the manifest"


def test_keys_deeper_than_a_dask_key_are_refused_without_recursion() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    model = parse_manifest({"task": {"key": deep}, "inputs": [{"key": deep, "piece": "p0"}]})
    assert model.task is not None and model.task.key is None
    assert model.inputs[0].key is None and len(model.problems) == 2


@pytest.mark.parametrize("raw", [[], "x", 7, None, 1.5, True])
def test_a_manifest_that_is_not_an_object(raw: object) -> None:
    with pytest.raises(SnapshotFormatError, match=r"f\.zst: manifest\.json holds"):
        parse_manifest(raw, path="f.zst")


@hypothesis.given(raw=hostile_json)
def test_any_value_at_the_top(raw: object) -> None:
    try:
        parse_manifest(raw)
    except SnapshotFormatError:
        assert not isinstance(raw, dict)


@hypothesis.given(data=st.data())
def test_any_field_mutated(genuine: dict[str, Any], data: st.DataObject) -> None:
    raw = data.draw(mutated_manifests(copy.deepcopy(genuine)))
    model = parse_manifest(raw)
    assert isinstance(model, Manifest)
    for problem in model.problems:
        assert problem.startswith(("manifest field `", "... and "))


def test_the_model_is_frozen(genuine: dict[str, Any]) -> None:
    model = parse_manifest(genuine)
    with pytest.raises(AttributeError):
        model.format = "x"  # type: ignore[misc]


def test_a_death_section_as_the_hook_writes_it() -> None:
    """Spec 4.10: every key may be null; none of those is a problem."""
    death = {
        "cause": "signal",
        "summary": "worker w0 died",
        "worker": "tcp://10.0.0.1:1",
        "worker_name": 0,
        "memory": {"process": 1, "managed": 2, "unmanaged": None, "spilled": 0},
        "exit_code": -11,
        "signal_name": "SIGSEGV",
        "killed_worker": False,
        "lost_inputs": [{"key": ["x", 1], "reason": "only on the dead worker"}],
        "time": 1.5,
    }
    nulls = ["host", "pid", "nanny", "nthreads", "memory_limit", "rss_at_kill", "signal"]
    nulls += ["executing", "stacks", "stacks_reason", "stimulus_id"]
    origin = {"host": None, "written_by": {"host": "h", "worker": "w", "worker_name": None}}
    model = parse_manifest({"death": {**death, **dict.fromkeys(nulls)}, "origin": origin})
    assert model.problems == ()
    assert model.death is not None and model.death.memory is not None
    assert model.death.memory.unmanaged is None and model.death.exit_code == -11
    assert key_from_json(model.death.lost_inputs[0].key) == ("x", 1)
    assert model.origin is not None and model.origin.written_by is not None
    assert model.origin.written_by.host == "h"
