"""Jupyter notebooks: scan cell sources and text outputs, mapped to real file lines.

Secrets inside a notebook's JSON are escaped strings; scanning the raw JSON
would see ``\\"`` and ``\\n`` and report wrong lines. Each cell's source (and
each text output) becomes its own Chunk whose lines map back to the line of
the ``.ipynb`` file holding that JSON string. Image outputs are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..model import Chunk

TEXT_MIME = ("text/plain", "text/markdown", "text/html", "application/json", "text/x-python")


def notebook_chunks(path: str, raw: str, **chunk_args: Any) -> list[Chunk] | None:
    """Chunks of the notebook's cells, or None if ``raw`` is not a notebook."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None
    locator = _Locator(raw)
    chunks: list[Chunk] = []
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            continue
        for lines in _texts(cell):
            if not lines:
                continue
            mapping = tuple(locator.find(line) for line in lines)
            chunks.append(Chunk(path=path, text="".join(lines), line_map=mapping, **chunk_args))
    return chunks


def _as_lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines(keepends=True)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        # an element without a trailing newline continues on the next element
        return "".join(value).splitlines(keepends=True)
    return []


def _texts(cell: dict[str, Any]) -> Iterator[list[str]]:
    """The cell's source and output texts in the order the file holds them: the locator only
    moves forward, and Jupyter writes keys sorted ("outputs" before "source")."""
    for key, value in cell.items():
        if key == "source":
            yield _as_lines(value)
        elif key == "outputs":
            yield from _output_texts(value)


def _output_texts(outputs: Any) -> Iterator[list[str]]:
    if not isinstance(outputs, list):
        return
    for output in outputs:
        if not isinstance(output, dict):
            continue
        for key, value in output.items():  # in file order too
            if key == "text":
                yield _as_lines(value)
            elif key == "data" and isinstance(value, dict):
                for mime, text in value.items():
                    if mime in TEXT_MIME:  # image/* and other binary payloads are skipped
                        yield _as_lines(text)


class _Locator:
    """Finds the file line holding each JSON-encoded string, moving forward only."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.pos = 0

    def find(self, line: str) -> int:
        for encoded in (json.dumps(line, ensure_ascii=False), json.dumps(line)):
            for needle in (encoded, encoded[:-1]):  # whole string, or a line of a longer string
                idx = self.raw.find(needle, self.pos)
                if idx != -1:
                    self.pos = idx + 1
                    return self.raw.count("\n", 0, idx) + 1
        return self.raw.count("\n", 0, self.pos) + 1
