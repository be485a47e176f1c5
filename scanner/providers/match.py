"""Map an HTTP response to a result, the way a careful person would read it.

Fixed rules come first and no spec can override them: a transport failure, a
redirect, 429, 5xx or an HTML page is ``unknown``. Then the spec's cases are
tried in order; a response no case describes is ``unknown`` too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .http import HttpResponse, TransportFailure
from .spec import Case

_MISSING = object()


@dataclass(frozen=True)
class Verdict:
    result: str
    reason: str
    status: int | None
    case: Case | None = None
    data: Any = None  # the parsed JSON body, when there was one


def parse_json(resp: HttpResponse) -> Any:
    text = resp.body.strip()
    if not text:
        return _MISSING
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return _MISSING


def looks_like_html(resp: HttpResponse) -> bool:
    if "html" in resp.headers.get("content-type", "").lower():
        return True
    head = resp.body.lstrip()[:256].lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def fixed_verdict(outcome: HttpResponse | TransportFailure) -> Verdict | None:
    """The answers no spec may reinterpret."""
    if isinstance(outcome, TransportFailure):
        return Verdict("unknown", outcome.reason, None)
    status = outcome.status
    if 300 <= status < 400:
        target = outcome.headers.get("location", "")
        return Verdict("unknown", f"redirect (HTTP {status}) to {_host_of(target)} not followed", status)
    if status == 429:
        wait = f"; retry after {outcome.retry_after:g} s" if outcome.retry_after else ""
        return Verdict("unknown", f"rate limited by the provider (HTTP 429{wait})", status)
    if status >= 500:
        return Verdict("unknown", f"provider error (HTTP {status})", status)
    if looks_like_html(outcome):
        return Verdict("unknown", f"an HTML page, not an API answer (HTTP {status}; proxy, WAF or login page?)", status)
    return None


def judge(outcome: HttpResponse | TransportFailure, cases: tuple[Case, ...]) -> Verdict:
    fixed = fixed_verdict(outcome)
    if fixed is not None:
        return fixed
    assert isinstance(outcome, HttpResponse)
    data = parse_json(outcome)
    for case in cases:
        if case_matches(case, outcome, data):
            reason = render_reason(case.reason, data) or f"HTTP {outcome.status}"
            return Verdict(case.result, reason, outcome.status, case, None if data is _MISSING else data)
    kind = "JSON" if data is not _MISSING else ("empty" if not outcome.body.strip() else "non-JSON")
    return Verdict("unknown", f"unexpected response (HTTP {outcome.status}, {kind} body)", outcome.status)


def case_matches(case: Case, resp: HttpResponse, data: Any) -> bool:
    if resp.status not in case.status:
        return False
    if case.body == "json" and data is _MISSING:
        return False
    if case.body == "empty" and resp.body.strip():
        return False
    for path, accepted in case.json:
        value = lookup(data, path)
        if value is _MISSING or not any(same(value, a) for a in accepted):
            return False
    for path in case.json_has:
        value = lookup(data, path)
        if value is _MISSING or value is None or value == "":
            return False
    text = resp.text
    return all(needle in text for needle in case.contains)


def lookup(data: Any, path: str) -> Any:
    """A dotted path into JSON (``a.b.0.c``); the empty path is the document."""
    if data is _MISSING:
        return _MISSING
    current = data
    for part in (p for p in path.split(".") if p) if path else ():
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def same(value: Any, expected: Any) -> bool:
    """Equality that keeps JSON types apart (``true`` is not ``1``)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    if isinstance(value, (int, float)) and isinstance(expected, (int, float)):
        return value == expected
    return type(value) is type(expected) and value == expected


def render_reason(template: str, data: Any) -> str:
    """Fill ``{a.b}`` from the JSON body (short, printable values only)."""

    def fill(m: re.Match[str]) -> str:
        value = lookup(data, m.group(1))
        if value is _MISSING or isinstance(value, (dict, list)):
            return "?"
        text = "".join(ch for ch in str(value) if ch.isprintable())
        return text[:80]

    return re.sub(r"\{([A-Za-z0-9_.-]+)\}", fill, template)


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host or "another location"
