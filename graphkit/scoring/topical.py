"""Adoption influence: the followers expected to take a topic up after this person's activity on it.

What a brand buys from a person on topic *t* is acts: followers new to *t*
who take it up after seeing the person active on it. That is the backtest's
attributed outcome (:mod:`graphkit.evidence.outcomes`): a follower's first
adoption of *t* at *τ* counts for *p* when *p* was active on *t* in
``[τ − exposure_window, τ)``. Adoption influence predicts that count over
the next ``horizon``, per person and topic:

- **only people who acted on the topic**: a person with no act on *t*
  (a contribution labelled *t* or a purchase of an item in *t*) before
  ``now`` scores 0 on *t*, however large their audience -- the frog expert
  counts on frogs, not on cooking; a celebrity who never mentions *t* is not
  in *t*'s top. Someone whose last act on *t* is older than a year is scored
  too, usually low: the model learns how rarely such people's followers act;
- **what the count depends on** (:data:`FEATURES`, all known before
  ``now``): how much and how lately *p* acted on *t* (will *p* still be
  talking about it?), how many of *p*'s followers are new to *t* and active
  (who could still take it up), how many of *p*'s followers took *t* up
  after *p* in the past year and before (*p*'s track record of
  conversions, also as a rate per follower shrunk toward the topic's rate),
  *p*'s share of its followers' exposure to *t* (each follower new to *t*
  split among the people they follow who acted on *t* lately: the credit
  *p* can claim), how broad *p*'s activity is, *p*'s audience, and how fast
  *t* is spreading;
- **learned from the same data, before ``now``**: features at ``now −
  horizon`` and ``now − 2 horizon``, labels = attributed adoptions in the
  horizon after each; a gradient-boosted Poisson regression (scikit-learn's
  ``HistGradientBoostingRegressor``, seeded) of the count, with the active
  followers new to the topic as exposure (it learns the rate per such
  follower), is then applied to the features at ``now``. Nothing from
  ``now`` on is used.

The backtest (``docs/backtest.md``) compares it with the simple baseline it
has to beat, ``log1p(recent acts on t) x active new followers``
(:func:`graphkit.scoring.baselines.posts_x_active_new_followers`).

The table has the columns of every score (``person_id``, ``topic``,
``score``, ``rank``, ``percentile``, ``audience``, ``active_audience``,
``credibility``), so it goes wherever a score table is accepted.

>>> from graphkit.io.datasets import load_ciao
>>> r = adoption_influence(load_ciao(), topics=["Books"])
>>> r.table.columns
['person_id', 'topic', 'score', 'rank', 'percentile', 'audience', 'active_audience', 'credibility']
>>> r.model.rows > 0, r.model.deviance < r.model.base_deviance
(True, True)
>>> top = r.top("Books", 5)   # everyone in the top acted on Books
>>> bool((top["score"] > 0).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from graphkit.errors import GraphkitError
from graphkit.model.adoption import EXPOSURE_WINDOW, attributed_adoptions, follow_pairs
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import (
    Window,
    activity_events,
    first_adoptions,
    topic_structure,
)
from graphkit.scoring.learned import score_request, topic_matrix
from graphkit.scoring.reach import data_end
from graphkit.scoring.results import top_rows
from graphkit.version import __version__

#: How far back "recent" looks: a person with no act on the topic in this span before ``now`` scores 0 on it.
RECENT = timedelta(days=365)

#: Features of the model, per (person, topic), at a time ``now`` (all log1p of counts unless said).
FEATURES: tuple[str, ...] = (
    "acts_90d",  # acts on t in the 90 days before now
    "acts_180d",  # ... in the 180 days before now
    "acts_year",  # ... in the year before now
    "acts_ever",  # ... ever before now
    "days_since_act",  # log1p(days since the last act on t)
    "acts_all_topics_year",  # acts on any topic in the year before now
    "topics_year",  # topics acted on in the year before now
    "new_followers",  # followers who had not adopted t
    "active_new_followers",  # ... and acted on anything in the year before now
    "audience",  # followers
    "converted_year",  # followers who took t up after the person's act on it, in the year before now
    "converted_ever",  # ... at any time before now
    "topic_spread",  # first adoptions of t in the year before now
    "exposure_share",  # sum over active new followers f of 1 / (f's followees active on t in the 180 days before now)
    "conversion_rate",  # converted_year / active_new_followers, shrunk toward the topic's pooled rate (not log1p)
)

#: Prior strength of ``conversion_rate`` (in active new followers).
SHRINKAGE = 20.0
#: Who is scored (and trained on): people with an act on the topic before ``now`` (``"acts_ever"``); chosen over
#: the year before (``"acts_year"``) on the tuning cut-offs (``docs/backtest.md``).
GATE = "acts_ever"


#: The count model's settings (scikit-learn ``HistGradientBoostingRegressor``), chosen on two tuning cut-offs
#: (Ciao 2008-11-14, CiaoDVD 2008-07-01) that are not among the reported CiaoDVD ones (``docs/backtest.md``).
MODEL_PARAMS: dict[str, Any] = dict(loss="poisson", learning_rate=0.05, max_iter=100, max_leaf_nodes=7,
                                    min_samples_leaf=100, l2_regularization=1.0, early_stopping=False)


@dataclass(frozen=True)
class AdoptionModel:
    """The count model adoption influence learned, and how well it fit where it was trained.

    ``trained_at``: when the latest training features were taken (one
    horizon before ``now``); labels are attributed adoptions in the horizon
    after each of the ``windows`` times features were taken.
    ``rows`` / ``adoptions``: training pairs (person, topic with an act
    before the features were taken) and the adoptions they were credited.
    ``deviance``: mean Poisson deviance on those rows, beside
    ``base_deviance`` (predicting the mean for everyone).
    """

    trained_at: datetime
    horizon: timedelta
    windows: int
    rows: int
    adoptions: int
    deviance: float
    base_deviance: float
    estimator: Any = field(repr=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Expected attributed adoptions of feature rows ``x`` (columns in :data:`FEATURES` order)."""
        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(self.estimator.predict(x), dtype=np.float64) * _exposure(x)


