"""From findings to credentials: which spec checks which secret, paired where needed.

One credential per (spec, secret, partner): a secret found in five files is
sent once and its result reported for all five findings. A spec with ``pair``
(AWS) takes the nearest finding of one of the partner rules in the same file,
within ``max_lines``; the partner finding gets the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..model import Finding, Rule
from .runner import Credential
from .spec import Spec


@dataclass(frozen=True)
class Unresolved:
    """A finding no spec can act on, and why."""

    finding: Finding
    reason: str


def build_credentials(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    specs: Mapping[str, Spec],
    action: str,
) -> tuple[list[Credential], list[Unresolved]]:
    items = list(findings)
    grouped: dict[tuple[str, str, str | None], list[Finding]] = {}
    first_rule: dict[tuple[str, str, str | None], Finding] = {}
    unresolved: list[Unresolved] = []
    for f in items:
        rule = rules.get(f.rule_id)
        name = getattr(rule, action, None) if rule is not None else None
        if name is None:
            continue
        spec = specs.get(name)
        if spec is None:
            unresolved.append(Unresolved(f, f"rule {f.rule_id} names [{action}.{name}], which no rule file defines"))
            continue
        partner = nearest_partner(f, items, spec) if spec.pair is not None else None
        key = (name, f.secret, partner.secret if partner is not None else None)
        group = grouped.setdefault(key, [])
        first_rule.setdefault(key, f)
        group.append(f)
        if partner is not None:
            for twin in items:  # the partner and its duplicates (two rules matching the same secret)
                same = twin.secret == partner.secret and twin.path == partner.path and twin.rule_id in spec.pair.rules
                if same and all(twin is not g for g in group):
                    group.append(twin)
    handled = {id(f) for group in grouped.values() for f in group} | {id(u.finding) for u in unresolved}
    for f in items:
        rule = rules.get(f.rule_id)
        if id(f) in handled:
            continue
        what = "verify" if action == "verify" else "revoke"
        unresolved.append(Unresolved(f, f"no {what} endpoint for rule {f.rule_id}" + ("" if rule else " (unknown rule)")))
    creds = [
        Credential(
            spec_name=key[0],
            rule_id=first_rule[key].rule_id,
            provider=first_rule[key].provider,
            findings=tuple(group),
            secret=key[1],
            pair=key[2],
        )
        for key, group in grouped.items()
    ]
    return creds, unresolved


def nearest_partner(finding: Finding, items: list[Finding], spec: Spec) -> Finding | None:
    """The closest partner-rule finding in the same file (ties: the earlier one)."""
    assert spec.pair is not None
    best: Finding | None = None
    best_key: tuple[int, int, int] | None = None
    for other in items:
        if other.rule_id not in spec.pair.rules or other.path != finding.path or other is finding:
            continue
        if other.origin.blob != finding.origin.blob:
            continue  # history: the same blob, not the same path at another time
        distance = abs(other.line - finding.line)
        if distance > spec.pair.max_lines:
            continue
        key = (distance, other.line, other.column)
        if best_key is None or key < best_key:
            best, best_key = other, key
    return best
