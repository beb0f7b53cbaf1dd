"""Storage back ends behind one narrow boundary.

- :mod:`graphkit.store.files`: a folder of Parquet (or CSV) files, the
  embedded default; no server.

Every back end reads a :class:`~graphkit.graph.TopicGraph` and writes result
tables keyed by the caller's ids; nothing outside ``store/`` does I/O on data.
"""

from graphkit.store.files import read_dataset, write_dataset, write_table
from graphkit.store.neo4j import Neo4jStore  # noqa: F401  (the neo4j driver loads only when a store opens)

__all__ = ["read_dataset", "write_dataset", "write_table"]
