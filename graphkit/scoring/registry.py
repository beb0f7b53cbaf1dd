"""Ranking scores by name: the one place that decides the default, and what to do when it cannot be computed.

Five scores rank people on a topic, with the same columns (``person_id``,
``topic``, ``score``, ``rank``, ``percentile``, ``audience``,
``active_audience``, ``credibility``):

- ``"posts_x_active_new_followers"``: ``log1p(the person's acts on the
  topic in the year before now) x their followers who are new to the topic
  and were active in that year``
  (:func:`graphkit.scoring.baselines.posts_x_active_new_followers`): who
  talks about the topic lately to people who could still take it up. Zero
  for a person with no activity on the topic in that year, however large
  their audience: the frog expert counts on frogs only;
- ``"topic_influence"``: personalised PageRank per topic
  (:func:`graphkit.scoring.influence.topic_influence`): who holds attention
  on a topic;
- ``"potential_reach"``: followers new to the topic likely to take it up
  (:func:`graphkit.scoring.reach.potential_reach`): what would happen *if*
  the person talked about the topic -- it does not ask whether they do, so
  it is never the default;
- ``"adoption_influence"``: followers expected to take the topic up after the
  person's activity on it, learned from the attributed adoptions of the
  years before (:func:`graphkit.scoring.topical.adoption_influence`); zero
  for a person who never acted on the topic. Ahead of the default on Ciao,
  level with it on CiaoDVD (``docs/backtest.md``);
- ``"adopter_pagerank"``: personalised PageRank per topic restarted at the
  people who could still take the topic up (weighted by their learned
  propensity), walking along their follows to followees active on it lately
  (:func:`graphkit.scoring.adopters.adopter_pagerank`): whose recent activity
  on the topic the possible adopters attend to; zero for a person with no
  activity on the topic in the last year. Ahead of the default on Ciao,
  level with it on CiaoDVD (``docs/backtest.md``);
- ``"expected_conversions"``: the sum over the person's followers new to the
  topic of the probability each takes it up after the person's activity on
  it, from a per-follower model learned on the years before
  (:func:`graphkit.scoring.exposure.expected_conversions`); zero for a
  person who never acted on the topic. Ahead of the default on Ciao, level
  with it on CiaoDVD (``docs/backtest.md``).

:data:`DEFAULT_SCORE` is ``"posts_x_active_new_followers"``, the strongest
simple topic-specific baseline of the attributed-adoption backtest
(``docs/backtest.md``). Every view that ranks people (the flagship query, the
value x influence matrix, advocate segments, engagement KPIs, ``explain``,
``graphkit demo`` and ``graphkit score``) reads it from here.

A new score is added here: its name in :data:`SCORES`, its words in
:data:`LABELS`, its computation in ``_COMPUTE`` (raising ``_CannotCompute``
where the data cannot support it, or wrapped in ``_data_bound`` when every
error it can raise once the topics are checked is the data's) and, to
explain it, its terms in :func:`graphkit.marketing.explain.explain`. Making it the default is then
the one line :data:`DEFAULT_SCORE`.

Where the default cannot be computed (no dates to tell what "lately"
means, or nobody active lately on the topics has a follower who could still
take them up, so that every score would be 0), :func:`ranking` falls back to :data:`FALLBACK_SCORE` and
says so: :attr:`Ranking.fallback` holds the reason, :attr:`Ranking.note` the
one line the command line prints on stderr, and :attr:`Ranking.parameters`
records it for the run.

>>> from graphkit.io.datasets import load_ciao
>>> t = score_table(load_ciao(), topics=["Books"])
>>> t.columns[:4], t["topic"].unique().to_list()
(['person_id', 'topic', 'score', 'rank'], ['Books'])
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window, normalize_window, topic_list, topic_structure
from graphkit.scoring.uncertainty import (
    LEVEL,
    RESAMPLES,
    TOP_K,
    Uncertainty,
    bootstrap,
    check_options,
    influence_bootstrap,
    new_follower_bootstrap,
)

SCORES: tuple[str, ...] = ("posts_x_active_new_followers", "topic_influence", "potential_reach", "adoption_influence",
                           "adopter_pagerank", "expected_conversions")
DEFAULT_SCORE = "posts_x_active_new_followers"
#: What the default falls back to where it cannot be computed (it needs no dates).
FALLBACK_SCORE = "topic_influence"
#: How each score is named in tables, figures and messages.
LABELS: dict[str, str] = {
    "posts_x_active_new_followers": "recent activity x active new followers",
    "topic_influence": "topic influence (PageRank)",
    "potential_reach": "potential reach",
    "adoption_influence": "adoption influence",
    "adopter_pagerank": "adopter PageRank",
    "expected_conversions": "expected conversions",
}


class FallbackWarning(UserWarning):
    """The default score could not be computed on this data; another one ranks people instead."""


def check_score(score: str) -> str:
    """``score`` if it names a known score; otherwise a clear error with the choices.

    >>> check_score(DEFAULT_SCORE) == DEFAULT_SCORE
    True
    """
    if score not in SCORES:
        raise GraphkitError(f"unknown score {score!r}; choose one of {', '.join(SCORES)} (--score)")
    return score


def label(score: str) -> str:
    """The words for ``score`` in a table, a figure or a message.

    >>> label("topic_influence")
    'topic influence (PageRank)'
    """
    return LABELS[check_score(score)]


@dataclass(frozen=True)
class Ranking:
    """A score table and how it was made.

    ``table``: the standard columns. ``score``: the score computed;
    ``requested``: the score asked for; ``fallback``: why ``requested``
    could not be computed (None when it was). ``parameters``: the score,
    the request and the fallback, for a run's record.
    """

    table: pl.DataFrame
    score: str
    requested: str
    fallback: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        """One line saying which score ranks people instead of the one asked for (None without a fallback)."""
        return fallback_note(self.requested, self.score, self.fallback)


def fallback_note(requested: str, score: str, fallback: str | None) -> str | None:
    """The one line a ranking prints when ``score`` ranks people instead of ``requested`` (``fallback``: why).

    None without a fallback. :attr:`Ranking.note` and the Spark ranking's
    ``note`` both say it.

    >>> fallback_note("posts_x_active_new_followers", "topic_influence", "the data has no dates")
    'note: posts_x_active_new_followers cannot be computed here (the data has no dates); ranked by topic_influence instead (--score topic_influence to ask for it)'
    >>> fallback_note("topic_influence", "topic_influence", None) is None
    True
    """
    if fallback is None:
        return None
    return (f"note: {requested} cannot be computed here ({fallback}); ranked by {score} instead "
            f"(--score {score} to ask for it)")


class _CannotCompute(GraphkitError):
    """This score cannot be computed on this data (no dates, too little history)."""


def ranking(
    graph: TopicGraph,
    *,
    score: str = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
) -> Ranking:
    """The table of ``score`` for ``topics`` (all topics when None) over ``window``, falling back when it must.

    ``window = (start, end)``: scores are computed as of ``end`` (default:
    just after the latest dated event) from what is known before it;
    ``audience``, ``active_audience`` and ``credibility`` count events in
    ``[start, end)``. When ``score`` is :data:`DEFAULT_SCORE` and cannot be
    computed on this graph -- it has no dates, or nobody active on the
    topics in the year before ``end`` has an active follower new to them,
    so every score would be 0 -- :data:`FALLBACK_SCORE` is computed instead
    and :attr:`Ranking.fallback` says why. Another score that cannot be
    computed raises, naming the ``--score`` to use instead.

    >>> from graphkit.marketing import example_market
    >>> r = ranking(example_market(), topics=["cooking"])
    >>> r.score, r.fallback is None, r.table.sort("rank")["person_id"][0]
    ('posts_x_active_new_followers', True, 'lea')
    >>> r = ranking(example_market(), topics=["lego"])  # every lego fan has taken lego up already
    >>> r.score, r.parameters["score_requested"]
    ('topic_influence', 'posts_x_active_new_followers')
    """
    check_score(score)
    chosen = None if topics is None else topic_list(graph, topics)
    fallback = None
    try:
        table, extra = _compute(graph, score, chosen, window)
    except _CannotCompute as exc:
        if score != DEFAULT_SCORE:
            raise GraphkitError(f"{exc}; rank by --score {FALLBACK_SCORE}") from None
        fallback = str(exc)
        table, extra = _compute(graph, FALLBACK_SCORE, chosen, window)
    used = score if fallback is None else FALLBACK_SCORE
    return Ranking(table=table, score=used, requested=score, fallback=fallback,
                   parameters={"score": used, "score_requested": score, "score_fallback": fallback, **extra})


def _compute(graph: TopicGraph, score: str, topics: list[str] | None,
             window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """(table, parameters) of one score; :class:`_CannotCompute` when the data cannot support it."""
    return _COMPUTE[score](graph, topics, window)


def _topic_influence(graph: TopicGraph, topics: list[str] | None,
                     window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.influence import topic_influence

    res = topic_influence(graph, topics=topics, window=window)
    return res.table, {"damping_factor": res.parameters["damping_factor"], "iterations": res.iterations,
                       "converged": res.converged}


#: (graph, topics, window) -> (table, parameters): how each score of :data:`SCORES` is computed.
Compute = Callable[[TopicGraph, list[str] | None, Window | None], tuple[pl.DataFrame, dict[str, Any]]]


def _data_bound(compute: Compute) -> Compute:
    """``compute`` with its errors as :class:`_CannotCompute`: called with checked topics, what is left is the data.

    For the scores that learn from or look at dated history (undated data or
    too little history is why they cannot be computed).
    """

    @functools.wraps(compute)
    def adapted(graph: TopicGraph, topics: list[str] | None,
                window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
        try:
            return compute(graph, topics, window)
        except GraphkitError as exc:
            raise _CannotCompute(str(exc)) from None

    return adapted


def _learned_parameters(p: dict[str, Any]) -> dict[str, Any]:
    """The run record of a learned score (adoption influence, expected conversions) from its result's parameters."""
    return {"now": p["now"].isoformat(), "horizon_days": p["horizon_days"],
            "exposure_window_days": p["exposure_window_days"]}


