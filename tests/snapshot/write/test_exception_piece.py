"""The exception piece: the exception without its traceback, whoever registered a reducer.

distributed calls ``tblib.pickling_support.install()`` on import, which makes
every exception pickle with ``__traceback__`` and each of its frames: in a
worker, a recursion 900 deep cost 90 ms and 88 KB in the exception piece
alone, for frames the snapshot stores apart with their locals.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import tblib.pickling_support

from snapshot import SnapshotBuilder, open_snapshot, read_manifest


def _deep(n: int) -> None:
    if n == 0:
        raise ValueError("bottom")
    _deep(n - 1)


def _failure() -> RuntimeError:
    try:
        try:
            raise KeyError("first")
        except KeyError:
            try:
                _deep(40)
            except ValueError as inner:
                raise RuntimeError("outer") from inner
    except RuntimeError as exc:
        exc.add_note("a note")
        return exc
    raise AssertionError("unreachable")


def test_tblib_reducers_store_no_traceback(tmp_path: Path) -> None:
    tblib.pickling_support.install()  # what importing distributed does
    exc = _failure()
    assert exc.__traceback__ is not None
    # With tblib's reducer a plain pickle carries the traceback: the case at hand.
    assert pickle.loads(pickle.dumps(exc)).__traceback__ is not None

    builder = SnapshotBuilder()
    builder.capture_exception(exc)
    path = builder.write(tmp_path / "e.tar.zst")

    loaded = open_snapshot(path).exception()
    assert type(loaded) is RuntimeError and loaded.args == ("outer",)
    assert loaded.__traceback__ is None
    assert loaded.__notes__ == ["a note"]
    cause = loaded.__cause__
    assert type(cause) is ValueError and cause.args == ("bottom",)
    assert cause.__traceback__ is None
    context = cause.__context__
    assert type(context) is KeyError and context.__traceback__ is None
    # The live exception is untouched; the frames are in their own section.
    assert exc.__traceback__ is not None and exc.__cause__.__traceback__ is not None
    manifest = read_manifest(path)
    assert [f["function"] for f in manifest["frames"]] == ["_failure"]
    record = manifest["pieces"][manifest["exception"]]
    assert record["status"] == "stored"
    assert record["size"] < 2000  # 41 frames of tblib's traceback weighed far more


def test_exception_with_its_own_reduce_is_unchanged(tmp_path: Path) -> None:
    exc = _Custom("x", 3)
    builder = SnapshotBuilder()
    builder.capture_exception(exc)
    loaded = open_snapshot(builder.write(tmp_path / "c.tar.zst")).exception()
    assert type(loaded) is _Custom and (loaded.name, loaded.count) == ("x", 3)


class _Custom(Exception):
    def __init__(self, name: str, count: int) -> None:
        super().__init__(name)
        self.name, self.count = name, count

    def __reduce__(self) -> tuple[object, ...]:
        return (_Custom, (self.name, self.count))
