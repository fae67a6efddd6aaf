"""Installing the hook and getting files off the cluster: register, config, fetch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster, wait
from hook_userfuncs import recip, recip_big

import cluster_hook
import snapshot
from cluster_hook._client import fetch as _fetch
from cluster_hook._config import KEYS, ConfigError, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_public_api_is_pinned() -> None:
    assert cluster_hook.__all__ == [
        "PLUGIN_NAME",
        "SUFFIX",
        "CaptureError",
        "ConfigError",
        "Settings",
        "SnapshotPlugin",
        "StormBudget",
        "capture",
        "dask_setup",
        "default_directory",
        "fetch_snapshots",
        "register",
        "storm_counts",
    ]
    assert all(hasattr(cluster_hook, name) for name in cluster_hook.__all__)


def test_defaults_are_registered_in_dask_config() -> None:
    assert dask.config.get("snapshot.max-per-fingerprint") == 3
    assert dask.config.get("snapshot.enabled") is True
    settings = Settings.from_config()
    assert settings.directory == cluster_hook.default_directory()
    assert settings.redact == snapshot.DEFAULT_PATTERNS
    assert settings.env_allow == snapshot.DEFAULT_ENV_ALLOW
    assert settings.max_object_size == 2**30 and settings.key is None
    assert settings.capture_stall_timeout == 5.0 < settings.capture_timeout


def test_environment_variables_override_the_defaults(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DASK_SNAPSHOT__DIRECTORY=str(tmp_path / "snaps"),
        DASK_SNAPSHOT__MAX_PER_FINGERPRINT="7",
        DASK_SNAPSHOT__MAX_TOTAL_SIZE="3 MiB",
        DASK_SNAPSHOT__REDACT="hunter,tiger",
        DASK_SNAPSHOT__CAPTURE_INPUTS="False",
        DASK_SNAPSHOT__CAPTURE_STALL_TIMEOUT="2.5s",
    )
    code = (
        "import json, cluster_hook\n"
        "s = cluster_hook.Settings.from_config()\n"
        "print(json.dumps([str(s.directory), s.max_per_fingerprint, s.max_total_size,"
        " list(s.redact), s.capture_inputs, s.capture_stall_timeout]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [
        str(tmp_path / "snaps"),
        7,
        3 * 2**20,
        ["hunter", "tiger"],
        False,
        2.5,
    ]


def test_default_directory_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert cluster_hook.default_directory() == Path("/var/cache/me/dask-replay/snapshots")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cluster_hook.default_directory() == Path.home() / ".cache/dask-replay/snapshots"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max-total-size", "lots"),
        ("max-per-fingerprint", -1),
        ("enabled", "perhaps"),
        ("redact", 42),
        ("capture-timeout", "soon"),
        ("capture-timeout", 0),
        ("capture-timeout", -5),
        ("capture-stall-timeout", "never"),
        ("capture-stall-timeout", 0),
        ("no-such-setting", 1),
    ],
)
def test_bad_settings_name_the_key_and_value(name: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_config({name: value})
    assert name in str(info.value) and (name == "no-such-setting" or repr(value) in str(info.value))


@pytest.mark.parametrize(("value", "seconds"), [(30, 30.0), ("90s", 90.0), ("2 minutes", 120.0)])
def test_capture_timeout_takes_seconds_or_a_duration(value: object, seconds: float) -> None:
    assert Settings.from_config({"capture-timeout": value}).capture_timeout == seconds


def test_key_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(b"s3cret-key\n")
    assert Settings.from_config({"key-file": str(tmp_path / "key")}).key == b"s3cret-key"
    with pytest.raises(
        ConfigError, match=r"snapshot\.key-file: cannot read the key file .*missing"
    ):
        Settings.from_config({"key-file": str(tmp_path / "missing")})


def test_docs_list_every_setting_with_its_default() -> None:
    text = DOCS.read_text()
    defaults = dask.config.get("snapshot")
    for key in KEYS:
        assert f"`snapshot.{key}`" in text, key
        value = defaults[key]
        if isinstance(value, bool):
            assert f"`snapshot.{key}` | `{str(value).lower()}`" in text, key
        elif isinstance(value, str | int):
            assert f"`{value}`" in text, (key, value)
        elif isinstance(value, list):
            assert all(f"`{item}`" in text for item in value), (key, value)


def test_register_on_a_running_cluster_then_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_fetch, "CHUNK_BYTES", 4096)  # many chunks per file
    monkeypatch.setattr(_fetch, "PROGRESS_BYTES", 1)  # show progress for this small run
    remote, local = tmp_path / "on-the-workers", tmp_path / "fetched"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        statuses = cluster_hook.register(client, directory=str(remote))
        assert sorted(statuses) == sorted(client.scheduler_info()["workers"])
        payloads = [np.random.default_rng(i).random(5000) for i in range(3)]
        futures = [*client.map(recip_big, [0, 0, 0], payloads), client.submit(recip, 0)]
        wait(futures)
        fetched = cluster_hook.fetch_snapshots(client, local)
        progress = capsys.readouterr().err
        again = cluster_hook.fetch_snapshots(client, local)

    originals = sorted(remote.glob(f"*{cluster_hook.SUFFIX}"))
    assert len(originals) == 4
    assert [p.name for p in fetched] == [p.name for p in originals]
    assert all(f.read_bytes() == o.read_bytes() for f, o in zip(fetched, originals, strict=True))
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in fetched)
    assert "fetched 4 snapshot(s)" in progress
    assert again == fetched  # already there: nothing copied twice
    # The copies are whole snapshots: they open and verify.
    assert snapshot.open_snapshot(fetched[0]).manifest["error"]["type"] == "ZeroDivisionError"


def _metadata_read() -> bool:
    from snapshot import _installed

    return _installed._providers is not None


#: A damaged distribution on the workers' path: a RECORD of binary junk (on which
#: importlib.metadata.packages_distributions() raises), a METADATA that is a directory.
DAMAGED = {
    "junk-3.0.dist-info/RECORD": "\x00\xff\n\x00,,,\n",
    "hollow-4.0.dist-info/METADATA/x": "",
}


def test_a_worker_reads_the_package_metadata_when_the_hook_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first failure does not pay for reading the installed packages' metadata: the
    plugin reads it in a thread of its own at setup, in a fresh worker process, before
    any task fails.  The first snapshot has every field the second has (the versions of
    the environment's packages and of the modules its pieces need), and damaged
    metadata on the worker's path costs nothing but that distribution."""
    import importlib.metadata
    import time

    for relative, text in DAMAGED.items():
        (tmp_path / "damaged" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "damaged" / relative).write_text(text, encoding="latin-1")
    monkeypatch.syspath_prepend(str(tmp_path / "damaged"))  # spawned workers inherit sys.path
    snaps = tmp_path / "snaps"
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        assert not any(client.run(_metadata_read).values())  # a fresh process
        cluster_hook.register(client, directory=str(snaps))
        deadline = time.monotonic() + 60
        while not all(client.run(_metadata_read).values()):
            assert time.monotonic() < deadline, "the metadata was never read"
            time.sleep(0.1)
        for _ in range(2):
            assert client.submit(recip, 0, pure=False).exception() is not None
    first, second = (
        snapshot.read_manifest(p)
        for p in sorted(snaps.glob(f"*{cluster_hook.SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)
    )
    assert first.keys() == second.keys()
    expected = {}
    for name in (
        *("dask", "distributed", "cloudpickle", "numpy", "pandas", "pyarrow"),
        *("zstandard", "tblib", "dask-replay"),
    ):  # spec 4.8
        try:
            expected[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    assert first["environment"]["packages"] == second["environment"]["packages"] == expected
    assert first["modules"] == second["modules"]
    assert first["modules"]["hook_userfuncs"] is None  # a test module: of no distribution
