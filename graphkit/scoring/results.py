"""Small frozen result objects that remember how they were made.

A result carries its table (keyed by the caller's ids), the parameters it was
computed with, the solver's iteration count and convergence, and the graphkit
version, so a number can always be traced back to the run that made it.

>>> import polars as pl
>>> r = InfluenceResult(table=pl.DataFrame({"score": [1.0]}), parameters={"engine": "batched"},
...                     iterations=12, converged=True)
>>> r.converged, r.parameters["engine"], r.version == __import__("graphkit").__version__
(True, 'batched', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from graphkit.version import __version__


@dataclass(frozen=True)
class InfluenceResult:
    """Topic influence scores and how they were computed.

    ``table`` has one row per (person, topic): ``person_id``, ``topic``,
    ``score``, ``rank``, ``percentile``, ``audience``, ``active_audience``,
    ``credibility`` (see :func:`graphkit.scoring.influence.topic_influence`).
    ``iterations`` is the number of solver iterations (the largest over
    topics; ``None`` when the engine does not report it, as igraph's PRPACK
    does not); ``converged`` is True when every topic reached ``tol``.
    ``residuals`` maps each topic to its last L1 change (empty when unknown).
    ``stability`` (with ``uncertainty=``): per topic and k, how much of the
    top k two bootstrap resamples share (see :mod:`graphkit.scoring.uncertainty`).
    """

    table: pl.DataFrame
    parameters: dict[str, Any]
    iterations: int | None
    converged: bool
    residuals: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    version: str = __version__
    stability: pl.DataFrame | None = None

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``.

        >>> import polars as pl
        >>> r = InfluenceResult(pl.DataFrame({"person_id": ["a", "b"], "topic": ["x", "x"], "rank": [2, 1]}),
        ...                     {}, 1, True)
        >>> r.top("x", 1)["person_id"].to_list()
        ['b']
        """
        return top_rows(self.table, topic, k)


def top_rows(table: pl.DataFrame, topic: str, k: int = 10) -> pl.DataFrame:
    """The ``k`` best-ranked rows of ``topic`` in a score table; a clear error naming the topics it has.

    >>> top_rows(pl.DataFrame({"person_id": ["a", "b"], "topic": ["x", "x"], "rank": [2, 1]}), "x", 1)["person_id"].to_list()
    ['b']
    """
    from graphkit.errors import GraphkitError

    rows = table.filter(pl.col("topic") == topic)
    if rows.height == 0:
        raise GraphkitError(f"topic {topic!r} is not in this result; it has {table['topic'].unique().sort().to_list()}")
    return rows.sort("rank").head(k)
