"""`leaktrap revoke`: dry run by default, only confirmed leaks, audit log, exit codes, a terminal prompt."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from conftest import NO_NETWORK, Result, run_cli, token

def base(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def leaktrap(*args: str, cwd: Path) -> Result:
    return run_cli(*args, cwd=cwd, env=NO_NETWORK)


def project_with(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def fingerprints(root: Path) -> dict[str, str]:
    doc = json.loads(run_cli("scan", "--format", "json", "--no-baseline", ".", cwd=root).out)
    return {f["path"]: f["fingerprint"] for f in doc["findings"]}


def no_secret(secrets: list[str], *results: Result, files: tuple[Path, ...] = ()) -> None:
    for secret in secrets:
        for res in results:
            assert secret not in res.out and secret not in res.err
        for f in files:
            assert secret not in f.read_text()


def test_dry_run_is_the_default_and_sends_nothing(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="dry")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    fp = fingerprints(root)["app.py"]
    res = leaktrap("revoke", "--confirmed", fp, "--base-url", f"github={base(srv)}", ".", cwd=root)
    assert res.code == 0, res.err
    assert srv.log == []  # nothing sent
    out = res.out
    assert out.startswith("Dry run: nothing was sent.")
    assert "github-pat-classic  ghp_****  app.py:1" in out  # which credential
    assert f"POST {base(srv)}/credentials/revoke" in out  # which endpoint
    assert 'body: {"credentials":["ghp_****"]}' in out  # what would be sent, secret masked
    assert "submitted, not confirmed" in out
    assert "confirmed on the command line" in out
    no_secret([secret], res, files=(root / ".leaktrap" / "audit.jsonl",))
    logged = [json.loads(line) for line in (root / ".leaktrap" / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["result"], e["sent"], e["dry_run"]) for e in logged] == [("revoke", "dry-run", False, True)]


def test_dry_run_as_json(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="dry-json")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    fp = fingerprints(root)["app.py"]
    res = leaktrap("revoke", "--format", "json", "--confirmed", fp, "--base-url", f"github={base(srv)}", ".", cwd=root)
    doc = json.loads(res.out)
    assert doc["dry_run"] is True
    (item,) = doc["credentials"]
    assert item["state"] == "would-revoke" and item["requests"][0]["method"] == "POST"
    assert item["requests"][0]["body"] == '{"credentials":["ghp_****"]}'
    assert srv.log == [] and secret not in res.out


def test_unconfirmed_leaks_are_not_revoked(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="unconfirmed")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    res = leaktrap("revoke", "--yes", "--base-url", f"github={base(srv)}", ".", cwd=root)
    assert res.code == 1  # a leak with an endpoint was left unrevoked
    assert res.out.startswith("NOT-CONFIRMED") and "verify it first" in res.out
    assert srv.log == []


def test_verify_then_revoke_then_never_again(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="flow")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    srv.expect_oneshot_request("/user", headers={"Authorization": f"token {secret}"}).respond_with_json({"login": "octocat"})
    srv.expect_oneshot_request("/credentials/revoke", method="POST", json={"credentials": [secret]}).respond_with_data("", status=202)
    args = ("--base-url", f"github={base(srv)}", ".")
    checked = leaktrap("verify", *args, cwd=root)
    assert checked.code == 1
    plan = leaktrap("revoke", *args, cwd=root)
    assert plan.code == 0 and "confirmed: verified valid at" in plan.out
    assert len(srv.log) == 1  # the dry run sent nothing
    done = leaktrap("revoke", "--yes", *args, cwd=root)
    assert done.code == 0, done.out + done.err
    assert done.out.startswith("SUBMITTED") and "not confirmed" in done.out  # 202 is not "revoked"
    assert len(srv.log) == 2
    again = leaktrap("revoke", "--yes", *args, cwd=root)
    assert again.code == 0
    assert again.out.startswith("ALREADY-REVOKED") and "not sent again" in again.out
    assert len(srv.log) == 2  # the audit log stopped a second submission
    audit = root / ".leaktrap" / "audit.jsonl"
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["result"], e["http_status"]) for e in entries if e["sent"]] == [
        ("verify", "valid", 200), ("revoke", "submitted", 202),
    ]
    no_secret([secret], checked, plan, done, again, files=(audit,))


def test_failed_revocation_exits_1(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token("glpat-{alnum:20}", "gl-fail")
    root = project_with(tmp_path, **{"ci.yml": f"token: {secret}\n"})
    fp = fingerprints(root)["ci.yml"]
    srv.expect_request("/api/v4/personal_access_tokens/self", method="DELETE").respond_with_json({"message": "401 Unauthorized"}, status=401)
    res = leaktrap("revoke", "--yes", "--confirmed", fp, "--base-url", f"gitlab={base(srv)}", ".", cwd=root)
    assert res.code == 1
    assert res.out.startswith("FAILED") and "already revoked" in res.out
    assert srv.log[0][0].headers["PRIVATE-TOKEN"] == secret
    no_secret([secret], res)


def test_gitlab_self_hosted_revocation(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token("glpat-{alnum:20}", "gl-ok")
    root = project_with(tmp_path, **{"ci.yml": f"token: {secret}\n"})
    (root / ".leaktrap.toml").write_text(f'[base_urls]\ngitlab = "{base(srv)}"\n')
    fp = fingerprints(root)["ci.yml"]
    srv.expect_oneshot_request("/api/v4/personal_access_tokens/self", method="DELETE", headers={"PRIVATE-TOKEN": secret}).respond_with_data("", status=204)
    res = leaktrap("revoke", "--yes", "--confirmed", fp, "--config", ".leaktrap.toml", ".", cwd=root)
    assert res.code == 0, res.out + res.err
    assert res.out.startswith("REVOKED")


def test_baseline_true_positive_label_is_a_confirmation(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed="baseline-tp")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    created = run_cli("baseline", "create", ".", cwd=root)
    assert created.code == 0, created.err
    entry = json.loads((root / "baseline.json").read_text())["entries"][0]
    labelled = run_cli("baseline", "audit", ".", "--label", f"{entry['fingerprint']}=true-positive", cwd=root)
    assert labelled.code == 0, labelled.err
    srv.expect_oneshot_request("/credentials/revoke").respond_with_data("", status=202)
    res = leaktrap("revoke", "--yes", "--base-url", f"github={base(srv)}", ".", cwd=root)
    assert res.code == 0, res.out + res.err
    assert res.out.startswith("SUBMITTED")
    plan = leaktrap("revoke", "--dry-run", "--base-url", f"github={base(srv)}", ".", cwd=root)
    assert "Already revoked" in plan.out


def test_usage_errors(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"app.py": "TOKEN = '" + token(seed="usage") + "'\n"})
    res = leaktrap("revoke", "--confirmed", "0" * 32, ".", cwd=root)
    assert res.code == 2 and "no finding with fingerprint" in res.err
    res = leaktrap("revoke", "--yes", "--dry-run", ".", cwd=root)
    assert res.code == 2


def test_findings_without_a_revoke_endpoint_are_listed_not_counted(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"app.py": "KEY = '" + token("ghs_{alnum:36}", "no-endpoint") + "'\n"})
    res = leaktrap("revoke", "--yes", ".", cwd=root)
    assert res.code == 0
    assert res.out.startswith("NO-ENDPOINT")


def _run_on_terminal(args: list[str], cwd: Path, answer: bytes) -> tuple[int, str]:
    """Run leaktrap on a pseudo-terminal (stdin, stdout and stderr, as in a shell) and answer its prompt."""
    master, slave = pty.openpty()
    env = dict(os.environ, **NO_NETWORK)
    env.pop("LEAKTRAP_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "scanner", *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    answered = False
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output from leaktrap: {seen!r}")
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(master, answer)
            answered = True
    os.close(master)
    proc.wait(timeout=30)
    return proc.returncode, seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "sent", "code"), [(b"n\n", 0, 1), (b"y\n", 1, 0)])
def test_interactive_confirmation_on_a_terminal(answer: bytes, sent: int, code: int, srv: HTTPServer, tmp_path: Path) -> None:
    secret = token(seed=f"tty-{answer!r}")
    root = project_with(tmp_path, **{"app.py": f"TOKEN = '{secret}'\n"})
    fp = fingerprints(root)["app.py"]
    srv.expect_request("/credentials/revoke").respond_with_data("", status=202)
    rc, screen = _run_on_terminal(["revoke", "--confirmed", fp, "--base-url", f"github={base(srv)}", "."], root, answer)
    assert "Revoke these 1 credential(s) now?" in screen
    assert 'body: {"credentials":["ghp_****"]}' in screen
    assert len(srv.log) == sent
    assert rc == code
    assert secret not in screen


def test_unknown_revocation_outcome_exits_1(srv: HTTPServer, tmp_path: Path) -> None:
    secret = token("glpat-{alnum:20}", "gl-unknown")
    root = project_with(tmp_path, **{"ci.yml": f"token: {secret}\n"})
    fp = fingerprints(root)["ci.yml"]
    srv.expect_request("/api/v4/personal_access_tokens/self").respond_with_data("<html><body>Maintenance</body></html>", status=200, content_type="text/html")
    res = leaktrap("revoke", "--yes", "--confirmed", fp, "--base-url", f"gitlab={base(srv)}", ".", cwd=root)
    assert res.code == 1
    assert res.out.startswith("UNKNOWN") and "HTML" in res.out
    no_secret([secret], res)
