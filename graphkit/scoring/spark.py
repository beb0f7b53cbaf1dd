"""Topic influence on Apache Spark: the same walk as the batched engine, run by Spark tasks.

Two strategies (``topic_influence(..., engine="spark", strategy=...)``):

* ``"topics"`` -- topics in parallel, for graphs that fit a worker. The
  driver broadcasts a compact form of the topics' shared structure (the
  general attention matrix as CSR, the per-topic activity, follow scaling and
  attention given as sparse rows, the labelled interactions); each task
  rebuilds the :class:`~graphkit.scoring.linalg.TopicSystem` of its share of
  the topics and solves it with graphkit's own solver
  (:func:`~graphkit.scoring.linalg.solve_ppr`). Topics are independent in that
  solver, so the scores are those of the batched engine, bit for bit.
* ``"iterations"`` -- for graphs whose walk does not fit a worker.
  The model is built in Spark SQL from the edge tables (activity,
  credibility, topic-conditioned follows, inactive accounts passing nothing,
  attention that passes nothing returning to the teleport vector), and
  personalised PageRank runs as DataFrame iterations: transition entries
  joined with the per-topic scores, aggregated per receiver, checkpointed
  every few iterations. It is a Jacobi iteration of the batched engine's
  system ``x = d P^T x + v``, normalised per topic at the end, so it reaches
  the same fixed point (tested to 1e-6), in more iterations than the batched
  engine's Gauss-Seidel sweeps.

``"auto"`` picks ``"topics"`` while the broadcast structure is below
:data:`BROADCAST_LIMIT` bytes, ``"iterations"`` above.

>>> plan_buckets(np.array([5.0, 1.0, 4.0, 2.0]), 2)
[[0, 1], [2, 3]]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.io.spark import spark_session, to_spark
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import TopicStructure
from graphkit.scoring.linalg import TopicSystem, solve_ppr

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession

#: Strategies of the Spark engine.
STRATEGIES: tuple[str, ...] = ("auto", "topics", "iterations")
#: Largest broadcast structure (bytes) for which ``"auto"`` picks ``"topics"``.
BROADCAST_LIMIT = 1 << 30
#: ``"iterations"``: scores are checkpointed (and convergence checked) every this many iterations.
CHECKPOINT_EVERY = 1
#: ``"iterations"``: up to this many (person, topic) scores are broadcast to the tasks rather than shuffled.
BROADCAST_STATES = 2_000_000

_RESULT_SCHEMA = "topic long, person long, score double, iterations long, residual double"


@dataclass(frozen=True)
class SparkSolution:
    """Scores (n x K float64) and, per topic: iterations, convergence, last L1 change; the strategy run."""

    scores: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    residuals: np.ndarray
    strategy: str
    partitions: int


def check_strategy(strategy: str) -> str:
    """``strategy`` if it is one of :data:`STRATEGIES`; otherwise a clear error with the choices."""
    if strategy not in STRATEGIES:
        raise GraphkitError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
    return strategy


def spark_scores(
    graph: TopicGraph,
    structure: TopicStructure,
    topic_idx: Sequence[int],
    *,
    strategy: str = "auto",
    partitions: int | None = None,
    damping_factor: float,
    max_iter: int,
    tol: float,
    spark: SparkSession | None = None,
) -> SparkSolution:
    """Personalised PageRank of the topics ``topic_idx`` on Spark (see the module notes).

    ``partitions`` is how many tasks share the work (default: the session's
    default parallelism). The active Spark session is used, or a local one
    is started (:func:`graphkit.io.spark.spark_session`).
    """
    check_strategy(strategy)
    if partitions is not None and (isinstance(partitions, bool) or int(partitions) != partitions or partitions < 1):
        raise GraphkitError(f"partitions must be a positive integer; got {partitions!r}")
    topic_idx = list(topic_idx)
    structure.restart(topic_idx)  # refuses topics nobody is active on, before Spark starts
    payload = compact_structure(structure, topic_idx)
    if strategy == "auto":
        strategy = "topics" if payload_bytes(payload) <= BROADCAST_LIMIT else "iterations"
    spark = spark or spark_session()
    parts = int(partitions or spark.sparkContext.defaultParallelism)
    if strategy == "topics":
        return _topics_in_parallel(spark, payload, parts, damping_factor, max_iter, tol)
    return _dataframe_iterations(spark, graph, structure, topic_idx, parts, damping_factor, max_iter, tol)


# ------------------------------------------------------------------ strategy "topics"
def compact_structure(structure: TopicStructure, topic_idx: Sequence[int]) -> dict[str, Any]:
    """What a task needs to build the walk of any of the topics ``topic_idx`` (columns in that order).

    Per-topic rows (activity, follow scaling, attention given) are sparse,
    since a person is active on few topics; the general matrix is CSR.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.model.topics import topic_structure
    >>> p = compact_structure(topic_structure(load_ciao()), [0, 1])
    >>> p["n"], p["activity"].shape, payload_bytes(p) < 4_000_000
    (7375, (2, 7375), True)
    """
    rows = list(topic_idx)
    col_of = np.full(len(structure.topics), -1, dtype=np.int64)
    col_of[rows] = np.arange(len(rows))
    col = col_of[structure.topical_topic]
    keep = col >= 0
    general = structure.general
    return {
        "n": structure.n_people,
        "general": (general.data, general.indices, general.indptr),  # scipy CSR order
        "activity": sp.csr_array(structure.activity_t[rows]),
        "scale": sp.csr_array(structure.follow_scale_t[rows]),
        "out": sp.csr_array(structure.out_weight_t[rows]),
        "topical": (structure.topical_src[keep], structure.topical_dst[keep], col[keep],
                    structure.topical_weight[keep]),
    }


def payload_bytes(payload: dict[str, Any]) -> int:
    """Bytes of the arrays in a :func:`compact_structure` (what each worker receives)."""
    total = sum(a.nbytes for a in payload["general"]) + sum(a.nbytes for a in payload["topical"])
    for name in ("activity", "scale", "out"):
        m = payload[name]
        total += m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    return int(total)


def plan_buckets(work: np.ndarray, n_buckets: int) -> list[list[int]]:
    """Split topics (by their ``work``) into at most ``n_buckets`` groups of similar total work.

    Largest first, each to the least-loaded group (ties: the lower group);
    topics within a group in ascending order; empty groups left out.
    Deterministic.
    """
    loads = np.zeros(max(1, min(n_buckets, len(work))))
    groups: list[list[int]] = [[] for _ in range(len(loads))]
    for k in np.argsort(-np.asarray(work, dtype=np.float64), kind="stable"):
        b = int(np.argmin(loads))
        groups[b].append(int(k))
        loads[b] += float(work[k])
    return [sorted(g) for g in groups if g]


def topic_work(payload: dict[str, Any]) -> np.ndarray:
    """Estimated solver work per topic column: entries of its transition (receivers' in-degrees plus labelled ones)."""
    _, indices, _ = payload["general"]
    indeg = np.bincount(indices, minlength=payload["n"]).astype(np.float64)
    scale = payload["scale"]
    per_topic = np.array([indeg[scale.indices[scale.indptr[k]:scale.indptr[k + 1]]].sum()
                          for k in range(scale.shape[0])])
    per_topic += np.bincount(payload["topical"][2], minlength=scale.shape[0])
    return per_topic + 1.0


def solve_columns(payload: dict[str, Any], cols: Sequence[int], *, damping_factor: float, max_iter: int,
                  tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the topic columns ``cols`` of a :func:`compact_structure` with :func:`solve_ppr`.

    Returns ``(column, person, score)`` of every positive score and the
    per-column iterations and residuals: what one Spark task sends back.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.model.topics import topic_structure
    >>> col, person, score, its, res = solve_columns(compact_structure(topic_structure(load_ciao()), [0]), [0],
    ...                                              damping_factor=0.85, max_iter=100, tol=1e-10)
    >>> round(float(score.sum()), 9), bool(res[0] < 1e-10)
    (1.0, True)
    """
    cols = list(cols)
    n = payload["n"]
    general = sp.csr_array(payload["general"], shape=(n, n))
    src, dst, col, w = payload["topical"]
    local = np.full(payload["activity"].shape[0], -1, dtype=np.int64)
    local[cols] = np.arange(len(cols))
    keep = local[col] >= 0
    system = TopicSystem.build(
        general, payload["scale"][cols].toarray(), (src[keep], dst[keep], local[col[keep]], w[keep]),
        restart=payload["activity"][cols].toarray(), out=payload["out"][cols].toarray(), topic_major=True,
    )
    sol = solve_ppr(system, damping_factor=damping_factor, max_iter=max_iter, tol=tol)
    person, k = np.nonzero(sol.scores)
    return np.asarray(cols, dtype=np.int64)[k], person.astype(np.int64), sol.scores[person, k], \
        sol.iterations.astype(np.int64), sol.residuals


def _bucket_batches(payload_bc: Any, buckets: list[list[int]], d: float, max_iter: int, tol: float,
                    batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    payload = payload_bc.value
    for batch in batches:
        for b in batch.column("bucket").to_pylist():
            cols = buckets[b]
            col, person, score, its, res = solve_columns(payload, cols, damping_factor=d, max_iter=max_iter, tol=tol)
            m = len(cols)
            yield pa.RecordBatch.from_pydict({
                "topic": pa.array(np.concatenate([col, cols]), pa.int64()),
                "person": pa.array(np.concatenate([person, np.zeros(m, np.int64)]), pa.int64(),
                                   mask=np.r_[np.zeros(len(person), bool), np.ones(m, bool)]),
                "score": pa.array(np.concatenate([score, np.zeros(m)]), pa.float64(),
                                  mask=np.r_[np.zeros(len(score), bool), np.ones(m, bool)]),
                "iterations": pa.array(np.concatenate([np.zeros(len(col), np.int64), its]), pa.int64(),
                                       mask=np.r_[np.ones(len(col), bool), np.zeros(m, bool)]),
                "residual": pa.array(np.concatenate([np.zeros(len(col)), res]), pa.float64(),
                                     mask=np.r_[np.ones(len(col), bool), np.zeros(m, bool)]),
            })


def _topics_in_parallel(spark: SparkSession, payload: dict[str, Any], partitions: int, d: float, max_iter: int,
                        tol: float) -> SparkSolution:
    from functools import partial

    buckets = plan_buckets(topic_work(payload), partitions)
    bc = spark.sparkContext.broadcast(payload)
    try:
        tasks = spark.range(len(buckets), numPartitions=len(buckets)).withColumnRenamed("id", "bucket")
        solve = partial(_bucket_batches, bc, buckets, float(d), int(max_iter), float(tol))
        rows = pl.from_arrow(tasks.mapInArrow(solve, _RESULT_SCHEMA).toArrow())
    finally:
        bc.destroy()
    k = payload["activity"].shape[0]
    scores = np.zeros((payload["n"], k))
    found = rows.filter(pl.col("person").is_not_null())
    scores[found["person"].to_numpy(), found["topic"].to_numpy()] = found["score"].to_numpy()
    meta = rows.filter(pl.col("person").is_null()).sort("topic")
    if meta.height != k:
        raise GraphkitError(f"Spark returned {meta.height} of {k} topics; a task was lost")
    residuals = meta["residual"].to_numpy()
    return SparkSolution(scores, meta["iterations"].to_numpy(), residuals < tol, residuals, "topics", len(buckets))


# ------------------------------------------------------------------ strategy "iterations"
def _dated(ts: Column, start: datetime | None, end: datetime | None) -> Column:
    """Spark's ``start <= ts < end``; undated rows pass only when there is no bound (as :func:`~graphkit.model.graph.dated_in`)."""
    from pyspark.sql import functions as F

    cond = F.lit(True)
    if start is not None:
        cond = cond & (ts >= F.lit(start))
    if end is not None:
        cond = cond & (ts < F.lit(end))
    return F.coalesce(cond, F.lit(False))


def spark_layers(spark: SparkSession, graph: TopicGraph, topic_idx: Sequence[int], *,
                 window: tuple[datetime | None, datetime | None] = (None, None),
                 partitions: int = 2) -> tuple[DataFrame, DataFrame]:
    """The walks of the topics ``topic_idx``, built in Spark SQL from the graph's edges.

    Returns ``(transition, teleport)``: ``transition`` has one row per
    passing attention entry ``(i, j, t, p)`` (probability that topic *t*'s
    walk moves from giver *i* to receiver *j*; ``t`` is the column in
    ``topic_idx``), ``teleport`` one row per active person and topic
    ``(i, t, v)`` (columns summing to 1). Same model as
    :func:`graphkit.model.topics.topic_structure`.
    """
    from pyspark.sql import functions as F

    start, end = window
    col_of = {int(t): k for k, t in enumerate(topic_idx)}
    col_map = F.create_map(*[F.lit(x) for kv in col_of.items() for x in kv])

    acts = to_spark(graph.activity_edges.select("src_idx", "topic_idx", "ts"), spark)
    acts = acts.filter(_dated(F.col("ts"), start, end))
    active = acts.select(F.col("src_idx").cast("long").alias("i")).distinct()
    act = (acts.filter(F.col("topic_idx").isin(list(col_of)))
           .groupBy(F.col("src_idx").cast("long").alias("i"), col_map[F.col("topic_idx").cast("int")].alias("t"))
           .agg(F.count(F.lit(1)).cast("double").alias("act")))

    e = to_spark(graph.person_edges.select("src_idx", "dst_idx", "kind", "topic_idx", "weight", "sign", "ts"), spark)
    referred = F.col("kind") == "referred"
    follows = F.col("kind") == "follows"
    made = F.col("ts").isNull() | _dated(F.col("ts"), None, end)
    e = (e.select(F.when(referred, F.col("dst_idx")).otherwise(F.col("src_idx")).cast("long").alias("i"),
                  F.when(referred, F.col("src_idx")).otherwise(F.col("dst_idx")).cast("long").alias("j"),
                  "kind", "topic_idx", F.col("weight").cast("double").alias("w"), (F.col("sign") > 0).alias("pos"),
                  "ts")
         .filter(F.col("i") != F.col("j"))
         .filter(F.when(follows, made).otherwise(_dated(F.col("ts"), start, end))))
    general_edges = e.filter(follows | F.col("topic_idx").isNull())
    topical = (e.filter(~follows & F.col("topic_idx").isin(list(col_of)))
               .withColumn("t", col_map[F.col("topic_idx").cast("int")]))

    # Credibility: the positive share of the labelled attention received; neutral 1 when none.
    cred = (topical.groupBy("j", "t")
            .agg(F.sum("w").alias("recv"), F.sum(F.when(F.col("pos"), F.col("w")).otherwise(0.0)).alias("recv_pos"))
            .select(F.col("j").alias("i"), "t",
                    F.when(F.col("recv") > 0, F.col("recv_pos") / F.col("recv")).alias("cred")))
    scale = (act.join(cred, ["i", "t"], "left")
             .select(F.col("i").alias("j"), "t", (F.col("act") * F.coalesce(F.col("cred"), F.lit(1.0))).alias("scale"))
             .filter(F.col("scale") > 0))

    # Attention given by active people; all of it counts in what the giver gives, only its positive part passes.
    given = (general_edges.join(active, "i", "left_semi").groupBy("i", "j")
             .agg(F.sum("w").alias("given"), F.sum(F.when(F.col("pos"), F.col("w")).otherwise(0.0)).alias("passing")))
    labelled = topical.join(active, "i", "left_semi")
    out = (given.join(act.select(F.col("i").alias("j"), "t", "act"), "j")
           .select("i", "t", (F.col("given") * F.col("act")).alias("out"))
           .unionByName(labelled.select("i", "t", F.col("w").alias("out")))
           .groupBy("i", "t").agg(F.sum("out").alias("out")))
    passing = (given.filter(F.col("passing") > 0).join(scale, "j")
               .select("i", "j", "t", (F.col("passing") * F.col("scale")).alias("w"))
               .unionByName(labelled.filter(F.col("pos")).select("i", "j", "t", "w")))
    transition = (passing.join(out, ["i", "t"])
                  .select("i", "j", "t", (F.col("w") / F.col("out")).alias("p"))
                  .filter(F.col("p") > 0))
    totals = act.groupBy("t").agg(F.sum("act").alias("total"))
    teleport = act.join(F.broadcast(totals), "t").select("i", "t", (F.col("act") / F.col("total")).alias("v"))
    return transition.repartition(partitions, "i", "t"), teleport.repartition(partitions, "i", "t")


def _materialise(frame: DataFrame) -> DataFrame:
    """Cut the lineage: a reliable checkpoint when the session has a checkpoint directory, else a local one."""
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _dataframe_iterations(spark: SparkSession, graph: TopicGraph, structure: TopicStructure, topic_idx: list[int],
                          partitions: int, d: float, max_iter: int, tol: float) -> SparkSolution:
    from pyspark.sql import functions as F

    transition, teleport = spark_layers(spark, graph, topic_idx, window=structure.window, partitions=partitions)
    transition = _materialise(transition)
    teleport = _materialise(teleport)
    k = len(topic_idx)
    x = teleport.select("i", "t", F.col("v").alias("x"))
    small = teleport.count() <= BROADCAST_STATES  # the scores of a topic's people live where the entries of
    residuals = np.full(k, np.inf)               # the largest topic are: sent whole to each task while small
    iterations = np.zeros(k, dtype=np.int64)
    for it in range(1, max_iter + 1):
        scores = F.broadcast(x) if small else x
        received = (transition.join(scores, ["i", "t"])
                    .groupBy("j", "t").agg(F.sum(F.col("p") * F.col("x")).alias("s"))
                    .select(F.col("j").alias("i"), "t", "s"))
        new = (teleport.join(received, ["i", "t"], "full")
               .select("i", "t", (F.lit(d) * F.coalesce(F.col("s"), F.lit(0.0))
                                  + F.coalesce(F.col("v"), F.lit(0.0))).alias("x")))
        if it % CHECKPOINT_EVERY and it != max_iter:
            x = new
            continue
        # A state once live stays live (teleport, or attention from a live state), so new covers x.
        both = _materialise(new.join(scores.withColumnRenamed("x", "old"), ["i", "t"], "left")
                            .select("i", "t", "x", F.abs(F.col("x") - F.coalesce(F.col("old"), F.lit(0.0)))
                                    .alias("delta")))
        x = both.select("i", "t", "x")
        stats = both.groupBy("t").agg(F.sum("delta").alias("delta"), F.sum("x").alias("total")).collect()
        iterations[:] = it
        for row in stats:
            residuals[row["t"]] = row["delta"] / row["total"] if row["total"] > 0 else 0.0
        if (residuals < tol).all():
            break
    found = pl.from_arrow(x.filter(F.col("x") > 0).toArrow())
    scores = np.zeros((structure.n_people, k))
    scores[found["i"].to_numpy(), found["t"].to_numpy()] = found["x"].to_numpy()
    scores /= scores.sum(axis=0, keepdims=True)
    return SparkSolution(scores, iterations, residuals < tol, residuals, "iterations", partitions)
