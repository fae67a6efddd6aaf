"""``inputs[i].recomputed`` (spec 4.6): an input computed again from its task, every field optional."""

from __future__ import annotations

import snapshot


def test_a_recomputed_input_is_read_with_what_it_was_computed_from() -> None:
    raw = {
        "inputs": [
            {
                "key": "up-1",
                "piece": "p2",
                "recomputed": {
                    "function": "upstream",
                    "from": [["x", 0], "y"],
                    "tasks": 2,
                    "by": "the scheduler",
                    "note": "an impure task may differ",
                },
            },
            {"key": "other", "piece": "p3"},
        ]
    }
    model = snapshot.parse_manifest(raw)
    first, second = model.inputs
    assert first.recomputed is not None
    assert first.recomputed.function == "upstream"
    assert first.recomputed.sources == (["x", 0], "y")
    assert (first.recomputed.tasks, first.recomputed.by) == (2, "the scheduler")
    assert second.recomputed is None
    assert model.problems == ()


def test_a_malformed_flag_still_says_recomputed_and_names_its_problems() -> None:
    raw = {"inputs": [{"key": "k", "piece": "p1", "recomputed": {"function": 3, "from": "x"}}]}
    model = snapshot.parse_manifest(raw)
    [entry] = model.inputs
    assert entry.recomputed is not None and entry.recomputed.function is None
    assert entry.recomputed.sources == ()
    assert len(model.problems) == 2
