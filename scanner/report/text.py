"""The report for people: grouped by file, redacted, colour only on a terminal."""

from __future__ import annotations

from collections import defaultdict

from ..model import Finding, Rule, ScanResult
from .safe import printable

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[37m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"

ADVICE = (
    "What to do: if a finding is a real credential, revoke or rotate it now (it is exposed to "
    "everyone who can read this code or its history), then load it from an environment variable "
    "or a secret manager instead of the code. If it is not a secret, add `leaktrap:allow` on the "
    "line or accept it in the baseline (`leaktrap baseline update`)."
)


def render_text(result: ScanResult, rules: tuple[Rule, ...], *, color: bool = False, show_secrets: bool = False) -> str:
    del rules
    lines: list[str] = []
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_file[f.path].append(f)
    for path in sorted(by_file):
        lines.append((_BOLD if color else "") + printable(path) + (_RESET if color else ""))
        for f in by_file[path]:
            sev = f"{f.severity.upper():8}"
            if color:
                sev = _COLORS.get(f.severity, "") + sev + _RESET
            shown = printable(f.secret) if show_secrets else printable(f.redacted)
            line = f"  {f.line}:{f.column}  {sev} {f.rule_id}  {shown}  ({printable(f.description)}"
            line += f", confidence {f.confidence})"
            lines.append(line)
            if f.decoded:
                lines.append(f"      found after {f.decoded} decoding")
            if f.origin.commit is not None:
                c = f.origin.commit
                extra = f", seen in {f.occurrences} commits" if f.occurrences > 1 else ""
                head = "" if f.at_head is None else ("; still at HEAD" if f.at_head else "; not at HEAD")
                lines.append(
                    f"      first commit {c.sha[:12]} by {printable(c.author_name)} <{printable(c.author_email)}> "
                    f"on {c.date}: {printable(c.summary)}{extra}{head}"
                )
        lines.append("")
    lines.append(summary_line(result))
    for w in result.warnings:
        lines.append(f"warning: {printable(w)}")
    if result.skipped:
        reasons: dict[str, int] = defaultdict(int)
        for s in result.skipped:
            reasons[s.reason.split(" (")[0]] += 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        lines.append(f"skipped {len(result.skipped)} file(s): {detail} (--format json lists them)")
    if result.findings:
        lines.append("")
        lines.append(ADVICE)
    return "\n".join(lines) + "\n"


def summary_line(result: ScanResult) -> str:
    n = len(result.findings)
    parts = [
        f"{n} finding{'s' if n != 1 else ''}" + (" (new)" if result.baseline else ""),
        f"{result.files_scanned} file(s) scanned ({_size(result.bytes_scanned)})",
        f"{result.rules_run} rules",
        f"{result.duration:.2f}s",
    ]
    if result.baseline:
        parts.append(f"{result.suppressed} suppressed by baseline {printable(result.baseline)}")
    return "leaktrap: " + ", ".join(parts)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
