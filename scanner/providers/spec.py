"""Verify and revoke specs: parse and validate the ``[verify.NAME]`` / ``[revoke.NAME]`` tables.

A spec is data: one or more HTTP steps, each with a method, a URL, headers, an
optional body (``json`` table or ``form`` table) and ``cases`` mapping the
response to a result. See ``scanner/providers/__init__.py`` for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .http import UnsafeDestination, check_destination
from .template import BUILTIN_VARIABLES, TemplateError, placeholders, tree_placeholders

VERIFY_RESULTS = ("valid", "invalid", "unknown")
REVOKE_RESULTS = ("revoked", "submitted", "failed", "unknown")
NEXT = "next"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODY_KINDS = ("json", "empty", "any")
SIGNERS = ("aws-sigv4",)
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

_SPEC_KEYS = {
    "description", "base_url", "rate_limit", "timeout", "pair", "sign", "unsupported", "note",
    "headers", "steps", "method", "url", "json", "form", "find", "take", "cases",
}
_STEP_KEYS = {"method", "url", "headers", "json", "form", "find", "take", "cases"}
_CASE_KEYS = {"status", "result", "reason", "json", "json_has", "body", "contains"}
_FIND_KEYS = {"in", "where", "equals", "take", "as"}
_TAKE_KEYS = {"path", "as"}


@dataclass(frozen=True)
class Case:
    status: tuple[int, ...]
    result: str
    reason: str
    json: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # path -> accepted values
    json_has: tuple[str, ...] = ()
    body: str | None = None  # json | empty | any
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Find:
    """Pick exactly one item of a JSON list: ``where`` must equal ``equals``; keep ``take`` as ``name``."""

    within: str
    where: str
    equals: str
    take: str
    name: str


@dataclass(frozen=True)
class Take:
    """Keep the single value at ``path`` of an answer that is about the credential itself
    (e.g. Cloudflare's token verify answer, ``result.id``) as ``name``."""

    path: str
    name: str


@dataclass(frozen=True)
class Step:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    cases: tuple[Case, ...]
    json: Any = None
    form: tuple[tuple[str, str], ...] | None = None
    find: Find | None = None
    take: Take | None = None

    @property
    def binds(self) -> str | None:
        """The variable this step's answer gives to the next steps (``find.as`` or ``take.as``)."""
        if self.find is not None:
            return self.find.name
        return self.take.name if self.take is not None else None


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: int
    text: str


@dataclass(frozen=True)
class Pairing:
    """A second secret found near the first (same file), e.g. AWS key id + secret key."""

    rules: tuple[str, ...]
    max_lines: int


@dataclass(frozen=True)
class Signing:
    kind: str
    service: str
    region: str


@dataclass(frozen=True)
class Unsupported:
    regex: str
    reason: str


@dataclass(frozen=True)
class Spec:
    name: str
    action: str  # verify | revoke
    steps: tuple[Step, ...]
    base_url: str | None = None
    rate_limit: RateLimit | None = None
    timeout: float | None = None
    pair: Pairing | None = None
    sign: Signing | None = None
    unsupported: tuple[Unsupported, ...] = ()
    note: str | None = None
    description: str | None = None

    @property
    def label(self) -> str:
        return f"[{self.action}.{self.name}]"


@dataclass(frozen=True)
class Specs:
    verify: dict[str, Spec]
    revoke: dict[str, Spec]


def parse_specs(verify: dict[str, Any], revoke: dict[str, Any]) -> Specs:
    return Specs(
        verify={name: parse_spec(name, "verify", body) for name, body in sorted(verify.items())},
        revoke={name: parse_spec(name, "revoke", body) for name, body in sorted(revoke.items())},
    )


class _Where:
    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"spec {self.label}: {message}")


