"""The shortcuts that make scanning fast must not change what it finds.

One prefilter pass per chunk reports each entry once per line; long texts are scanned
piecewise in streaming mode; the decoder takes its context lines from that same pass and
decodes only the spans a gate line falls in. Each is checked here against the plain way.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.detect import prefilter
from scanner.engine import EngineSettings, RuleSet, scan_chunk
from scanner.model import Chunk
from scanner.rules import load_rules
from scanner.sources import decoding

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = RuleSet(load_rules()[0], None, decoding.MARKERS)
MARKERS_ONLY = RuleSet([], None, decoding.MARKERS)


@contextmanager
def window(chars: int) -> Iterator[None]:
    """Texts longer than ``chars`` go through the streaming path."""
    saved = prefilter.WINDOW
    prefilter.WINDOW = chars
    try:
        yield
    finally:
        prefilter.WINDOW = saved


def _b64(rnd: random.Random) -> str:
    raw = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789=:_-") for _ in range(rnd.randrange(6, 40)))
    return base64.b64encode(raw.encode()).decode()


def _piece(rnd: random.Random) -> str:
    kind = rnd.randrange(12)
    if kind == 0:
        word = rnd.choice(decoding.CONTEXT_WORDS)
        return "".join(c.upper() if rnd.random() < 0.3 else c for c in word)
    if kind == 1:
        return _b64(rnd)
    if kind == 2:
        return "".join(rnd.choice("0123456789abcdef") for _ in range(2 * rnd.randrange(14, 24)))
    if kind == 3:
        return "".join("%%%02X" % b for b in rnd.choice(["token=x&y", "pass word/ü", "a"]).encode())
    if kind == 4:
        return rnd.choice(["\n", "\n", "\r\n", "\n\n"])
    if kind == 5:
        return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEF0123456789_/+-") for _ in range(rnd.randrange(1, 30)))
    if kind == 6:
        return rnd.choice(["://", "=", ": ", '"', " ", "é", "日本", "==", "/"])
    return rnd.choice([" ", "x = ", "key", "token=", "author", "passed", "ghp_"])


texts = st.builds(
    lambda seed, n: "".join(_piece(rnd) for rnd in [random.Random(seed)] for _ in range(n)),
    st.integers(0, 2**32),
    st.integers(0, 160),
)


def _derived(chunk: Chunk, context: decoding.ContextLines | None) -> list[tuple[str, str | None, object, str]]:
    return [(c.text, c.decoded, c.line_map, run) for c, run in decoding.Decoder(2).chunks(chunk, context)]


@PROPS
@given(texts, st.sampled_from([1 << 20, 16, 3]))
def test_gated_context_lines_decode_what_every_context_line_decodes(text: str, chars: int) -> None:
    """The gate only skips spans that hold no encoded run: whatever the text, and however the
    prefilter cuts it into batches, the decoder derives the same chunks."""
    chunk = Chunk(path="f.yaml", text=text)
    context = decoding.ContextLines(text)
    with window(chars):
        scan_chunk(chunk, MARKERS_ONLY, EngineSettings(), context)
    assert not context.unknown
    assert _derived(chunk, context) == _derived(chunk, None)


@PROPS
@given(texts)
def test_streaming_reports_what_one_block_reports(text: str) -> None:
    block = list(RULES.prefilter.scan(text))
    assert len(block) == 1
    with window(7):
        pieces = list(RULES.prefilter.scan(text))
    # in order of line end (the entries of one line come in any order)
    assert sorted((e, i) for b in pieces for i, e in zip(b.ids, b.ends)) == sorted(zip(block[0].ends, block[0].ids))
    assert [e for b in pieces for e in b.ends] == list(block[0].ends)
    for m in range(len(decoding.MARKERS)):
        assert [e for b in pieces for e in b.marks[m]] == list(block[0].marks[m])  # type: ignore[index]
    assert pieces[-1].upto == len(text) + 1
    for done, following in zip(pieces, pieces[1:]):  # every report before ``upto`` is in
        assert all(e >= done.upto for e in following.ends)


def test_an_entry_is_reported_once_per_line_at_its_end() -> None:
    text = "ghp_x " * 1000 + "\nnothing here\nx ghp_ y ghp_"
    hits = RULES.prefilter.hits(text)
    assert sorted({end for _entry, end in hits}) == [6000, len(text)]
    assert len(hits) == len(set(hits))


def test_findings_on_a_long_text_are_those_of_its_pieces() -> None:
    """A text longer than the window is scanned piecewise; a finding on the far side of a
    window boundary, and one spanning lines, are still found where they are."""
    from scanner.template import generate

    gh = generate("ghp_{alnum:36}", seed="speed:1")
    body = "".join(f"line {i} with nothing\n" for i in range(3000))
    text = body + f'GITHUB_TOKEN = "{gh}"\n' + body + f"password = {generate('{alnum:14}', seed='speed:2')}Q9!\n"
    block = scan_chunk(Chunk(path="a.py", text=text), RULES, EngineSettings())
    with window(4096):
        streamed = scan_chunk(Chunk(path="a.py", text=text), RULES, EngineSettings())
    assert [(f.rule_id, f.line, f.column) for f in streamed.findings] == [
        (f.rule_id, f.line, f.column) for f in block.findings
    ]
    assert any(f.secret == gh and f.line == 3001 for f in block.findings)
