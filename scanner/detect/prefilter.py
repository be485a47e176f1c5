"""Multi-pattern keyword prefilter: which rules can possibly match a chunk.

One pass over the chunk in C (Hyperscan when the platform has it), instead of
one substring search per keyword. Without Hyperscan, a Python fallback does one
``in`` test per distinct keyword on the lower-cased text (still C loops).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from pathlib import Path

try:  # pragma: no cover - depends on the platform's wheels
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None


class Prefilter:
    """Entries are keywords (literal, case-insensitive) or, with Hyperscan, a rule's own
    ``prefilter`` pattern (a cheap regex that every match of the rule contains, used
    instead of its keywords when a keyword alone is too common: ``pat``, ``ac``, ``key``).
    A hit is (entry id, offset just past the entry's match)."""

    def __init__(
        self,
        keywords_per_rule: Sequence[Sequence[str]],
        patterns_per_rule: Sequence[str | None] | None = None,
        cache_dir: Path | None = None,
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
        expressions = [_hs_literal(k) for k in self._keywords]
        flags = [_hs.HS_FLAG_CASELESS if _hs is not None else 0] * len(expressions)
        if use_patterns:
            for rule_idx, pattern in enumerate(patterns):
                if pattern is not None:
                    expressions.append(pattern.encode("utf-8"))
                    flags.append(_hs.HS_FLAG_ALLOWEMPTY)
                    self._rules_of.append([rule_idx])
        self._entries = len(expressions)
        self._db = None
        if _hs is not None and expressions:
            self._db = _database(expressions, flags, cache_dir)
            self._scratch = _hs.Scratch(self._db)

    @property
    def keyword_count(self) -> int:
        """How many entries (keywords and patterns) hits can name."""
        return self._entries

    @property
    def engine(self) -> str:
        return "hyperscan" if self._db is not None else "python"

    def rules_of(self, keyword_id: int) -> list[int]:
        return self._rules_of[keyword_id]

    def hits(self, text: str) -> list[tuple[int, int]]:
        """(keyword id, offset just past the keyword) for every keyword occurrence in ``text``.

        Offsets are character offsets into ``text`` (converted from bytes for non-ASCII text).
        """
        if self._db is not None:
            data = text.encode("utf-8", "surrogatepass")
            raw: list[tuple[int, int]] = []
            append = raw.append

            def on_match(kid: int, _f: int, to: int, _fl: int, _ctx: object) -> None:
                append((kid, to))

            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
            if raw and len(data) != len(text):
                raw = _to_char_offsets(data, raw)
            return raw
        lowered = text.lower()
        out: list[tuple[int, int]] = []
        for kid, keyword in enumerate(self._keywords):
            pos = lowered.find(keyword)
            while pos != -1:
                out.append((kid, pos + len(keyword)))
                pos = lowered.find(keyword, pos + 1)
        return out

    def candidates(self, text: str) -> dict[int, list[int]]:
        """For each rule whose keywords occur in ``text``: the offsets just past each keyword hit."""
        out: dict[int, list[int]] = {}
        for kid, offset in self.hits(text):
            for rule_idx in self._rules_of[kid]:
                out.setdefault(rule_idx, []).append(offset)
        return out


_CONTINUATION = bytes(range(0x80, 0xC0))


def _to_char_offsets(data: bytes, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte offsets -> character offsets: count the bytes that start a character (UTF-8
    continuation bytes do not). A pattern entry may end inside a character; the offset
    then points just past that character, which stays on the same line."""
    out: list[tuple[int, int]] = []
    prev_byte = prev_char = 0
    for kid, to in sorted(raw, key=lambda t: t[1]):
        prev_char += len(data[prev_byte:to].translate(None, _CONTINUATION))
        prev_byte = to
        out.append((kid, prev_char))
    return out


def _database(expressions: list[bytes], flags: list[int], cache_dir: Path | None) -> object:
    """Compile the Hyperscan database, or load it from the cache (tens of ms saved per run).

    The cache key covers the expressions, flags, Hyperscan's version and the machine;
    a missing, corrupt or unwritable cache means compiling again.
    """
    key = hashlib.sha256(
        repr((expressions, flags, getattr(_hs, "__version__", ""), platform.machine())).encode()
    ).hexdigest()[:40]
    path = cache_dir / f"prefilter-{key}.hsdb" if cache_dir is not None else None
    if path is not None:
        try:
            return _hs.loadb(path.read_bytes(), _hs.HS_MODE_BLOCK)
        except Exception:  # noqa: BLE001 - missing or corrupt cache: compile instead
            pass
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
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
    """Why Hyperscan cannot compile ``pattern`` (None when it can, or without Hyperscan)."""
    if _hs is None:
        return None
    try:
        _hs.Database(mode=_hs.HS_MODE_BLOCK).compile(expressions=[pattern.encode("utf-8")], ids=[0], elements=1, flags=[0])
    except Exception as exc:  # noqa: BLE001 - hyperscan raises its own error type
        return str(exc)
    return None


def _hs_literal(keyword: str) -> bytes:
    escaped = "".join("\\x%02x" % b for b in keyword.encode("utf-8"))
    return escaped.encode("ascii")
