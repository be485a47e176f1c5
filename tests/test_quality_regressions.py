"""Detection regressions from the quality benchmark (bench/quality.py): one or two cases per
capability added to rules/generic.toml and scanner/detect/filters.py, each checked through the
CLI (``scan --format json``) on real files, with the exact rule and line it must be reported on,
and false positives that must stay filtered even at ``--min-confidence low``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from conftest import run_cli, token


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PW = token("{alnum:10}{digit:4}", "qr-pw")
PW2 = token("{alnum:16}", "qr-pw2")
SEED = token("{base32:32}", "qr-otp")

# name -> (path, content, expected [(line, rule id)])
CASES: dict[str, tuple[str, str, list[tuple[int, str]]]] = {
    "go-walrus": (
        "cmd/server/main.go",
        f'package main\n\nfunc connect() {{\n\tdbPassword := "{PW}"\n\t_ = dbPassword\n}}\n',
        [(4, "generic-password")],
    ),
    "admin-pass": ("app/settings.py", f'DEBUG = False\nADMIN_PASS = "{PW}"\n', [(2, "generic-password")]),
    "subscript": (
        "app/mail.py",
        f'config = {{}}\nconfig["smtp_password"] = "{PW2}"\n',
        [(2, "generic-password")],
    ),
    "docker-login-p": (
        "ci/deploy.sh",
        f"#!/bin/sh\nset -e\ndocker login -u ci -p {PW2} registry.acme.test\n",
        [(3, "generic-cli-password")],
    ),
    "sshpass": (
        "ci/sync.sh",
        f"#!/bin/sh\nsshpass -p {PW} rsync -a build/ deploy@10.0.0.5:/srv/app\n",
        [(2, "generic-cli-password")],
    ),
    "redis-cli-a": ("ops/flush.sh", f"redis-cli -h cache.internal -a {PW2} FLUSHALL\n", [(1, "generic-cli-password")]),
    "mssql-with-password": (
        "db/logins.sql",
        f"-- service login\nCREATE LOGIN app_login WITH PASSWORD = N'{PW}';\nGO\n",
        [(2, "sql-password")],
    ),
    "basic-header-tuple": (
        "client/api.py",
        f'import requests\n\nHEADERS = [("Authorization", "Basic {_b64("svc:" + PW2)}")]\n',
        [(3, "authorization-basic")],
    ),
    "redis-url-empty-user": (
        "deploy/app.env",
        f"# cache\nREDIS_URL=redis://:{PW2}@cache.internal:6379/0\n",
        [(2, "url-credentials")],
    ),
    "pyotp": ("app/mfa.py", f'import pyotp\n\ntotp = pyotp.TOTP("{SEED}")\n', [(3, "otpauth-secret")]),
    "docker-config-auth": (
        "deploy/docker-config.json",
        '{\n  "auths": {\n    "registry.acme.test": {\n      "auth": "' + _b64("ci:" + PW2) + '"\n    }\n  }\n}\n',
        [(4, "registry-basic-auth")],
    ),
    "k8s-env-pair": (
        "k8s/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: api\n          image: acme/api:1.0\n          env:\n"
        f"            - name: DB_PASSWORD\n              value: {PW}\n",
        [(11, "k8s-env-secret-value")],
    ),
    "terraform-default": (
        "infra/variables.tf",
        f'variable "db_password" {{\n  type      = string\n  sensitive = true\n  default   = "{PW2}"\n}}\n',
        [(4, "terraform-variable-default-secret")],
    ),
    # false positives that stay filtered
    "salted-hash": (
        "app/users.py",
        "ADMIN_HASH_ALGO = 'pbkdf2'\n"
        f'password = "pbkdf2_sha256$600000${token("{alnum:22}", "qr-salt")}${token("{b64:43}", "qr-hash")}="\n'
        f'admin_password = "$2b$12${token("{b64:53}", "qr-bcrypt").replace("+", ".")}"\n',
        [],
    ),
    "existing-secret": (
        "helm/values.yaml",
        "auth:\n  existingSecret: acme-postgresql-credentials\n  secretKeys:\n    adminPasswordKey: postgres-password\n",
        [],
    ),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("quality")
    for path, content, _expected in CASES.values():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    res = run_cli("scan", "--format", "json", "--no-baseline", "--min-confidence", "low", str(root))
    assert res.code == 1, res.err
    doc = json.loads(res.out)
    assert doc["warnings"] == []
    by_path: dict[str, list[dict]] = {}
    for f in doc["findings"]:
        by_path.setdefault(f["path"], []).append(f)
    return by_path


@pytest.mark.parametrize("name", list(CASES))
def test_reported_on_the_right_line_by_the_right_rule(report: dict[str, list[dict]], name: str) -> None:
    path, _content, expected = CASES[name]
    got = sorted((f["line"], f["rule_id"]) for f in report.get(path, []))
    assert got == expected
    for f in report.get(path, []):
        assert f["confidence"] != "low", f  # found at the default confidence, not only with --min-confidence low


def test_prefilters_pick_the_same_lines_as_keywords(tmp_path: Path) -> None:
    """Go's ':=' and '==' (absent from the old prefilters), unusual spacing and non-ASCII names and
    spaces: the Hyperscan prefilter must pick every line the regex matches."""
    lines = [
        f'\tapiToken := "{token("{alnum:32}", "qr-go")}"',
        f'if password == "{PW}" {{',
        f'contraseña_password\u00a0=\u00a0"{PW2}"',
        f'session.auth  =  ("ci", "{PW}")',
        f'Server=db01;Database=app;User Id=app;Password  =  {PW2};',
    ]
    (tmp_path / "mixed.go").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_cli("scan", "--format", "json", "--no-baseline", str(tmp_path))
    doc = json.loads(res.out)
    got = sorted((f["line"], f["rule_id"]) for f in doc["findings"])
    assert got == [
        (1, "generic-secret"),
        (2, "generic-password"),
        (3, "generic-password"),
        (4, "generic-credential-call"),
        (5, "connection-string-password"),
    ]
