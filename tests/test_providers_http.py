"""The provider client against a real HTTP server on 127.0.0.1: exact requests, failure modes, safety."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import token
from scanner.model import Finding, fingerprint, redact
from scanner.providers.audit import AuditLog
from scanner.providers.http import ClientSettings, HttpRequest, UnsafeDestination, check_destination, retry_after, send
from scanner.providers.runner import CallContext, Credential, execute
from scanner.providers.spec import Specs, parse_specs
from scanner.rules import load_rules

HTML_WAF = "<!DOCTYPE html><html><head><title>Attention Required</title></head><body>Access denied</body></html>"


@pytest.fixture(scope="module")
def specs() -> Specs:
    _rules, verify, revoke = load_rules([])
    return parse_specs(verify, revoke)


def base(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def make_finding(rule_id: str, secret: str, path: str = "app.py", line: int = 1, provider: str = "GitHub") -> Finding:
    return Finding(
        rule_id=rule_id, provider=provider, description="", severity="high", confidence="high", path=path,
        line=line, column=1, end_column=1 + len(secret), redacted=redact(secret),
        fingerprint=fingerprint(rule_id, path, secret), entropy=4.0, secret=secret,
    )


def cred(spec: str, secret: str, rule_id: str = "github-pat-classic", pair: str | None = None) -> Credential:
    f = make_finding(rule_id, secret)
    return Credential(spec, rule_id, f.provider, (f,), secret, pair)


def context(tmp_path: Path, server: HTTPServer, *names: str, sleeps: list[float] | None = None, timeout: float = 2.0) -> CallContext:
    waits = sleeps if sleeps is not None else []
    settings = ClientSettings(timeout=timeout, backoff=0.01, max_wait=5.0, sleep=waits.append)
    return CallContext(settings, AuditLog(tmp_path / "audit.jsonl"), {n: base(server) for n in names})


# --- exact requests and the documented answers ---------------------------------------------


def test_github_verify_sends_the_documented_request(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("ghp_{alnum:36}", "gh-valid")
    srv.expect_oneshot_request(
        "/user", method="GET",
        headers={"Authorization": f"token {secret}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    ).respond_with_json({"login": "octocat", "id": 1})
    out = execute(specs.verify["github"], cred("github", secret), context(tmp_path, srv, "github"))
    assert (out.result, out.http_status, out.sent) == ("valid", 200, True)
    assert "octocat" in out.reason
    assert len(srv.log) == 1
    request = srv.log[0][0]
    assert request.data == b""
    assert request.headers["User-Agent"].startswith("leaktrap/")
    assert secret not in out.reason and secret not in out.endpoint


def test_github_verify_401_is_invalid(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_oneshot_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    out = execute(specs.verify["github"], cred("github", token(seed="gh-401")), context(tmp_path, srv, "github"))
    assert out.result == "invalid"


def test_github_revoke_posts_the_credential_unauthenticated(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    secret = token("ghp_{alnum:36}", "gh-revoke")
    srv.expect_oneshot_request("/credentials/revoke", method="POST", json={"credentials": [secret]}).respond_with_data("", status=202)
    out = execute(specs.revoke["github"], cred("github", secret), context(tmp_path, srv, "github"))
    assert out.result == "submitted"  # 202 is "accepted", never "revoked"
    request = srv.log[0][0]
    assert "Authorization" not in request.headers  # an authenticated call gets 403
    assert request.headers["Content-Type"] == "application/json"


def test_github_revoke_422_is_failed(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_oneshot_request("/credentials/revoke").respond_with_json({"message": "Validation Failed"}, status=422)
    out = execute(specs.revoke["github"], cred("github", token(seed="gh-422")), context(tmp_path, srv, "github"))
    assert out.result == "failed" and "Validation Failed" in out.reason


# --- failure modes: always unknown, never valid --------------------------------------------


def test_429_with_retry_after_then_success(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_ordered_request("/user").respond_with_json({"message": "slow down"}, status=429, headers={"Retry-After": "1"})
    srv.expect_ordered_request("/user").respond_with_json({"login": "octocat"})
    sleeps: list[float] = []
    out = execute(specs.verify["github"], cred("github", token(seed="429")), context(tmp_path, srv, "github", sleeps=sleeps))
    assert out.result == "valid"
    assert sleeps == [1.0]  # honoured Retry-After
    assert len(srv.log) == 2


def test_429_with_a_long_retry_after_gives_up_at_once(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_request("/user").respond_with_json({}, status=429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    out = execute(specs.verify["github"], cred("github", token(seed="429b")), context(tmp_path, srv, "github", sleeps=sleeps))
    assert out.result == "unknown" and "429" in out.reason and "3600" in out.reason
    assert sleeps == [] and len(srv.log) == 1


def test_500_is_retried_a_bounded_number_of_times_then_unknown(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_request("/user").respond_with_json({"login": "octocat"}, status=500)
    sleeps: list[float] = []
    out = execute(specs.verify["github"], cred("github", token(seed="500")), context(tmp_path, srv, "github", sleeps=sleeps))
    assert out.result == "unknown" and "500" in out.reason
    assert len(srv.log) == 3  # one call and two retries
    assert sleeps == [0.01, 0.02]  # exponential backoff


def test_html_waf_page_is_unknown_even_with_200_or_403(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_ordered_request("/user").respond_with_data(HTML_WAF, status=403, content_type="text/html")
    srv.expect_ordered_request("/user").respond_with_data(HTML_WAF, status=200, content_type="application/json")
    ctx = context(tmp_path, srv, "github")
    first = execute(specs.verify["github"], cred("github", token(seed="waf")), ctx)
    second = execute(specs.verify["github"], cred("github", token(seed="waf")), ctx)
    assert first.result == "unknown" and "HTML" in first.reason
    assert second.result == "unknown" and "HTML" in second.reason


def test_200_with_an_unexpected_body_is_unknown(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    srv.expect_ordered_request("/user").respond_with_json({"status": "ok"})
    srv.expect_ordered_request("/user").respond_with_data("verified", status=200)
    ctx = context(tmp_path, srv, "github")
    assert execute(specs.verify["github"], cred("github", token(seed="odd")), ctx).result == "unknown"
    assert execute(specs.verify["github"], cred("github", token(seed="odd")), ctx).result == "unknown"


def test_timeout_is_unknown(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(1.0)
        return Response(json.dumps({"login": "late"}), content_type="application/json")

    srv.expect_request("/user").respond_with_handler(slow)
    started = time.monotonic()
    out = execute(specs.verify["github"], cred("github", token(seed="slow")), context(tmp_path, srv, "github", timeout=0.2))
    assert out.result == "unknown" and "timed out" in out.reason
    assert time.monotonic() - started < 0.9
    assert len(srv.log) <= 1  # a timeout is not retried


def test_redirect_to_another_host_is_not_followed(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request("/steal").respond_with_json({"login": "attacker"})
        target = f"http://localhost:{other.port}/steal"
        srv.expect_request("/user").respond_with_data("", status=302, headers={"Location": target})
        out = execute(specs.verify["github"], cred("github", token(seed="redir")), context(tmp_path, srv, "github"))
        assert out.result == "unknown" and "redirect" in out.reason and "not followed" in out.reason
        assert other.log == []  # the other host got nothing
        assert len(srv.log) == 1
    finally:
        other.clear()
        other.stop()


def test_connection_refused_is_unknown(specs: Specs, tmp_path: Path) -> None:
    dead = HTTPServer(host="127.0.0.1", port=0)
    dead.start()
    url = dead.url_for("").rstrip("/")
    dead.stop()
    settings = ClientSettings(timeout=1.0, sleep=lambda _s: None)
    ctx = CallContext(settings, AuditLog(tmp_path / "a.jsonl"), {"github": url})
    out = execute(specs.verify["github"], cred("github", token(seed="dead")), ctx)
    assert out.result == "unknown" and "connection failed" in out.reason


# --- safety of destinations ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://example.com/x", "http://10.0.0.1/", "ftp://127.0.0.1/", "https://user:pw@example.com/", "file:///etc/passwd", "http:///nohost"],
)
def test_unsafe_destinations_are_refused(url: str) -> None:
    with pytest.raises(UnsafeDestination):
        check_destination(url)


@pytest.mark.parametrize("url", ["https://api.github.com/user", "http://127.0.0.1:8080/", "http://127.5.5.5/", "http://[::1]:9/", "http://localhost:1/"])
def test_safe_destinations(url: str) -> None:
    check_destination(url)


def test_send_refuses_plain_http_to_a_remote_host() -> None:
    with pytest.raises(UnsafeDestination):
        send(HttpRequest("GET", "http://example.com/"), ClientSettings(timeout=0.1))


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_rate_limit_is_counted_from_the_audit_log(srv: HTTPServer, specs: Specs, tmp_path: Path) -> None:
    from scanner.providers.actions import record

    srv.expect_request("/credentials/revoke").respond_with_data("", status=202)
    ctx = context(tmp_path, srv, "github")
    spec = specs.revoke["github"]
    assert spec.rate_limit is not None and spec.rate_limit.count == 60
    for i in range(60):
        c = cred("github", token(seed=f"rl{i}"))
        record(ctx, "revoke", c, execute(spec, c, ctx))
    assert len(srv.log) == 60
    out = execute(spec, cred("github", token(seed="rl-61")), ctx)
    assert out.result == "unknown" and "rate limit" in out.reason and not out.sent
    assert len(srv.log) == 60  # the 61st was not sent
