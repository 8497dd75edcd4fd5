"""User-supplied text made safe for a terminal: no control sequences, no rich markup.

File names, exception messages, pipeline references and class names come from the user's
machine. A name holding ``ESC[2J`` would clear the screen, an OSC sequence would retitle the
window, ``[/]`` would crash rich's markup parser. :func:`visible` writes every such character as a
visible escape (``\\x1b``); the terminal renderer then prints the result as plain ``Text``, never
as markup. No dependency: the CLI imports this before any heavy library.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls (ESC included), the bidirectional overrides that reorder what a
# reader sees, and lone surrogates (bytes of an undecodable file name, os.fsdecode's escapes).
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
# The same in a whole rendered page (Markdown, HTML), whose own line breaks and tabs are layout.
_UNSAFE_IN_PAGE = re.compile(f"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte of the file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``str(text)`` with every control character written as a visible escape."""
    return _UNSAFE.sub(_escape, str(text))


def visible_page(text: str) -> str:
    """A rendered report page (Markdown, HTML) with every control character of its data written
    as a visible escape, its line breaks and tabs kept: ``cat report.md`` in a CI log runs no
    escape sequence that a file name or an exception message carried."""
    return _UNSAFE_IN_PAGE.sub(_escape, text)


def visible_data(value: Any) -> Any:
    """:func:`visible` applied to every string (keys too) of plain data (dicts, lists, scalars)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible_data(k): visible_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible_data(v) for v in value]
    return value
