"""The committed golden files of formats 1.0 and 1.1 still read as they were written.

Made by ``generate_golden.py`` (``make golden``; a few by an older writer running
its cases, ``OLDER_WRITERS``).  A missing file fails, it is never skipped: a
reader that can no longer be tested against old files must not pass silently.
Every test runs on both versions' files unless it names one.
"""

from __future__ import annotations

import io
import operator
import tarfile
from pathlib import Path

import generate_golden
import numpy as np
import pytest
import zstandard
from generate_golden import (
    GOLDEN,
    GOLDEN_1_0,
    HELD_PLACEHOLDER,
    JOB_FILE,
    JOB_SOURCE,
    KEY,
    NUMPY_INPUTS,
    OLDER_WRITERS,
    REF_FILE,
    REF_SOURCE,
    SHARED_BYTES,
)
from pickled import placeholder_forms

from snapshot import (
    Placeholder,
    Snapshot,
    SnapshotSignatureError,
    open_snapshot,
    read_manifest,
)

# The 1.0 files stay tested when the writer moves on: ``make golden`` writes a
# directory for the new version beside the old ones.
GOLDEN_ROOT = Path(__file__).resolve().parent / "golden"
OLDER = {
    v: tuple(k.split("/")[1] for k in OLDER_WRITERS if k.startswith(f"{v}/"))
    for v in ("1.0", "1.1")
}
VERSIONS = {"1.0": GOLDEN_1_0 + OLDER["1.0"], "1.1": tuple(GOLDEN) + OLDER["1.1"]}
CASES = [(v, name) for v, names in VERSIONS.items() for name in sorted(names)]


