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
            flags = _hs.HS_FLAG_CASELESS | _hs.HS_FLAG_SINGLEMATCH
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

    def candidates(self, text: str) -> set[int]:
        """Indices of the rules whose keywords occur in ``text``."""
        hit_keywords: list[int] = []
        if self._db is not None:
            data = text.encode("utf-8", "surrogatepass")

            def on_match(kid: int, _f: int, _t: int, _fl: int, _ctx: object) -> None:
                hit_keywords.append(kid)

            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        else:
            lowered = text.lower()
            hit_keywords = [i for i, k in enumerate(self._keywords) if k in lowered]
        out: set[int] = set()
        for kid in hit_keywords:
            out.update(self._rules_of[kid])
        return out


def _hs_literal(keyword: str) -> bytes:
    escaped = "".join("\\x%02x" % b for b in keyword.encode("utf-8"))
    return escaped.encode("ascii")
