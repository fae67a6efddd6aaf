"""``replay._sources.compiling.compile_text``: the code ``compile()`` makes, and nothing runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from replay._sources.compiling import compile_text
from snapshot import code_objects, code_sha256

# Annotations under the future import are strings: compiled without it (inherited
# from the caller, as ``exec`` does), the outer function's bytecode would differ.
TEXT = textwrap.dedent(
    '''\
    """A module."""
    from __future__ import annotations
    import sys
    sys.RAN_THE_TEXT = True

    def outer(x: int) -> list[int]:
        def inner(y: dict[str, int]) -> None:
            return None
        return [x]

    class Thing:
        size: int = 3
        def method(self, z: Thing) -> Thing:
            return z
    '''
)


def _hashes(module: object) -> dict[tuple[str, int], str]:
    return {(c.co_name, c.co_firstlineno): code_sha256(c) for c in code_objects(module)}


def test_compile_text_gives_the_code_compile_gives_and_runs_none_of_it() -> None:
    module = compile_text(TEXT, "thing.py")
    assert module is not None
    expected = compile(TEXT, "thing.py", "exec", dont_inherit=True)
    assert _hashes(module) == _hashes(expected)
    assert {"outer", "inner", "Thing", "method"} <= {name for name, _ in _hashes(module)}
    assert not hasattr(sys, "RAN_THE_TEXT")


def test_compile_text_refuses_what_compile_refuses() -> None:
    texts = {
        "syntax": "def f(:\n",
        "nul": "x = 1\0\n",
        "surrogate": "x = '\ud800'\n",
        "deep": "x = " + "(" * 1000 + ")" * 1000 + "\n",
        "cookie": "# -*- coding: latin-1 -*-\nx = 'é'\n",
        "fine": "x = 1\n",
    }
    for name, text in texts.items():
        try:
            compile(text, name, "exec", dont_inherit=True)
            compiles = True
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            compiles = False
        assert (compile_text(text, name) is not None) == compiles, name
    assert compile_text("def f(:\n", "bad.py") is None
    assert compile_text("x = 1\n", "ok.py") is not None


def test_compile_text_leaves_the_trace_function_as_it_was() -> None:
    calls: list[str] = []

    def tracer(frame: object, event: str, arg: object) -> None:
        calls.append(event)

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        assert compile_text("y = 2\n", "y.py") is not None
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


def test_a_text_that_would_write_a_file_writes_none(tmp_path: object) -> None:
    # In a fresh interpreter (the first call there also tries the stop on an empty text).
    marker = f"{tmp_path}/ran"
    child = textwrap.dedent(
        f"""
        from replay._sources.compiling import compile_text
        code = compile_text("open({marker!r}, 'w').write('ran')\\n", "w.py")
        print(code is not None)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
    assert not os.path.exists(marker)
