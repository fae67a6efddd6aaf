"""Compiling a captured file's text to check it, without ``compile()``'s first-call cost.

CPython's ``compile()`` first asks whether its argument is an ``ast.AST``
(``Python/bltinmodule.c``, ``builtin_compile_impl``: ``PyAST_Check``), and the
first such question in a process builds the ``_ast`` module's hundred-odd
classes (``Python/Python-ast.c``, ``init_types``): 9.2 M instructions under
3.11, as much as all of ``info``'s own work on a small snapshot, spent to learn
that a string is not a tree.  ``exec`` of a string compiles it with the same
parser and compiler and does not ask.  :func:`compile_text` lets ``exec``
compile the text and stops it before the text's first instruction: a trace
function raises at the new frame's ``call`` event, which CPython sends before
the frame runs anything, and keeps the frame's code object.  Nothing of the
text runs.  Whether the stop works is tried once per process on an empty text;
where it does not (another interpreter), ``compile()`` is used.

This module has no ``from __future__ import annotations`` on purpose: ``exec``
compiles with the future flags of the frame that calls it, and the text must be
compiled with none (``compile(..., dont_inherit=True)``), as the worker did.
"""

import sys
import types

__all__ = ["compile_text"]

#: What compiling a text may raise (a syntax error, a NUL or a lone surrogate in it,
#: nesting too deep, a literal too large).
COMPILE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)


class _Stopped(BaseException):
    """Raised by the trace function: the text's frame ends before its first instruction."""


_works: list[bool] = []  # whether the stop works here: tried once


def compile_text(text: str, filename: str) -> "types.CodeType | None":
    """``compile(text, filename, "exec", dont_inherit=True)``, or None if it does not compile.

    The code objects' ``co_filename`` is ``"<string>"`` (not ``filename``) when
    the text was compiled by ``exec``: ``snapshot.code_sha256`` leaves file
    names out, and nothing here reads them.
    """
    if not _works:
        _works.append(_stopped_compile("") is not None)
    try:
        if _works[0]:
            return _stopped_compile(text)
        return compile(text, filename, "exec", dont_inherit=True)
    except COMPILE_ERRORS:
        return None


def _stopped_compile(text: str) -> "types.CodeType | None":
    """The module code ``exec`` compiles from ``text``, stopped as it starts (None if
    the trace function was not called: then nothing was stopped)."""
    found: list[types.CodeType] = []

    def stop(frame: types.FrameType, event: str, arg: object) -> None:
        found.append(frame.f_code)
        raise _Stopped

    previous = sys.gettrace()
    sys.settrace(stop)
    try:
        exec(text, {})  # stopped before its first instruction (see the module)
    except _Stopped:
        pass
    finally:
        sys.settrace(previous)
    return found[0] if found else None
