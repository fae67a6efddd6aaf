"""Foreign errors become ours through one table; our own bugs are not dressed up as damage."""

from __future__ import annotations

import pytest
import zstandard

from snapshot import (
    SnapshotError,
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotReadError,
)
from snapshot._read.translate import TABLE, load_json, translate, translated


@pytest.mark.parametrize(
    "foreign, ours",
    [
        (zstandard.ZstdError("bad block"), SnapshotFormatError),
        (MemoryError(), SnapshotLimitError),
        (OSError(5, "Input/output error"), SnapshotReadError),
    ],
)
def test_the_table_translates_what_the_file_causes(foreign: Exception, ours: type) -> None:
    with pytest.raises(ours) as raised:
        with translated("f.zst"):
            raise foreign
    assert str(raised.value).startswith("f.zst: ") and raised.value.__cause__ is foreign


@pytest.mark.parametrize("bug", [TypeError("x"), AttributeError("y"), KeyError("z"), ValueError()])
def test_a_bug_of_ours_stays_a_bug(bug: Exception) -> None:
    assert translate("f.zst", bug) is None
    with pytest.raises(type(bug)):
        with translated("f.zst"):
            raise bug


def test_our_errors_pass_untouched() -> None:
    ours = SnapshotLimitError("f.zst: too big", path="f.zst")
    with pytest.raises(SnapshotLimitError) as raised:
        with translated("f.zst"):
            raise ours
    assert raised.value is ours


@pytest.mark.parametrize(
    "data",
    [b"\xff", b"{", b"[" * 100_000 + b"]" * 100_000, b"7" * 5000, b'"\\ud800"x'],
    ids=["utf8", "json", "deep", "huge-int", "trailing"],
)
def test_json_members(data: bytes) -> None:
    with pytest.raises(SnapshotFormatError, match=r"f\.zst: manifest\.json is"):
        load_json(data, "f.zst", "manifest.json")


def test_every_entry_maps_to_one_of_ours() -> None:
    assert all(issubclass(ours, SnapshotError) for _, ours, _ in TABLE)


def test_reading_a_snapshot_imports_no_tarfile() -> None:
    """Tar headers are parsed by hand: tarfile (and what it imports) stays out of `info`."""
    import subprocess
    import sys

    code = "import sys, snapshot; snapshot.read_model(sys.argv[1]); print('tarfile' in sys.modules)"
    from pathlib import Path

    golden = Path(__file__).resolve().parents[1] / "golden" / "1.0" / "plain_call.zst"
    done = subprocess.run([sys.executable, "-c", code, str(golden)], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