@_data_bound
def _potential_reach(graph: TopicGraph, topics: list[str] | None,
                     window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.reach import potential_reach

    r = potential_reach(graph, topics=topics, window=window)
    return r.table, {"now": r.parameters["now"].isoformat(), "horizon_days": r.parameters["horizon_days"]}


def _posts_x_active_new_followers(graph: TopicGraph, topics: list[str] | None,
                                  window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.baselines import RECENT, posts_x_active_new_followers_matrix
    from graphkit.scoring.influence import influence_table
    from graphkit.scoring.reach import data_end

    start, end = normalize_window(window)
    now = data_end(graph) if end is None else end
    if now is None:
        raise _CannotCompute("the data has no dates, and this score counts what happened in the year before now")
    chosen = list(graph.topics) if topics is None else topics
    if not chosen:
        raise GraphkitError("the data has no topic (no item, community or contribution names one), so there is "
                            "nothing to rank people on; give items a topic or label contributions with one")
    idx = [graph.topic_of(t) for t in chosen]
    values = posts_x_active_new_followers_matrix(graph, now=now)[:, idx]
    if not values.any():
        what = "these topics" if len(chosen) > 1 else repr(chosen[0])
        raise _CannotCompute(f"nobody active on {what} in the year before {now:%Y-%m-%d} has an active follower "
                             "new to it, so every score would be 0")
    structure = topic_structure(graph, window=(start, now))
    return influence_table(graph, structure, idx, values, tie_rel=1e-9), {
        "now": now.isoformat(), "recent_days": RECENT.days}


@_data_bound
def _adoption_influence(graph: TopicGraph, topics: list[str] | None,
                        window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.topical import adoption_influence

    r = adoption_influence(graph, topics=topics, window=window)
    return r.table, _learned_parameters(r.parameters)


@_data_bound
def _adopter_pagerank(graph: TopicGraph, topics: list[str] | None,
                      window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.adopters import adopter_pagerank

    r = adopter_pagerank(graph, topics=topics, window=window)
    p = r.parameters
    return r.table, {"now": p["now"].isoformat(), "damping_factor": p["damping_factor"],
                     "half_life_days": p["half_life_days"], "half_life": p["half_life"].source,
                     "outside_attention": p["outside_attention"],
                     "propensity": p["propensity"], "iterations": r.iterations, "converged": r.converged}


@_data_bound
def _expected_conversions(graph: TopicGraph, topics: list[str] | None,
                          window: Window | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from graphkit.scoring.exposure import expected_conversions

    r = expected_conversions(graph, topics=topics, window=window)
    return r.table, _learned_parameters(r.parameters)


#: How each score of :data:`SCORES` is computed.
_COMPUTE: dict[str, Compute] = {
    "posts_x_active_new_followers": _posts_x_active_new_followers,
    "topic_influence": _topic_influence,
    "potential_reach": _potential_reach,
    "adoption_influence": _adoption_influence,
    "adopter_pagerank": _adopter_pagerank,
    "expected_conversions": _expected_conversions,
}
assert set(_COMPUTE) == set(SCORES) == set(LABELS), "every score needs a computation and a label"


def score_table(
    graph: TopicGraph,
    *,
    score: str = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    uncertainty: int | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """:func:`ranking`'s table; a fallback is announced with a :class:`FallbackWarning` (one line).

    With ``uncertainty=N`` (bootstrap resamples, e.g. 100, seeded by ``seed``)
    the table gains 90 % intervals on score and rank and ``p_top_1``,
    ``p_top_10`` (see :func:`rank_uncertainty`, which also gives each
    topic's stability).

    >>> from graphkit.marketing import example_market
    >>> score_table(example_market(), score="topic_influence", topics=["lego"]).sort("rank")["person_id"][0]
    'zoe'
    """
    if uncertainty is not None:
        return rank_uncertainty(graph, score=score, topics=topics, window=window, resamples=uncertainty,
                                seed=seed).table
    r = ranking(graph, score=score, topics=topics, window=window)
    if r.note is not None:
        warnings.warn(r.note, FallbackWarning, stacklevel=2)
    return r.table


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

    ``score`` is a registered score name (default :data:`DEFAULT_SCORE`,
    with its fallback, as :func:`ranking` computes it) or any function
    ``graph -> table`` with ``person_id``, ``topic``, ``score``. Each of
    ``resamples`` resamples (seeded by ``seed``) counts every contribution,
    follow and purchase ``Poisson(1)`` times and scores again, as of the same
    ``now`` (topic influence solves them as extra columns of its batched
    solver). Returns an :class:`~graphkit.scoring.uncertainty.Uncertainty`:
    ``table`` (the score table with ``score_low``, ``score_high``,
    ``rank_low``, ``rank_high`` -- the central ``level`` range over resamples
    -- and ``p_top_<k>`` for each k of ``top_k``) and ``stability`` (per
    topic and k: the share of the top k two resamples share, and the share
    of the published top k a resample keeps); ``parameters`` records the
    score computed. See :mod:`graphkit.scoring.uncertainty`.

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
    r = ranking(graph, score=score, topics=topics, window=window)
    if r.note is not None:
        warnings.warn(r.note, FallbackWarning, stacklevel=2)
    chosen = list(dict.fromkeys(r.table["topic"].to_list()))
    if r.score == "topic_influence":
        from graphkit.scoring.influence import topic_influence

        res = topic_influence(graph, topics=chosen, window=window)
        structure = topic_structure(graph, window=window)
        topic_idx = [graph.topic_of(t) for t in res.parameters["topics"]]
        u = influence_bootstrap(graph, structure, topic_idx, res.table, damping_factor=res.parameters["damping_factor"],
                                resamples=resamples, seed=seed, level=level, top_k=ks)
    else:
        start, end = normalize_window(window)
        if end is None and "now" in r.parameters:  # resamples are scored as of the same moment
            from datetime import datetime

            end = datetime.fromisoformat(r.parameters["now"])
        used = r.score

        def rescore(g: TopicGraph) -> pl.DataFrame:
            return _compute(g, used, chosen, (start, end))[0]

        if used == "posts_x_active_new_followers":  # a sum over evidence rows: drawn without re-scoring
            from graphkit.scoring.baselines import RECENT

            u = new_follower_bootstrap(graph, r.table, now=end, recent=RECENT, resamples=resamples, seed=seed,
                                       level=level, top_k=ks)
        else:
            u = bootstrap(graph, rescore, point=r.table, resamples=resamples, seed=seed, level=level, top_k=ks)
    return Uncertainty(u.table, u.stability, {**u.parameters, **r.parameters}, u.seconds)
