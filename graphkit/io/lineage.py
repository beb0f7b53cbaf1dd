"""What a run was made from: a SHA-256 of each input table's content.

Two runs on changed files must not look alike. :func:`table_fingerprint`
hashes a table's column names, types and rows, in an order that does not
depend on how the rows were stored (rows are sorted first), so the same data
read from CSV or Parquet, or in another row order, has the same fingerprint,
and any changed value changes it. :func:`input_fingerprints` does it for the
six tables of a :class:`~graphkit.model.graph.TopicGraph`; ``graphkit score``
records them in every run (``run.json`` of a score folder, the run node in
Neo4j) with the graphkit version and the parameters; ``graphkit runs`` lists them.

>>> import polars as pl
>>> a = pl.DataFrame({"x": [1, 2], "y": ["p", "q"]})
>>> table_fingerprint(a) == table_fingerprint(a.reverse())
True
>>> table_fingerprint(a) == table_fingerprint(a.with_columns(y=pl.lit("p")))
False
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from graphkit.model.graph import TopicGraph

__all__ = ["input_fingerprints", "table_fingerprint"]

_SLICE_ROWS = 262_144


def table_fingerprint(df: pl.DataFrame) -> str:
    """``sha256:<hex>`` of a table's schema and rows, independent of row order."""
    digest = hashlib.sha256()
    for name, dtype in df.schema.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    flat = df.select(pl.col(c).cast(pl.String) if isinstance(t, (pl.List, pl.Struct, pl.Array, pl.Object))
                     else pl.col(c) for c, t in df.schema.items()) if df.width else df
    order = None
    if flat.width and flat.height:
        # rows equal in every column are identical: their order cannot change the bytes hashed.
        # Only the sorted row numbers are kept, not a sorted copy of the table (20M edges: ~2 GB).
        order = flat.select(pl.arg_sort_by(flat.columns, nulls_last=True)).to_series().to_numpy()
    # The CSV text of the sorted rows, hashed a slice at a time (the same bytes as the whole
    # table's CSV, without holding it: 20M edges would be about 1.6 GB of text).
    for lo in range(0, flat.height, _SLICE_ROWS):
        part = flat.slice(lo, _SLICE_ROWS) if order is None else flat[order[lo:lo + _SLICE_ROWS]]
        buf = io.BytesIO()
        part.write_csv(buf, include_header=False, null_value="\x00")
        digest.update(buf.getbuffer())
    return "sha256:" + digest.hexdigest()


def input_fingerprints(graph: TopicGraph) -> dict[str, str]:
    """The fingerprint of each of the graph's six tables, by table name.

    >>> from graphkit.marketing.common import example_market
    >>> sorted(input_fingerprints(example_market()))
    ['communities', 'edges', 'handles', 'items', 'people', 'transactions']
    """
    return {name: table_fingerprint(df) for name, df in graph.tables().items()}
