"""Functions pickled by value: replay finds their source by code, never by line numbers.

cloudpickle renames the file of every function it ships by value (defined in
a client's ``__main__`` or a notebook cell) to ``<dynamic-code>`` and sends no
source.  The snapshots here are made as the seed makes them: a real IPython
shell runs the notebook's cells in a subprocess (magics and shell escapes
included), the function goes through cloudpickle as it would to a worker, and
the worker's copy fails and is captured with ``snapshot.SnapshotBuilder``.
Then ``python -m replay`` runs in another process, another directory, with
pdb driven through stdin.
"""

from __future__ import annotations

import linecache
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from snapshot._codehash import code_sha256

CELLS = [
    ("markdown", "# The seed\nThe failing computation."),
    ("code", "!echo ready\nimport math\n"),
    ("code", "def dec(x):\n    return x - 1\n"),
    ("code", "%time y = 1\n\ndef recip(x):\n    # the seed's failing function\n    return 1 / x\n"),
]

# What `jupyter nbconvert --to script seed.ipynb` writes for CELLS: magics become
# get_ipython() calls, each code cell follows its `# In[N]:` header.
EXPORT = """\
#!/usr/bin/env python
# coding: utf-8

# # The seed
# The failing computation.

# In[1]:


get_ipython().system('echo ready')
import math


# In[2]:


def dec(x):
    return x - 1


# In[3]:


get_ipython().run_line_magic('time', 'y = 1')

def recip(x):
    # the seed's failing function
    return 1 / x

"""

# Runs the cells in a real IPython shell, as a kernel does, and captures the
# failure of the worker's copy of recip (cloudpickle round trip) as a worker would.
MAKE_SNAPSHOT = """\
import sys, cloudpickle, nbformat, snapshot
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for cell in nbformat.read(sys.argv[1], as_version=4).cells:
    if cell.cell_type == "code":
        assert shell.run_cell(cell.source).success
worker_recip = cloudpickle.loads(cloudpickle.dumps(shell.user_ns["recip"]))
builder = snapshot.SnapshotBuilder()
try:
    worker_recip(0)
except ZeroDivisionError as exc:
    builder.capture_exception(exc, skip_frames=1)
builder.set_call(worker_recip, (0,))
builder.manifest["task"] = {"key": "recip-1"}
builder.write(sys.argv[2])
"""

ARROW = "->\t    return 1 / x"


