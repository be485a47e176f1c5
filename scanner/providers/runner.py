"""Run a spec for one credential: render each step, send it, judge the answer.

Nothing here knows a provider by name. The only code paths a spec selects are
AWS SigV4 signing (``sign``), picking an exact item out of a list (``find``) and
keeping one value of an answer about the credential itself (``take``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from ..model import Finding, redact
from ..record import replace
from . import sigv4
from .audit import AuditLog, window_start
from .http import ClientSettings, HttpRequest, HttpResponse, UnsafeDestination, check_destination, send
from .match import is_missing, judge, lookup
from .spec import NEXT, Find, Spec, Step, Take
from .template import TemplateError, render, render_tree


@dataclass(frozen=True)
class Credential:
    """One secret (or secret pair) to check, with every finding it stands for."""

    spec_name: str
    rule_id: str
    provider: str
    findings: tuple[Finding, ...]
    secret: str = field(repr=False)
    pair: str | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        return self.findings[0].fingerprint

    @property
    def redacted(self) -> str:
        return redact(self.secret)


@dataclass(frozen=True)
class Outcome:
    result: str
    reason: str
    http_status: int | None = None
    endpoint: str = ""  # "METHOD URL" of the last step tried, secret masked
    sent: bool = False


@dataclass(frozen=True)
class CallContext:
    settings: ClientSettings
    audit: AuditLog
    base_urls: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = field(default=datetime.now)


@dataclass(frozen=True)
class PlannedStep:
    """A step as the dry run shows it: the secret masked everywhere."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    finds: str | None = None  # how the next step's id is picked out of this step's answer


def base_url(spec: Spec, overrides: Mapping[str, str]) -> str | None:
    return overrides.get(spec.name, spec.base_url)


