"""Multi-pattern prefilter: which lines of a chunk can hold a match of which rules.

One pass over the chunk in C (Hyperscan when the platform has it) instead of one
substring search per keyword. Every entry is compiled as ``(?:entry)[^\\n]*$``
(multi-line ``$``), so Hyperscan reports it at most once per line, at the line's
end: a keyword repeated along a 50 MB line is one report, not millions, and no
caller has to search for line ends. Reports arrive in order of offset (Hyperscan
guarantees it) and are kept in compact arrays. A text longer than ``WINDOW``
characters is encoded and scanned piece by piece in streaming mode, each piece
handed over as its own :class:`Batch`, so memory follows the window, not the text.

Entries are the rules' keywords (literal, case-insensitive), the rules' own
``prefilter`` patterns, and *markers*: case-insensitive patterns that select no
rule but name lines another stage wants (the decoder's credential-context words),
found in the same pass. Without Hyperscan, a Python fallback does one ``find``
loop per distinct keyword on the lower-cased text; it cannot run patterns, so
marker lines are then unknown (``None``).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

try:  # pragma: no cover - depends on the platform's wheels
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None

WINDOW = 1 << 20  # characters per streaming write; a text up to this size is one block scan
_LINE_END = b"[^\\n]*$"  # with HS_FLAG_MULTILINE: on to the end of the line the entry's match ends on


class Batch:
    """Reports over a run of whole lines, in order of offset.

    ``ends[i]`` is the character offset where the line holding entry ``ids[i]``
    ends (its newline, or the end of the text); ``marks[m]`` lists the line ends
    where marker ``m`` occurs (None: unknown, no Hyperscan). Every report for a
    line ending before ``upto`` is in this batch or an earlier one.
    """

    __slots__ = ("ids", "ends", "marks", "upto")  # a plain class: no dataclass to build on the hook's path

    def __init__(self, ids: array[int], ends: array[int], marks: tuple[array[int], ...] | None, upto: int) -> None:
        self.ids = ids
        self.ends = ends
        self.marks = marks
        self.upto = upto


class MarkSink(Protocol):
    """Takes the marker lines of each batch of one scan, in order."""

    def add(self, marks: tuple[array[int], ...] | None, upto: int) -> None: ...


class Prefilter:
    """Entries are keywords (literal, case-insensitive) or, with Hyperscan, a rule's own
    ``prefilter`` pattern (a cheap regex that every match of the rule contains, used
    instead of its keywords when a keyword alone is too common: ``pat``, ``ac``, ``key``).
    Entry ids ``0 .. rule_entries - 1`` select rules (:meth:`rules_of`)."""

    def __init__(
        self,
        keywords_per_rule: Sequence[Sequence[str]],
        patterns_per_rule: Sequence[str | None] | None = None,
        cache_dir: Path | None = None,
        markers: Sequence[str] = (),
    ) -> None:
        patterns = list(patterns_per_rule) if patterns_per_rule is not None else [None] * len(keywords_per_rule)
        use_patterns = _hs is not None
        keyword_rules = [
            (i, ks) for i, ks in enumerate(keywords_per_rule) if not (use_patterns and patterns[i] is not None)
        ]
        self._keywords: list[str] = sorted({k for _i, ks in keyword_rules for k in ks})
        index = {k: i for i, k in enumerate(self._keywords)}
        self._rules_of: list[list[int]] = [[] for _ in self._keywords]
        for rule_idx, ks in keyword_rules:
            for k in ks:
                self._rules_of[index[k]].append(rule_idx)
        self._expressions = [_hs_literal(k) for k in self._keywords]
        self._flags = [_flag("HS_FLAG_CASELESS")] * len(self._expressions)
        if use_patterns:
            for rule_idx, pattern in enumerate(patterns):
                if pattern is not None:
                    self._expressions.append(pattern.encode("utf-8"))
                    self._flags.append(_flag("HS_FLAG_ALLOWEMPTY"))
                    self._rules_of.append([rule_idx])
        self.rule_entries = len(self._expressions)
        self.markers = len(markers) if use_patterns else 0
        for marker in markers if use_patterns else ():
            self._expressions.append(marker.encode("utf-8"))
            self._flags.append(_flag("HS_FLAG_CASELESS"))
        self._cache_dir = cache_dir
        self._dbs: dict[int, tuple[Any, Any]] = {}  # Hyperscan mode -> (database, scratch)
        if _hs is not None and self._expressions:
            self._database(_hs.HS_MODE_BLOCK)  # eagerly: a bad pattern fails here, not mid-scan

    @property
    def engine(self) -> str:
        return "hyperscan" if self._dbs else "python"

    def rules_of(self, entry_id: int) -> list[int]:
        return self._rules_of[entry_id]

    def scan(self, text: str) -> Iterator[Batch]:
        """The reports of ``text``, in batches of whole lines (one batch unless the text is long)."""
        if not self._dbs:
            yield self._python_batch(text)
        elif len(text) <= WINDOW:
            yield from self._scan_block(text)
        else:
            yield from self._scan_stream(text)

    def hits(self, text: str) -> list[tuple[int, int]]:
        """(entry id, end of its line) for every rule entry occurring in ``text``, one per line."""
        return [hit for batch in self.scan(text) for hit in zip(batch.ids, batch.ends)]

    # ------------------------------------------------------------ Hyperscan

    def _collector(self, stream: bool = False) -> tuple[array[int], array[int], tuple[array[int], ...], Any]:
        ids: array[int] = array("l")
        ends: array[int] = array("q")
        marks = tuple(array("q") for _ in range(self.markers))
        add_id, add_end, add_mark = ids.append, ends.append, [m.append for m in marks]
        first_marker = self.rule_entries

        def on_match(entry: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            if entry < first_marker:
                add_id(entry)
                add_end(to)
            else:
                add_mark[entry - first_marker](to)

        if not stream:
            return ids, ends, marks, on_match
        last = [-1] * len(self._expressions)

        def on_stream_match(entry: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            if last[entry] != to:  # closing a stream can report a `$` at its last newline again
                last[entry] = to
                on_match(entry, _from, to, _flags, _ctx)

        return ids, ends, marks, on_stream_match

    def _scan_block(self, text: str) -> Iterator[Batch]:
        db, scratch = self._database(_hs.HS_MODE_BLOCK)
        data = text.encode("utf-8", "surrogatepass")
        ids, ends, marks, on_match = self._collector()
        db.scan(data, match_event_handler=on_match, scratch=scratch)
        yield _batch(ids, ends, marks, data, 0, range(len(text)), len(text) + 1)

    def _scan_stream(self, text: str) -> Iterator[Batch]:
        """Pieces of about WINDOW characters, cut after a newline where the line allows: the
        reports of a piece's lines are then all delivered by the time its write returns
        (a zero-width ``$`` at the very end of a write waits for the next one)."""
        db, scratch = self._database(_hs.HS_MODE_STREAM)
        ids, ends, marks, on_match = self._collector(stream=True)
        start = byte_start = 0
        with db.stream(match_event_handler=on_match) as stream:
            while True:
                end = min(len(text), start + WINDOW)
                cut = text.rfind("\n", start, end) + 1
                if end < len(text) and cut > start:
                    end = cut
                data = text[start:end].encode("utf-8", "surrogatepass")
                stream.scan(data, scratch=scratch)
                if end == len(text):
                    break  # the last piece: what closing the stream reports belongs to it too
                yield _batch(ids[:], ends[:], tuple(m[:] for m in marks), data, byte_start, range(start, end), end)
                for taken in (ids, ends, *marks):
                    del taken[:]
                byte_start += len(data)
                start = end
        yield _batch(ids, ends, marks, data, byte_start, range(start, len(text)), len(text) + 1)

    def _database(self, mode: int) -> tuple[Any, Any]:
        found = self._dbs.get(mode)
        if found is None:
            expressions = [b"(?:" + e + b")" + _LINE_END for e in self._expressions]
            flags = [f | _hs.HS_FLAG_MULTILINE for f in self._flags]
            db: Any = _database(expressions, flags, mode, self._cache_dir)
            if db.scratch is None:  # loaded from the cache; python-hyperscan closes streams with this one
                db.scratch = _hs.Scratch(db)
            found = self._dbs[mode] = (db, db.scratch)
        return found

    # ------------------------------------------------------------ fallback

    def _python_batch(self, text: str) -> Batch:
        lowered = text.lower()
        found: set[tuple[int, int]] = set()
        for kid, keyword in enumerate(self._keywords):
            pos = lowered.find(keyword)
            while pos != -1:
                end = text.find("\n", pos + len(keyword))
                end = len(text) if end == -1 else end
                found.add((end, kid))
                pos = lowered.find(keyword, end)  # the rest of this line adds nothing
        ordered = sorted(found)
        return Batch(array("l", (k for _e, k in ordered)), array("q", (e for e, _k in ordered)), None, len(text) + 1)


def _flag(name: str) -> int:
    return int(getattr(_hs, name)) if _hs is not None else 0


_CONTINUATION = bytes(range(0x80, 0xC0))


def _batch(
    ids: array[int], ends: array[int], marks: tuple[array[int], ...], data: bytes, byte_start: int, chars: range, upto: int
) -> Batch:
    """A batch with its byte offsets made character offsets (the last piece scanned was ``data``:
    the characters ``chars`` of the text, from byte ``byte_start`` of the stream)."""
    if len(data) != len(chars):
        to_char = _char_offsets(sorted({*ends, *(o for m in marks for o in m)}), data, byte_start, chars.start)
        return Batch(ids, array("q", map(to_char.__getitem__, ends)), tuple(array("q", map(to_char.__getitem__, m)) for m in marks), upto)
    shift = chars.start - byte_start  # one byte per character
    if shift:
        ends, marks = _shifted(ends, shift), tuple(_shifted(m, shift) for m in marks)
    return Batch(ids, ends, marks, upto)


def _shifted(offsets: array[int], shift: int) -> array[int]:
    return array("q", (o + shift for o in offsets))


def _char_offsets(offsets: list[int], data: bytes, byte_start: int, char_start: int) -> dict[int, int]:
    """Byte offsets (ascending, within ``data``, the piece that starts at byte ``byte_start``
    and character ``char_start``) -> character offsets: count the bytes that start a character
    (UTF-8 continuation bytes do not)."""
    out: dict[int, int] = {}
    prev_byte, prev_char = 0, char_start
    for offset in offsets:
        local = offset - byte_start
        prev_char += len(data[prev_byte:local].translate(None, _CONTINUATION))
        prev_byte = local
        out[offset] = prev_char
    return out


def _database(expressions: list[bytes], flags: list[int], mode: int, cache_dir: Path | None) -> object:
    """Compile the Hyperscan database, or load it from the cache (tens of ms saved per run).

    The cache key covers the expressions, flags, mode, Hyperscan's version and the
    machine; a missing, corrupt or unwritable cache means compiling again.
    """
    from ..digest import sha256  # not hashlib: its OpenSSL binding costs the hook ~3 ms to import

    key = sha256(
        repr((expressions, flags, mode, getattr(_hs, "__version__", ""), os.uname().machine if hasattr(os, "uname") else "")).encode()
    ).hexdigest()[:40]
    path = cache_dir / f"prefilter-{key}.hsdb" if cache_dir is not None else None
    if path is not None:
        try:
            return _hs.loadb(path.read_bytes(), mode)
        except Exception:  # noqa: BLE001 - missing or corrupt cache: compile instead
            pass
    db = _hs.Database(mode=mode)
    db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags)
    if path is not None:
        try:
            from ..atomic import write_atomic

            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(path, _hs.dumpb(db), mode=0o600)
        except OSError:
            pass
    return db


def check_pattern(pattern: str) -> str | None:
    """Why Hyperscan cannot compile ``pattern`` as an entry (None when it can, or without Hyperscan)."""
    if _hs is None:
        return None
    expression = b"(?:" + pattern.encode("utf-8") + b")" + _LINE_END
    try:
        _hs.Database(mode=_hs.HS_MODE_BLOCK).compile(
            expressions=[expression], ids=[0], elements=1, flags=[_hs.HS_FLAG_ALLOWEMPTY | _hs.HS_FLAG_MULTILINE]
        )
    except Exception as exc:  # noqa: BLE001 - hyperscan raises its own error type
        return str(exc)
    return None


def literal(word: str) -> str:
    """``word`` as a Hyperscan expression matching it literally (for markers)."""
    return _hs_literal(word).decode("ascii")


def _hs_literal(keyword: str) -> bytes:
    """Every byte as ``\\xNN`` (built with ``bytes.hex``: hundreds of keywords on every run)."""
    data = keyword.encode("utf-8")
    return b"\\x" + data.hex(":").replace(":", "\\x").encode("ascii") if data else b""
