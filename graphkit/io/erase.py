"""Erase people everywhere graphkit keeps them: a dataset folder, the runs of score folders, Neo4j.

:func:`erase` removes each person's ``people`` row, her handles, every edge
from or to her, the transactions of her customer id, and in every stored run
her rows and her name in lists such as the community summaries'
``top_influencers`` (the rules: :mod:`graphkit.model.erasure`). Everyone
else's rows stay exactly as they were. Each store is changed under its
single-writer rule and in one step readers cannot see half of:

- a dataset folder: a copy (unchanged files hard-linked) with the changed
  tables rewritten is swapped in for the folder in one atomic exchange,
  under the dataset's writer lock;
- a score folder: each run that names her is swapped in the same way, under
  the folder's writer lock (see :func:`graphkit.io.score_folder.rewrite_runs`);
- Neo4j: one write transaction, under the database's writer lock.

Erasing again finds nothing and changes nothing. Each store that lost rows
keeps a line of its erasure log: the keyed hash (HMAC-SHA256, key from
``$GRAPHKIT_ERASURE_KEY``) of each erased id, the time, and the rows removed
per table, never the id itself (``erasures.jsonl`` in the folder; a
``(:GraphkitErasure)`` node in Neo4j). :func:`erasure_log` reads it back.

>>> import tempfile
>>> from graphkit.io.files import write_dataset
>>> from graphkit.marketing.common import example_market
>>> folder = write_dataset(example_market(), tempfile.mkdtemp() + "/m")
>>> erase(["lea"], folder, key="secret").removed[str(folder)]["people"]
1
>>> erase(["lea"], folder, key="secret").total
0
>>> erasure_log(folder)[0]["erased"] == [keyed_hash("lea", key="secret")]
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from graphkit.errors import DataFileError, GraphkitError, StoreError
from graphkit.io.files import FORMATS, LOCK_SUFFIX, read_table, write_table
from graphkit.io.ownership import (
    DEFAULT_WAIT,
    ERASURE_LOG,
    FolderLock,
    link_tree,
    remove_tree,
    replace_folder,
    restore_aside,
    write_text_durably,
)
from graphkit.io.score_folder import rewrite_runs
from graphkit.model.erasure import check_person_ids, customers_of, erase_rows

if TYPE_CHECKING:  # pragma: no cover
    from graphkit.io.neo4j import Neo4jStore

__all__ = ["ERASURE_KEY_ENV", "ErasureReport", "erase", "erasure_log", "keyed_hash"]

#: The environment variable that holds the key of the erasure log's hashes.
ERASURE_KEY_ENV = "GRAPHKIT_ERASURE_KEY"


def erasure_key(key: str | None = None) -> str:
    """``key``, or the value of ``$GRAPHKIT_ERASURE_KEY``; refused with the variable's name when neither is set."""
    key = os.environ.get(ERASURE_KEY_ENV) if key is None else key
    if not key:
        raise GraphkitError(f"set the environment variable {ERASURE_KEY_ENV} to a secret key before erasing: the "
                            f"erasure log keeps a keyed hash (HMAC-SHA256) of each erased id, never the id, and "
                            f"only the key's holder can tell which id a hash stands for")
    return key


