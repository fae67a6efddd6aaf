"""What ``python -m replay info`` loads: only what reading a plain snapshot needs.

``info`` should start about as fast as the interpreter (issue 21).  The parts a
plain file does not need load on first use: the key file reader (``--key-file``),
signing (a key or a signature), the readers of the ``shrunk`` and ``on_demand``
sections, and zlib (headers past the 64th).  Each test runs the
real command line in a fresh interpreter and looks at ``sys.modules`` after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: Loaded by no ``info`` of a plain file (argparse: ``info``'s plain arguments are
#: read by hand; hashlib loads OpenSSL; the others are the writing side or Dask).
NEVER_FOR_INFO = (
    "argparse",
    "hashlib",
    "dataclasses",
    "inspect",
    "ast",
    "cloudpickle",
    "dask",
    "distributed",
    "hmac",
    "snapshot._keys",
    "snapshot._read.signing",
    "snapshot._model.shrunk",
    "snapshot._model.ondemand",
    "snapshot._capture",
    "snapshot._write",
    "replay._fetch",
    "replay._session",
)


def _info_in_child(*args: str, patch: str = "") -> tuple[int, str, list[str]]:
    """Exit status, output, and the modules loaded by ``main(["info", *args])``."""
    child = textwrap.dedent(
        f"""
        import io, json, sys
        {patch}
        from replay._cli import main
        out, err = io.StringIO(), io.StringIO()
        status = main(["info", *{list(args)!r}], out=out, err=err)
        print(json.dumps([status, out.getvalue() + err.getvalue(), sorted(sys.modules)]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    status, text, modules = json.loads(done.stdout.splitlines()[-1])
    return status, text, modules


def test_info_of_a_plain_snapshot_loads_none_of_the_lazy_parts(recip_snapshot: Path) -> None:
    status, text, modules = _info_in_child(str(recip_snapshot))
    assert status == 0, text
    assert "Traceback on the worker:" in text
    assert "(as the worker printed it, not checked" not in text  # its source was read and checked
    loaded = set(modules)
    assert not loaded & set(NEVER_FOR_INFO), sorted(loaded & set(NEVER_FOR_INFO))
    assert "zlib" not in loaded  # a snapshot has about ten tar headers: summed without it
    assert "snapshot._codehash" in loaded  # the frame's code was checked by its hash


def test_a_key_file_loads_its_reader(recip_snapshot: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef\n")
    key_file.chmod(0o600)
    status, text, modules = _info_in_child(str(recip_snapshot), "--key-file", str(key_file))
    assert "snapshot._keys" in modules
    assert "snapshot._read.signing" in modules
    assert status in (0, 3), text  # an unsigned file with a key: refused, exit status 3


def test_header_sums_with_and_without_zlib_agree() -> None:
    import random

    from snapshot._read import tar

    rng = random.Random(21)
    for _ in range(2 * tar._SUMMED_HEADERS + 2):  # both sides of the switch to zlib
        block = bytes(rng.randrange(256) for _ in range(tar.BLOCK))
        assert tar._byte_sum(block) == sum(block)
    assert tar._adler32 is not None
