"""The one module that talks to git.

Every call goes through :func:`git_command`, which disables everything a
repository can configure to run code (hooks, fsmonitor, pagers, external diff,
textconv, ssh commands) and never asks for credentials. Output is read with
``-z`` plumbing so that any path survives.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles every string
# annotation into a ForwardRef (about 0.15 ms a field, milliseconds on each hook run).

import os
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

from .errors import GitError

# Options that neutralise what a hostile repository configuration could run, or make git
# print something our parsers do not expect.
SAFE_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.askPass=",
    "diff.external=",
    "credential.helper=",
    "protocol.allow=never",
    "uploadpack.packObjectsHook=",
    "core.untrackedCache=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "log.showSignature=false",
    "color.ui=false",
    "i18n.logOutputEncoding=UTF-8",
    # settings that change what git prints (not what it runs), which we parse
    "grep.lineNumber=false",
    "grep.column=false",
    "grep.fullName=false",
    "log.follow=false",
    "diff.relative=false",
    "diff.ignoreSubmodules=none",
    # bounded memory however big the repository (or its configured caches): git's default
    # delta cache (96 MB) made ``git log --raw`` of a 200,000-blob history peak at 150 MB;
    # with these, 62 MB and no slower (measured)
    "core.deltaBaseCacheLimit=16m",
    "core.packedGitWindowSize=16m",
    "core.packedGitLimit=64m",
)

# Options for every command that could show a diff: no repository-configured
# program (external diff, textconv), no colour, no renames (cheap and exact).
DIFF_SAFE: tuple[str, ...] = ("--no-ext-diff", "--no-textconv", "--no-color", "--no-renames")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_EXTERNAL_DIFF": "",
            "LC_ALL": "C",
        }
    )
    return env


def git_executable() -> str:
    """The git to run. On POSIX, starting a process searches PATH the way ``shutil.which``
    does, so the name is enough (and the hook imports neither shutil nor tempfile)."""
    if os.name != "nt":
        return "git"
    import shutil

    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed or not on PATH")
    return exe


def _start_error(exc: OSError) -> GitError:
    """Why git could not be started: missing from PATH (as ``shutil.which`` sees it), or
    there but not runnable."""
    import shutil

    if isinstance(exc, FileNotFoundError) or shutil.which("git") is None:
        return GitError("git is not installed or not on PATH")
    return GitError(f"cannot run git: {exc.strerror or exc}")


def git_command(cwd: Path | str, args: Sequence[str]) -> list[str]:
    cmd = [git_executable(), "--no-pager"]
    for option in SAFE_CONFIG:
        cmd += ["-c", option]
    cmd += ["-C", str(cwd)]
    cmd += list(args)
    return cmd


def run_git(cwd: Path | str, args: Sequence[str], *, input_bytes: bytes | None = None, check: bool = True) -> bytes:
    """Run one git command and return stdout; a failure is a GitError with git's own words."""
    try:
        proc = subprocess.run(
            git_command(cwd, args),
            input=input_bytes,
            capture_output=True,
            env=git_env(),
            stdin=None if input_bytes is not None else subprocess.DEVNULL,
        )
    except OSError as exc:
        raise _start_error(exc) from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        raise GitError(f"git {args[0] if args else ''} failed in {cwd}: {detail}")
    return proc.stdout


def locate(path: Path) -> "Located | None":
    """The work tree containing ``path`` (None outside one), with its git directory and HEAD
    learned by the same ``git rev-parse``, so a staged scan starts no second one."""
    start = path if path.is_dir() else path.parent
    try:
        probed = _probe(start)
    except GitError:
        return None  # not a repository, a bare one, or no git
    if probed is not None:
        return probed
    root = toplevel(start)  # a path git prints with a newline in it: ask for the root alone
    return Located(root, None) if root is not None else None


