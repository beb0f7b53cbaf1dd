"""How sure is a rank? Bootstrap intervals on scores and ranks, the chance of being in the top k, and stable tops.

A score is computed from evidence: the contributions people made on a topic
(posts, reviews, mentions), who follows whom, what they bought. Had the
same people been observed over another stretch of the same length, that
evidence -- and every rank -- would differ a little; on a thin topic (a
few dozen people whose followers adopt it) it can differ a lot. This module
measures how much, with a seeded **Poisson bootstrap of the evidence**:

* **what is resampled**: every *row* of evidence -- each contribution (a
  topic-labelled mention, reply, share or review), each follow and each
  other edge between people, each purchase -- is counted ``Poisson(1)``
  times in a resample (0, 1, 2, ... times, 1 on average), independently.
  People, items and topics stay as they are.
* **why these units**: a person's score on a topic is built from these
  rows (their own contributions make them active on it; the follows say
  whose attention they hold; purchases date when someone took a topic up),
  and they are what a longer or shorter observation would have more or
  fewer of. The Poisson bootstrap resamples each row independently, which
  is the multinomial bootstrap of all rows at large counts, and lets one
  resample be drawn for one row without drawing the others -- which the
  batched solver below needs.
* **what is not resampled**: people themselves (a rank is about a given
  person), and the credibility of a person on a topic (the positive share
  of the labelled attention they received) in the batched topic-influence
  path, which keeps the data's value.

From ``resamples`` draws, per (person, topic): ``score_low``/``score_high``
and ``rank_low``/``rank_high``, the central ``level`` (default 90 %) range
of the person's score and rank over the resamples (order statistics: the
lower bound rounds down, the upper one up), and ``p_top_<k>``, the share of
resamples in which the person is among the top ``k``. Per topic, the
**stability** of its top ``k``: ``expected_overlap``, the share of the top
``k`` two resamples have in common (``sum_i c_i (c_i - 1) / (B (B - 1) k)``
with ``c_i`` the resamples placing person *i* in the top ``k``), and
``point_overlap``, the share of the published top ``k`` a resample keeps.

Rules that make the numbers mean what they say: in a resample, people with
a score of 0 are never in a top ``k`` (they share the rank after the last
positive score, as in the published percentiles); people whose scores are
equal (within ``tie_rel``, relative) are put in a random order, drawn from
``seed`` -- so ``n`` people with the same evidence each get ``p_top_1``
about ``1/n``, not a rank decided by their ids. A resample that leaves
nobody active on a topic has no ranks on it and is left out of that topic's
numbers (``resamples`` in the stability table counts those kept).

Three ways to get the draws, with the same resampling:

* :func:`bootstrap` -- any score function ``graph -> table``: each resample
  is a new graph whose tables repeat rows by their Poisson counts
  (:func:`resample_graph`, counts from :func:`row_counts`: counter-based
  draws of (seed, resample, table, row)), scored again. Cost: ``resamples``
  scorings.
* :func:`new_follower_bootstrap` -- the default score,
  ``posts_x_active_new_followers``: a sum over evidence rows, so each
  resample is one pass over the rows it reads, counted by the same row
  counts (:func:`graphkit.scoring.linalg.new_follower_counts`, four
  resamples per row hash) -- exactly the numbers re-scoring would give, with
  no graph per resample. Cost: under 10 scorings for 100 resamples.
* :func:`influence_bootstrap` -- topic influence: the resamples are extra
  columns of the batched solver (:func:`graphkit.scoring.linalg.solve_ppr_resamples`);
  the structure is built once, every matrix entry is read once per sweep for
  all resamples, and each draw is a counter-based random number of (seed,
  resample, row). Contributions are redrawn per (person, topic) cell
  (``Poisson(count)``, the sum of one ``Poisson(1)`` per contribution),
  follows per (follower, followee) pair.

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> g = TopicGraph.from_tables(
...     pl.DataFrame({"person_id": ["ann", "bob", "cat", "dan"]}),
...     pl.DataFrame({"src": ["bob", "cat", "dan"] + ["ann"] * 6 + ["bob"],
...                   "dst": ["ann", "ann", "ann"] + [f"i{k}" for k in range(6)] + ["i0"],
...                   "kind": ["follows"] * 3 + ["reviews"] * 7, "topic": [None] * 3 + ["frogs"] * 7}),
...     items=pl.DataFrame({"item_id": [f"i{k}" for k in range(6)], "topic": ["frogs"] * 6}))
>>> def posts(graph):  # any score: here, contributions on the topic
...     from graphkit.model.topics import topic_activity
...     a = topic_activity(graph).toarray()[:, 0]
...     return pl.DataFrame({"person_id": graph.people["person_id"], "topic": "frogs", "score": a})
>>> u = bootstrap(g, posts, resamples=200, seed=1)
>>> u.table.filter(pl.col("person_id") == "ann").select("rank", "rank_low", "rank_high", "p_top_1").row(0)
(1, 1, 1, 0.975)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import EDGE_INDEX, TopicGraph
from graphkit.model.topics import TopicStructure
from graphkit.scoring.results import top_rows
from graphkit.version import __version__

#: Resamples when not given.
RESAMPLES = 100
#: Central share of the resamples an interval covers when not given.
LEVEL = 0.9
#: The k of ``p_top_<k>`` and of the stability table when not given.
TOP_K: tuple[int, ...] = (1, 10)
#: How far the batched solver takes each resample of topic influence (relative L1 change of a sweep;
#: scores within 100 x this are ties). Against 1e-7, on Ciao and 100k synthetic people (100 resamples,
#: same draws): p_top_1 and p_top_10 move by at most 0.01 (one resample) on 2 rows, the stability of
#: the tops by at most 0.014 -- well inside the Monte-Carlo error of 100 resamples (up to 0.05) -- for
#: 15-20 % less work. (1e-5 moved one top-20 person's upper rank bound by thousands: ties too coarse.)
RESAMPLE_TOL = 1e-6
#: What a resample redraws, as recorded in a result's parameters.
RESAMPLED = "Poisson(1) bootstrap of evidence rows: contributions, follows and other edges, purchases"


@dataclass(frozen=True)
class Uncertainty:
    """Bootstrap intervals of a ranking and the stability of its tops.

    ``table``: the point table (``person_id``, ``topic``, ``score``,
    ``rank`` and whatever else the score returned) with
    :func:`uncertainty_columns` added. ``stability``: one row per (topic,
    k) with ``resamples`` (kept), ``expected_overlap`` and ``point_overlap``.
    ``parameters``: how it was made (resamples, seed, level, top_k, method,
    what was resampled).
    """

    table: pl.DataFrame
    stability: pl.DataFrame
    parameters: dict[str, Any]
    seconds: float | None = None
    version: str = __version__

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``, with their intervals."""
        return top_rows(self.table, topic, k)


