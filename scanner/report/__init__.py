"""Reports: pure functions of a ScanResult (text for people, JSON, SARIF)."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Rule, ScanResult

FORMATS = ("text", "json", "sarif")


def render(fmt: str, result: ScanResult, rules: tuple[Rule, ...], *, color: bool = False, show_secrets: bool = False) -> str:
    renderer: Callable[..., str]
    if fmt == "json":
        from .jsonreport import render_json as renderer
    elif fmt == "sarif":
        from .sarif import render_sarif as renderer
    else:
        from .text import render_text as renderer
    return renderer(result, rules, color=color, show_secrets=show_secrets)
