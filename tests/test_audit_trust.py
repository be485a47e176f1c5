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
