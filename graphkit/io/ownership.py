"""What graphkit may delete, and one writer at a time on a folder.

graphkit writes three kinds of folders: dataset folders
(:func:`~graphkit.io.files.write_dataset`, ``graphkit generate``), score
folders (:func:`~graphkit.io.score_folder.write_run`, ``graphkit score
--write FOLDER``), and the ``runs/`` folder and run folders inside a score
folder. Each holds a marker file, :data:`MARKER`, that names its kind. A
writer replaces, empties or prunes only a folder that carries the marker of
its kind, or an empty one; any other folder is refused with
:class:`~graphkit.errors.FolderNotOwnedError` unless the caller forces it
(``force=True``, ``--force``).

A folder being written is locked with ``fcntl.flock`` on a lock file
(:class:`FolderLock`): a second writer waits at most ``wait`` seconds, then
fails with :class:`~graphkit.errors.WriterBusyError`. The operating system
drops the lock when its process ends, however it ends, so a killed writer
never blocks the next one.

Files, then their folder, are flushed to disk (``os.fsync``) before the
rename that publishes them; a folder is swapped in by one atomic exchange
where the system has one (Linux ``renameat2``).

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> claim(root / "ds", "dataset")
>>> marker_kind(root / "ds"), marker_kind(root)
('dataset', None)
>>> with FolderLock(root / ".ds.lock", target="dataset folder ds", wait=0):
...     pass
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graphkit.errors import FolderNotOwnedError, GraphkitError, WriterBusyError

#: The marker file graphkit puts in every folder it owns.
MARKER = ".graphkit"
#: The erasure log a dataset or score folder keeps (one JSON object a line; see :mod:`graphkit.io.erase`).
ERASURE_LOG = "erasures.jsonl"
#: Seconds a writer waits for another writer's lock before it gives up (``--wait``).
DEFAULT_WAIT = 10.0
KINDS = ("dataset", "scores", "runs", "run")
_NAMES = {"dataset": "dataset folder", "scores": "score folder", "runs": "runs folder", "run": "run folder"}
BUSY_HINT = "; retry when it is done, or wait longer with --wait SECONDS (wait= in Python)"


# --------------------------------------------------------------- markers
def read_marker(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The marker of ``folder`` (a dict with at least ``kind``), or None when it has none.

    Only a regular file counts: a symbolic link named like the marker does not.
    """
    path = Path(folder) / MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return None
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("kind") in KINDS else None


def marker_kind(folder: str | os.PathLike) -> str | None:
    """The kind of graphkit folder ``folder`` is (``dataset``, ``scores``, ``runs``, ``run``), or None."""
    info = read_marker(folder)
    return info["kind"] if info else None


