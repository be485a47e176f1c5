"""Encoded secrets: base64, hex and percent-encoded runs decoded into derived Chunks.

A Kubernetes Secret, a Basic-auth blob or a config value may hold a token in
base64 or hex. Each encoded run that decodes to printable text becomes a new
Chunk pointing at the line of the run, with the text before the run on that
line kept in front (so ``password: <decoded>`` still has its context).
Decoding is bounded: runs of at most ``MAX_RUN`` characters, at most
``MAX_PER_CHUNK`` derived chunks per chunk, ``MAX_DERIVED`` per scanned chunk
over all levels, and ``max_depth`` levels. A derived chunk keeps at most
``MAX_PREFIX`` characters of context, and the next level decodes only its
decoded part, never that context again: work stays linear in the input (a line
of many encoded runs would otherwise be decoded and scanned once per run before
it, at every level). Only lines where a credential word occurs are decoded
(found in one C pass by a small keyword prefilter): decoding every run of every
file would cost more than the whole scan.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import unquote

from ..detect.prefilter import Prefilter
from ..model import Chunk

CONTEXT_WORDS = (
    "secret", "token", "pass", "pwd", "key", "auth", "cred", "basic", "bearer", "private",
    "dockerconfigjson", "connection", "dsn", "://", "session", "cookie",
)

MIN_B64 = 20
MAX_RUN = 16384
MAX_PER_CHUNK = 256
MAX_DERIVED = 2048
MAX_PREFIX = 256
CACHE_LIMIT = 50_000
MAX_CACHED_SPAN = 8192
CACHE_CHARS = 32 * 1024 * 1024
DEFAULT_DEPTH = 2

# stdlib `re` here: these simple classes run several times faster than in `regex`
_B64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_-]{%d,}={0,2}(?![A-Za-z0-9+/_\-=])" % MIN_B64)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){16,}(?![0-9A-Fa-f])")
_PCT = re.compile(r"(?<![\w.~+%/:=&?-])(?:[\w.~+/:=&?-]*%[0-9A-Fa-f]{2}){3,}[\w.~+/:=&?-]*")


class Decoder:
    """Finds and decodes encoded runs on credential-context lines of a chunk."""

    def __init__(self, max_depth: int = DEFAULT_DEPTH) -> None:
        self.max_depth = max_depth
        self._context = Prefilter([CONTEXT_WORDS])
        # span text -> its encoded runs; history repeats the same lines blob after blob
        self._cache: dict[str, tuple[tuple[str, int, str, str], ...]] = {}
        self._cached_chars = 0
        self.truncated = False  # the last chunks() call stopped at a limit (MAX_PER_CHUNK, MAX_DERIVED)

    def chunks(self, chunk: Chunk) -> Iterator[tuple[Chunk, str]]:
        """(derived chunk, encoded run) for every encoded run, recursively to ``max_depth`` levels."""
        self.truncated = False
        budget = [MAX_DERIVED]
        if chunk.decoded is None:
            hits = self._context.candidates(chunk.text).get(0)
            if not hits:
                return
            yield from self._level(chunk, _line_spans(chunk.text, hits), 0, budget)
        else:
            yield from self._level(chunk, [(0, len(chunk.text))], chunk.decoded.count("+") + 1, budget)

    def _level(
        self, chunk: Chunk, spans: list[tuple[int, int]], depth: int, budget: list[int]
    ) -> Iterator[tuple[Chunk, str]]:
        if depth >= self.max_depth:
            return
        produced = 0
        lines = _LineCounter(chunk.text)
        for kind, start, run, decoded in self._candidates(chunk.text, spans):
            if budget[0] <= 0 or produced >= MAX_PER_CHUNK:
                self.truncated = True
                return
            budget[0] -= 1
            produced += 1
            derived, skip = _derive(chunk, kind, start, decoded, lines)
            yield derived, run
            yield from self._level(derived, [(skip, len(derived.text))], depth + 1, budget)

    def _candidates(self, text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[str, int, str, str]]:
        for begin, end in spans:
            piece = text[begin:end]
            found = self._cache.get(piece) if len(piece) <= MAX_CACHED_SPAN else None
            if found is None:
                found = tuple(_span_candidates(piece, 0, len(piece)))
                if len(piece) <= MAX_CACHED_SPAN:  # the cache must not hold big texts
                    if len(self._cache) >= CACHE_LIMIT or self._cached_chars >= CACHE_CHARS:
                        self._cache.clear()
                        self._cached_chars = 0
                    self._cache[piece] = found
                    self._cached_chars += 2 * len(piece)  # the span and (at most) its decoded runs
            for kind, start, run, decoded in found:
                yield kind, start + begin, run, decoded


def _derive(chunk: Chunk, kind: str, start: int, decoded: str, lines: _LineCounter) -> tuple[Chunk, int]:
    """The derived chunk of one run (the text before the run on its line, at most
    ``MAX_PREFIX`` characters, then the decoded text), and where its decoded part starts."""
    text = chunk.text
    window = max(0, start - MAX_PREFIX)
    newline = text.rfind("\n", window, start)
    prefix = text[newline + 1 if newline != -1 or window == 0 else window : start]
    if newline == -1 and window > 0:  # the line goes on further back: cut at a space, not in a word
        cut = next((i for i, c in enumerate(prefix) if c.isspace()), -1)
        prefix = prefix[cut + 1 :]
    real = chunk.real_line(lines.line_of(start))
    label = kind if not chunk.decoded else f"{chunk.decoded}+{kind}"
    derived = replace(
        chunk,
        text=prefix + decoded,
        line_map=tuple([real] * (decoded.count("\n") + 1)),
        decoded=label,
        base_line=0,
    )
    return derived, len(prefix)


class _LineCounter:
    """1-based line of an offset, counting newlines from the last offset asked about (runs come
    mostly in order: no recount from the start of a big text for every run)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def line_of(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _line_spans(text: str, hits: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    done_until = -1
    for hit in sorted(hits):
        if hit <= done_until:
            continue
        start = text.rfind("\n", 0, hit) + 1
        # the span runs to the end of the next line: a YAML/JSON key often has its value there
        end = text.find("\n", hit)
        if end != -1:
            end = text.find("\n", end + 1)
        if end == -1:
            end = len(text)
        spans.append((start, end))
        done_until = end
    return spans


def _span_candidates(text: str, begin: int, end: int) -> Iterator[tuple[str, int, str, str]]:
    for m in _B64.finditer(text, begin, end):
        run = m.group(0)
        if len(run) > MAX_RUN or _looks_like_identifier(run):
            continue
        decoded = _b64(run)
        if decoded is not None:
            yield "base64", m.start(), run, decoded
    for m in _HEX.finditer(text, begin, end):
        run = m.group(0)
        if len(run) > MAX_RUN:
            continue
        decoded = _printable(binascii.unhexlify(run))
        if decoded is not None:
            yield "hex", m.start(), run, decoded
    if "%" in text[begin:end]:
        for m in _PCT.finditer(text, begin, end):
            run = m.group(0)
            if len(run) > MAX_RUN:
                continue
            decoded = unquote(run, errors="strict") if _valid_pct(run) else None
            if decoded and decoded != run:
                yield "percent", m.start(), run, decoded


def _looks_like_identifier(run: str) -> bool:
    """Words, paths and snake_case names are not base64 worth decoding."""
    if "/" in run and run.count("/") > len(run) // 8:
        return True
    has_digit = any(c.isdigit() for c in run)
    has_upper = any(c.isupper() for c in run)
    has_lower = any(c.islower() for c in run)
    return not (has_lower and (has_upper or has_digit))


def _b64(run: str) -> str | None:
    body = run.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _printable(raw: bytes) -> str | None:
    if len(raw) < 8:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    good = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return text if good >= 0.95 * len(text) else None


def _valid_pct(run: str) -> bool:
    try:
        unquote(run, errors="strict")
    except UnicodeDecodeError:
        return False
    return True
