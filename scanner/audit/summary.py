"""Numbers of an audit, computed once for every report: totals by severity, standing,
verification, provider and repository; the timeline of first commits; the terminal summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ..model import SEVERITIES
from ..report.safe import printable
from .model import OPEN_STATUSES, STATUSES, VERIFICATIONS, AuditFinding, AuditResult, RepoAudit

Count = tuple[str, int]


@dataclass(frozen=True)
class Totals:
    findings: int
    repositories: int
    failed: int
    by_severity: tuple[Count, ...]
    by_status: tuple[Count, ...]
    by_verification: tuple[Count, ...]
    by_provider: tuple[Count, ...]
    by_repository: tuple[Count, ...]

    @property
    def open(self) -> int:
        return sum(n for key, n in self.by_status if key in OPEN_STATUSES)


def totals(result: AuditResult) -> Totals:
    findings = result.findings
    return Totals(
        findings=len(findings),
        repositories=len(result.repositories),
        failed=len(result.failed),
        by_severity=_fixed(SEVERITIES, (f.finding.severity for f in findings)),
        by_status=_fixed(STATUSES, (f.status for f in findings)),
        by_verification=_fixed(VERIFICATIONS, (f.verification.result for f in findings)),
        by_provider=_ranked(f.finding.provider or "(none)" for f in findings),
        by_repository=tuple((r.target.name, len(r.findings)) for r in result.repositories if r.ok),
    )


def _fixed(keys: Sequence[str], values: Iterable[str]) -> tuple[Count, ...]:
    """Every key in its fixed order (zeros included), then any unexpected value."""
    counts = Counter(values)
    extra = sorted(k for k in counts if k not in keys)
    return tuple((k, counts.get(k, 0)) for k in [*keys, *extra])


def _ranked(values: Iterable[str]) -> tuple[Count, ...]:
    counts = Counter(values)
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# ---------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Period:
    label: str  # 2024-03-05 | 2024-03 | 2024
    counts: tuple[Count, ...]  # by severity, fixed order

    @property
    def total(self) -> int:
        return sum(n for _k, n in self.counts)


@dataclass(frozen=True)
class Timeline:
    unit: str  # day | month | year
    periods: tuple[Period, ...]  # consecutive, first to last period with a leak
    undated: int  # findings never committed (not on the chart)


def timeline(findings: Sequence[AuditFinding]) -> Timeline:
    """Leaks by the date they were first committed (UTC), in days, months or years."""
    dated = [(d, f.finding.severity) for f in findings if (d := first_commit_day(f)) is not None]
    undated = len(findings) - len(dated)
    if not dated:
        return Timeline("month", (), undated)
    first, last = min(d for d, _ in dated), max(d for d, _ in dated)
    unit = _unit(first, last)
    labels = _labels(first, last, unit)
    by_label: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for day, severity in dated:
        by_label[_label(day, unit)][severity] += 1
    periods = tuple(Period(label, _fixed(SEVERITIES, by_label[label].elements())) for label in labels)
    return Timeline(unit, periods, undated)


def first_commit_day(f: AuditFinding) -> date | None:
    commit = f.finding.origin.commit
    if commit is None or not commit.date:
        return None
    try:
        moment = datetime.fromisoformat(commit.date.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).date()


def _unit(first: date, last: date) -> str:
    if (last - first).days <= 62:
        return "day"
    months = (last.year - first.year) * 12 + last.month - first.month
    return "month" if months <= 120 else "year"


def _label(day: date, unit: str) -> str:
    if unit == "day":
        return day.isoformat()
    return f"{day.year:04d}-{day.month:02d}" if unit == "month" else f"{day.year:04d}"


def _labels(first: date, last: date, unit: str) -> list[str]:
    if unit == "day":
        return [date.fromordinal(n).isoformat() for n in range(first.toordinal(), last.toordinal() + 1)]
    if unit == "year":
        return [f"{y:04d}" for y in range(first.year, last.year + 1)]
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(start, end + 1)]


# ---------------------------------------------------------------- terminal


def headline(result: AuditResult) -> str:
    t = totals(result)
    audited = t.repositories - t.failed
    repos = f"{t.repositories} repositor{'y' if t.repositories == 1 else 'ies'} ({audited} audited, {t.failed} failed)"
    parts = ", ".join(f"{n} {key}" for key, n in t.by_status if n)
    return f"{repos}, {t.findings} finding{'' if t.findings == 1 else 's'}" + (f": {parts}" if parts else "")


def repo_line(record: RepoAudit) -> str:
    """One repository, for the terminal (names escaped: no terminal injection)."""
    name = printable(record.target.name)
    if not record.ok:
        return f"  FAILED  {name}: {printable(record.reason)}"
    counts = Counter(f.status for f in record.findings)
    detail = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    n = len(record.findings)
    return f"  ok      {name}: {n} finding{'' if n == 1 else 's'}" + (f" ({detail})" if detail else "")


def summary_lines(result: AuditResult) -> list[str]:
    return [f"leaktrap audit: {headline(result)}", *(repo_line(r) for r in result.repositories)]
