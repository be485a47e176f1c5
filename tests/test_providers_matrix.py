"""Every shipped spec against a server on 127.0.0.1 that speaks the provider's documented shapes.

Each provider: verify valid and invalid, revoke success (where it has a revoke spec), with the
exact request asserted (method, path, headers, body). Two-step revocations (npm, Heroku) and
AWS SigV4 signing have their own tests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer

from conftest import token
from scanner.model import Finding, fingerprint, redact
from scanner.providers import sigv4
from scanner.providers.audit import AuditLog
from scanner.providers.http import ClientSettings
from scanner.providers.runner import CallContext, Credential, execute
from scanner.providers.spec import Specs, parse_specs
from scanner.rules import load_rules

_UNSET: Any = object()


@pytest.fixture(scope="module")
def specs() -> Specs:
    _rules, verify, revoke = load_rules([])
    return parse_specs(verify, revoke)


def ctx(tmp_path: Path, server: HTTPServer, name: str, now: datetime | None = None) -> CallContext:
    settings = ClientSettings(timeout=2.0, backoff=0.01, sleep=lambda _s: None)
    base = server.url_for("").rstrip("/")
    if now is None:
        return CallContext(settings, AuditLog(tmp_path / "audit.jsonl"), {name: base})
    return CallContext(settings, AuditLog(tmp_path / "audit.jsonl"), {name: base}, now=lambda: now)


def credential(spec: str, rule_id: str, secret: str, pair: str | None = None) -> Credential:
    f = Finding(
        rule_id=rule_id, provider=spec, description="", severity="high", confidence="high", path="app.py",
        line=1, column=1, end_column=2, redacted=redact(secret), fingerprint=fingerprint(rule_id, "app.py", secret),
        entropy=4.0, secret=secret,
    )
    return Credential(spec, rule_id, spec, (f,), secret, pair)


@dataclass
class Shape:
    id: str
    action: str
    spec: str
    rule_id: str
    template: str
    method: str
    path: str
    headers: dict[str, str]
    status: int
    expect: str
    reply: Any = None  # JSON answer; a str is sent as is
    json: Any = _UNSET  # the JSON body we must send ({secret} filled)
    form: dict[str, str] | None = None  # the form body we must send
    absent: tuple[str, ...] = ()  # headers that must not be sent
    extra: dict[str, str] = field(default_factory=dict)  # reply headers
    query: str | None = None  # the exact query string we must send (never the secret)
    no_body: bool = False  # a call that must send no body


B = "Bearer {secret}"
SHAPES = [
    # GitHub
    Shape("github-verify-valid", "verify", "github", "github-pat-classic", "ghp_{alnum:36}", "GET", "/user", {"Authorization": "token {secret}"}, 200, "valid", {"login": "octocat"}),
    Shape("github-verify-invalid", "verify", "github", "github-pat-classic", "ghp_{alnum:36}", "GET", "/user", {"Authorization": "token {secret}"}, 401, "invalid", {"message": "Bad credentials"}),
    Shape("github-revoke", "revoke", "github", "github-pat-fine-grained", "github_pat_{alnum:22}_{alnum:59}", "POST", "/credentials/revoke", {"Accept": "application/vnd.github+json"}, 202, "submitted", "", json={"credentials": ["{secret}"]}, absent=("Authorization",)),
    # GitLab
    Shape("gitlab-verify-valid", "verify", "gitlab", "gitlab-pat", "glpat-{alnum:20}", "GET", "/api/v4/personal_access_tokens/self", {"PRIVATE-TOKEN": "{secret}"}, 200, "valid", {"id": 4, "name": "ci", "active": True, "revoked": False, "scopes": ["api"]}),
    Shape("gitlab-verify-invalid", "verify", "gitlab", "gitlab-pat", "glpat-{alnum:20}", "GET", "/api/v4/personal_access_tokens/self", {"PRIVATE-TOKEN": "{secret}"}, 401, "invalid", {"message": "401 Unauthorized"}),
    Shape("gitlab-revoke", "revoke", "gitlab", "gitlab-pat", "glpat-{alnum:20}", "DELETE", "/api/v4/personal_access_tokens/self", {"PRIVATE-TOKEN": "{secret}"}, 204, "revoked", ""),
    Shape("gitlab-revoke-rejected", "revoke", "gitlab", "gitlab-pat", "glpat-{alnum:20}", "DELETE", "/api/v4/personal_access_tokens/self", {"PRIVATE-TOKEN": "{secret}"}, 401, "failed", {"message": "401 Unauthorized"}),
    # Slack: always 200, the body decides
    Shape("slack-verify-valid", "verify", "slack", "slack-bot-token", "xoxb-{digit:12}-{digit:13}-{alnum:24}", "POST", "/api/auth.test", {"Authorization": B}, 200, "valid", {"ok": True, "team": "Acme", "user": "bot"}),
    Shape("slack-verify-invalid", "verify", "slack", "slack-bot-token", "xoxb-{digit:12}-{digit:13}-{alnum:24}", "POST", "/api/auth.test", {"Authorization": B}, 200, "invalid", {"ok": False, "error": "invalid_auth"}),
    Shape("slack-verify-other-error", "verify", "slack", "slack-bot-token", "xoxb-{digit:12}-{digit:13}-{alnum:24}", "POST", "/api/auth.test", {"Authorization": B}, 200, "unknown", {"ok": False, "error": "ratelimited"}),
    Shape("slack-revoke", "revoke", "slack", "slack-user-token", "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}", "POST", "/api/auth.revoke", {"Authorization": B}, 200, "revoked", {"ok": True, "revoked": True}),
    Shape("slack-revoke-ok-not-revoked", "revoke", "slack", "slack-user-token", "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}", "POST", "/api/auth.revoke", {"Authorization": B}, 200, "failed", {"ok": True, "revoked": False}),
    Shape("slack-revoke-bad-token", "revoke", "slack", "slack-user-token", "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}", "POST", "/api/auth.revoke", {"Authorization": B}, 200, "failed", {"ok": False, "error": "invalid_auth"}),
    # Stripe
    Shape("stripe-verify-valid", "verify", "stripe", "stripe-live-secret-key", "sk_live_{alnum:99}", "GET", "/v1/account", {"Authorization": B}, 200, "valid", {"id": "acct_1", "object": "account"}),
    Shape("stripe-verify-restricted", "verify", "stripe", "stripe-live-restricted-key", "rk_live_{alnum:99}", "GET", "/v1/account", {"Authorization": B}, 403, "valid", {"error": {"type": "invalid_request_error", "message": "The provided key does not have the required permissions for this endpoint"}}),
    Shape("stripe-verify-invalid", "verify", "stripe", "stripe-live-secret-key", "sk_live_{alnum:99}", "GET", "/v1/account", {"Authorization": B}, 401, "invalid", {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}),
    # OpenAI
    Shape("openai-verify-valid", "verify", "openai", "openai-project-key", "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", "GET", "/v1/models", {"Authorization": B}, 200, "valid", {"object": "list", "data": []}),
    Shape("openai-verify-invalid", "verify", "openai", "openai-project-key", "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", "GET", "/v1/models", {"Authorization": B}, 401, "invalid", {"error": {"code": "invalid_api_key", "message": "Incorrect API key provided"}}),
    Shape("openai-verify-quota", "verify", "openai", "openai-project-key", "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", "GET", "/v1/models", {"Authorization": B}, 403, "unknown", {"error": {"code": "unsupported_country_region_territory"}}),
    # Anthropic
    Shape("anthropic-verify-valid", "verify", "anthropic", "anthropic-api-key", "sk-ant-api03-{b64url:93}AA", "GET", "/v1/models", {"x-api-key": "{secret}", "anthropic-version": "2023-06-01"}, 200, "valid", {"data": [{"id": "m"}], "has_more": False}),
    Shape("anthropic-verify-invalid", "verify", "anthropic", "anthropic-api-key", "sk-ant-api03-{b64url:93}AA", "GET", "/v1/models", {"x-api-key": "{secret}"}, 401, "invalid", {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
    # Hugging Face
    Shape("huggingface-verify-valid", "verify", "huggingface", "huggingface-access-token", "hf_{alpha:34}", "GET", "/api/whoami-v2", {"Authorization": B}, 200, "valid", {"type": "user", "name": "ada"}),
    Shape("huggingface-verify-invalid", "verify", "huggingface", "huggingface-access-token", "hf_{alpha:34}", "GET", "/api/whoami-v2", {"Authorization": B}, 401, "invalid", {"error": "Invalid credentials in Authorization header"}),
    Shape("huggingface-revoke", "revoke", "huggingface", "huggingface-access-token", "hf_{alpha:34}", "POST", "/api/credentials/revoke", {}, 202, "submitted", "", json={"credentials": ["{secret}"]}, absent=("Authorization",)),
    # npm (revoke: see the two-step tests)
    Shape("npm-verify-valid", "verify", "npm", "npm-access-token", "npm_{alnum:36}", "GET", "/-/whoami", {"Authorization": B}, 200, "valid", {"username": "ada"}),
    Shape("npm-verify-invalid", "verify", "npm", "npm-access-token", "npm_{alnum:36}", "GET", "/-/whoami", {"Authorization": B}, 401, "invalid", {"error": "Unauthorized"}),
    # SendGrid
    Shape("sendgrid-verify-valid", "verify", "sendgrid", "sendgrid-api-key", "SG.{b64url:22}.{b64url:43}", "GET", "/v3/scopes", {"Authorization": B}, 200, "valid", {"scopes": ["mail.send"]}),
    Shape("sendgrid-verify-invalid", "verify", "sendgrid", "sendgrid-api-key", "SG.{b64url:22}.{b64url:43}", "GET", "/v3/scopes", {"Authorization": B}, 401, "invalid", {"errors": [{"field": None, "message": "authorization required"}]}),
    # DigitalOcean
    Shape("digitalocean-verify-valid", "verify", "digitalocean", "digitalocean-pat", "dop_v1_{hex:64}", "GET", "/v2/account", {"Authorization": B}, 200, "valid", {"account": {"status": "active", "uuid": "u"}}),
    Shape("digitalocean-verify-invalid", "verify", "digitalocean", "digitalocean-pat", "dop_v1_{hex:64}", "GET", "/v2/account", {"Authorization": B}, 401, "invalid", {"id": "unauthorized", "message": "Unable to authenticate you"}),
    Shape("digitalocean-revoke", "revoke", "digitalocean", "digitalocean-pat", "dop_v1_{hex:64}", "POST", "/v1/oauth/revoke", {"Authorization": B}, 200, "revoked", {}, form={"token": "{secret}"}),
    # Heroku (revoke: see the two-step tests)
    Shape("heroku-verify-valid", "verify", "heroku", "heroku-api-key-v2", "HRKU-AA{b64url:58}", "GET", "/account", {"Authorization": B, "Accept": "application/vnd.heroku+json; version=3"}, 200, "valid", {"id": "01234567-89ab-cdef-0123-456789abcdef", "email": "a@example.test"}),
    Shape("heroku-verify-invalid", "verify", "heroku", "heroku-api-key-v2", "HRKU-AA{b64url:58}", "GET", "/account", {"Authorization": B}, 401, "invalid", {"id": "unauthorized", "message": "Invalid credentials provided."}),
    # Buildkite
    Shape("buildkite-verify-valid", "verify", "buildkite", "buildkite-api-access-token", "bkua_{hex:40}", "GET", "/v2/access-token", {"Authorization": B}, 200, "valid", {"uuid": "b1", "scopes": ["read_builds"]}),
    Shape("buildkite-verify-invalid", "verify", "buildkite", "buildkite-api-access-token", "bkua_{hex:40}", "GET", "/v2/access-token", {"Authorization": B}, 401, "invalid", {"message": "Authentication required"}),
    Shape("buildkite-revoke", "revoke", "buildkite", "buildkite-api-access-token", "bkua_{hex:40}", "DELETE", "/v2/access-token", {"Authorization": B}, 204, "revoked", ""),
    # crates.io: the token itself is the Authorization value
    Shape("crates-io-revoke", "revoke", "crates-io", "crates-io-api-token", "cio{alnum:32}", "DELETE", "/api/v1/tokens/current", {"Authorization": "{secret}"}, 204, "revoked", ""),
    Shape("crates-io-revoke-rejected", "revoke", "crates-io", "crates-io-api-token", "cio{alnum:32}", "DELETE", "/api/v1/tokens/current", {"Authorization": "{secret}"}, 403, "failed", {"errors": [{"detail": "authentication failed"}]}),
    # Vercel
    Shape("vercel-verify-valid", "verify", "vercel", "vercel-personal-access-token", "vcp_{alnum:56}", "GET", "/v2/user", {"Authorization": B}, 200, "valid", {"user": {"username": "ada"}}),
    Shape("vercel-verify-invalid", "verify", "vercel", "vercel-personal-access-token", "vcp_{alnum:56}", "GET", "/v2/user", {"Authorization": B}, 403, "invalid", {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}),
    Shape("vercel-revoke", "revoke", "vercel", "vercel-personal-access-token", "vcp_{alnum:56}", "DELETE", "/v3/user/tokens/current", {"Authorization": B}, 200, "revoked", {"tokenId": "t1"}),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_provider_shape(shape: Shape, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token(shape.template, shape.id)
    fill = lambda v: v.replace("{secret}", secret)  # noqa: E731
    headers = {k: fill(v) for k, v in shape.headers.items()}
    expect: dict[str, Any] = {"method": shape.method, "headers": headers}
    if shape.json is not _UNSET:
        expect["json"] = json.loads(fill(json.dumps(shape.json)))
    if shape.query is not None:
        expect["query_string"] = shape.query
    handler = srv.expect_oneshot_request(shape.path, **expect)
    if isinstance(shape.reply, str):
        handler.respond_with_data(shape.reply, status=shape.status, headers=shape.extra)
    else:
        handler.respond_with_json(shape.reply, status=shape.status, headers=shape.extra)
    spec = (specs.verify if shape.action == "verify" else specs.revoke)[shape.spec]
    out = execute(spec, credential(shape.spec, shape.rule_id, secret), ctx(tmp_path, srv, shape.spec))
    assert len(srv.log) == 1, [r.path for r, _ in srv.log]
    request = srv.log[0][0]
    assert srv.log[0][1].status_code == shape.status  # the oneshot handler matched: method, path, headers, body
    for name in shape.absent:
        assert name not in request.headers
    assert secret not in request.query_string.decode()  # never in the URL
    if shape.no_body:
        assert request.get_data() == b""
    if shape.form is not None:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert parse_qs(request.get_data(as_text=True)) == {k: [fill(v)] for k, v in shape.form.items()}
    assert out.result == shape.expect, out.reason
    assert secret not in out.reason and secret not in out.endpoint


def assert_rules_name_specs(specs: Specs, named: Any, unverified: tuple[str, ...] = ()) -> None:
    """Each (spec, rule id, ...) of ``named``: the spec is shipped and the rule names it;
    the ``unverified`` rules (credential kinds no endpoint can judge) name no verify spec."""
    by_id = {r.id: r for r in load_rules([])[0]}
    for spec, rule_id, *_rest in named:
        assert spec in specs.verify, spec
        assert by_id[rule_id].verify == spec, rule_id
    for rule_id in unverified:
        assert not by_id[rule_id].verify, rule_id


def test_every_required_provider_has_its_specs(specs: Specs) -> None:
    for name in ("github", "gitlab", "slack", "stripe", "openai", "anthropic", "huggingface", "npm", "sendgrid", "digitalocean", "heroku", "aws"):
        assert name in specs.verify, name
    for name in ("github", "gitlab", "slack", "huggingface", "buildkite", "crates-io", "vercel", "digitalocean", "heroku", "npm"):
        assert name in specs.revoke, name


def test_every_shipped_spec_has_a_valid_and_an_invalid_case(specs: Specs) -> None:
    for spec in specs.verify.values():
        results = {c.result for step in spec.steps for c in step.cases}
        assert {"valid", "invalid"} <= results, spec.name
    for spec in specs.revoke.values():
        results = {c.result for c in spec.steps[-1].cases}
        assert results & {"revoked", "submitted"}, spec.name


def test_admin_keys_are_not_sent_where_the_endpoint_cannot_judge_them(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("sk-admin-{b64url:74}T3BlbkFJ{b64url:74}", "admin")
    out = execute(specs.verify["openai"], credential("openai", "openai-admin-key", secret), ctx(tmp_path, srv, "openai"))
    assert out.result == "unknown" and not out.sent and srv.log == []


# --- two-step revocations: exact identification or nothing ------------------------------------


def _npm_listing(secret: str, *others: str) -> dict[str, Any]:
    def entry(value: str) -> dict[str, Any]:
        return {"token": value[:6] + "…", "key": hashlib.sha512(value.encode()).hexdigest(), "readonly": False, "cidr_whitelist": None}

    return {"objects": [entry(o) for o in others] + ([entry(secret)] if secret else []), "total": 3, "urls": {}}


def test_npm_revoke_finds_the_exact_token_then_deletes_it(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("npm_{alnum:36}", "npm-2step")
    others = [token("npm_{alnum:36}", f"npm-other{i}") for i in range(2)]
    key = hashlib.sha512(secret.encode()).hexdigest()
    srv.expect_ordered_request("/-/npm/v1/tokens", method="GET", headers={"Authorization": f"Bearer {secret}"}).respond_with_json(_npm_listing(secret, *others))
    srv.expect_ordered_request(f"/-/npm/v1/tokens/token/{key}", method="DELETE", headers={"Authorization": f"Bearer {secret}"}).respond_with_data("", status=204)
    out = execute(specs.revoke["npm"], credential("npm", "npm-access-token", secret), ctx(tmp_path, srv, "npm"))
    assert out.result == "revoked", out.reason
    assert [r.method for r, _ in srv.log] == ["GET", "DELETE"]


def test_npm_revoke_deletes_nothing_when_the_token_is_not_listed(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("npm_{alnum:36}", "npm-absent")
    others = [token("npm_{alnum:36}", f"npm-x{i}") for i in range(3)]
    srv.expect_request("/-/npm/v1/tokens", method="GET").respond_with_json(_npm_listing("", *others))
    out = execute(specs.revoke["npm"], credential("npm", "npm-access-token", secret), ctx(tmp_path, srv, "npm"))
    assert out.result == "failed" and "refusing to guess" in out.reason
    assert [r.method for r, _ in srv.log] == ["GET"]  # no "delete the first key in the list"


def test_heroku_revoke_two_steps(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("HRKU-AA{b64url:58}", "heroku-2step")
    other = token("HRKU-AA{b64url:58}", "heroku-other")
    listing = [
        {"id": "auth-1", "access_token": {"id": "tok-other", "token": other, "expires_in": None}},
        {"id": "auth-2", "access_token": {"id": "tok-ours", "token": secret, "expires_in": None}},
        {"id": "auth-3", "access_token": None},
    ]
    accept = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {secret}"}
    srv.expect_ordered_request("/oauth/authorizations", method="GET", headers=accept).respond_with_json(listing)
    srv.expect_ordered_request("/oauth/tokens/tok-ours", method="DELETE", headers=accept).respond_with_json({"id": "tok-ours"})
    out = execute(specs.revoke["heroku"], credential("heroku", "heroku-api-key-v2", secret), ctx(tmp_path, srv, "heroku"))
    assert out.result == "revoked", out.reason
    assert [r.path for r, _ in srv.log] == ["/oauth/authorizations", "/oauth/tokens/tok-ours"]


def test_heroku_revoke_refuses_two_matches(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("HRKU-AA{b64url:58}", "heroku-dup")
    listing = [{"id": f"a{i}", "access_token": {"id": f"t{i}", "token": secret}} for i in range(2)]
    srv.expect_request("/oauth/authorizations").respond_with_json(listing)
    out = execute(specs.revoke["heroku"], credential("heroku", "heroku-api-key-v2", secret), ctx(tmp_path, srv, "heroku"))
    assert out.result == "failed" and "matched 2" in out.reason
    assert len(srv.log) == 1


# --- AWS: STS GetCallerIdentity signed with SigV4 ---------------------------------------------


def _aws_pair(seed: str) -> tuple[str, str]:
    return token("AKIA{alnum_upper:16}", seed), token("{b64:40}", seed + "s")


def test_aws_verify_signs_get_caller_identity(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    key_id, secret_key = _aws_pair("aws-ok")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    reply = {"GetCallerIdentityResponse": {"GetCallerIdentityResult": {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDA"}}}
    srv.expect_oneshot_request("/", method="POST", headers={"Accept": "application/json", "X-Amz-Date": "20260102T030405Z"}).respond_with_json(reply)
    out = execute(specs.verify["aws"], credential("aws", "aws-access-key-id", key_id, secret_key), ctx(tmp_path, srv, "aws", now=moment))
    assert out.result == "valid" and "arn:aws:iam::123456789012:user/ci" in out.reason
    request = srv.log[0][0]
    body = request.get_data()
    assert parse_qs(body.decode()) == {"Action": ["GetCallerIdentity"], "Version": ["2011-06-15"]}
    auth = request.headers["Authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={key_id}/20260102/us-east-1/sts/aws4_request, ")
    assert secret_key not in auth
    # the server side recomputes the signature from what it received
    signed = sigv4.sign(
        "POST", srv.url_for("/"), {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}, body,
        access_key=key_id, secret_key=secret_key, region="us-east-1", service="sts", now=moment,
    )
    assert signed["Authorization"] == auth


@pytest.mark.parametrize(
    ("status", "reply", "expect"),
    [
        (403, {"Error": {"Code": "InvalidClientTokenId", "Message": "The security token included in the request is invalid."}}, "invalid"),
        (403, {"Error": {"Code": "SignatureDoesNotMatch", "Message": "..."}}, "invalid"),
        (400, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>", "invalid"),
        (403, {"Error": {"Code": "AccessDenied"}}, "unknown"),
    ],
)
def test_aws_verify_errors(status: int, reply: Any, expect: str, srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    key_id, secret_key = _aws_pair(f"aws-{status}-{expect}")
    handler = srv.expect_oneshot_request("/", method="POST")
    if isinstance(reply, str):
        handler.respond_with_data(reply, status=status, content_type="text/xml")
    else:
        handler.respond_with_json(reply, status=status)
    out = execute(specs.verify["aws"], credential("aws", "aws-access-key-id", key_id, secret_key), ctx(tmp_path, srv, "aws"))
    assert out.result == expect, out.reason


def test_aws_without_its_secret_key_is_not_sent(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    key_id, _ = _aws_pair("aws-alone")
    out = execute(specs.verify["aws"], credential("aws", "aws-access-key-id", key_id), ctx(tmp_path, srv, "aws"))
    assert out.result == "unknown" and "partner" in out.reason and srv.log == []


def test_aws_temporary_keys_are_not_sent(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    key_id = token("ASIA{alnum_upper:16}", "asia")
    out = execute(specs.verify["aws"], credential("aws", "aws-temporary-access-key-id", key_id, "x" * 40), ctx(tmp_path, srv, "aws"))
    assert out.result == "unknown" and "session token" in out.reason and srv.log == []
