"""The layout's promises: imports that run one way, rooms that stay small, public APIs.

``cluster_hook -> snapshot <- replay``: reading a snapshot must work on a lean
laptop without dask, so ``snapshot`` and ``replay`` import no dask or
distributed at import time, and nothing but tests imports ``cluster_hook``.
Inside each package, subpackages name the subsystems and import one another
in one direction only (``LAYERS``).  The import graph counts *every* import
statement: at module level, inside functions and under ``TYPE_CHECKING``; an
import inside a function is still a tie between two rooms.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("snapshot", "replay", "cluster_hook")
GRAPHED = (*PACKAGES, "benchmarks")
MAX_LINES = 400

# The rooms of each package, by dotted prefix (a module belongs to the room of
# its longest matching prefix), and which rooms each room may import besides
# its own.  A module in no listed room is the package's facade: free within it.
ROOMS: dict[str, dict[str, tuple[str, ...]]] = {
    "snapshot": {
        # Shared by every side; what stored pickles name (_format, _rebuild).
        "base": (
            "snapshot._byvalue",
            "snapshot._chars",
            "snapshot._codehash",
            "snapshot._installed",
            "snapshot._errors",
            "snapshot._format",
            "snapshot._inapp",
            "snapshot._keys",
            "snapshot._limits",
            "snapshot._rebuild",
            "snapshot._record",
            "snapshot._text",
        ),
        "model": ("snapshot._model",),
        "read": ("snapshot._read",),
        "write": ("snapshot._write",),
        # Client copies: a snapshot read, then written again with sources added.
        "amend": ("snapshot._amend",),
        # The capture core: a live failure into a snapshot file, without Dask.
        "capture": ("snapshot._capture",),
        # The HTML page of a snapshot (python -m replay html, the dashboard, Jupyter).
        "render": ("snapshot._render",),
    },
    "replay": {
        # Shared below everything: terminal escaping, rebuilt frames, errors, versions.
        "base": ("replay._errors", "replay._frames", "replay._terminal", "replay._versions"),
        "fetch": ("replay._fetch",),
        "sources": ("replay._sources",),
        "describe": ("replay._describe",),
        "run": ("replay._run",),
        # check: each snapshot re-run in a process of its own against today's code, judged.
        "check": ("replay._check",),
        # export-test: a failing call written as a pytest file and its inputs.
        "export": ("replay._export",),
        # shrink: delta debugging over the call's inputs, each attempt in a forked child.
        "shrink": ("replay._shrink",),
        "session": ("replay._session",),
        "shortcuts": ("replay._shortcuts",),
        "cli": ("replay._cli",),
        "ipython": ("replay._ipython",),
        # pytest --replay-snapshots DIR (the pytest11 entry point).
        "pytest_plugin": ("replay.pytest_plugin",),
    },
    "cluster_hook": {
        # The Dask adapters of the capture core, and the names the hook registers.
        "base": (
            "cluster_hook._config",
            "cluster_hook._names",
            "cluster_hook._policy",
            "cluster_hook._runreply",
            "cluster_hook._scrub",
            "cluster_hook._unwrap",
            "cluster_hook._wrapper",
        ),
        "client": ("cluster_hook._client",),
        # Lost data recomputed from lineage: deaths use it, and any feature may.
        "lineage": ("cluster_hook._lineage",),
        # A snapshot a worker writes from the scheduler's record: deaths' and captures'.
        "written": ("cluster_hook._written",),
        "deaths": ("cluster_hook._deaths",),
        "storms": ("cluster_hook._storms",),
        # The Snapshots pages on the dashboard: the scheduler's list, the workers' pages.
        "dashboard": ("cluster_hook._dashboard",),
        # cluster_hook.capture(future): snapshots asked for.
        "ondemand": ("cluster_hook._ondemand",),
        "plugin": ("cluster_hook._plugin",),
    },
}
MAY_IMPORT: dict[str, dict[str, tuple[str, ...]]] = {
    "snapshot": {
        "base": (),
        "model": ("base",),
        # Reading and writing sit side by side over the model: neither imports the other.
        "read": ("base", "model"),
        "write": ("base", "model"),
        "amend": ("base", "model", "read", "write"),
        # Capture writes; it never needs the reader.
        "capture": ("base", "model", "write"),
        # The page reads the head of a file, as info does; it never writes or captures.
        "render": ("base", "model", "read"),
    },
    # cli -> session -> check -> run -> describe -> sources; fetch beside them.
    "replay": {
        "base": (),
        "fetch": ("base",),
        "sources": ("base",),
        "describe": ("base", "sources"),
        "run": ("base", "describe", "sources"),
        "check": ("base", "fetch", "sources", "describe", "run"),
        "session": ("base", "fetch", "sources", "describe", "run", "check"),
        "shortcuts": ("base", "fetch", "run", "session"),
        "export": ("base",),
        "shrink": ("base",),
        "cli": (
            *("base", "fetch", "sources", "describe", "run"),
            *("check", "export", "shrink", "session"),
        ),
        "ipython": ("base", "fetch", "sources", "describe", "run", "session", "shortcuts"),
        "pytest_plugin": ("base", "check"),
    },
    # The plugin ties the client part, the deaths and the storms together; the client
    # part reads the storms' counts; deaths recompute lost inputs through the lineage
    # room; deaths and the client part never meet.
    "cluster_hook": {
        "base": (),
        "client": ("base", "storms"),
        "lineage": ("base",),
        # The one builder of the snapshots that deaths and captures write on a worker.
        "written": ("base", "lineage"),
        "deaths": ("base", "lineage", "written"),
        "storms": ("base",),
        "dashboard": ("base", "storms"),
        # A capture asked for copies its file as the client part does and recomputes
        # released inputs through the lineage room.
        "ondemand": ("base", "client", "lineage", "written"),
        "plugin": ("base", "client", "dashboard", "deaths", "lineage", "storms"),
    },
}


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """``(imported module, name)`` for every import statement in ``path``, wherever it stands.

    ``from pkg import sub`` is an import of the submodule ``pkg.sub``; any other
    name is an attribute of ``pkg``'s __init__, and ``name`` is that attribute.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, modules)
                if target:
                    yield target, ""
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    yield f"{source}.{alias.name}", ""
                else:
                    target = _resolve(source, modules)
                    if target:
                        yield target, alias.name


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    modules = _modules(root, packages)
    return {
        module: {target for target, _ in _imported(module, path, modules) if target != module}
        for module, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in graph:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    found = cycles(import_graph(ROOT, GRAPHED))
    assert not found, "import cycles (every import counts, in functions too):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_the_cycle_check_sees_imports_in_functions_and_under_type_checking(
    tmp_path: Path,
) -> None:
    """The check above can fail: a cycle tied only by a lazy import is still found."""
    package = tmp_path / "pkg"
    (package / "_sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_sub" / "__init__.py").write_text("")
    (package / "_a.py").write_text("def f():\n    from ._sub.b import g\n")
    (package / "_sub" / "b.py").write_text(
        textwrap.dedent(
            """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .. import _a
            """
        )
    )
    (package / "_c.py").write_text("import pkg\n")
    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg._a", "pkg._sub.b"]]
    (package / "__init__.py").write_text("from ._c import *\n")
    assert ["pkg", "pkg._c"] in cycles(import_graph(tmp_path, ("pkg",)))


