"""Installed versions, read without ``importlib.metadata``: the same answers as it gives.

``snapshot._installed`` lists ``*.dist-info`` / ``*.egg-info`` on ``sys.path``
and reads one small file per distribution asked about (the hook's worker
warms it up at setup).  These tests hold it to ``importlib.metadata``'s
``version()`` and ``packages_distributions()``: on every distribution of this
environment, and on a made site directory with each kind of metadata (a
``top_level.txt``, a ``RECORD`` alone with a quoted path and an extension
module, an egg-info file, an egg-info directory) and damaged ones.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import snapshot
from snapshot import _installed


def _theirs(top: str, providers: dict[str, list[str]]) -> str | None:
    for distribution in providers.get(top, []):
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
        if version:
            return version
    return None


def test_every_installed_distribution_and_module_as_importlib_metadata_says() -> None:
    names = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert len(names) > 20  # this environment's, dask and its dependencies among them
    for name in names:
        assert _installed.package_version(name) == importlib.metadata.version(name), name
    providers = importlib.metadata.packages_distributions()
    tops = [top for top in providers if top.isidentifier() and top not in sys.modules]
    assert "dask" in providers and tops
    for top in tops:
        assert _installed.module_version(top) == _theirs(top, providers), top
    # An imported module's own __version__ comes first; a module of no distribution has none.
    assert _installed.module_version("numpy") == __import__("numpy").__version__
    assert _installed.module_version("snapshot") == importlib.metadata.version("dask-replay")
    assert _installed.module_version("no_such_module_anywhere") is None


SITE = {
    # top_level.txt declares the modules; the body's "Version:" is not a header.
    "alpha-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n\n"
    "Version: 9.9\n",
    "alpha-1.0.dist-info/top_level.txt": "alpha\nalpha_extra\n",
    # No top_level.txt: the RECORD names a package, a module, an extension module,
    # a quoted path (a comma in it), bytecode and files outside the site directory.
    "Beta_Pkg-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: Beta.Pkg\nVersion: 2.0\n",
    "Beta_Pkg-2.0.dist-info/RECORD": "beta/__init__.py,sha256=abc,10\n"
    "beta/sub/mod.py,,\n"
    "beta_single.py,sha256=def,20\n"
    "_beta_speedups.cpython-311-x86_64-linux-gnu.so,,\n"
    '"gamma_pkg/a,b.py",,\n'
    "__pycache__/beta_single.cpython-311.pyc,,\n"
    "Beta_Pkg-2.0.dist-info/METADATA,,\n"
    "../../bin/beta,,\n",
    # An egg-info file is its PKG-INFO; an egg-info directory lists its files.
    "old_egg-0.5-py3.11.egg-info": "Metadata-Version: 1.0\nName: old-egg\nVersion: 0.5\n",
    "dev_egg.egg-info/PKG-INFO": "Metadata-Version: 1.0\nName: dev-egg\nVersion: 0.7\n",
    "dev_egg.egg-info/top_level.txt": "dev_egg\n",
}
#: Damaged: no METADATA, a RECORD of binary junk (importlib.metadata's
#: packages_distributions() raises on it), a METADATA that is a directory.
DAMAGED = {
    "junk-3.0.dist-info/RECORD": "\x00\xff\n\x00,,,\n",
    "hollow-4.0.dist-info/METADATA/x": "",
}

_COMPARE = """
import importlib.metadata, json, sys
from snapshot import _installed  # it reads sys.path when first asked, not on import
sys.path[:] = [SITE]
providers = importlib.metadata.packages_distributions()
def theirs_version(name):
    try:
        return importlib.metadata.version(name)
    except Exception as err:
        return type(err).__name__
def theirs_module(top):
    for name in providers.get(top, []):
        try:
            return importlib.metadata.version(name)
        except Exception:
            pass
names = ["alpha", "beta-pkg", "Beta_Pkg", "beta.pkg", "old-egg", "dev-egg", "absent"]
tops = ["alpha", "alpha_extra", "beta", "beta_single", "_beta_speedups", "gamma_pkg",
        "dev_egg", "absent"]
