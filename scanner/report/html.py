"""The audit as one self-contained HTML page: a pure function of an :class:`AuditResult`.

No network and no external asset: the style sheet, the script and the timeline
(SVG drawn here) are inline, and a Content-Security-Policy allows only those
exact two blocks (by hash), so even a missed escape could not run a script or
load anything. Every text from a repository (paths, names, commit subjects) is
escaped, with control and bidirectional-override characters shown as escapes.
The records hold masked secrets only. Without JavaScript the page is complete;
with it the findings table sorts and filters in place.
"""

from __future__ import annotations

import base64
import hashlib
import html
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from .. import __version__
from ..audit.model import NOT_CHECKED, STATUSES, VERIFICATIONS, AuditFinding, AuditResult, RepoAudit
from ..audit.summary import Count, Timeline, Totals, timeline, totals
from ..model import SEVERITIES

_STATUS_LABEL = {
    "live": "verified live",
    "new": "new",
    "submitted": "revocation submitted",
    "revoked": "revoked",
    "baselined": "baselined",
}
_VERIFY_LABEL = {
    "valid": "valid (live)",
    "invalid": "invalid",
    "unknown": "unknown",
    "no-endpoint": "no verify endpoint",
    "not-checked": "not checked",
}
_HEAD_LABEL = {"yes": "at HEAD", "no": "history only", "uncommitted": "not committed"}


def render_html(result: AuditResult) -> str:
    t = totals(result)
    title = f"leaktrap audit: {t.findings} finding{'' if t.findings == 1 else 's'} in {t.repositories} repositor{'y' if t.repositories == 1 else 'ies'}"
    body = "\n".join(
        [
            _header(result, title),
            _overview(t),
            _totals(t),
            _timeline(timeline(result.findings)),
            _repositories(result.repositories),
            _findings(result.findings, t),
            f'<footer>leaktrap {esc(__version__)}. Secrets are masked; this page loads nothing from the network.</footer>',
        ]
    )
    return _page(title, body)


# ---------------------------------------------------------------- escaping


