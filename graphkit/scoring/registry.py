"""Ranking scores by name: the one place that decides the default.

Two scores rank people on a topic, with the same columns (``person_id``,
``topic``, ``score``, ``rank``, ``percentile``, ``audience``,
``active_audience``, ``credibility``):

- ``"topic_influence"``: personalised PageRank per topic
  (:func:`graphkit.scoring.influence.topic_influence`), who holds attention on a topic;
- ``"expected_reach"``: followers new to the topic likely to take it up
  (:func:`graphkit.scoring.reach.expected_reach`).

:data:`DEFAULT_SCORE` is ``"expected_reach"`` because the backtest supports it
(``docs/backtest.md``): on the bundled Ciao data, learning before 2010-01-01 and
counting followers' first adoptions in the next year, NDCG@10 is 0.666
[0.625, 0.725] for expected reach, 0.234 [0.177, 0.289] for audience size and
0.123 [0.101, 0.146] for topic influence (95% bootstrap intervals over people).
Expected reach learns from dated activity; on undated data it raises, and
``score="topic_influence"`` is the choice to make.

>>> from graphkit.io.datasets import load_ciao
>>> t = score_table(load_ciao(), score="topic_influence", topics=["Books"])
>>> t.columns[:4], t["topic"].unique().to_list()
(['person_id', 'topic', 'score', 'rank'], ['Books'])
"""

from __future__ import annotations

from typing import Callable, Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window
from graphkit.scoring.uncertainty import (
    LEVEL,
    RESAMPLES,
    TOP_K,
    Uncertainty,
    bootstrap,
    check_options,
    influence_bootstrap,
)

SCORES: tuple[str, ...] = ("expected_reach", "topic_influence")
DEFAULT_SCORE = "expected_reach"


def check_score(score: str) -> str:
    """``score`` if it names a known score; otherwise a clear error with the choices."""
    if score not in SCORES:
        raise GraphkitError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    return score


def score_table(
    graph: TopicGraph,
    *,
    score: str = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    uncertainty: int | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """The table of ``score`` for ``topics`` (all topics when None) over ``window``.

    With ``uncertainty=N`` (bootstrap resamples, e.g. 100) the table gains
    90 % intervals on score and rank and ``p_top_1``, ``p_top_10`` (see
    :func:`rank_uncertainty`, which also gives each topic's stability).
    """
    if uncertainty is not None:
        return rank_uncertainty(graph, score=score, topics=topics, window=window, resamples=uncertainty,
                                seed=seed).table
    check_score(score)
    if score == "expected_reach":
        from graphkit.scoring.reach import expected_reach

        try:
            return expected_reach(graph, topics=None if topics is None else list(topics), window=window).table
        except GraphkitError as exc:  # e.g. undated or too little history to learn propensities from
            raise GraphkitError(f"{exc}; or rank by score='topic_influence'") from exc
    from graphkit.scoring.influence import topic_influence

    return topic_influence(graph, topics=topics, window=window).table


def rank_uncertainty(
    graph: TopicGraph,
    *,
    score: str | Callable[[TopicGraph], pl.DataFrame] = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    top_k: Sequence[int] = TOP_K,
) -> Uncertainty:
    """How sure each rank of ``score`` is: bootstrap intervals, ``p_top_<k>`` and each topic's stability.

    ``score`` is a registered score name (default :data:`DEFAULT_SCORE`) or
    any function ``graph -> table`` with ``person_id``, ``topic``, ``score``.
    Each of ``resamples`` resamples (seeded by ``seed``) counts every
    contribution, follow and purchase ``Poisson(1)`` times and scores again
    (topic influence solves them as extra columns of its batched solver).
    Returns an :class:`~graphkit.scoring.uncertainty.Uncertainty`: ``table``
    (the score table with ``score_low``, ``score_high``, ``rank_low``,
    ``rank_high`` -- the central ``level`` range over resamples -- and
    ``p_top_<k>`` for each k of ``top_k``) and ``stability`` (per topic and
    k: the share of the top k two resamples share, and the share of the
    published top k a resample keeps). See :mod:`graphkit.scoring.uncertainty`.

    >>> from graphkit.io.datasets import load_ciao
    >>> u = rank_uncertainty(load_ciao(), score="topic_influence", topics=["Books"], resamples=20)
    >>> u.table.sort("rank").select("rank", "rank_low", "rank_high").row(0)[0]
    1
    >>> u.stability.columns
    ['topic', 'k', 'resamples', 'expected_overlap', 'point_overlap']
    """
    ks = check_options(resamples, level, top_k, seed)
    if callable(score):
        chosen = list(topics) if topics is not None else None

        def scorer(g: TopicGraph) -> pl.DataFrame:
            t = score(g)
            return t if chosen is None else t.filter(pl.col("topic").is_in(chosen))

        return bootstrap(graph, scorer, resamples=resamples, seed=seed, level=level, top_k=ks)
    check_score(score)
    if score == "topic_influence":
        from graphkit.model.topics import topic_structure
        from graphkit.scoring.influence import topic_influence

        res = topic_influence(graph, topics=topics, window=window)
        structure = topic_structure(graph, window=window)
        topic_idx = [graph.topic_of(t) for t in res.parameters["topics"]]
        u = influence_bootstrap(graph, structure, topic_idx, res.table, damping_factor=0.85, resamples=resamples,
                                seed=seed, level=level, top_k=ks)
        return Uncertainty(u.table, u.stability, {**u.parameters, "score": score}, u.seconds)
    point = score_table(graph, score=score, topics=topics, window=window)
    chosen = sorted(point["topic"].unique().to_list())

    def rescore(g: TopicGraph) -> pl.DataFrame:
        return score_table(g, score=score, topics=chosen, window=window)

    u = bootstrap(graph, rescore, point=point, resamples=resamples, seed=seed, level=level, top_k=ks)
    return Uncertainty(u.table, u.stability, {**u.parameters, "score": score}, u.seconds)
