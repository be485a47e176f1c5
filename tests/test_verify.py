"""`leaktrap verify` as a user runs it, against a real HTTP server on 127.0.0.1.

Every run gets proxies pointing at a dead loopback port: a call that escaped the base URL
overrides would fail there instead of reaching the internet.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from conftest import NO_NETWORK, Result, run_cli, token

def url(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def leaktrap(*args: str, cwd: Path) -> Result:
    return run_cli(*args, cwd=cwd, env=NO_NETWORK)


def assert_never_leaked(secrets: list[str], result: Result, *files: Path) -> None:
    for secret in secrets:
        assert secret not in result.out and secret not in result.err
        for f in files:
            if f.exists():
                assert secret not in f.read_text(errors="replace"), f


def audit_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_verify_reports_valid_and_invalid_and_logs_every_call(srv: HTTPServer, tmp_path: Path) -> None:
    live, dead = token(seed="cli-live"), token(seed="cli-dead")
    project = tmp_path / "project"
    project.mkdir()
    (project / "live.py").write_text(f'TOKEN = "{live}"\n')
    (project / "dead.py").write_text(f'OLD = "{dead}"\n')
    srv.expect_request("/user", headers={"Authorization": f"token {live}"}).respond_with_json({"login": "octocat"})
    srv.expect_request("/user", headers={"Authorization": f"token {dead}"}).respond_with_json({"message": "Bad credentials"}, status=401)
    audit = tmp_path / "audit.jsonl"
    res = leaktrap("verify", "--base-url", f"github={url(srv)}", "--audit-log", str(audit), ".", cwd=project)
    assert res.code == 1, res.err  # a live credential
    lines = res.out.splitlines()
    assert any(line.startswith("VALID") and "live.py:1" in line and "octocat" in line for line in lines), res.out
    assert any(line.startswith("INVALID") and "dead.py:1" in line for line in lines), res.out
    assert "ghp_****" in res.out
    assert len(srv.log) == 2
    entries = audit_lines(audit)
    assert {e["result"] for e in entries} == {"valid", "invalid"}
    for e in entries:
        assert set(e) >= {"time", "rule", "provider", "fingerprint", "action", "result", "http_status", "credential_id"}
        assert e["action"] == "verify" and e["provider"] == "GitHub" and e["sent"] is True
    assert_never_leaked([live, dead], res, audit)


def test_verify_with_only_dead_credentials_exits_0(srv: HTTPServer, tmp_path: Path) -> None:
    dead = token(seed="only-dead")
    (tmp_path / "a.py").write_text(f"t = '{dead}'\n")
    srv.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    res = leaktrap("verify", "--base-url", f"github={url(srv)}", "--format", "json", ".", cwd=tmp_path)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["schema"] == "leaktrap-verify"
    assert [(r["result"], r["path"], r["http_status"]) for r in doc["results"]] == [("invalid", "a.py", 401)]
    assert (tmp_path / ".leaktrap" / "audit.jsonl").is_file()  # default location: the repository root
    assert_never_leaked([dead], res, tmp_path / ".leaktrap" / "audit.jsonl")


def test_verify_honours_retry_after_end_to_end(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="cli-429")
    (tmp_path / "a.py").write_text(f"t = '{secret}'\n")
    srv.expect_ordered_request("/user").respond_with_json({"message": "rate"}, status=429, headers={"Retry-After": "1"})
    srv.expect_ordered_request("/user").respond_with_json({"login": "octocat"})
    started = time.monotonic()
    res = leaktrap("verify", "--base-url", f"github={url(srv)}", ".", cwd=tmp_path)
    assert time.monotonic() - started >= 1.0
    assert res.code == 1 and res.out.startswith("VALID"), res.out + res.err
    assert len(srv.log) == 2


@pytest.mark.parametrize(
    ("status", "body", "ctype", "reason"),
    [
        (403, "<!DOCTYPE html><html><body>Request blocked</body></html>", "text/html", "HTML page"),
        (200, json.dumps({"verified": True}), "application/json", "unexpected response"),
        (503, json.dumps({"login": "octocat"}), "application/json", "provider error"),
    ],
)
def test_verify_failure_modes_are_unknown(status: int, body: str, ctype: str, reason: str, srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed=f"mode-{status}")
    (tmp_path / "a.py").write_text(f"t = '{secret}'\n")
    srv.expect_request("/user").respond_with_data(body, status=status, content_type=ctype, headers={"Retry-After": "0"})
    res = leaktrap("verify", "--base-url", f"github={url(srv)}", ".", cwd=tmp_path)
    assert res.code == 0, res.err  # unknown is never "valid"
    assert res.out.startswith("UNKNOWN") and reason in res.out, res.out
    assert_never_leaked([secret], res)


def test_verify_timeout_is_unknown(srv: HTTPServer, tmp_path: Path) -> None:
    from werkzeug import Response

    def slow(_request: object) -> Response:
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    secret = token(seed="cli-slow")
    (tmp_path / "a.py").write_text(f"t = '{secret}'\n")
    srv.expect_request("/user").respond_with_handler(slow)
    res = leaktrap("verify", "--timeout", "0.3", "--base-url", f"github={url(srv)}", ".", cwd=tmp_path)
    assert res.code == 0 and res.out.startswith("UNKNOWN") and "timed out" in res.out, res.out + res.err


def test_findings_without_an_endpoint_are_unknown_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("t = '" + token("ghs_{alnum:36}", "app") + "'\n")
    res = leaktrap("verify", ".", cwd=tmp_path)
    assert res.code == 0
    assert res.out.startswith("UNKNOWN") and "no verify endpoint for rule github-app-installation-token" in res.out


def test_verify_from_a_json_report_rescans_and_matches_fingerprints(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="report")
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text(f"\n\nKEY = '{secret}'\n")
    report = tmp_path / "report.json"
    scan = run_cli("scan", "--format", "json", "-o", str(report), "project", cwd=tmp_path)
    assert scan.code == 1 and secret not in report.read_text()
    srv.expect_request("/user").respond_with_json({"login": "octocat"})
    res = leaktrap("verify", "--report", str(report), "--base-url", f"github={url(srv)}", cwd=tmp_path)
    assert res.code == 1, res.err
    assert res.out.startswith("VALID") and "src/app.py:3" in res.out
    # after the file changed, the finding is reported as not found again, never guessed
    (project / "src" / "app.py").write_text("KEY = None\n")
    again = leaktrap("verify", "--report", str(report), "--base-url", f"github={url(srv)}", cwd=tmp_path)
    assert again.code == 0 and "not found again" in again.err
    assert_never_leaked([secret], res)


def test_verify_from_a_report_with_raw_secrets(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="raw-report")
    (tmp_path / "a.py").write_text(f"t = '{secret}'\n")
    report = tmp_path / "r.json"
    run_cli("scan", "--format", "json", "--show-secrets", "-o", str(report), ".", cwd=tmp_path)
    (tmp_path / "a.py").unlink()  # the report alone is enough
    srv.expect_request("/user").respond_with_json({"login": "octocat"})
    res = leaktrap("verify", "--report", str(report), "--base-url", f"github={url(srv)}", cwd=tmp_path)
    assert res.code == 1 and res.out.startswith("VALID"), res.out + res.err


def test_aws_key_pair_is_verified_with_a_sigv4_request(srv: HTTPServer, tmp_path: Path) -> None:
    key_id = token("AKIA{alnum_upper:16}", "cli-aws")
    secret_key = token("{b64:40}", "cli-aws-secret")
    (tmp_path / "settings.ini").write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\nregion = eu-west-1\n"
    )
    reply = {"GetCallerIdentityResponse": {"GetCallerIdentityResult": {"Arn": "arn:aws:iam::123456789012:user/ci", "Account": "123456789012"}}}
    srv.expect_request("/", method="POST").respond_with_json(reply)
    res = leaktrap("verify", "--base-url", f"aws={url(srv)}", ".", cwd=tmp_path)
    assert res.code == 1, res.out + res.err
    # only STS calls count: under a loaded machine the previous test's GitHub call has been seen
    # landing in this log after the fixture cleared it
    sts_calls = [entry for entry in srv.log if entry[0].method == "POST" and entry[0].path == "/"]
    assert len(sts_calls) == 1
    auth = sts_calls[0][0].headers["Authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={key_id}/") and "/us-east-1/sts/aws4_request" in auth
    valid_lines = [line for line in res.out.splitlines() if line.startswith("VALID")]
    assert len(valid_lines) == 2  # the key id and its secret key share the result
    assert "user/ci" in res.out
    assert_never_leaked([secret_key], res)


def test_base_url_must_be_https_or_loopback(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("t = '" + token(seed="https") + "'\n")
    res = leaktrap("verify", "--base-url", "github=http://example.com", ".", cwd=tmp_path)
    assert res.code == 2 and "plain http is allowed only to loopback" in res.err
    res = leaktrap("verify", "--base-url", "nosuch=https://example.com", ".", cwd=tmp_path)
    assert res.code == 2 and "no verify or revoke spec" in res.err


IN_HOUSE_RULES = """\
provider = "Acme"

