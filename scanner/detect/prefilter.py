"""Multi-pattern keyword prefilter: which rules can possibly match a chunk.

One pass over the chunk in C (Hyperscan when the platform has it), instead of
one substring search per keyword. Without Hyperscan, a Python fallback does one
``in`` test per distinct keyword on the lower-cased text (still C loops).
"""

from __future__ import annotations

from collections.abc import Sequence

try:  # pragma: no cover - depends on the platform's wheels
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None


class Prefilter:
    def __init__(self, keywords_per_rule: Sequence[Sequence[str]]) -> None:
        self._keywords: list[str] = sorted({k for ks in keywords_per_rule for k in ks})
        index = {k: i for i, k in enumerate(self._keywords)}
        self._rules_of: list[list[int]] = [[] for _ in self._keywords]
        for rule_idx, ks in enumerate(keywords_per_rule):
            for k in ks:
                self._rules_of[index[k]].append(rule_idx)
        self._db = None
        if _hs is not None and self._keywords:
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            flags = _hs.HS_FLAG_CASELESS
            db.compile(
                expressions=[_hs_literal(k) for k in self._keywords],
                ids=list(range(len(self._keywords))),
                elements=len(self._keywords),
                flags=[flags] * len(self._keywords),
            )
            self._db = db
            self._scratch = _hs.Scratch(db)

    @property
    def engine(self) -> str:
        return "hyperscan" if self._db is not None else "python"

    def candidates(self, text: str) -> dict[int, list[int]]:
        """For each rule whose keywords occur in ``text``: the offsets just past each keyword hit.

        Offsets are character offsets into ``text`` when it is ASCII (the common
        case); for other text they are approximate and callers treat them as hints.
        """
        hits: dict[int, list[int]] = {}
        if self._db is not None:
            data = text.encode("utf-8", "surrogatepass")
            raw: list[tuple[int, int]] = []
            append = raw.append

            def on_match(kid: int, _f: int, to: int, _fl: int, _ctx: object) -> None:
                append((kid, to))

            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
            if raw and len(data) != len(text):
                raw = _to_char_offsets(data, raw)
            for kid, to in raw:
                hits.setdefault(kid, []).append(to)
        else:
            lowered = text.lower()
            for kid, keyword in enumerate(self._keywords):
                pos = lowered.find(keyword)
                while pos != -1:
                    hits.setdefault(kid, []).append(pos + len(keyword))
                    pos = lowered.find(keyword, pos + 1)
        out: dict[int, list[int]] = {}
        for kid, offsets in hits.items():
            for rule_idx in self._rules_of[kid]:
                out.setdefault(rule_idx, []).extend(offsets)
        return out


def _to_char_offsets(data: bytes, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte offsets (each just past an ASCII keyword, so on a character boundary) -> character offsets."""
    out: list[tuple[int, int]] = []
    prev_byte = prev_char = 0
    for kid, to in sorted(raw, key=lambda t: t[1]):
        prev_char += len(data[prev_byte:to].decode("utf-8", "surrogatepass"))
        prev_byte = to
        out.append((kid, prev_char))
    return out


def _hs_literal(keyword: str) -> bytes:
    escaped = "".join("\\x%02x" % b for b in keyword.encode("utf-8"))
    return escaped.encode("ascii")
