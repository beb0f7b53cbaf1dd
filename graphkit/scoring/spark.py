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

import gc
import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
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
#: Iterations allowed when the caller gives none: Gauss-Seidel sweeps (``"topics"``), Jacobi iterations
#: (``"iterations"``: about twice as many are needed; Ciao: 128 against 70 sweeps, at tol 1e-10).
MAX_ITER = {"topics": 100, "iterations": 300}
#: ``"iterations"``: the scores are checkpointed and convergence is checked every this many iterations.
CHECK_EVERY = 5
#: ``"iterations"``: up to this many (person, topic) scores are broadcast to the tasks (then the edges,
#: partitioned by receiver, are never shuffled); above, the edges are partitioned by giver and the
#: partial sums shuffled.
BROADCAST_STATES = 32_000_000

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
    max_iter: int


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
    max_iter: int | None,
    tol: float,
    spark: SparkSession | None = None,
    broadcast_limit: int = BROADCAST_STATES,
) -> SparkSolution:
    """Personalised PageRank of the topics ``topic_idx`` on Spark (see the module notes).

    ``partitions`` is how many tasks share the work (default: the session's
    default parallelism), ``max_iter`` None for the strategy's
    :data:`MAX_ITER`. ``"iterations"`` broadcasts the scores while there are
    at most ``broadcast_limit`` (people x topics), else shuffles partial sums. The active Spark session is used, or a local one is
    started (:func:`graphkit.io.spark.spark_session`).
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
    max_iter = MAX_ITER[strategy] if max_iter is None else max_iter
    if strategy == "topics":
        return _topics_in_parallel(spark, payload, parts, damping_factor, max_iter, tol)
    return _dataframe_iterations(spark, graph, structure, topic_idx, parts, damping_factor, max_iter, tol,
                                 broadcast_limit)


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
    return SparkSolution(scores, meta["iterations"].to_numpy(), residuals < tol, residuals, "topics", len(buckets),
                         max_iter)


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


@dataclass(frozen=True)
class SparkWalk:
    """The walks of ``k`` topics as Spark tables (topic columns ``0 .. k-1``; see :func:`spark_walk`).

    ``edges``: ``(i, j, t, p)`` positive attention from active giver *i* to
    *j*: with ``t = -1`` attention that names no topic (every topic passes it,
    scaled by the receiver's ``s<t>``; kept only towards receivers active on
    some topic), else labelled attention that passes on topic ``t`` only.
    ``people``: one row per person in the walk, ``i`` and three columns per
    topic: ``v<t>`` teleport (sums to 1), ``s<t>`` follow scaling (activity
    times credibility), ``u<t>`` one over all the attention *i* gives on the
    topic (0 when none: dangling). Person ids are ``int``.
    """

    edges: DataFrame
    people: DataFrame
    k: int


def spark_walk(spark: SparkSession, graph: TopicGraph, topic_idx: Sequence[int], *,
               window: tuple[datetime | None, datetime | None] = (None, None)) -> SparkWalk:
    """The walks of the topics ``topic_idx``, built in Spark SQL from the graph's edges.

    Same model as :func:`graphkit.model.topics.topic_structure`: activity per
    (person, topic) in the window (authored interactions and purchases), credibility (the positive share of the
    labelled attention received, neutral 1 when none), follows and unlabelled
    interactions scaled by the receiver's activity and credibility, inactive
    givers passing nothing, negative edges counted in what a giver gives but
    passing nothing, referrals reversed. The walk of topic *t* moves from *i*
    to *j* with probability ``(p * s<t>[j] + labelled p on t) * u<t>[i]``.
    The intermediate tables read more than once are checkpointed as they are built.
    """
    from pyspark.sql import functions as F

    start, end = window
    k = len(topic_idx)
    col_of = {int(t): c for c, t in enumerate(topic_idx)}
    col_map = F.create_map(*[F.lit(x) for kv in col_of.items() for x in kv])

    # Authored mentions, replies, shares, reviews and purchases of the topic's items (as TopicGraph.activity).
    acts = to_spark(pl.concat([graph.activity_edges.select("src_idx", "topic_idx", "ts"), graph.purchase_acts]), spark)
    acts = acts.filter(_dated(F.col("ts"), start, end))
    active = acts.select(F.col("src_idx").cast("int").alias("i")).distinct()
    act = (acts.filter(F.col("topic_idx").isin(list(col_of)))
           .groupBy(F.col("src_idx").cast("int").alias("i"), col_map[F.col("topic_idx").cast("int")].alias("t"))
           .agg(F.count(F.lit(1)).cast("double").alias("act")))
    act = _materialise(act)  # the tables read more than once are computed once

    e = to_spark(graph.person_edges.select("src_idx", "dst_idx", "kind", "topic_idx", "weight", "sign", "ts"), spark)
    referred = F.col("kind") == "referred"
    follows = F.col("kind") == "follows"
    made = F.col("ts").isNull() | _dated(F.col("ts"), None, end)
    e = (e.select(F.when(referred, F.col("dst_idx")).otherwise(F.col("src_idx")).cast("int").alias("i"),
                  F.when(referred, F.col("src_idx")).otherwise(F.col("dst_idx")).cast("int").alias("j"),
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
             .select("i", "t", (F.col("act") * F.coalesce(F.col("cred"), F.lit(1.0))).alias("s"))
             .filter(F.col("s") > 0))
    scale = _materialise(scale)

    # Attention given by active people; all of it counts in what the giver gives, only its positive part passes.
    given = (general_edges.join(active, "i", "left_semi").groupBy("i", "j")
             .agg(F.sum("w").alias("given"), F.sum(F.when(F.col("pos"), F.col("w")).otherwise(0.0)).alias("p")))
    given = _materialise(given)
    labelled = _materialise(topical.join(active, "i", "left_semi").select("i", "j", "t", "w", "pos"))
    out = (given.join(act.select(F.col("i").alias("j"), "t", "act"), "j")
           .select("i", "t", (F.col("given") * F.col("act")).alias("out"))
           .unionByName(labelled.select("i", "t", F.col("w").alias("out")))
           .groupBy("i", "t").agg(F.sum("out").alias("out")))
    totals = act.groupBy("t").agg(F.sum("act").alias("total"))

    receivers = scale.select(F.col("i").alias("j")).distinct()  # a receiver active on no topic takes nothing
    labelled = labelled.filter(F.col("pos")).select("i", "j", "t", F.col("w").alias("p"))
    edges = (given.filter(F.col("p") > 0).join(receivers, "j", "left_semi")
             .select("i", "j", F.lit(-1).alias("t"), "p").unionByName(labelled))

    # One row per person, three columns per topic: v<t> (code t), s<t> (k + t), u<t> (2k + t); people who only
    # receive labelled attention get a row (code -1) so that their score is kept.
    long = (act.join(F.broadcast(totals), "t").select("i", F.col("t").alias("c"), (F.col("act") / F.col("total")).alias("x"))
            .unionByName(scale.select("i", (F.col("t") + k).alias("c"), F.col("s").alias("x")))
            .unionByName(out.filter(F.col("out") > 0).select("i", (F.col("t") + 2 * k).alias("c"),
                                                             (1.0 / F.col("out")).alias("x")))
            .unionByName(labelled.select(F.col("j").alias("i"), F.lit(-1).alias("c"), F.lit(0.0).alias("x"))))
    names = [f"{c}{t}" for c in "vsu" for t in range(k)]
    people = (long.groupBy("i").pivot("c", [-1, *range(3 * k)]).agg(F.sum("x"))
              .select("i", *[F.coalesce(F.col(str(c)), F.lit(0.0)).alias(name) for c, name in enumerate(names)]))
    return SparkWalk(edges, people, k)


def _materialise(frame: DataFrame) -> DataFrame:
    """Cut the lineage: a reliable checkpoint when the session has a checkpoint directory, else a local one.

    (Spark forgets a checkpointed frame's partitioning; the tables that must
    stay partitioned are cached instead, see :func:`_dataframe_iterations`.)
    """
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _step(walk: SparkWalk, x: DataFrame, d: float, broadcast: bool) -> DataFrame:
    """One Jacobi iteration ``x <- d P^T x + v`` of all topics at once.

    ``x`` has ``i``, the scores ``x<t>`` and the givers' ``u<t>`` (so that what
    a giver sends needs no join); so has the result.
    """
    from pyspark.sql import functions as F

    k = walk.k
    # What each giver sends per unit of attention, per topic: its score over all it gives.
    y = (x.select("i", *[(F.col(f"x{t}") * F.col(f"u{t}")).alias(f"y{t}") for t in range(k)])
         .filter(reduce(operator.or_, [F.col(f"y{t}") > 0 for t in range(k)])))
    if broadcast:
        y = F.broadcast(y)
    general, t_ = F.col("t") < 0, F.col("t")
    received = (walk.edges.join(y, "i").groupBy(F.col("j").alias("i"))
                .agg(*[F.sum(F.when(general, F.col("p") * F.col(f"y{t}"))).alias(f"g{t}") for t in range(k)],
                     *[F.sum(F.when(t_ == t, F.col("p") * F.col(f"y{t}"))).alias(f"l{t}") for t in range(k)]))
    zero = F.lit(0.0)
    return (walk.people.join(received.hint("shuffle_hash"), "i", "left")
            .select("i", *[(F.lit(d) * (F.col(f"s{t}") * F.coalesce(F.col(f"g{t}"), zero)
                                        + F.coalesce(F.col(f"l{t}"), zero)) + F.col(f"v{t}")).alias(f"x{t}")
                           for t in range(k)], *[f"u{t}" for t in range(k)]))


def _dataframe_iterations(spark: SparkSession, graph: TopicGraph, structure: TopicStructure, topic_idx: list[int],
                          partitions: int, d: float, max_iter: int, tol: float,
                          broadcast_limit: int) -> SparkSolution:
    from pyspark.sql import functions as F

    k = len(topic_idx)
    broadcast = structure.n_people * k <= broadcast_limit
    walk = spark_walk(spark, graph, topic_idx, window=structure.window)
    # Built once and checkpointed (a short plan), then partitioned and cached: Spark keeps a cached table's
    # partitioning (not a checkpoint's), so each iteration joins and sums the edges where they are, no shuffle.
    tables = [_materialise(walk.edges).repartition(partitions, "j" if broadcast else "i").cache(),
              _materialise(walk.people).repartition(partitions, "i").cache()]
    try:
        for table in tables:
            table.count()
        walk = SparkWalk(*tables, k)
        x = _materialise(walk.people.select("i", *[F.col(f"v{t}").alias(f"x{t}") for t in range(k)],
                                            *[f"u{t}" for t in range(k)]))
        residuals = np.full(k, np.inf)
        done = 0
        while done < max_iter:
            block = min(CHECK_EVERY, max_iter - done)
            for _ in range(block - 1):
                x = _step(walk, x, d, broadcast)  # run by the checkpoint below: one job per iteration
            if block > 1:
                x = _materialise(x)
            new = _materialise(_step(walk, x, d, broadcast))
            both = new.join(x.select("i", *[F.col(f"x{t}").alias(f"o{t}") for t in range(k)]), "i", "left")
            stats = both.agg(*[F.sum(F.abs(F.col(f"x{t}") - F.coalesce(F.col(f"o{t}"), F.lit(0.0)))).alias(f"d{t}")
                               for t in range(k)], *[F.sum(f"x{t}").alias(f"x{t}") for t in range(k)]).first()
            x, done = new, done + block
            for t in range(k):
                residuals[t] = stats[f"d{t}"] / stats[f"x{t}"] if stats[f"x{t}"] > 0 else 0.0
            if (residuals < tol).all():
                break
        found = pl.from_arrow(x.select("i", *[f"x{t}" for t in range(k)]).toArrow())
    finally:
        for table in tables:
            table.unpersist()
        # The checkpoints of past iterations are freed by Spark once the JVM no longer sees them referenced;
        # Python holds some of them in reference cycles until its collector runs, so run it now.
        gc.collect()
    scores = np.zeros((structure.n_people, k))
    people = found["i"].to_numpy()
    for t in range(k):
        scores[people, t] = found[f"x{t}"].to_numpy()
    scores /= scores.sum(axis=0, keepdims=True)
    return SparkSolution(scores, np.full(k, done, dtype=np.int64), residuals < tol, residuals, "iterations",
                         partitions, max_iter)