def uncertainty_columns(top_k: Sequence[int] = TOP_K) -> list[str]:
    """Names of the columns a bootstrap adds to a score table.

    >>> uncertainty_columns((1, 10))
    ['score_low', 'score_high', 'rank_low', 'rank_high', 'p_top_1', 'p_top_10']
    """
    return ["score_low", "score_high", "rank_low", "rank_high", *(f"p_top_{k}" for k in top_k)]


def check_options(resamples: int, level: float, top_k: Sequence[int], seed: int) -> tuple[int, ...]:
    """Validate the bootstrap's options; return ``top_k`` as a sorted tuple without repeats."""
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 2:
        raise GraphkitError(f"resamples must be an integer >= 2 (100 is a good start); got {resamples!r}")
    if not 0 < level < 1:
        raise GraphkitError(f"level must be in (0, 1), e.g. 0.9 for 90 % intervals; got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GraphkitError(f"seed must be a non-negative integer; got {seed!r}")
    if isinstance(top_k, (int, np.integer)):
        top_k = (int(top_k),)
    ks = tuple(sorted({int(k) for k in top_k}))
    if not ks or any(isinstance(k, bool) or k < 1 for k in top_k):
        raise GraphkitError(f"top_k must be positive integers, e.g. (1, 10); got {top_k!r}")
    return ks


# ------------------------------------------------------------------------------ resampling
def row_counts(graph: TopicGraph, *, seed: int, resample: int) -> tuple[np.ndarray, np.ndarray]:
    """How many times resample ``resample`` of ``seed`` counts each edge row and each purchase row (``Poisson(1)``).

    Counter-based draws (:func:`graphkit.scoring.linalg.poisson1_counts`):
    a row's count depends only on (seed, resample, table, row).
    """
    from graphkit.scoring.linalg import STREAM_EDGES, STREAM_TRANSACTIONS, poisson1_counts

    return (poisson1_counts(seed, STREAM_EDGES, resample, graph.edges.height),
            poisson1_counts(seed, STREAM_TRANSACTIONS, resample, graph.transactions.height))


def resample_graph(graph: TopicGraph, *, seed: int, resample: int) -> TopicGraph:
    """The graph with every edge and purchase row repeated ``Poisson(1)`` times (resample ``resample`` of ``seed``).

    People, items, communities and handles are kept. The tables were
    validated once; repeating rows keeps them valid, so the new graph is not
    validated again.

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> r = resample_graph(g, seed=0, resample=3)
    >>> r.people.equals(g.people), r.edges.height != g.edges.height
    (True, True)
    >>> resample_graph(g, seed=0, resample=3).edges.equals(r.edges)
    True
    """
    edge_counts, tx_counts = row_counts(graph, seed=seed, resample=resample)
    edge_rows = np.repeat(np.arange(graph.edges.height), edge_counts)
    tx_rows = np.repeat(np.arange(graph.transactions.height), tx_counts)
    index = graph.edge_index[edge_rows]
    out = TopicGraph(
        people=graph.people, edges=graph.edges[edge_rows], items=graph.items, communities=graph.communities,
        transactions=graph.transactions[tx_rows], handles=graph.handles, rejects=graph.rejects, source=graph.source,
    )
    out._views[EDGE_INDEX] = index
    out.__dict__["topics"] = graph.topics  # the same vocabulary, even if a topic lost all its rows
    return out


def bootstrap(
    graph: TopicGraph,
    scorer: Callable[[TopicGraph], pl.DataFrame],
    *,
    point: pl.DataFrame | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    top_k: Sequence[int] = TOP_K,
    progress: Callable[[int], None] | None = None,
) -> Uncertainty:
    """Intervals of any score: ``scorer`` (graph -> table with ``person_id``, ``topic``, ``score``) on each resample.

    ``point`` is the table on the data (``scorer(graph)`` when None); its
    ``rank`` column is kept when present, else ranks are given (1 = highest
    score, ties by ``person_id``). A resample on which ``scorer`` raises a
    :class:`~graphkit.errors.GraphkitError` (say, a topic left with nobody
    active) counts for no topic; if all do, the error is raised.
    ``progress`` is called with the number of resamples done.
    See the module for what is resampled and what the columns mean.
    """
    ks = check_options(resamples, level, top_k, seed)
    started = time.perf_counter()
    point = _with_ranks(scorer(graph) if point is None else point)
    per_topic, failures = rescoring_draws(graph, scorer, point, resamples=resamples, seed=seed, progress=progress)
    table, stability = summarise(point, per_topic, level=level, top_k=ks, seed=seed)
    parameters = {"resamples": int(resamples), "seed": int(seed), "level": float(level), "top_k": list(ks),
                  "method": "rescoring", "resampled": RESAMPLED, "failed_resamples": len(failures)}
    return Uncertainty(table, stability, parameters, seconds=time.perf_counter() - started)


def rescoring_draws(
    graph: TopicGraph,
    scorer: Callable[[TopicGraph], pl.DataFrame],
    point: pl.DataFrame,
    *,
    resamples: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    """The resampled scores behind :func:`bootstrap`: ``{topic: (rows of point, draws)}`` and the errors of
    resamples the score failed on (see :func:`summarise` for the shape)."""
    keys = point.select("person_id", "topic").with_row_index("_row")
    draws = np.full((point.height, int(resamples)), np.nan)
    failures: list[str] = []
    for b in range(int(resamples)):
        try:
            table = scorer(resample_graph(graph, seed=seed, resample=b))
        except GraphkitError as exc:
            failures.append(str(exc))
            continue
        hit = table.select("person_id", "topic", "score").join(keys, on=["person_id", "topic"], how="inner")
        draws[hit["_row"].to_numpy(), b] = hit["score"].to_numpy()
        if progress is not None:
            progress(b + 1)
    if len(failures) == resamples:
        raise GraphkitError(f"the score failed on every resample: {failures[0]}")
    return {t: (rows, draws[rows]) for t, rows in _topic_blocks(point).items()}, failures


def influence_bootstrap(
    graph: TopicGraph,
    structure: TopicStructure,
    topic_idx: Sequence[int],
    point: pl.DataFrame,
    *,
    damping_factor: float,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    top_k: Sequence[int] = TOP_K,
    max_iter: int = 100,
    tol: float = RESAMPLE_TOL,
    chunk: int = 25,
) -> Uncertainty:
    """Intervals of topic influence, the resamples solved as extra columns of the batched solver.

    ``point`` is ``topic_influence(...).table`` for the topics ``topic_idx``
    of ``structure`` (one block of ``graph.n_people`` rows per topic, in
    person order, as :func:`graphkit.scoring.influence.influence_table`
    makes it). The resamples are solved to ``tol`` (relative L1 change of a
    sweep; scores closer than ``100 * tol`` are ties). See the module for
    what is resampled.
    """
    ks = check_options(resamples, level, top_k, seed)
    started = time.perf_counter()
    per_topic, iterations = influence_draws(graph, structure, topic_idx, point, damping_factor=damping_factor,
                                            resamples=resamples, seed=seed, max_iter=max_iter, tol=tol, chunk=chunk)
    table, stability = summarise(point, per_topic, level=level, top_k=ks, seed=seed, tie_rel=100 * float(tol))
    parameters = {"resamples": int(resamples), "seed": int(seed), "level": float(level), "top_k": list(ks),
                  "method": "batched resample solver", "resampled": RESAMPLED, "tol": float(tol),
                  "iterations": iterations}
    return Uncertainty(table, stability, parameters, seconds=time.perf_counter() - started)


def influence_draws(
    graph: TopicGraph,
    structure: TopicStructure,
    topic_idx: Sequence[int],
    point: pl.DataFrame,
    *,
    damping_factor: float,
    resamples: int,
    seed: int,
    max_iter: int = 100,
    tol: float = RESAMPLE_TOL,
    chunk: int = 25,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
    """The resampled scores behind :func:`influence_bootstrap`: ``{topic: (rows of point, draws)}`` (the
    people live on the topic; everyone else scores 0) and the most sweeps a resample took."""
    from graphkit.scoring.linalg import (  # numba: loaded on first use
        ResampleSystem,
        solve_ppr_resamples,
    )

    topic_idx = list(topic_idx)
    n = graph.n_people
    if point.height != n * len(topic_idx):
        raise GraphkitError(f"point must have {n} rows per topic ({n * len(topic_idx)}); got {point.height}")
    rows = slice(topic_idx[0], topic_idx[-1] + 1) if topic_idx == list(range(topic_idx[0], topic_idx[-1] + 1)) \
        else topic_idx
    col_of = np.full(len(structure.topics), -1, dtype=np.int64)
    col_of[topic_idx] = np.arange(len(topic_idx))
    col = col_of[structure.topical_topic]
    keep = col >= 0
    topical = (structure.topical_src[keep], structure.topical_dst[keep], col[keep], structure.topical_weight[keep])
    system = ResampleSystem.build(structure.general, structure.follow_scale_t[rows], topical,
                                  activity_t=structure.activity_t[rows], out_t=structure.out_weight_t[rows],
                                  topic_idx=np.asarray(topic_idx), all_activity_t=structure.activity_t)
    sol = solve_ppr_resamples(system, np.arange(int(resamples)), seed=int(seed), damping_factor=damping_factor,
                              max_iter=int(max_iter), tol=float(tol), chunk=chunk)
    per_topic = {}
    for k, t in enumerate(topic_idx):
        lo, hi = system.offsets[k], system.offsets[k + 1]
        per_topic[structure.topics[t]] = (k * n + system.person[lo:hi].astype(np.int64), sol.scores[lo:hi])
    return per_topic, int(sol.iterations.max(initial=0))


def new_follower_bootstrap(
    graph: TopicGraph,
    point: pl.DataFrame,
    *,
    now: Any,
    recent: Any,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    top_k: Sequence[int] = TOP_K,
) -> Uncertainty:
    """Intervals of ``posts_x_active_new_followers`` (``point``, its table as of ``now``; ``recent``: how far back
    its acts count, :data:`graphkit.scoring.baselines.RECENT`), drawn in closed form.

    The same resamples and numbers as :func:`bootstrap` re-scoring each
    resampled graph (see :func:`new_follower_draws`), without building one.
    """
    ks = check_options(resamples, level, top_k, seed)
    started = time.perf_counter()
    point = _with_ranks(point)
    per_topic, failed = new_follower_draws(graph, point, now=now, recent=recent, resamples=resamples, seed=seed)
    table, stability = summarise(point, per_topic, level=level, top_k=ks, seed=seed)
    parameters = {"resamples": int(resamples), "seed": int(seed), "level": float(level), "top_k": list(ks),
                  "method": "closed form", "resampled": RESAMPLED, "failed_resamples": failed}
    return Uncertainty(table, stability, parameters, seconds=time.perf_counter() - started)


def new_follower_draws(
    graph: TopicGraph,
    point: pl.DataFrame,
    *,
    now: Any,
    recent: Any,
    resamples: int,
    seed: int,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
    """The resampled scores of ``posts_x_active_new_followers`` as of ``now``, in closed form: no graph per resample.

    The score is ``log1p(R) x N`` per (person, topic): ``R`` the person's acts
    on the topic in the ``recent`` stretch (a year) before ``now`` (contributions, and purchases not
    reviewed at the same moment), ``N`` their followers (distinct, made before
    ``now``) who are new to the topic (no dated act on it before ``now``) and
    active (an act on any topic in that year)
    (:func:`graphkit.scoring.baselines.posts_x_active_new_followers_matrix`).
    Each is a sum over evidence rows, so a resample only needs every row's
    ``Poisson(1)`` count: the same counts :func:`resample_graph` draws for
    resample ``b`` of ``seed`` (edge rows and purchase rows), drawn only for
    the rows that can change a listed number and summed per cell in one pass
    (:func:`graphkit.scoring.linalg.new_follower_counts`) -- exactly the
    draws of :func:`rescoring_draws` on this score, at a fraction of the cost. ``point`` is the score's table (``person_id``, ``topic``);
    returns ``{topic: (rows of point, draws)}`` -- the rows of people who can
    score (acts on the topic in that year and a follower in the data; every
    other row scores 0 in every resample) -- and the number of resamples in
    which every score was 0 (left out, as a re-scoring that cannot compute).

    >>> from datetime import datetime, timezone
    >>> from graphkit.marketing import example_market
    >>> from graphkit.scoring.baselines import RECENT, posts_x_active_new_followers
    >>> g = example_market()
    >>> now = datetime(2024, 7, 1, tzinfo=timezone.utc)
    >>> point = posts_x_active_new_followers(g, topics=["cooking"], now=now)
    >>> per, _ = new_follower_draws(g, point, now=now, recent=RECENT, resamples=3, seed=0)
    >>> rows, draws = per["cooking"]
    >>> draws.shape == (len(rows), 3), len(rows) < g.n_people
    (True, True)
    """
    from graphkit.model.graph import ACTIVITY_KINDS
    from graphkit.scoring.linalg import new_follower_counts

    n, n_topics = graph.n_people, len(graph.topics)
    start = now - recent
    topic_code = pl.col("topic").cast(pl.Enum(list(graph.topics))).to_physical().cast(pl.Int64)
    edges = (graph.edges.select(pl.col("kind").cast(pl.String), topic_code.alias("t"), "ts", "dst")
             .hstack(graph.edge_index.select("src_idx", "dst_idx")).with_row_index("row"))
    recent = (pl.col("ts") >= start) & (pl.col("ts") < now)
    before = pl.col("ts") < now

    def rows_cells(frame: pl.DataFrame, cond: pl.Expr, who: str = "src_idx") -> tuple[np.ndarray, np.ndarray]:
        f = frame.filter(cond.fill_null(False))
        return f["row"].to_numpy().astype(np.int64), (f[who].cast(pl.Int64) * n_topics + f["t"]).to_numpy()

    acts = edges.filter(pl.col("kind").is_in(ACTIVITY_KINDS) & pl.col("t").is_not_null()
                        & pl.col("src_idx").is_not_null())
    a_recent, a_recent_cell = rows_cells(acts, recent)
    a_before, a_before_cell = rows_cells(acts, before)
    # purchases by people of items with a topic; one not reviewed at the same moment is an act of its own
    buyers = graph.people.select("customer_id", pl.int_range(pl.len(), dtype=pl.Int64).alias("src_idx")).filter(
        pl.col("customer_id").is_not_null())
    bought = (graph.transactions.select("customer_id", "item_id", "ts").with_row_index("row")
              .join(buyers, on="customer_id", how="inner")
              .join(graph.items.select("item_id", topic_code.alias("t")).filter(pl.col("t").is_not_null()),
                    on="item_id", how="inner"))
    reviews = edges.filter(pl.col("kind") == "reviews").select(
        pl.col("src_idx").cast(pl.Int64), pl.col("dst").alias("item_id"), "ts", "row")
    keys = reviews.select("src_idx", "item_id", "ts").unique(maintain_order=True).with_row_index("key")
    review_key = reviews.join(keys, on=["src_idx", "item_id", "ts"], how="left", nulls_equal=True,
                              maintain_order="left")
    bought = bought.join(keys, on=["src_idx", "item_id", "ts"], how="left", nulls_equal=True, maintain_order="left")
    b_recent_f = bought.filter(recent.fill_null(False))
    b_recent, b_recent_cell = b_recent_f["row"].to_numpy().astype(np.int64), \
        (b_recent_f["src_idx"] * n_topics + b_recent_f["t"]).to_numpy()
    b_recent_key = b_recent_f["key"].fill_null(-1).cast(pl.Int64).to_numpy()
    b_before, b_before_cell = rows_cells(bought, before)
    # follows made before now, self-follows left out, counted once per (follower, leader) pair
    follows = edges.filter((pl.col("kind") == "follows") & (pl.col("ts").is_null() | before.fill_null(False))
                           & (pl.col("src_idx") != pl.col("dst_idx")))
    pairs = follows.select("src_idx", "dst_idx").unique().sort("dst_idx", "src_idx").with_row_index("pair")
    follows = follows.join(pairs, on=["src_idx", "dst_idx"], how="left")
    f_rows, f_pair = follows["row"].to_numpy().astype(np.int64), follows["pair"].to_numpy().astype(np.int64)
    leader, follower = pairs["dst_idx"].to_numpy().astype(np.int64), pairs["src_idx"].to_numpy().astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(leader, minlength=n), out=indptr[1:])
    r_rows, r_key = review_key["row"].to_numpy().astype(np.int64), review_key["key"].to_numpy().astype(np.int64)

    cells = n * n_topics

    def recent_acts(ce: np.ndarray, cx: np.ndarray) -> np.ndarray:
        reviewed = np.bincount(r_key, weights=ce[r_rows], minlength=keys.height) > 0  # keys left in the resample
        own = cx[b_recent] * ~np.where(b_recent_key >= 0, reviewed[np.maximum(b_recent_key, 0)], False)
        return (np.bincount(a_recent_cell, weights=ce[a_recent], minlength=cells)
                + np.bincount(b_recent_cell, weights=own, minlength=cells)).reshape(n, n_topics)

    chosen = list(dict.fromkeys(point["topic"].to_list()))
    cols = np.array([graph.topic_of(t) for t in chosen], dtype=np.int64)
    where = point.select(pl.col("person_id").replace_strict(graph.person_index["person_id"],
                                                            graph.person_index["idx"], return_dtype=pl.Int64),
                         pl.col("topic").replace_strict(chosen, list(range(len(chosen))), return_dtype=pl.Int64))
    p_idx, t_idx = where["person_id"].to_numpy(), where["topic"].to_numpy()
    # a resample only removes or repeats rows: who can score > 0 in one has a follower and recent acts
    # in the data, counting every purchase (one reviewed at the same moment counts once the review is gone)
    followed = np.diff(indptr) > 0
    can = recent_acts(np.zeros(graph.edges.height), np.ones(graph.transactions.height))[:, cols] > 0
    can |= (recent_acts(np.ones(graph.edges.height), np.zeros(graph.transactions.height))[:, cols] > 0)
    can &= followed[:, None]
    leaders = np.flatnonzero(can.any(axis=1))
    slot = np.full(n, -1, dtype=np.int64)
    slot[leaders] = np.arange(len(leaders))
    sizes = indptr[leaders + 1] - indptr[leaders]
    sub_indptr = np.zeros(len(leaders) + 1, dtype=np.int64)
    np.cumsum(sizes, out=sub_indptr[1:])
    pair_sel = np.repeat(indptr[leaders] - sub_indptr[:-1], sizes) + np.arange(sub_indptr[-1])
    blocks = {}
    for t, rows in _topic_blocks(point).items():
        keep = rows[can[p_idx[rows], t_idx[rows]]]
        blocks[t] = keep if len(keep) else rows[:1]  # one row says which resamples count for the topic
    listed = np.concatenate(list(blocks.values())) if blocks else np.zeros(0, np.int64)
    at_slot, at_col = slot[p_idx[listed]], t_idx[listed]
    # the rows a resample's numbers depend on: acts of leaders on the topics and of their followers,
    # acts before now of their followers on the topics, their follows
    col_of = np.full(n_topics, -1, dtype=np.int64)
    col_of[cols] = np.arange(len(cols))
    is_follower = np.zeros(n, dtype=bool)
    is_follower[follower[pair_sel]] = True
    leads_pair = np.zeros(pairs.height, dtype=bool)
    leads_pair[pair_sel] = True

    def split(rows_: np.ndarray, cell_: np.ndarray, keep) -> list[np.ndarray]:
        # in person order: the kernel's writes per row then walk its arrays forwards (counts are
        # whole numbers, so the order of summing does not change them)
        k = np.flatnonzero(keep(cell_ // n_topics, col_of[cell_ % n_topics]))
        k = k[np.argsort(cell_[k], kind="stable")]
        return [rows_[k], cell_[k] // n_topics, cell_[k] % n_topics]

    def recent_keep(who: np.ndarray, c: np.ndarray) -> np.ndarray:  # followers' acts; leaders' on the topics
        return is_follower[who] | ((slot[who] >= 0) & (c >= 0))

    def before_keep(who: np.ndarray, c: np.ndarray) -> np.ndarray:  # followers' acts on the topics
        return is_follower[who] & (c >= 0)

    ar = split(a_recent, a_recent_cell, recent_keep)
    br = split(np.arange(len(b_recent)), b_recent_cell, recent_keep)
    br_key = b_recent_key[br[0]]
    br[0] = b_recent[br[0]]
    needed = np.zeros(keys.height + 1, dtype=bool)
    needed[br_key[br_key >= 0]] = True
    rv = needed[r_key]
    ab = split(a_before, a_before_cell, before_keep)
    bb = split(b_before, b_before_cell, before_keep)
    fk = np.flatnonzero(leads_pair[f_pair])
    fk = fk[np.argsort(f_pair[fk], kind="stable")]
    draws = np.full((len(listed), int(resamples)), np.nan)
    failed = 0
    step = 16  # resamples per call (a multiple of 4): two (step x listed) float arrays at a time
    for lo in range(0, int(resamples), step):
        width = min(step, int(resamples) - lo)
        acts_b = np.empty((width, len(listed)))
        new_b = np.empty((width, len(listed)))
        positive = np.zeros(width, dtype=np.bool_)
        # the counts resample_graph's rows get (row_counts), summed per cell
        new_follower_counts(np.uint64(seed), lo, width, len(cols), col_of, r_rows[rv], r_key[rv], keys.height,
                            *ar, *br, br_key, *ab, *bb, f_rows[fk], f_pair[fk], pairs.height, slot, sub_indptr,
                            pair_sel, follower, at_slot, at_col, acts_b, new_b, positive)
        values = np.log1p(acts_b) * new_b
        values[~positive] = np.nan  # nobody active lately with a new follower: no ranks in this resample
        failed += int((~positive).sum())
        draws[:, lo:lo + width] = values.T
    if failed == resamples:
        raise GraphkitError("every resample left nobody active lately with an active follower new to the topics")
    out, at = {}, 0
    for t, rows in blocks.items():
        out[t] = (rows, draws[at:at + len(rows)])
        at += len(rows)
    return out, failed


# ------------------------------------------------------------------------------ summaries
def _with_ranks(point: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ("person_id", "topic", "score") if c not in point.columns]
    if missing:
        raise GraphkitError(f"a score table needs columns person_id, topic, score; it lacks {missing}")
    if "rank" in point.columns:
        return point
    return point.with_columns(
        pl.struct(pl.col("score").neg(), "person_id").rank("ordinal").over("topic").cast(pl.UInt32).alias("rank"))


def _topic_blocks(point: pl.DataFrame) -> dict[str, np.ndarray]:
    """Row positions of each topic's rows in ``point``, topics in order of first appearance."""
    idx = point.select("topic").with_row_index("_row").group_by("topic", maintain_order=True).agg("_row")
    return {t: np.asarray(r, dtype=np.int64) for t, r in idx.iter_rows()}


def summarise(
    point: pl.DataFrame,
    per_topic: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    level: float,
    top_k: Sequence[int],
    seed: int,
    tie_rel: float = 1e-9,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Intervals, ``p_top_<k>`` and stability from resampled scores.

    ``per_topic[topic] = (rows, draws)``: ``draws[i, b]`` is the score in
    resample ``b`` of the person on row ``rows[i]`` of ``point`` (NaN in a
    resample that has no scores on the topic). Rows of the topic not listed
    score 0 in every resample. Returns ``point`` with
    :func:`uncertainty_columns` and the stability table.

    >>> p = pl.DataFrame({"person_id": ["a", "b", "c"], "topic": "t", "score": [2.0, 1.0, 0.0], "rank": [1, 2, 3]})
    >>> d = np.array([[2.0, 1.0, 3.0, 2.0], [1.0, 2.0, 1.0, 1.0]])
    >>> t, s = summarise(p, {"t": (np.array([0, 1]), d)}, level=0.5, top_k=(1,), seed=0)
    >>> t["p_top_1"].to_list(), t["rank_high"].to_list(), s["expected_overlap"].to_list()
    ([0.75, 0.25, 0.0], [2, 2, 3], [0.5])
    """
    from graphkit.scoring.linalg import rank_columns, row_summary

    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    h = point.height
    score_low = np.zeros(h)
    score_high = np.zeros(h)
    rank_low = np.zeros(h, dtype=np.int64)
    rank_high = np.zeros(h, dtype=np.int64)
    p_top = {k: np.zeros(h) for k in top_k}
    missing = np.zeros(h, dtype=bool)
    blocks = _topic_blocks(point)
    point_rank = point["rank"].to_numpy().astype(np.int64)
    point_score = point["score"].to_numpy().astype(np.float64)
    stability = []
    for ti, (topic, all_rows) in enumerate(blocks.items()):
        rows, draws = per_topic.get(topic, (np.zeros(0, np.int64), np.zeros((0, 0))))
        valid = ~np.isnan(draws).all(axis=0) if draws.size else np.zeros(draws.shape[1] if draws.ndim == 2 else 0, bool)
        s = (draws if valid.all() else draws[:, valid]) if draws.size else np.zeros((len(rows), 0))
        b = s.shape[1]
        if b == 0:
            missing[all_rows] = True
            for k in top_k:
                stability.append((topic, k, 0, None, None))
            continue
        m = len(rows)
        ranks_t = np.empty((b, m), dtype=np.int32)
        n_pos = np.zeros(b, dtype=np.int64)
        s = np.asarray(s, dtype=np.float64)
        if m:
            rank_columns(np.ascontiguousarray(s.T), int(seed), ti, float(tie_rel), ranks_t, n_pos)
        zero_rank = n_pos + 1  # everyone not listed scores 0
        others = np.setdiff1d(all_rows, rows, assume_unique=True)
        ks = np.asarray(top_k, dtype=np.int64)
        out_s = np.empty((m, 2))
        out_r = np.empty((m, 2), dtype=np.int64)
        counts = np.empty((m, len(ks)), dtype=np.int64)
        if m:
            row_summary(s, np.ascontiguousarray(ranks_t.T), lo_q, hi_q, ks, out_s, out_r, counts)
        score_low[rows], score_high[rows] = out_s[:, 0], out_s[:, 1]
        rank_low[rows], rank_high[rows] = out_r[:, 0], out_r[:, 1]
        rank_low[others] = np.quantile(zero_rank, lo_q, method="lower")
        rank_high[others] = np.quantile(zero_rank, hi_q, method="higher")
        block_top = all_rows[(point_rank[all_rows] <= max(top_k)) & (point_score[all_rows] > 0)]
        for j, k in enumerate(top_k):
            c = counts[:, j]
            p_top[k][rows] = c / b
            expected = float((c * (c - 1.0)).sum() / (b * (b - 1) * k)) if b > 1 else None
            top = block_top[point_rank[block_top] <= k]
            point_overlap = float(p_top[k][top].mean()) if len(top) else None
            stability.append((topic, k, b, expected, point_overlap))
    columns = [
        pl.Series("score_low", score_low), pl.Series("score_high", score_high),
        pl.Series("rank_low", rank_low, dtype=pl.UInt32), pl.Series("rank_high", rank_high, dtype=pl.UInt32),
        *(pl.Series(f"p_top_{k}", p_top[k]) for k in top_k),
    ]
    table = point.drop([c.name for c in columns], strict=False).with_columns(columns)
    if missing.any():  # topics no resample kept: no intervals
        gone = pl.lit(pl.Series(missing))
        table = table.with_columns(pl.when(gone).then(None).otherwise(pl.col(c.name)).alias(c.name) for c in columns)
    stab = pl.DataFrame(stability, schema={"topic": pl.String, "k": pl.UInt32, "resamples": pl.UInt32,
                                           "expected_overlap": pl.Float64, "point_overlap": pl.Float64}, orient="row")
    return table, stab


def resample_ranks(draws: np.ndarray, *, seed: int = 0, topic: int = 0, tie_rel: float = 1e-9) -> np.ndarray:
    """Ranks (1 = top) within each resample (column) of ``draws`` (people x resamples), as the summaries use them.

    Positive scores are ranked from 1, ties (within ``tie_rel``) in a random
    order drawn from (seed, topic, resample); a score of 0 takes the rank
    after the last positive one.

    >>> resample_ranks(np.array([[3.0, 1.0], [2.0, 2.0], [0.0, 0.0]])).tolist()
    [[1, 2], [2, 1], [3, 3]]
    """
    from graphkit.scoring.linalg import rank_columns

    d = np.asarray(draws, dtype=np.float64)
    m, b = d.shape
    ranks_t = np.empty((b, m), dtype=np.int32)
    n_pos = np.zeros(b, dtype=np.int64)
    if m:
        rank_columns(np.ascontiguousarray(d.T), int(seed), int(topic), float(tie_rel), ranks_t, n_pos)
    return ranks_t.T.astype(np.int64)


__all__ = ["LEVEL", "RESAMPLED", "RESAMPLES", "RESAMPLE_TOL", "TOP_K", "Uncertainty", "bootstrap", "check_options",
           "influence_bootstrap", "influence_draws", "new_follower_bootstrap", "new_follower_draws",
           "rescoring_draws", "resample_graph", "resample_ranks", "row_counts",
           "summarise", "uncertainty_columns"]
