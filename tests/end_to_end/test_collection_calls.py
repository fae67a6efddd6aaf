"""What a replay re-runs for each kind of task, and the user's function it names.

A client script (the user's functions in ``__main__``, as in a notebook) makes
one failure of each kind on a ``LocalCluster(processes=True)`` with the hook;
then, in fresh processes, ``Replay`` says what it re-runs and which function of
the user's raised with which value, and ``python -m replay info`` shows the
same (docs/user-guide.md, "What is re-run for each kind of task").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent

# scenario -> (what is re-run, its origin, the user's function that raised, its locals)
EXPECTED = {
    "delayed": ("make_err", "task", "make_err", {"x": "0"}),
    "futures": ("make_err", "task", "make_err", {"x": "0"}),
    "bag": ("make_err", "bag-map", "make_err", {"x": "0"}),
    # pandas calls make_err from C: the partition's whole ``map`` is re-run.
    "dataframe-map": ("methodcaller", "task", "make_err", {"x": "0"}),
    "dataframe-map_partitions": (
        "partition_err",
        "map_partitions",
        "partition_err",
        {"smallest": "0"},
    ),
    "array": ("block_err", "inner-task", "block_err", {"scale": "3"}),
}

_REPORT = """\
import json, sys
import replay
out = {}
for name, path in json.loads(sys.argv[1]).items():
    r = replay.load(path)
    failing = r.failing_function
    out[name] = {
        "func": getattr(r.func, "__name__", type(r.func).__name__),
        "origin": r.model.call.origin,
        "failing": failing.function,
        "locals": {k: repr(v) for k, v in failing.locals.items()},
        "html": r._repr_html_(),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("collections")
    out = directory / "found.json"
    subprocess.run(
        [sys.executable, str(HERE / "collection_client_script.py"), str(directory), str(out)],
        check=True,
        timeout=240,
        capture_output=True,
    )
    found: dict[str, str] = json.loads(out.read_text())
    assert all(path and Path(path).is_file() for path in found.values()), found
    return found


@pytest.fixture(scope="module")
def reported(snapshots: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, json.dumps(snapshots)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE.parent,  # elsewhere: the user's functions are not importable there
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_replay_names_the_users_function_and_its_value(
    reported: dict[str, Any], scenario: str
) -> None:
    func, origin, failing, local_values = EXPECTED[scenario]
    got = reported[scenario]
    assert (got["func"], got["origin"], got["failing"]) == (func, origin, failing), got
    for name, value in (local_values or {}).items():
        assert got["locals"][name] == value, got


def _info(path: str, *options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "replay", "info", path, *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_info_names_the_users_function_for_a_series_map(snapshots: dict[str, str]) -> None:
    text = _info(snapshots["dataframe-map"])
    assert "  in:      make_err(x=0)" in text
    # The pandas Series argument: its repr's lines, indented behind a gutter.
    assert "  args[0] =  [pandas.Series" in text
    assert "    | 0    1\n    | 1    0\n    | 2    2\n    | Name: a, dtype: int64\n" in text
    assert "\\x0a" not in text.split("Traceback on the worker")[0]


def test_info_shows_the_users_frames_in_full_and_dasks_on_one_line(
    snapshots: dict[str, str],
) -> None:
    text = _info(snapshots["array"])
    frames = text.split("Frames captured at the raise")[1].split("\n\n")[0].splitlines()[1:]
    dask_frames = [line for line in frames if "/dask/" in line]
    assert dask_frames and all("[library; " in line for line in dask_frames), frames
    user = [
        i for i, line in enumerate(frames) if line.endswith("in block_err  (no source captured)")
    ]
    assert user, frames
    assert frames[user[0] + 1].startswith("    block = array([")  # its locals, in full
    assert "  in:      block_err(block=array([" in text
    everything = _info(snapshots["array"], "--all-frames")
    assert "[library; " not in everything
    assert "    self = <Task " in everything  # a dask frame's locals
    document = json.loads(_info(snapshots["array"], "--json"))
    assert any(
        f["function"] == "execute_graph" and f["locals"] for f in document["manifest"]["frames"]
    )


def test_jupyter_shows_the_same(reported: dict[str, Any]) -> None:
    """A Replay's HTML (Jupyter): the snapshot's page (snapshot.render_html), the user's
    function in its header, a Series' repr as a block of lines, library frames tagged."""
    page = reported["dataframe-map"]["html"]
    assert "in your code <code>make_err(x=0)</code>" in page
    assert '<pre class="wrap">' in page and "\nName: a, dtype: int64" in page
    assert '<span class="tag">library</span>' in page
