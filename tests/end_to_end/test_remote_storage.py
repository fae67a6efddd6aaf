"""Snapshots in S3: the hook's upload, then ``replay.load`` and ``python -m replay`` on URLs.

A real S3 endpoint (moto's server, started here, spoken to by s3fs as to AWS)
and a real cluster: a ``LocalCluster`` of worker processes with the hook and
``snapshot.upload: s3://BUCKET/snaps`` runs the seed's ``recip(0)``.  The
object lands in the bucket, the note names it, and once the local file is gone
the exception alone still leads to the replay.  ``list`` and ``info`` read only
heads: a counting proxy between the CLI and the server measures the bytes that
really crossed the wire.  The errors a user meets (no object, no bucket, no
credentials, no network, no backend package) each end in one line, via the
real CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from s3_server import CountingProxy, endpoint_env, moto_server, without_aws
from subprocess_cluster import free_port

import replay
import snapshot

BUCKET = "dask-replay-tests"
PREFIX = f"s3://{BUCKET}/snaps"
JOB_SOURCE = "def recip(x):\n    return 1 / x\n"
#: The incompressible data of the large snapshot that `list` and `info` must not read.
BIG_BYTES = 24 << 20


@dataclass
class S3:
    endpoint: str
    proxy: CountingProxy
    fs: Any  # s3fs.S3FileSystem, for the test's own setup and checks

    def env(self, *, through_proxy: bool = False) -> dict[str, str]:
        endpoint = self.proxy.endpoint if through_proxy else self.endpoint
        base = {k: v for k, v in os.environ.items() if k != "PYTHONBREAKPOINT"}
        return {**base, **endpoint_env(endpoint)}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    import s3fs

    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        address = urlsplit(endpoint)
        proxy = CountingProxy((str(address.hostname), int(address.port or 80)))
        # The workers of the cluster below, and replay.load here, find the
        # endpoint and credentials where users put theirs: the environment.
        saved = {k: os.environ.get(k) for k in endpoint_env(endpoint)}
        os.environ.update(endpoint_env(endpoint))
        try:
            fs = s3fs.S3FileSystem(
                endpoint_url=endpoint,
                key="dask-replay-test",
                secret="dask-replay-test-secret",
                skip_instance_cache=True,
                use_listings_cache=False,
            )
            fs.mkdir(BUCKET)
            yield S3(endpoint, proxy, fs)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            proxy.close()


@dataclass
class Failure:
    exception: BaseException
    local: Path
    url: str


@pytest.fixture(scope="module")
def failure(s3: S3, tmp_path_factory: pytest.TempPathFactory) -> Failure:
    """The seed's recip(0) on worker processes with the hook uploading to the bucket."""
    import dask
    import distributed
    from dask.distributed import Client, LocalCluster

    directory = tmp_path_factory.mktemp("worker-snapshots")
    job: dict[str, Any] = {"__name__": "client_script_remote_storage"}
    exec(compile(JOB_SOURCE, "/client/home/analysis.py", "exec"), job)
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": str(directory),
        "snapshot.upload": PREFIX,
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        failed = client.submit(job["recip"], 0)
        distributed.wait(failed)
        exception = failed.exception()
    (local,) = directory.glob("*.tar.zst")
    return Failure(exception, local, f"{PREFIX}/{local.name}")


