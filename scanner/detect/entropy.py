"""Shannon entropy of a candidate secret (bits per character)."""

from __future__ import annotations

import math
from collections import Counter


def shannon(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum((c / n) * math.log2(c / n) for c in Counter(value).values())
