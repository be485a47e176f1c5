"""Hygiene findings: committed env files, private key files, credentials over plain HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Repo, run_cli, token


def _rules(root: Path) -> list[tuple[str, str]]:
    res = run_cli("scan", "--no-baseline", "--format", "json", str(root))
    assert res.code in (0, 1), res.err
    return sorted((f["path"], f["rule_id"]) for f in json.loads(res.out)["findings"])


ENV = "APP_ENV=prod\nSTRIPE_SECRET_KEY={alnum:32}\nDB_PASSWORD={alnum:14}\n"


def test_committed_env_file_is_a_finding_of_its_own(repo: Repo) -> None:
    repo.commit("env", **{".env": token(ENV, 1)})
    repo.write("local/.env", token(ENV, 2))  # untracked: only the credentials are reported
    got = _rules(repo.path)
    assert got.count((".env", "env-file-committed")) == 1
    assert ("local/.env", "env-file-committed") not in got
    assert sum(1 for p, _r in got if p == "local/.env") == 2


def test_env_example_and_plain_folders_are_not_hygiene_findings(tmp_path: Path, repo: Repo) -> None:
    repo.commit("example", **{".env.example": "STRIPE_SECRET_KEY=\nDB_PASSWORD=\n"})
    assert _rules(repo.path) == []
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / ".env").write_text(token(ENV, 3))
    assert all(r != "env-file-committed" for _p, r in _rules(tmp_path / "plain"))


def test_committed_private_key_file(repo: Repo) -> None:
    body = token("-----BEGIN OPENSSH PRIVATE KEY-----\n{b64:70}\n{b64:70}\n-----END OPENSSH PRIVATE KEY-----\n", 4)
    repo.commit("key", **{"deploy/id_ed25519": body})
    got = _rules(repo.path)
    assert ("deploy/id_ed25519", "private-key-file-committed") in got
    assert any(r.startswith("private-key") and r != "private-key-file-committed" for _p, r in got)


def test_credentials_over_plain_http(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text(
        f'URL = "http://api.partner.test/v2/orders?api_key={token("{alnum:32}", 5)}"\n'
        f'SAFE = "https://api.partner.test/v2/orders?api_key={token("{alnum:32}", 6)}"\n'
        'LOCAL = "http://localhost:8080/?token=abcdefgh12345678"\n'
    )
    got = _rules(tmp_path)
    assert ("client.py", "credential-over-http") in got
    assert got.count(("client.py", "credential-over-http")) == 1
