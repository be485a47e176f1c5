"""Every rule's own examples: positives are found by that rule, negatives are not."""

from __future__ import annotations

import pytest

from scanner.engine import EngineSettings, RuleSet, scan_chunk
from scanner.model import CONFIDENCES, Chunk, Origin
from scanner.rules import iter_examples, load_rules

RULES, _VERIFY, _REVOKE = load_rules()
RULESET = RuleSet(RULES)
CASES = list(iter_examples(RULES))


def test_every_rule_has_a_positive_and_a_negative_example() -> None:
    missing = [r.id for r in RULES if not r.examples.positive or not r.examples.negative]
    assert missing == []


@pytest.mark.parametrize(
    ("rule_id", "text", "should_match"),
    [(r.id, text, pos) for r, text, pos in CASES],  # scanned as committed content named examples.path
    ids=[f"{r.id}-{'pos' if pos else 'neg'}{i}" for i, (r, _t, pos) in enumerate(CASES)],
)
def test_rule_example(rule_id: str, text: str, should_match: bool) -> None:
    rule = next(r for r in RULES if r.id == rule_id)
    alone = RuleSet([rule])
    chunk = Chunk(path=rule.examples.path, text=text, origin=Origin(tracked=True))
    # at the default confidence, or at the rule's own when it is lower (reported with --min-confidence low)
    settings = EngineSettings(min_confidence=max("medium", rule.confidence, key=CONFIDENCES.index))
    result = scan_chunk(chunk, alone, settings)
    assert result.warnings == []
    if should_match:
        assert result.findings, f"{rule_id} did not find its positive example"
        assert all(f.secret and f.secret in text for f in result.findings)
        # with every rule loaded the secret is still reported exactly once
        # (hygiene rules add file-level advice beside the credential finding)
        full = scan_chunk(chunk, RULESET, settings)
        hygiene = {r.id for r in RULES if "hygiene" in r.tags}
        secrets = [f.secret for f in full.findings if f.rule_id not in hygiene]
        assert len(secrets) == len(set(secrets))
        if rule_id not in hygiene:
            assert any(s in secrets for s in (f.secret for f in result.findings))
    else:
        assert not result.findings, f"{rule_id} matched its negative example"


def test_positive_examples_contain_a_keyword() -> None:
    bad = []
    for rule, text, pos in CASES:
        if pos and not any(k in text.lower() for k in rule.keywords):
            bad.append(rule.id)
    assert bad == []


def test_prefilter_is_found_in_every_match_of_the_positive_examples() -> None:
    """With Hyperscan a rule's prefilter replaces its keywords in picking the lines to confirm
    on: every match of the rule must contain a match of its prefilter."""
    import regex

    from scanner.detect.prefilter import Prefilter

    bad = []
    for rule, text, pos in CASES:
        if not pos or rule.prefilter is None:
            continue
        prefilter = Prefilter([()], [rule.prefilter])
        if prefilter.engine != "hyperscan":
            pytest.skip("prefilter patterns need Hyperscan")
        for m in regex.finditer(rule.regex, text):
            if not prefilter.hits(m.group(0)):
                bad.append((rule.id, m.group(0)))
    assert bad == []
