"""Write the golden snapshot files of the current format: ``make golden``.

The files in ``tests/snapshot/golden/<version>/`` are committed (1.0, made by
the 1.0 writer from the first five cases, and 1.1); ``test_golden.py`` reads
every one of them and fails when one is missing.  They pin what a 1.0
file looks like, so that a later reader (or a later writer's reader) still
opens the files of today.  Regenerate them only on purpose, and never after a
format change: a new format version gets a new directory, and these stay.

A few files were written by an older writer (:data:`OLDER_WRITERS`): the case
of this generator, run with the ``snapshot`` package of an earlier commit
first on the path, e.g. for the 1.0 one::

    git archive f9142781 snapshot | tar -x -C /tmp/writer
    PYTHONPATH=/tmp/writer:tests/snapshot python tests/snapshot/generate_golden.py \
        placeholder_values --out tests/snapshot/golden/1.0/placeholder_values.zst

Payloads use builtins and numpy only: a function from the tests would be
pickled by reference to a module a reader may not have, and a function pickled
by value holds a code object of one Python version.  The failing job is
compiled from a fixed source under a fixed file name, so that its frame and
source look the same wherever the generator runs.  What still varies between
runs (``created``, ``environment``, ``origin.pid``, ``capture.seconds``, tar
mtimes) is not what the tests check.
"""

from __future__ import annotations

import argparse
import linecache
import operator
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

import snapshot

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / snapshot.FORMAT_VERSION

#: The key of ``signed.zst``: a test key, not a secret.
KEY = b"dask-replay golden key (not a secret)"

JOB_FILE = "/worker/home/golden_job.py"
JOB_SOURCE = """\
def scale(x, y):
    factor = x * 2
    return factor / y
"""

NUMPY_INPUTS = {
    ("ramp", 0): np.arange(24, dtype=np.float64).reshape(4, 6),
    ("ramp", 1): np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    "mask": np.array([True, False, True]),
}


#: The references case: two frames hold the same ``x``.
REF_FILE = "/worker/home/golden_refs.py"
REF_SOURCE = """\
def outer(x, y):
    return inner(x, y)


def inner(x, y):
    return x["blob"] / y
"""

#: Large enough to go out-of-band (64 KiB and more), small enough for git.
SHARED_BYTES = bytes(range(256)) * 257


def _failed_job(
    builder: snapshot.SnapshotBuilder,
    x: object,
    y: object,
    *,
    filename: str = JOB_FILE,
    source: str = JOB_SOURCE,
    function: str = "scale",
) -> None:
    """Run ``function(x, y)`` from ``filename`` and capture its failure (its frames only)."""
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace = {"__name__": "golden_job"}
    exec(compile(source, filename, "exec"), namespace)
    try:
        namespace[function](x, y)
    except Exception as exc:
        builder.capture_exception(exc, skip_frames=1)
    else:
        raise AssertionError("the golden job did not fail")


def _task(builder: snapshot.SnapshotBuilder, key: list[object]) -> None:
    builder.manifest["task"] = {
        "key": key,
        "prefix": str(key[0]).rsplit("-", 1)[0],
        "dependencies": [],
        "annotations": {},
        "priority": [0, 1],
        "attempt": 1,
        "fingerprint": "golden",
        "occurrence": 1,
    }
    builder.manifest["origin"].update(
        {"host": "golden-host", "worker": "tcp://10.0.0.1:40000", "worker_name": "w0"}
    )


def plain_call(path: Path) -> Path:
    """``operator.truediv(14, 0)``: ints only."""
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["truediv-0123", 0])
    _failed_job(builder, 7, 0)
    builder.set_call(operator.truediv, [14, 0])
    builder.add_inputs({"x": 7, "y": 0})
    builder.add_run_spec((operator.truediv, 14, 0))
    return builder.write(path)


def numpy_input(path: Path) -> Path:
    """numpy inputs, whose data are out-of-band buffers (one Fortran-ordered)."""
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["divide-4567", 3])
    _failed_job(builder, NUMPY_INPUTS[("ramp", 0)], "zero")
    builder.set_call(operator.truediv, [NUMPY_INPUTS[("ramp", 0)], "zero"])
    builder.add_inputs(NUMPY_INPUTS)
    return builder.write(path)


def signed(path: Path) -> Path:
    """Like ``plain_call``, signed with KEY."""
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["truediv-89ab", 1])
    _failed_job(builder, 1, 0)
    builder.set_call(operator.truediv, [2, 0])
    builder.add_inputs({"x": 1, "y": 0})
    return builder.write(path, key=KEY)