def toplevel(path: Path) -> Path | None:
    """The work tree root containing ``path``, or None outside a work tree."""
    start = path if path.is_dir() else path.parent
    try:
        out = run_git(start, ["rev-parse", "--show-toplevel"], check=True)
    except GitError:
        return None  # not a repository, a bare one, or no git
    text = out.decode("utf-8", "surrogateescape").strip()
    return Path(text) if text else None


def ls_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Tracked plus untracked-but-not-ignored files under ``root`` (paths relative to it)."""
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate"]
    if pathspecs:
        args += ["--", *pathspecs]
    out = run_git(root, args)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def submodule_paths(root: Path) -> set[str]:
    """Gitlinks in the index (submodules), which are directories we do not descend into."""
    out = run_git(root, ["ls-files", "-z", "--stage"])
    paths: set[str] = set()
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        if entry.startswith("160000 "):
            _meta, sep, path = entry.partition("\t")
            if not sep:
                raise _malformed("ls-files --stage", entry.encode("utf-8", "surrogateescape"))
            paths.add(path)
    return paths


def _finish(proc: subprocess.Popen[bytes], errfile: IO[bytes], cwd: Path | str, what: str, ok: Sequence[int]) -> None:
    """Wait for ``proc``; a status outside ``ok`` is a GitError carrying git's last words."""
    code = proc.wait()
    if code in ok:
        return
    errfile.seek(0)
    lines = errfile.read().decode("utf-8", "replace").strip().splitlines()
    detail = lines[-1] if lines else f"exit status {code}"
    raise GitError(f"git {what} failed in {cwd}: {detail}")


def _error_file() -> IO[bytes]:
    """An anonymous file for a git process's stderr: in memory where the system has memfd
    (Linux), else a temporary file (tempfile, and the shutil it imports, cost milliseconds
    of a hook run)."""
    if hasattr(os, "memfd_create"):
        try:
            return open(os.memfd_create("leaktrap-git-stderr", os.MFD_CLOEXEC), "w+b")
        except OSError:
            pass  # no memfd in this kernel or sandbox
    import tempfile

    return tempfile.TemporaryFile()


@contextmanager
def _spawn(
    cwd: Path | str, args: Sequence[str], *, stdin: bool = False, index_file: str | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """A long-lived git process whose stdout we stream; stderr goes to a file (no deadlock)."""
    env = git_env()
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    with _error_file() as errfile:
        try:
            proc = subprocess.Popen(
                git_command(cwd, args),
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errfile,
                env=env,
            )
        except OSError as exc:
            raise _start_error(exc) from None
        try:
            yield proc, errfile
        finally:
            if proc.poll() is None:
                proc.kill()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass
            proc.wait()


def stream_records(
    cwd: Path | str, args: Sequence[str], *, sep: bytes = b"\0", ok: Sequence[int] = (0,)
) -> Iterator[bytes]:
    """The ``sep``-separated records of a git command's stdout, read as they come."""
    with _spawn(cwd, args) as (proc, errfile):
        assert proc.stdout is not None
        read1 = getattr(proc.stdout, "read1", proc.stdout.read)  # a BufferedReader: whatever is there
        pending = b""
        while True:
            block = read1(1 << 20)
            if not block:
                break
            parts = (pending + block).split(sep)
            pending = parts.pop()
            yield from parts
        if pending:
            yield pending
        _finish(proc, errfile, cwd, args[0], ok)


# ---------------------------------------------------------------- objects


class Blob(NamedTuple):
    oid: str
    size: int
    data: bytes | None  # None when larger than the caller's limit (read and dropped)


def read_blobs(cwd: Path | str, oids: Sequence[str], *, max_size: int | None = None) -> Iterator[Blob]:
    """Contents of ``oids`` through ONE ``git cat-file --batch`` process, in the order given.

    Raw object content only (no ``--filters``, no textconv). A thread feeds the ids
    while this generator reads, so neither pipe can fill up and block. A missing or
    corrupt object is a GitError.
    """
    chunks = (oids[start : start + 512] for start in range(0, len(oids), 512))
    return read_blob_chunks(cwd, chunks, count=len(oids), max_size=max_size)


def read_blob_chunks(
    cwd: Path | str, chunks: Iterable[Sequence[str]], *, count: int, max_size: int | None = None
) -> Iterator[Blob]:
    """``read_blobs`` for ids that come in chunks, ``count`` in all: the feeding thread
    writes each chunk to git as soon as it has it (the iterable may wait for the reader)."""
    if not count:
        return
    with _fed(cwd, ["cat-file", "--batch", "--buffer"], chunks) as (proc, errfile, settle):
        out = proc.stdout
        assert out is not None
        for _ in range(count):
            header = out.readline()
            if not header:
                settle()
                _finish(proc, errfile, cwd, "cat-file", ())
            yield _read_one(out, header, max_size)
        settle()
        _finish(proc, errfile, cwd, "cat-file", (0,))


@contextmanager
def _fed(
    cwd: Path | str, args: list[str], chunks: Iterable[Sequence[str]]
) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes], Callable[[], None]]]:
    """A cat-file process that a thread feeds ``chunks`` of ids while the caller reads its
    widened stdout. ``settle()`` waits for the thread and raises what broke its iterable."""
    with _spawn(cwd, args, stdin=True) as (proc, errfile):
        assert proc.stdin is not None and proc.stdout is not None
        _widen_pipe(proc.stdout)
        failed: list[BaseException] = []
        feeder = threading.Thread(target=_feed, args=(proc.stdin, chunks, failed), daemon=True)
        feeder.start()

        def settle() -> None:
            feeder.join()
            if failed:
                raise failed[0]

        yield proc, errfile, settle


