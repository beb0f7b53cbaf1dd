"""Score folders: score runs as files, with readers switched from one complete run to the next.

``graphkit score --write FOLDER`` (:func:`write_run`) writes a run as
``FOLDER/runs/<run_id>.<suffix>/`` (one Parquet file per table, and
``run.json``), then points readers at it by renaming a new ``FOLDER/CURRENT``
file into place. Readers (:func:`current_run`) follow ``CURRENT``, so they
see one complete run, never a mix. How a writer stays safe (see
:mod:`graphkit.io.ownership`):

- FOLDER, ``runs/`` and every run carry a ``.graphkit`` marker; a non-empty
  FOLDER without it is refused unless ``force`` (``--force``), which empties it.
- One writer at a time: a ``flock`` on ``FOLDER/.graphkit-lock``; another
  writer waits up to ``wait`` seconds, then fails.
- Under the lock, the writer first removes what a crashed writer left: its
  temporary ``runs/.writing-*`` folder, runs it was deleting
  (``runs/.deleting-*``), and a run it wrote but never published (killed
  before the switch: newer than the current run). The current run and the
  runs published before it are never taken for leftovers.
- Files and folders are flushed to disk before the renames that publish them.
- After the switch, published runs beyond ``keep_runs`` (the current one
  included) are renamed to ``.deleting-*`` (no longer a run) and then deleted.
  Folders in ``runs/`` without a run marker are never touched.
- Re-running a run id writes a new run folder and switches to it; the
  earlier run of that id is never changed in place (it is pruned like any
  older run).

>>> import tempfile, polars as pl
>>> folder = Path(tempfile.mkdtemp()) / "scores"
>>> run = write_run(folder, {"influence": pl.DataFrame({"person_id": ["a"], "score": [1.0]})}, run_id="r1")
>>> current_run(folder) == run, run.name.startswith("r1.")
(True, True)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import polars as pl

from graphkit.errors import FolderNotOwnedError, GraphkitError, StoreError
from graphkit.io.ownership import (
    DEFAULT_WAIT,
    ERASURE_LOG,
    FolderLock,
    claim,
    fsync_dir,
    link_tree,
    made_by_us,
    marker_kind,
    read_marker,
    remove_tree,
    replace_folder,
    restore_aside,
    writable_folder,
    write_text_durably,
)

CURRENT = "CURRENT"
RUNS = "runs"
LOCK_NAME = ".graphkit-lock"
RUN_FILE = "run.json"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]*")
_TABLE = re.compile(r"[A-Za-z0-9_]+")
_WRITING, _DELETING = ".writing-", ".deleting-"


@dataclass(frozen=True)
class _Run:
    path: Path
    seq: int  # order of writing, given under the lock: a run newer than the current one was never published


def check_run_id(run_id: str) -> str:
    """``run_id`` if it can name a run folder, else a GraphkitError that says which characters to use."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise GraphkitError(f"run id {run_id!r} cannot name a folder: use letters, digits and . _ : + - "
                            "(starting with a letter or digit)")
    return run_id


def write_run(
    folder: str | os.PathLike,
    tables: Mapping[str, pl.DataFrame],
    *,
    run_id: str,
    meta: Mapping[str, Any] | None = None,
    keep_runs: int = 2,
    force: bool = False,
    wait: float = DEFAULT_WAIT,
) -> Path:
    """Write ``tables`` as run ``run_id`` of the score folder ``folder``, switch readers to it, return its folder.

    ``meta`` (parameters, versions, row counts) is written as ``run.json``.
    ``keep_runs`` runs are kept, the new current one included. ``folder``
    must not exist, be empty, or be a score folder graphkit wrote; anything
    else raises :class:`~graphkit.errors.FolderNotOwnedError` unless ``force``
    (which empties it). Another writer of the same folder waits up to
    ``wait`` seconds, then raises :class:`~graphkit.errors.WriterBusyError`.
    """
    check_run_id(run_id)
    if isinstance(keep_runs, bool) or not isinstance(keep_runs, int) or keep_runs < 1:
        raise GraphkitError(f"keep_runs must be a positive integer, got {keep_runs!r}")
    for name in tables:
        if not _TABLE.fullmatch(name):
            raise GraphkitError(f"table name {name!r} cannot name a file: use letters, digits and _")
    try:
        root = writable_folder(folder, "scores", force=force, replaces=False, ignore=(LOCK_NAME,))
    except FolderNotOwnedError:
        # another writer may be making this folder right now (its lock file is there, its marker not
        # yet): then the check under the lock decides; otherwise nothing of ours is in the folder
        if not (Path(folder) / LOCK_NAME).is_file():
            raise
        root = Path(os.path.abspath(Path(folder).expanduser())).resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with FolderLock(root / LOCK_NAME, target=f"score folder {folder}", wait=wait):
            _own(root, folder, force=force)
            runs = root / RUNS
            current = _clean_leftovers(root)
            seq = 1 + max([r.seq for r in _runs(runs)] + [current.seq if current else 0])
            final = _write(runs, tables, run_id=run_id, seq=seq, meta=meta)
            write_text_durably(root / CURRENT, final.name + "\n")  # the switch: one atomic rename
            _prune(runs, keep=keep_runs - 1, newest=seq)
    except OSError as exc:
        raise StoreError(f"cannot write the score folder {folder}: {exc.strerror or exc}") from None
    return final