def parse_spec(name: str, action: str, data: Any) -> Spec:
    where = _Where(f"[{action}.{name}]")
    if not _NAME.match(name):
        raise where.fail("name must be lower-case letters, digits, '-' or '_'")
    if not isinstance(data, dict):
        raise where.fail("must be a table")
    unknown = set(data) - _SPEC_KEYS
    if unknown:
        raise where.fail(f"unknown key(s): {', '.join(sorted(unknown))}")
    base_url = _opt_str(data, "base_url", where)
    if base_url is not None:
        try:
            check_destination(base_url)
        except UnsafeDestination as exc:
            raise where.fail(f"base_url: {exc}") from None
    pair = _parse_pair(data.get("pair"), where)
    sign = _parse_sign(data.get("sign"), where)
    if sign is not None and pair is None:
        raise where.fail("'sign' needs 'pair' (the signing key is the paired secret)")
    common = _headers(data.get("headers", {}), where)
    steps = _parse_steps(data, common, action, where)
    known = set(BUILTIN_VARIABLES) - ({"pair"} if pair is None else set()) - ({"base"} if base_url is None else set())
    _check_variables(steps, known, where)
    return Spec(
        name=name,
        action=action,
        steps=steps,
        base_url=base_url.rstrip("/") if base_url else None,
        rate_limit=_parse_rate(data.get("rate_limit"), where),
        timeout=_opt_number(data, "timeout", where, 0.05, 120),
        pair=pair,
        sign=sign,
        unsupported=_parse_unsupported(data.get("unsupported", []), where),
        note=_opt_str(data, "note", where),
        description=_opt_str(data, "description", where),
    )


def _parse_steps(data: dict[str, Any], common: tuple[tuple[str, str], ...], action: str, where: _Where) -> tuple[Step, ...]:
    inline = {k: data[k] for k in _STEP_KEYS - {"headers"} if k in data}
    if "steps" in data:
        if inline:
            raise where.fail(f"use either 'steps' or an inline step, not both ({', '.join(sorted(inline))})")
        raw = data["steps"]
        if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
            raise where.fail("'steps' must be a non-empty array of tables ([[...steps]])")
    else:
        raw = [inline]
    steps: list[Step] = []
    for i, item in enumerate(raw):
        last = i == len(raw) - 1
        label = _Where(f"{where.label} step {i + 1}" if len(raw) > 1 else where.label)
        steps.append(_parse_step(item, common, action, last, label))
    return tuple(steps)


def _parse_step(data: dict[str, Any], common: tuple[tuple[str, str], ...], action: str, last: bool, where: _Where) -> Step:
    unknown = set(data) - _STEP_KEYS
    if unknown:
        raise where.fail(f"unknown key(s): {', '.join(sorted(unknown))}")
    method = data.get("method")
    if method not in METHODS:
        raise where.fail(f"'method' must be one of {', '.join(METHODS)}")
    url = data.get("url")
    if not isinstance(url, str) or not (url.startswith("{base}") or url.startswith(("https://", "http://"))):
        raise where.fail("'url' must start with '{base}' or 'https://'")
    if url.startswith("http"):
        try:
            check_destination(url.split("{", 1)[0] or url)
        except UnsafeDestination as exc:
            raise where.fail(f"url: {exc}") from None
    headers = dict(common)
    headers.update(_headers(data.get("headers", {}), where))
    if "json" in data and "form" in data:
        raise where.fail("give 'json' or 'form', not both")
    body_json = data.get("json")
    if body_json is not None and not isinstance(body_json, (dict, list)):
        raise where.fail("'json' must be a table or an array")
    form = data.get("form")
    if form is not None and (not isinstance(form, dict) or not all(isinstance(v, str) for v in form.values())):
        raise where.fail("'form' must be a table of strings")
    cases = _parse_cases(data.get("cases"), action, last, where)
    find = _parse_find(data.get("find"), where)
    if find is not None and last:
        raise where.fail("'find' belongs to a step followed by another one")
    take = _parse_take(data.get("take"), where)
    if take is not None and last:
        raise where.fail("'take' belongs to a step followed by another one")
    if take is not None and find is not None:
        raise where.fail("give 'find' or 'take', not both")
    if not last and not any(c.result == NEXT for c in cases):
        raise where.fail("a step followed by another needs a case with result = \"next\"")
    return Step(
        method=method,
        url=url,
        headers=tuple(headers.items()),
        cases=cases,
        json=body_json,
        form=tuple(form.items()) if form is not None else None,
        find=find,
        take=take,
    )