PIPE_SIZE = 1 << 20


def _widen_pipe(pipe: IO[bytes]) -> None:
    """A 1 MiB pipe (Linux) instead of 64 KiB: git inflates ahead while we scan, with fewer
    wake-ups (about 4% of a history scan). Where it cannot be set, the default pipe does."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass


def _feed(pipe: IO[bytes], chunks: Iterable[Sequence[str]], failed: list[BaseException]) -> None:
    """Write each chunk of ids to cat-file; the pipe is closed however this ends, so git
    stops and the reader sees the end (and ``failed``, if the iterable itself broke)."""
    try:
        for chunk in chunks:
            pipe.write("".join(o + "\n" for o in chunk).encode("ascii"))
            pipe.flush()
    except (OSError, ValueError):
        pass  # the reader saw git die and reports why
    except Exception as exc:  # noqa: BLE001 - raised by the reader
        failed.append(exc)
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _read_one(out: IO[bytes], header: bytes, max_size: int | None) -> Blob:
    parts = header.split()
    oid = parts[0].decode("ascii", "replace") if parts else "?"
    if len(parts) != 3:
        what = b" ".join(parts[1:]).decode("ascii", "replace") or "unreadable"
        raise GitError(f"object {oid} is {what} (is the repository corrupt or incomplete?)")
    if not parts[2].isdigit():
        raise _malformed("cat-file --batch", header)
    size = int(parts[2])
    if max_size is not None and size > max_size:
        remaining = size + 1
        while remaining:
            got = out.read(min(remaining, 1 << 20))
            if not got:
                raise GitError(f"git cat-file stopped while reading object {oid}")
            remaining -= len(got)
        return Blob(oid, size, None)
    data = out.read(size)  # then its newline apart: slicing it off would copy the whole blob
    if len(data) != size or out.read(1) != b"\n":
        raise GitError(f"git cat-file stopped while reading object {oid} (corrupt object?)")
    return Blob(oid, size, data)


CHECK_FORMAT = "--batch-check=%(objecttype) %(objectname) %(objectsize)"


def blobs_in_pack_order(cwd: Path | str) -> Iterator[tuple[str, int]]:
    """(id, size) of every blob in the repository, in pack order (the fastest order to inflate)."""
    for line in stream_records(cwd, ["cat-file", "--batch-all-objects", "--unordered", CHECK_FORMAT], sep=b"\n"):
        if line.startswith(b"blob "):  # trees and commits are most lines: skip them unparsed
            yield _blob_line(line)
        # a corrupt object reads "missing <oid>": reading it later reports it


def _blob_line(line: bytes) -> tuple[str, int]:
    """(id, size) of a ``blob <id> <size>`` line of ``CHECK_FORMAT``."""
    _kind, oid, size = _fields(line, 3, "cat-file --batch-check")
    if not size.isdigit():
        raise _malformed("cat-file --batch-check", line)
    return oid, int(size)


# Pack indexes, read directly: ``cat-file --batch-all-objects`` keeps a set of every object id it
# has listed (about 170 bytes an object: 200 MB at 1.2 million objects), where these stay flat.
IDX_MAGIC = b"\xfftOc"
IDX_CHUNK = 8192  # entries read at a time


def pack_indexes(cwd: Path | str) -> list[Path]:
    """The repository's own pack indexes, newest pack first (the order git prefers them in)."""
    out = run_git(cwd, ["rev-parse", "--git-path", "objects/pack"]).decode("utf-8", "surrogateescape").strip()
    folder = Path(cwd) / out
    try:
        found = [(p.stat().st_mtime, p) for p in folder.glob("pack-*.idx")]
    except OSError as exc:
        raise GitError(f"cannot list the packs in {folder}: {exc}") from None
    return [p for _mtime, p in sorted(found, key=lambda item: (-item[0], item[1].name))]


