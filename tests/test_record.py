"""scanner.record: the records behave as the dataclasses they replace (frozen, compared, hashed)."""

from __future__ import annotations

import pickle

import pytest

from scanner.model import Chunk, Finding, Origin, OriginKind, Skipped
from scanner.record import FrozenRecordError, asdict, field, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@record(frozen=False)
class Counter:
    n: int = 0


def test_fields_defaults_and_fresh_factories() -> None:
    a, b = Point(1), Point(x=1)
    assert (a.x, a.y, a.tags, a.note) == (1, 0, [], "")
    assert a.tags is not b.tags  # one new list each, never shared
    with pytest.raises(TypeError):
        Point()  # x is required
    with pytest.raises(TypeError):
        Point(1, z=2)  # unknown field
    with pytest.raises(TypeError):
        Point(1, x=2)  # given twice


def test_frozen_records_refuse_assignment_and_are_hashable() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenRecordError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y  # type: ignore[misc]
    assert Point(1, 2, note="a") == Point(1, 2, note="b")  # compare=False fields do not count
    assert Point(1, 2) != Point(1, 3) and Point(1, 2) != (1, 2)
    assert len({Skipped("a", "r"), Skipped("a", "r"), Skipped("b", "r")}) == 2


def test_mutable_records_change_and_are_not_hashable() -> None:
    c = Counter()
    c.n += 1
    assert c == Counter(1)
    with pytest.raises(TypeError):
        hash(c)


def test_repr_leaves_out_hidden_fields() -> None:
    assert repr(Point(1, 2, note="secret")) == "Point(x=1, y=2, tags=[])"
    chunk = Chunk(path="a.py", text="password = hunter2")
    assert "hunter2" not in repr(chunk) and "a.py" in repr(chunk)


def test_replace_and_asdict() -> None:
    p = Point(1, 2, ["t"], note="n")
    q = replace(p, y=5)
    assert (q.x, q.y, q.tags, q.note) == (1, 5, ["t"], "n") and p.y == 2
    with pytest.raises(TypeError):
        replace(p, z=1)
    origin = Origin(OriginKind.INDEX, blob="b" * 40)
    assert asdict(replace(Chunk(path="x", text="t"), origin=origin))["origin"]["blob"] == "b" * 40


def test_records_cross_processes_by_pickle() -> None:
    finding = Finding(
        rule_id="r", provider="p", description="d", severity="high", confidence="high", path="a.py", line=1,
        column=1, end_column=2, redacted="x***", fingerprint="f", entropy=3.0, secret="s3cr3t",
    )
    again = pickle.loads(pickle.dumps(finding))
    assert again == finding and again.secret == "s3cr3t" and hash(again) == hash(finding)


def test_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError):

        @record
        class Bad:
            a: int = 0
            b: int