def write_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    for kind, text in CELLS:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(new(text))
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The notebook, its export, and the snapshot of its failure, each in its own place."""
    root = tmp_path_factory.mktemp("seed")
    (root / "notebook").mkdir()
    notebook = write_notebook(root / "notebook" / "seed.ipynb")
    export = root / "notebook" / "seed_export.py"
    export.write_text(EXPORT)
    path = root / "cluster" / "recip.tar.zst"
    path.parent.mkdir()
    subprocess.run(
        [sys.executable, "-c", MAKE_SNAPSHOT, str(notebook), str(path)],
        cwd=root / "cluster",
        check=True,
        capture_output=True,
        timeout=120,
    )
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return {"snapshot": path, "notebook": notebook, "export": export, "elsewhere": elsewhere}


def export_line(text: str) -> int:
    return EXPORT.splitlines().index(text) + 1


def test_the_notebook_given_with_source_shows_the_cell(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    result = cli(
        [str(seed["snapshot"]), "--source", str(seed["notebook"])],
        cwd=seed["elsewhere"],
        stdin="ll\nl 1, 5\np x\nwhere\nq\n",
    )
    assert result.returncode == 1, result.stderr
    assert f"Source of recip(): {seed['notebook']}, cell 4" in result.stderr
    # Cell-relative lines: the cell as IPython compiled it, magic line first.
    assert f"5  {ARROW}" in result.stdout
    assert "1  \tget_ipython().run_line_magic('time', 'y = 1')" in result.stdout
    assert "(Pdb) 0" in result.stdout
    assert f"{seed['notebook']} [cell 4](5)recip()" in result.stdout


def test_an_nbconvert_export_shows_the_line_that_raised(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    for mode in ([], ["--frames"]):
        result = cli(
            [str(seed["snapshot"]), *mode, "--source", str(seed["export"])],
            cwd=seed["elsewhere"],
            stdin="ll\nq\n",
        )
        assert result.returncode == (0 if mode else 1), result.stderr
        assert f"Source of recip(): {seed['export']}, In[3]" in result.stderr
        line = export_line("    return 1 / x")
        assert f"{line}  {ARROW}" in result.stdout, result.stdout
        assert f"{line - 2}  \tdef recip(x):" in result.stdout
        if not mode:  # the re-run's traceback points into the export as well
            assert f'File "{seed["export"]}", line {line}, in recip' in result.stderr


def test_the_notebook_in_the_current_directory_is_found(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    result = cli([str(seed["snapshot"]), "--frames"], cwd=seed["notebook"].parent, stdin="ll\nq\n")
    assert result.returncode == 0, result.stderr
    assert ARROW in result.stdout


def test_a_decoy_at_the_captured_line_is_rejected(
    cli: Callable[..., Any], seed: dict[str, Path], tmp_path: Path
) -> None:
    # `def recip` exactly at the captured first line (3) with another body, and the
    # right body one line off: neither is the code that ran.
    decoy = tmp_path / "decoy.py"
    decoy.write_text("# a coincidence\n\ndef recip(x):\n    return x\n")
    shifted = tmp_path / "shifted.py"
    shifted.write_text("\n\n\ndef recip(x):\n    # the seed's failing function\n    return 1 / x\n")
    for mode, code in (([], 1), (["--frames"], 0)):
        result = cli(
            [str(seed["snapshot"]), *mode, "--source", str(decoy), "--source", str(shifted)],
            cwd=seed["elsewhere"],
            stdin="ll\nwhere\np x\nq\n",
        )
        assert result.returncode == code, result.stderr
        assert f"Warning: --source {decoy} defines none of the code that ran" in result.stderr
        assert f"Warning: --source {shifted} defines none of the code that ran" in result.stderr
        assert "Note: source unknown for recip() (<dynamic-code>, line 5)" in result.stderr
        assert "--source SCRIPT" in result.stderr
        assert "->" not in result.stdout  # no line is shown as the one that raised
        assert "return x" not in result.stdout
        assert "<dynamic-code>(5)recip()" in result.stdout
        assert "(Pdb) 0" in result.stdout


def test_without_any_source_the_debugger_still_works_and_says_why(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    result = cli([str(seed["snapshot"])], cwd=seed["elsewhere"], stdin="p x\nq\n")
    assert result.returncode == 1
    assert "(Pdb) 0" in result.stdout
    assert "Note: source unknown for recip()" in result.stderr
    assert "no source among" in result.stderr


def test_the_api_says_why_too(cli: Callable[..., Any], seed: dict[str, Path]) -> None:
    code = "import sys, replay\nr = replay.load(sys.argv[1])\nr.post_mortem()\nr.debug()\n"
    result = cli([str(seed["snapshot"])], cwd=seed["elsewhere"], stdin="q\nq\n", python_code=code)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Note: source unknown for recip() (<dynamic-code>, line 5)") == 2


def test_the_live_session_that_defined_the_function_shows_its_cell(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    # The kernel that ran the cells replays its own failure: its line cache has the cell.
    code = MAKE_SNAPSHOT + "import replay\nreplay.load(sys.argv[2]).debug()\n"
    live = seed["elsewhere"] / "live.tar.zst"
    result = cli(
        [str(seed["notebook"]), str(live)],
        cwd=seed["elsewhere"],
        stdin="ll\nq\n",
        python_code=code,
    )
    assert result.returncode == 0, result.stderr
    assert "Source of recip(): this session's <ipython-input-" in result.stderr
    assert f"5  {ARROW}" in result.stdout


def test_a_missing_source_file_is_a_usage_error(
    cli: Callable[..., Any], seed: dict[str, Path]
) -> None:
    result = cli([str(seed["snapshot"]), "--source", "nope.py"], cwd=seed["elsewhere"])
    assert result.returncode == 2
    assert result.stderr.startswith("Error: --source nope.py: no such file")
    assert "Traceback" not in result.stderr
    for given, what in ((seed["elsewhere"], "is a directory"), ("/dev/zero", "is not a regular")):
        result = cli([str(seed["snapshot"]), "--source", str(given)], cwd=seed["elsewhere"])
        assert result.returncode == 2
        assert result.stderr.startswith(f"Error: --source {given}: {what}"), result.stderr


def test_frames_are_verified_by_the_code_hash_the_writer_records(
    cli: Callable[..., Any],
    compile_job: Callable[..., Any],
    make_snapshot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # A snapshot without its call: --frames has only frames[0].code_sha256 to go by.
    source = "import math\n\n\ndef recip(x):\n    scale = 1\n    return scale / x\n"
    recip = compile_job(source, "<dynamic-code>")["recip"]
    linecache.cache.pop("<dynamic-code>", None)

    def edit(builder: Any) -> None:
        builder.manifest["frames"][0]["code_sha256"] = code_sha256(recip.__code__)
        del builder.manifest["call"]

    path = make_snapshot(tmp_path / "hashed.tar.zst", recip, (0,), edit=edit)
    script = tmp_path / "pipeline.py"
    script.write_text(source)
    edited = tmp_path / "edited.py"
    edited.write_text(source.replace("scale = 1", "scale = 2"))
    found = cli([str(path), "--frames", "--source", str(script)], cwd=tmp_path, stdin="ll\nq\n")
    assert found.returncode == 0, found.stderr
    assert "6  ->\t    return scale / x" in found.stdout
    refused = cli(
        [str(path), "--frames", "--source", str(edited)], cwd=tmp_path.parent, stdin="ll\nq\n"
    )
    assert "Note: source unknown for recip()" in refused.stderr
    assert "->" not in refused.stdout
