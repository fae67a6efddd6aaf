"""``info`` reads and scans a quick head by default and says where it stopped; ``--deep``
reads and scans as far as ``snapshot.ReadLimits`` allow."""

from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any

from replay._cli.inspect_commands import QUICK_SCAN_OPCODES


def test_the_quick_scan_says_where_it_stopped_and_deep_goes_on(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    # A module named only after three times the quick budget of opcodes.
    late = [*range(3 * QUICK_SCAN_OPCODES), decimal.Decimal(1)]
    path = make_snapshot(tmp_path / "late.zst", job["recip"], (0,), inputs={"late": late})

    quick = cli(["info", str(path)], cwd=elsewhere)
    assert quick.returncode == 0, quick.stderr
    modules = quick.stdout.split("Modules the pickles would import")[1]
    assert "decimal" not in modules
    assert f"ReadLimits.max_scan_opcodes={QUICK_SCAN_OPCODES}" in modules
    assert "`info --deep` reads and scans further" in modules
    assert "cloudpickle" in modules  # the small pieces (the call) were scanned whole

    deep = cli(["info", str(path), "--deep"], cwd=elsewhere)
    assert deep.returncode == 0, deep.stderr
    modules = deep.stdout.split("Modules the pickles would import")[1]
    assert "decimal" in modules
    assert "the list may be incomplete" not in modules

    document = json.loads(cli(["info", "--json", "--deep", str(path)], cwd=elsewhere).stdout)
    assert any("decimal" in mods for mods in document["imports"].values())
    assert document["imports_incomplete"] == {}
    document = json.loads(cli(["info", "--json", str(path)], cwd=elsewhere).stdout)
    assert not any("decimal" in mods for mods in document["imports"].values())
    (why,) = document["imports_incomplete"].values()  # the one large piece
    assert "--deep" in why