def _parse_cases(raw: Any, action: str, last: bool, where: _Where) -> tuple[Case, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):
        raise where.fail("'cases' must be a non-empty array of tables ([[...cases]])")
    allowed = VERIFY_RESULTS if action == "verify" else REVOKE_RESULTS
    allowed = allowed if last else (*allowed, NEXT)
    return tuple(_parse_case(c, allowed, action, where) for c in raw)


def _parse_case(data: dict[str, Any], allowed: tuple[str, ...], action: str, where: _Where) -> Case:
    unknown = set(data) - _CASE_KEYS
    if unknown:
        raise where.fail(f"unknown case key(s): {', '.join(sorted(unknown))}")
    status = data.get("status")
    codes = tuple(status) if isinstance(status, list) else (status,)
    if not codes or not all(isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes):
        raise where.fail("case 'status' must be an HTTP status code or a list of them")
    banned = [c for c in codes if c == 429 or c >= 500 or 300 <= c < 400]
    if banned:
        raise where.fail(f"case status {banned[0]} is always 'unknown' (429, 5xx and redirects are never matched)")
    result = data.get("result")
    if result not in allowed:
        raise where.fail(f"case 'result' must be one of {', '.join(allowed)}")
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise where.fail("case 'reason' must be a string")
    body = data.get("body")
    if body is not None and body not in BODY_KINDS:
        raise where.fail(f"case 'body' must be one of {', '.join(BODY_KINDS)}")
    json_cond = data.get("json", {})
    if not isinstance(json_cond, dict):
        raise where.fail("case 'json' must be a table of path = value (a list means any of)")
    case = Case(
        status=codes,
        result=result,
        reason=reason,
        json=tuple((str(k), tuple(v) if isinstance(v, list) else (v,)) for k, v in json_cond.items()),
        json_has=_str_list(data.get("json_has"), "json_has", where),
        body=body,
        contains=_str_list(data.get("contains"), "contains", where),
    )
    if action == "verify" and result == "valid" and not (case.json or case.json_has or case.body or case.contains):
        raise where.fail("a 'valid' case must check the body (json, json_has, contains or body = \"json\")")
    return case


def _parse_find(raw: Any, where: _Where) -> Find | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise where.fail("'find' must be a table")
    unknown = set(raw) - _FIND_KEYS
    if unknown:
        raise where.fail(f"unknown find key(s): {', '.join(sorted(unknown))}")
    values = {k: raw.get(k) for k in ("where", "equals", "take", "as")}
    if not all(isinstance(v, str) and v for v in values.values()):
        raise where.fail("'find' needs 'where', 'equals', 'take' and 'as' (strings)")
    within = raw.get("in", "")
    if not isinstance(within, str):
        raise where.fail("find 'in' must be a JSON path (a string)")
    if not _NAME.match(values["as"]) or values["as"] in BUILTIN_VARIABLES:
        raise where.fail("find 'as' must be a new variable name (lower case)")
    if not placeholders(values["equals"]) & {"secret", "secret_sha256", "secret_sha512"}:
        raise where.fail("find 'equals' must compare with the secret ({secret} or a digest of it)")
    return Find(within=within, where=values["where"], equals=values["equals"], take=values["take"], name=values["as"])


def _parse_take(raw: Any, where: _Where) -> Take | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise where.fail("'take' must be a table { path, as }")
    unknown = set(raw) - _TAKE_KEYS
    if unknown:
        raise where.fail(f"unknown take key(s): {', '.join(sorted(unknown))}")
    path, name = raw.get("path"), raw.get("as")
    if not isinstance(path, str) or not isinstance(name, str) or not name:
        raise where.fail("'take' needs 'path' and 'as' (strings)")
    parts = path.split(".")
    if not path or not all(parts) or any(p.isdigit() for p in parts):
        raise where.fail("take 'path' must name a field of a JSON object (a.b.c; no list index, not the whole body)")
    if not _NAME.match(name) or name in BUILTIN_VARIABLES:
        raise where.fail("take 'as' must be a new variable name (lower case)")
    return Take(path=path, name=name)


