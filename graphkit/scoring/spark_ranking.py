"""The registry's ranking scores on Apache Spark, in Spark SQL: the tables :func:`~graphkit.scoring.registry.ranking` gives.

:func:`spark_ranking` follows :mod:`graphkit.scoring.registry`: the score asked
for (default :data:`~graphkit.scoring.registry.DEFAULT_SCORE`), its fallback
where the data cannot support it, the same columns, the same rows. Two scores
run on Spark (:data:`SPARK_SCORES`):

* ``"posts_x_active_new_followers"`` -- computed in Spark SQL from the
  graph's tables (acts in the year before now, first adoptions, follows, the
  active followers still new to each topic), ranked per topic with window
  functions (ties within 1e-9 relative, broken by ``person_id``; percentiles
  at the floor of the tie), with audience, active audience and credibility
  as :func:`~graphkit.model.topics.topic_structure` counts them. Nothing but a
  few scalars (the data's last date, the distinct activity counts) reaches
  the driver. ``log1p`` is numpy's (Java's differs in the last bit) and sums
  of weights are taken in the graph's edge order, so the numbers are the
  embedded ones bit for bit;
* ``"topic_influence"`` -- the Spark engine of
  :func:`~graphkit.scoring.influence.topic_influence` (:mod:`graphkit.scoring.spark`).

Any other score (or a default changed to one Spark does not compute) is
refused with a clear error, never replaced by another.

>>> "posts_x_active_new_followers" in SPARK_SCORES
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.io.spark import graph_frames, spark_session, to_polars, to_spark
from graphkit.model.graph import ACTIVITY_KINDS, PERSON_KINDS, TopicGraph
from graphkit.model.topics import Window, normalize_window, topic_list
from graphkit.scoring.registry import DEFAULT_SCORE, FALLBACK_SCORE, Ranking, check_score, fallback_note

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession

#: Scores :func:`spark_ranking` computes on Spark.
SPARK_SCORES: tuple[str, ...] = ("posts_x_active_new_followers", "topic_influence")
#: Scores closer than this (relative) are ties, as in the embedded tables of these scores.
TIE_REL = 1e-9
#: "Recent" for the default score: the year before now (:data:`graphkit.scoring.baselines.RECENT`).
RECENT_DAYS = 365
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Spark types of the score columns whose embedded type Spark lacks, and that type.
_UNSIGNED = {"rank": pl.UInt32, "audience": pl.UInt32, "active_audience": pl.UInt32}
_COLUMNS = ("person_id", "topic", "score", "rank", "percentile", "audience", "active_audience", "credibility")


class _NotHere(GraphkitError):
    """This score cannot be computed on this data (as the registry's: no dates, every score 0)."""


@dataclass(frozen=True)
class SparkRanking:
    """A score table as a Spark DataFrame, and how it was made (the fields of a registry :class:`Ranking`).

    ``table`` has the registry's columns (``rank``, ``audience`` and
    ``active_audience`` as Spark integers: Spark has no unsigned type);
    :meth:`collect` gives the embedded :class:`~graphkit.scoring.registry.Ranking`.
    """

    table: DataFrame
    score: str
    requested: str
    fallback: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        """One line saying which score ranks people instead of the one asked for (None without a fallback)."""
        return fallback_note(self.requested, self.score, self.fallback)

    def collect(self) -> Ranking:
        """The table on the driver with the embedded types, in the embedded order (topic, then person)."""
        table = to_polars(self.table.orderBy("_topic_pos", "_person_row")).select(
            *(pl.col(c).cast(_UNSIGNED[c]) if c in _UNSIGNED else pl.col(c) for c in _COLUMNS))
        return Ranking(table=table, score=self.score, requested=self.requested, fallback=self.fallback,
                       parameters=self.parameters)


def check_spark_score(score: str) -> str:
    """``score`` if Spark computes it; otherwise an error saying so and which engine does.

    >>> check_spark_score("topic_influence")
    'topic_influence'
    """
    check_score(score)
    if score not in SPARK_SCORES:
        raise GraphkitError(f"the score {score!r} is not available on Spark (it computes {', '.join(SPARK_SCORES)}); "
                            f"use --engine batched (engine='batched') to compute it on this machine, or pass "
                            f"--score with one of those")
    return score


def spark_ranking(
    graph: TopicGraph,
    *,
    score: str = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    strategy: str = "auto",
    partitions: int | None = None,
    spark: SparkSession | None = None,
    frames: dict[str, DataFrame] | None = None,
) -> SparkRanking:
    """``score`` on ``topics`` computed on Spark: :func:`graphkit.scoring.registry.ranking`'s table, as a Spark DataFrame.

    Same arguments and fallback as :func:`~graphkit.scoring.registry.ranking`
    (when the default cannot be computed, :data:`~graphkit.scoring.registry.FALLBACK_SCORE`
    ranks instead and ``fallback`` says why); ``strategy`` and ``partitions``
    are those of the Spark topic-influence engine. ``frames`` are the graph's
    tables already in Spark (:func:`graphkit.io.spark.graph_frames`); by
    default they are sent from ``graph``. A score Spark does not compute
    (not in :data:`SPARK_SCORES`) is refused, naming the engine that does.
    """
    check_spark_score(score)
    chosen = None if topics is None else topic_list(graph, topics)
    spark = spark or spark_session()
    frames = frames if frames is not None else graph_frames(graph, spark)
    args = dict(graph=graph, topics=chosen, window=window, spark=spark, frames=frames, strategy=strategy,
                partitions=partitions)
    fallback = None
    try:
        table, extra = _COMPUTE[score](**args)
    except _NotHere as exc:
        if score != DEFAULT_SCORE:
            raise GraphkitError(f"{exc}; rank by --score {FALLBACK_SCORE}") from None
        check_spark_score(FALLBACK_SCORE)
        fallback = str(exc)
        table, extra = _COMPUTE[FALLBACK_SCORE](**args)
    used = score if fallback is None else FALLBACK_SCORE
    return SparkRanking(table=table, score=used, requested=score, fallback=fallback,
                        parameters={"score": used, "score_requested": score, "score_fallback": fallback,
                                    "engine": "spark", **extra})


# ------------------------------------------------------------------ the pieces, in Spark SQL
def micros(ts: Column) -> Column:
    """Microseconds since the epoch of a Spark timestamp (exact; no time zone involved)."""
    from pyspark.sql import functions as F

    return F.unix_micros(ts)


def as_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime.

    >>> as_micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    1000000
    """
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch.

    >>> from_micros(1_000_000).isoformat()
    '1970-01-01T00:00:01+00:00'
    """
    return _EPOCH + timedelta(microseconds=int(us))


def dated_in(us: Column, start: datetime | None, end: datetime | None) -> Column:
    """``start <= ts < end`` on microseconds; undated rows pass only without bounds (:func:`graphkit.model.graph.dated_in`)."""
    from pyspark.sql import functions as F

    cond = F.lit(True)
    if start is not None:
        cond = cond & (us >= F.lit(as_micros(start)))
    if end is not None:
        cond = cond & (us < F.lit(as_micros(end)))
    return F.coalesce(cond, F.lit(False))


def acts(frames: dict[str, DataFrame]) -> DataFrame:
    """Every act of a person on a topic: ``person_row``, ``topic``, ``us`` (null when undated).

    Contributions labelled with a topic (:data:`~graphkit.model.graph.ACTIVITY_KINDS`)
    and purchases of an item with a topic, a purchase reviewed by its buyer
    at the same moment counted once (as the review): the acts of
    :meth:`graphkit.model.graph.TopicGraph.activity`.
    """
    from pyspark.sql import functions as F

    people = frames["people"].select(F.col("person_id"), F.col("row").alias("person_row"), "customer_id")
    edges = frames["edges"]
    contributed = (edges.filter(F.col("kind").isin(list(ACTIVITY_KINDS)) & F.col("topic").isNotNull())
                   .join(people.select(F.col("person_id").alias("src"), "person_row"), "src")
                   .select("person_row", "topic", micros(F.col("ts")).alias("us")))
    reviewed = (edges.filter(F.col("kind") == "reviews")
                .select(F.col("src"), F.col("dst").alias("item_id"), micros(F.col("ts")).alias("us")).distinct()
                .join(people.select(F.col("person_id").alias("src"), "person_row"), "src")
                .select("person_row", "item_id", "us"))
    items = frames["items"].filter(F.col("topic").isNotNull()).select("item_id", "topic")
    bought = (frames["transactions"].select("customer_id", "item_id", micros(F.col("ts")).alias("us"))
              .join(people.filter(F.col("customer_id").isNotNull()).select("customer_id", "person_row"),
                    "customer_id")
              .join(items, "item_id"))
    # purchases are always dated, so a reviewed one matches on plain equality of (buyer, item, moment)
    bought = bought.join(reviewed, ["person_row", "item_id", "us"], "left_anti").select("person_row", "topic", "us")
    return contributed.unionByName(bought)


def data_facts(frames: dict[str, DataFrame]) -> tuple[int | None, bool]:
    """In one Spark job: microseconds just after the latest dated edge or purchase (None when nothing is
    dated; :func:`graphkit.scoring.reach.data_end`), and whether an event (an edge other than a follow) is undated."""
    from pyspark.sql import functions as F

    edges = frames["edges"].agg(F.max(micros(F.col("ts"))).alias("e"),
                                F.count(F.when(F.col("ts").isNull() & (F.col("kind") != "follows"), 1)).alias("u"))
    row = edges.crossJoin(frames["transactions"].agg(F.max(micros(F.col("ts"))).alias("t"))).first()
    last = [x for x in (row["e"], row["t"]) if x is not None]
    return (max(last) + 1 if last else None), row["u"] > 0


def structure_end(facts: tuple[int | None, bool], end: datetime | None) -> datetime | None:
    """:func:`graphkit.model.topics.open_end`: None when a window ending at ``end`` counts what an open one counts."""
    last, undated = facts
    if end is None:
        return None
    return None if last is not None and last - 1 < as_micros(end) and not undated else end


def follows(frames: dict[str, DataFrame], end: datetime | None) -> DataFrame:
    """Distinct ``(follower, leader)`` rows of the follows made before ``end`` (undated ones always), no self-follow."""
    from pyspark.sql import functions as F

    made = F.col("ts").isNull() | dated_in(micros(F.col("ts")), None, end)
    rows = frames["people"].select("person_id", "row")
    return (frames["edges"].filter((F.col("kind") == "follows") & made)
            .join(rows.select(F.col("person_id").alias("src"), F.col("row").alias("follower")), "src")
            .join(rows.select(F.col("person_id").alias("dst"), F.col("row").alias("leader")), "dst")
            .filter(F.col("follower") != F.col("leader"))
            .select("follower", "leader").distinct())


def ordered_sum(values: Column, order: Column) -> Column:
    """The sum of ``values`` taken in ``order`` (an aggregate): the float result of a sequential loop, not Spark's."""
    from pyspark.sql import functions as F

    items = F.array_sort(F.collect_list(F.struct(order.alias("o"), values.alias("v"))))
    return F.aggregate(items, F.lit(0.0), lambda acc, x: acc + x["v"])


def audiences(frames: dict[str, DataFrame], start: datetime | None, end: datetime | None,
              all_acts: DataFrame) -> DataFrame:
    """``person_row, audience, active_audience``: followers, and those active in ``[start, end)`` (topic_structure's)."""
    from pyspark.sql import functions as F

    active = all_acts.filter(dated_in(F.col("us"), start, end)).select(F.col("person_row").alias("follower")) \
        .distinct().withColumn("is_active", F.lit(1))
    return (follows(frames, end).join(active, "follower", "left")
            .groupBy(F.col("leader").alias("person_row"))
            .agg(F.count(F.lit(1)).alias("audience"), F.count("is_active").alias("active_audience")))


def credibility(frames: dict[str, DataFrame], topics: list[str], start: datetime | None,
                end: datetime | None) -> DataFrame:
    """``person_row, topic, credibility``: positive share of the weight of the labelled attention received."""
    from pyspark.sql import functions as F

    rows = frames["people"].select("person_id", "row")
    e = frames["edges"]
    referred = F.col("kind") == "referred"
    events = (e.filter(F.col("kind").isin([k for k in PERSON_KINDS if k != "follows"]) & F.col("topic").isin(topics)
                       & dated_in(micros(F.col("ts")), start, end))
              .join(rows.select(F.col("person_id").alias("src"), F.col("row").alias("src_row")), "src")
              .join(rows.select(F.col("person_id").alias("dst"), F.col("row").alias("dst_row")), "dst")
              .select(F.when(referred, F.col("dst_row")).otherwise(F.col("src_row")).alias("giver"),
                      F.when(referred, F.col("src_row")).otherwise(F.col("dst_row")).alias("person_row"),
                      "topic", F.col("weight").cast("double").alias("w"), F.col("sign"), F.col("row"))
              .filter(F.col("giver") != F.col("person_row")))
    return (events.groupBy("person_row", "topic")
            .agg(ordered_sum(F.col("w"), F.col("row")).alias("received"),
                 ordered_sum(F.when(F.col("sign") > 0, F.col("w")).otherwise(F.lit(0.0)), F.col("row")).alias("pos"))
            .select("person_row", "topic",
                    F.when(F.col("received") > 0, F.col("pos") / F.col("received")).alias("credibility")))


def ranked(scores: DataFrame, n_people: int, *, tie_rel: float = TIE_REL) -> DataFrame:
    """Add ``rank`` and ``percentile`` per topic, exactly as :func:`graphkit.scoring.influence.influence_table`.

    ``scores`` has ``topic``, ``person_id``, ``score`` for every person on
    each topic. Scores within ``tie_rel`` (relative) of their neighbour in
    descending order are ties, ranked by ``person_id``; the percentile is
    ``100 * (1 - (last - 1) / n)`` with ``last`` the lowest rank of the
    person's tie (:func:`~graphkit.scoring.influence.tie_floor_percentiles`).
    """
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    def groups(order: list[Column]) -> tuple[Column, Any]:
        w = W.partitionBy("topic").orderBy(*order)
        prev = F.lag("score").over(w)
        new = F.when(prev.isNull() | ((prev - F.col("score")) > F.lit(tie_rel) * prev), 1).otherwise(0)
        return new, w

    new, w = groups([F.col("score").desc(), F.col("person_id").asc()])
    out = scores.withColumn("_new", new).withColumn(
        "_group", F.sum("_new").over(w.rowsBetween(W.unboundedPreceding, W.currentRow)))
    out = out.withColumn("rank", F.row_number().over(W.partitionBy("topic").orderBy("_group", "person_id")))
    new, w = groups([F.col("rank").asc()])  # the tie groups again, in rank order (as the percentiles take them)
    out = out.withColumn("_new", new).withColumn(
        "_group", F.sum("_new").over(w.rowsBetween(W.unboundedPreceding, W.currentRow)))
    out = out.withColumn("_last", F.max("rank").over(W.partitionBy("topic", "_group")))
    percentile = F.lit(100.0) * (F.lit(1.0) - (F.col("_last").cast("double") - F.lit(1.0)) / F.lit(float(n_people)))
    return out.withColumn("percentile", percentile).drop("_new", "_group", "_last")


def score_table(frames: dict[str, DataFrame], topics: list[str], values: DataFrame, *, n_people: int,
                start: datetime | None, end: datetime | None, all_acts: DataFrame, spark: SparkSession) -> DataFrame:
    """Every person x topic with ``values`` (``person_row, topic, score``; others 0), ranked, with audience and credibility."""
    from pyspark.sql import functions as F

    people = frames["people"].select("person_id", F.col("row").alias("person_row"))
    topic_rows = spark.createDataFrame([(t, k) for k, t in enumerate(topics)], "topic string, _topic_pos int")
    grid = (people.crossJoin(F.broadcast(topic_rows))
            .join(values, ["person_row", "topic"], "left")
            .withColumn("score", F.coalesce(F.col("score"), F.lit(0.0))))
    table = (ranked(grid, n_people)
             .join(audiences(frames, start, end, all_acts), "person_row", "left")
             .join(credibility(frames, topics, start, end), ["person_row", "topic"], "left"))
    return table.select(
        "person_id", "topic", "score", F.col("rank").cast("int").alias("rank"), "percentile",
        F.coalesce(F.col("audience"), F.lit(0)).cast("int").alias("audience"),
        F.coalesce(F.col("active_audience"), F.lit(0)).cast("int").alias("active_audience"),
        "credibility", "_topic_pos", F.col("person_row").alias("_person_row"))


def numpy_log1p(frame: DataFrame, column: str, spark: SparkSession) -> DataFrame:
    """``frame`` with ``log1p_<column>`` computed by numpy (on the distinct counts only: few values).

    Java's ``log1p`` differs from numpy's in the last bit for some integers;
    the embedded score uses numpy's.
    """
    from pyspark.sql import functions as F

    counts = np.array(sorted(r[0] for r in frame.select(column).distinct().collect()), dtype=np.int64)
    lookup = spark.createDataFrame([(int(c), float(v)) for c, v in zip(counts, np.log1p(counts.astype(np.float64)))],
                                   f"{column} long, log1p_{column} double")
    return frame.join(F.broadcast(lookup), column)


# ------------------------------------------------------------------ the scores
def _posts_x_active_new_followers(*, graph: TopicGraph, topics: list[str] | None, window: Window | None,
                                  spark: SparkSession, frames: dict[str, DataFrame], **_: Any
                                  ) -> tuple[DataFrame, dict[str, Any]]:
    from pyspark.sql import functions as F

    start, end = normalize_window(window)
    facts = data_facts(frames)
    if end is None:
        last = facts[0]
        if last is None:
            raise _NotHere("the data has no dates, and this score counts what happened in the year before now")
        now = from_micros(last)
    else:
        now = end
    chosen = list(graph.topics) if topics is None else topics
    if not chosen:
        raise GraphkitError("the data has no topic (no item, community or contribution names one), so there is "
                            "nothing to rank people on; give items a topic or label contributions with one")
    every = acts(frames).cache()
    recent = every.filter(dated_in(F.col("us"), now - timedelta(days=RECENT_DAYS), now))
    posts = (recent.filter(F.col("topic").isin(chosen)).groupBy("person_row", "topic")
             .agg(F.count(F.lit(1)).alias("posts")))
    active = recent.select(F.col("person_row").alias("follower")).distinct()
    adopted = (every.filter(F.col("us").isNotNull() & (F.col("us") < F.lit(as_micros(now)))
                            & F.col("topic").isin(chosen))
               .select(F.col("person_row").alias("follower"), "topic").distinct())
    live = follows(frames, now).join(active, "follower")  # followers active in the year before now
    active_followers = live.groupBy(F.col("leader").alias("person_row")).agg(F.count(F.lit(1)).alias("n_active"))
    not_new = (live.join(adopted, "follower").groupBy(F.col("leader").alias("person_row"), "topic")
               .agg(F.count(F.lit(1)).alias("n_adopted")))
    new_active = (posts.join(active_followers, "person_row")
                  .join(not_new, ["person_row", "topic"], "left")
                  .select("person_row", "topic", "posts",
                          (F.col("n_active") - F.coalesce(F.col("n_adopted"), F.lit(0))).cast("double").alias("naf"))
                  .filter(F.col("naf") > 0))
    new_active = new_active.localCheckpoint(eager=True)  # small (people active lately with new followers): kept
    if new_active.isEmpty():
        every.unpersist()
        what = "these topics" if len(chosen) > 1 else repr(chosen[0])
        raise _NotHere(f"nobody active on {what} in the year before {now:%Y-%m-%d} has an active follower "
                       "new to it, so every score would be 0")
    values = (numpy_log1p(new_active, "posts", spark)
              .select("person_row", "topic", (F.col("log1p_posts") * F.col("naf")).alias("score")))
    s_end = structure_end(facts, now)
    table = score_table(frames, chosen, values, n_people=graph.n_people, start=start, end=s_end, all_acts=every,
                        spark=spark)
    return table, {"now": now.isoformat(), "recent_days": RECENT_DAYS}


def _topic_influence(*, graph: TopicGraph, topics: list[str] | None, window: Window | None, spark: SparkSession,
                     frames: dict[str, DataFrame], strategy: str, partitions: int | None
                     ) -> tuple[DataFrame, dict[str, Any]]:
    from pyspark.sql import functions as F

    from graphkit.scoring.influence import topic_influence

    res = topic_influence(graph, topics=topics, window=window, engine="spark", strategy=strategy,
                          partitions=partitions)
    names = res.parameters["topics"]
    pos = {t: k for k, t in enumerate(names)}
    table = res.table.with_columns(
        pl.col("topic").replace_strict(pos, return_dtype=pl.Int32).alias("_topic_pos"),
        pl.int_range(pl.len(), dtype=pl.Int64).over("topic").alias("_person_row"))
    frame = to_spark(table, spark)
    frame = frame.select(*(F.col(c) for c in _COLUMNS), "_topic_pos", "_person_row")
    return frame, {"damping_factor": res.parameters["damping_factor"], "iterations": res.iterations,
                   "converged": res.converged, "strategy": res.parameters["strategy"],
                   "partitions": res.parameters["partitions"]}


_COMPUTE = {
    "posts_x_active_new_followers": _posts_x_active_new_followers,
    "topic_influence": _topic_influence,
}
assert set(_COMPUTE) == set(SPARK_SCORES)
