"""`leaktrap audit` as a user runs it: a folder of real repositories (clean, leaky, broken),
the JSON and SARIF reports against a hand count, verification against a real HTTP server
on 127.0.0.1, and proof that nothing in an audited repository runs or changes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from conftest import NO_NETWORK, Repo, Result, git, run_cli, token
from scanner.model import fingerprint
from scanner.providers.audit import AuditEntry, AuditLog

# Hostile names: they must come out escaped, never as markup.
EVIL_FILE = "notes/<img src=x onerror=window.__pwned=2>.txt"
EVIL_SUBJECT = "<script>window.__pwned=1</script> add deploy settings"


@dataclass
class Estate:
    """Three repositories under ``root/repos``: clean, leaky, broken; secrets by role."""

    root: Path
    repos: Path
    clean: Path
    leaky: Path
    broken: Path
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def all_secrets(self) -> list[str]:
        return list(self.secrets.values())


def make_repo(path: Path) -> Repo:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Ada Tester")
    git(path, "config", "user.email", "ada@example.test")
    git(path, "config", "commit.gpgsign", "false")
    return Repo(path)


def build_estate(root: Path) -> Estate:
    """Hand count of the leaky repository (the numbers every report must show):

    ==========================  =========  =========  ========  ==========  ===========
    where                        rule       severity   first     at HEAD     standing
    ==========================  =========  =========  ========  ==========  ===========
    settings.py                  ghp        critical   2023-03   yes         baselined
    app.py                       ghp        critical   2023-09   yes         new (live with --verify)
    notes/<img ...>.txt          glpat      critical   2023-09   deleted     new (revoked per audit log)
    deploy/token.txt             gldt       high       2023-09   deleted     new
    scratch.py (untracked)       glpat      critical   never     no          new
    ==========================  =========  =========  ========  ==========  ===========
    """
    repos = root / "repos"
    clean = make_repo(repos / "clean")
    clean.commit("init", date="2023-01-02T09:00:00Z", **{"app.py": "print('hello')\n", "README.md": "# clean\n"})

    leaky = make_repo(repos / "leaky")
    s = {
        "baselined": token(seed="audit-baselined"),
        "live": token(seed="audit-live"),
        "revoked": token("glpat-{alnum:20}", seed="audit-revoked"),
        "deploy": token("gldt-{b64url:20}", seed="audit-deploy"),
        "untracked": token("glpat-{alnum:20}", seed="audit-untracked"),
    }
    leaky.commit("settings", date="2023-03-05T10:00:00Z", **{"settings.py": f'GITHUB_TOKEN = "{s["baselined"]}"\n'})
    made = run_cli("baseline", "create", "--history", cwd=leaky.path)
    assert made.code == 0, made.err
    leaky.commit("accept the settings token", date="2023-03-05T11:00:00Z")
    leaky.write(EVIL_FILE, f'GITLAB = "{s["revoked"]}"\n')
    leaky.write("deploy/token.txt", f'CI_DEPLOY_PASSWORD: {s["deploy"]}\n')
    leaky.commit(EVIL_SUBJECT, date="2023-09-10T12:00:00Z", **{"app.py": f'TOKEN = "{s["live"]}"\n'})
    leaky.git("rm", "-q", "-r", "notes", "deploy")
    leaky.commit("remove leaked files", date="2024-06-01T08:00:00Z")
    leaky.write("scratch.py", f'TRY = "{s["untracked"]}"\n')

    broken = make_repo(repos / "broken")
    broken.commit("init", **{"f.txt": "fine\n"})
    (broken.path / ".git" / "HEAD").write_text("this is not a ref\n")
    return Estate(root, repos, clean.path, leaky.path, broken.path, s)


def record_revocation(log: Path, rule_id: str, path: str, secret: str) -> None:
    """What an earlier `leaktrap revoke --yes` leaves in the audit log (through its own writer)."""
    AuditLog(log).append(
        AuditEntry(
            time="2024-06-01T09:00:00Z", action="revoke", rule=rule_id, provider="GitLab", spec="gitlab",
            fingerprint=fingerprint(rule_id, path, secret), credential_id="0" * 64, result="revoked",
            reason="revoked", http_status=204, endpoint="DELETE https://gitlab.example/api", sent=True,
        )
    )


def audit(*args: str, cwd: Path) -> Result:
    return run_cli("audit", *args, cwd=cwd, env=NO_NETWORK)


def assert_no_secret(secrets: list[str], res: Result, *files: Path) -> None:
    for secret in secrets:
        assert secret not in res.out and secret not in res.err
        for f in files:
            assert secret not in f.read_text(errors="replace"), f


@pytest.fixture
def estate(tmp_path: Path) -> Estate:
    return build_estate(tmp_path)


# ---------------------------------------------------------------- the hand count


def by_path(doc: dict) -> dict[str, dict]:
    return {f["path"]: f for f in doc["findings"]}


def test_folder_of_three_repositories_matches_the_hand_count(estate: Estate) -> None:
    out = estate.root / "out" / "audit.json"
    out.parent.mkdir()
    res = audit("repos", "--format", "json", "-o", str(out), cwd=estate.root)
    assert res.code == 1, res.err  # open (new) findings
    doc = json.loads(out.read_text())
    assert doc["schema"] == "leaktrap-audit" and doc["version"] == 1
    summary = doc["summary"]
    assert (summary["repositories"], summary["failed"], summary["findings"], summary["open"]) == (3, 1, 5, 4)
    assert summary["by_severity"] == {"critical": 4, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert summary["by_status"] == {"live": 0, "new": 4, "submitted": 0, "revoked": 0, "baselined": 1}
    assert summary["by_verification"]["not-checked"] == 5
    assert summary["by_provider"] == {"GitLab": 3, "GitHub": 2}
    assert summary["by_repository"] == {"repos/clean": 0, "repos/leaky": 5}
    periods = {p["period"]: p["findings"] for p in summary["timeline"]["periods"]}
    assert summary["timeline"]["unit"] == "month" and summary["timeline"]["not_committed"] == 1
    assert periods["2023-03"] == 1 and periods["2023-09"] == 3 and sum(periods.values()) == 4
    assert list(periods)[0] == "2023-03" and list(periods)[-1] == "2023-09" and len(periods) == 7

    repos = {r["name"]: r for r in doc["repositories"]}
    assert repos["repos/clean"]["status"] == "ok" and repos["repos/clean"]["findings"] == 0
    assert repos["repos/broken"]["status"] == "failed"
    assert "not a readable git repository" in repos["repos/broken"]["reason"]

    found = by_path(doc)
    assert set(found) == {"settings.py", "app.py", EVIL_FILE, "deploy/token.txt", "scratch.py"}
    assert found["settings.py"]["status"] == "baselined"
    assert found["app.py"]["at_head"] is True and found["app.py"]["in_working_tree"] is True
    assert found["app.py"]["commit"]["summary"] == EVIL_SUBJECT
    assert found["app.py"]["commit"]["author_name"] == "Ada Tester"
    assert found[EVIL_FILE]["at_head"] is False and found[EVIL_FILE]["committed"] is True
    assert found["deploy/token.txt"]["verification"]["result"] == "not-checked"
    assert found["scratch.py"]["committed"] is False and found["scratch.py"]["exposure_days"] is None
    assert found["settings.py"]["exposure_days"] > found["app.py"]["exposure_days"] > 365
    for f in doc["findings"]:
        assert f["remediation"] and f["secret"].endswith("****") and "raw_secret" not in f
    assert "history" in found[EVIL_FILE]["remediation"]
    assert_no_secret(estate.all_secrets, res, out)


def test_terminal_summary_lists_each_repository_and_no_progress_in_a_pipe(estate: Estate) -> None:
    res = audit("repos", "-o", str(estate.root / "report.html"), cwd=estate.root)
    assert res.code == 1
    assert "3 repositories (2 audited, 1 failed), 5 findings: 4 new, 1 baselined" in res.err
    assert "FAILED  repos/broken: git error: not a readable git repository" in res.err
    assert "ok      repos/leaky: 5 findings (4 new, 1 baselined)" in res.err
    assert "\r" not in res.err  # progress only on a terminal
    assert res.out == ""


def test_default_output_is_an_html_file_in_the_current_folder(estate: Estate) -> None:
    res = audit("repos/clean", "repos/leaky", cwd=estate.root)
    report = estate.root / "leaktrap-audit.html"
    assert res.code == 1, res.err
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and "report: leaktrap-audit.html" in res.err
    assert_no_secret(estate.all_secrets, res, report)


def test_exit_codes_clean_and_failed(estate: Estate) -> None:
    clean = audit("repos/clean", "--format", "json", "-o", "c.json", cwd=estate.root)
    assert clean.code == 0, clean.err
    broken = audit("repos/clean", "repos/broken", "--format", "json", "-o", "b.json", cwd=estate.root)
    assert broken.code == 2  # nothing open, but a repository could not be audited
    zero = audit("repos/leaky", "--exit-zero", "--format", "json", "-o", "z.json", cwd=estate.root)
    assert zero.code == 0


def test_corrupt_objects_fail_that_repository_only(estate: Estate) -> None:
    repo = make_repo(estate.repos / "corrupt")
    repo.commit("one", **{"a.txt": "content that will rot\n"})
    oid = repo.git("hash-object", "a.txt").strip()
    obj = repo.path / ".git" / "objects" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib at all")
    res = audit("repos", "--format", "json", "-o", "out.json", "--jobs", "2", cwd=estate.root)
    doc = json.loads((estate.root / "out.json").read_text())
    repos = {r["name"]: r for r in doc["repositories"]}
    assert repos["repos/corrupt"]["status"] == "failed" and oid in repos["repos/corrupt"]["reason"]
    assert repos["repos/leaky"]["status"] == "ok" and repos["repos/leaky"]["findings"] == 5
    assert doc["summary"]["failed"] == 2 and res.code == 1


def test_parallel_and_serial_audits_agree(estate: Estate) -> None:
    docs = []
    for jobs in ("1", "3"):
        out = estate.root / f"j{jobs}.json"
        audit("repos", "--jobs", jobs, "--format", "json", "-o", str(out), cwd=estate.root)
        doc = json.loads(out.read_text())
        docs.append(([(f["repository"], f["path"], f["fingerprint"], f["status"]) for f in doc["findings"]], doc["summary"]))
    assert docs[0] == docs[1]


def test_repos_file_with_comments_relative_paths_and_a_missing_entry(estate: Estate) -> None:
    listing = estate.root / "lists" / "repos.txt"
    listing.parent.mkdir()
    listing.write_text("# estate\n\n../repos/clean\n  ../repos/leaky  \n../repos/gone\n")
    res = audit("--repos", str(listing), "--format", "json", "-o", "out.json", cwd=estate.root)
    doc = json.loads((estate.root / "out.json").read_text())
    status = {Path(r["name"]).name: (r["status"], r["reason"]) for r in doc["repositories"]}
    assert status["clean"][0] == "ok" and status["leaky"][0] == "ok"
    assert status["gone"] == ("failed", "no such folder")
    assert res.code == 1


def test_no_repository_at_all_is_a_usage_error(tmp_path: Path) -> None:
    assert audit(cwd=tmp_path).code == 2
    (tmp_path / "empty").mkdir()
    res = audit("empty", "--format", "json", "-o", "o.json", cwd=tmp_path)
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["repositories"][0]["reason"] == "not a git repository, and no repository below it"
    assert res.code == 2


def test_bare_repository_history_is_audited(estate: Estate) -> None:
    mirror = estate.root / "mirrors" / "leaky.git"
    git(estate.root, "clone", "-q", "--bare", str(estate.leaky), str(mirror))
    res = audit("mirrors", "--format", "json", "-o", "m.json", cwd=estate.root)
    doc = json.loads((estate.root / "m.json").read_text())
    assert doc["repositories"][0]["bare"] is True and doc["repositories"][0]["status"] == "ok"
    paths = {f["path"] for f in doc["findings"]}
    assert paths == {"settings.py", "app.py", EVIL_FILE, "deploy/token.txt"}  # no working tree
    assert res.code == 1


# ---------------------------------------------------------------- SARIF and HTML


def test_sarif_has_one_run_per_repository_and_validates(estate: Estate) -> None:
    from sarif_pydantic import Sarif

    out = estate.root / "audit.sarif"
    audit("repos", "--format", "sarif", "-o", str(out), cwd=estate.root)
    doc = json.loads(out.read_text())
    Sarif.model_validate(doc)
    runs = {r["automationDetails"]["id"]: r for r in doc["runs"]}
    assert set(runs) == {"leaktrap-audit/repos/broken/", "leaktrap-audit/repos/clean/", "leaktrap-audit/repos/leaky/"}
    leaky = runs["leaktrap-audit/repos/leaky/"]
    assert len(leaky["results"]) == 5 and leaky["invocations"][0]["executionSuccessful"] is True
    assert leaky["originalUriBaseIds"]["%SRCROOT%"]["uri"] == estate.leaky.resolve().as_uri() + "/"
    statuses = sorted(r["properties"]["status"] for r in leaky["results"])
    assert statuses == ["baselined", "new", "new", "new", "new"]
    broken = runs["leaktrap-audit/repos/broken/"]["invocations"][0]
    assert broken["executionSuccessful"] is False and "not a readable" in broken["toolExecutionNotifications"][0]["message"]["text"]
    assert_no_secret(estate.all_secrets, Result(0, "", ""), out)


def test_html_escapes_names_and_holds_no_secret(estate: Estate) -> None:
    out = estate.root / "r.html"
    audit("repos", "-o", str(out), cwd=estate.root)
    text = out.read_text()
    assert "<img src=x" not in text and "<script>window" not in text
    assert "&lt;img src=x onerror=window.__pwned=2&gt;" in text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    assert "Content-Security-Policy" in text and "http://" not in text and "https://" not in text
    assert text.count("<script>") == 1
    assert_no_secret(estate.all_secrets, Result(0, "", ""), out)


# ---------------------------------------------------------------- verification and the audit log


def serve_providers(srv: HTTPServer, estate: Estate) -> list[str]:
    """GitHub: the live token is live, others are not; GitLab: every token is rejected."""
    live = estate.secrets["live"]
    srv.expect_request("/user", headers={"Authorization": f"token {live}"}).respond_with_json({"login": "octocat"})
    srv.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    srv.expect_request("/api/v4/personal_access_tokens/self").respond_with_json({"message": "401 Unauthorized"}, status=401)
    base = srv.url_for("").rstrip("/")
    return ["--base-url", f"github={base}", "--base-url", f"gitlab={base}"]


def test_verify_marks_live_and_the_audit_log_marks_revoked(srv: HTTPServer, estate: Estate) -> None:
    out_dir = estate.root / "out"
    out_dir.mkdir()
    log = out_dir / ".leaktrap" / "audit.jsonl"  # the default: beside the report
    record_revocation(log, "gitlab-pat", EVIL_FILE, estate.secrets["revoked"])
    res = audit("repos", "--verify", *serve_providers(srv, estate), "--format", "json", "-o", str(out_dir / "a.json"), cwd=estate.root)
    assert res.code == 1, res.err
    doc = json.loads((out_dir / "a.json").read_text())
    assert doc["summary"]["by_status"] == {"live": 1, "new": 2, "submitted": 0, "revoked": 1, "baselined": 1}
    assert doc["summary"]["by_verification"] == {"valid": 1, "invalid": 3, "unknown": 0, "no-endpoint": 1, "not-checked": 0}
    found = by_path(doc)
    assert found["app.py"]["status"] == "live" and "octocat" in found["app.py"]["verification"]["reason"]
    assert found[EVIL_FILE]["status"] == "revoked" and found[EVIL_FILE]["verification"]["result"] == "invalid"
    assert found["deploy/token.txt"]["verification"]["result"] == "no-endpoint"
    assert len(srv.log) == 4  # one call per distinct verifiable secret
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(e["action"] == "verify" for e in entries) == 4
    assert "note: spec 'github' is sent to http://127.0.0.1" in res.err
    for repo in (estate.clean, estate.leaky):
        assert not (repo / ".leaktrap").exists()
    assert_no_secret(estate.all_secrets, res, out_dir / "a.json", log)


def test_an_earlier_verification_in_the_log_is_shown_without_verify(srv: HTTPServer, estate: Estate) -> None:
    log = estate.root / "log" / "audit.jsonl"
    first = audit("repos/leaky", "--verify", *serve_providers(srv, estate), "--audit-log", str(log), "--format", "json", "-o", "1.json", cwd=estate.root)
    assert first.code == 1, first.err
    res = audit("repos/leaky", "--audit-log", str(log), "--format", "json", "-o", "2.json", cwd=estate.root)
    found = by_path(json.loads((estate.root / "2.json").read_text()))
    assert found["app.py"]["status"] == "live" and found["app.py"]["verification"]["checked_at"]
    assert found["settings.py"]["status"] == "baselined"
    assert res.code == 1


def test_base_url_needs_verify_and_a_known_spec(estate: Estate) -> None:
    assert audit("repos/clean", "--base-url", "github=http://127.0.0.1:1", cwd=estate.root).code == 2
    res = audit("repos/clean", "--verify", "--base-url", "nosuch=http://127.0.0.1:1", "-o", "x.html", cwd=estate.root)
    assert res.code == 2 and "nosuch" in res.err


# ---------------------------------------------------------------- untrusted repositories


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (``.git`` included): type, mode, size, mtime and content hash."""
    listing: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = os.readlink(path)
            else:
                digest = ""
            listing[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return listing


def arm_traps(repo: Path, marker: Path) -> None:
    """Hooks, filters, textconv, fsmonitor and a pager that would each leave a file in ``marker``."""
    script = marker.parent / "trap.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker}/$(basename "$0")-$$"\ncat\n')
    script.chmod(0o755)
    hooks = repo / ".git" / "hooks"
    for name in ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc", "fsmonitor-watchman", "post-rewrite"):
        (hooks / name).write_text(f'#!/bin/sh\ntouch "{marker}/hook-{name}"\n')
        (hooks / name).chmod(0o755)
    for key, value in {
        "filter.trap.clean": str(script), "filter.trap.smudge": str(script), "filter.trap.process": str(script),
        "filter.trap.required": "true", "diff.trap.textconv": str(script), "core.fsmonitor": str(script),
        "core.pager": str(script), "core.hooksPath": str(hooks), "gc.auto": "1", "core.untrackedCache": "true",
    }.items():
        git(repo, "config", key, value)
    (repo / ".git" / "info" / "attributes").write_text("* filter=trap diff=trap\n")


def test_audit_runs_nothing_and_changes_nothing_in_the_repositories(estate: Estate) -> None:
    marker = estate.root / "traps" / "fired"
    marker.mkdir(parents=True)
    for repo in (estate.clean, estate.leaky):
        arm_traps(repo, marker)
    (estate.leaky / ".leaktrap.toml").write_text('disable = ["github-pat-classic"]\nexclude = ["**"]\n')
    before = {p: snapshot(p) for p in (estate.clean, estate.leaky, estate.broken)}
    (estate.root / "out").mkdir()
    res = audit("repos", "--format", "json", "-o", str(estate.root / "out" / "a.json"), cwd=estate.root)
    assert res.code == 1, res.err
    assert sorted(os.listdir(marker)) == []  # no hook, filter, textconv, fsmonitor or pager ran
    after = {p: snapshot(p) for p in before}
    for path in before:
        assert after[path] == before[path], f"{path} changed"
    doc = json.loads((estate.root / "out" / "a.json").read_text())
    assert doc["summary"]["findings"] == 5  # the repository's own config (disable, exclude) was not loaded


def test_trusted_repo_config_is_honoured(estate: Estate) -> None:
    (estate.leaky / ".leaktrap.toml").write_text('disable = ["github-pat-classic"]\n')
    res = audit("repos/leaky", "--trust-repo-config", "--format", "json", "-o", "t.json", cwd=estate.root)
    doc = json.loads((estate.root / "t.json").read_text())
    rules = {f["rule_id"] for f in doc["findings"]}
    assert "github-pat-classic" not in rules and {"gitlab-pat", "gitlab-deploy-token"} <= rules
    assert doc["settings"]["trust_repo_config"] is True and res.code == 1


def test_nothing_is_written_inside_an_audited_repository(estate: Estate) -> None:
    before = snapshot(estate.leaky)
    inside = audit(".", "--format", "json", cwd=estate.leaky)  # default output: the current folder
    assert inside.code == 2 and "would be written inside the audited repository" in inside.err
    log_inside = audit("repos/leaky", "--verify", "--audit-log", "repos/leaky/.leaktrap/a.jsonl", "-o", "x.html", cwd=estate.root)
    assert log_inside.code == 2 and "--audit-log" in log_inside.err
    assert snapshot(estate.leaky) == before and not (estate.root / "x.html").exists()


def test_a_symlinked_baseline_is_not_followed(estate: Estate, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text((estate.leaky / "baseline.json").read_text())
    (estate.leaky / "baseline.json").unlink()
    (estate.leaky / "baseline.json").symlink_to(outside)
    audit("repos/leaky", "--format", "json", "-o", "s.json", cwd=estate.root)
    found = by_path(json.loads((estate.root / "s.json").read_text()))
    assert found["settings.py"]["status"] == "new"


def test_progress_is_drawn_on_a_terminal_only(estate: Estate) -> None:
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, **NO_NETWORK}
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", "audit", "repos", "--format", "json", "-o", "p.json", "--jobs", "1"],
        cwd=estate.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, timeout=300,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = b"".join(chunks).decode()
    assert proc.returncode == 1
    assert "\rleaktrap audit: 0/3 repositories" in err and "3/3 repositories" in err
    assert "ok      repos/leaky: 5 findings" in err
    assert all(s not in err for s in estate.all_secrets)


# ---------------------------------------------------------------- pure functions


def test_standing_orders_live_revocation_baseline_and_new() -> None:
    from scanner.audit.model import Verification
    from scanner.audit.status import standing

    now_valid = Verification("valid", "live")
    logged_valid = Verification("valid", "live", 200, checked_at="2024-05-01T00:00:00Z")
    assert standing(True, now_valid, ("revoked", "2024-06-01T00:00:00Z")) == "live"  # this run's check wins
    assert standing(False, logged_valid, ("revoked", "2024-06-01T00:00:00Z")) == "revoked"  # revoked after the check
    assert standing(False, logged_valid, ("submitted", "2024-04-01T00:00:00Z")) == "live"  # still live after it
    assert standing(True, Verification("invalid"), ("submitted", "2024-04-01T00:00:00Z")) == "submitted"
    assert standing(True, Verification(), None) == "baselined"
    assert standing(False, Verification("unknown"), None) == "new"


def test_timeline_picks_days_months_or_years() -> None:
    from scanner.audit.model import AuditFinding, Verification
    from scanner.audit.summary import timeline
    from scanner.model import Commit, Finding, Origin, OriginKind

    def leak(date: str | None) -> AuditFinding:
        commit = Commit("a" * 40, "A", "a@x", date, "s") if date else None
        f = Finding("r", "P", "d", "high", "high", "p", 1, 1, 2, "x****", "fp", 3.0, "",
                    Origin(OriginKind.HISTORY if commit else OriginKind.WORKTREE, commit=commit))
        return AuditFinding("repo", f, "new", Verification(), None, False, "")

    days = timeline([leak("2024-01-30T23:30:00-02:00"), leak("2024-02-02T10:00:00Z"), leak(None)])
    assert days.unit == "day" and [p.label for p in days.periods] == ["2024-01-31", "2024-02-01", "2024-02-02"]
    assert [p.total for p in days.periods] == [1, 0, 1] and days.undated == 1
    years = timeline([leak("2005-06-01T00:00:00Z"), leak("2024-06-01T00:00:00Z")])
    assert years.unit == "year" and len(years.periods) == 20
    assert timeline([]).periods == ()
