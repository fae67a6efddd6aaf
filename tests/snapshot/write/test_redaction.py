"""Redaction by name, by value and of the signing key: what it reaches, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

import snapshot
from snapshot import REDACTED, Redactor
from snapshot._write.redact import MAX_ITEMS, is_secret_variable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "connect postgresql://bob:hunter2@db.example:5432/x failed",
            f"connect postgresql://bob:{REDACTED}@db.example:5432/x failed",
        ),
        (
            "{'Authorization': 'Bearer abc.def-ghi', 'x': 1}",
            f"{{'Authorization': '{REDACTED}', 'x': 1}}",
        ),
        ("Authorization: Basic dXNlcjpwYXNz\nnext", f"Authorization: {REDACTED}\nnext"),
        ("sent Bearer eyJhbGciOi.x_y", f"sent Bearer {REDACTED}"),
        # Controls: a port, a plain URL, ordinary words stay.
        (
            "tcp://10.0.0.1:8786 and https://example.com/a:b",
            "tcp://10.0.0.1:8786 and https://example.com/a:b",
        ),
        ("an author wrote", "an author wrote"),
    ],
)
def test_credentials_in_text_are_cut_out(text: str, expected: str) -> None:
    assert Redactor().redact_text(text) == expected


def test_the_signing_key_is_replaced_in_any_text_and_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "k3y-material-0123456789"
    redactor = Redactor(literals=[key, "short"])  # too short a literal is ignored
    assert redactor.redact_text(f"x={key}!") == f"x={REDACTED}!"
    assert redactor.redact_text("short stays") == "short stays"
    monkeypatch.setenv("DASK_SNAPSHOT__KEY", key)
    monkeypatch.setenv("DASK_INNOCENT_NAME", f"prefix-{key}")
    monkeypatch.setenv("DASK_SCHEDULER_URL", "tls://ops:pw-7c1d@scheduler:8786")
    monkeypatch.setenv("DASK_SCHEDULER_PORT", "8786")
    variables = snapshot.environment_info(redactor=redactor)["variables"]
    assert variables["DASK_SNAPSHOT__KEY"] == REDACTED
    assert variables["DASK_INNOCENT_NAME"] == REDACTED
    assert variables["DASK_SCHEDULER_URL"] == f"tls://ops:{REDACTED}@scheduler:8786"
    assert variables["DASK_SCHEDULER_PORT"] == "8786"


@pytest.mark.parametrize(
    "name",
    [
        "DASK_SNAPSHOT__KEY",
        "my_api_key",
        "GH_TOKEN",
        "Db_Password",
        "X_PASSWD",
        "AUTH_HEADER",
        "AWS_SIGNATURE_V",
        "gcp_credentials",
        "client_secret",
    ],
)
def test_secret_variable_names_whatever_the_allowlist(name: str) -> None:
    assert is_secret_variable(name)


def test_plain_object_attributes_are_redacted_in_a_copy() -> None:
    class Client:
        def __init__(self) -> None:
            self.secret_key = "s3cr3t-attr"
            self.url = "https://user:pw-in-url@api.example"
            self.retries = 3

    live = Client()
    stored = Redactor().scrub(live)
    assert type(stored) is Client and stored is not live
    assert vars(stored) == {
        "secret_key": REDACTED,
        "url": f"https://user:{REDACTED}@api.example",
        "retries": 3,
    }
    assert vars(live)["secret_key"] == "s3cr3t-attr", "the live object must not change"

    class Custom(Client):
        def __getstate__(self) -> dict[str, object]:
            raise AssertionError("scrubbing must not run the user's pickling code")

    custom = Custom()
    assert Redactor().scrub(custom) is custom  # not a plain object: stored as is


def test_values_in_dicts_and_lists_are_redacted() -> None:
    config = {"headers": {"Accept": "json", "X": "Bearer tok-9f8e"}, "dsn": ["s3://a:b@c/d", 1]}
    out = Redactor().scrub(config)
    assert out == {
        "headers": {"Accept": "json", "X": f"Bearer {REDACTED}"},
        "dsn": [f"s3://a:{REDACTED}@c/d", 1],
    }
    assert config["headers"]["X"] == "Bearer tok-9f8e"


def test_the_walk_is_bounded_and_said_so() -> None:
    big = {f"password{i}": i for i in range(MAX_ITEMS + 1)}
    assert Redactor().scrub(big) is big  # past the bound: stored as is, not walked
    rows = [{"password": i} for i in range(MAX_ITEMS + 1)]
    assert Redactor().scrub(rows) is rows
    small = [{"password": i} for i in range(3)]
    assert Redactor().scrub(small) == [{"password": REDACTED}] * 3


def test_one_capture_scrubs_each_object_once_and_keeps_identity() -> None:
    shared = {"token": "t", "n": 1}
    redactor = Redactor().for_capture()
    first, second = redactor.scrub(shared), redactor.scrub([shared])[0]
    assert first is second and first == {"token": REDACTED, "n": 1}


def test_builder_reprs_and_messages_carry_no_url_password(tmp_path: Path) -> None:
    builder = snapshot.SnapshotBuilder()
    try:
        raise ConnectionError("cannot reach postgresql://bob:pw-err-51a3@db/x")
    except ConnectionError as exc:
        builder.capture_exception(exc)
    from snapshot._write.exception import redact_error

    builder.manifest["error"] = redact_error(
        builder.manifest["error"], builder.redactor.redact_text
    )
    path = builder.write(tmp_path / "s.tar.zst")
    assert "pw-err-51a3" not in str(snapshot.read_manifest(path)["error"])


def test_an_exception_group_s_members_carry_no_url_password(tmp_path: Path) -> None:
    builder = snapshot.SnapshotBuilder()
    try:
        leak = ConnectionError("cannot reach postgresql://bob:pw-member-7c2e@db/x")
        raise ExceptionGroup("connections", [ValueError(1), ExceptionGroup("inner", [leak])])
    except ExceptionGroup as exc:
        builder.capture_exception(exc)
    from snapshot._write.exception import redact_error

    builder.manifest["error"] = redact_error(
        builder.manifest["error"], builder.redactor.redact_text
    )
    path = builder.write(tmp_path / "s.tar.zst")
    members = snapshot.read_manifest(path)["error"]["members"]
    assert "pw-member-7c2e" not in str(members)
    assert members[2]["message"] == f"cannot reach postgresql://bob:{REDACTED}@db/x"


def test_secret_columns_are_replaced_in_a_shallow_copy() -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame({"amount": np.arange(100.0), "Session_ID": ["s-1"] * 100, "n": 1})
    scrubbed = Redactor().scrub(frame)
    assert scrubbed is not frame and list(scrubbed.columns) == list(frame.columns)
    assert list(scrubbed["Session_ID"]) == [REDACTED] * 100
    assert scrubbed["Session_ID"].dtype == "category"  # a byte a row
    # The rest is the very same memory; the original is untouched.
    assert np.shares_memory(scrubbed["amount"].to_numpy(), frame["amount"].to_numpy())
    assert list(frame["Session_ID"]) == ["s-1"] * 100
    assert REDACTED in snapshot.safe_repr(scrubbed, 2000)
    # Already scrubbed: left as it is; nothing secret: the object itself.
    assert Redactor().scrub(scrubbed) is scrubbed
    plain = frame[["amount", "n"]]
    assert Redactor().scrub(plain) is plain
    table = pa.table({"id": [1, 2], "Password": ["a", "b"]})
    arrow = Redactor().scrub({"t": table})["t"]
    assert arrow.column("Password").to_pylist() == [REDACTED] * 2
    assert arrow.column("id") is not None and table.column("Password").to_pylist() == ["a", "b"]
    named = frame["Session_ID"]
    assert list(Redactor().scrub(named)) == [REDACTED] * 100 and list(named) == ["s-1"] * 100