def hash_length(cwd: Path | str) -> int:
    """Bytes per object id: 20 (SHA-1) or 32 (SHA-256)."""
    fmt = run_git(cwd, ["rev-parse", "--show-object-format"]).strip()
    return 32 if fmt == b"sha256" else 20


def pack_index_entries(idx: Path, hash_len: int) -> Iterator[tuple[list[str], list[int]]]:
    """(object ids, pack offsets) of one pack, a chunk at a time, in the index's (id) order.
    Version 2 indexes (git's format since 2007); anything else is a GitError."""
    try:
        with open(idx, "rb") as ids, open(idx, "rb") as offsets:
            head = ids.read(8 + 1024)
            if len(head) != 1032 or head[:4] != IDX_MAGIC or int.from_bytes(head[4:8], "big") != 2:
                raise GitError(f"{idx}: not a version 2 pack index")
            count = int.from_bytes(head[-4:], "big")
            offsets.seek(1032 + count * (hash_len + 4))
            large_at = 1032 + count * (hash_len + 8)
            for start in range(0, count, IDX_CHUNK):
                n = min(IDX_CHUNK, count - start)
                raw_ids, raw_offsets = ids.read(n * hash_len), offsets.read(n * 4)
                if len(raw_ids) != n * hash_len or len(raw_offsets) != n * 4:
                    raise GitError(f"{idx}: truncated pack index")
                text = raw_ids.hex()
                width = 2 * hash_len
                small = [int.from_bytes(raw_offsets[i : i + 4], "big") for i in range(0, n * 4, 4)]
                yield [text[i : i + width] for i in range(0, len(text), width)], [
                    o if o < 0x80000000 else _large_offset(idx, large_at, o & 0x7FFFFFFF) for o in small
                ]
    except OSError as exc:
        raise GitError(f"cannot read the pack index {idx}: {exc}") from None


def _large_offset(idx: Path, table_at: int, slot: int) -> int:
    with open(idx, "rb") as f:  # packs over 2 GiB only: rare enough to open each time
        f.seek(table_at + 8 * slot)
        return int.from_bytes(f.read(8), "big")


