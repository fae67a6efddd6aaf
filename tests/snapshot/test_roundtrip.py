"""What goes into a snapshot comes back out: arbitrary payloads, the exception with
its frames and sources, placeholders, caps, redaction, a strict-JSON manifest.

Signing, writing and loading have files of their own (test_signing.py,
test_writing.py, test_loading.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import crafting
import hypothesis
import numpy as np
import pandas as pd
import pytest
import zstandard
from crafting import members_of
from strategies import assert_equivalent, payloads

import snapshot
from snapshot import (
    REDACTED,
    Placeholder,
    Redactor,
    SnapshotBuilder,
    WriteLimits,
    open_snapshot,
    read_manifest,
)

NO_REDACTION = Redactor(patterns=())


# -- arbitrary payloads ----------------------------------------------------------


@hypothesis.given(payload=payloads)
def test_payload_round_trip(tmp_path_factory: pytest.TempPathFactory, payload: Any) -> None:
    builder = SnapshotBuilder(redactor=NO_REDACTION)
    pid = builder.add(payload, label="payload")
    path = builder.write(tmp_path_factory.mktemp("rt") / "payload.tar.zst")

    manifest = read_manifest(path)
    record = manifest["pieces"][pid]
    assert record["status"] == "stored", record
    assert record["type"] == f"{type(payload).__module__}.{type(payload).__qualname__}"
    snap = open_snapshot(path)
    assert snap.manifest == manifest
    assert_equivalent(snap.load(pid), payload)


@hypothesis.given(args=hypothesis.strategies.lists(payloads, max_size=3))
def test_call_round_trip(tmp_path_factory: pytest.TempPathFactory, args: list[Any]) -> None:
    builder = SnapshotBuilder(redactor=NO_REDACTION)
    builder.set_call(len, args, {"option": args[:1]})
    path = builder.write(tmp_path_factory.mktemp("rt") / "call.tar.zst")
    func, loaded_args, kwargs = open_snapshot(path).call()
    assert func is len
    assert_equivalent(loaded_args, list(args))
    assert_equivalent(kwargs["option"], args[:1])


def test_shared_buffers_are_stored_once(tmp_path: Path) -> None:
    array = np.arange(100_000, dtype=np.float64)
    builder = SnapshotBuilder()
    first = builder.add(array, label="a")
    again = builder.add(array, label="a again")
    inside = builder.add({"x": array, "y": [array]}, label="container")
    path = builder.write(tmp_path / "shared.tar.zst")
    manifest = read_manifest(path)
    assert first == again
    # The container refers to the array's piece (format 1.1) instead of storing it again.
    assert manifest["pieces"][inside]["refs"] == [first]
    assert manifest["pieces"][inside]["buffers"] == []
    assert len(manifest["buffers"]) == 1
    snap = open_snapshot(path)
    loaded = snap.load(inside)
    assert loaded["x"] is loaded["y"][0] is snap.load(first)
    np.testing.assert_array_equal(loaded["x"], array)
    assert loaded["x"].flags.writeable


def test_pandas_frame_with_out_of_band_buffers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": np.arange(50_000), "b": np.linspace(0, 1, 50_000)})
    builder = SnapshotBuilder()
    pid = builder.add(frame, label="df")
    path = builder.write(tmp_path / "df.tar.zst")
    record = read_manifest(path)["pieces"][pid]
    assert record["buffers"], "pandas blocks should leave the pickle out-of-band"
    pd.testing.assert_frame_equal(open_snapshot(path).load(pid), frame)


# -- the exception, frames and sources ----------------------------------------------


def _fail(values: list[int], *, secret_token: str) -> float:
    scale = len(values)
    try:
        return scale / 0
    except ZeroDivisionError as exc:
        err = ValueError("could not scale")
        err.add_note("scale was computed from values")
        raise err from exc


def test_exception_frames_and_sources(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    secret = "-".join(["never", "in", "the", "file"])  # the source text holds no secret
    try:
        _fail([1, 2, 3], secret_token=secret)
    except ValueError as exc:
        builder.capture_exception(exc)
    path = builder.write(tmp_path / "exc.tar.zst")
    manifest = read_manifest(path)

    error = manifest["error"]
    assert (error["type"], error["module"], error["message"]) == (
        "ValueError",
        "builtins",
        "could not scale",
    )
    assert error["notes"] == ["scale was computed from values"]
    assert error["chain"] == [
        {
            "relation": "cause",
            "type": "ZeroDivisionError",
            "module": "builtins",
            "message": "division by zero",
            "notes": [],
        }
    ]
    assert "ZeroDivisionError" in error["traceback"] and "could not scale" in error["traceback"]

    frame = manifest["frames"][-1]
    assert frame["function"] == "_fail" and frame["qualname"] == "_fail"
    assert frame["filename"] == __file__ and frame["module"] == "test_roundtrip"
    snap = open_snapshot(path)
    local = snap.frame_locals(len(manifest["frames"]) - 1)
    assert local["values"] == [1, 2, 3] and local["scale"] == 3
    assert isinstance(local["secret_token"], Placeholder)
    assert local["secret_token"].status == "redacted"
    assert secret.encode() not in crafting.decompress(path)

    loaded = snap.exception()
    assert isinstance(loaded, ValueError) and loaded.__notes__ == error["notes"]

    text = Path(__file__).read_text()
    assert snap.source(frame["source"]) == text
    entry = manifest["sources"][frame["source"]]
    assert entry["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert entry["size"] == len(text.encode())


# -- placeholders -------------------------------------------------------------------


class RaisingReduce:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __reduce__(self) -> Any:
        raise self.exc


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    def __reduce__(self) -> Any:
        raise TypeError("not picklable either")


def _deep(levels: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(levels):
        out = [out]
    return out


@pytest.mark.parametrize(
    "obj, type_name, reason",
    [
        (RaisingReduce(ValueError("nope")), "test_roundtrip.RaisingReduce", "ValueError: nope"),
        (RaisingReduce(SystemExit(3)), "test_roundtrip.RaisingReduce", "SystemExit: 3"),
        (BrokenRepr(), "test_roundtrip.BrokenRepr", "TypeError: not picklable"),
        (_deep(100_000), "builtins.list", "recursion"),
    ],
    ids=["raising-reduce", "system-exit", "broken-repr", "deep-nesting"],
)
def test_unpicklable_becomes_a_placeholder(
    tmp_path: Path, obj: object, type_name: str, reason: str
) -> None:
    builder = SnapshotBuilder()
    bad = builder.add(obj, label="bad")
    good = builder.add({"fine": 1}, label="good")
    path = builder.write(tmp_path / "ph.tar.zst")
    record = read_manifest(path)["pieces"][bad]
    assert record["status"] == "placeholder"
    assert record["type"] == type_name
    assert reason in record["reason"]
    assert len(record["repr"]) <= WriteLimits().max_repr_chars
    assert "member" not in record
    snap = open_snapshot(path)
    placeholder = snap.load(bad)
    assert isinstance(placeholder, Placeholder)
    assert (placeholder.type, placeholder.status) == (type_name, "placeholder")
    assert snap.load(good) == {"fine": 1}
    assert snap.manifest["capture"]["complete"] is False


def test_broken_repr_is_recorded(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    pid = builder.add(BrokenRepr(), label="bad")
    path = builder.write(tmp_path / "repr.tar.zst")
    text = read_manifest(path)["pieces"][pid]["repr"]
    assert text == "<repr failed: RuntimeError>" or text.startswith("<BrokenRepr instance")


def test_long_repr_is_truncated(tmp_path: Path) -> None:
    builder = SnapshotBuilder(limits=WriteLimits(max_repr_chars=50))
    pid = builder.add("x" * 10_000, label="long")
    path = builder.write(tmp_path / "long.tar.zst")
    assert len(read_manifest(path)["pieces"][pid]["repr"]) <= 50


# -- caps -----------------------------------------------------------------------------


def test_per_piece_cap(tmp_path: Path) -> None:
    limits = WriteLimits(max_piece_bytes=10_000)
    builder = SnapshotBuilder(limits=limits)
    big = builder.add(np.zeros(5_000, dtype=np.float64), label="big")
    small = builder.add(np.zeros(100, dtype=np.float64), label="small")
    path = builder.write(tmp_path / "cap.tar.zst")
    manifest = read_manifest(path)
    record = manifest["pieces"][big]
    assert record["status"] == "omitted"
    assert "per-object cap (10000 bytes" in record["reason"]
    assert record["summary"] == {"shape": [5000], "dtype": "float64", "nbytes": 40_000}
    assert manifest["pieces"][small]["status"] == "stored"
    assert manifest["capture"]["limits"]["max_piece_bytes"] == 10_000
    assert isinstance(open_snapshot(path).load(big), Placeholder)


def test_total_cap(tmp_path: Path) -> None:
    builder = SnapshotBuilder(limits=WriteLimits(max_total_bytes=50_000))
    first = builder.add(np.zeros(2_500), label="first")  # 20 000 bytes
    second = builder.add(np.ones(2_500), label="second")
    third = builder.add(np.full(2_500, 2.0), label="third")
    tiny = builder.add(3, label="tiny")  # a later, smaller piece still fits
    path = builder.write(tmp_path / "total.tar.zst")
    manifest = read_manifest(path)
    statuses = [manifest["pieces"][p]["status"] for p in (first, second, third, tiny)]
    assert statuses == ["stored", "stored", "omitted", "stored"]
    assert "total size cap (50000 bytes" in manifest["pieces"][third]["reason"]
    capture = manifest["capture"]
    assert capture["stored_bytes"] <= 50_000
    assert capture["stored_bytes"] == sum(
        r["size"] for r in manifest["pieces"].values() if r["status"] == "stored"
    )
    assert (capture["pieces"], capture["stored"], capture["placeholders"]) == (4, 3, 1)
    assert capture["limits"]["max_total_bytes"] == 50_000


# -- redaction ------------------------------------------------------------------------


def test_secret_names_are_redacted(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    builder.set_call(print, ["visible"], {"password": "hunter2", "n": 1})
    path = builder.write(tmp_path / "redact.tar.zst")
    manifest = read_manifest(path)
    record = manifest["pieces"][manifest["call"]["kwargs"]["password"]]
    assert record["status"] == "redacted" and record["repr"] == ""
    assert "password" in record["reason"]
    assert "hunter2" not in json.dumps(manifest)
    _, args, kwargs = open_snapshot(path).call()
    assert args == ["visible"] and kwargs["n"] == 1
    assert kwargs["password"].status == "redacted"


def test_nested_dict_entries_are_redacted(tmp_path: Path) -> None:
    config = {
        "db": {"host": "db.internal", "Password": "hunter2"},
        "services": [{"name": "s3", "API_KEY": "AKIA..."}, ("keep", {"auth_header": "Bearer x"})],
        "n": 1,
    }
    builder = SnapshotBuilder()
    pid = builder.add(config, label="config")
    path = builder.write(tmp_path / "nested.tar.zst")
    loaded = open_snapshot(path).load(pid)
    assert loaded["db"] == {"host": "db.internal", "Password": REDACTED}
    assert loaded["services"][0] == {"name": "s3", "API_KEY": REDACTED}
    assert loaded["services"][1] == ("keep", {"auth_header": REDACTED})
    assert loaded["n"] == 1
    assert config["db"]["Password"] == "hunter2", "the live object must not change"
    assert b"hunter2" not in Path(path).read_bytes()
    assert read_manifest(path)["capture"]["redaction_marker"] == REDACTED


def test_custom_patterns() -> None:
    redactor = Redactor(patterns=["ssn"])
    assert redactor.is_secret("customer_SSN") and not redactor.is_secret("password")
    assert redactor.scrub({"ssn": 1, "x": 2}) == {"ssn": REDACTED, "x": 2}
    plain = {"x": [1, 2]}
    assert redactor.scrub(plain) is plain


def test_environment_variables_are_allow_listed_and_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASK_DISTRIBUTED__TOKEN", "s3cr3t")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://x:8786")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never")
    variables = snapshot.environment_info()["variables"]
    assert variables["DASK_DISTRIBUTED__TOKEN"] == REDACTED
    assert variables["DASK_SCHEDULER_ADDRESS"] == "tcp://x:8786"
    assert "AWS_SECRET_ACCESS_KEY" not in variables


def _strict_json(data: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON (RFC 8259)")

    return json.loads(data, parse_constant=refuse)


def test_manifest_is_strict_json(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    builder.add_inputs({("x", 1.5): 1})
    builder.manifest["task"] = {"annotations": {"priority": 1.5}}
    path = builder.write(tmp_path / "json.tar.zst")
    manifest = _strict_json(members_of(path)[0][1])
    assert manifest["inputs"][0]["key"] == ["x", 1.5]


def test_manifest_with_nan_is_strict_json(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    builder.add_inputs({("x", float("nan")): 1})
    builder.manifest["task"] = {"annotations": {"weight": float("inf")}}
    path = builder.write(tmp_path / "nan.tar.zst")
    _strict_json(members_of(path)[0][1])


def test_read_only_buffer_stays_read_only(tmp_path: Path) -> None:
    frozen = np.arange(1000)
    frozen.flags.writeable = False
    builder = SnapshotBuilder()
    ro = builder.add(frozen, label="ro")
    rw = builder.add(np.arange(1000), label="rw")
    snap = open_snapshot(builder.write(tmp_path / "ro.tar.zst"))
    assert not snap.load(ro).flags.writeable
    assert snap.load(rw).flags.writeable
    np.testing.assert_array_equal(snap.load(ro), frozen)


def test_redaction_reaches_dict_subclasses_and_keeps_their_type(tmp_path: Path) -> None:
    from collections import OrderedDict, defaultdict

    settings = defaultdict(
        list, {"db_password": "canary-1", "rows": [OrderedDict(token="canary-2")]}
    )
    builder = SnapshotBuilder()
    pid = builder.add(settings, label="settings")
    path = builder.write(tmp_path / "sub.tar.zst")
    raw = (
        zstandard.ZstdDecompressor().stream_reader(path.open("rb"), read_across_frames=True).read()
    )
    assert b"canary-1" not in raw and b"canary-2" not in raw
    loaded = open_snapshot(path).load(pid)
    assert type(loaded) is defaultdict and loaded.default_factory is list
    assert type(loaded["rows"][0]) is OrderedDict
    assert settings["db_password"] == "canary-1"  # the live object is untouched
