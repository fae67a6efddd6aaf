"""C objects that refuse pickling but are importable are stored as references to their name.

An f2py ``fortran`` routine (what ``scipy.linalg.get_lapack_funcs`` returns,
and what scipy's frames hold in every ``dask.array.linalg`` failure) has no
``__module__`` and no ``__reduce__``; the very object is
``scipy.linalg.lapack.dtrtrs``.  One that no module holds stays a placeholder.
"""

from __future__ import annotations

import _thread
from pathlib import Path

import scipy.linalg
import scipy.linalg.lapack

from snapshot import SnapshotBuilder, open_snapshot, read_manifest
from snapshot._write.byname import find_by_name


def test_a_lapack_routine_is_stored_by_name(tmp_path: Path) -> None:
    (trtrs,) = scipy.linalg.get_lapack_funcs(("trtrs",), (scipy.linalg.hilbert(2),))
    assert trtrs is scipy.linalg.lapack.dtrtrs and type(trtrs).__name__ == "fortran"
    module, name = find_by_name(trtrs) or (None, None)
    assert (module.__name__, name) == ("scipy.linalg.lapack", "dtrtrs")  # public path first
    builder = SnapshotBuilder()
    builder.set_call(len, ())
    alone = builder.add(trtrs, label="frames[8].trtrs")
    inside = builder.add({"funcs": [trtrs]}, label="frames[8].state")
    path = builder.write(tmp_path / "s.tar.zst")
    manifest = read_manifest(path)
    assert manifest["capture"]["complete"] is True
    assert manifest["pieces"][alone]["status"] == "stored"
    assert "scipy.linalg.lapack" in manifest["pieces"][alone]["modules"]
    assert "scipy" in manifest["modules"]
    snap = open_snapshot(path)
    assert snap.load(alone) is scipy.linalg.lapack.dtrtrs
    assert snap.load(inside)["funcs"][0] is scipy.linalg.lapack.dtrtrs


def test_an_unpicklable_object_no_module_holds_stays_a_placeholder(tmp_path: Path) -> None:
    local = _thread._local()
    builder = SnapshotBuilder()
    pid = builder.add(local, label="frames[0].local")
    manifest = read_manifest(builder.write(tmp_path / "s.tar.zst"))
    record = manifest["pieces"][pid]
    assert record["status"] == "placeholder" and "cannot pickle" in record["reason"]
    assert manifest["capture"]["complete"] is False
