"""Spec validation, templates, matching rules, SigV4 vectors and the audit log, without a network."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import token
from scanner.errors import ConfigError
from scanner.model import Finding, fingerprint, redact
from scanner.providers import sigv4
from scanner.providers.audit import AuditEntry, AuditLog
from scanner.providers.http import HttpResponse
from scanner.providers.match import judge, same
from scanner.providers.runner import Credential, plan, scrub
from scanner.providers.spec import Case, parse_spec, parse_specs
from scanner.providers.targets import build_credentials
from scanner.providers.template import TemplateError, placeholders, render
from scanner.rules import load_rules


def minimal(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "base_url": "https://api.example.com",
        "method": "GET",
        "url": "{base}/v1/me",
        "headers": {"Authorization": "Bearer {secret}"},
        "cases": [{"status": 200, "json_has": ["id"], "result": "valid"}, {"status": 401, "result": "invalid"}],
    }
    spec.update(extra)
    return spec


def test_all_shipped_specs_parse_and_every_rule_reference_resolves() -> None:
    rules, verify, revoke = load_rules([])
    specs = parse_specs(verify, revoke)
    for rule in rules:
        if rule.source.endswith("github.toml"):
            assert rule.verify is None or rule.verify in specs.verify
            assert rule.revoke is None or rule.revoke in specs.revoke


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "TRACE"}, "'method'"),
        ({"url": "http://api.example.com/x"}, "plain http"),
        ({"base_url": "http://example.com"}, "plain http"),
        ({"url": "{base}/{nope}"}, "unknown variable"),
        ({"url": "{base}/{pair}"}, "unknown variable"),
        ({"cases": [{"status": 200, "result": "valid"}]}, "must check the body"),
        ({"cases": [{"status": 429, "result": "invalid"}]}, "always 'unknown'"),
        ({"cases": [{"status": 503, "result": "invalid"}]}, "always 'unknown'"),
        ({"cases": [{"status": 302, "result": "invalid"}]}, "always 'unknown'"),
        ({"cases": [{"status": 200, "body": "json", "result": "revoked"}]}, "'result'"),
        ({"rate_limit": "lots"}, "rate_limit"),
        ({"surprise": 1}, "unknown key"),
        ({"headers": {"Bad Header": "x"}}, "invalid header name"),
        ({"url": "{base}/x}"}, "lone"),
        ({"sign": {"type": "aws-sigv4", "service": "sts", "region": "us-east-1"}}, "needs 'pair'"),
    ],
)
def test_invalid_specs_are_rejected_with_a_clear_message(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_spec("acme", "verify", minimal(**change))
    assert message in str(err.value)
    assert "[verify.acme]" in str(err.value)


def test_two_step_specs_need_next_and_an_exact_find() -> None:
    steps = [
        {"method": "GET", "url": "{base}/keys", "cases": [{"status": 200, "body": "json", "result": "next"}],
         "find": {"where": "token", "equals": "{secret}", "take": "id", "as": "key_id"}},
        {"method": "DELETE", "url": "{base}/keys/{key_id}", "cases": [{"status": 204, "result": "revoked"}]},
    ]
    spec = parse_spec("acme", "revoke", {"base_url": "https://api.example.com", "steps": steps})
    assert spec.steps[0].find is not None and spec.steps[0].find.name == "key_id"
    no_next = [dict(steps[0], cases=[{"status": 200, "body": "json", "result": "failed"}]), steps[1]]
    with pytest.raises(ConfigError, match="result = \"next\""):
        parse_spec("acme", "revoke", {"base_url": "https://api.example.com", "steps": no_next})
    guessing = [dict(steps[0], find={"where": "name", "equals": "default", "take": "id", "as": "key_id"}), steps[1]]
    with pytest.raises(ConfigError, match="compare with the secret"):
        parse_spec("acme", "revoke", {"base_url": "https://api.example.com", "steps": guessing})
    late = [{"method": "DELETE", "url": "{base}/keys/{key_id}", "cases": [{"status": 204, "result": "revoked"}]}]
    with pytest.raises(ConfigError, match="unknown variable"):
        parse_spec("acme", "revoke", {"base_url": "https://api.example.com", "steps": late})


def test_templates() -> None:
    assert placeholders("{base}/a/{secret}?x={{literal}}") == {"base", "secret"}
    assert render("{base}/t/{secret}", {"base": "https://h/x", "secret": "a/b c"}, url=True) == "https://h/x/t/a%2Fb%20c"
    assert render("{{x}} {secret}", {"secret": "s"}) == "{x} s"
    with pytest.raises(TemplateError):
        placeholders("{")


def _resp(status: int, body: bytes = b"", ctype: str = "application/json", **headers: str) -> HttpResponse:
    return HttpResponse(status, {"content-type": ctype, **headers}, body)


CASES = (
    Case(status=(200,), result="valid", reason="ok {login}", json_has=("login",)),
    Case(status=(200,), result="invalid", reason="nope", json=(("ok", (False,)),)),
)


@pytest.mark.parametrize(
    ("resp", "expect"),
    [
        (_resp(200, b'{"login": "ada"}'), "valid"),
        (_resp(200, b'{"ok": false}'), "invalid"),
        (_resp(200, b'{"ok": 0}'), "unknown"),  # 0 is not false
        (_resp(200, b'{"login": ""}'), "unknown"),
        (_resp(200, b"<html><body>login</body></html>", "text/plain"), "unknown"),
        (_resp(200, b'{"login": "ada"}', "text/html; charset=utf-8"), "unknown"),
        (_resp(429, b'{"login": "ada"}'), "unknown"),
        (_resp(502, b'{"login": "ada"}'), "unknown"),
        (_resp(301, b"", location="https://elsewhere.example/"), "unknown"),
        (_resp(200, b"not json at all"), "unknown"),
    ],
)
def test_matching_never_lies(resp: HttpResponse, expect: str) -> None:
    assert judge(resp, CASES).result == expect


def test_reason_is_filled_from_the_answer_and_kept_short() -> None:
    verdict = judge(_resp(200, json.dumps({"login": "x" * 500}).encode()), CASES)
    assert verdict.reason == "ok " + "x" * 80


def test_same_keeps_json_types_apart() -> None:
    assert same(True, True) and not same(1, True) and not same("1", 1) and same(1, 1.0)


def test_sigv4_matches_the_aws_test_suite() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "EXAMPLEKEY"  # AWS's published example key, split on purpose
    moment = datetime(2015, 8, 30, 12, 36, 0, tzinfo=timezone.utc)
    vectors = {
        "https://example.amazonaws.com/": "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "https://example.amazonaws.com/?Param2=value2&Param1=value1": "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    }
    for url, signature in vectors.items():
        out = sigv4.sign("GET", url, {}, b"", access_key="AKIDEXAMPLE", secret_key=secret, region="us-east-1", service="service", now=moment)
        assert out["Authorization"] == (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}"
        )
        assert out["X-Amz-Date"] == "20150830T123600Z"


def _finding(rule_id: str, secret: str, path: str = "a.py", line: int = 1) -> Finding:
    return Finding(rule_id, "P", "", "high", "high", path, line, 1, 2, redact(secret), fingerprint(rule_id, path, secret), 4.0, secret)


def test_same_secret_in_several_files_is_one_credential() -> None:
    rules, verify, revoke = load_rules([])
    specs = parse_specs(verify, revoke)
    by_id = {r.id: r for r in rules}
    secret = token(seed="dup")
    findings = [_finding("github-pat-classic", secret, p) for p in ("a.py", "b.py", "c.py")]
    creds, unresolved = build_credentials(findings, by_id, specs.verify, "verify")
    assert len(creds) == 1 and len(creds[0].findings) == 3 and unresolved == []


def test_aws_key_id_pairs_with_the_nearest_secret_in_the_same_file() -> None:
    rules, verify, revoke = load_rules([])
    specs = parse_specs(verify, revoke)
    by_id = {r.id: r for r in rules}
    key_id = token("AKIA{alnum_upper:16}", "pair")
    near, far, other_file = (token("{b64:40}", s) for s in ("near", "far", "other"))
    findings = [
        _finding("aws-access-key-id", key_id, "cfg.ini", 10),
        _finding("aws-secret-access-key", far, "cfg.ini", 2),
        _finding("aws-secret-access-key", near, "cfg.ini", 11),
        _finding("aws-secret-access-key", other_file, "other.ini", 10),
    ]
    creds, unresolved = build_credentials(findings, by_id, specs.verify, "verify")
    assert len(creds) == 1
    assert creds[0].secret == key_id and creds[0].pair == near
    assert {f.line for f in creds[0].findings} == {10, 11}
    assert {u.finding.secret for u in unresolved} == {far, other_file}


def test_dry_run_plan_masks_every_secret() -> None:
    spec = parse_spec("acme", "revoke", {
        "base_url": "https://api.example.com", "method": "POST", "url": "{base}/v1/revoke/{secret}",
        "headers": {"Authorization": "Bearer {secret}"}, "json": {"api_key": "{secret}", "digest": "{secret_sha256}"},
        "cases": [{"status": 200, "result": "revoked"}],
    })
    secret = token("acme_{alnum:32}", "plan")
    f = _finding("acme-key", secret)
    steps = plan(spec, Credential("acme", "acme-key", "Acme", (f,), secret), {})
    text = repr(steps)
    assert secret not in text
    assert "acme_****" in steps[0].url and "Bearer acme_****" in dict(steps[0].headers)["Authorization"]
    assert steps[0].body is not None and '"api_key": "acme_****"' in steps[0].body.replace(":", ": ").replace(":  ", ": ")


def test_scrub_removes_raw_and_encoded_secrets() -> None:
    secret = "tok_a/b+c" + "x" * 20
    f = _finding("r", secret)
    cred = Credential("s", "r", "P", (f,), secret)
    assert secret not in scrub(f"echo {secret} and tok_a%2Fb%2Bc{'x' * 20}", cred)


def test_audit_log_is_private_append_only_and_keyed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / ".leaktrap" / "audit.jsonl")
    secret = token(seed="audit")
    sid = log.credential_id(secret)
    entry = AuditEntry("2026-01-01T00:00:00Z", "revoke", "r", "P", "github", "fp", sid, "submitted", "ok", 202, "POST https://x/y", True)
    log.append(entry)
    log.append(entry)
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.path.parent).st_mode) == 0o700
    lines = log.path.read_text().splitlines()
    assert len(lines) == 2 and secret not in log.path.read_text()
    assert json.loads(lines[0])["credential_id"] == sid
    assert log.already_revoked(sid, "github") is not None
    assert log.already_revoked(sid, "gitlab") is None  # one provider's result never stands for another's
    assert AuditLog(log.path).credential_id(secret) == sid  # the key persists beside the log
    other = AuditLog(tmp_path / "elsewhere" / "audit.jsonl")
    assert other.credential_id(secret) != sid  # a different key: the id is not a bare hash of the secret