def _room(module: str, rooms: dict[str, tuple[str, ...]]) -> str | None:
    best = max(
        (
            (len(prefix), room)
            for room, prefixes in rooms.items()
            for prefix in prefixes
            if module == prefix or module.startswith(prefix + ".")
        ),
        default=None,
    )
    return best[1] if best else None


@pytest.mark.parametrize("package", sorted(ROOMS))
def test_rooms_import_in_one_direction(package: str) -> None:
    rooms, may_import = ROOMS[package], MAY_IMPORT[package]
    wrong = []
    for module, targets in sorted(import_graph(ROOT, (package,)).items()):
        room = _room(module, rooms)
        if room not in may_import:
            continue
        for target in sorted(targets):
            other = _room(target, rooms)
            if other != room and other not in may_import[room]:
                wrong.append(f"{module} ({room}) imports {target} ({other or 'the facade'})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_its_own_package_facade() -> None:
    """Inside a package, modules import the module that does the job, never the facade."""
    graph = import_graph(ROOT, GRAPHED)
    wrong = [
        f"{module} imports {module.split('.')[0]}"
        for module, targets in sorted(graph.items())
        if "." in module and module.split(".")[0] in targets
    ]
    assert not wrong, "\n".join(wrong)


def _every_import() -> Iterator[tuple[str, str, str]]:
    """``(module, imported module, imported name or "")`` over the graphed packages."""
    modules = _modules(ROOT, GRAPHED)
    for module, path in sorted(modules.items()):
        for target, name in _imported(module, path, modules):
            yield module, target, name


def test_packages_use_each_other_through_their_public_api() -> None:
    """What one package uses from another is that package's public API, not a private module."""
    wrong = [
        f"{module} imports {target}{'.' + name if name else ''}"
        for module, target, name in _every_import()
        if target.split(".")[0] != module.split(".")[0] and ("." in target or name.startswith("_"))
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_names() -> None:
    """A helper that needs another module's underscore name is doing that module's job."""
    wrong = [
        f"{module} imports {target}.{name}"
        for module, target, name in _every_import()
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_the_size_of_one_concept() -> None:
    sizes = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in _modules(ROOT, GRAPHED).items()
    }
    big = {module: n for module, n in sizes.items() if n > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_have_rooms(package: str) -> None:
    """Each package shows its subsystems as folders, each saying what it is for."""
    rooms = [p for p in (ROOT / package).iterdir() if (p / "__init__.py").exists()]
    assert len(rooms) >= 2, f"{package} has no subpackages"
    for room in rooms:
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{room.relative_to(ROOT)}/__init__.py does not say what the room is for"


@pytest.mark.parametrize("package", ["snapshot", "replay"])
def test_import_pulls_in_no_dask(package: str) -> None:
    code = (
        f"import json, sys; import {package}; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('dask', 'distributed', 'cluster_hook'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert json.loads(out.stdout) == []


def test_dependency_direction() -> None:
    graph = import_graph(ROOT, GRAPHED)

    def uses(package: str) -> set[str]:
        return {
            t.split(".")[0] for m, ts in graph.items() if m.split(".")[0] == package for t in ts
        }

    assert not uses("snapshot") & {"replay", "cluster_hook", "benchmarks"}
    assert not uses("replay") & {"cluster_hook", "benchmarks"}
    assert not uses("cluster_hook") & {"replay", "benchmarks"}
    # snapshot (the capture core included) never imports Dask, not even in a
    # function; replay may, to reach a live client, but not when imported.
    third = set()
    for path in (ROOT / "snapshot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                third.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                third.add(node.module.split(".")[0])
    assert not third & {"dask", "distributed"}


@pytest.mark.parametrize("package", PACKAGES)
def test_public_api_is_declared_and_sorted(package: str) -> None:
    module = __import__(package)
    exported = module.__all__
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    style = sorted(exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert exported == style, f"{package}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which is missing"
    assert (ROOT / package / "py.typed").exists()