def clean(text: object) -> str:
    """Control, format (bidi overrides, zero-width) and unprintable characters as escapes."""
    out = []
    for ch in str(text):
        if ch.isprintable() and unicodedata.category(ch) not in ("Cc", "Cf"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def esc(text: object) -> str:
    """Text for an element or a quoted attribute."""
    return html.escape(clean(text), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _page(title: str, body: str) -> str:
    policy = (
        f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {_csp_hash(SCRIPT)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- sections


def _header(result: AuditResult, title: str) -> str:
    s = result.settings
    facts = [
        f"generated {esc(result.generated)}",
        "verification: " + ("on" if s.verify else "off"),
        "repository configuration: " + ("trusted" if s.trust_repo_config else "not loaded (untrusted)"),
        "baseline: " + ("applied" if s.use_baseline else "ignored"),
    ]
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    return (
        f"<header><h1>{esc(title)}</h1><p class=\"meta\">{' · '.join(facts)}</p>"
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</header>"
    )


def _overview(t: Totals) -> str:
    status = dict(t.by_status)
    cards = [
        ("findings", "findings", t.findings, ""),
        ("status:live", "verified live", status.get("live", 0), "live"),
        ("status:new", "new", status.get("new", 0), "new"),
        ("status:baselined", "baselined", status.get("baselined", 0), "baselined"),
        ("status:revoked", "revoked", status.get("revoked", 0) + status.get("submitted", 0), "revoked"),
        ("repositories", "repositories", t.repositories, ""),
        ("failed", "failed repositories", t.failed, "failed" if t.failed else ""),
    ]
    items = "".join(
        f'<div class="card {cls}"><span class="n" data-card="{esc(key)}">{n}</span><span class="l">{esc(label)}</span></div>'
        for key, label, n, cls in cards
    )
    return f'<section id="overview" class="cards" aria-label="Overview">{items}</section>'


def _totals(t: Totals) -> str:
    tables = [
        _count_table("By severity", "severity", t.by_severity, dict(zip(SEVERITIES, SEVERITIES))),
        _count_table("By status", "status", t.by_status, _STATUS_LABEL),
        _count_table("By verification", "verification", t.by_verification, _VERIFY_LABEL),
        _count_table("By provider", "provider", t.by_provider, {}),
        _count_table("By repository", "repo", t.by_repository, {}),
    ]
    return f'<section id="totals"><h2>Totals</h2><div class="totals">{"".join(tables)}</div></section>'


def _count_table(caption: str, kind: str, counts: Sequence[Count], labels: dict[str, str]) -> str:
    top = max((n for _k, n in counts), default=0) or 1
    rows = []
    for key, n in counts:
        width = round(100 * n / top)
        rows.append(
            f'<tr><th scope="row"><button type="button" class="pick" data-pick="{esc(kind)}" data-value="{esc(key)}">'
            f"{esc(labels.get(key, key))}</button></th>"
            f'<td class="n" data-total="{esc(kind)}:{esc(key)}">{n}</td>'
            f'<td class="bar"><meter min="0" max="100" value="{width}" class="{esc(_token(kind))}-{esc(_token(key))}"></meter></td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="3" class="none">none</td></tr>'
    return f'<table class="count" data-kind="{esc(kind)}"><caption>{esc(caption)}</caption><tbody>{body}</tbody></table>'


def _token(text: str) -> str:
    """A safe CSS class fragment."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "_" for ch in text.lower())[:40]


# ---------------------------------------------------------------- timeline


def _timeline(line: Timeline) -> str:
    caption = f"Leaks by the {line.unit} they were first committed (UTC)"
    if not line.periods:
        chart = '<p class="none">No committed leak: nothing to chart.</p>'
    else:
        chart = timeline_svg(line)
    note = f'<p class="meta">{line.undated} finding{"" if line.undated == 1 else "s"} never committed (working tree only) not charted.</p>' if line.undated else ""
    legend = "".join(f'<span class="key"><span class="swatch sev-{s}"></span>{s}</span>' for s in SEVERITIES)
    return f'<section id="timeline"><h2>{esc(caption)}</h2><div class="legend">{legend}</div><div class="chart">{chart}</div>{note}</section>'


def timeline_svg(line: Timeline) -> str:
    """Stacked bars by severity, one per period, with a y axis and spaced x labels."""
    n = len(line.periods)
    slot = max(8, min(48, 900 // max(n, 1)))
    left, top, plot_h, bottom = 40, 12, 180, 40
    width, height = left + slot * n + 12, top + plot_h + bottom
    peak = max(p.total for p in line.periods) or 1
    parts = [
        f'<svg role="img" class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="Leaks by first commit date">'
    ]
    parts += _y_axis(left, top, plot_h, peak, width)
    step = max(1, -(-80 // slot))  # a label every ~80 px
    for i, period in enumerate(line.periods):
        x = left + i * slot
        parts += _bar(period.label, period.counts, x, slot, top + plot_h, plot_h, peak)
        if i % step == 0:
            parts.append(f'<text class="xl" x="{x + slot / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{esc(period.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(left: int, top: int, plot_h: int, peak: int, width: int) -> list[str]:
    ticks = list(range(peak + 1)) if peak <= 5 else sorted({0, peak // 2, peak})
    out = []
    for value in ticks:
        y = top + plot_h - plot_h * value / max(peak, 1)
        out.append(f'<line class="grid" x1="{left}" x2="{width - 6}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        out.append(f'<text class="yl" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    return out


def _bar(label: str, counts: Iterable[Count], x: int, slot: int, base: int, plot_h: int, peak: int) -> list[str]:
    out = []
    y = float(base)
    for severity, count in counts:
        if not count:
            continue
        h = plot_h * count / peak
        y -= h
        out.append(
            f'<rect class="sev-{esc(_token(severity))}" x="{x + 1}" y="{y:.1f}" width="{max(slot - 2, 1)}" height="{h:.1f}">'
            f"<title>{esc(label)}: {count} {esc(severity)}</title></rect>"
        )
    return out


# ---------------------------------------------------------------- repositories


def _repositories(records: Sequence[RepoAudit]) -> str:
    rows = "".join(_repo_row(r) for r in records)
    head = "<tr><th>Repository</th><th>Result</th><th>Findings</th><th>Files</th><th>History blobs</th><th>HEAD</th><th>Notes</th></tr>"
    return f'<section id="repositories"><h2>Repositories</h2><div class="scroll"><table class="repos"><thead>{head}</thead><tbody>{rows}</tbody></table></div></section>'


def _repo_row(r: RepoAudit) -> str:
    notes = [r.reason] if not r.ok else list(r.warnings)
    text = "".join(f"<div>{esc(n)}</div>" for n in notes)
    result = '<span class="badge ok">audited</span>' if r.ok else '<span class="badge failed">failed</span>'
    head = f'<code title="{esc(r.head)}">{esc(r.head[:10])}</code>' if r.head else ""
    counts = r.counts
    return (
        f'<tr class="{"ok" if r.ok else "failed"}" data-repo-status="{esc(r.status)}"><td title="{esc(r.target.path)}">{esc(r.target.name)}</td>'
        f"<td>{result}</td><td class=\"num\">{len(r.findings) if r.ok else ''}</td>"
        f"<td class=\"num\">{counts.files_scanned if r.ok else ''}</td><td class=\"num\">{counts.blobs_scanned if r.ok else ''}</td>"
        f"<td>{head}</td><td class=\"reason\">{text}</td></tr>"
    )


# ---------------------------------------------------------------- findings

_COLUMNS = (
    ("severity", "Severity", "num"),
    ("status", "Status", "num"),
    ("verification", "Verification", "num"),
    ("repo", "Repository", "text"),
    ("location", "Path:line", "text"),
    ("rule", "Rule", "text"),
    ("secret", "Secret (masked)", "text"),
    ("commit", "First commit", "text"),
    ("exposure", "Exposed (days)", "num"),
    ("head", "At HEAD", "text"),
    ("remediation", "What to do", "text"),
)


def _findings(findings: Sequence[AuditFinding], t: Totals) -> str:
    heads = "".join(
        f'<th scope="col" data-col="{key}" data-type="{kind}" aria-sort="none"><button type="button" class="sort">{esc(label)}</button></th>'
        for key, label, kind in _COLUMNS
    )
    rows = "".join(_finding_row(i, a) for i, a in enumerate(findings))
    return (
        f'<section id="findings-section"><h2>Findings</h2>{_filters(findings, t)}'
        f'<p class="meta" aria-live="polite">showing <span id="shown-count">{len(findings)}</span> of '
        f'<span id="total-count">{len(findings)}</span> findings</p>'
        '<noscript><p class="meta">Sorting and filtering need JavaScript; the table below is complete without it.</p></noscript>'
        f'<div class="scroll"><table id="findings"><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></div>'
        f'<p id="no-match" class="none"{"" if not findings else " hidden"}>No finding to show.</p></section>'
    )


def _filters(findings: Sequence[AuditFinding], t: Totals) -> str:
    heads = [(k, sum(1 for a in findings if _head_key(a) == k)) for k in _HEAD_LABEL]
    selects = [
        _select("repo", "Repository", t.by_repository, {}),
        _select("severity", "Severity", t.by_severity, {}),
        _select("status", "Status", t.by_status, _STATUS_LABEL),
        _select("verification", "Verification", t.by_verification, _VERIFY_LABEL),
        _select("provider", "Provider", t.by_provider, {}),
        _select("head", "At HEAD", tuple(heads), _HEAD_LABEL),
    ]
    search = '<label>Search <input type="search" id="search" placeholder="path, rule, author, commit…" autocomplete="off"></label>'
    reset = '<button type="button" id="reset">Reset</button>'
    return f'<form class="filters" id="filters" role="search" autocomplete="off">{search}{"".join(selects)}{reset}</form>'


def _select(kind: str, label: str, counts: Sequence[Count], labels: dict[str, str]) -> str:
    options = "".join(
        f'<option value="{esc(key)}">{esc(labels.get(key, key))} ({n})</option>' for key, n in counts if n
    )
    return f'<label>{esc(label)} <select data-filter="{esc(kind)}"><option value="">all</option>{options}</select></label>'


def _head_key(a: AuditFinding) -> str:
    if not a.committed:
        return "uncommitted"
    return "yes" if a.finding.at_head else "no"


def _rank(value: str, order: Sequence[str]) -> int:
    return order.index(value) if value in order else len(order)


def _finding_row(index: int, a: AuditFinding) -> str:
    f = a.finding
    commit = f.origin.commit
    head = _head_key(a)
    search = " ".join(
        [a.repository, f.path, f.rule_id, f.provider, f.redacted, a.status, a.verification.result]
        + ([commit.sha, commit.author_name, commit.author_email, commit.summary] if commit else [])
    ).lower()
    attrs = {
        "data-index": str(index),
        "data-severity": f.severity,
        "data-status": a.status,
        "data-verification": a.verification.result,
        "data-repo": a.repository,
        "data-provider": f.provider or "(none)",
        "data-head": head,
        "data-text": clean(search),
        "class": f"sev-row status-{_token(a.status)}",
    }
    cells = [
        _cell(_rank(f.severity, SEVERITIES), f'<span class="badge sev-{_token(f.severity)}">{esc(f.severity)}</span>'),
        _cell(_rank(a.status, STATUSES), f'<span class="badge st-{_token(a.status)}">{esc(_STATUS_LABEL.get(a.status, a.status))}</span>'),
        _cell(_rank(a.verification.result, VERIFICATIONS), _verification(a)),
        _cell(a.repository, esc(a.repository)),
        _cell(f"{f.path} {f.line:09d}", f'<span class="path">{esc(f.path)}</span>:{f.line}'),
        _cell(f.rule_id, f'{esc(f.rule_id)}<div class="sub">{esc(f.provider)}</div>'),
        _cell(f.redacted, f"<code>{esc(f.redacted)}</code>"),
        _cell(_utc(commit.date) if commit else "", _commit(a)),
        _cell(a.exposure_days if a.exposure_days is not None else -1, str(a.exposure_days) if a.exposure_days is not None else "—"),
        _cell(head, esc(_HEAD_LABEL[head]) + (" · in working tree" if a.in_worktree and head != "uncommitted" else "")),
        _cell(a.remediation, esc(a.remediation), "fix"),
    ]
    attr_text = " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())
    return f"<tr {attr_text}>{''.join(cells)}</tr>"


def _utc(stamp: str) -> str:
    """A commit date as a UTC timestamp, so that dates with different offsets sort right."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _cell(sort: object, inner: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<td data-sort="{esc(sort)}"{klass}>{inner}</td>'


def _verification(a: AuditFinding) -> str:
    v = a.verification
    label = esc(_VERIFY_LABEL.get(v.result, v.result))
    detail = v.reason + (f" (HTTP {v.http_status})" if v.http_status else "")
    when = f"checked {v.checked_at} (audit log)" if v.checked_at else ""
    sub = " · ".join(x for x in (detail, when) if x)
    inner = f'<span class="badge v-{_token(v.result)}">{label}</span>'
    return inner + (f'<div class="sub">{esc(sub)}</div>' if sub and v.result != NOT_CHECKED else "")


def _commit(a: AuditFinding) -> str:
    commit = a.finding.origin.commit
    if commit is None:
        return '<span class="sub">not committed</span>'
    title = f"{commit.sha} {commit.summary}"
    copies = f" · in {a.finding.occurrences} version{'s' if a.finding.occurrences != 1 else ''}" if a.finding.occurrences > 1 else ""
    return (
        f'<code title="{esc(title)}">{esc(commit.sha[:10])}</code>'
        f'<div class="sub" title="{esc(commit.author_email)}">{esc(commit.author_name)}</div>'
        f'<div class="sub">{esc(commit.date[:10])}{esc(copies)}</div>'
    )


# ---------------------------------------------------------------- assets (hashed into the CSP)

CSS = """
:root{--fg:#1d2330;--muted:#5d6677;--bg:#f6f7f9;--card:#fff;--line:#dfe3ea;--accent:#2457c5;
--critical:#b3261e;--high:#e8590c;--medium:#d4a106;--low:#1c7ed6;--info:#868e96}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#a3abba;--bg:#14171d;--card:#1d2129;--line:#313744;--accent:#7aa2ff}}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta,.sub,.none{color:var(--muted)}.sub{font-size:12px}.notes{color:var(--muted);margin:6px 0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:128px}
.card .n{display:block;font-size:26px;font-weight:650}.card .l{color:var(--muted)}
.card.live .n,.card.failed .n{color:var(--critical)}.card.new .n{color:var(--high)}.card.revoked .n{color:#2b8a3e}
.totals{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px;align-items:start}
table{border-collapse:collapse;background:var(--card)}
table.count{width:100%;border:1px solid var(--line);border-radius:10px}
table.count caption{text-align:left;font-weight:600;padding:0 0 6px}
table.count th,table.count td{padding:4px 8px;border-top:1px solid var(--line);text-align:left}
table.count td.n{text-align:right;font-variant-numeric:tabular-nums;width:3em}
td.bar{width:45%}meter{width:100%;height:10px}
button.pick{all:unset;cursor:pointer;color:var(--accent)}button.pick:hover{text-decoration:underline}
.legend{display:flex;gap:14px;color:var(--muted);margin-bottom:6px}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
.chart{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:8px}
svg.timeline text{font-size:11px;fill:var(--muted)}svg.timeline .grid{stroke:var(--line)}
.sev-critical{fill:var(--critical);background:var(--critical)}.sev-high{fill:var(--high);background:var(--high)}
.sev-medium{fill:var(--medium);background:var(--medium)}.sev-low{fill:var(--low);background:var(--low)}.sev-info{fill:var(--info);background:var(--info)}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
table.repos,#findings{width:100%}
table.repos th,table.repos td,#findings th,#findings td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
#findings thead th{position:sticky;top:0;background:var(--card);white-space:nowrap}
button.sort{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button.sort::after{content:" \\25B2"}th[aria-sort=descending] button.sort::after{content:" \\25BC"}
td.num{text-align:right}td.fix{min-width:220px;max-width:340px;font-size:12.5px}
#findings{font-size:13px}#findings td .sub{max-width:220px}.path{overflow-wrap:anywhere}#findings td:nth-child(5){max-width:260px}.reason{color:var(--muted)}
tr.failed td{background:rgba(179,38,30,.07)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;color:#fff;background:var(--info);white-space:nowrap}
.badge.ok,.st-revoked,.v-invalid{background:#2b8a3e}.badge.failed,.st-live,.v-valid{background:var(--critical)}
.badge.sev-critical{background:var(--critical)}.badge.sev-high{background:var(--high)}.badge.sev-medium{background:var(--medium)}.badge.sev-low{background:var(--low)}
.st-new{background:var(--high)}.st-submitted{background:#5f3dc4}.st-baselined,.v-not-checked,.v-no-endpoint{background:var(--info)}.v-unknown{background:var(--medium)}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin-bottom:8px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
.filters select,.filters input,#reset{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
footer{margin-top:28px;color:var(--muted);font-size:12px}
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown-count");
  var none = document.getElementById("no-match");
  var sorted = { col: -1, dir: 1 };

  function matches(row, query) {
    for (var i = 0; i < selects.length; i++) {
      var want = selects[i].value;
      if (want && row.getAttribute("data-" + selects[i].getAttribute("data-filter")) !== want) { return false; }
    }
    return !query || row.getAttribute("data-text").indexOf(query) !== -1;
  }

  function apply() {
    var query = search.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var ok = matches(row, query);
      row.hidden = !ok;
      if (ok) { count++; }
    });
    shown.textContent = String(count);
    none.hidden = count !== 0;
  }

  function key(row, col, numeric) {
    var value = row.cells[col].getAttribute("data-sort") || "";
    return numeric ? parseFloat(value) : value;
  }

  function sortBy(col) {
    var th = table.tHead.rows[0].cells[col];
    var numeric = th.getAttribute("data-type") === "num";
    sorted.dir = sorted.col === col ? -sorted.dir : 1;
    sorted.col = col;
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) { c = parseInt(a.getAttribute("data-index"), 10) - parseInt(b.getAttribute("data-index"), 10); return c; }
      return c * sorted.dir;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, i) {
      cell.setAttribute("aria-sort", i === col ? (sorted.dir > 0 ? "ascending" : "descending") : "none");
    });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, i) {
    cell.querySelector("button").addEventListener("click", function () { sortBy(i); });
  });
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    search.value = "";
    apply();
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.pick"), function (b) {
    b.addEventListener("click", function () {
      var kind = b.getAttribute("data-pick"), value = b.getAttribute("data-value");
      selects.forEach(function (s) {
        if (s.getAttribute("data-filter") === kind) {
          var known = Array.prototype.some.call(s.options, function (o) { return o.value === value; });
          s.value = known ? value : "";
        }
      });
      apply();
      table.scrollIntoView({ block: "start" });
    });
  });
  apply();
}());
"""