@dataclass(frozen=True)
class AdoptionInfluenceResult:
    """Adoption influence per (person, topic), and how it was made.

    ``table``: the score columns (see the module); ``score`` is the expected
    number of followers new to the topic who take it up within the horizon
    after the person's activity on it (0 for a person with no act on the
    topic before ``now``). ``model``: the fitted
    :class:`AdoptionModel`. ``parameters``: how it was called.
    """

    table: pl.DataFrame
    model: AdoptionModel
    parameters: dict[str, Any]
    version: str = __version__

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``."""
        return top_rows(self.table, topic, k)


def _acts(graph: TopicGraph, start: datetime | None, end: datetime) -> np.ndarray:
    ev = activity_events(graph).filter(pl.col("ts") < end)
    if start is not None:
        ev = ev.filter(pl.col("ts") >= start)
    return topic_matrix(graph, ev)


def features(graph: TopicGraph, now: datetime, *, exposure_window: timedelta | None = EXPOSURE_WINDOW) -> np.ndarray:
    """n x T x len(:data:`FEATURES`) array of the model's features at ``now`` (see :data:`FEATURES`).

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> features(g, data_end(g)).shape == (g.n_people, len(g.topics), len(FEATURES))
    True
    """
    n, n_topics = graph.n_people, len(graph.topics)
    year = now - RECENT
    acts = {d: _acts(graph, now - timedelta(days=d), now) for d in (90, 180)}
    acts_year, acts_ever = _acts(graph, year, now), _acts(graph, None, now)
    last = (activity_events(graph).filter(pl.col("ts") < now).group_by("person_id", "topic")
            .agg(days=(pl.lit(now) - pl.col("ts").max()).dt.total_seconds() / 86400.0))
    days = np.where(acts_ever > 0, topic_matrix(graph, last, "days"), 10 * 365.0)
    all_year = acts_year.sum(axis=1, keepdims=True)
    topics_year = (acts_year > 0).sum(axis=1, keepdims=True)
    # followers at `now`, and who of them had adopted each topic
    pairs = follow_pairs(graph, before=now)
    src, dst = graph.index_of(pairs["follower"]), graph.index_of(pairs["person_id"])
    follows = sp.csr_array((np.ones(pairs.height), (src, dst)), shape=(n, n))
    adopted = first_adoptions(graph).filter(pl.col("adopted_at") < now)
    new = 1.0 - np.minimum(topic_matrix(graph, adopted), 1.0)
    active = (all_year > 0).astype(np.float64)
    new_followers = np.asarray(follows.T @ new)
    active_new = np.asarray(follows.T @ (new * active))
    audience = np.asarray(follows.sum(axis=0)).reshape(-1, 1)
    conv_year = attributed_adoptions(graph, start=year, end=now, window=exposure_window, follows=pairs)
    first = first_adoptions(graph)["adopted_at"].min()
    conv_ever = (attributed_adoptions(graph, start=first, end=now, window=exposure_window, follows=pairs)
                 if first is not None and first < now else conv_year.clear())
    spread = adopted.filter(pl.col("adopted_at") >= year).group_by("topic").len()
    spread_t = np.zeros(n_topics)
    if spread.height:
        spread_t[[graph.topic_of(t) for t in spread["topic"]]] = spread["len"].to_numpy()
    # p's share of its followers' exposure on t: each active new follower split among their followees active lately
    exposers = np.asarray(follows @ (acts[180] > 0).astype(np.float64))
    share = np.asarray(follows.T @ np.where(exposers > 0, new * active / np.maximum(exposers, 1.0), 0.0))
    converted = topic_matrix(graph, conv_year)
    gated = acts_year > 0
    pooled = converted[gated].sum() / max(active_new[gated].sum(), 1.0) if gated.any() else 0.0
    topic_conv = (converted * gated).sum(axis=0)
    topic_exp = (active_new * gated).sum(axis=0)
    topic_rate = np.where(topic_exp > 0, (topic_conv + SHRINKAGE * pooled) / (topic_exp + SHRINKAGE), pooled)
    rate = (converted + SHRINKAGE * topic_rate) / (active_new + SHRINKAGE)
    cols = [acts[90], acts[180], acts_year, acts_ever, days, np.broadcast_to(all_year, (n, n_topics)),
            np.broadcast_to(topics_year, (n, n_topics)), new_followers, active_new,
            np.broadcast_to(audience, (n, n_topics)), converted, topic_matrix(graph, conv_ever),
            np.broadcast_to(spread_t, (n, n_topics)), share]
    return np.concatenate([np.log1p(np.stack(cols, axis=2)), rate[:, :, None]], axis=2)


def _gate(x: np.ndarray) -> np.ndarray:
    """n x T: who acted on the topic before ``now`` (the only people scored above 0), see :data:`GATE`."""
    return x[:, :, FEATURES.index(GATE)] > 0


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    mu = np.clip(mu, 1e-12, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.mean(2 * (term - (y - mu))))


def _exposure(x: np.ndarray) -> np.ndarray:
    """The model's exposure: active followers new to the topic, plus one (the count grows with them)."""
    return np.expm1(x[..., FEATURES.index("active_new_followers")]) + 1.0


