"""``pickle_imports`` reads the modules a pickle imports from its opcodes, without running it.

The property test compares it with what unpickling really asks for: an
Unpickler whose ``find_class`` records every module it is asked to import.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import io
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import hypothesis
import pytest
from hypothesis import strategies as st
from strategies import payloads

from snapshot import SnapshotFormatError, pickle_imports


class _Recording(pickle.Unpickler):
    def __init__(self, data: bytes, buffers: list[Any]) -> None:
        super().__init__(io.BytesIO(data), buffers=buffers)
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return super().find_class(module, name)


def imported_when_loading(data: bytes, buffers: list[Any]) -> set[str]:
    unpickler = _Recording(data, buffers)
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
    assert pickle_imports(data) == imported_when_loading(data, buffers)


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
