"""The baseline: findings a team has accepted, stored without their secrets.

An entry's identity is (rule id, path, keyed fingerprint of the secret). The
fingerprint is HMAC-SHA256 over rule, path and secret with a random salt kept
in the file header, so the file cannot be checked against a public table of
hashed secrets. No raw secret, line number, column, commit or timestamp is
stored: moving a secret to another line, reformatting the file or renaming a
variable keeps it suppressed; moving it to another file makes it new.

Layout (version 1), made for git's line merge: one entry per line, sorted,
every entry line ending with a comma because the array ends with a fixed
``"end-of-entries"`` marker::

    {
      "version": 1,
      "hash": "hmac-sha256",
      "salts": {
        "<salt id>": "<salt, 32 hex digits>"
      },
      "entries": [
        {"path": "a.py", "rule_id": "r", "fingerprint": "<32 hex>", "salt": "<salt id>", "label": "unlabelled"},
        "end-of-entries"
      ]
    }

Each entry names the salt it was keyed with (the salt id is derived from the
salt). Merging two baselines made with different salts keeps both salts and
both entry sets (re-keying needs the secrets); ``update``, which re-scans and
so has the secrets, re-keys every entry to one salt again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .digest import sha256
from .errors import BaselineError
from .model import Finding
from .record import record, replace

FORMAT_VERSION = 1
HASH = "hmac-sha256"
END_MARKER = "end-of-entries"
UNLABELLED = "unlabelled"
TRUE_POSITIVE = "true-positive"
FALSE_POSITIVE = "false-positive"
LABELS = (UNLABELLED, TRUE_POSITIVE, FALSE_POSITIVE)

_FINGERPRINT_HEX = 32
_SALT_ID_HEX = 12
_HEX = re.compile(r"[0-9a-f]+")
_TOP_KEYS = {"version", "hash", "salts", "entries"}
_ENTRY_KEYS = ("path", "rule_id", "fingerprint", "salt", "label", "note")


@record
class Entry:
    path: str
    rule_id: str
    fingerprint: str
    salt: str  # salt id
    label: str = UNLABELLED
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.salt, self.fingerprint)

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.path, self.rule_id, self.fingerprint, self.salt)


@record
class Baseline:
    salts: tuple[tuple[str, str], ...]  # (salt id, salt hex), sorted by id
    entries: tuple[Entry, ...]  # sorted, one per key

    def salt_map(self) -> dict[str, str]:
        return dict(self.salts)

    def primary_salt(self) -> tuple[str, str]:
        """The salt new entries get: the one most entries use (ties: smallest id)."""
        if not self.salts:
            return new_salt()
        use = {sid: 0 for sid, _ in self.salts}
        for e in self.entries:
            use[e.salt] = use.get(e.salt, 0) + 1
        best = min(self.salts, key=lambda s: (-use[s[0]], s[0]))
        return best


# --- keys and fingerprints -------------------------------------------------


def salt_id(salt_hex: str) -> str:
    return sha256(f"leaktrap-salt\0{salt_hex}".encode("ascii")).hexdigest()[:_SALT_ID_HEX]


def new_salt() -> tuple[str, str]:
    import secrets

    salt_hex = secrets.token_hex(16)
    return salt_id(salt_hex), salt_hex


def keyed_fingerprint(salt_hex: str, rule_id: str, path: str, secret: str, length: int = _FINGERPRINT_HEX) -> str:
    import hashlib  # with findings only (OpenSSL takes milliseconds to load)
    import hmac

    message = "\0".join(("leaktrap-baseline", rule_id, path, secret)).encode("utf-8", "surrogatepass")
    return hmac.new(bytes.fromhex(salt_hex), message, hashlib.sha256).hexdigest()[:length]


def new_baseline() -> Baseline:
    return Baseline(salts=(new_salt(),), entries=())


def make_baseline(salts: Mapping[str, str], entries: Iterable[Entry]) -> Baseline:
    """Normalise: one entry per key (labels combined), sorted; only salts in use."""
    unique: dict[tuple[str, str], Entry] = {}
    for e in entries:
        prev = unique.get(e.key)
        unique[e.key] = e if prev is None else combine(prev, e)
    ordered = tuple(sorted(unique.values(), key=Entry.sort_key))
    used = {e.salt for e in ordered}
    kept = {sid: hx for sid, hx in salts.items() if sid in used}
    if not kept and salts:
        sid, hx = Baseline(tuple(sorted(salts.items())), ()).primary_salt()
        kept = {sid: hx}
    return Baseline(salts=tuple(sorted(kept.items())), entries=ordered)


def combine(a: Entry, b: Entry) -> Entry:
    """Two entries for the same finding: a label beats none; ``a`` wins a tie; notes are kept."""
    first, second = (b, a) if a.label == UNLABELLED and b.label != UNLABELLED else (a, b)
    return replace(first, note=join_notes(first.note, second.note))


def join_notes(a: str, b: str) -> str:
    if not b or b == a:
        return a
    if not a:
        return b
    return f"{a} | {b}"


# --- comparing findings with the baseline ------------------------------------


class Matcher:
    """Finds the baseline entries of a finding (one per salt at most)."""

    def __init__(self, baseline: Baseline) -> None:
        self._salts = baseline.salts
        self._entries = {e.key: e for e in baseline.entries}

    def entries_for(self, finding: Finding) -> list[Entry]:
        found = []
        for sid, salt_hex in self._salts:
            fp = keyed_fingerprint(salt_hex, finding.rule_id, finding.path, finding.secret)
            entry = self._entries.get((sid, fp))
            if entry is not None:
                found.append(entry)
        return found


def apply_baseline(baseline_file: Path, findings: Iterable[Finding]) -> tuple[list[Finding], int]:
    """The findings that are not in the baseline, and how many were suppressed."""
    matcher = Matcher(load(baseline_file))
    kept: list[Finding] = []
    suppressed = 0
    for f in findings:
        if matcher.entries_for(f):
            suppressed += 1
        else:
            kept.append(f)
    return kept, suppressed


@record
class Update:
    baseline: Baseline
    added: int
    removed: int
    kept: int


def update_baseline(previous: Baseline, findings: Iterable[Finding]) -> Update:
    """The baseline for ``findings``: labels of known ones kept, all keyed with one salt.

    Entries that match no finding (their secret is gone) are dropped.
    """
    sid, salt_hex = previous.primary_salt()
    matcher = Matcher(previous)
    out: dict[tuple[str, str], Entry] = {}
    matched: set[tuple[str, str]] = set()
    new_keys: set[tuple[str, str]] = set()
    for f in findings:
        old = matcher.entries_for(f)
        matched.update(e.key for e in old)
        entry = Entry(f.path, f.rule_id, keyed_fingerprint(salt_hex, f.rule_id, f.path, f.secret), sid)
        for e in old:
            entry = combine(entry, replace(e, path=entry.path, fingerprint=entry.fingerprint, salt=sid))
        if not old:
            new_keys.add(entry.key)
        prev = out.get(entry.key)
        out[entry.key] = entry if prev is None else combine(prev, entry)
    baseline = make_baseline({sid: salt_hex}, out.values())
    added = len(new_keys)
    return Update(baseline, added=added, removed=len(previous.entries) - len(matched), kept=len(out) - added)


def set_label(baseline: Baseline, key: tuple[str, str], label: str, note: str | None) -> Baseline:
    if label not in LABELS:
        raise BaselineError(f"unknown label {label!r} (use one of: {', '.join(LABELS)})")
    entries = [
        replace(e, label=label, note=e.note if note is None else note) if e.key == key else e for e in baseline.entries
    ]
    return make_baseline(baseline.salt_map(), entries)


def find_entries(baseline: Baseline, prefix: str) -> list[Entry]:
    """Entries whose fingerprint starts with ``prefix`` (at least 6 hex digits)."""
    wanted = prefix.strip().lower()
    if len(wanted) < 6 or not _HEX.fullmatch(wanted):
        raise BaselineError(f"{prefix!r} is not a fingerprint (6 to 32 hex digits)")
    return [e for e in baseline.entries if e.fingerprint.startswith(wanted)]


# --- three-way merge (the git merge driver) ----------------------------------


@record
class MergeResult:
    baseline: Baseline
    conflicts: tuple[str, ...]


def merge_baselines(base: Baseline, ours: Baseline, theirs: Baseline) -> MergeResult:
    """Three-way merge by entry: additions from both sides, deletions unless the other side relabelled.

    Salts are unioned (an entry keeps the salt it was made with). Two different
    labels given to one entry on both sides keep ours and are reported.
    """
    salts = {**base.salt_map(), **theirs.salt_map(), **ours.salt_map()}
    o = {e.key: e for e in base.entries}
    a = {e.key: e for e in ours.entries}
    b = {e.key: e for e in theirs.entries}
    merged: list[Entry] = []
    conflicts: list[str] = []
    for key in sorted(set(o) | set(a) | set(b)):
        entry, conflict = _merge_entry(o.get(key), a.get(key), b.get(key))
        if entry is not None:
            merged.append(entry)
        if conflict:
            conflicts.append(conflict)
    return MergeResult(make_baseline(salts, merged), tuple(conflicts))


def _merge_entry(o: Entry | None, a: Entry | None, b: Entry | None) -> tuple[Entry | None, str | None]:
    if a == b:
        return a, None
    if a == o:
        return b, None
    if b == o:
        return a, None
    if a is None or b is None:
        return a or b, None  # deleted on one side, relabelled on the other: keep the label
    if a.label != b.label and UNLABELLED not in (a.label, b.label):
        note = join_notes(a.note, b.note)
        return replace(a, note=note), (
            f"entry {a.fingerprint} ({a.rule_id} in {a.path}) is {a.label} on one side and {b.label} "
            "on the other; kept ours"
        )
    return combine(a, b), None


# --- reading ----------------------------------------------------------------


def load(path: Path) -> Baseline:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not a leaktrap baseline (not UTF-8)") from None
    return loads(text, str(path))


def loads(text: str, source: str = "baseline") -> Baseline:
    if not text.strip():
        raise BaselineError(f"{source}: empty (truncated?); restore it from git or remove it")
    if re.search(r"^(<{7}|>{7}|={7})", text, re.MULTILINE):
        raise BaselineError(
            f"{source}: holds git conflict markers; resolve the merge, or set up the merge driver "
            "(git config merge.leaktrap-baseline.driver 'leaktrap baseline merge %O %A %B')"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{source}: not valid JSON at line {exc.lineno} column {exc.colno} (truncated or corrupted?)"
        ) from None
    except RecursionError:
        raise BaselineError(f"{source}: not a leaktrap baseline (nested too deeply)") from None
    return from_data(data, source)


def from_data(data: Any, source: str) -> Baseline:
    if not isinstance(data, dict):
        raise BaselineError(f"{source}: not a leaktrap baseline (expected a JSON object)")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BaselineError(f"{source}: not a leaktrap baseline (no integer 'version')")
    if version > FORMAT_VERSION:
        raise BaselineError(
            f"{source}: baseline version {version} was written by a newer leaktrap "
            f"(this one reads up to version {FORMAT_VERSION}); upgrade leaktrap"
        )
    if version < 0:
        raise BaselineError(f"{source}: unknown baseline version {version}")
    return _parse_v1(upgrade(data, source), source)


def upgrade(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Bring an older layout up to the current version, one step at a time."""
    while data["version"] < FORMAT_VERSION:
        data = _UPGRADES[data["version"]](data, source)
    return data