def variables(spec: Spec, cred: Credential, base: str | None, *, masked: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    if base is not None:
        values["base"] = base.rstrip("/")
    if masked:
        values["secret"] = redact(cred.secret)
        values["secret_sha256"] = "<sha256 of the secret>"
        values["secret_sha512"] = "<sha512 of the secret>"
        if cred.pair is not None:
            values["pair"] = redact(cred.pair)
        for i, step in enumerate(spec.steps, start=1):
            if step.binds is not None:
                values[step.binds] = f"<{step.binds} looked up in step {i}>"
        return values
    values["secret"] = cred.secret
    values["secret_sha256"] = hashlib.sha256(cred.secret.encode()).hexdigest()
    values["secret_sha512"] = hashlib.sha512(cred.secret.encode()).hexdigest()
    if cred.pair is not None:
        values["pair"] = cred.pair
    return values


def build_request(step: Step, values: Mapping[str, str]) -> HttpRequest:
    url = render(step.url, values, url=True)
    headers = [(render(k, values), render(v, values)) for k, v in step.headers]
    body: bytes | None = None
    if step.json is not None:
        body = json.dumps(render_tree(step.json, values), separators=(",", ":")).encode()
        headers.append(("Content-Type", "application/json"))
    elif step.form is not None:
        body = urlencode([(render(k, values), render(v, values)) for k, v in step.form]).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    for name, value in headers:
        if "\r" in value or "\n" in value:
            raise TemplateError(f"header {name} would contain a line break")
    return HttpRequest(step.method, url, tuple(headers), body)


def plan(spec: Spec, cred: Credential, overrides: Mapping[str, str]) -> tuple[PlannedStep, ...]:
    values = variables(spec, cred, base_url(spec, overrides), masked=True)
    steps: list[PlannedStep] = []
    for step in spec.steps:
        req = build_request(step, values)
        headers = tuple(sorted(req.headers))
        if spec.sign is not None:
            headers += (("Authorization", f"AWS4-HMAC-SHA256 (signed with the secret key {values.get('pair', '')})"),)
        url = render(step.url, values)  # unquoted, so the masked placeholders stay legible
        steps.append(PlannedStep(req.method, url, headers, req.body.decode() if req.body else None, _describe(step.find) or _describe_take(step.take)))
    return tuple(steps)


def _describe(find: Find | None) -> str | None:
    if find is None:
        return None
    target = find.equals.replace("{secret_sha512}", "the SHA-512 of the secret").replace("{secret_sha256}", "the SHA-256 of the secret")
    target = target.replace("{secret}", "the secret")
    where = f" in '{find.within}'" if find.within else ""
    return f"the one entry{where} whose '{find.where}' equals {target}; its '{find.take}' becomes {{{find.name}}} (no exact match: stop)"


def _describe_take(take: Take | None) -> str | None:
    if take is None:
        return None
    return f"the '{take.path}' of this answer (about this very credential) as {{{take.name}}} (missing or empty: stop)"


def execute(spec: Spec, cred: Credential, ctx: CallContext) -> Outcome:
    skip = _unsupported(spec, cred)
    if skip is not None:
        return skip
    limited = _rate_limited(spec, ctx)
    if limited is not None:
        return limited
    values = variables(spec, cred, base_url(spec, ctx.base_urls), masked=False)
    shown = variables(spec, cred, base_url(spec, ctx.base_urls), masked=True)
    settings = ctx.settings if spec.timeout is None else _with_timeout(ctx.settings, spec.timeout)
    outcome = Outcome("unknown", "no step ran")
    for index, step in enumerate(spec.steps, start=1):
        endpoint = f"{step.method} {render(step.url, shown)}"
        try:
            request = _signed(spec, cred, build_request(step, values), ctx)
            check_destination(request.url)
        except (TemplateError, UnsafeDestination) as exc:
            return Outcome("unknown", f"not sent: {scrub(str(exc), cred)}", None, endpoint, outcome.sent)
        response = send(request, settings)
        verdict = judge(response, step.cases)
        status = response.status if isinstance(response, HttpResponse) else None
        reason = scrub(verdict.reason, cred)
        if len(spec.steps) > 1:
            reason = f"step {index}: {reason}"
        if verdict.result != NEXT:
            return Outcome(verdict.result, reason, status, endpoint, True)
        outcome = Outcome("unknown", reason, status, endpoint, True)
        if step.find is not None:
            picked = pick(verdict.data, step.find, values)
            if isinstance(picked, _NotFound):
                return Outcome("failed" if spec.action == "revoke" else "unknown", f"step {index}: {picked.reason}; nothing else was sent", status, endpoint, True)
            values[step.find.name] = picked
        elif step.take is not None:
            taken = take_value(verdict.data, step.take)
            if isinstance(taken, _NotFound):
                return Outcome("failed" if spec.action == "revoke" else "unknown", f"step {index}: {taken.reason}; nothing else was sent", status, endpoint, True)
            values[step.take.name] = taken
    return outcome


@dataclass(frozen=True)
class _NotFound:
    reason: str


def pick(data: Any, find: Find, values: Mapping[str, str]) -> str | _NotFound:
    """The ``take`` field of the one list item whose ``where`` equals the secret (or its digest)."""
    items = lookup(data, find.within) if data is not None else None
    if items is None or is_missing(items) or not isinstance(items, list):
        return _NotFound(f"no list at '{find.within or '(body)'}' in the answer")
    wanted = render(find.equals, values)
    matches = [item for item in items if _equal_text(lookup(item, find.where), wanted)]
    if len(matches) != 1:
        what = "not found" if not matches else f"matched {len(matches)} entries"
        return _NotFound(f"the exact credential was {what} among {len(items)} listed; refusing to guess")
    taken = lookup(matches[0], find.take)
    if isinstance(taken, bool) or not isinstance(taken, (str, int)) or taken == "":
        return _NotFound(f"the matching entry has no '{find.take}'")
    return str(taken)


_PLAIN_ID = re.compile(r"[A-Za-z0-9_~:-][A-Za-z0-9._~:-]{0,199}")


def take_value(data: Any, take: Take) -> str | _NotFound:
    """The one value at ``take.path`` (objects only): a non-empty string or a whole number that
    looks like an identifier (letters, digits, ``-_.~:``; no leading dot). Anything else stops."""
    value = lookup(data, take.path) if isinstance(data, dict) else None
    if value is None or is_missing(value):
        return _NotFound(f"the answer has no '{take.path}'")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return _NotFound(f"'{take.path}' in the answer is not a single id")
    text = str(value)
    if not _PLAIN_ID.fullmatch(text):
        return _NotFound(f"'{take.path}' in the answer is empty or not a plain id")
    return text


def scrub(text: str, cred: Credential) -> str:
    """Remove the secret (raw or URL-encoded) from a message that may echo it."""
    for value in (cred.secret, cred.pair):
        if value:
            for form in {value, quote(value, safe="")}:
                text = text.replace(form, redact(value))
    return text


def _equal_text(value: Any, wanted: str) -> bool:
    return isinstance(value, str) and len(value) == len(wanted) and value == wanted


def _unsupported(spec: Spec, cred: Credential) -> Outcome | None:
    for item in spec.unsupported:
        if re.search(item.regex, cred.secret):
            return Outcome("unknown", f"not sent: {item.reason}")
    if spec.pair is not None and cred.pair is None:
        rules = ", ".join(spec.pair.rules)
        return Outcome("unknown", f"not sent: needs its partner secret ({rules}) in the same file within {spec.pair.max_lines} lines")
    return None


def _rate_limited(spec: Spec, ctx: CallContext) -> Outcome | None:
    limit = spec.rate_limit
    if limit is None:
        return None
    since = window_start(ctx.now().astimezone(), limit.seconds)
    used = ctx.audit.sent_since(spec.action, spec.name, since)
    if used < limit.count:
        return None
    return Outcome("unknown", f"not sent: rate limit of {limit.text} for [{spec.action}.{spec.name}] reached ({used} sent); try again later")


def _signed(spec: Spec, cred: Credential, request: HttpRequest, ctx: CallContext) -> HttpRequest:
    if spec.sign is None or cred.pair is None:
        return request
    headers = sigv4.sign(
        request.method,
        request.url,
        dict(request.headers),
        request.body or b"",
        access_key=cred.secret,
        secret_key=cred.pair,
        region=spec.sign.region,
        service=spec.sign.service,
        now=ctx.now().astimezone(),
    )
    return HttpRequest(request.method, request.url, tuple(headers.items()), request.body)


def _with_timeout(settings: ClientSettings, timeout: float) -> ClientSettings:
    return replace(settings, timeout=min(settings.timeout, timeout))
