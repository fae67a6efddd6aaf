"""Client copies: sources added to a written snapshot, signed ones kept verifiable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from crafting import members_of

from snapshot import SnapshotBuilder, open_snapshot
from snapshot._amend import (
    AMENDED_BY,
    add_sources,
    copy_of_keys_file,
    keys_file,
    read_keys,
    write_keys,
)

KEY = b"test key, not a secret"
CELL = "def recip(x):\n    return 1 / x\n"


def _written(tmp_path: Path, key: bytes | None = None) -> Path:
    builder = SnapshotBuilder()
    builder.set_call(sorted, [[3, 1, 2]])
    builder.add(np.arange(100_000), label="array")
    return builder.write(tmp_path / "written.tar.zst", key=key)


def test_sources_are_added_as_ordinary_members(tmp_path: Path) -> None:
    written = _written(tmp_path)
    copy = tmp_path / "copy.tar.zst"
    assert add_sources(written, copy, {"/tmp/ipykernel_1/a.py": CELL}) == ["/tmp/ipykernel_1/a.py"]
    opened = open_snapshot(copy)
    entry = opened.manifest["sources"]["/tmp/ipykernel_1/a.py"]
    assert entry["sha256"] == hashlib.sha256(CELL.encode()).hexdigest()
    assert opened.source("/tmp/ipykernel_1/a.py") == CELL
    assert opened.manifest["amended"]["by"] == AMENDED_BY
    assert opened.manifest["amended"]["sources"] == ["/tmp/ipykernel_1/a.py"]
    assert opened.call()[0] is sorted
    # Every other member is copied in its order; the buffers stay last (spec 3.4).
    before = [n for n, _ in members_of(written)]
    after = [n for n, _ in members_of(copy)]
    assert [n for n in after if n != entry["member"]] == before
    assert after.index(entry["member"]) < min(
        i for i, n in enumerate(after) if n.startswith("buffers/")
    )


def test_a_signed_snapshot_is_signed_again_with_its_key(tmp_path: Path) -> None:
    copy = tmp_path / "copy.tar.zst"
    assert add_sources(_written(tmp_path, KEY), copy, {"cell.py": CELL}, key=KEY) == ["cell.py"]
    opened = open_snapshot(copy, key=KEY)
    assert opened.verified and opened.source("cell.py") == CELL


def test_a_signed_snapshot_without_its_key_is_kept_as_written(tmp_path: Path) -> None:
    written = _written(tmp_path, KEY)
    copy = tmp_path / "copy.tar.zst"
    assert add_sources(written, copy, {"cell.py": CELL}) == []
    assert copy.read_bytes() == written.read_bytes()
    assert open_snapshot(copy, key=KEY).verified


def test_the_keys_beside_a_copy_round_trip_and_anything_malformed_reads_as_none(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "20261202T000000-recip-ab12.tar.zst"
    write_keys(copy, [["sum-abc", 0], "recip-def"])
    assert keys_file(copy) == tmp_path / ".20261202T000000-recip-ab12.keys.json"
    assert copy_of_keys_file(keys_file(copy).name) == copy.name
    assert copy_of_keys_file("other.keys.json") is None
    assert keys_file(copy).stat().st_mode & 0o777 == 0o600
    assert read_keys(keys_file(copy)) == [["sum-abc", 0], "recip-def"]
    for text in ("", "[1, 2]", '{"keys": 3}', "{" * 100_000, '{"keys": [' + "1," * 40_000 + "1]}"):
        keys_file(copy).write_text(text)
        assert read_keys(keys_file(copy)) == []
    assert read_keys(tmp_path / "missing.keys.json") == []
