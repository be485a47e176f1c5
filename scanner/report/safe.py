"""Escaping of untrusted text (file names, rule output) for a terminal."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """``text`` with control and format characters shown as escapes (no terminal injection)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Cc"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)
