"""Loyalty from transactions, and the flagship "influential loyal customers" query.

:func:`loyalty` measures each customer's recency, frequency, monetary value
and tenure as of a reference date, scores the first three by quantile (1-5)
and combines them into one loyalty score in [0, 1].
:func:`influential_loyal_customers` joins topic influence with loyalty: on a
topic, the customers in the top influence percentile whose loyalty score is
at least a threshold, ranked by influence and loyalty together.

The same query runs inside Neo4j over ``PURCHASED`` edges
(:meth:`graphkit.io.neo4j.Neo4jStore.influential_loyal_customers`); both
follow the definitions below exactly and return the same rows.

Definitions
-----------
- ``as_of``: the reference date; purchases after it are ignored. Default: the
  latest purchase in the data (so results do not depend on today's date).
- window: with ``window_days``, only purchases with
  ``as_of - window_days < ts <= as_of`` count for recency, frequency and
  monetary; customers without a purchase in the window have no row.
- ``recency_days``: days (fractional) from the last purchase to ``as_of``.
- ``frequency``: number of orders: distinct ``order_id``; a purchase with a
  null ``order_id`` is an order of its own.
- ``monetary``: sum of ``amount``; null when every amount is unknown (Ciao has
  no prices).
- ``tenure_days``: days from the customer's first purchase on record (any time
  up to ``as_of``, not only in the window) to ``as_of``.
- quantile scores ``r_score``, ``f_score``, ``m_score`` in 1..5: with ``n``
  customers that have a value and ``below`` of them strictly worse,
  ``score = 1 + floor(5 * below / n)``. Tied customers get the same score
  (the lowest rank of the tie), so the scores are deterministic and do not
  depend on row order. Recent is better for recency; more is better for
  frequency and monetary. ``m_score`` is null when ``monetary`` is null.
- ``loyalty_score`` = mean of the available scores rescaled to [0, 1]:
  ``(r + f + m - 3) / 12``, or ``(r + f - 2) / 8`` when monetary is unknown.
  A customer in the top quintile everywhere scores 1, in the bottom one 0.
  (With fewer than five customers the top scores are not reached: the
  scores are quintiles of the customer base, not a min-max rescaling.)

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> g = TopicGraph.from_tables(
...     pl.DataFrame({"person_id": ["ann", "bob"], "customer_id": ["c1", "c2"]}),
...     pl.DataFrame({"src": ["bob"], "dst": ["ann"], "kind": ["follows"]}),
...     items=pl.DataFrame({"item_id": ["pan"], "topic": ["cooking"]}),
...     transactions=pl.DataFrame({"customer_id": ["c1", "c1", "c2"], "item_id": ["pan"] * 3,
...         "amount": [10.0, 5.0, 1.0], "ts": ["2024-01-01", "2024-01-31", "2024-01-21"]}),
... )
>>> loyalty(g).select("customer_id", "recency_days", "frequency", "monetary", "loyalty_score").rows()
[('c1', 0.0, 2, 15.0, 0.5), ('c2', 10.0, 1, 1.0, 0.0)]
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.schema import TIMESTAMP
from graphkit.scoring.registry import DEFAULT_SCORE, score_table

__all__ = ["loyalty", "influential_loyal_customers", "quantile_score", "resolve_as_of",
           "INFLUENCE_COLUMNS", "LOYALTY_COLUMNS", "RESULT_COLUMNS"]

_US_PER_DAY = 86_400_000_000

#: Columns of a loyalty table, in order.
LOYALTY_COLUMNS: tuple[str, ...] = (
    "customer_id", "person_id", "recency_days", "frequency", "monetary", "tenure_days",
    "r_score", "f_score", "m_score", "loyalty_score",
)
#: Columns an influence table must have (those of ``topic_influence(...).table``).
INFLUENCE_COLUMNS: dict[str, pl.DataType] = {
    "person_id": pl.String(), "topic": pl.String(), "score": pl.Float64(), "rank": pl.UInt32(),
    "percentile": pl.Float64(), "audience": pl.UInt32(), "active_audience": pl.UInt32(),
    "credibility": pl.Float64(),
}
#: Columns of an influential-loyal-customers result, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "topic", "loyal_rank", "person_id", "customer_id", "fit", "score", "rank", "percentile", "audience",
    "active_audience", "credibility", "recency_days", "frequency", "monetary", "loyalty_score",
)


def resolve_as_of(graph: TopicGraph, as_of: dt.datetime | dt.date | str | None) -> dt.datetime:
    """The reference date as an aware UTC datetime; default: the latest purchase.

    Naive datetimes and dates are taken as UTC; text is ISO 8601.

    >>> resolve_as_of(None, "2024-03-01")
    datetime.datetime(2024, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if as_of is None:
        if graph is None or graph.transactions.height == 0:
            raise GraphkitError("as_of is needed: the graph has no transactions to take the latest date from")
        return graph.transactions["ts"].max()
    if isinstance(as_of, str):
        try:
            as_of = dt.datetime.fromisoformat(as_of.strip().replace("Z", "+00:00"))
        except ValueError:
            raise GraphkitError(f"as_of must be an ISO 8601 date or datetime, got {as_of!r}") from None
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        as_of = dt.datetime(as_of.year, as_of.month, as_of.day)
    if not isinstance(as_of, dt.datetime):
        raise GraphkitError(f"as_of must be a datetime, a date or ISO 8601 text, got {type(as_of).__name__}")
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=dt.timezone.utc)
    return as_of.astimezone(dt.timezone.utc)