def upgrade_v0(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Version 0, the pre-release layout in the style of detect-secrets::

        {"version": 0, "generated_at": "...", "salt": "<hex>",
         "results": {"<path>": [{"type": "<rule id>", "hashed_secret": "<64 hex HMAC>",
                                 "line_number": 3, "is_secret": false, "note": "..."}]}}

    Same keyed hash (full length); line numbers and the timestamp are dropped,
    ``is_secret`` becomes the label.
    """
    salt_hex = _hex(data.get("salt"), f"{source}: version 0 'salt'")
    sid = salt_id(salt_hex)
    results = data.get("results")
    if not isinstance(results, dict):
        raise BaselineError(f"{source}: version 0 baseline without a 'results' object")
    entries: list[dict[str, Any]] = []
    for path, items in results.items():
        if not isinstance(items, list):
            raise BaselineError(f"{source}: version 0 'results' for {path!r} must be a list")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise BaselineError(f"{source}: version 0 result in {path!r} without a rule 'type'")
            digest = _hex(item.get("hashed_secret"), f"{source}: version 0 'hashed_secret'")
            is_secret = item.get("is_secret")
            label = TRUE_POSITIVE if is_secret is True else FALSE_POSITIVE if is_secret is False else UNLABELLED
            entry = {"path": path, "rule_id": item["type"], "fingerprint": digest[:_FINGERPRINT_HEX], "salt": sid, "label": label}
            if isinstance(item.get("note"), str) and item["note"]:
                entry["note"] = item["note"]
            entries.append(entry)
    return {"version": 1, "hash": HASH, "salts": {sid: salt_hex}, "entries": entries}


_UPGRADES = {0: upgrade_v0}


def _hex(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) < 16 or len(value) % 2 or not _HEX.fullmatch(value):
        raise BaselineError(f"{what} must be lower-case hex digits")
    return value


def _parse_v1(data: dict[str, Any], source: str) -> Baseline:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise BaselineError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    if data.get("hash") != HASH:
        raise BaselineError(f"{source}: unsupported 'hash' {data.get('hash')!r} (expected {HASH!r})")
    salts = _parse_salts(data.get("salts"), source)
    items = data.get("entries")
    if not isinstance(items, list):
        raise BaselineError(f"{source}: 'entries' must be a list")
    if items and items[-1] == END_MARKER:
        items = items[:-1]
    entries = [_parse_entry(item, salts, f"{source}: entry {n}") for n, item in enumerate(items, 1)]
    return make_baseline(salts, entries)


def _parse_salts(value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise BaselineError(f"{source}: 'salts' must be an object with at least one salt")
    for sid, salt_hex in value.items():
        _hex(salt_hex, f"{source}: salt {sid!r}")
        if sid != salt_id(salt_hex):
            raise BaselineError(f"{source}: salt id {sid!r} does not match its salt (edited by hand?)")
    return dict(value)


def _parse_entry(item: Any, salts: Mapping[str, str], where: str) -> Entry:
    if not isinstance(item, dict):
        raise BaselineError(f"{where}: must be an object")
    unknown = set(item) - set(_ENTRY_KEYS)
    if unknown:
        raise BaselineError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for name in ("path", "rule_id", "fingerprint", "salt"):
        if not isinstance(item.get(name), str) or not item[name]:
            raise BaselineError(f"{where}: '{name}' must be a non-empty string")
    if len(item["fingerprint"]) != _FINGERPRINT_HEX or not _HEX.fullmatch(item["fingerprint"]):
        raise BaselineError(f"{where}: 'fingerprint' must be {_FINGERPRINT_HEX} hex digits")
    if item["salt"] not in salts:
        raise BaselineError(f"{where}: salt {item['salt']!r} is not in 'salts'")
    label = item.get("label", UNLABELLED)
    if label not in LABELS:
        raise BaselineError(f"{where}: 'label' must be one of {', '.join(LABELS)}")
    note = item.get("note", "")
    if not isinstance(note, str):
        raise BaselineError(f"{where}: 'note' must be a string")
    return Entry(item["path"], item["rule_id"], item["fingerprint"], item["salt"], label, note)


# --- writing ----------------------------------------------------------------


def dumps(baseline: Baseline) -> str:
    """Canonical text: stable key order, sorted entries, one per line, each ending with a comma."""
    lines = ["{", f'  "version": {FORMAT_VERSION},', f'  "hash": "{HASH}",', '  "salts": {']
    salts = [f"    {json.dumps(sid)}: {json.dumps(hx)}" for sid, hx in baseline.salts]
    lines.append(",\n".join(salts))
    lines += ["  },", '  "entries": [']
    lines += [f"    {_entry_json(e)}," for e in baseline.entries]
    lines += [f"    {json.dumps(END_MARKER)}", "  ]", "}"]
    return "\n".join(lines) + "\n"


def _entry_json(e: Entry) -> str:
    data: dict[str, str] = {"path": e.path, "rule_id": e.rule_id, "fingerprint": e.fingerprint, "salt": e.salt, "label": e.label}
    if e.note:
        data["note"] = e.note
    return json.dumps(data, ensure_ascii=True)


def save(path: Path, baseline: Baseline) -> bool:
    """Write atomically; False (and no write) when the file already holds exactly this."""
    text = dumps(baseline)
    try:
        if path.read_text("utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise BaselineError(f"cannot write {path}: {exc.strerror or exc}") from None
    return True


def counts(baseline: Baseline) -> dict[str, dict[str, int]]:
    """Entries per rule and label."""
    table: dict[str, dict[str, int]] = {}
    for e in baseline.entries:
        row = table.setdefault(e.rule_id, dict.fromkeys(LABELS, 0))
        row[e.label] += 1
    return dict(sorted(table.items()))
