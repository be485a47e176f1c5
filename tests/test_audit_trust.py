"""An audited repository cannot hide its secrets with inline allow markers unless trusted."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Repo, run_cli, token


def test_allow_markers_only_count_in_trusted_audits(repo: Repo, tmp_path: Path) -> None:
    repo.commit("marked", **{"app.py": f'T = "{token(seed="trust-1")}"  # leaktrap:allow\n'})
    out = tmp_path / "audit.json"
    untrusted = run_cli("audit", "--format", "json", "-o", str(out), str(repo.path))
    assert untrusted.code == 1, untrusted.err
    doc = json.loads(out.read_text())
    assert [f["path"] for f in doc["findings"]] == ["app.py"]
    trusted = run_cli("audit", "--trust-repo-config", "--format", "json", "-o", str(out), str(repo.path))
    assert trusted.code == 0, trusted.err
    assert json.loads(out.read_text())["findings"] == []
    # a plain scan of one's own code honours the marker
    assert run_cli("scan", str(repo.path)).code == 0


def test_an_untrusted_repository_cannot_hide_a_secret_in_its_baseline_or_leaktrap_folder(repo: Repo, tmp_path: Path) -> None:
    accepted = token(seed="trust-accepted")
    repo.commit("fixture", **{"app.py": f'T = "{accepted}"\n'})
    made = run_cli("baseline", "create", cwd=repo.path)
    assert made.code == 0, made.err
    baseline = json.loads((repo.path / "baseline.json").read_text())
    hidden = token(seed="trust-hidden-in-baseline")
    baseline["entries"][0]["note"] = f"ghp token {hidden}"  # a real baseline, plus a secret
    repo.commit("baseline", **{"baseline.json": json.dumps(baseline, indent=1) + "\n"})
    in_folder = token(seed="trust-hidden-in-folder")
    repo.commit("log", **{".leaktrap/notes.txt": f"token = {in_folder}\n"})
    out = tmp_path / "audit.json"

    untrusted = run_cli("audit", "--format", "json", "-o", str(out), str(repo.path))
    assert untrusted.code == 1, untrusted.err
    found = sorted((f["path"], f["rule_id"]) for f in json.loads(out.read_text())["findings"])
    # the hidden tokens are found; the repository's baseline does not apply (app.py stays);
    # the baseline's own salt ids are not reported as secrets
    assert found == [(".leaktrap/notes.txt", "github-pat-classic"), ("app.py", "github-pat-classic"), ("baseline.json", "github-pat-classic")]

    trusted = run_cli("audit", "--trust-repo-config", "--format", "json", "-o", str(out), str(repo.path))
    assert trusted.code == 0, trusted.err
    # trusted: the baseline is the repository's own data again, and it accepts app.py
    assert [(f["path"], f["status"]) for f in json.loads(out.read_text())["findings"]] == [("app.py", "baselined")]
