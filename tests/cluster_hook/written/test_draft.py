"""``cluster_hook._written.draft``: the one start of a death snapshot and of a snapshot asked for.

Both writers (``_deaths.writer``, ``_ondemand.writer``) begin their file here
from the scheduler's record; each adds only its own section and call.  Real
files, read back with the reader; the end-to-end writers are tested in
tests/cluster_hook/deaths/ and tests/cluster_hook/ondemand/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dask._task_spec import Task, TaskRef

import snapshot
from cluster_hook._config import Settings
from cluster_hook._written.draft import add_inputs, draft, guard, size


def add(x: int, y: int, api_token: str = "") -> int:
    return x + y


def _record() -> dict[str, Any]:
    return {
        "key": "add-1",
        "prefix": "add",
        "dependencies": ["x-1"],
        "annotations": {"retries": 1},
        "priority": [0, 1],
        "run_spec": Task("add-1", add, TaskRef("x-1"), 2, api_token="s3cret-value"),
        "recomputed": {"x-1": {"function": "inc", "from": [], "tasks": 1, "by": "the scheduler"}},
    }


def _write(settings: Settings, record: dict[str, Any], **options: Any) -> Path:
    made = draft(settings, record, {"host": "h", "worker": "tcp://w:1"}, **options)
    made.builder.set_call(made.spec, ({"x-1": 40},), origin="run_spec")
    add_inputs(made, {"x-1": 40}, record)
    return made.builder.write(guard(settings).new_path(record["key"], made.host))


def test_a_draft_holds_the_task_its_origin_its_inputs_and_a_scrubbed_run_spec(
    tmp_path: Path,
) -> None:
    settings = Settings.from_config({"directory": str(tmp_path)})
    path = _write(settings, _record(), attempt=2, fingerprint="fp", occurrence=3)
    assert size(path) == path.stat().st_size > 0
    assert size(tmp_path / "missing") == 0
    model = snapshot.read_model(path)
    assert model.task is not None
    assert (model.task.key, model.task.prefix, model.task.dependencies) == (
        "add-1",
        "add",
        ("x-1",),
    )
    assert (model.task.attempt, model.task.fingerprint, model.task.occurrence) == (2, "fp", 3)
    assert model.origin.host == "h" and model.origin.worker == "tcp://w:1"
    assert model.environment is not None
    [entry] = model.inputs
    assert entry.recomputed is not None  # flagged: an impure task may have given another value
    # The secret-named keyword argument is redacted in the stored run_spec.
    assert model.run_spec is not None
    run_spec = snapshot.open_snapshot(path).load(model.run_spec)
    assert isinstance(run_spec, Task) and "s3cret-value" not in repr(run_spec.kwargs)
    assert run_spec({"x-1": 40}) == 42


def test_a_draft_is_capped_below_max_total_size_when_asked(tmp_path: Path) -> None:
    settings = Settings.from_config({"directory": str(tmp_path)})
    record = _record()
    big = {"x-1": os.urandom(2_000_000)}  # incompressible
    sizes = []
    for cap in (None, 1_000_000):
        made = draft(settings, record, {}, max_total_bytes=cap)
        made.builder.set_call(made.spec, (big,), origin="run_spec")
        add_inputs(made, big, record)
        sizes.append(size(made.builder.write(guard(settings).new_path("add-1", made.host))))
    assert sizes[0] > 2_000_000 > 1_000_000 > sizes[1]