def blob_sizes(cwd: Path | str, chunks: Iterable[Sequence[str]]) -> Iterator[tuple[str, int]]:
    """(id, size) of each blob among the objects in ``chunks``, in order, through one
    ``cat-file --batch-check`` (no ``--batch-all-objects``: nothing is kept per object).
    Other types and missing objects are left out."""
    with _fed(cwd, ["cat-file", CHECK_FORMAT, "--buffer"], chunks) as (proc, errfile, settle):
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(b"blob "):  # trees and commits are most lines: skip them unparsed
                yield _blob_line(line.rstrip(b"\n"))
        settle()
        _finish(proc, errfile, cwd, "cat-file", (0,))


# ---------------------------------------------------------------- history walk


class Change(NamedTuple):
    """One path of a commit's raw diff (combined for merges: new content differs from every parent)."""

    path: str
    status: str  # one letter per parent: A, M, D, T, ...
    new_mode: str
    new_oid: str
    old_oids: tuple[str, ...]
    old_modes: tuple[str, ...]


class WalkCommit(NamedTuple):
    sha: str
    parents: tuple[str, ...]
    changes: list[Change]


WALK_FORMAT = "--format=%x01%H %P"


def walk_changes(
    cwd: Path | str, revs: Sequence[str], *, pathspecs: Sequence[str] = (), reverse: bool = True
) -> Iterator[WalkCommit]:
    """Every commit of ``revs`` (oldest first) with the blobs it introduced, in one ``git log --raw``.

    Root commits list all their files; merges use the combined diff, so a merge
    lists only content that differs from all its parents (conflict resolutions,
    evil merges), never what it brought from a branch.
    """
    args = ["log", "--raw", "-z", "--no-abbrev", "--root", "--cc", "--date-order", *DIFF_SAFE]
    args += ["--no-show-signature", "--no-mailmap", WALK_FORMAT]
    if reverse:
        args.append("--reverse")
    if pathspecs:  # every commit touching the paths, parents rewritten to the ones that did too
        args += ["--full-history", "--parents"]
    args += [*revs, "--", *(_literal(p) for p in pathspecs)]
    current: WalkCommit | None = None
    records = stream_records(cwd, args)
    for record in records:
        if record.startswith(b"\n"):
            record = record.lstrip(b"\n")
        if not record:
            continue
        if record[0] == 0x01:
            if current is not None:
                yield current
            try:
                sha, *parents = record[1:].decode("ascii").split()
            except (UnicodeDecodeError, ValueError):
                raise _malformed("log", record) from None
            current = WalkCommit(sha, tuple(parents), [])
        elif record[0] == 0x3A and current is not None:  # ':' raw entry, the path follows
            path = next(records, b"").decode("utf-8", "surrogateescape")
            current.changes.append(_parse_raw(record, path))
    if current is not None:
        yield current


def _parse_raw(meta: bytes, path: str) -> Change:
    n = len(meta) - len(meta.lstrip(b":"))
    try:
        fields = meta[n:].decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise _malformed("diff --raw", meta) from None
    if n < 1 or len(fields) < 2 * n + 2:
        raise _malformed("diff --raw", meta)
    modes, oids = fields[: n + 1], fields[n + 1 : 2 * n + 2]
    status = fields[2 * n + 2] if len(fields) > 2 * n + 2 else ""
    return Change(path, status, modes[-1], oids[-1], tuple(oids[:-1]), tuple(modes[:-1]))


def _malformed(what: str, record: bytes) -> GitError:
    shown = record[:80].decode("ascii", "backslashreplace")
    return GitError(f"unexpected output from git {what}: {shown!r}")


def _fields(meta: bytes, count: int, what: str) -> list[str]:
    """``count`` space-separated ASCII fields of one record of git's output, or a GitError."""
    try:
        fields = meta.decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise _malformed(what, meta) from None
    if len(fields) != count:
        raise _malformed(what, meta)
    return fields


