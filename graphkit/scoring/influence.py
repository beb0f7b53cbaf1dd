"""Topic influence: personalised PageRank on every topic's attention layer.

>>> from graphkit.io.datasets import load_ciao
>>> res = topic_influence(load_ciao(), topics=["Books"])
>>> res.table.columns
['person_id', 'topic', 'score', 'rank', 'percentile', 'audience', 'active_audience', 'credibility']
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import (
    TopicStructure,
    Window,
    normalize_window,
    topic_structure,
)
from graphkit.scoring.linalg import TopicSystem, solve_gds, solve_ppr
from graphkit.scoring.results import InfluenceResult
from graphkit.scoring.uncertainty import (
    LEVEL,
    TOP_K,
    check_options,
    influence_bootstrap,
)

#: Engines of :func:`topic_influence`.
ENGINES: tuple[str, ...] = ("batched", "igraph", "spark")
#: Variants of :func:`topic_influence`.
VARIANTS: tuple[str, ...] = ("standard", "gds")
#: ``max_iter`` and ``tol`` when not given, per variant (GDS: ``maxIterations`` 20, ``tolerance`` 1e-7).
DEFAULTS: dict[str, tuple[int, float]] = {"standard": (100, 1e-10), "gds": (20, 1e-7)}


def topic_influence(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    engine: str = "batched",
    variant: str = "standard",
    damping_factor: float = 0.85,
    max_iter: int | None = None,
    tol: float | None = None,
    window: Window | None = None,
    dtype: str = "float64",
    strategy: str = "auto",
    partitions: int | None = None,
    uncertainty: int | None = None,
    seed: int = 0,
) -> InfluenceResult:
    """Influence of every person on every topic: personalised PageRank per topic.

    Returns an :class:`~graphkit.scoring.results.InfluenceResult` whose ``table`` has
    one row per (person, topic) for every person and every requested topic:
    ``person_id``, ``topic``, ``score`` (f64, sums to 1 per topic), ``rank``
    (u32, 1 = top; ties broken by person_id), ``percentile`` (f64,
    ``100 * (1 - (r - 1) / n_people)`` with ``r`` the lowest rank among the
    person's ties, 100 = top: people tied at 0 are never "top"), ``audience`` (u32,
    followers), ``active_audience`` (u32, followers active in the window) and
    ``credibility`` (f64, share of positive attention received on the topic;
    null when none was received).

    Parameters
    ----------
    graph : the :class:`~graphkit.model.graph.TopicGraph`.
    topics : topics to score; ``None`` scores every topic somebody is active
        on in the window. A requested topic nobody is active on raises.
    engine : ``"batched"`` (default; every topic in one solver pass, see
        :mod:`graphkit.scoring.linalg`) or ``"igraph"`` (the reference: igraph's
        ``personalized_pagerank`` with PRPACK on each topic's layer, one
        topic at a time; it reports no iteration count) or ``"spark"`` (Apache
        Spark: the active session, or ``local[2]``; needs
        ``pip install 'graphkit[spark]'``; see :mod:`graphkit.scoring.spark`).
    variant : ``"standard"`` (personalised PageRank, scores sum to 1 per
        topic) or ``"gds"`` (Neo4j GDS ``gds.pageRank`` semantics, to compare
        numbers with GDS: scores are *not* normalised; see below).
    damping_factor : probability of following attention rather than
        teleporting (igraph ``damping``, networkx ``alpha``, GDS
        ``dampingFactor``).
    max_iter, tol : standard: a topic stops when one Gauss-Seidel sweep
        changes its scores by less than ``tol`` in L1 (relative to their sum;
        float32 stops at 1e-6 at best), or after ``max_iter`` sweeps (then
        ``converged`` is False); defaults 100 and 1e-10 (the Spark
        ``"iterations"`` strategy, whose Jacobi iterations need about twice
        as many as Gauss-Seidel sweeps: 300 and 1e-10). gds: GDS
        ``maxIterations`` and per-node ``tolerance``; defaults 20 and 1e-7.
    window : ``(start, end)`` datetimes (either may be None): events count
        when ``start <= ts < end``.
    dtype : ``"float64"`` or ``"float32"`` for the batched solver's arithmetic.
    strategy : Spark engine only: ``"topics"`` (each task solves its share of
        the topics with the batched solver on a broadcast structure: the
        batched engine's scores exactly), ``"iterations"`` (the model in Spark
        SQL and PageRank as DataFrame iterations, for walks that do not fit a
        worker; agrees to 1e-6 at the default ``tol``) or ``"auto"`` (the
        first while the broadcast structure is under 1 GiB).
    partitions : Spark engine only: how many tasks share the work (default:
        the session's default parallelism).
    uncertainty : a number of bootstrap resamples (e.g. 100): the table
        gains ``score_low``, ``score_high``, ``rank_low``, ``rank_high``
        (90 % intervals), ``p_top_1`` and ``p_top_10``, and the result's
        ``stability`` the overlap of each topic's top 1 and top 10 between
        resamples (:func:`graphkit.scoring.uncertainty.influence_bootstrap`:
        the resamples are extra columns of the batched solver, whatever the
        engine). Standard variant only.
    seed : seed of those resamples (the same seed gives the same intervals).

    Notes
    -----
    The model. Attention flows from the one who follows, mentions, replies to
    or shares to the one followed (``src -> dst``); a referral (``src``
    referred ``dst``) is attention from ``dst`` to ``src``. On topic *t*, the
    weight person *i* gives person *j* is the sum of:

    * every positive interaction (mentions, replies, shares, referrals) from
      *i* to *j* labelled *t* in the window, with its weight;
    * every positive follow of *j* by *i* (made before the window's end) and
      every positive *unlabelled* interaction or referral in the window, with
      its weight times ``activity[j, t] * credibility[j, t]``: a follower
      attends to the people they follow on a topic in proportion to how much
      those people contribute on it, discounted by how negatively that topic's
      contributions are received. When *j* received no attention on *t*, the
      neutral credibility 1 is used (no evidence of mockery).

    Negative edges (sign -1) pass nothing; self-loops pass nothing. Passing
    nothing does not redirect attention to the giver's other targets: a
    giver's walk leaves along an edge with probability ``weight / all the
    attention the giver pays on t`` (negative edges and the credibility-
    discounted part of follows included), and the rest returns to the
    teleport vector -- so the followers of a mocked account do not pass
    influence to it just because they follow nobody else.
    ``activity[i, t]`` counts *i*'s acts on *t* in the window: the mentions,
    replies, shares and reviews *i* authored labelled *t* (whatever their
    sign), and the purchases *i* made of items whose topic is *t* -- buying
    is activity on the item's topic, so a customer base with follows and
    purchases but no topic-labelled posts is scored too. A purchase the
    buyer reviewed at the same moment (same item, same time) is one act,
    counted once (:attr:`~graphkit.model.graph.TopicGraph.purchase_acts`). A person with
    no activity at all in the window is *inactive*: their attention is no
    evidence, so their row is empty. ``credibility[j, t]`` is the positive
    share of the weight of the *t*-labelled interactions *j* received.

    Scores are the stationary distribution of a walk that, with probability
    ``damping_factor``, follows a giver's attention in proportion to its
    weights, and otherwise teleports to a person active on *t* in proportion
    to ``activity[:, t]`` (inactive people receive no teleport). A person with
    no outgoing attention on *t* (dangling) sends all their mass to that
    teleport vector, as igraph / PRPACK do for ``reset``, and so does the
    attention that passes nothing; scores therefore sum to 1 on each topic.
    ``engine="igraph"`` obtains the same walk from PRPACK by sending that
    attention to one extra sink vertex (see ``_igraph_engine``).

    On Ciao the interactions are reviews of items: they make people active
    on a category but carry no attention between people; follows do.

    ``variant="gds"`` gives, per topic, what
    ``gds.pageRank.stream(g, {relationshipWeightProperty: 'weight',
    sourceNodes: [[person, activity on t], ...], dampingFactor,
    maxIterations: max_iter, tolerance: tol})`` returns when ``g`` is the
    topic's layer (:func:`graphkit.model.topics.topic_layer`) plus one sink node
    that receives, from each giver, the attention that passes nothing (so a
    giver's weights add up to all the attention it pays, as in the standard
    variant; the sink's own score is dropped). It is GDS's Pregel iteration
    (:func:`graphkit.scoring.linalg.solve_gds`): a person starts at
    ``(1 - d) * activity``, passes on only the increase of their score while
    it exceeds ``tol``, dangling mass is lost, and scores are not normalised.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(
    ...     pl.DataFrame({"person_id": ["ann", "bob", "cat"]}),
    ...     pl.DataFrame({"src": ["bob", "cat", "ann", "bob"], "dst": ["ann", "ann", "bob", "ann"],
    ...                   "kind": ["follows", "follows", "shares", "shares"], "topic": [None, None, "frogs", "frogs"]}))
    >>> res = topic_influence(g, engine="igraph")
    >>> res.table.select("person_id", "rank", "audience").rows()
    [('ann', 1, 2), ('bob', 2, 0), ('cat', 3, 0)]
    """
    if engine not in ENGINES:
        raise GraphkitError(f"engine must be one of {ENGINES}; got {engine!r}")
    if variant not in VARIANTS:
        raise GraphkitError(f"variant must be one of {VARIANTS}; got {variant!r}")
    if variant == "gds" and engine != "batched":
        raise GraphkitError("variant='gds' is computed by the batched engine only; use engine='batched'")
    if engine != "spark" and (strategy != "auto" or partitions is not None):
        raise GraphkitError("strategy= and partitions= are options of engine='spark'")
    if engine == "spark":
        from graphkit.scoring.spark import check_strategy

        check_strategy(strategy)
    if engine == "spark" and dtype != "float64":
        raise GraphkitError("engine='spark' computes in float64; leave dtype='float64'")
    max_iter_given = max_iter
    max_iter = DEFAULTS[variant][0] if max_iter is None else max_iter
    tol = DEFAULTS[variant][1] if tol is None else tol
    if not 0.0 <= damping_factor < 1.0:
        raise GraphkitError(f"damping_factor must be in [0, 1); got {damping_factor!r}")
    if isinstance(max_iter, bool) or int(max_iter) != max_iter or max_iter < 1:
        raise GraphkitError(f"max_iter must be a positive integer; got {max_iter!r}")
    if not tol > 0:
        raise GraphkitError(f"tol must be > 0; got {tol!r}")
    if dtype not in ("float64", "float32"):
        raise GraphkitError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    if uncertainty is not None:
        check_options(uncertainty, LEVEL, TOP_K, seed)
        if variant != "standard":
            raise GraphkitError("uncertainty= is computed for variant='standard' only")
    started = time.perf_counter()
    start, end = normalize_window(window)
    structure = topic_structure(graph, window=(start, end))
    topic_idx = _requested_topics(graph, structure, topics)

    if engine == "igraph":
        restart = structure.restart(topic_idx)
        scores = _igraph_engine(structure, topic_idx, restart, damping_factor)
        iterations, converged, residuals = None, True, None
    elif engine == "spark":
        from graphkit.scoring.spark import spark_scores

        sol = spark_scores(graph, structure, topic_idx, strategy=strategy, partitions=partitions,
                           damping_factor=damping_factor, tol=float(tol),
                           max_iter=None if max_iter_given is None else int(max_iter))
        scores, residuals = sol.scores, sol.residuals
        iterations, converged = int(sol.iterations.max()), bool(sol.converged.all())
        strategy, partitions, max_iter = sol.strategy, sol.partitions, sol.max_iter
    else:
        structure.restart(topic_idx)  # refuses topics nobody is active on
        system = topic_system(structure, topic_idx, dtype=dtype)
        solve = solve_ppr if variant == "standard" else solve_gds
        sol = solve(system, damping_factor=damping_factor, max_iter=int(max_iter), tol=float(tol))
        scores, residuals = sol.scores, sol.residuals
        iterations, converged = int(sol.iterations.max()), bool(sol.converged.all())

    names = [structure.topics[t] for t in topic_idx]
    tie_rel = max(1e-9, 8 * float(np.finfo(dtype).eps))  # below solver accuracy: ties
    table = influence_table(graph, structure, topic_idx, scores, tie_rel=tie_rel)
    stability = None
    if uncertainty is not None:
        u = influence_bootstrap(graph, structure, topic_idx, table, damping_factor=damping_factor,
                                resamples=uncertainty, seed=seed)
        table, stability = u.table, u.stability
    parameters = {
        "topics": names,
        "engine": engine,
        "variant": variant,
        "damping_factor": damping_factor,
        "max_iter": max_iter,
        "tol": tol,
        "window": (start, end),
        "dtype": dtype,
    }
    if engine == "spark":
        parameters.update(strategy=strategy, partitions=partitions)
    if uncertainty is not None:
        parameters["uncertainty"] = u.parameters
    return InfluenceResult(
        table=table,
        parameters=parameters,
        iterations=iterations,
        converged=converged,
        residuals={n: float(r) for n, r in zip(names, residuals)} if residuals is not None else {},
        seconds=time.perf_counter() - started,
        stability=stability,
    )


def _requested_topics(graph: TopicGraph, structure: TopicStructure, topics: Sequence[str] | None) -> list[int]:
    if topics is None:
        live = [t for t in range(len(structure.topics)) if structure.activity_t[t].sum() > 0]
        if not live:
            raise GraphkitError(
                "nobody is active on any topic in the window (no contribution labelled with a topic, no purchase "
                "of an item that has a topic), so there is no topic to score; give items a topic, label "
                "contributions with one, or widen the window (--start/--end)")
        return live
    if isinstance(topics, str):
        raise GraphkitError(f"topics must be a list of topic names, not a single string; use topics=[{topics!r}]")
    idx = [graph.topic_of(t) for t in topics]
    if len(set(idx)) != len(idx):
        raise GraphkitError(f"topics lists a topic more than once: {list(topics)}")
    if not idx:
        raise GraphkitError("topics is empty; pass None to score every topic")
    return idx


def _igraph_engine(structure: TopicStructure, topic_idx: list[int], restart: np.ndarray, damping_factor: float) -> np.ndarray:
    """The reference: igraph's PRPACK personalised PageRank on each topic's weighted layer.

    Attention that passes nothing is sent to one extra sink vertex with no
    teleport; the sink is dangling, so its mass returns to the teleport vector
    at the next step. Watching the walk only off the sink (dropping the sink's
    score and renormalising) gives exactly the model's walk, where that
    attention returns to the teleport vector at once.
    """
    import igraph as ig

    n = structure.n_people
    scores = np.empty((n, len(topic_idx)))
    for k, t in enumerate(topic_idx):
        layer = structure.layer(t)
        unpassed = structure.unpassed(t, layer)
        w = layer.tocoo()
        leak = np.flatnonzero(unpassed)
        edges = np.column_stack([np.concatenate([w.row, leak]), np.concatenate([w.col, np.full(len(leak), n)])])
        g = ig.Graph(n=n + 1, edges=edges, directed=True)
        g.es["weight"] = np.concatenate([w.data, unpassed[leak]])
        pr = np.asarray(g.personalized_pagerank(
            directed=True, damping=damping_factor, reset=np.append(restart[:, k], 0.0), weights="weight",
            implementation="prpack",
        ))
        scores[:, k] = pr[:n] / pr[:n].sum()
    return scores


def topic_system(structure: TopicStructure, topic_idx: Sequence[int], *, dtype: str = "float64") -> TopicSystem:
    """The requested topics' walks as one :class:`~graphkit.scoring.linalg.TopicSystem` (columns in ``topic_idx`` order).

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.model.topics import topic_structure
    >>> s = topic_system(topic_structure(load_ciao()), [0, 1])
    >>> s.n_topics, s.n_states <= 2 * 7375
    (2, True)
    """
    topic_idx = list(topic_idx)
    col_of = np.full(len(structure.topics), -1, dtype=np.int64)
    col_of[topic_idx] = np.arange(len(topic_idx))
    col = col_of[structure.topical_topic]
    keep = col >= 0
    topical = (structure.topical_src, structure.topical_dst, col, structure.topical_weight)
    if not keep.all():
        topical = tuple(a[keep] for a in topical)
    # consecutive topics are a view of the topic-major arrays, not a copy
    rows = slice(topic_idx[0], topic_idx[-1] + 1) if topic_idx == list(range(topic_idx[0], topic_idx[-1] + 1)) else topic_idx
    return TopicSystem.build(structure.general, structure.follow_scale_t[rows], topical,
                             restart=structure.activity_t[rows], out=structure.out_weight_t[rows],
                             dtype=dtype, topic_major=True)


def influence_table(
    graph: TopicGraph, structure: TopicStructure, topic_idx: list[int], scores: np.ndarray, *, tie_rel: float
) -> pl.DataFrame:
    """Long table of scores (n x len(topic_idx)): one row per (person, topic), with the
    contract columns of :func:`topic_influence`; any per-topic score (e.g. potential reach)
    gets the same ranks, tie-aware percentiles, audience and credibility this way.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.model.topics import topic_structure
    >>> g = load_ciao()
    >>> t = influence_table(g, topic_structure(g), [0], np.ones((g.n_people, 1)), tie_rel=1e-9)
    >>> t["rank"].min(), round(t["percentile"].max(), 4)  # one big tie: nobody is "top"
    (1, 0.0136)
    """
    n = structure.n_people
    ids = graph.people["person_id"]
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[ids.arg_sort().to_numpy()] = np.arange(n)
    frames = []
    for k, t in enumerate(topic_idx):
        s = np.clip(scores[:, k].astype(np.float64), 0.0, None)  # PRPACK can return -0.0
        rank = rank_scores(s, id_rank, tie_rel=tie_rel)
        frames.append(
            pl.DataFrame(
                {
                    "person_id": ids,
                    "topic": pl.repeat(structure.topics[t], n, dtype=pl.String, eager=True),
                    "score": s,
                    "rank": rank,
                    "percentile": tie_floor_percentiles(s, rank, tie_rel=tie_rel),
                    "audience": structure.audience,
                    "active_audience": structure.active_audience,
                    "credibility": pl.Series(structure.credibility[:, t]).fill_nan(None),
                }
            )
        )
    return pl.concat(frames)


def tie_floor_percentiles(scores: np.ndarray, rank: np.ndarray, *, tie_rel: float = 1e-9) -> np.ndarray:
    """Percentiles (100 = top) where tied scores all take the percentile of the tie's lowest rank.

    ``100 * (1 - (r - 1) / n)`` with ``r`` the last rank of the person's tie
    group, so people with no influence on a topic (a large tie at 0) sit at
    the bottom and are never "top", whatever their id. ``rank`` is a
    permutation of ``1..n``, as :func:`rank_scores` returns.

    >>> s = np.array([0.5, 0.0, 0.0, 0.5 - 1e-15])
    >>> tie_floor_percentiles(s, rank_scores(s, np.arange(4))).tolist()
    [75.0, 25.0, 25.0, 75.0]
    """
    n = len(scores)
    order = np.empty(n, dtype=np.int64)
    order[rank.astype(np.int64) - 1] = np.arange(n)  # rank is a permutation of 1..n: invert it
    s = scores[order]
    new_group = np.empty(n, dtype=bool)
    new_group[:1] = True
    new_group[1:] = (s[:-1] - s[1:]) > tie_rel * s[:-1]
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:], n]  # last rank of each group = its exclusive end position
    last = np.repeat(ends, np.diff(np.r_[starts, n]))
    out = np.empty(n, dtype=np.float64)
    out[order] = 100.0 * (1.0 - (last - 1.0) / n)
    return out


def rank_scores(scores: np.ndarray, tiebreak: np.ndarray, *, tie_rel: float = 1e-9) -> np.ndarray:
    """Ranks (1 = highest score, UInt32). Scores within ``tie_rel`` (relative) of their
    neighbour in sorted order are ties, ordered by ``tiebreak`` ascending: two engines
    that differ only by rounding noise then rank people identically.

    >>> rank_scores(np.array([0.2, 0.5, 0.2 + 1e-15, 0.1]), np.array([1, 0, 0, 2])).tolist()
    [3, 1, 2, 4]
    """
    n = len(scores)
    # Most people score exactly 0 on a topic (not live on it): those form one tie, ranked
    # last by tiebreak alone, so only the positive scores need the two-key sort.
    zero = scores == 0
    if scores.min(initial=0.0) >= 0 and zero.any():
        rest = np.flatnonzero(~zero)
        order = np.concatenate([rest[_tie_order(scores[rest], tiebreak[rest], tie_rel)],
                                np.flatnonzero(zero)[np.argsort(tiebreak[zero], kind="stable")]])
    else:
        order = _tie_order(scores, tiebreak, tie_rel)
    rank = np.empty(n, dtype=np.uint32)
    rank[order] = np.arange(1, n + 1, dtype=np.uint32)
    return rank


def _tie_order(scores: np.ndarray, tiebreak: np.ndarray, tie_rel: float) -> np.ndarray:
    """Positions by score descending, ties (within ``tie_rel``) by tiebreak ascending."""
    order = np.lexsort((tiebreak, -scores))
    s = scores[order]
    new_group = np.empty(len(s), dtype=bool)
    new_group[:1] = True
    new_group[1:] = (s[:-1] - s[1:]) > tie_rel * s[:-1]
    group = np.cumsum(new_group)
    # Equal scores are already in tiebreak order; only groups of near-equal ones need re-sorting.
    tied = np.flatnonzero(np.bincount(group)[group] > 1)
    if tied.size:
        sub = order[tied]
        order[tied] = sub[np.lexsort((tiebreak[sub], group[tied]))]
    return order
