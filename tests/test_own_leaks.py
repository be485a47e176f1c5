"""leaktrap itself never leaks a secret it found.

Every command runs as a real process against a repository with planted (generated)
secrets, with HOME, the caches and TMPDIR pointed at private folders and the
providers served on 127.0.0.1. Then every byte leaktrap printed and every file it
created or changed anywhere in those folders is searched for each secret: raw,
its last three quarters, base64, hex, percent- and JSON-encoded. Only
``--show-secrets`` may print one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from conftest import NO_NETWORK, Repo, Result, run_cli, token

def forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "raw": secret,
        "tail": secret[len(secret) // 4 :],
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "percent": quote(secret, safe=""),
        "json": json.dumps(secret)[1:-1],
    }


def leaks(secrets: dict[str, str], data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [f"{name} ({form})" for name, s in secrets.items() for form, v in forms(s).items() if v in text]


def snapshot(*roots: Path) -> dict[Path, str]:
    out: dict[Path, str] = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                if p.is_file() and not p.is_symlink():
                    out[p] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class World:
    """A repository with planted secrets and private folders for everything leaktrap may write."""

    def __init__(self, repo: Repo, base: Path) -> None:
        self.repo = repo
        self.home, self.cache, self.tmp, self.out = (base / n for n in ("home", "cache", "tmp", "out"))
        for folder in (self.home, self.cache, self.tmp, self.out):
            folder.mkdir()
        self.env = {
            **NO_NETWORK,
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "LEAKTRAP_CACHE_DIR": str(self.cache),
            "TMPDIR": str(self.tmp),
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        self.runs: list[tuple[tuple[str, ...], Result]] = []

    def run(self, *args: str, cwd: Path | None = None, codes: tuple[int, ...] = (0, 1)) -> Result:
        res = run_cli(*args, cwd=cwd or self.repo.path, env=self.env)
        self.runs.append((args, res))
        assert res.code in codes, (args, res.code, res.err[-2000:])
        return res


def plant(repo: Repo) -> dict[str, str]:
    s = {
        "github": token("ghp_{alnum:36}", "own-gh"),
        "aws_id": token("AKIA{base32:16}", "own-aws-id"),
        "aws_secret": token("{b64:40}", "own-aws-secret"),
        "password": token("{alnum:6}", "own-pw1") + "#/+%&" + token("{alnum:7}", "own-pw2"),
        "notebook": token("ghp_{alnum:36}", "own-nb"),
        "encoded": token("ghp_{alnum:36}", "own-b64"),
        "history": token("ghp_{alnum:36}", "own-history"),
        "staged": token("ghp_{alnum:36}", "own-staged"),
    }
    notebook = {
        "cells": [{"cell_type": "code", "source": ["import os\n", f'TOKEN = "{s["notebook"]}"\n'], "outputs": []}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    repo.commit("history", **{"old.py": f'OLD_TOKEN = "{s["history"]}"\n'})
    repo.git("rm", "-q", "old.py")
    repo.commit(
        "app",
        **{
            "app.py": f'GITHUB_TOKEN = "{s["github"]}"\n',
            "aws.py": f'AWS_ACCESS_KEY_ID = "{s["aws_id"]}"\nAWS_SECRET_ACCESS_KEY = "{s["aws_secret"]}"\n',
            "settings.py": f'DB_PASSWORD = "{s["password"]}"\n',
            "analysis.ipynb": json.dumps(notebook, indent=1),
            "k8s.yaml": f"data:\n  token: {base64.b64encode(s['encoded'].encode()).decode()}\n",
        },
    )
    repo.write("staged.py", f'STAGED = "{s["staged"]}"\n')
    repo.git("add", "staged.py")
    repo.write("staged.py", "STAGED = os.environ['STAGED']\n")  # only the index holds it
    return s


@pytest.fixture
def world(repo: Repo, tmp_path: Path) -> tuple[World, dict[str, str]]:
    secrets = plant(repo)
    return World(repo, tmp_path), secrets


def test_no_command_leaks_a_planted_secret(world: tuple[World, dict[str, str]], srv: HTTPServer) -> None:
    w, secrets = world
    before = snapshot(w.repo.path, w.home, w.cache, w.tmp, w.out)
    base = srv.url_for("").rstrip("/")
    srv.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    srv.expect_request("/credentials/revoke", method="POST").respond_with_data("", status=202)
    gh = ("--rule", "github-pat-classic", "--base-url", f"github={base}")
    audit_log = w.out / "audit.jsonl"

    doc = json.loads(w.run("scan", "--no-baseline", "--format", "json", "--debug", ".").out)
    found = {f["path"] for f in doc["findings"]}
    assert {"app.py", "aws.py", "settings.py", "analysis.ipynb", "k8s.yaml"} <= found, found
    w.run("scan", "--no-baseline", "--debug", ".")
    w.run("scan", "--no-baseline", "--format", "json", "-o", str(w.out / "report.json"), ".")
    w.run("scan", "--no-baseline", "--format", "sarif", "-o", str(w.out / "report.sarif"), ".")
    w.run("scan", "--no-baseline", "-j", "2", ".")
    staged = json.loads(w.run("scan", "--staged", "--no-baseline", "--format", "json").out)
    assert [f["path"] for f in staged["findings"]] == ["staged.py"]
    w.run("scan", "--staged", "--no-baseline", "--format", "sarif")
    history = json.loads(w.run("scan", "--history", "--no-baseline", "--format", "json").out)
    assert "old.py" in {f["path"] for f in history["findings"]}
    w.run("scan", "--history", "--no-baseline", "--debug")
    w.run("scan", "--history", "--no-baseline", "--format", "sarif", "-j", "2")
    w.run("scan", "--range", "HEAD~1..HEAD", "--no-baseline")

    w.run("baseline", "create", "--history")
    w.run("baseline", "update", "--history")
    w.run("baseline", "show", "--entries")
    w.run("baseline", "show", "--json", "--entries")
    fp = next(f["fingerprint"] for f in history["findings"] if f["path"] == "app.py")
    w.run("baseline", "audit", "--history", "--label", f"{fp}=true-positive", "--note", "rotated")
    w.run("scan", "--history")

    w.run("verify", "--audit-log", str(audit_log), *gh, ".")
    w.run("verify", "--format", "json", "--audit-log", str(audit_log), *gh, "--history")
    w.run("verify", "--staged", "--audit-log", str(audit_log), *gh)
    w.run("verify", "--report", str(w.out / "report.json"), "--audit-log", str(audit_log), *gh)
    w.run("verify", *gh, ".")  # the default audit log, in the repository
    w.run("revoke", "--audit-log", str(audit_log), *gh, ".")
    w.run("revoke", "--format", "json", "--confirmed", fp, "--audit-log", str(audit_log), *gh, "--history")
    w.run("revoke", "--yes", "--confirmed", fp, "--audit-log", str(audit_log), *gh, "--history")
    w.run("rules", "list")
    w.run("rules", "list", "--json")
    w.run("audit", str(w.repo.path), "-o", str(w.out / "audit.html"), cwd=w.out)
    w.run("audit", str(w.repo.path), "--format", "json", "-o", str(w.out / "audit.json"), cwd=w.out)
    w.run("audit", str(w.repo.path), "--format", "sarif", "-o", "-", "--verify", "--audit-log", str(audit_log),
          "--base-url", f"github={base}", cwd=w.out)
    assert any(e[0].path == "/credentials/revoke" for e in srv.log)  # the network paths really ran

    for args, res in w.runs:
        assert not leaks(secrets, res.out + res.err), (args, leaks(secrets, res.out + res.err))
    after = snapshot(w.repo.path, w.home, w.cache, w.tmp, w.out)
    written = sorted(p for p, digest in after.items() if before.get(p) != digest)
    assert w.repo.path / "baseline.json" in written and audit_log in written and w.out / "audit.html" in written
    for path in written:
        assert not leaks(secrets, path.read_bytes()), (path, leaks(secrets, path.read_bytes()))
    git_dir = w.repo.path / ".git"
    assert not [p for p in written if git_dir in p.parents], "leaktrap wrote into .git"
    assert not any(w.tmp.iterdir()), list(w.tmp.iterdir())  # no temporary file left behind
    assert not [p for p in after if p.name.endswith(".tmp")]

    for secret_file in (audit_log, audit_log.with_name("audit.jsonl.key"), w.repo.path / ".leaktrap" / "audit.jsonl"):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600, secret_file
    assert stat.S_IMODE((w.repo.path / ".leaktrap").stat().st_mode) == 0o700
    for cached in w.cache.iterdir():
        assert stat.S_IMODE(cached.stat().st_mode) == 0o600, cached


def test_show_secrets_is_the_only_way_to_print_one(world: tuple[World, dict[str, str]]) -> None:
    """The search above is sound: with --show-secrets the same search finds them."""
    w, secrets = world
    res = w.run("scan", "--no-baseline", "--show-secrets", ".")
    shown = leaks(secrets, res.out)
    assert any(item.startswith("github (raw)") for item in shown), shown
    doc = json.loads(w.run("scan", "--no-baseline", "--show-secrets", "--format", "json", ".").out)
    assert secrets["github"] in {f.get("raw_secret") for f in doc["findings"]}


def test_a_report_with_raw_secrets_is_private(world: tuple[World, dict[str, str]]) -> None:
    w, _secrets = world
    target = w.out / "raw.json"
    w.run("scan", "--no-baseline", "--show-secrets", "--format", "json", "-o", str(target), ".")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


_FAILING_RENDER = (
    "import sys\n"
    "import scanner.report as report\n"
    "def render(fmt, result, rules, **kwargs):\n"
    "    raise RuntimeError('cannot render ' + ' '.join(f.secret for f in result.findings))\n"
    "report.render = render\n"
    "from scanner.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_an_internal_error_does_not_print_its_message_without_debug(world: tuple[World, dict[str, str]]) -> None:
    """An unexpected exception may carry scanned text in its message: without --debug only its
    type is printed. With --debug the traceback, message included, is shown on purpose (it is
    for bug reports: SECURITY.md says to review it before sharing)."""
    import subprocess

    w, secrets = world
    env = {**os.environ, **w.env}
    env.pop("LEAKTRAP_DEBUG", None)
    quiet = subprocess.run([sys.executable, "-c", _FAILING_RENDER, "scan", "--no-baseline", "."], cwd=w.repo.path,
                           env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 3
    assert "internal error: RuntimeError" in quiet.stderr and "Traceback" not in quiet.stderr
    assert not leaks(secrets, quiet.stdout + quiet.stderr)
    loud = subprocess.run([sys.executable, "-c", _FAILING_RENDER, "scan", "--no-baseline", "--debug", "."],
                          cwd=w.repo.path, env=env, capture_output=True, text=True, timeout=120)
    assert loud.returncode == 3 and "Traceback" in loud.stderr


def test_findings_keep_the_secret_out_of_repr_and_equality(tmp_path: Path) -> None:
    from scanner.record import asdict, replace

    from scanner.scan import ScanOptions, run_scan

    secret = token("ghp_{alnum:36}", "repr")
    (tmp_path / "a.py").write_text(f'T = "{secret}"\n')
    result, _prepared = run_scan(ScanOptions(paths=(tmp_path,), use_baseline=False))
    (finding,) = result.findings
    assert finding.secret == secret
    for text in (repr(finding), str(finding), repr(result), f"{finding!r}", repr([finding]), repr({"f": finding})):
        assert not leaks({"s": secret}, text)
    assert json.dumps(finding.to_dict()).count(secret) == 0
    assert replace(finding, secret="other") == finding  # equality ignores the secret: no timing oracle either
    assert "secret" in asdict(finding)  # asdict is the one explicit way to the raw value


def test_security_md_lists_every_network_destination() -> None:
    """SECURITY.md says what each network call sends: every verify and revoke spec is in its table."""
    from scanner.providers.spec import parse_specs
    from scanner.rules import load_rules

    _rules, verify, revoke = load_rules()
    specs = parse_specs(verify, revoke)
    doc = (Path(__file__).resolve().parent.parent / "SECURITY.md").read_text()
    rows: dict[str, str] = {}
    for line in doc.splitlines():
        if line.startswith("| ") and "---" not in line:
            name = line.split("|")[1].strip()
            rows[name] = rows.get(name, "") + line.split("|")[2]
    for kind, table in (("verify", specs.verify), ("revoke", specs.revoke)):
        for name, spec in table.items():
            assert name in rows and kind in rows[name], f"SECURITY.md: no {kind} row for spec {name!r}"
            host = spec.base_url.split("//", 1)[-1].split("/", 1)[0] if getattr(spec, "base_url", None) else ""
            assert host in doc, f"SECURITY.md: {name} {kind} host {host} missing"
