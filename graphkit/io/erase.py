"""Erase people everywhere graphkit keeps them: a dataset folder and every run of a score folder.

:func:`erase` removes each person's row of ``people``, her ``handles``, every
edge from or to her, the ``transactions`` of her customer id, and in every
stored run (``runs/<id>/`` of a score folder) her rows and her name in list
columns such as the community summaries' ``top_influencers``. Each store is
written under its single-writer lock; each file is replaced by one atomic
rename. Erasing again finds nothing and changes nothing. The erasure log
(:func:`log_erasure`) records a keyed hash of each id (HMAC-SHA256, key from
``GRAPHKIT_ERASURE_KEY``), the time and the counts per table, never the id.

>>> import os, tempfile
>>> from graphkit.io.files import write_dataset
>>> from graphkit.marketing.common import example_market
>>> folder = write_dataset(example_market(), tempfile.mkdtemp() + "/m")
>>> erase(["lea"], folder)["removed"]["people"]
1
>>> erase(["lea"], folder)["total"]
0
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.io.files import LOCK_SUFFIX, read_table
from graphkit.io.ownership import DEFAULT_WAIT, FolderLock, write_text_durably

__all__ = ["ERASURE_KEY_ENV", "erase", "keyed_hash", "log_erasure"]

#: The environment variable that holds the key of the erasure log's hashes.
ERASURE_KEY_ENV = "GRAPHKIT_ERASURE_KEY"
_PERSON_COLUMNS = ("person_id", "src", "dst")


def keyed_hash(value: str, key: str | None = None) -> str:
    """``hmac-sha256:<hex>`` of ``value`` under ``key`` (default: ``$GRAPHKIT_ERASURE_KEY``).

    >>> keyed_hash("lea", key="k") == keyed_hash("lea", key="k") != keyed_hash("lea", key="j")
    True
    """
    key = os.environ.get(ERASURE_KEY_ENV) if key is None else key
    if not key:
        raise GraphkitError(f"set the environment variable {ERASURE_KEY_ENV} to a secret key: the erasure log "
                            f"holds a keyed hash (HMAC-SHA256) of each erased id, never the id itself")
    return "hmac-sha256:" + hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _ids(person_ids: Iterable[str]) -> list[str]:
    if isinstance(person_ids, str):
        person_ids = [person_ids]
    ids = list(person_ids)
    bad = [p for p in ids if not isinstance(p, str) or not p]
    if not ids or bad:
        raise GraphkitError(f"erase needs one or more non-empty person ids, got {bad or ids!r}")
    return sorted(set(ids))


def _table_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".parquet", ".csv")
                  and not p.name.startswith("."))


def _scrub(df: pl.DataFrame, people: set[str], customers: set[str]) -> tuple[pl.DataFrame, int]:
    """``df`` without the rows that name an erased person (or her customer id); her name out of list columns."""
    keep = pl.lit(True)
    for col, dtype in df.schema.items():
        if dtype == pl.String:
            if col in _PERSON_COLUMNS:
                keep = keep & ~pl.col(col).is_in(list(people)).fill_null(False)
            elif col == "customer_id":
                keep = keep & ~pl.col(col).is_in(list(customers)).fill_null(False)
    out = df.filter(keep)
    removed = df.height - out.height
    lists = [c for c, t in out.schema.items() if isinstance(t, pl.List) and t.inner == pl.String]
    if lists:
        named = out.select(pl.any_horizontal(pl.col(c).list.eval(pl.element().is_in(list(people))).list.any()
                                             .fill_null(False) for c in lists)).to_series().sum()
        if named:
            out = out.with_columns(pl.col(c).list.eval(pl.element().filter(~pl.element().is_in(list(people))))
                                   for c in lists)
            removed += int(named)
    return out, removed


def _rewrite(path: Path, df: pl.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.erase.tmp")
    if path.suffix == ".csv":
        df.write_csv(tmp)
    else:
        df.write_parquet(tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _erase_folder(folder: Path, people: set[str], customers: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in _table_files(folder):
        df = read_table(path)
        out, removed = _scrub(df, people, customers)
        if removed:
            _rewrite(path, out)
            counts[path.stem] = counts.get(path.stem, 0) + removed
    return counts


def _customers(folder: Path, people: set[str]) -> set[str]:
    for path in _table_files(folder):
        if path.stem == "people":
            df = read_table(path)
            if "customer_id" in df.columns:
                return set(df.filter(pl.col("person_id").is_in(list(people)))["customer_id"].drop_nulls().to_list())
    return set()


def erase(
    person_ids: Iterable[str],
    source: str | os.PathLike,
    *,
    runs: str | os.PathLike | None = None,
    log: str | os.PathLike | None = None,
    wait: float = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Erase ``person_ids`` from the dataset folder ``source`` and every run of the score folder ``runs``.

    Returns ``{"removed": {table: rows}, "runs": {run: {table: rows}}, "total": n}``. With ``log``, a
    line is appended to that file (see :func:`log_erasure`); the key must then be set.
    """
    ids = _ids(person_ids)
    people = set(ids)
    if log is not None:
        keyed_hash("", None)  # refuse before erasing anything when the key is missing
    folder = Path(source)
    if not folder.is_dir():
        raise GraphkitError(f"{source}: not a dataset folder; pass --source PATH of the dataset to erase from")
    with FolderLock(folder.parent / f".{folder.name}{LOCK_SUFFIX}", target=f"dataset folder {source}", wait=wait):
        customers = _customers(folder, people)
        removed = _erase_folder(folder, people, customers)
    run_counts: dict[str, dict[str, int]] = {}
    if runs is not None:
        from graphkit.io.score_folder import LOCK_NAME, RUNS

        root = Path(runs)
        if not (root / RUNS).is_dir():
            raise GraphkitError(f"{runs} is not a score folder written by graphkit score --write (no {RUNS}/)")
        with FolderLock(root / LOCK_NAME, target=f"score folder {runs}", wait=wait):
            for run in sorted(p for p in (root / RUNS).iterdir() if p.is_dir() and not p.name.startswith(".")):
                counts = _erase_folder(run, people, customers)
                if counts:
                    run_counts[run.name] = counts
    total = sum(removed.values()) + sum(sum(c.values()) for c in run_counts.values())
    result = {"removed": removed, "runs": run_counts, "total": total, "people": len(ids)}
    if log is not None:
        log_erasure(log, ids, result)
    return result


def log_erasure(log: str | os.PathLike, person_ids: Iterable[str], result: dict[str, Any]) -> None:
    """Append one JSON line per erasure to ``log``: keyed hashes of the ids, the time, counts per table."""
    line = {"erased": [keyed_hash(p) for p in _ids(person_ids)],
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "removed": result["removed"], "runs": result["runs"], "total": result["total"]}
    path = Path(log)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    write_text_durably(path, old + json.dumps(line, sort_keys=True) + "\n")
