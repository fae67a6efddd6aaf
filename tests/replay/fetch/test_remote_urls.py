"""Which targets are URLs, and that a plain path or a ``file://`` URL never needs fsspec.

The remote half (S3, errors, bytes read) is tested against a real endpoint in
``tests/end_to_end/test_remote_storage.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import replay
from replay._fetch.remote import is_url, local_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("s3://bucket/prefix/x.tar.zst", True),
        ("gcs://bucket/x.tar.zst", True),
        ("file:///shared/x.tar.zst", True),
        ("simplecache::s3://bucket/x", False),  # fsspec chains: not taken for URLs
        ("C:\\snaps\\x.tar.zst", False),
        ("C:/snaps/x.tar.zst", False),
        ("C://snaps/x.tar.zst", False),  # a drive letter, never a scheme
        ("snaps/s3://x.tar.zst", False),
        ("x.tar.zst", False),
        (Path("s3://bucket/x"), False),  # a Path is a path
    ],
)
def test_what_is_a_url(target: object, expected: bool) -> None:
    assert is_url(target) is expected


def test_a_file_url_is_its_path() -> None:
    assert local_path("file:///shared/x.tar.zst") == "/shared/x.tar.zst"
    assert local_path("file:///C:/snaps/x.tar.zst") == "C:/snaps/x.tar.zst"
    assert local_path("s3://bucket/x") is None


def test_paths_and_file_urls_load_list_and_describe_without_fsspec(
    recip_snapshot: Path, elsewhere: Path
) -> None:
    url = recip_snapshot.as_uri()
    code = (
        "import io, json, sys, replay\n"
        "from replay._cli import main\n"
        "out = io.StringIO()\n"
        "a = replay.load(sys.argv[1]).path\n"
        "b = replay.load(sys.argv[2]).path\n"
        "codes = [main(['info', sys.argv[2]], out=out, err=out),\n"
        "         main(['list', sys.argv[3]], out=out, err=out)]\n"
        "print(json.dumps([a, b, codes, out.getvalue(), 'fsspec' in sys.modules]))\n"
    )
    directory = recip_snapshot.parent.as_uri() + "/"
    result = subprocess.run(
        [sys.executable, "-c", code, str(recip_snapshot), url, directory],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    a, b, codes, shown, imported = json.loads(result.stdout)
    assert a == b == str(recip_snapshot)
    assert codes == [0, 0]
    assert f"Snapshot: {url}" in shown  # as given
    assert shown.rstrip().endswith(str(recip_snapshot))  # the listing's line
    assert imported is False
    assert replay.load(url).replay().verdict is replay.Verdict.REPRODUCED


def test_any_fsspec_filesystem_serves(recip_snapshot: Path) -> None:
    """fsspec's own in-memory filesystem (one of many: the code knows none of them by name)."""
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.put_file(str(recip_snapshot), "/replay-tests/recip.tar.zst")
    memory.pipe("/replay-tests/notes.txt", b"not listed: not a *.tar.zst")
    try:
        loaded = replay.load("memory://replay-tests/recip.tar.zst")
        assert loaded.path == "memory://replay-tests/recip.tar.zst"
        assert loaded.replay().verdict is replay.Verdict.REPRODUCED
        from replay._cli.listing import scan_directory

        entries, unreadable = scan_directory("memory://replay-tests/")
        assert [e.path for e in entries] == ["memory:///replay-tests/recip.tar.zst"]
        assert entries[0].size == recip_snapshot.stat().st_size and not unreadable
    finally:
        memory.rm("/replay-tests", recursive=True)