def fit_model(graph: TopicGraph, now: datetime, *, horizon: timedelta = RECENT,
              exposure_window: timedelta | None = EXPOSURE_WINDOW, seed: int = 0, windows: int = 2,
              params: dict[str, Any] | None = None) -> AdoptionModel:
    """The count model: features before ``now``, attributed adoptions in the horizon after them.

    A Poisson regression of the count on :data:`FEATURES` with the active
    followers new to the topic as exposure: the trees learn the rate per
    such follower, so the expected count keeps growing with them beyond what
    training saw. ``windows``: how many horizons back are stacked (features
    at ``now − k·horizon``, labels in the horizon after, k = 1..windows).
    Rows: people with an act on the topic before the features were taken
    (:data:`GATE`). ``params`` override :data:`MODEL_PARAMS`.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    xs, ys = [], []
    for k in range(1, windows + 1):
        then = now - k * horizon
        x = features(graph, then, exposure_window=exposure_window)
        gate = _gate(x)
        won = attributed_adoptions(graph, start=then, end=then + horizon, window=exposure_window,
                                   follows=follow_pairs(graph, before=then))
        xs.append(x[gate])
        ys.append(topic_matrix(graph, won)[gate])
    x, y = np.concatenate(xs), np.concatenate(ys)
    trained_at = now - horizon
    if not len(y) or y.sum() == 0:
        raise GraphkitError(
            f"nobody's followers took a topic up after their activity on it between {trained_at:%Y-%m-%d} and "
            f"{now:%Y-%m-%d}, so adoption influence has nothing to learn from; use a longer horizon or more history")
    options = {**MODEL_PARAMS, "random_state": seed, **(params or {})}
    e = _exposure(x)
    # one thread: a few thousand rows fit in a second, and OpenMP threads on a busy machine wait on each other
    with threadpool_limits(limits=1, user_api="openmp"):
        est = HistGradientBoostingRegressor(**options).fit(x, y / e, sample_weight=e)
        mu = np.asarray(est.predict(x)) * e
    return AdoptionModel(trained_at=trained_at, horizon=horizon, windows=windows, rows=len(y), adoptions=int(y.sum()),
                         deviance=_deviance(y, mu), base_deviance=_deviance(y, np.full(len(y), y.mean())),
                         estimator=est)


def adoption_influence(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    horizon: timedelta = RECENT,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
    seed: int = 0,
) -> AdoptionInfluenceResult:
    """Adoption influence of every person on every topic (the model is in the module text).

    ``topics``: topics to report (default: every topic of the graph).
    ``window = (start, end)``: the score is computed as of ``end`` (default:
    just after the latest dated event) from everything known before it;
    ``audience``, ``active_audience`` and ``credibility`` count events in
    ``[start, end)``, as :func:`graphkit.scoring.influence.topic_influence`
    does. ``horizon``: how far ahead adoptions count, and how far back the
    model is trained. ``exposure_window``: how long before a follower's
    adoption the person's act on the topic counts (None: any time before).
    ``seed``: the model's random state.

    >>> from graphkit import TopicGraph
    >>> undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    >>> adoption_influence(undated)
    Traceback (most recent call last):
    graphkit.errors.GraphkitError: adoption influence needs dated contributions or purchases; this graph has no timestamps
    """
    from graphkit.scoring.influence import influence_table

    req = score_request(graph, topics=topics, window=window, horizon=horizon, score="adoption influence")
    model = fit_model(graph, req.now, horizon=horizon, exposure_window=exposure_window, seed=seed)
    x = features(graph, req.now, exposure_window=exposure_window)
    gate = _gate(x)
    score = np.zeros(gate.shape)
    score[gate] = model.predict(x[gate])
    structure = topic_structure(graph, window=(req.start, req.now))
    table = influence_table(graph, structure, req.topic_idx, score[:, req.topic_idx], tie_rel=1e-9)
    params = req.parameters(exposure_window=exposure_window, seed=seed)
    return AdoptionInfluenceResult(table=table, model=model, parameters=params)


@dataclass(frozen=True)
class AdoptionTerms:
    """What one person's adoption influence on one topic is made of: ``score = rate x (len(followers) + 1)``.

    ``rate``: the model's expected adoptions per active follower new to the
    topic; ``followers``: those followers (row indices of the graph's people,
    sorted); ``features``: the model's inputs for this person and topic, as
    counts (days for ``days_since_act``, a rate for ``conversion_rate``);
    ``score``: the product. A person outside the gate (no act on the topic
    before ``now``) has rate 0.
    """

    rate: float
    followers: np.ndarray
    features: dict[str, float]
    score: float


def adoption_terms(graph: TopicGraph, result: AdoptionInfluenceResult, person_id: str, topic: str) -> AdoptionTerms:
    """The terms of ``person_id``'s adoption influence on ``topic`` in ``result`` (computed on ``graph``).

    >>> from graphkit.io.datasets import load_ciao
    >>> g = load_ciao()
    >>> r = adoption_influence(g, topics=["Books"])
    >>> best = r.top("Books", 1).row(0, named=True)
    >>> t = adoption_terms(g, r, best["person_id"], "Books")
    >>> abs(t.score - best["score"]) < 1e-9 * t.score, len(t.followers) == round(t.features["active_new_followers"])
    (True, True)
    """
    p = result.parameters
    if topic not in p["topics"]:
        raise GraphkitError(f"the adoption influence result has no topic {topic!r}; compute it with topics=[{topic!r}]")
    j, t = int(graph.index_of([person_id])[0]), graph.topic_of(topic)
    now = p["now"]
    window = None if p["exposure_window_days"] is None else timedelta(days=p["exposure_window_days"])
    x = features(graph, now, exposure_window=window)[j, t]
    raw = {f: (float(v) if f == "conversion_rate" else float(np.expm1(v))) for f, v in zip(FEATURES, x)}
    # the followers counted in the exposure: follow made before now, topic not adopted before now, active in the year
    pairs = follow_pairs(graph, before=now).filter(pl.col("person_id") == person_id)
    adopted = first_adoptions(graph).filter((pl.col("adopted_at") < now) & (pl.col("topic") == topic))
    active = activity_events(graph).filter((pl.col("ts") < now) & (pl.col("ts") >= now - RECENT))["person_id"]
    mine = pairs.filter(~pl.col("follower").is_in(adopted["person_id"].implode())
                        & pl.col("follower").is_in(active.implode()))["follower"]
    followers = np.sort(graph.index_of(mine)) if mine.len() else np.zeros(0, dtype=np.int64)
    if len(followers) != round(raw["active_new_followers"]):
        raise GraphkitError(f"{len(followers)} active new followers found but the model counted "
                            f"{raw['active_new_followers']:.0f}; this is a bug in graphkit: please report it")
    rate = float(result.model.predict(x[None, :])[0] / (len(followers) + 1.0)) if x[FEATURES.index(GATE)] > 0 else 0.0
    return AdoptionTerms(rate=rate, followers=followers, features=raw, score=rate * (len(followers) + 1.0))
