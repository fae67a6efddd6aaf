"""How a pickle spells the names it imports: string arguments and Python 2 names.

Decoding helpers of the import scan (:mod:`snapshot._read.opcodes`): what a
``STRING``/``UNICODE`` argument decodes to, and which module ``find_class``
would import for a name written by protocols 0-2 (``fix_imports``).
"""

from __future__ import annotations

import codecs


def decode_name(raw: bytes) -> str | None:
    """A name's bytes as text (lone surrogates kept), or None if they are not UTF-8."""
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def string_literal(line: bytes) -> bytes | None:
    """A protocol 0 ``STRING`` argument: a quoted, backslash-escaped literal."""
    if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
        try:
            decoded: bytes = codecs.escape_decode(line[1:-1])[0]
            return decoded
        except ValueError:
            return None
    return None


def imported_module(module: str, name: str, proto: int) -> str:
    """The module ``find_class`` imports: protocols 0-2 map Python 2 names (fix_imports)."""
    if proto >= 3:
        return module
    from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

    if (module, name) in NAME_MAPPING:
        return str(NAME_MAPPING[(module, name)][0])
    return str(IMPORT_MAPPING.get(module, module))
