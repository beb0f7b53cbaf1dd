"""What a run was made from: a SHA-256 fingerprint of each input table's content.

Two runs on changed files must not look alike. :func:`table_fingerprint`
hashes a table's column names, types and rows in a way that does not depend
on how the rows were stored, so the same data read from CSV or Parquet, or in
another row order, has the same fingerprint, and any changed, added or
removed row changes it: each row is reduced to a 64-bit hash of its values
(in column order; nulls, text, numbers and times each encoded exactly), the
row hashes are sorted, and the SHA-256 of the schema and the sorted row
hashes is the fingerprint (``rows-sha256:<hex>``). Rows are never sorted or
written out as text: 20M edges take about 2 s, not 20. Two different
tables share a fingerprint only if 64-bit row hashes collide (chance about
2^-64 per changed row). :func:`input_fingerprints` does it for the six tables
of a :class:`~graphkit.model.graph.TopicGraph`; ``graphkit score`` records
them in every run (``run.json`` of a score folder, the run node in Neo4j)
with the graphkit version and the parameters; ``graphkit runs`` lists them.

>>> import polars as pl
>>> a = pl.DataFrame({"x": [1, 2], "y": ["p", "q"]})
>>> table_fingerprint(a) == table_fingerprint(a.reverse())
True
>>> table_fingerprint(a) == table_fingerprint(a.with_columns(y=pl.lit("p")))
False
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numba import njit

if TYPE_CHECKING:
    from graphkit.model.graph import TopicGraph

__all__ = ["input_fingerprints", "row_hashes", "table_fingerprint"]

#: Rows hashed at a time: bounds the text copied out of a string column (about 10 MB).
_SLICE_ROWS = 1 << 20
#: What is hashed first: a fingerprint made another way never equals one made this way.
_SCHEME = b"graphkit rows-sha256 v1\x1e"
_NULL = np.uint64(0x9E3779B97F4A7C15)  # a null value's hash (a value's hash equals it with chance 2^-64)
_NAN = np.float64("nan").view(np.uint64)  # every NaN is the same value


@njit(cache=True, inline="always")
def _mix64(x):
    # splitmix64's finaliser: every input bit changes about half the output bits
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@njit(cache=True)
def _fold_words(acc, words, null, column):
    # acc[i] = mix(acc[i] * prime + mix(word[i] + column)) -- the column's place counts, so does its value
    salt = np.uint64(column) * np.uint64(0xD6E8FEB86659FD93)
    for i in range(acc.shape[0]):
        h = _NULL if null[i] else _mix64(words[i] + salt)
        acc[i] = _mix64(acc[i] * np.uint64(0x100000001B3) + h)


@njit(cache=True)
def _fold_text(acc, data, ends, null, column):
    # FNV-1a over each value's UTF-8 bytes, its length mixed in, then folded like a word
    salt = np.uint64(column) * np.uint64(0xD6E8FEB86659FD93)
    start = 0
    for i in range(acc.shape[0]):
        end = ends[i]
        if null[i]:
            h = _NULL
        else:
            f = np.uint64(0xCBF29CE484222325)
            for j in range(start, end):
                f = (f ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
            h = _mix64(f + np.uint64(end - start) + salt)
        acc[i] = _mix64(acc[i] * np.uint64(0x100000001B3) + h)
        start = end


def _fold(acc: np.ndarray, s: pl.Series, column: int) -> None:
    """Fold column ``s``'s values (one per row of ``acc``) into the row hashes ``acc``."""
    null = s.is_null().to_numpy()
    dtype = s.dtype
    if dtype.is_numeric() and not dtype.is_float() and not dtype.is_integer():  # Decimal
        s, dtype = s.cast(pl.String), pl.String
    if dtype == pl.Boolean:
        s, dtype = s.cast(pl.UInt8), pl.UInt8
    if dtype.is_temporal():
        s = s.to_physical()
    if s.dtype.is_float():
        x = s.cast(pl.Float64).fill_null(0.0).to_numpy()
        words = x.view(np.uint64).copy()
        words[np.isnan(x)] = _NAN
    elif s.dtype.is_integer():
        words = (s.cast(pl.UInt64) if s.dtype == pl.UInt64 else s.cast(pl.Int64)).fill_null(0).to_numpy()
        words = words.view(np.uint64)
    elif s.dtype == pl.Null:
        words = np.zeros(s.len(), dtype=np.uint64)
    else:  # text; anything else (binary, categories, nested values) as its text
        if s.dtype == pl.Binary:
            s = s.bin.encode("hex")
        elif s.dtype.is_nested():  # lists, arrays, structs: as JSON
            s = pl.select(pl.when(s.is_not_null()).then(pl.struct(s).struct.json_encode())).to_series()
        elif s.dtype != pl.String:
            s = s.cast(pl.String)
        ends = np.cumsum(s.str.len_bytes().fill_null(0).to_numpy(), dtype=np.int64)
        text = s.str.join("", ignore_nulls=True).item() if s.len() else ""
        _fold_text(acc, np.frombuffer(text.encode(), dtype=np.uint8), ends, null, column)
        return
    _fold_words(acc, np.ascontiguousarray(words), null, column)


def row_hashes(df: pl.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of ``df`` (uint64), from its values in column order; equal rows, equal hashes.

    >>> import polars as pl
    >>> h = row_hashes(pl.DataFrame({"x": [1, 1, None], "y": ["a", "a", "a"]}))
    >>> bool(h[0] == h[1]), bool(h[0] == h[2])
    (True, False)
    """
    acc = np.zeros(df.height, dtype=np.uint64)
    for lo in range(0, df.height, _SLICE_ROWS):
        part = df.slice(lo, _SLICE_ROWS)
        rows = acc[lo:lo + part.height]
        for column, name in enumerate(df.columns):
            _fold(rows, part[name], column)
    return acc


def table_fingerprint(df: pl.DataFrame) -> str:
    """``rows-sha256:<hex>`` of a table's schema and rows, independent of row order."""
    digest = hashlib.sha256(_SCHEME)
    for name, dtype in df.schema.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    if df.width and df.height:
        digest.update(pl.Series(row_hashes(df)).sort().to_numpy().tobytes())
    return "rows-sha256:" + digest.hexdigest()


def input_fingerprints(graph: TopicGraph) -> dict[str, str]:
    """The fingerprint of each of the graph's six tables, by table name.

    >>> from graphkit.marketing.common import example_market
    >>> sorted(input_fingerprints(example_market()))
    ['communities', 'edges', 'handles', 'items', 'people', 'transactions']
    """
    return {name: table_fingerprint(df) for name, df in graph.tables().items()}
