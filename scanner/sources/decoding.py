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
it, at every level).

Only spans around lines where a credential word occurs are decoded: decoding
every run of every file would cost more than the whole scan. Those lines come
from the engine's own prefilter pass (two markers, see ``MARKERS``): the
credential words, and a *gate*, a superset of the lines of such a span that can
hold an encoded run at all. Most spans hold none ("key", "pass" and "auth" are
everywhere in code), so they cost no Python work.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from array import array
from collections.abc import Iterator, Sequence
from urllib.parse import unquote

from ..detect.prefilter import Prefilter, literal
from ..model import Chunk
from ..record import replace

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

_RUN = "[A-Za-z0-9+/_-]"  # the base64 alphabets (hex digits included), as in _B64
_RUN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"


def _repeat(count: int) -> str:
    return f"{_RUN}{{{count}}}" if count > 0 else ""


def _overlapping(word: str) -> list[str]:
    """Windows of MIN_B64 run characters that share characters with ``word``. A run is
    maximal, so one that overlaps a word of run characters holds all of it; with other
    characters in the word ("://"), it holds the word's run-character head or tail."""
    lit = literal(word)
    if not word.strip(_RUN_CHARS):
        return [_repeat(a) + lit + _repeat(MIN_B64 - len(word) - a) for a in range(max(MIN_B64 - len(word), 0) + 1)]
    head = len(word) - len(word.lstrip(_RUN_CHARS))
    tail = len(word) - len(word.rstrip(_RUN_CHARS))
    return ([lit + _repeat(MIN_B64 - tail)] if tail else []) + ([_repeat(MIN_B64 - head) + lit] if head else [])


def _markers() -> tuple[str, str]:
    """Hyperscan patterns (matched case-insensitively) for the engine's prefilter pass: the
    context lines, and the gate. A span (a context line and the next) can hold a candidate
    only if a gate line falls in it: a base64 or hex candidate is a run of at least MIN_B64
    run characters, so on the context line it lies before, after or around the context word,
    or on the next line after it; a percent candidate holds an escape."""
    words = "(?:" + "|".join(literal(w) for w in CONTEXT_WORDS) + ")"
    gate = [
        words + "[^\\n]*\\n?[^\\n]*" + _repeat(MIN_B64),
        _repeat(MIN_B64) + "[^\\n]*" + words,
        *(window for w in CONTEXT_WORDS for window in _overlapping(w)),
        "%[0-9A-Fa-f]{2}",
    ]
    return words, "|".join(gate)


MARKERS = _markers()  # give these to the RuleSet; scan_chunk then feeds a ContextLines

# stdlib `re` here: these simple classes run several times faster than in `regex`
_B64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_-]{%d,}={0,2}(?![A-Za-z0-9+/_\-=])" % MIN_B64)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){16,}(?![0-9A-Fa-f])")
_PCT = re.compile(r"(?<![\w.~+%/:=&?-])(?:[\w.~+/:=&?-]*%[0-9A-Fa-f]{2}){3,}[\w.~+/:=&?-]*")


class ContextLines:
    """The spans to decode in one chunk, built as the engine's prefilter batches come
    (a :class:`~scanner.detect.prefilter.MarkSink` for the ``MARKERS``): each context line
    with the line after it (a YAML/JSON key often has its value there), taken in order, a
    line already inside the previous span starting none. Only spans a gate line falls in
    are kept. ``unknown``: the batches had no marker lines (no Hyperscan)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []
        self.unknown = False
        self._done_until = -1
        self._open: tuple[int, int] | None = None  # its next line's gate report may still come

    def add(self, marks: tuple[array[int], ...] | None, upto: int) -> None:
        if not marks:
            self.unknown = True
            return
        context, gates = marks
        last = upto > len(self.text)
        if not gates and self._open is None and last:
            return  # the last batch, and nothing in it that could decode
        if last and self._done_until < 0 and self._open is None:  # no span so far: only those that can hold a gate line
            context = context[_run_start(self.text, context, gates[0]) : bisect.bisect_right(context, gates[-1])]
        spans, self._done_until = _line_spans(self.text, context, self._done_until)
        if self._open is not None:
            spans.insert(0, self._open)
            self._open = None
        for start, end in spans:
            i = bisect.bisect_left(gates, start)
            if i < len(gates) and gates[i] <= end:
                self.spans.append((start, end))
            elif end >= upto:
                self._open = (start, end)


class Decoder:
    """Finds and decodes encoded runs on credential-context lines of a chunk."""

    def __init__(self, max_depth: int = DEFAULT_DEPTH) -> None:
        self.max_depth = max_depth
        self._context: Prefilter | None = None  # context words, when the engine's pass has no markers
        # span text -> its encoded runs; history repeats the same lines blob after blob
        self._cache: dict[str, tuple[tuple[str, int, str, str], ...]] = {}
        self._cached_chars = 0
        self.truncated = False  # the last chunks() call stopped at a limit (MAX_PER_CHUNK, MAX_DERIVED)

    def chunks(self, chunk: Chunk, context: ContextLines | None = None) -> Iterator[tuple[Chunk, str]]:
        """(derived chunk, encoded run) for every encoded run, recursively to ``max_depth`` levels.
        ``context``: the chunk's spans from the engine's pass (else found here)."""
        self.truncated = False
        budget = [MAX_DERIVED]
        if chunk.decoded is None:
            spans = context.spans if context is not None and not context.unknown else self._spans(chunk.text)
            if spans:
                yield from self._level(chunk, spans, 0, budget)
        else:
            yield from self._level(chunk, [(0, len(chunk.text))], chunk.decoded.count("+") + 1, budget)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        if self._context is None:
            self._context = Prefilter([CONTEXT_WORDS])
        return _line_spans(text, [end for _kid, end in self._context.hits(text)], -1)[0]

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


def _line_spans(text: str, line_ends: Sequence[int], done_until: int) -> tuple[list[tuple[int, int]], int]:
    """The spans of the context lines ending at ``line_ends`` (ascending, repeats allowed) that
    start after ``done_until``, and where the last of them ends."""
    spans: list[tuple[int, int]] = []
    rfind, find = text.rfind, text.find
    for line_end in line_ends:
        if line_end <= done_until:
            continue
        start = rfind("\n", 0, line_end) + 1
        # the span runs to the end of the next line: a YAML/JSON key often has its value there
        end = find("\n", line_end + 1) if line_end < len(text) else -1
        done_until = end if end != -1 else len(text)
        spans.append((start, done_until))
    return spans, done_until


def _run_start(text: str, line_ends: Sequence[int], gate: int) -> int:
    """Index in ``line_ends`` (context lines, one per line, ascending) where taking spans may
    start and still find those ``_line_spans`` finds for the lines from ``gate``'s line on:
    the first of a run of consecutive context lines. A context line right after one that is
    not starts a span whatever came before it."""
    i = bisect.bisect_left(line_ends, text.rfind("\n", 0, gate))  # from the line before the gate's
    while 0 < i < len(line_ends) and line_ends[i - 1] == text.rfind("\n", 0, line_ends[i]):
        i -= 1
    return i


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