[[rules]]
id = "acme-api-key"
description = "Acme in-house API key"
regex = '''\\b(?P<secret>acme_[A-Za-z0-9]{32})\\b'''
keywords = ["acme_"]
severity = "critical"
verify = "acme"
revoke = "acme"
[rules.examples]
positive = ['ACME_API_KEY = "acme_{alnum:32}"']

[verify.acme]
base_url = "https://api.acme.example"
method = "GET"
url = "{base}/v1/account_details"
headers = { Authorization = "Bearer {secret}" }
[[verify.acme.cases]]
status = 200
body = "json"
result = "valid"
reason = "live: account {account_id}"
[[verify.acme.cases]]
status = [401, 403]
result = "invalid"
reason = "key rejected"

[revoke.acme]
base_url = "https://api.acme.example"
method = "POST"
url = "{base}/v1/revoke_api_key"
headers = { Authorization = "Bearer {secret}" }
json = { api_key = "{secret}" }
[[revoke.acme.cases]]
status = 200
result = "revoked"
reason = "Acme revoked the key"
[[revoke.acme.cases]]
status = [401, 403]
result = "failed"
reason = "Acme refused"
"""


def test_user_defined_in_house_provider(srv: HTTPServer, tmp_path: Path) -> None:
    key = token("acme_{alnum:32}", "in-house")
    project = tmp_path / "service"
    project.mkdir()
    (project / "leaktrap-acme.toml").write_text(IN_HOUSE_RULES)
    (project / ".leaktrap.toml").write_text(f'rules = ["leaktrap-acme.toml"]\n\n[base_urls]\nacme = "{url(srv)}"\n')
    (project / "settings.py").write_text(f'ACME_API_KEY = "{key}"\n')
    srv.expect_oneshot_request("/v1/account_details", method="GET", headers={"Authorization": f"Bearer {key}"}).respond_with_json({"account_id": "42"})
    untrusted = leaktrap("verify", ".", cwd=project)  # the repository's own endpoints need trust
    assert untrusted.code == 0 and srv.log == [] and "--trust-repo-config" in untrusted.err
    checked = leaktrap("verify", "--trust-repo-config", ".", cwd=project)
    assert checked.code == 1, checked.out + checked.err
    assert checked.out.startswith("VALID") and "acme-api-key" in checked.out and "account 42" in checked.out
    srv.expect_oneshot_request("/v1/revoke_api_key", method="POST", headers={"Authorization": f"Bearer {key}"}, json={"api_key": key}).respond_with_json({"revoked": True})
    done = leaktrap("revoke", "--yes", "--config", ".leaktrap.toml", ".", cwd=project)
    assert done.code == 0, done.out + done.err
    assert done.out.startswith("REVOKED") and "settings.py:1" in done.out
    assert [r.path for r, _ in srv.log] == ["/v1/account_details", "/v1/revoke_api_key"]
    assert srv.log[1][0].headers["Content-Type"] == "application/json"
    assert_never_leaked([key], checked, project / ".leaktrap" / "audit.jsonl")
    assert_never_leaked([key], done)
