"""Append-only audit log of every verify and revoke (JSON lines, never a secret).

Each line: ``time`` (UTC, ISO 8601), ``action`` (verify | revoke), ``rule``,
``provider``, ``spec``, ``fingerprint`` (+ ``fingerprints`` when the same
secret was found in several places), ``credential_id``, ``result``, ``reason``,
``http_status``, ``endpoint`` (method and URL, secret masked), ``sent`` (did a
request leave the machine), ``dry_run``.

``credential_id`` is HMAC-SHA256 of the secret under a random 32-byte key kept
beside the log (``<log>.key``, mode 0600). Without the key the log cannot be
used to test guesses of a secret (a bare SHA-256 could be, for short or
low-entropy secrets); with it, leaktrap recognises a credential it already
revoked and does not send it again. The log and its key are created 0600 in a
0700 folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets as _random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import UsageError

DEFAULT_AUDIT_LOG = Path(".leaktrap") / "audit.jsonl"
DONE_RESULTS = ("revoked", "submitted")


@dataclass(frozen=True)
class AuditEntry:
    time: str
    action: str
    rule: str
    provider: str
    spec: str
    fingerprint: str
    credential_id: str
    result: str
    reason: str
    http_status: int | None
    endpoint: str
    sent: bool
    dry_run: bool = False
    fingerprints: tuple[str, ...] = ()

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "time": self.time,
            "action": self.action,
            "rule": self.rule,
            "provider": self.provider,
            "spec": self.spec,
            "fingerprint": self.fingerprint,
            "credential_id": self.credential_id,
            "result": self.result,
            "reason": self.reason,
            "http_status": self.http_status,
            "endpoint": self.endpoint,
            "sent": self.sent,
            "dry_run": self.dry_run,
        }
        if len(self.fingerprints) > 1:
            data["fingerprints"] = list(self.fingerprints)
        return json.dumps(data, sort_keys=False, ensure_ascii=True)


class AuditLog:
    """One log file; reads are cheap enough to redo per decision (logs stay small)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key_path = path.with_name(path.name + ".key")
        self._key: bytes | None = None

    def credential_id(self, secret: str, pair: str | None = None) -> str:
        material = secret if pair is None else f"{secret}\0{pair}"
        return hmac.new(self._load_key(), material.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def append(self, entry: AuditEntry) -> None:
        self._ensure_folder()
        line = (entry.to_json() + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsageError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None
        try:
            if _ends_torn(fd):
                line = b"\n" + line  # a crash left half a line: never glue this entry onto it
            os.write(fd, line)  # one write per line: appends from concurrent runs do not interleave
        finally:
            os.close(fd)

    def entries(self) -> Iterator[dict[str, Any]]:
        try:
            with self.path.open("r", encoding="utf-8") as fh:
                lines = fh.readlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(f"cannot read the audit log {self.path}: {exc.strerror or exc}") from None
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a torn last line after a crash: skip, never fail the run
            if isinstance(item, dict):
                yield item

    def already_revoked(self, credential_id: str, spec: str) -> dict[str, Any] | None:
        for item in self.entries():
            if (
                item.get("action") == "revoke"
                and item.get("credential_id") == credential_id
                and item.get("spec") == spec
                and item.get("result") in DONE_RESULTS
                and item.get("sent")
            ):
                return item
        return None

    def last_verification(self, credential_id: str, spec: str) -> dict[str, Any] | None:
        last = None
        for item in self.entries():
            if item.get("action") == "verify" and item.get("credential_id") == credential_id and item.get("spec") == spec and item.get("sent"):
                last = item
        return last

    def sent_since(self, action: str, spec: str, since: datetime) -> int:
        count = 0
        for item in self.entries():
            if item.get("action") != action or item.get("spec") != spec or not item.get("sent"):
                continue
            when = _parse_time(item.get("time"))
            if when is not None and when >= since:
                count += 1
        return count

    def _ensure_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700, parents=True)
            except OSError as exc:
                raise UsageError(f"cannot create {folder}: {exc.strerror or exc}") from None

    def _load_key(self) -> bytes:
        if self._key is not None:
            return self._key
        try:
            self._key = bytes.fromhex(self.key_path.read_text("ascii").strip())
            return self._key
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the audit key {self.key_path}: {exc}") from None
        self._ensure_folder()
        key = _random.token_bytes(32)
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another run created it just now
            return self._load_key()
        except OSError as exc:
            raise UsageError(f"cannot create the audit key {self.key_path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        self._key = key
        return key


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def window_start(moment: datetime, seconds: int) -> datetime:
    return moment - timedelta(seconds=seconds)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ends_torn(fd: int) -> bool:
    """Whether the file does not end with a newline (an interrupted earlier append)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return False
    return os.pread(fd, 1, size - 1) != b"\n"