def list_runs(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every published run of the score folder ``folder``, oldest first, with what ``run.json`` records.

    Each entry has ``run_id``, ``current`` (whether readers see it), and the
    run's record: ``parameters`` (with ``inputs``, the SHA-256 of each input
    table), ``graphkit_version`` and ``rows``. An empty folder has no runs;
    a folder graphkit did not write as a score folder is an error.

    >>> import tempfile
    >>> list_runs(tempfile.mkdtemp())
    []
    """
    root = Path(folder)
    if not root.is_dir():
        raise GraphkitError(f"{folder}: no such folder; write a run with graphkit score --write {folder}")
    if not any(p.name != LOCK_NAME for p in root.iterdir()):
        return []
    if marker_kind(root) != "scores" or not (root / RUNS).is_dir():
        raise GraphkitError(f"{folder} is not a score folder written by graphkit score --write")
    current = _current(root)
    out = []
    for run in _runs(root / RUNS):
        if current is not None and run.seq > current.seq:
            continue  # never published (its writer died before the switch)
        try:
            record = json.loads((run.path / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        out.append({"run_id": record.get("run_id", run.path.name), "current": current is not None
                    and run.path == current.path, "graphkit_version": record.get("graphkit_version"),
                    "parameters": record.get("parameters", {}), "rows": record.get("rows", {}),
                    "path": str(run.path)})
    return out


def current_run(folder: str | os.PathLike) -> Path:
    """The run folder readers of ``folder`` see: the run ``CURRENT`` names, or ``folder`` itself if it is a run."""
    root = Path(folder)
    pointer = root / CURRENT
    if pointer.is_file():
        run = root / RUNS / pointer.read_text(encoding="utf-8").strip()
        if not run.is_dir():
            raise StoreError(f"{folder}: CURRENT names {run.name}, which is not in {RUNS}/; write a new run with "
                             f"graphkit score --write {folder}")
        return run
    if (root / "influence.parquet").is_file():
        return root
    raise GraphkitError(f"{folder} is not a score folder (no CURRENT pointer, no influence.parquet); "
                        f"write one with graphkit score --write {folder}")


# ----------------------------------------------------------------- helpers
def _own(root: Path, shown: str | os.PathLike, *, force: bool) -> None:
    """Under the lock: make sure ``root`` is graphkit's score folder (emptied first when forced)."""
    kind = marker_kind(root)
    if kind != "scores":
        writable_folder(root, "scores", force=force, replaces=False, ignore=(LOCK_NAME,))  # files put in meanwhile?
        if force:
            for entry in root.iterdir():
                if entry.name == LOCK_NAME:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    remove_tree(entry)
                else:
                    entry.unlink()
        claim(root, "scores")
    runs = root / RUNS
    if marker_kind(runs) != "runs":
        claim(runs, "runs")


def _runs(runs: Path) -> list[_Run]:
    """Published and unpublished runs graphkit wrote (marked, visible names), oldest first."""
    out = []
    for p in runs.iterdir():
        if p.name.startswith(".") or not p.is_dir() or p.is_symlink():
            continue
        info = read_marker(p)
        if info and info["kind"] == "run" and isinstance(info.get("seq"), int):
            out.append(_Run(p, info["seq"]))
    return sorted(out, key=lambda r: r.seq)


def _current(root: Path) -> _Run | None:
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    path = root / RUNS / pointer.read_text(encoding="utf-8").strip()
    info = read_marker(path) if path.is_dir() else None
    return _Run(path, info["seq"]) if info and info["kind"] == "run" and isinstance(info.get("seq"), int) else None


def _clean_leftovers(root: Path) -> _Run | None:
    """Remove what crashed writers left (under the lock, so no writer is using it); return the current run."""
    runs = root / RUNS
    for p in root.iterdir():  # a pointer staged but never renamed
        if re.fullmatch(r"\.CURRENT\.\d+\.tmp", p.name) and p.is_file():
            p.unlink()
    current = _current(root)
    for p in runs.iterdir():
        if p.name.startswith((_WRITING, _DELETING)) and made_by_us(p, "run"):
            remove_tree(p)
    if current is None and (root / CURRENT).exists():
        return None  # a pointer we cannot follow: take no run for a leftover
    for r in _runs(runs):
        if r.seq > (current.seq if current else 0):  # written after the current run, never published
            _delete(r.path)
    return current