def keyed_hash(value: str, key: str | None = None) -> str:
    """``hmac-sha256:<hex>`` of ``value`` under ``key`` (default: ``$GRAPHKIT_ERASURE_KEY``).

    >>> keyed_hash("lea", key="k") == keyed_hash("lea", key="k") != keyed_hash("lea", key="j")
    True
    """
    digest = hmac.new(erasure_key(key).encode(), value.encode(), hashlib.sha256).hexdigest()
    return "hmac-sha256:" + digest


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase` removed: rows per table, by store (a folder path, or ``neo4j:<uri>``).

    A score folder's tables are named ``<run folder>/<table>``, Neo4j's runs
    ``<run id>/<table>``. ``at`` is the time written in the erasure logs.
    """

    people: int
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    at: str = ""

    @property
    def total(self) -> int:
        return sum(sum(t.values()) for t in self.removed.values())

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what ``graphkit erase --json`` prints)."""
        return {"people": self.people, "total": self.total, "at": self.at, "removed": self.removed}


def erase(
    person_ids: Iterable[str] | str,
    source: str | os.PathLike | Neo4jStore | None = None,
    *,
    runs: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    key: str | None = None,
    wait: float = DEFAULT_WAIT,
) -> ErasureReport:
    """Erase ``person_ids`` and everything about them from ``source`` and the score folders ``runs``.

    ``source`` is a dataset folder or a :class:`~graphkit.io.neo4j.Neo4jStore`
    (Neo4j holds its score runs beside the graph: they are erased with it);
    ``runs`` one score folder or several (written by ``graphkit score
    --write PATH``). Everything is checked before anything changes: the key
    (``key``, default ``$GRAPHKIT_ERASURE_KEY``), that each folder is what it
    should be. Another writer of a store makes this wait up to ``wait``
    seconds, then :class:`~graphkit.errors.WriterBusyError`. Ids are data,
    never code or paths: any text is safe. Returns an :class:`ErasureReport`;
    ids found nowhere change nothing (erasing twice is a no-op).
    """
    ids = check_person_ids(person_ids)
    secret = erasure_key(key)
    stamp = _stamp(ids, secret)
    folders = [] if runs is None else [runs] if isinstance(runs, (str, os.PathLike)) else list(runs)
    if source is None and not folders:
        raise GraphkitError("name where to erase from: a dataset folder or a Neo4j store (source), and/or score "
                            "folders (runs=)")
    from graphkit.io.score_folder import check_score_folder

    for f in folders:
        check_score_folder(f)
    dataset = None
    if source is not None and isinstance(source, (str, os.PathLike)):
        dataset = _check_dataset(source)
    removed: dict[str, dict[str, int]] = {}
    customers: set[str] = set()
    if dataset is not None:
        counts, customers = _erase_dataset(dataset, ids, stamp, wait)
        if counts:
            removed[str(source)] = counts
    elif source is not None:
        counts = source.erase_people(ids, note=stamp, wait=wait)
        if counts:
            removed[f"neo4j:{source.settings.shown_uri}"] = counts
    people = set(ids)
    for f in folders:
        by_run = rewrite_runs(f, lambda df: erase_rows(df, people, customers), note=stamp, wait=wait)
        counts = {f"{run}/{table}": n for run, tables in by_run.items() for table, n in tables.items()}
        if counts:
            removed[str(f)] = counts
    return ErasureReport(people=len(ids), removed=removed, at=stamp["at"])


def erasure_log(place: str | os.PathLike | Neo4jStore) -> list[dict[str, Any]]:
    """The erasure log of a dataset folder, a score folder or a Neo4j store, oldest first.

    Each entry: ``erased`` (keyed hashes of the ids), ``at`` (UTC, ISO 8601),
    ``removed`` (rows per table), ``graphkit_version``. To check whether a
    given id was erased, compare :func:`keyed_hash` of it (same key) with
    ``erased``.
    """
    if not isinstance(place, (str, os.PathLike)):
        return place.erasures()
    path = Path(place) / ERASURE_LOG
    if not Path(place).is_dir():
        raise GraphkitError(f"{place}: no such folder")
    if not path.is_file():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise DataFileError(str(path), f"line {n} is not JSON; the log was edited by hand?") from None
    return out


# ------------------------------------------------------------------ helpers
def _stamp(ids: list[str], key: str) -> dict[str, Any]:
    """The log entry's common part: the ids' keyed hashes (sorted), the time, the graphkit version."""
    from graphkit.version import __version__

    return {"erased": sorted(keyed_hash(p, key=key) for p in ids),
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "graphkit_version": __version__}


def _check_dataset(source: str | os.PathLike) -> Path:
    folder = Path(os.path.abspath(Path(source).expanduser()))
    if not folder.is_dir() or not any((folder / f"people.{ext}").is_file() for ext in FORMATS):
        raise GraphkitError(f"{source}: not a dataset folder (no people.parquet or people.csv); pass --source the "
                            f"folder the dataset is read from, or neo4j")
    cwd = Path.cwd().resolve()
    if folder.resolve() == cwd or folder.resolve() in cwd.parents:
        raise GraphkitError(f"{source} is the working folder or holds it, and erasing swaps the folder for its "
                            f"erased copy: run graphkit erase from outside it")
    return folder


def _table_files(folder: Path) -> list[Path]:
    tables = sorted(p for p in folder.iterdir() if p.suffix in (".parquet", ".csv") and not p.name.startswith("."))
    # a linked table lives outside the folder the erasure swaps: skipping it would leave her data there
    linked = [p.name for p in tables if p.is_symlink()]
    if linked:
        raise GraphkitError(f"{folder}: {', '.join(linked)} {'is a link' if len(linked) == 1 else 'are links'} to "
                            f"files outside the dataset folder, which erasure cannot swap atomically; copy the "
                            f"file(s) into the folder in place of the link(s) and run graphkit erase again")
    return [p for p in tables if p.is_file()]


def _erase_dataset(folder: Path, ids: list[str], stamp: dict[str, Any],
                   wait: float) -> tuple[dict[str, int], set[str]]:
    """Erase from a dataset folder (every table file in it, rejects included); the counts and her customer ids."""
    people = set(ids)
    lock = folder.parent / f".{folder.name}{LOCK_SUFFIX}"
    try:
        with FolderLock(lock, target=f"dataset folder {folder}", wait=wait):
            restore_aside(folder)  # a writer that crashed between two renames (systems without renameat2)
            for p in folder.parent.iterdir():  # copies a crashed erasure left: they may hold the erased data
                if p.name.startswith(f".{folder.name}.erase-") and p.is_dir() and not p.is_symlink():
                    remove_tree(p)
            files = _table_files(folder)
            tables = {p: read_table(p) for p in files}
            customers: set[str] = set()
            for p, df in tables.items():
                if p.stem == "people":
                    customers = customers_of(df, people)
            changed: dict[Path, pl.DataFrame] = {}
            counts: dict[str, int] = {}
            for p, df in tables.items():
                kept, n = erase_rows(df, people, customers)
                if n:
                    changed[p], counts[p.stem] = kept, counts.get(p.stem, 0) + n
            if not counts:
                return {}, customers
            with replace_folder(folder, prefix=f".{folder.name}.erase-", mode=folder.stat().st_mode & 0o7777) as tmp:
                link_tree(folder, tmp)
                for p, df in changed.items():
                    write_table(df, tmp / p.name)
                log = tmp / ERASURE_LOG
                old_log = log.read_text(encoding="utf-8") if log.is_file() else ""
                write_text_durably(log, old_log + json.dumps({**stamp, "removed": counts}, sort_keys=True) + "\n")
    except OSError as exc:
        raise StoreError(f"cannot erase from the dataset folder {folder}: {exc.strerror or exc}") from None
    return counts, customers