def claim(folder: str | os.PathLike, kind: str, **info: Any) -> None:
    """Mark ``folder`` (created if needed) as graphkit's, of ``kind``; ``info`` is kept in the marker."""
    from graphkit.version import __version__

    if kind not in KINDS:
        raise GraphkitError(f"kind must be one of {KINDS}, got {kind!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"kind": kind, "graphkit_version": __version__, **info}, sort_keys=True, default=str)
    write_text_durably(folder / MARKER, text + "\n")


def made_by_us(folder: str | os.PathLike, kind: str, **expect: Any) -> bool:
    """True when ``folder`` carries a marker of ``kind`` (with the ``expect`` fields), or is a folder a
    crashed writer left before its marker was in place (empty, or holding only the marker's staging file)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    info = read_marker(folder)
    if info is not None:
        return info["kind"] == kind and all(info.get(k) == v for k, v in expect.items())
    return all(_staged_marker(p.name) for p in folder.iterdir())


def _staged_marker(name: str) -> bool:
    """A marker file being written (see :func:`write_text_durably`), left by a writer killed meanwhile."""
    return name.startswith(f"{MARKER}.") and name.endswith(".tmp")


def writable_folder(path: str | os.PathLike, kind: str, *, force: bool = False, replaces: bool = True,
                    ignore: tuple[str, ...] = ()) -> Path:
    """``path`` made absolute, once checked that a writer of ``kind`` may use it.

    Allowed: a folder that does not exist, an empty one, or one whose marker
    says ``kind``. Refused (:class:`~graphkit.errors.FolderNotOwnedError`): a
    file; a non-empty folder without the marker, or with the marker of another
    kind, unless ``force``; and, when the writer ``replaces`` the folder as a
    whole, the working folder or a folder that holds it. Entries named in
    ``ignore`` (the writer's own lock file), and a marker a killed writer was
    still writing, do not make a folder non-empty.
    """
    target = Path(os.path.abspath(Path(path).expanduser()))
    if target.is_symlink() and target.is_dir():
        target = target.resolve()  # write where the link points; the link stays
    shown = str(path)
    if os.path.lexists(target) and not target.is_dir():
        raise FolderNotOwnedError(shown, "is a file (or a broken link), not a folder; name a folder to write into")
    cwd = Path.cwd().resolve()
    holds_cwd = target.resolve() == cwd or target.resolve() in cwd.parents
    if replaces and holds_cwd:
        raise FolderNotOwnedError(shown, "is the working folder or holds it, and this folder is replaced as a "
                                         "whole; name a new folder, e.g. ./data")
    if not target.exists():
        return target
    found = marker_kind(target)
    if found == kind:
        return target
    try:
        empty = not any(p.name not in ignore and not _staged_marker(p.name) for p in target.iterdir())
    except OSError as exc:
        raise FolderNotOwnedError(shown, f"cannot be listed ({exc.strerror}); name a folder you can write") from None
    if found is None and empty:
        return target
    if force:
        if holds_cwd:
            raise FolderNotOwnedError(shown, "is the working folder or holds it: --force would delete what is in "
                                             "it; name a new folder")
        return target
    if found is not None:
        raise FolderNotOwnedError(shown, f"is a graphkit {_NAMES[found]}, not a {_NAMES[kind]}; name another "
                                         "folder, or pass --force (force=True in Python) to replace it")
    raise FolderNotOwnedError(shown, f"is not empty and was not written by graphkit (it has no {MARKER} marker); "
                                     "graphkit only replaces folders it made: name a new or empty folder, or pass "
                                     "--force (force=True in Python) to replace it and everything in it")


# ------------------------------------------------------------- durability
def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a folder's entries (creations, renames) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # pragma: no cover - systems without directory handles (Windows)
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # pragma: no cover - some file systems refuse fsync on folders
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_text_durably(path: str | os.PathLike, text: str) -> None:
    """Write a small text file under a temporary name, fsync it, rename it into place, fsync its folder."""
    path = Path(path)
    staged = path.with_name(f"{path.name}.{os.getpid()}.tmp" if path.name.startswith(".")
                            else f".{path.name}.{os.getpid()}.tmp")
    with open(staged, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(staged, path)
    fsync_dir(path.parent)


def remove_tree(folder: Path) -> None:
    """Delete a folder graphkit owns; a missing one is fine."""
    shutil.rmtree(folder, ignore_errors=True)


def link_tree(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Fill the folder ``dst`` with ``src``'s entries: files hard-linked (copied where links fail), folders copied.

    graphkit never changes a file in place (it writes a new one and renames
    it over the old), so a hard link is a safe copy of a file it will replace.
    """
    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
            fsync_file(b)

    shutil.copytree(src, dst, symlinks=True, copy_function=link, dirs_exist_ok=True)


# ---------------------------------------------------------------- swapping
def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - a libc without renameat2 (glibc < 2.28, musl)
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # pragma: no cover - kernel or file system lacks it
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


#: How a folder is swapped in; tests switch it to the two-rename fallback to check that path too.
exchange = _renameat2_exchange


def swap_in(new: Path, target: Path) -> Path | None:
    """Put the complete folder ``new`` at ``target``; return where the previous ``target`` is now (or None).

    With an atomic exchange ``target`` always holds the old or the new folder.
    Without one, the old folder is renamed aside to ``.NAME.old-PID`` first; a
    crash between the two renames leaves it there, and :func:`restore_aside`
    (called by the next writer, under the lock) puts it back.
    """
    parent = target.parent
    if not os.path.lexists(target):
        os.rename(new, target)
        fsync_dir(parent)
        return None
    if exchange(new, target):
        fsync_dir(parent)
        return new
    aside = parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, aside)
    os.rename(new, target)
    fsync_dir(parent)
    return aside


def restore_aside(target: Path) -> None:
    """Put back a folder a crashed writer left renamed aside (see :func:`swap_in`) when ``target`` is missing."""
    if os.path.lexists(target):
        return
    prefix = f".{target.name}.old-"
    aside = sorted((p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()
                    and not p.is_symlink()), key=lambda p: p.stat().st_mtime)
    if aside:
        os.rename(aside[-1], target)
        fsync_dir(target.parent)


@contextmanager
def replace_folder(target: Path, *, prefix: str, mode: int) -> Iterator[Path]:
    """A new folder beside ``target`` to fill; swapped in for ``target`` when the block ends without error.

    The block fills the folder it is given; then it gets permissions ``mode``,
    is flushed and swapped in (:func:`swap_in`) and the previous folder is
    deleted. On any error the new folder is deleted, a folder left aside is
    put back, and ``target`` is as it was. Call it under the target's lock.

    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "data").mkdir()
    >>> with replace_folder(root / "data", prefix=".data.tmp-", mode=0o755) as tmp:
    ...     _ = (tmp / "new.txt").write_text("hello")
    >>> sorted(p.name for p in root.iterdir()), sorted(p.name for p in (root / "data").iterdir())
    (['data'], ['new.txt'])
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, mode)
        fsync_dir(tmp)
        old = swap_in(tmp, target)
    except BaseException:
        remove_tree(tmp)
        restore_aside(target)
        raise
    if old is not None:
        remove_tree(old)


# ------------------------------------------------------------------- locks
def check_wait(wait: float) -> float:
    """``wait`` as a float of seconds, refused unless finite and >= 0."""
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not math.isfinite(wait) or wait < 0:
        raise GraphkitError(f"wait must be a number of seconds >= 0, got {wait!r}")
    return float(wait)


def holder_text() -> str:
    """Who this process is, for the error another writer sees: ``pid N on HOST since TIME``."""
    since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


class FolderLock:
    """An exclusive ``fcntl.flock`` on the file ``path``, taken within ``wait`` seconds or refused.

    ``target`` names what is locked in the error. The lock file records its
    holder (process id, host, time) for that message; the file itself stays
    (deleting a lock file races with the next writer opening it).
    """

    def __init__(self, path: str | os.PathLike, *, target: str, wait: float = DEFAULT_WAIT) -> None:
        self.path = Path(path)
        self.target = target
        self.wait = check_wait(wait)
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            raise GraphkitError("folder locks need a POSIX system (fcntl); graphkit writes folders on Linux "
                                "and macOS") from None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        start, delay = time.monotonic(), 0.02
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    left = self.wait - (time.monotonic() - start)
                    if left <= 0:
                        holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "holder unknown"
                        raise WriterBusyError(self.target, holder, self.wait, BUSY_HINT) from None
                    time.sleep(min(delay, left))
                    delay = min(delay * 2, 0.25)
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder_text().encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)  # closing the last descriptor releases the flock
                self._fd = None
