"""A one-line progress display for long scans, on a terminal's stderr only.

The caller decides whether it is shown (``enabled``: stderr is a terminal and
``--quiet`` was not given); when it is not, every method is a cheap no-op, so
nothing reaches CI logs or pipes. The line is redrawn at most a few times a
second and erased when the scan ends.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

REDRAW_SECONDS = 0.25
ETA_AFTER_SECONDS = 1.0  # a rate measured over less than this is noise


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def human_seconds(s: float) -> str:
    s = max(0, int(s + 0.5))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """``with Progress("history", total_items=n, total_bytes=b, enabled=tty) as bar: bar.advance(size)``."""

    def __init__(
        self,
        label: str,
        *,
        total_items: int = 0,
        total_bytes: int = 0,
        enabled: bool = False,
        stream: TextIO | None = None,
        clock: object = None,
    ) -> None:
        self.label = label
        self.total_items = total_items
        self.total_bytes = total_bytes
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._clock = clock if callable(clock) else time.monotonic
        self.items = 0
        self.bytes = 0
        self._started = self._clock()
        self._drawn = self._started  # the first line after REDRAW_SECONDS: short scans show nothing
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def advance(self, size: int, items: int = 1) -> None:
        self.items += items
        self.bytes += size
        if not self.enabled:
            return
        now = self._clock()
        if now - self._drawn >= REDRAW_SECONDS:
            self._drawn = now
            self._draw(self.line(now))

    def line(self, now: float | None = None) -> str:
        """The text shown: items and bytes done, rate, ETA (from bytes when the total is known)."""
        elapsed = max((now if now is not None else self._clock()) - self._started, 1e-6)
        rate = self.bytes / elapsed
        parts = [f"{self.label}: {self.items}" + (f"/{self.total_items}" if self.total_items else "") + " blobs"]
        parts.append(human_bytes(self.bytes) + (f"/{human_bytes(self.total_bytes)}" if self.total_bytes else ""))
        parts.append(f"{human_bytes(rate)}/s")
        if self.total_bytes and rate > 0 and self.bytes < self.total_bytes and elapsed >= ETA_AFTER_SECONDS:
            parts.append("ETA " + human_seconds((self.total_bytes - self.bytes) / rate))
        return ", ".join(parts)

    def _draw(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        self._width = len(text)
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def close(self) -> None:
        if self.enabled and self._width:
            try:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
            except (OSError, ValueError):
                pass
        self.enabled = False