def _check_variables(steps: tuple[Step, ...], known: set[str], where: _Where) -> None:
    available = set(known)
    for step in steps:
        try:
            used = placeholders(step.url) | tree_placeholders(dict(step.headers)) | tree_placeholders(step.json)
            used |= tree_placeholders(dict(step.form or ()))
            if step.find is not None:
                used |= placeholders(step.find.equals)
        except TemplateError as exc:
            raise where.fail(str(exc)) from None
        missing = used - available
        if missing:
            raise where.fail(f"unknown variable(s) {', '.join('{' + m + '}' for m in sorted(missing))}")
        if step.binds is not None:
            available.add(step.binds)


def _headers(raw: Any, where: _Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise where.fail("'headers' must be a table of strings")
    for name in raw:
        if not _HEADER.match(name):
            raise where.fail(f"invalid header name {name!r}")
    return tuple(raw.items())


def _parse_pair(raw: Any, where: _Where) -> Pairing | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"rules", "max_lines"}:
        raise where.fail("'pair' must be a table with 'rules' and optional 'max_lines'")
    rules = _str_list(raw.get("rules"), "pair.rules", where)
    if not rules:
        raise where.fail("'pair.rules' must list the rule ids of the second secret")
    max_lines = raw.get("max_lines", 10)
    if not isinstance(max_lines, int) or isinstance(max_lines, bool) or not 0 <= max_lines <= 1000:
        raise where.fail("'pair.max_lines' must be a whole number from 0 to 1000")
    return Pairing(rules=rules, max_lines=max_lines)


def _parse_sign(raw: Any, where: _Where) -> Signing | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in SIGNERS:
        raise where.fail(f"'sign' must be a table with type = one of {', '.join(SIGNERS)}")
    service, region = raw.get("service"), raw.get("region")
    if not isinstance(service, str) or not isinstance(region, str) or not service or not region:
        raise where.fail("'sign' needs 'service' and 'region'")
    return Signing(kind=raw["type"], service=service, region=region)


def _parse_rate(raw: Any, where: _Where) -> RateLimit | None:
    if raw is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*", raw) if isinstance(raw, str) else None
    if m is None or int(m.group(1)) < 1:
        raise where.fail("'rate_limit' must look like \"60/hour\" (per second, minute, hour or day)")
    return RateLimit(count=int(m.group(1)), seconds=_PERIODS[m.group(2)], text=raw.strip())


def _parse_unsupported(raw: Any, where: _Where) -> tuple[Unsupported, ...]:
    if not isinstance(raw, list) or not all(isinstance(u, dict) for u in raw):
        raise where.fail("'unsupported' must be an array of tables {regex, reason}")
    out: list[Unsupported] = []
    for item in raw:
        rx, reason = item.get("regex"), item.get("reason")
        if not isinstance(rx, str) or not isinstance(reason, str) or set(item) - {"regex", "reason"}:
            raise where.fail("each 'unsupported' entry needs 'regex' and 'reason'")
        try:
            re.compile(rx)
        except re.error as exc:
            raise where.fail(f"invalid 'unsupported' regex {rx!r}: {exc}") from None
        out.append(Unsupported(regex=rx, reason=reason))
    return tuple(out)


def _opt_str(data: dict[str, Any], key: str, where: _Where) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise where.fail(f"'{key}' must be a non-empty string")
    return value


def _opt_number(data: dict[str, Any], key: str, where: _Where, low: float, high: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise where.fail(f"'{key}' must be a number from {low:g} to {high:g}")
    return float(value)


def _str_list(value: Any, name: str, where: _Where) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.fail(f"'{name}' must be a string or a list of strings")
    return tuple(value)


def base_url_overrides(configured: dict[str, str], given: tuple[str, ...], specs: Specs) -> dict[str, str]:
    """Base URLs from the config and ``--base-url NAME=URL``, checked: a known spec name,
    and a destination secrets may go to (https, or http to loopback)."""
    from ..errors import UsageError

    merged = dict(configured)
    for item in given:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise UsageError(f"--base-url wants NAME=URL, got {item!r}")
        merged[name.strip()] = url.strip()
    known = set(specs.verify) | set(specs.revoke)
    for name, url in merged.items():
        if name not in known:
            raise UsageError(f"base URL for '{name}': no verify or revoke spec has that name")
        try:
            check_destination(url)
        except UnsafeDestination as exc:
            raise UsageError(f"base URL for '{name}': {exc}") from None
        merged[name] = url.rstrip("/")
    return merged
