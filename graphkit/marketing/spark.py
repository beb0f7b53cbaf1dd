"""Loyalty and the influential-loyal-customers query on Apache Spark, in Spark SQL.

:func:`spark_loyalty` and :func:`spark_influential_loyal_customers` follow
:mod:`graphkit.marketing.loyalty` definition by definition (recency,
frequency as distinct orders with a null order an order of its own,
monetary, tenure, quintile scores with ties at the lowest rank, the loyalty
score; then the top percentile, the loyalty threshold and ``fit``) and return
the embedded rows. The ranking score is computed on Spark too
(:func:`graphkit.scoring.spark_ranking.spark_ranking`, which follows the
registry and refuses a score Spark does not compute).

Days are integer microseconds divided once by a day's microseconds, as
embedded. One difference can show: ``monetary`` is a sum of amounts, and
floating-point sums depend on their order; Spark's and polars' orders differ,
so ``monetary`` can differ in its last bit (never on data without prices,
such as Ciao; see the tests).

>>> sorted(LOYALTY_TYPES)[:2]
['f_score', 'frequency']
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.io.spark import graph_frames, spark_session, to_polars, to_spark
from graphkit.marketing.loyalty import (
    INFLUENCE_COLUMNS,
    LOYALTY_COLUMNS,
    RESULT_COLUMNS,
    check_query_arguments,
    check_window,
    resolve_as_of,
)
from graphkit.model.graph import TopicGraph
from graphkit.scoring.registry import DEFAULT_SCORE
from graphkit.scoring.spark_ranking import as_micros, micros, spark_ranking

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession

_US_PER_DAY = 86_400_000_000.0
#: Embedded types of the loyalty columns Spark types differently.
LOYALTY_TYPES: dict[str, pl.DataType] = {"frequency": pl.Int64(), "r_score": pl.Int8(), "f_score": pl.Int8(),
                                         "m_score": pl.Int8()}
#: Embedded types of the query's columns Spark has no type for (unsigned).
RESULT_TYPES: dict[str, pl.DataType] = {"loyal_rank": pl.UInt32(), "rank": pl.UInt32(), "audience": pl.UInt32(),
                                        "active_audience": pl.UInt32(), **LOYALTY_TYPES}


def quantile_score(value: Column) -> Column:
    """Quintile score 1..5 of ``value`` over all rows (higher is better): ``1 + floor(5 * below / n)``; nulls stay null."""
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    below = F.rank().over(W.orderBy(value.asc_nulls_last())) - 1  # rows strictly lower (ties: the lowest rank)
    n = F.count(value).over(W.partitionBy())
    return F.when(value.isNotNull(), (F.lit(1) + F.floor(F.lit(5) * below / n)).cast("byte"))


def _as_of_micros(frames: dict[str, DataFrame], graph: TopicGraph,
                  as_of: dt.datetime | dt.date | str | None) -> int:
    from pyspark.sql import functions as F

    if as_of is not None:
        return as_micros(resolve_as_of(graph, as_of))
    last = frames["transactions"].agg(F.max(micros(F.col("ts"))).alias("m")).first()["m"]
    if last is None:
        return as_micros(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))  # nothing bought: no rows, whatever the date
    return int(last)


def spark_loyalty(
    graph: TopicGraph,
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    window_days: float | None = None,
    spark: SparkSession | None = None,
    frames: dict[str, DataFrame] | None = None,
) -> DataFrame:
    """:func:`graphkit.marketing.loyalty.loyalty` in Spark SQL: one row per customer, :data:`LOYALTY_COLUMNS`.

    ``frames`` are the graph's tables in Spark (:func:`graphkit.io.spark.graph_frames`;
    sent from ``graph`` by default). Collect with :func:`collect_loyalty`
    for the embedded types and order.
    """
    from pyspark.sql import functions as F

    check_window(window_days)
    spark = spark or spark_session()
    frames = frames if frames is not None else graph_frames(graph, spark)
    now = _as_of_micros(frames, graph, as_of)
    tx = frames["transactions"].withColumn("us", micros(F.col("ts"))).filter(F.col("us") <= F.lit(now))
    if window_days is not None:
        start = as_micros(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=now)
                          - dt.timedelta(days=window_days))
        inside = F.col("us") > F.lit(start)
    else:
        inside = F.lit(True)
    tx = tx.withColumn("_in", inside)
    per = (tx.groupBy("customer_id")
           .agg(F.max(F.when(F.col("_in"), F.col("us"))).alias("_last"),
                F.min("us").alias("_first"),
                # distinct orders, and every line without an order as an order of its own
                (F.countDistinct(F.when(F.col("_in"), F.col("order_id")))
                 + F.count(F.when(F.col("_in") & F.col("order_id").isNull(), F.lit(1)))).cast("long").alias("frequency"),
                F.sum(F.when(F.col("_in"), F.col("amount"))).alias("_sum"),
                F.count(F.when(F.col("_in"), F.col("amount"))).alias("_known"))
           .filter(F.col("_last").isNotNull()))
    people = frames["people"].filter(F.col("customer_id").isNotNull()).select("customer_id", "person_id")

    def days(us: Column) -> Column:
        return (F.lit(now) - us).cast("double") / F.lit(_US_PER_DAY)

    out = (per.join(people, "customer_id", "left")
           .select("customer_id", "person_id", days(F.col("_last")).alias("recency_days"), "frequency",
                   F.when(F.col("_known") > 0, F.col("_sum")).alias("monetary"),
                   days(F.col("_first")).alias("tenure_days"),
                   quantile_score(F.col("_last")).alias("r_score"),
                   quantile_score(F.col("frequency")).alias("f_score"),
                   quantile_score(F.when(F.col("_known") > 0, F.col("_sum"))).alias("m_score")))
    r, f, m = (F.col(c).cast("long") for c in ("r_score", "f_score", "m_score"))
    score = F.when(F.col("m_score").isNull(), (r + f - 2).cast("double") / F.lit(8.0)) \
        .otherwise((r + f + m - 3).cast("double") / F.lit(12.0))
    return out.withColumn("loyalty_score", score).select(*LOYALTY_COLUMNS)


def collect_loyalty(frame: DataFrame) -> pl.DataFrame:
    """A :func:`spark_loyalty` frame on the driver, with the embedded types, sorted by ``customer_id``."""
    table = to_polars(frame.orderBy("customer_id"))
    return table.with_columns(pl.col(c).cast(t) for c, t in LOYALTY_TYPES.items()).select(LOYALTY_COLUMNS)


def spark_influential_loyal_customers(
    graph: TopicGraph,
    *,
    topics: str | Sequence[str],
    influence: pl.DataFrame | DataFrame | None = None,
    score: str = DEFAULT_SCORE,
    top_percentile: float = 10.0,
    min_loyalty: float = 0.5,
    as_of: dt.datetime | dt.date | str | None = None,
    window_days: float | None = None,
    limit: int | None = None,
    strategy: str = "auto",
    partitions: int | None = None,
    spark: SparkSession | None = None,
    frames: dict[str, DataFrame] | None = None,
) -> pl.DataFrame:
    """:func:`graphkit.marketing.loyalty.influential_loyal_customers` run in Spark SQL: the same rows.

    ``influence`` is a score table (polars, or a Spark DataFrame with
    :data:`~graphkit.marketing.loyalty.INFLUENCE_COLUMNS`); when None the
    score ``score`` is computed on Spark by :func:`~graphkit.scoring.spark_ranking.spark_ranking`
    (with its fallback; a score Spark does not compute is refused). The
    answer (few rows) is returned on the driver: :data:`RESULT_COLUMNS` with
    the embedded types, sorted by topic then ``loyal_rank``.
    """
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    chosen = check_query_arguments(topics, top_percentile, min_loyalty, limit)
    spark = spark or spark_session()
    frames = frames if frames is not None else graph_frames(graph, spark)
    if influence is None:
        for t in chosen:
            graph.topic_of(t)  # unknown topics raise with the list of choices
        infl = spark_ranking(graph, score=score, topics=chosen, strategy=strategy, partitions=partitions,
                             spark=spark, frames=frames).table
    elif isinstance(influence, SparkFrame):
        infl = influence
    elif isinstance(influence, pl.DataFrame):
        infl = to_spark(influence.select(*(c for c in INFLUENCE_COLUMNS if c in influence.columns)), spark)
    else:
        raise GraphkitError(f"influence must be a polars or Spark DataFrame, or None; got {type(influence).__name__}")
    missing = [c for c in INFLUENCE_COLUMNS if c not in infl.columns]
    if missing:
        raise GraphkitError(f"the influence table lacks column(s) {missing}; pass a score table with columns "
                            f"{list(INFLUENCE_COLUMNS)}")
    infl = infl.filter(F.col("topic").isin(chosen))
    present = {r["topic"] for r in infl.select("topic").distinct().collect()}
    absent = [t for t in chosen if t not in present]
    if absent:
        raise GraphkitError(f"the influence table has no rows for topic(s) {absent}; compute influence on them first")
    loyal = spark_loyalty(graph, as_of=as_of, window_days=window_days, spark=spark, frames=frames)
    customers = frames["people"].filter(F.col("customer_id").isNotNull()).select("person_id", "customer_id")
    out = (infl.filter(F.col("percentile") > F.lit(100.0 - top_percentile))
           .join(customers, "person_id")
           .join(loyal.drop("person_id"), "customer_id")
           .filter(F.col("loyalty_score") >= F.lit(float(min_loyalty)))
           .withColumn("fit", (F.col("percentile") / F.lit(100.0)) * F.col("loyalty_score")))
    order = W.partitionBy("topic").orderBy(F.col("fit").desc(), F.col("score").desc(), F.col("person_id").asc())
    out = out.withColumn("loyal_rank", F.row_number().over(order))
    if limit is not None:
        out = out.filter(F.col("loyal_rank") <= limit)
    rows = to_polars(out.select(*RESULT_COLUMNS))
    return (rows.with_columns(pl.col(c).cast(t) for c, t in RESULT_TYPES.items() if c in rows.columns)
            .sort("topic", "loyal_rank").select(RESULT_COLUMNS))
