"""Generate sample tokens from a format template (for rule examples and tests).

A template is literal text with fields ``{class:length}``; ``{{`` and ``}}``
are literal braces. Generation is seeded, so examples are reproducible and no
real-looking token has to be written down as a literal in the repository.
"""

from __future__ import annotations

import random
import string

import regex

CLASSES: dict[str, str] = {
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "digit": string.digits,
    "alpha": string.ascii_letters,
    "alnum": string.ascii_letters + string.digits,
    "alnum_lower": string.ascii_lowercase + string.digits,
    "alnum_upper": string.ascii_uppercase + string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "-_",
    "base32": string.ascii_uppercase + "234567",
    "word": string.ascii_letters + string.digits + "_",
}

_FIELD = regex.compile(r"\{\{|\}\}|\{([a-zA-Z_0-9]+):(\d+)\}")


class TemplateError(ValueError):
    pass


def generate(template: str, seed: int | str = 0) -> str:
    """Expand ``template`` with characters drawn from a seeded generator."""
    rng = random.Random(str(seed) + "\0" + template)
    out: list[str] = []
    pos = 0
    for m in _FIELD.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token == "{{":
            out.append("{")
        elif token == "}}":
            out.append("}")
        else:
            name, count = m.group(1), int(m.group(2))
            chars = CLASSES.get(name)
            if chars is None:
                raise TemplateError(f"unknown character class {{{name}:...}} (known: {', '.join(sorted(CLASSES))})")
            out.append(_mixed(rng, chars, count))
    out.append(template[pos:])
    return "".join(out)


def _mixed(rng: random.Random, chars: str, count: int) -> str:
    """Random characters, guaranteed to mix the classes present (realistic tokens do)."""
    groups = [g for g in (string.ascii_uppercase, string.ascii_lowercase, string.digits) if any(c in chars for c in g)]
    while True:
        value = "".join(rng.choice(chars) for _ in range(count))
        if count < 8 or all(any(c in g for c in value) for g in groups):
            return value
