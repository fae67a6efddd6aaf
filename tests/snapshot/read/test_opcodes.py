"""``pickle_imports`` reads the modules a pickle imports from its opcodes, without running it.

The property test compares it with what unpickling really asks for: an
Unpickler whose ``find_class`` records every module it is asked to import.
"""

from __future__ import annotations

import _compat_pickle
import collections
import datetime
import decimal
import io
import pickle
import pickletools
from pathlib import Path
from typing import Any

import cloudpickle
import hypothesis
import pytest
from hypothesis import strategies as st
from strategies import payloads

from snapshot import SnapshotFormatError, pickle_imports


class _Recording(pickle.Unpickler):
    """Records what ``find_class`` imports: protocols 0-2 first map Python 2 names."""

    def __init__(self, data: bytes, buffers: list[Any], protocol: int) -> None:
        super().__init__(io.BytesIO(data), buffers=buffers)
        self.modules: set[str] = set()
        self.protocol = protocol

    def find_class(self, module: str, name: str) -> Any:
        if self.protocol < 3:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module = _compat_pickle.NAME_MAPPING[(module, name)][0]
            else:
                module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        self.modules.add(module)
        return super().find_class(module, name)


def imported_when_loading(data: bytes, buffers: list[Any], protocol: int = 5) -> set[str]:
    unpickler = _Recording(data, buffers, protocol)
    unpickler.load()
    return unpickler.modules


@hypothesis.given(payload=payloads, protocol=st.integers(2, 5), use_cloudpickle=st.booleans())
def test_matches_what_unpickling_imports(
    payload: Any, protocol: int, use_cloudpickle: bool
) -> None:
    buffers: list[Any] = []
    dumps = cloudpickle.dumps if use_cloudpickle else pickle.dumps
    try:
        data = dumps(
            payload,
            protocol=protocol,
            **({"buffer_callback": buffers.append} if protocol >= 5 else {}),
        )
    except (pickle.PicklingError, TypeError, AttributeError):
        hypothesis.reject()  # plain pickle cannot pickle lambdas
    assert pickle_imports(data) == imported_when_loading(data, buffers, protocol)


def test_protocols_and_the_memo() -> None:
    value = [collections.OrderedDict(a=1), collections.OrderedDict(b=2), decimal.Decimal("1.5")]
    for protocol in range(0, 6):
        data = pickle.dumps(value, protocol=protocol)
        assert pickle_imports(data) == {"collections", "decimal"}, protocol


def test_a_frame_between_module_and_name() -> None:
    # Protocol 4+ may start a new FRAME between the two strings of a STACK_GLOBAL.
    for n in range(65_400, 65_600):
        data = pickle.dumps([b"x" * n, datetime.date(2020, 1, 1)], protocol=5)
        assert pickle_imports(data) == {"datetime"}, n


def test_inst_opcode_is_reported_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = f"(S'{marker}'\nios\nmkdir\n.".encode()  # protocol 0: INST os mkdir
    assert pickle_imports(data) == {"os"}
    assert not marker.exists()


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"\x80\x05\x95", pickle.dumps([1, 2, 3])[:-1], b"\x80\x05\xff."],
    ids=["empty", "text", "cut-frame", "no-stop", "bad-opcode"],
)
def test_garbage_is_a_format_error(data: bytes) -> None:
    with pytest.raises(SnapshotFormatError):
        pickle_imports(data)


def test_the_table_knows_every_opcode_and_its_argument() -> None:
    """The scan's opcode table and pickletools agree: same opcodes, same argument sizes,
    same stack effects (an opcode the unpickler runs is never one the scan skips)."""
    from snapshot._read import opcode_table as t

    assert {op.code.encode("latin-1") for op in pickletools.opcodes} == set(t.TABLE)
    widths = {-2: 1, -3: 4, -4: 4, -5: 8}
    for op in pickletools.opcodes:
        kind, arg = t.TABLE[op.code.encode("latin-1")]
        n = op.arg.n if op.arg is not None else 0
        before = [s.name for s in op.stack_before]
        after = [s.name for s in op.stack_after]
        if kind in (t.PUSH, t.NOTHING, t.PROTO, t.EXT, t.PUT, t.GET):
            assert arg == n, op.name
        elif kind in (t.PUSH_LEN, t.STR_LEN, t.LONG4, t.BINSTRING):
            assert arg == widths[n], op.name
            assert (kind in (t.LONG4, t.BINSTRING)) == (n == -3), op.name  # signed lengths
        else:
            assert n in (0, -1), op.name  # none, or up to a newline
        if kind == t.POP_PUSH:
            assert (len(before), len(after)) == (arg, 1), op.name
        if kind == t.POP:
            assert len(before) - len(after) == arg, op.name
        if kind in (t.POP_TO_MARK, t.POP_TO_MARK_PUSH, t.POP_MARK, t.INST):
            assert "mark" in before, op.name
        if kind in (t.PUSH, t.PUSH_LEN, t.STR_LEN, t.LONG4, t.BINSTRING, t.GET, t.EXT):
            assert before == [] and len(after) == 1, op.name


def test_pickle_imports_is_stricter_than_the_scan() -> None:
    # STACK_GLOBAL whose module is the result of a call: the scan says it cannot know.
    data = b"\x80\x04\x8c\x08builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93."
    with pytest.raises(SnapshotFormatError, match="hides what it imports"):
        pickle_imports(data)


def test_a_prelude_of_memoized_strings_is_followed() -> None:
    """A writer's prelude (spec 5.3) puts strings in the memo before the object: a
    global whose module and name are fetched from there is still named."""
    from snapshot._write.plan import prelude

    body = b"\x80\x05h\x00h\x01\x93N\x85R."  # BINGET 0, BINGET 1, STACK_GLOBAL, None, REDUCE
    assert pickle_imports(prelude(("os", "system")) + body) == {"os"}
