"""Placeholders in spec strings: ``{name}`` is a variable, ``{{`` and ``}}`` are literal braces.

Variables are the secret (``{secret}``), its partner for paired credentials
(``{pair}``), the base URL (``{base}``), digests of the secret
(``{secret_sha256}``, ``{secret_sha512}``) and whatever an earlier step of a
two-step call looked up (``find.as``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

BUILTIN_VARIABLES = frozenset({"secret", "pair", "base", "secret_sha256", "secret_sha512"})


class TemplateError(ValueError):
    pass


def placeholders(text: str) -> set[str]:
    """Variable names used in ``text``; a stray ``{`` or ``}`` is an error."""
    names: set[str] = set()
    pos = 0
    for m in _FIELD.finditer(text):
        _check_literal(text[pos : m.start()])
        pos = m.end()
        if m.group(1):
            names.add(m.group(1))
    _check_literal(text[pos:])
    return names


def _check_literal(chunk: str) -> None:
    if "{" in chunk or "}" in chunk:
        raise TemplateError("a lone '{' or '}' (write '{{' or '}}' for a literal brace)")


def tree_placeholders(value: Any) -> set[str]:
    """Variables used anywhere in a string, list or table (keys included)."""
    if isinstance(value, str):
        return placeholders(value)
    if isinstance(value, list):
        return set().union(*(tree_placeholders(v) for v in value)) if value else set()
    if isinstance(value, dict):
        found: set[str] = set()
        for k, v in value.items():
            found |= placeholders(k) | tree_placeholders(v)
        return found
    return set()


def render(text: str, values: Mapping[str, str], *, url: bool = False) -> str:
    """Fill ``text``. In a URL every value but ``base`` is percent-encoded."""

    def fill(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = m.group(1)
        if name not in values:
            raise TemplateError(f"unknown variable {{{name}}}")
        value = values[name]
        return quote(value, safe="") if url and name != "base" else value

    return _FIELD.sub(fill, text)


def render_tree(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, list):
        return [render_tree(v, values) for v in value]
    if isinstance(value, dict):
        return {render(k, values): render_tree(v, values) for k, v in value.items()}
    return value
