"""A piece unpickles with the cyclic collector paused, and leaves it as it found it."""

from __future__ import annotations

import gc
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from snapshot._read.refs import loads


class Witness:
    """Notes whether the collector ran while it was being unpickled."""

    seen: list[bool] = []

    def __getstate__(self) -> int:
        return 1

    def __setstate__(self, state: Any) -> None:
        Witness.seen.append(gc.isenabled())


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    Witness.seen = []
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("collector")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_unpickling_and_restored(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    value = loads(bytearray(pickle.dumps([Witness(), {"k": 1}], protocol=5)), [], str)
    assert isinstance(value[0], Witness) and value[1] == {"k": 1}
    assert Witness.seen == [False]
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector")
def test_a_nested_load_leaves_it_paused_and_a_failure_restores_it() -> None:
    gc.enable()
    inner = pickle.dumps(Witness(), protocol=5)

    def resolve(pid: str) -> Any:
        value = loads(inner, [], resolve)
        Witness.seen.append(gc.isenabled())  # back in the outer load: still paused
        return value

    class Outer(pickle.Pickler):
        def persistent_id(self, obj: Any) -> str | None:
            return "p1" if obj == "ref" else None

    import io

    buffer = io.BytesIO()
    Outer(buffer, protocol=5).dump(["ref"])
    assert len(loads(buffer.getvalue(), [], resolve)) == 1
    assert Witness.seen == [False, False]
    assert gc.isenabled()
    with pytest.raises(pickle.UnpicklingError):
        loads(b"\x80\x05X", [], str)  # truncated
    assert gc.isenabled()
