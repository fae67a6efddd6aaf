"""Which debugger a replay opens: --debugger, PYTHONBREAKPOINT, and missing ones named."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from replay import DebuggerUnavailableError
from replay._run.choose import resolve_debugger


def test_pdb_is_the_default() -> None:
    debugger = resolve_debugger(None, environ={})
    assert debugger is not None and debugger.name == "pdb"


@pytest.mark.parametrize(
    ("hook", "name"),
    [
        ("pdb.set_trace", "pdb"),
        ("ipdb.set_trace", "ipdb"),
        ("pudb.set_trace", "pudb"),
        ("debugpy.breakpoint", "debugpy"),
    ],
)
def test_pythonbreakpoint_names_the_debugger(hook: str, name: str) -> None:
    debugger = resolve_debugger(None, environ={"PYTHONBREAKPOINT": hook})
    assert debugger is not None and debugger.name == name


def test_pythonbreakpoint_0_disables_and_an_explicit_choice_wins() -> None:
    assert resolve_debugger(None, environ={"PYTHONBREAKPOINT": "0"}) is None
    chosen = resolve_debugger("pdb", environ={"PYTHONBREAKPOINT": "0"})
    assert chosen is not None and chosen.name == "pdb"


def test_another_hook_is_used_through_its_post_mortem() -> None:
    debugger = resolve_debugger(None, environ={"PYTHONBREAKPOINT": "pdb.Pdb"})
    assert debugger is not None and debugger.post_mortem is not None
    with pytest.raises(DebuggerUnavailableError, match="without post_mortem"):
        resolve_debugger(None, environ={"PYTHONBREAKPOINT": "json.dumps"})


def test_debugpy_attaches_instead_of_post_mortem() -> None:
    debugger = resolve_debugger("debugpy", environ={})
    assert debugger is not None
    assert debugger.attaches and debugger.post_mortem is None


def test_a_debugpy_too_old_to_stop_at_the_raise_is_refused(monkeypatch) -> None:
    # A debugpy before 1.8.22: importable, without trigger_exception_handler.
    old = types.ModuleType("debugpy")
    old.__spec__ = importlib.util.find_spec("debugpy")
    old.__version__ = "1.8.0"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "debugpy", old)
    with pytest.raises(
        DebuggerUnavailableError, match=r"debugpy 1\.8\.0 is too old.*pip install -U"
    ):
        resolve_debugger("debugpy", environ={})


@pytest.mark.parametrize("name", ["ipdb", "pudb", "debugpy"])
def test_a_missing_debugger_names_the_package(name: str, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, name, None)  # "cannot be imported"
    with pytest.raises(DebuggerUnavailableError, match=f"pip install {name}"):
        resolve_debugger(name, environ={})


def test_an_unknown_debugger_is_refused() -> None:
    with pytest.raises(DebuggerUnavailableError, match="unknown debugger 'gdb'"):
        resolve_debugger("gdb", environ={})
