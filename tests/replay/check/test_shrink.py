"""``python -m replay shrink``: a 2,000,000-row partition with one bad row shrinks to that
row; lists, dicts, strings recursively; the result replays, ``info`` shows what was shrunk,
the original is never modified; a hang is cut by the attempt's timeout, the search by --budget."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jobs import compile_job, run_cli, write_snapshot

import snapshot

PIPELINE = """\
import time


def clean(df):
    prices = df["price"]
    bad = prices[prices < 0]
    if len(bad):
        raise ValueError(f"negative price in row {bad.index[0]}")
    return prices.sum()


def parse(records, text, options):
    for record in records:
        if record.get("qty") == 0:
            total = options["scale"] / record["qty"]
    for line in text.splitlines():
        if "BAD" in line:
            raise KeyError(line)
    return total


def slow_when_small(values):
    if len(values) < 3:
        time.sleep(3600)
    raise RuntimeError(len(values))
"""


def _job() -> dict[str, Any]:
    return compile_job(PIPELINE, filename="/client/pipeline.py")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_million_rows_shrink_to_the_one_bad_row(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"price": np.arange(2_000_000, dtype=float), "sku": np.arange(2_000_000) % 977}
    )
    frame.loc[1_234_567, "price"] = -5.0
    (tmp_path / "key").write_text("secret\n")
    big = write_snapshot(
        tmp_path / "big.tar.zst", _job()["clean"], (frame,), task_key="clean-7", key=b"secret"
    )
    before = _digest(big)
    small = tmp_path / "small.tar.zst"
    result = run_cli(
        ["shrink", str(big), "-o", str(small), "--key-file", str(tmp_path / "key")],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Kept the failure: ValueError in clean, line 8" in result.stdout
    assert "args[0] (rows): 2,000,000 -> 1" in result.stdout
    assert "shrink: attempt " in result.stderr  # the progress line
    assert _digest(big) == before

    opened = snapshot.open_snapshot(small, key=b"secret")
    assert opened.signed and opened.verified
    _, args, _ = opened.call()
    assert list(args[0].index) == [1_234_567] and args[0]["price"].tolist() == [-5.0]
    shrunk = opened.model.shrunk
    assert shrunk is not None and shrunk.source == "big.tar.zst" and shrunk.complete
    assert [(p.path, p.kind, p.before, p.after) for p in shrunk.inputs] == [
        ("args[0]", "rows", 2_000_000, 1)
    ]
    assert opened.model.task is not None and opened.model.task.key == "clean-7"

    replayed = run_cli(
        [str(small), "--no-debug", "--key-file", str(tmp_path / "key")], cwd=tmp_path
    )
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert "Reproduced: ValueError: negative price in row 1234567" in replayed.stdout
    # The original's source text travels with the shrunk copy: the line is shown.
    assert 'raise ValueError(f"negative price in row' in replayed.stderr
    info = run_cli(["info", str(small)], cwd=tmp_path)
    assert "Shrunk from big.tar.zst (python -m replay shrink)" in info.stdout
    assert "args[0] (rows): 2,000,000 -> 1" in info.stdout


def test_containers_shrink_recursively_and_keep_the_same_line(tmp_path: Path) -> None:
    records = [{"qty": i % 7 + 1, "name": f"item {i}"} for i in range(200)]
    records[137] = {"qty": 0, "name": "broken", "notes": ["a", "b", "c"]}
    text = "\n".join(f"line {i}" for i in range(300))
    options = {"scale": 2.0, "unused": list(range(50)), "label": "x" * 40}
    snap = write_snapshot(tmp_path / "parse.zst", _job()["parse"], (records, text, options))
    small = tmp_path / "small.zst"
    result = run_cli(["shrink", str(snap), "-o", str(small)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    _, args, _ = snapshot.open_snapshot(small).call()
    shrunk_records, shrunk_text, shrunk_options = args
    assert shrunk_records == [{"qty": 0}]  # the one record, only the key that matters
    assert shrunk_text == ""  # the text plays no part in the division by zero
    assert shrunk_options == {"scale": 2.0}
    assert "args[0] (items): 200 -> 1" in result.stdout
    assert "args[1] (lines): 300 -> 0" in result.stdout


def test_a_hang_is_cut_by_the_attempt_timeout(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "slow.zst", _job()["slow_when_small"], (list(range(8)),))
    small = tmp_path / "small.zst"
    command = ["shrink", str(snap), "-o", str(small), "--timeout", "0.5"]
    result = run_cli(command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    _, args, _ = snapshot.open_snapshot(small).call()
    assert len(args[0]) == 3  # smaller inputs hang: each attempt killed, counted as passing


def test_the_budget_stops_the_search_with_what_was_found(tmp_path: Path) -> None:
    snap = write_snapshot(
        tmp_path / "parse.zst", _job()["parse"], ([{"qty": 0}] * 50, "", {"scale": 1})
    )
    small = tmp_path / "small.zst"
    result = run_cli(["shrink", str(snap), "-o", str(small), "--budget", "0.001"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The --budget ran out first" in result.stdout
    document = json.loads(run_cli(["info", str(small), "--json"], cwd=tmp_path).stdout)
    assert document["manifest"]["shrunk"]["complete"] is False


def test_a_call_that_does_not_fail_here_or_the_snapshot_itself_is_refused(
    tmp_path: Path,
) -> None:
    job = compile_job()
    # A failure that depended on the environment: it does not happen here.
    os.environ["REPLAY_TEST_SERVICE_DOWN"] = "1"
    try:
        snap = write_snapshot(tmp_path / "flaky.zst", job["call_service"], (7,))
    finally:
        del os.environ["REPLAY_TEST_SERVICE_DOWN"]
    result = run_cli(["shrink", str(snap), "-o", str(tmp_path / "s.zst")], cwd=tmp_path)
    assert result.returncode == 7, result.stdout + result.stderr
    assert "does not fail here as it did on the worker" in result.stderr
    same = run_cli(["shrink", str(snap), "-o", str(snap)], cwd=tmp_path)
    assert same.returncode == 2 and "never modified" in same.stderr