def _tab_split(record: bytes, what: str, count: int) -> tuple[list[str], bytes]:
    """``<fields>\t<path>`` records (ls-tree, ls-files --stage): the fields and the raw path."""
    meta, sep, path = record.partition(b"\t")
    if not sep:
        raise _malformed(what, record)
    return _fields(meta, count, what), path


def _literal(pathspec: str) -> str:
    return ":(literal)" + pathspec


class CommitMeta(NamedTuple):
    sha: str
    author_name: str
    author_email: str
    date: str
    summary: str


def commit_metadata(cwd: Path | str, shas: Sequence[str]) -> dict[str, CommitMeta]:
    """Author, ISO 8601 author date and subject of ``shas``, in one process."""
    if not shas:
        return {}
    args = ["log", "--no-walk=unsorted", "--stdin", "-z", "--no-show-signature", "--no-mailmap"]
    args += ["--encoding=UTF-8", "--format=%H%x00%an%x00%ae%x00%aI%x00%s"]
    out = run_git(cwd, args, input_bytes="".join(s + "\n" for s in shas).encode("ascii"))
    fields = out.decode("utf-8", "replace").split("\0")
    metas: dict[str, CommitMeta] = {}
    for i in range(0, len(fields) - 4, 5):
        meta = CommitMeta(*fields[i : i + 5])
        metas[meta.sha] = meta
    return metas


# ---------------------------------------------------------------- refs and repository state


def git_dir(cwd: Path | str) -> Path:
    """The repository's git directory; a clear GitError outside a repository."""
    try:
        out = run_git(cwd, ["rev-parse", "--absolute-git-dir"])
    except GitError as exc:
        raise _not_a_repository(exc, cwd) from None
    return Path(out.decode("utf-8", "surrogateescape").strip())


def _not_a_repository(exc: GitError, cwd: Path | str) -> GitError:
    return GitError(f"not a git repository: {cwd}") if "not a git repository" in str(exc) else exc


class RepoState(NamedTuple):
    git_dir: Path
    head: str | None  # the commit HEAD names; None before the first commit


class Located(NamedTuple):
    """A work tree root and, when the same ``git rev-parse`` could tell it, its repository state."""

    root: Path
    state: RepoState | None


_HEAD_COMMIT = ["--verify", "--quiet", "--end-of-options", "HEAD^{commit}"]  # exits 1 when HEAD names no commit


def _probe(start: Path) -> "Located | None":
    """toplevel() and repo_state() of ``start``'s repository in one ``git rev-parse``
    (a GitError where toplevel's own would fail too); None when the output cannot be
    split surely (a path holding a newline): then each is asked on its own."""
    out, code = _run_status(start, ["rev-parse", "--show-toplevel", "--absolute-git-dir", *_HEAD_COMMIT], ok=(0, 1))
    lines = out.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) != (4 if code == 0 else 3) or lines[-1] or not lines[0].strip():
        return None
    head = (lines[2].strip() or None) if code == 0 else None
    return Located(Path(lines[0].strip()), RepoState(Path(lines[1].strip()), head))


def repo_state(cwd: Path | str) -> RepoState:
    """:func:`git_dir` and ``resolve_commit(cwd, "HEAD")`` in one ``git rev-parse``
    (the options print first)."""
    args = ["rev-parse", "--absolute-git-dir", *_HEAD_COMMIT]
    try:
        out, code = _run_status(cwd, args, ok=(0, 1))
    except GitError as exc:
        raise _not_a_repository(exc, cwd) from None
    text = out.decode("utf-8", "surrogateescape")
    if code == 0:
        text, _sep, head = text.rstrip("\n").rpartition("\n")
        return RepoState(Path(text.strip()), head.strip() or None)
    return RepoState(Path(text.strip()), None)


def object_count(cwd: Path | str) -> int:
    """Objects in the repository, loose and packed (``git count-objects``: reads pack indexes only)."""
    total = 0
    for line in run_git(cwd, ["count-objects", "-v"]).decode("ascii", "replace").splitlines():
        key, _sep, value = line.partition(":")
        if key in ("count", "in-pack") and value.strip().isdigit():
            total += int(value)
    return total