def _div(expr: pl.Expr, denominator: float) -> pl.Expr:
    """``expr / denominator`` correctly rounded.

    polars turns division by a constant into multiplication by its reciprocal,
    which can differ in the last bit from a true division; the Neo4j query
    divides, and both implementations must return the same numbers.
    """
    return expr.cast(pl.Float64).map_batches(
        lambda s: pl.Series(s.name, np.divide(s.to_numpy(), denominator), nan_to_null=True), return_dtype=pl.Float64
    )


def check_window(window_days: float | None) -> None:
    if window_days is not None and (isinstance(window_days, bool) or not window_days > 0):
        raise GraphkitError(f"window_days must be a positive number of days (or None for all history), got {window_days!r}")


def quantile_score(values: pl.Expr) -> pl.Expr:
    """Quantile score 1..5 of ``values`` (higher is better): ``1 + floor(5 * below / n)``.

    ``below`` counts values strictly lower; ties share a score; nulls stay null.

    >>> df = pl.DataFrame({"v": [3, 1, 1, 2, None, 9]})
    >>> df.select(quantile_score(pl.col("v"))).to_series().to_list()
    [4, 1, 1, 3, None, 5]
    """
    rank = values.rank("min").cast(pl.Int64)  # 1 + number of strictly lower values
    n = values.count().cast(pl.Int64)
    return (1 + (5 * (rank - 1)) // n).cast(pl.Int8)


def loyalty(
    graph: TopicGraph,
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    window_days: float | None = None,
) -> pl.DataFrame:
    """Recency, frequency, monetary, tenure and loyalty scores per customer.

    One row per customer with at least one purchase in the window, sorted by
    ``customer_id``; columns :data:`LOYALTY_COLUMNS` (no rows, and no
    ``as_of`` needed, when the graph has no purchases). See the module
    documentation for the exact definitions.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(
    ...     pl.DataFrame({"person_id": ["ann", "bob"], "customer_id": ["c1", "c2"]}),
    ...     pl.DataFrame({"src": ["bob"], "dst": ["ann"], "kind": ["follows"]}),
    ...     items=pl.DataFrame({"item_id": ["pan"], "topic": ["cooking"]}),
    ...     transactions=pl.DataFrame({"customer_id": ["c1", "c2", "c2"], "item_id": ["pan"] * 3,
    ...         "ts": ["2024-01-01", "2024-01-05", "2024-01-11"], "order_id": [None, "o7", "o7"]}),
    ... )
    >>> t = loyalty(g, as_of="2024-01-11", window_days=30)
    >>> t.select("customer_id", "frequency", "monetary", "tenure_days", "r_score", "f_score", "m_score").rows()
    [('c1', 1, None, 10.0, 1, 1, None), ('c2', 1, None, 6.0, 3, 1, None)]
    """
    if as_of is None and graph.transactions.height == 0:  # nothing bought: no rows, whatever the date
        as_of = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    when = resolve_as_of(graph, as_of)
    check_window(window_days)
    as_of_lit = pl.lit(when, dtype=TIMESTAMP)
    tx = graph.transactions.filter(pl.col("ts") <= as_of_lit)
    if window_days is not None:
        start = when - dt.timedelta(days=window_days)
        in_window = pl.col("ts") > pl.lit(start, dtype=TIMESTAMP)
    else:
        in_window = pl.lit(True)

    def days(expr: pl.Expr) -> pl.Expr:
        # integer microseconds, then one division: the Neo4j query does the same arithmetic
        return _div((as_of_lit - expr).dt.total_microseconds(), _US_PER_DAY)

    # a null order_id is an order of its own: give it a unique key
    order_key = pl.coalesce(
        pl.concat_str(pl.lit("o:"), pl.col("order_id")),
        pl.concat_str(pl.lit("line:"), pl.int_range(pl.len()).cast(pl.String)),
    )
    per = (
        tx.with_columns(order_key.alias("_order"), in_window.alias("_in"))
        .group_by("customer_id")
        .agg(
            pl.col("ts").filter("_in").max().alias("_last"),
            pl.col("ts").min().alias("_first"),
            pl.col("_order").filter("_in").n_unique().alias("frequency"),
            pl.col("amount").filter("_in").sum().alias("_sum"),
            pl.col("amount").filter("_in").count().alias("_known"),
        )
        .filter(pl.col("_last").is_not_null())
    )
    people = graph.people.filter(pl.col("customer_id").is_not_null()).select("customer_id", "person_id")
    scores = [pl.col("r_score").cast(pl.Int64), pl.col("f_score").cast(pl.Int64), pl.col("m_score").cast(pl.Int64)]
    return (
        per.join(people, on="customer_id", how="left")
        .with_columns(
            days(pl.col("_last")).alias("recency_days"),
            pl.col("frequency").cast(pl.Int64),
            pl.when(pl.col("_known") > 0).then(pl.col("_sum")).alias("monetary"),
            days(pl.col("_first")).alias("tenure_days"),
        )
        .with_columns(
            quantile_score(pl.col("_last")).alias("r_score"),  # later last purchase = more recent = better
            quantile_score(pl.col("frequency")).alias("f_score"),
            quantile_score(pl.col("monetary")).alias("m_score"),
        )
        .with_columns(
            pl.when(pl.col("m_score").is_null())
            .then(_div(scores[0] + scores[1] - 2, 8.0))
            .otherwise(_div(scores[0] + scores[1] + scores[2] - 3, 12.0))
            .alias("loyalty_score")
        )
        .select(LOYALTY_COLUMNS)
        .sort("customer_id")
    )


def check_query_arguments(topics: str | Sequence[str], top_percentile: float, min_loyalty: float,
                           limit: int | None) -> list[str]:
    """Validate the query's options (shared with the Neo4j query); return the topics as a list."""
    if isinstance(topics, str):
        topics = [topics]
    topics = list(dict.fromkeys(topics))
    if not topics or not all(isinstance(t, str) and t for t in topics):
        raise GraphkitError(f"topics must be a topic name or a non-empty list of topic names, got {topics!r}")
    if not 0 < top_percentile <= 100:
        raise GraphkitError(f"top_percentile must be in (0, 100] (10 keeps the top 10 %), got {top_percentile!r}")
    if not 0 <= min_loyalty <= 1:
        raise GraphkitError(f"min_loyalty must be a loyalty score in [0, 1], got {min_loyalty!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise GraphkitError(f"limit must be a positive integer or None, got {limit!r}")
    return topics


def _uncertainty_present(influence: pl.DataFrame) -> list[str]:
    """The bootstrap columns an influence table carries (``rank_uncertainty(...).table``), in order."""
    base = ["score_low", "score_high", "rank_low", "rank_high"]
    if not all(c in influence.columns for c in base):
        return []
    return base + [c for c in influence.columns if c.startswith("p_top_")]


def _check_influence(influence: pl.DataFrame, topics: list[str]) -> pl.DataFrame:
    missing = [c for c in INFLUENCE_COLUMNS if c not in influence.columns]
    if missing:
        raise GraphkitError(
            f"the influence table lacks column(s) {missing}; pass topic_influence(...).table "
            f"or a table with columns {list(INFLUENCE_COLUMNS)}"
        )
    try:
        table = influence.select(*(pl.col(c).cast(t) for c, t in INFLUENCE_COLUMNS.items()),
                                 *_uncertainty_present(influence))
    except Exception as exc:  # polars raises several types for impossible casts
        raise GraphkitError(f"the influence table has a column of the wrong type ({str(exc).splitlines()[0]}); "
                            f"expected {INFLUENCE_COLUMNS}") from None
    absent = [t for t in topics if t not in set(table["topic"].unique().to_list())]
    if absent:
        raise GraphkitError(f"the influence table has no rows for topic(s) {absent}; compute influence on them first")
    return table.filter(pl.col("topic").is_in(topics))


def influential_loyal_customers(
    graph: TopicGraph,
    *,
    topics: str | Sequence[str],
    influence: pl.DataFrame | None = None,
    score: str = DEFAULT_SCORE,
    top_percentile: float = 10.0,
    min_loyalty: float = 0.5,
    as_of: dt.datetime | dt.date | str | None = None,
    window_days: float | None = None,
    limit: int | None = None,
    uncertainty: int | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Customers in the top influence percentile on a topic whose loyalty is at least a threshold.

    A person qualifies on topic *t* when they are a customer, their influence
    ``percentile`` on *t* is above ``100 - top_percentile`` (``top_percentile=10``
    keeps the top 10 %), and their :func:`loyalty` score is at least
    ``min_loyalty`` (0..1). Qualifying people are ranked within each topic by
    ``fit = percentile / 100 * loyalty_score`` (influence and loyalty
    together, never influence alone), then by influence ``score``, then by
    ``person_id``; ``loyal_rank`` is that position (1 = best). ``limit`` keeps
    the first ``limit`` rows of each topic.

    ``influence`` is a precomputed table with the columns of
    ``topic_influence(...).table`` (:data:`INFLUENCE_COLUMNS`); when None the
    score named by ``score`` is computed on ``topics`` (default
    :data:`~graphkit.scoring.registry.DEFAULT_SCORE`; the choices and the
    fallback are in :mod:`graphkit.scoring.registry`).
    Returns :data:`RESULT_COLUMNS`, sorted by topic then ``loyal_rank``.

    ``uncertainty=N`` (bootstrap resamples of the evidence, seeded by
    ``seed``; see :func:`graphkit.scoring.registry.rank_uncertainty`) adds how
    sure each influence rank is: ``score_low``, ``score_high``, ``rank_low``,
    ``rank_high`` (90 % intervals over resamples), ``p_top_1`` and
    ``p_top_10``. An ``influence`` table that already has these columns
    (``rank_uncertainty(...).table``, or a score run written with
    ``--uncertainty``) passes them through.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(
    ...     pl.DataFrame({"person_id": ["ann", "bob", "cat"], "customer_id": ["c1", "c2", None]}),
    ...     pl.DataFrame({"src": ["bob", "cat"], "dst": ["ann", "ann"], "kind": ["follows", "follows"]}),
    ...     items=pl.DataFrame({"item_id": ["pan"], "topic": ["cooking"]}),
    ...     transactions=pl.DataFrame({"customer_id": ["c1", "c1", "c2"], "item_id": ["pan"] * 3,
    ...         "amount": [10.0, 5.0, 1.0], "ts": ["2024-01-01", "2024-01-31", "2024-01-21"]}),
    ... )
    >>> infl = pl.DataFrame({"person_id": ["ann", "bob", "cat"], "topic": ["cooking"] * 3,
    ...     "score": [0.6, 0.3, 0.1], "rank": [1, 2, 3], "percentile": [100.0, 66.7, 33.3],
    ...     "audience": [2, 0, 0], "active_audience": [0, 0, 0], "credibility": [1.0, None, None]})
    >>> influential_loyal_customers(g, topics="cooking", influence=infl, top_percentile=50,
    ...     min_loyalty=0.5).select("loyal_rank", "person_id", "fit", "frequency").rows()
    [(1, 'ann', 0.5, 2)]
    """
    topic_list = check_query_arguments(topics, top_percentile, min_loyalty, limit)
    if influence is None:
        for t in topic_list:
            graph.topic_of(t)  # unknown topics raise with the list of choices
        influence = score_table(graph, score=score, topics=topic_list, uncertainty=uncertainty, seed=seed)
    elif uncertainty is not None and not _uncertainty_present(influence):
        raise GraphkitError("uncertainty= needs the score computed here (influence=None), or an influence table "
                            "with the bootstrap columns: pass rank_uncertainty(graph, ...).table")
    infl = _check_influence(influence, topic_list)
    extra = _uncertainty_present(infl)
    loyal = loyalty(graph, as_of=as_of, window_days=window_days)
    customers = graph.people.filter(pl.col("customer_id").is_not_null()).select("person_id", "customer_id")
    out = (
        infl.filter(pl.col("percentile") > 100.0 - top_percentile)
        .join(customers, on="person_id", how="inner")
        .join(loyal.drop("person_id"), on="customer_id", how="inner")
        .filter(pl.col("loyalty_score") >= min_loyalty)
        .with_columns((_div(pl.col("percentile"), 100.0) * pl.col("loyalty_score")).alias("fit"))
        .sort(["topic", "fit", "score", "person_id"], descending=[False, True, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("topic").alias("loyal_rank"))
    )
    if limit is not None:
        out = out.filter(pl.col("loyal_rank") <= limit)
    return out.select(*RESULT_COLUMNS, *extra)