theirs = {n: theirs_version(n) for n in names}, {t: theirs_module(t) for t in tops}
# Ours with the damaged distributions and odd entries on the path too.
sys.path[:] = [SITE, DAMAGED, b"/a/bytes/entry", SITE + "/alpha-1.0.dist-info/top_level.txt"]
print(json.dumps({
    "versions": {n: [_installed.package_version(n), theirs[0][n]] for n in names},
    "modules": {t: [_installed.module_version(t), theirs[1][t]] for t in tops},
    "damaged": [_installed.package_version("junk"), _installed.package_version("hollow")],
}))
"""


def _made_site(root: Path, files: dict[str, str] = SITE) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="latin-1")
    return root


def test_each_kind_of_metadata_read_as_importlib_metadata_reads_it(tmp_path: Path) -> None:
    site = _made_site(tmp_path / "site")
    damaged = _made_site(tmp_path / "damaged", DAMAGED)
    code = f"SITE, DAMAGED = {str(site)!r}, {str(damaged)!r}\n" + textwrap.dedent(_COMPARE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["versions"] == {
        "alpha": ["1.0", "1.0"],
        "beta-pkg": ["2.0", "2.0"],
        "Beta_Pkg": ["2.0", "2.0"],
        "beta.pkg": ["2.0", "2.0"],
        "old-egg": ["0.5", "0.5"],
        "dev-egg": ["0.7", "0.7"],
        "absent": [None, "PackageNotFoundError"],
    }
    assert found["modules"] == {
        "alpha": ["1.0", "1.0"],
        "alpha_extra": ["1.0", "1.0"],
        "beta": ["2.0", "2.0"],
        "beta_single": ["2.0", "2.0"],
        "_beta_speedups": ["2.0", None],  # Python 3.11's packages_distributions: .py files only
        "gamma_pkg": ["2.0", "2.0"],
        "dev_egg": ["0.7", "0.7"],
        "absent": [None, None],
    }
    assert found["damaged"] == [None, None]  # read as nothing, never an error


def test_warm_up_reads_ahead_and_never_raises(tmp_path: Path) -> None:
    """``snapshot.warm_up`` on a path of damaged metadata: no error, and a capture after
    it still records the environment's packages."""
    site = _made_site(tmp_path / "site")
    damaged = _made_site(tmp_path / "damaged", DAMAGED)
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.path.append({str(site)!r})
        sys.path.append({str(damaged)!r})
        sys.path.append(b"/a/bytes/entry")
        import snapshot
        from snapshot import _installed
        snapshot.warm_up()
        assert _installed._providers is not None and "beta" in _installed._providers

        @snapshot.capture(directory={str(tmp_path / "snaps")!r})
        def recip(x):
            return 1 / x

        try:
            recip(0)
        except ZeroDivisionError:
            pass
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (written,) = (tmp_path / "snaps").glob(f"*{snapshot.SNAPSHOT_SUFFIX}")
    packages = snapshot.read_manifest(written)["environment"]["packages"]
    assert packages["zstandard"] == importlib.metadata.version("zstandard")
    assert packages["dask-replay"] == importlib.metadata.version("dask-replay")


def test_a_reading_that_hangs_holds_no_capture() -> None:
    """Another thread stuck reading (a directory on a hung network mount) holds the
    lock: a capture asking for versions waits ``LOCK_WAIT``, then goes on without the
    listing (``importlib.metadata`` for a package, no version for a module)."""
    code = textwrap.dedent(
        """
        import importlib.metadata
        from snapshot import _installed
        _installed.LOCK_WAIT = 0.2
        _installed._lock.acquire()  # a reading that never ends
        assert _installed.package_version("zstandard") == importlib.metadata.version("zstandard")
        assert _installed.module_version("hook_helpers_nowhere") is None
        assert _installed._found is None and _installed._providers is None
        _installed.LOCK_WAIT = 10_000  # waited once: later asks do not wait again
        for _ in range(5):
            assert _installed.module_version("hook_helpers_nowhere") is None
            assert _installed.provided_version("yaml") is None  # nothing cached meanwhile
        _installed._lock.release()  # the reading ends: versions come back
        assert _installed.provided_version("yaml") == importlib.metadata.version("PyYAML")
        print("went on")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "went on"
