"""The wheel ships the rules: build it, install it in a fresh venv, scan with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import yaml

from conftest import token

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_in_a_fresh_venv_and_scans(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("leaktrap-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    target = tmp_path / "project"
    target.mkdir()
    secret = token("ghp_{alnum:36}", 1)
    (target / "settings.py").write_text(f'TOKEN = "{secret}"\n')
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    proc = subprocess.run(
        [str(env_dir / "bin" / "leaktrap"), "scan", "--format", "json", "."],
        cwd=target,
        capture_output=True,
        text=True,
        env=clean_env,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["github-pat-classic"]
    assert doc["summary"]["rules_run"] >= 60
    listed = subprocess.run([str(env_dir / "bin" / "leaktrap"), "rules", "list", "--json"], capture_output=True, text=True)
    assert len(json.loads(listed.stdout)) == doc["summary"]["rules_run"]


def test_pre_commit_hook_entries_exist_as_console_scripts() -> None:
    import tomllib

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hooks
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["entry"].split()[0] in scripts


def test_every_scanner_package_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.relative_to(ROOT).parent.parts)
        for p in (ROOT / "scanner").rglob("__init__.py")
    }
    assert found <= listed