@pytest.fixture(params=sorted(VERSIONS))
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _open(version: str, name: str, **kwargs: object) -> Snapshot:
    path = GOLDEN_ROOT / version / name
    if not path.is_file():
        pytest.fail(
            f"golden file {path} is missing: restore it from git, or run `make golden` "
            "only if the format version changed"
        )
    return open_snapshot(path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("version, name", CASES)
def test_golden_file_is_a_snapshot_of_its_version(version: str, name: str) -> None:
    snap = _open(version, name, key=KEY, allow_unsigned=True)
    manifest = snap.manifest
    assert manifest == read_manifest(GOLDEN_ROOT / version / name)
    assert manifest["format"] == "dask-replay-snapshot"
    assert manifest["format_version"] == version
    assert manifest["writer"]["name"] == "dask-replay"
    assert manifest["created"].endswith("Z")
    assert manifest["origin"]["host"] == "golden-host"
    assert manifest["task"]["fingerprint"] == "golden"

    if name == "on_demand.zst":  # a task that finished: no error, no frames (spec 4.13)
        assert "error" not in manifest and "frames" not in manifest
    else:
        error = manifest["error"]
        expected = (
            "TypeError" if name in ("numpy_input.zst", "references.zst") else "ZeroDivisionError"
        )
        assert (error["type"], error["module"]) == (expected, "builtins")
        if name == "references.zst":
            frames = manifest["frames"]
            assert [(f["filename"], f["function"]) for f in frames] == [
                (REF_FILE, "outer"),
                (REF_FILE, "inner"),
            ]
            assert snap.source(REF_FILE) == REF_SOURCE
        else:
            (frame,) = manifest["frames"]
            assert (frame["filename"], frame["function"], frame["lineno"]) == (JOB_FILE, "scale", 3)
            assert snap.source(frame["source"]) == JOB_SOURCE

    with tarfile.open(fileobj=io.BytesIO(_decompressed(version, name))) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json"
    assert set(names) - {"signature.json"} == _members_named_by(manifest)


def _decompressed(version: str, name: str) -> bytes:
    with (GOLDEN_ROOT / version / name).open("rb") as fh:
        return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read()


def _members_named_by(manifest: dict) -> set[str]:
    named = {"manifest.json"}
    named |= {r["member"] for r in manifest["pieces"].values() if "member" in r}
    named |= {b["member"] for b in manifest["buffers"].values()}
    named |= {s["member"] for s in manifest["sources"].values()}
    return named


def test_no_unexpected_golden_files(version: str) -> None:
    present = {p.name for p in (GOLDEN_ROOT / version).iterdir()}
    assert present == set(VERSIONS[version]), "update GOLDEN in generate_golden.py"


def test_plain_call(version: str) -> None:
    snap = _open(version, "plain_call.zst")
    assert snap.call() == (operator.truediv, [14, 0], {})
    assert snap.inputs() == {"x": 7, "y": 0}
    assert snap.load(snap.manifest["run_spec"]) == (operator.truediv, 14, 0)
    assert snap.frame_locals(0) == {"x": 7, "y": 0, "factor": 14}
    exc = snap.exception()
    assert isinstance(exc, ZeroDivisionError) and exc.args == ("division by zero",)
    assert snap.manifest["task"]["key"] == ["truediv-0123", 0]
    assert snap.manifest["capture"]["complete"] is True
    assert not snap.signed


def test_numpy_input(version: str) -> None:
    snap = _open(version, "numpy_input.zst")
    manifest = snap.manifest
    assert len(manifest["buffers"]) >= 3
    inputs = snap.inputs()
    assert set(inputs) == set(NUMPY_INPUTS)
    for key, expected in NUMPY_INPUTS.items():
        loaded = inputs[key]
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape
        np.testing.assert_array_equal(loaded, expected)
    assert inputs[("ramp", 1)].flags.f_contiguous
    func, args, _ = snap.call()
    assert func is operator.truediv
    np.testing.assert_array_equal(args[0], NUMPY_INPUTS[("ramp", 0)])
    entry = next(e for e in manifest["inputs"] if e["key"] == ["ramp", 0])
    record = manifest["pieces"][entry["piece"]]
    assert record["summary"] == {"shape": [4, 6], "dtype": "float64", "nbytes": 192}
    assert "numpy" in manifest["modules"]


def test_signed(version: str) -> None:
    snap = _open(version, "signed.zst", key=KEY)
    assert snap.signed and snap.verified
    assert snap.call() == (operator.truediv, [2, 0], {})
    with pytest.raises(SnapshotSignatureError):
        _open(version, "signed.zst", key=b"not the golden key")


def test_placeholders(version: str) -> None:
    snap = _open(version, "placeholders.zst")
    pieces = snap.manifest["pieces"]
    func, args, kwargs = snap.call()
    assert func is operator.truediv
    lock, zeros = args
    assert isinstance(lock, Placeholder) and lock.type == "_thread.lock"
    assert lock.status == "placeholder"
    if version == "1.0":
        assert "cannot pickle" in lock.reason
    else:  # a live resource: never pickled, not even tried
        assert "live resource (lock)" in lock.reason
    assert isinstance(zeros, Placeholder) and zeros.status == "omitted"
    assert "per-object cap (4096 bytes" in zeros.reason
    assert isinstance(kwargs["password"], Placeholder) and kwargs["password"].status == "redacted"
    assert kwargs["config"] == {"api_key": "<redacted by dask-replay>", "region": "eu"}
    (entry,) = snap.manifest["inputs"]
    assert pieces[entry["piece"]]["status"] == "omitted"
    assert snap.manifest["capture"]["limits"]["max_piece_bytes"] == 4096
    assert snap.manifest["capture"]["complete"] is False


def test_manifest_only(version: str) -> None:
    snap = _open(version, "manifest_only.zst")
    manifest = snap.manifest
    assert manifest["buffers"] == {}
    assert manifest["capture"]["stored_bytes"] == 0
    for record in manifest["pieces"].values():
        assert record["status"] == "omitted"
        assert record["reason"] == "left out: [Errno 28] No space left on device"
    func, _, _ = snap.call()
    assert isinstance(func, Placeholder)
    assert snap.source(JOB_FILE) == JOB_SOURCE


#: The Placeholders inside stored pieces, as each writer pickled them (spec 5.3):
#: a captured one by NEWOBJ + BUILD of its state, a dict while the class was a
#: dataclass (1.0, the first 1.1 writers), a tuple since; a live resource (1.1)
#: by a call.  The 1.0 writer could not pickle the lock: its argument failed.
PLACEHOLDER_FORMS = {
    ("1.0", "placeholder_values.zst"): ["dict state"],
    ("1.1", "placeholder_values_dict_state.zst"): ["dict state", "call"],
    ("1.1", "placeholder_values.zst"): ["tuple state", "call"],
}


@pytest.mark.parametrize("version, name", sorted(PLACEHOLDER_FORMS))
def test_placeholders_inside_pieces(version: str, name: str) -> None:
    snap = _open(version, name)
    pieces = snap.manifest["pieces"]
    forms = [
        form
        for pid, record in pieces.items()
        if record["status"] == "stored"
        for form in placeholder_forms(snap.piece_bytes(pid))
    ]
    assert forms == PLACEHOLDER_FORMS[version, name]
    func, (held, live), _ = snap.call()
    assert func is operator.truediv
    assert held == {"value": Placeholder(*HELD_PLACEHOLDER)}
    if version == "1.0":
        assert isinstance(live, Placeholder) and live.status == "placeholder"
        assert "cannot pickle '_thread.lock' object" in live.reason
    else:
        lock = live["lock"]
        assert isinstance(lock, Placeholder) and lock.type == "_thread.lock"
        assert (lock.status, lock.reason) == (
            "placeholder",
            "a live resource (lock) is never captured",
        )


def test_references() -> None:
    """1.1: one object held by the call, the inputs and two frames is one piece, loaded once."""
    snap = _open("1.1", "references.zst")
    manifest = snap.manifest
    _, args, _ = snap.call()
    shared = args[0]
    assert shared is snap.inputs()["shared"]
    assert shared is snap.frame_locals(0)["x"] is snap.frame_locals(1)["x"]
    assert type(shared["blob"]) is bytes and shared["blob"] == SHARED_BYTES
    assert type(shared["array"]) is bytearray and shared["array"] == bytearray(SHARED_BYTES)
    assert type(shared["view"]) is memoryview and shared["view"].tobytes() == SHARED_BYTES
    (first,) = {manifest["call"]["args"][0], manifest["inputs"][0]["piece"]}
    assert len(manifest["pieces"][first]["refs"]) == 3  # each large buffer a piece of its own
    # The memoryview exports the very memory of ``blob``: one buffer for both.
    sizes = sorted(b["size"] for b in manifest["buffers"].values())
    assert sizes == [len(SHARED_BYTES)] * 2


def test_on_demand() -> None:
    """1.1, section 4.13: a finished task's snapshot, with the value it returned."""
    snap = _open("1.1", "on_demand.zst")
    section = snap.model.on_demand
    assert section is not None and (section.trigger, section.state) == (
        "cluster_hook.capture",
        "finished",
    )
    assert snap.model.error is None and snap.model.frames == ()
    func, args, kwargs = snap.call()
    ramp = NUMPY_INPUTS[("ramp", 0)]
    np.testing.assert_array_equal(snap.result(), ramp + 1)
    np.testing.assert_array_equal(func(*args, **kwargs), snap.result())
    assert args[0] is snap.inputs()[("ramp", 0)]  # one piece for the argument and the input


def test_generator_is_importable_without_writing() -> None:
    # The test imports the generator for its constants; importing must not write.
    assert callable(generate_golden.main)
