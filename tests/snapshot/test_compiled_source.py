"""snapshot.CompiledSource: the one compile-and-match check of a text against code that ran."""

from __future__ import annotations

import snapshot
from snapshot._codehash import code_objects, code_sha256

TEXT = """def f(x):
    return x + 1


def g(x):
    def f(y):
        return y * 2

    return f(x)


def other():
    pass
"""


def _code(name: str, first: int) -> str:
    module = compile(TEXT, "/m.py", "exec", dont_inherit=True)
    (code,) = [c for c in code_objects(module) if c.co_name == name and c.co_firstlineno == first]
    return code_sha256(code)


def test_by_hash_at_its_first_line_and_by_lines_without_one() -> None:
    compiled = snapshot.CompiledSource(TEXT, "/m.py")
    assert compiled.compiles and compiled.names() == {"<module>", "f", "g", "other"}
    inner = _code("f", 6)
    assert compiled.defines("f", 6, inner) and compiled.first_lines("f", inner) == [6]
    assert not compiled.defines("f", 1, inner)  # the same name, other code
    assert not compiled.defines("f", 6, _code("f", 1))
    assert compiled.runs("f", 6, 7) and compiled.runs("f", None, 2)
    assert not compiled.runs("f", 1, 7)
    edited = snapshot.CompiledSource(TEXT.replace("y * 2", "y * 3"), "/m.py")
    assert not edited.defines("f", 6, inner) and edited.runs("f", 6, 7)
    assert not snapshot.CompiledSource("def (:", "/m.py").compiles


def test_only_the_code_asked_about_is_hashed_and_only_once() -> None:
    compiled = snapshot.CompiledSource(TEXT, "/m.py")
    sha = _code("g", 5)
    for _ in range(900):  # a recursion's frames: one hash
        assert compiled.defines("g", 5, sha)
    assert len(compiled._hashes) == 1