def placeholders(path: Path) -> Path:
    """Every status that is not ``stored``: placeholder, omitted (cap, setting), redacted."""
    builder = snapshot.SnapshotBuilder(limits=snapshot.WriteLimits(max_piece_bytes=4096))
    _task(builder, ["apply-cdef", 0])
    _failed_job(builder, 3, 0)
    builder.set_call(
        operator.truediv,
        [threading.Lock(), np.zeros(10_000, dtype=np.float64)],
        {"password": "hunter2", "config": {"api_key": "AKIA", "region": "eu"}},
    )
    builder.add_inputs({"x": 3}, capture=False)
    return builder.write(path)


def manifest_only(path: Path) -> Path:
    """The fallback when the full snapshot could not be written: manifest and sources."""
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["truediv-0123", 1])
    _failed_job(builder, 7, 0)
    builder.set_call(operator.truediv, [14, 0])
    builder.add_inputs({"x": 7, "y": 0})
    return builder.write(path, pieces=False, reason="[Errno 28] No space left on device")


def references(path: Path) -> Path:
    """1.1: one dict held by the call, the inputs and two frames; large binary objects in it."""
    shared = {
        "blob": SHARED_BYTES,
        "array": bytearray(SHARED_BYTES),
        "view": memoryview(bytes(SHARED_BYTES)),
    }
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["outer-0f1e", 0])
    _failed_job(builder, shared, 2, filename=REF_FILE, source=REF_SOURCE, function="outer")
    builder.set_call(operator.truediv, [shared, 2])
    builder.add_inputs({"shared": shared})
    return builder.write(path)


def placeholder_values(path: Path) -> Path:
    """Placeholders inside stored pieces: a ``Placeholder`` among the captured values
    (pickled by its class, ``NEWOBJ`` + ``BUILD`` of its state) and a live resource
    nested in an argument (1.1: a call of ``Placeholder``; 1.0: the argument failed)."""
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["truediv-7a7a", 0])
    _failed_job(builder, 7, 0)
    held = snapshot.Placeholder(*HELD_PLACEHOLDER)
    builder.set_call(operator.truediv, [{"value": held}, {"lock": threading.Lock()}])
    return builder.write(path)


def on_demand(path: Path) -> Path:
    """1.1, section 4.13: a task that finished, asked for: ``operator.add(ramp, 1)`` and the
    array it returned (out-of-band buffers), no error, no frames."""
    ramp = NUMPY_INPUTS[("ramp", 0)]
    builder = snapshot.SnapshotBuilder()
    _task(builder, ["add-8b8b", 0])
    builder.set_call(operator.add, [ramp, 1], origin="task")
    builder.add_inputs({("ramp", 0): ramp})
    builder.manifest["on_demand"] = {
        "trigger": "cluster_hook.capture",
        "state": "finished",
        "requested_by": "Client-golden",
        "time": 1796600000.0,
    }
    builder.add_result(ramp + 1)
    return builder.write(path)


#: ``type``, ``repr``, ``reason``, ``status`` of the Placeholder in ``placeholder_values``.
HELD_PLACEHOLDER = ("numpy.ndarray", "array([0., 0., ...])", "left out: a size cap", "omitted")

GOLDEN: dict[str, Callable[[Path], Path]] = {
    "plain_call.zst": plain_call,
    "numpy_input.zst": numpy_input,
    "signed.zst": signed,
    "placeholders.zst": placeholders,
    "manifest_only.zst": manifest_only,
    "references.zst": references,
    "placeholder_values.zst": placeholder_values,
    "on_demand.zst": on_demand,
}

#: The files of ``golden/1.0/``, written by the 1.0 writer (never regenerated).
GOLDEN_1_0 = (
    "manifest_only.zst",
    "numpy_input.zst",
    "placeholders.zst",
    "plain_call.zst",
    "signed.zst",
)


#: Files written by an older writer: ``"<version>/<file>"`` -> (the case that
#: wrote it, the commit whose ``snapshot`` package ran it; see the module doc).
#: A ``Placeholder`` was a dataclass there: its pickled state is a dict.
OLDER_WRITERS: dict[str, tuple[str, str]] = {
    "1.0/placeholder_values.zst": (
        "placeholder_values",
        "f9142781e4fb9ae8b721bd0264e79c20e57a95ad",
    ),
    "1.1/placeholder_values_dict_state.zst": (
        "placeholder_values",
        "ab8588cb39edae086556d358bb8006ba76d2d95d",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", help="write this case only (a function's name)")
    parser.add_argument("--out", type=Path, help="with a case: the file to write")
    args = parser.parse_args(argv)
    if args.case is not None:
        make = next((m for m in GOLDEN.values() if m.__name__ == args.case), None)
        if make is None:
            parser.error(
                f"no case {args.case!r}; the cases: {', '.join(m.__name__ for m in GOLDEN.values())}"
            )
        out = args.out or GOLDEN_DIR / f"{args.case}.zst"
        targets = [(make, out)]
    else:
        targets = [(make, GOLDEN_DIR / name) for name, make in GOLDEN.items()]
    for make, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        path = make(target)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
