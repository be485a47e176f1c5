"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A target that exists and is not a regular file (``/dev/null``, a FIFO, a
terminal) is written to directly: renaming over it would replace a device or
pipe with a plain file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "wb") as fh:
            fh.write(payload)
        return
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = _create_temporary(folder, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """A new file ``.NAME.<random>.tmp`` in ``folder`` that only its owner can read, as
    ``tempfile.mkstemp`` makes it (tempfile, and the shutil it imports, would cost the
    hook several milliseconds)."""
    for _attempt in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def write_report(output: Path, text: str, private: bool = False) -> None:
    """A report file, atomically; an unwritable destination is a usage error (exit 2).
    ``private``: the report holds raw secrets (``--show-secrets``), so only the owner reads it."""
    from .errors import UsageError

    try:
        write_atomic(output, text, mode=0o600 if private else 0o644)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
