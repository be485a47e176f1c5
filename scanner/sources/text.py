"""Bytes -> text for scanning: BOMs, binary sniffing, undecodable bytes."""

from __future__ import annotations

import codecs

SNIFF_BYTES = 8192

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> str | None:
    """The text of ``data``, or None when it is binary.

    A BOM decides the encoding (UTF-8/16/32); otherwise a NUL byte in the first
    8 KiB means binary; otherwise UTF-8, with undecodable bytes replaced (so
    ASCII tokens around them are still found and columns stay per character).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    if data.find(b"\0", 0, SNIFF_BYTES) != -1:
        return None
    return data.decode("utf-8", "replace")