@pytest.fixture(scope="module")
def big(s3: S3, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """A snapshot whose input is 24 MiB of random bytes, put in the bucket: (URL, size)."""
    data = np.frombuffer(np.random.default_rng(0).bytes(BIG_BYTES), dtype=np.uint8)
    builder = snapshot.SnapshotBuilder()
    try:
        len(data) / 0  # a failure with this frame's locals
    except ZeroDivisionError as exc:
        builder.capture_exception(exc)
    builder.set_call(np.divide, [data, 0])
    path = builder.write(tmp_path_factory.mktemp("big") / "big.tar.zst")
    url = f"{PREFIX}/{path.name}"
    s3.fs.put_file(str(path), url)
    return url, path.stat().st_size


def cli(
    args: list[str],
    env: dict[str, str],
    stdin: str = "q\n",
    cwd: Path | None = None,
    missing: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m replay ARGS``; with ``missing``, as if that package were not installed."""
    command = ["-m", "replay"]
    if missing is not None:  # the CLI's own main, with the import of `missing` failing
        command = [
            "-c",
            f"import sys; sys.modules[{missing!r}] = None; sys.argv[0] = 'replay'\n"
            "from replay._cli import main; sys.exit(main())",
        ]
    return subprocess.run(
        [sys.executable, *command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_the_upload_is_in_the_bucket_and_the_exception_replays_from_it(
    s3: S3, failure: Failure
) -> None:
    notes = "\n".join(failure.exception.__notes__)
    assert f"dask-replay: copied to {failure.url}" in notes
    assert s3.fs.size(failure.url) == failure.local.stat().st_size
    # The worker's disk is gone (no client copy either): the note's URL is what is left.
    failure.local.unlink()
    loaded = replay.load(failure.exception)
    assert loaded.path == failure.url
    assert loaded.replay().verdict is replay.Verdict.REPRODUCED


def test_python_m_replay_on_the_url_runs_pdb_and_opens_the_frames(
    s3: S3, failure: Failure, tmp_path: Path
) -> None:
    result = cli([failure.url], s3.env(), stdin="p x\nq\n", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"Snapshot: {failure.url}" in result.stdout
    assert "(Pdb) 0\n" in result.stdout
    assert "Reproduced: ZeroDivisionError: division by zero" in result.stdout
    frames = cli([failure.url, "--frames", "--no-debug"], s3.env(), cwd=tmp_path)
    assert frames.returncode == 0, frames.stderr
    assert "x = 0" in frames.stdout, frames.stdout
    # Nothing was left behind: the copy the replay read was a temporary file.
    assert not list(tmp_path.iterdir())


def test_list_and_info_read_only_the_heads(s3: S3, failure: Failure, big: tuple[str, int]) -> None:
    url, size = big
    s3.proxy.reset()
    listed = cli(["list", f"{PREFIX}/"], s3.env(through_proxy=True))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2, listed.stdout
    assert any(line.endswith(f"  {failure.url}") and "ZeroDivisionError" in line for line in lines)
    assert any(line.endswith(f"  {url}") for line in lines)
    listed_bytes = s3.proxy.received
    s3.proxy.reset()
    info = cli(["info", url], s3.env(through_proxy=True))
    assert info.returncode == 0, info.stderr
    assert f"Snapshot: {url}" in info.stdout
    assert "ZeroDivisionError" in info.stdout
    info_bytes = s3.proxy.received
    print(f"object {size} bytes; list read {listed_bytes}, info read {info_bytes}")
    assert size > BIG_BYTES
    assert listed_bytes < size // 20
    assert info_bytes < size // 20
    info_json = cli(["info", "--json", failure.url], s3.env())
    assert info_json.returncode == 0, info_json.stderr
    assert f'"path": "{failure.url}"' in info_json.stdout


def test_a_name_from_the_bucket_is_escaped_on_the_terminal(s3: S3) -> None:
    s3.fs.pipe(f"s3://{BUCKET}/hostile/evil\x1b]0;pwned\x07.tar.zst", b"not a snapshot")
    listed = cli(["list", f"s3://{BUCKET}/hostile/"], s3.env())
    assert listed.returncode == 6, listed.stderr
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert "unreadable: not a snapshot" in listed.stdout
    assert "evil\\x1b]0;pwned\\x07.tar.zst" in listed.stdout


@pytest.mark.parametrize(
    ("case", "args", "expected"),
    [
        (
            "no object",
            ["info", f"{PREFIX}/missing.tar.zst"],
            f"Error: {PREFIX}/missing.tar.zst: no such object; check the URL",
        ),
        (
            "no bucket",
            ["s3://no-such-bucket-here/x.tar.zst"],
            "Error: s3://no-such-bucket-here/x.tar.zst: no such bucket",
        ),
        (
            "no prefix",
            ["list", f"s3://{BUCKET}/nothing-here/"],
            f"Error: s3://{BUCKET}/nothing-here/: no such prefix",
        ),
        (
            "a prefix given as a snapshot",
            ["info", f"{PREFIX}/"],
            f"Error: {PREFIX}/: a prefix (a directory), not a snapshot; "
            f"`python -m replay list {PREFIX}/`",
        ),
        (
            "no credentials",
            ["info", f"{PREFIX}/missing.tar.zst"],
            f"Error: {PREFIX}/missing.tar.zst: no credentials for the storage",
        ),
        (
            "no network",
            ["list", f"{PREFIX}/"],
            f"Error: {PREFIX}/: cannot reach the storage",
        ),
        (
            "no backend package",
            ["gcs://bucket/x.tar.zst"],
            "Error: gcs://bucket/x.tar.zst: reading it needs a package that is not installed "
            "(Please install gcsfs to access Google Storage); pip install",
        ),
        (
            "s3fs not installed",
            ["list", f"{PREFIX}/"],
            f"Error: {PREFIX}/: reading it needs a package that is not installed "
            "(Install s3fs to access S3); pip install 'dask-replay[remote]'",
        ),
        (
            "fsspec not installed",
            ["info", f"{PREFIX}/x.tar.zst"],
            f"Error: {PREFIX}/x.tar.zst: reading it needs a package that is not installed",
        ),
    ],
)
def test_storage_errors_are_one_line_with_exit_status_3(
    s3: S3, case: str, args: list[str], expected: str
) -> None:
    env = s3.env()
    if case == "no credentials":
        env = without_aws(env)
    elif case == "no network":
        env.update(endpoint_env(f"http://127.0.0.1:{free_port()}"))  # nothing listens
        env["AWS_MAX_ATTEMPTS"] = "1"  # botocore's retries would only make it slower
    missing = case.split()[0] if case.endswith("not installed") else None
    result = cli(args, env, missing=missing)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_when_every_place_fails_the_message_names_them_all(s3: S3) -> None:
    error = ZeroDivisionError("division by zero")
    error.add_note(
        "dask-replay: snapshot written to node-17:/data/snaps/gone.tar.zst\n"
        f"dask-replay: copied to {PREFIX}/gone.tar.zst"
    )
    with pytest.raises(snapshot.SnapshotNotFoundError) as raised:
        replay.load(error)
    message = str(raised.value)
    assert "/data/snaps/gone.tar.zst is on node-17" in message
    assert f"its copy cannot be read either: {PREFIX}/gone.tar.zst: no such object" in message


def test_a_death_snapshot_is_uploaded_to_the_bucket_too(s3: S3, tmp_path: Path) -> None:
    """The death writer (on the scheduler's side) copies its snapshots as the hook does."""
    from cluster_hook._config import Settings
    from cluster_hook._deaths.writer import _upload

    written = tmp_path / "20261202T000000-hog-1-node1-1-abcd.tar.zst"
    shutil.copyfile(_small_snapshot(tmp_path), written)
    url = _upload(Settings.from_config({"upload": f"s3://{BUCKET}/deaths/"}), written)
    assert url == f"s3://{BUCKET}/deaths/{written.name}"
    info = cli(["info", url], s3.env())
    assert info.returncode == 0, info.stderr
    assert f"Snapshot: {url}" in info.stdout


def _small_snapshot(tmp_path: Path) -> Path:
    builder = snapshot.SnapshotBuilder()
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError as exc:
        builder.capture_exception(exc)
    return builder.write(tmp_path / "small.tar.zst")
