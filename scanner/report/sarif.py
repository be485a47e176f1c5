"""SARIF 2.1.0 for code-scanning upload (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..model import Finding, Rule, ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": f"{rule.description} ({rule.provider}). A hard-coded credential in source or history."},
        "help": {
            "text": "Revoke or rotate the credential, then load it from an environment variable or a secret "
            "manager. If it is not a secret, mark the line with leaktrap:allow or accept it in the baseline.",
        },
        "defaultConfiguration": {"level": _LEVEL.get(rule.severity, "warning")},
        "properties": {
            "tags": ["security", "secret", rule.provider],
            "security-severity": _SECURITY_SEVERITY.get(rule.severity, "5.5"),
            "precision": {"high": "high", "medium": "medium", "low": "low"}[rule.confidence],
        },
    }


def _result(f: Finding, index: dict[str, int], show_secrets: bool) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
    if f.end_column > f.column:
        region["endColumn"] = f.end_column
    shown = f.secret if show_secrets else f.redacted
    message = f"{f.description} ({shown}) found by rule {f.rule_id}."
    if f.origin.commit is not None:
        message += f" First committed in {f.origin.commit.sha[:12]} on {f.origin.commit.date}."
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": _LEVEL.get(f.severity, "warning"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        # line-independent identity: survives code moving up and down the file
        "partialFingerprints": {"leaktrapFingerprint/v1": f.fingerprint},
        "properties": {"confidence": f.confidence, "entropy": round(f.entropy, 3)},
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    if f.origin.commit is not None:
        out["properties"]["commit"] = f.origin.commit.sha
    return out


def render_sarif(result: ScanResult, rules: tuple[Rule, ...], *, color: bool = False, show_secrets: bool = False) -> str:
    del color
    ordered = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(ordered)}
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "leaktrap",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://pypi.org/project/leaktrap/",
                        "rules": [_rule_descriptor(r) for r in ordered],
                    }
                },
                "results": [_result(f, index, show_secrets) for f in result.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
