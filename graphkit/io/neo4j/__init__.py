"""Neo4j as the store of record: :class:`Neo4jStore` (the store) over :mod:`~graphkit.io.neo4j.cypher` (every statement).

The ``neo4j`` driver loads only when a store opens.
"""

from graphkit.io.neo4j.store import (
    LoadReport,
    Neo4jSettings,
    Neo4jStore,
    Neo4jUnavailableError,
    RunInfo,
    WriteReport,
    new_run_id,
)

__all__ = ["LoadReport", "Neo4jSettings", "Neo4jStore", "Neo4jUnavailableError", "RunInfo", "WriteReport", "new_run_id"]