def is_shallow(cwd: Path | str) -> bool:
    return run_git(cwd, ["rev-parse", "--is-shallow-repository"]).strip() == b"true"


def resolve_commit(cwd: Path | str, rev: str) -> str | None:
    """The commit id ``rev`` names, or None (unborn HEAD, unknown ref)."""
    out = run_git(cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"], check=False)
    text = out.decode("ascii", "replace").strip()
    return text or None


def has_refs(cwd: Path | str) -> bool:
    return bool(run_git(cwd, ["for-each-ref", "--count=1", "--format=%(refname)"]).strip())


def check_revisions(cwd: Path | str, spec: str) -> None:
    """Fail with a clear message when ``spec`` (a revision or a range) names something unknown."""
    try:
        run_git(cwd, ["rev-list", "--max-count=1", "--end-of-options", spec, "--"])
    except GitError as exc:
        detail = str(exc).rsplit(": ", 1)[-1]
        raise GitError(f"unknown revision or range {spec!r}: {detail}") from None


def tree_blobs(cwd: Path | str, rev: str) -> dict[str, str]:
    """blob id -> one path, for every blob in the tree of ``rev``."""
    out = run_git(cwd, ["ls-tree", "-r", "-z", "--full-tree", *_object_ids([rev])])
    blobs: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, path = _tab_split(entry, "ls-tree", 3)
        _mode, kind, oid = meta
        if kind == "blob":
            blobs.setdefault(oid, path.decode("utf-8", "surrogateescape"))
    return blobs


def grep_fixed(cwd: Path | str, needles: Sequence[str], trees: Sequence[str]) -> set[str]:
    """Which of ``needles`` occur literally in any text file of ``trees``.

    The needles (secrets) travel on stdin, never on a command line.
    """
    if not needles or not trees:
        return set()
    args = ["grep", "--no-textconv", "-I", "-F", "-o", "-h", "--no-color", "-f", "-", *_object_ids(trees), "--"]
    data = "".join(n + "\n" for n in needles).encode("utf-8", "surrogateescape")
    out = _run_ok(cwd, args, data, ok=(0, 1))
    found = set(out.decode("utf-8", "surrogateescape").splitlines())
    return {n for n in needles if n in found}


def _object_ids(revs: Sequence[str]) -> list[str]:
    """Guard for commands without ``--end-of-options``: only full object ids pass."""
    for rev in revs:
        if not rev or rev.strip("0123456789abcdef") or len(rev) not in (40, 64):
            raise GitError(f"not an object id: {rev!r}")
    return list(revs)


def stash_commits(cwd: Path | str) -> list[str]:
    """Every stash entry (the reflog of refs/stash), newest first."""
    if resolve_commit(cwd, "refs/stash") is None:
        return []
    out = run_git(cwd, ["log", "-g", "--no-show-signature", "--format=%H", "refs/stash", "--"])
    return out.decode("ascii").split()


# ---------------------------------------------------------------- index


class IndexEntry(NamedTuple):
    mode: str
    oid: str
    stage: int
    path: str


def index_entries(root: Path, pathspecs: Sequence[str] = (), *, index_file: str | None = None) -> list[IndexEntry]:
    """``git ls-files --stage`` entries for exactly ``pathspecs`` (literal), or all of them."""
    args = ["ls-files", "--stage", "-z", "--", *(_literal(p) for p in pathspecs)]
    out = _run_index(root, args, index_file)
    entries: list[IndexEntry] = []
    for record in out.split(b"\0"):
        if not record:
            continue
        (mode, oid, stage), path = _tab_split(record, "ls-files --stage", 3)
        if not stage.isdigit():
            raise _malformed("ls-files --stage", record)
        entries.append(IndexEntry(mode, oid, int(stage), path.decode("utf-8", "surrogateescape")))
    return entries


def staged_changes(
    root: Path, head: str, pathspecs: Sequence[str] = (), *, index_file: str | None = None
) -> list[Change]:
    """What the index changes relative to ``head``: one raw diff, ``-z`` plumbing."""
    args = ["diff-index", "--cached", "--raw", "-z", "--no-abbrev", *DIFF_SAFE, "--end-of-options", head]
    args += ["--", *(_literal(p) for p in pathspecs)]
    out = _run_index(root, args, index_file)
    records = out.split(b"\0")
    changes: list[Change] = []
    i = 0
    while i < len(records):
        if records[i].startswith(b":") and i + 1 < len(records):
            changes.append(_parse_raw(records[i], records[i + 1].decode("utf-8", "surrogateescape")))
            i += 2
        else:
            i += 1
    return changes


def _run_index(root: Path, args: list[str], index_file: str | None) -> bytes:
    return _run_ok(root, args, None, ok=(0,), index_file=index_file)


def _run_ok(
    cwd: Path | str,
    args: Sequence[str],
    input_bytes: bytes | None,
    *,
    ok: Sequence[int],
    index_file: str | None = None,
) -> bytes:
    """Like :func:`run_git` with a set of accepted exit codes and an optional index file."""
    return _run_status(cwd, args, input_bytes, ok=ok, index_file=index_file)[0]


def _run_status(
    cwd: Path | str,
    args: Sequence[str],
    input_bytes: bytes | None = None,
    *,
    ok: Sequence[int],
    index_file: str | None = None,
) -> tuple[bytes, int]:
    """:func:`_run_ok` that also says which accepted exit code git gave."""
    env = git_env()
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    try:
        proc = subprocess.run(
            git_command(cwd, args),
            input=input_bytes,
            capture_output=True,
            env=env,
            stdin=None if input_bytes is not None else subprocess.DEVNULL,
        )
    except OSError as exc:
        raise _start_error(exc) from None
    if proc.returncode not in ok:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {proc.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {detail}")
    return proc.stdout, proc.returncode


def hook_index_file(root: Path, gdir: Path | None = None) -> str | None:
    """The index a running ``git commit`` hands its hooks (GIT_INDEX_FILE), when it belongs to ``root``.

    ``git commit -a`` and ``git commit PATH`` stage into a temporary index and
    point hooks at it; reading ``.git/index`` instead would miss what is being
    committed. An index file from another repository is ignored. ``gdir``: the git
    directory of ``root``, when the caller knows it.
    """
    value = os.environ.get("GIT_INDEX_FILE")
    if not value:
        return None
    candidate = Path(os.path.abspath(value))
    if gdir is None:
        try:
            gdir = git_dir(root)
        except GitError:
            return None
    try:
        candidate.resolve().relative_to(gdir.resolve())
    except ValueError:
        return None
    return str(candidate) if candidate.is_file() else None


def tracked_files(root: Path) -> set[str]:
    """Paths in the index (committed or staged), relative to ``root``."""
    out = run_git(root, ["ls-files", "-z", "--cached"])
    return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}


def is_ignored(root: Path, rel: str) -> bool:
    """Whether git ignores ``rel`` (a folder the user named may sit in an ignored path)."""
    return bool(run_git(root, ["check-ignore", "--no-index", "--", rel], check=False).strip())


# ---------------------------------------------------------------- audit


def work_tree_root(cwd: Path | str) -> Path:
    """The work tree root git finds from ``cwd``; unlike :func:`toplevel`, a failure is a
    GitError carrying git's own words (why a repository cannot be read)."""
    out = run_git(cwd, ["rev-parse", "--show-toplevel"])
    text = out.decode("utf-8", "surrogateescape").strip()
    if not text:
        raise GitError(f"git rev-parse failed in {cwd}: no work tree (a bare repository?)")
    return Path(text)