def _write(runs: Path, tables: Mapping[str, pl.DataFrame], *, run_id: str, seq: int,
           meta: Mapping[str, Any] | None) -> Path:
    """The run under a temporary name, flushed, then renamed to its final name (not yet current)."""
    from graphkit.io.files import write_table

    tmp = Path(tempfile.mkdtemp(prefix=_WRITING, dir=runs))
    try:
        claim(tmp, "run", run_id=run_id, seq=seq)  # first: a crash leaves a marked leftover
        for name, df in tables.items():
            write_table(df, tmp / f"{name}.parquet")
        write_text_durably(tmp / RUN_FILE, json.dumps(dict(meta or {}), indent=2, sort_keys=True, default=str) + "\n")
        os.chmod(tmp, 0o755)
        fsync_dir(tmp)
        final = runs / f"{run_id}.{uuid.uuid4().hex[:8]}"
        os.rename(tmp, final)
        fsync_dir(runs)
    except BaseException:
        remove_tree(tmp)
        raise
    return final


def _prune(runs: Path, *, keep: int, newest: int) -> None:
    """Delete published runs older than the ``keep`` newest ones before run ``newest`` (the current one)."""
    older = [r for r in _runs(runs) if r.seq < newest]
    for r in older[: max(0, len(older) - keep)]:
        _delete(r.path)


def _delete(run: Path) -> None:
    """Un-publish a run (rename it to a hidden name, flushed) before deleting its files."""
    gone = run.with_name(f"{_DELETING}{run.name}")
    os.rename(run, gone)
    fsync_dir(run.parent)
    remove_tree(gone)



def rewrite_runs(
    folder: str | os.PathLike,
    rewrite: Callable[[pl.DataFrame], tuple[pl.DataFrame, int]],
    *,
    note: Mapping[str, Any],
    wait: float = DEFAULT_WAIT,
) -> dict[str, dict[str, int]]:
    """Apply ``rewrite`` to every table of every run of the score folder ``folder`` (an erasure).

    ``rewrite(table)`` returns the table to keep and how many rows (or list
    entries) it removed. Under the folder's writer lock, each run that loses
    rows is copied (unchanged files hard-linked), its changed tables
    rewritten, its ``run.json`` given the new row counts and an entry
    ``note + {"removed": ...}`` in ``erasures``, and swapped in for the old
    run in one atomic exchange; readers see the run before or after, never a
    mix. Then one line, ``note + {"removed": {run: {table: n}}}``, is appended
    to ``FOLDER/erasures.jsonl``. Returns the counts by run folder name and
    table; nothing is written when nothing is removed.
    """
    root = check_score_folder(folder)
    removed: dict[str, dict[str, int]] = {}
    try:
        with FolderLock(root / LOCK_NAME, target=f"score folder {folder}", wait=wait):
            runs = root / RUNS
            for p in list(runs.iterdir()):  # a run a crashed exchange left aside (systems without renameat2)
                m = re.fullmatch(r"\.(.+)\.old-\d+", p.name)
                if m and p.is_dir():
                    restore_aside(runs / m.group(1))
            _clean_leftovers(root)
            for run in _runs(runs):
                counts = _rewrite_run(run.path, rewrite, note)
                if counts:
                    removed[run.path.name] = counts
            if removed:
                log = root / ERASURE_LOG
                old = log.read_text(encoding="utf-8") if log.is_file() else ""
                line = json.dumps({**note, "removed": removed}, sort_keys=True)
                write_text_durably(log, old + line + "\n")
    except OSError as exc:
        raise StoreError(f"cannot rewrite the runs of the score folder {folder}: {exc.strerror or exc}") from None
    return removed


def check_score_folder(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path, refused unless it is a score folder graphkit wrote (its marker and ``runs/``)."""
    root = Path(folder)
    if marker_kind(root) != "scores" or not (root / RUNS).is_dir():
        raise GraphkitError(f"{folder} is not a score folder written by graphkit score --write (no .graphkit "
                            f"marker of a score folder, or no {RUNS}/); pass --runs the folder given to --write")
    return root


def _rewrite_run(run: Path, rewrite: Callable[[pl.DataFrame], tuple[pl.DataFrame, int]],
                 note: Mapping[str, Any]) -> dict[str, int]:
    """One run: its changed tables in a copy swapped in for it; the counts per table (empty: untouched)."""
    from graphkit.io.files import read_table, write_table

    changed: dict[str, pl.DataFrame] = {}
    counts: dict[str, int] = {}
    for path in sorted(run.glob("*.parquet")):
        if path.name.startswith("."):
            continue
        kept, n = rewrite(read_table(path))
        if n:
            changed[path.name], counts[path.stem] = kept, n
    if not counts:
        return {}
    with replace_folder(run, prefix=_WRITING, mode=0o755) as tmp:
        link_tree(run, tmp)  # the marker too: a crash leaves a marked leftover the next writer removes
        for name, df in changed.items():
            write_table(df, tmp / name)
        try:
            meta = json.loads((run / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if isinstance(meta, dict):
            rows = meta.get("rows") if isinstance(meta.get("rows"), dict) else {}
            meta["rows"] = {**rows, **{Path(n).stem: df.height for n, df in changed.items()}}
            meta["erasures"] = [*(meta.get("erasures") or []), {**note, "removed": counts}]
            write_text_durably(tmp / RUN_FILE, json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    return counts

