"""Every rule's own examples: positives are found by that rule, negatives are not."""

from __future__ import annotations

import pytest

from scanner.engine import EngineSettings, RuleSet, scan_chunk
from scanner.model import Chunk
from scanner.rules import iter_examples, load_rules

RULES, _VERIFY, _REVOKE = load_rules()
RULESET = RuleSet(RULES)
CASES = list(iter_examples(RULES))


def test_every_rule_has_a_positive_and_a_negative_example() -> None:
    missing = [r.id for r in RULES if not r.examples.positive or not r.examples.negative]
    assert missing == []


@pytest.mark.parametrize(
    ("rule_id", "text", "should_match"),
    [(r.id, text, pos) for r, text, pos in CASES],
    ids=[f"{r.id}-{'pos' if pos else 'neg'}{i}" for i, (r, _t, pos) in enumerate(CASES)],
)
def test_rule_example(rule_id: str, text: str, should_match: bool) -> None:
    alone = RuleSet([r for r in RULES if r.id == rule_id])
    result = scan_chunk(Chunk(path="example.txt", text=text), alone, EngineSettings())
    assert result.warnings == []
    if should_match:
        assert result.findings, f"{rule_id} did not find its positive example"
        assert all(f.secret and f.secret in text for f in result.findings)
        # with every rule loaded the secret is still reported exactly once
        full = scan_chunk(Chunk(path="example.txt", text=text), RULESET, EngineSettings())
        secrets = [f.secret for f in full.findings]
        assert any(s in secrets for s in (f.secret for f in result.findings))
        assert len(secrets) == len(set(secrets))
    else:
        assert not result.findings, f"{rule_id} matched its negative example"


def test_positive_examples_contain_a_keyword() -> None:
    bad = []
    for rule, text, pos in CASES:
        if pos and not any(k in text.lower() for k in rule.keywords):
            bad.append(rule.id)
    assert bad == []
