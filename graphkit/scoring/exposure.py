"""Expected conversions: a per-follower model of who takes a topic up after this person's activity on it.

The backtest's attributed outcome (:mod:`graphkit.evidence.outcomes`) credits
person *p* on topic *t* with every follower *f* new to *t* whose first act on
*t* at *τ* came while *p* had been active on *t* in ``[τ − exposure_window,
τ)``. Expected conversions models that event one follower at a time, and
adds up::

    score(p, t) = sum over followers f of p new to t of  P(f takes t up after p's activity on it, within horizon)

- **Rows** are (follower *f*, person *p*, topic *t*) with *f* following *p*,
  *f* new to *t*, and *p* having acted on *t* (a contribution labelled *t*
  or a purchase of an item in *t*) before ``now``. A person who never acted
  on *t* has no rows and scores exactly 0 on *t*, however large their
  audience: the frog expert counts on frogs, a celebrity who never mentions
  *t* is not in *t*'s top.
- **Features** (:data:`FEATURES`, log1p of counts, all before ``now``):
  *p*'s side -- acts on *t* in the last 90 / 180 / 365 days and ever, days
  since the last one, acts on any topic in the year, followers *p*
  converted on *t* before, audience; *f*'s **exposure to t from the other
  people f follows** -- how many acted on *t* in the last 180 days / year /
  ever, how recently (``exp(−days / 90)`` summed), how much, how credible
  (their own past conversions); *f*'s own activity (acts and topics in the
  year, acts ever), how many accounts *f* follows and how many of them were
  active lately (the homophily the exposure has to beat); and how fast *t*
  spreads (first adoptions of *t* in the year).
- **Model**: gradient-boosted trees (scikit-learn
  ``HistGradientBoostingClassifier``, :data:`MODEL_PARAMS`, seeded, one
  thread), learned before ``now``: rows at ``now − horizon`` and ``now − 2
  horizon``, label = the adoption attributed to *p* within the horizon
  after (:func:`graphkit.model.adoption.attributed_adoptions`). Applied to
  the rows at ``now``.
- **Terms**: the score is exactly the sum of its followers' probabilities
  (:func:`conversion_terms` lists them).

>>> from graphkit.io.synthetic import generate
>>> r = expected_conversions(generate(n_people=2_000, n_topics=4, seed=1), topics=["books"])
>>> r.table.columns[:4]
['person_id', 'topic', 'score', 'rank']
>>> bool((r.top("books", 5)["score"] > 0).all()), bool(r.model.log_loss < r.model.base_log_loss)
(True, True)
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
from graphkit.model.topics import Window, activity_events, first_adoptions, topic_structure
from graphkit.scoring.learned import score_request, topic_matrix
from graphkit.scoring.reach import data_end
from graphkit.scoring.results import top_rows
from graphkit.version import __version__

#: A year: the default horizon, and how far back "in the year" looks.
RECENT = timedelta(days=365)
#: Recency scale (days) of the exposure: a followee whose last act on t is d days old weighs exp(-d / RECENCY_DAYS).
RECENCY_DAYS = 90.0

#: The person's side of a row (p, t).
PERSON: tuple[str, ...] = (
    "acts_90d", "acts_180d", "acts_year", "acts_ever",  # p's acts on t
    "days_since_act",  # days since p's last act on t
    "acts_all_topics_year",  # p's acts on any topic in the year
    "converted_ever",  # p's followers who took t up after p's act on it, before now
    "audience",  # p's followers
)
#: The follower's exposure to t through the *other* people they follow: sums over followees, p's part removed.
EXPOSURE: tuple[str, ...] = (
    "others_180d", "others_year", "others_ever",  # other followees with an act on t in 180 days / a year / ever
    "others_recency",  # sum of exp(-days since their last act on t / RECENCY_DAYS) over those active in the year
    "others_volume",  # sum of log1p(their acts on t in 180 days)
    "others_credibility",  # sum over those active in 180 days of log1p(followers they converted on t)
)
#: The follower's own side, and the topic's.
OWN: tuple[str, ...] = (
    "follower_acts_year",  # f's acts on any topic in the year
    "follower_topics_year",  # topics f acted on in the year
    "follower_acts_ever",  # f's acts before now
    "followees",  # accounts f follows
    "active_followees",  # ... of them with an act in the 180 days before now
    "topic_spread",  # first adoptions of t by anyone in the year
)
#: Every feature of a row (f, p, t), in the model's column order; all log1p.
FEATURES: tuple[str, ...] = PERSON + EXPOSURE + OWN

#: The classifier's settings (scikit-learn ``HistGradientBoostingClassifier``), fixed before any backtest was run.
MODEL_PARAMS: dict[str, Any] = dict(learning_rate=0.05, max_iter=200, max_leaf_nodes=15, min_samples_leaf=200,
                                    l2_regularization=1.0, early_stopping=False)


@dataclass(frozen=True)
class Snapshot:
    """Everything a row reads at one time ``now``, from events before ``now`` only.

    ``follows``: n x n, follower -> followee (follows made before ``now``);
    ``person``: n x T x len(:data:`PERSON`); ``part``: n x T x
    len(:data:`EXPOSURE`), each person's part of its followers' exposure
    sums, and ``exposure`` those sums (n x T x len(:data:`EXPOSURE`));
    ``own``: n x T x len(:data:`OWN`); ``new``: n x T, 1 where the person
    had not adopted the topic.
    """

    now: datetime
    follows: sp.csr_array
    person: np.ndarray
    part: np.ndarray
    exposure: np.ndarray
    own: np.ndarray
    new: np.ndarray


def snapshot(graph: TopicGraph, now: datetime, *, exposure_window: timedelta | None = EXPOSURE_WINDOW) -> Snapshot:
    """The model's inputs at ``now`` (see :class:`Snapshot`).

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> s = snapshot(g, data_end(g))
    >>> s.person.shape == (g.n_people, len(g.topics), len(PERSON))
    True
    """
    n, n_topics = graph.n_people, len(graph.topics)
    ev = activity_events(graph).filter(pl.col("ts") < now)

    def acts(days: int | None) -> np.ndarray:
        return topic_matrix(graph, ev if days is None else ev.filter(pl.col("ts") >= now - timedelta(days=days)))

    a90, a180, a_year, a_ever = acts(90), acts(180), acts(365), acts(None)
    last = ev.group_by("person_id", "topic").agg(days=(pl.lit(now) - pl.col("ts").max()).dt.total_seconds() / 86400.0)
    days = topic_matrix(graph, last, "days")
    pairs = follow_pairs(graph, before=now)
    src, dst = graph.index_of(pairs["follower"]), graph.index_of(pairs["person_id"])
    follows = sp.csr_array((np.ones(pairs.height), (src, dst)), shape=(n, n))
    first = first_adoptions(graph)["adopted_at"].min()
    converted = (topic_matrix(graph, attributed_adoptions(graph, start=first, end=now, window=exposure_window,
                                                         follows=pairs))
                 if first is not None and first < now else np.zeros((n, n_topics)))
    audience = np.asarray(follows.sum(axis=0)).ravel()
    all_year = a_year.sum(axis=1)
    person = np.stack([a90, a180, a_year, a_ever, np.where(a_ever > 0, days, 10 * 365.0),
                       np.broadcast_to(all_year[:, None], (n, n_topics)), converted,
                       np.broadcast_to(audience[:, None], (n, n_topics))], axis=2)
    part = np.stack([a180 > 0, a_year > 0, a_ever > 0, np.where(a_year > 0, np.exp(-days / RECENCY_DAYS), 0.0),
                     np.log1p(a180), (a180 > 0) * np.log1p(converted)], axis=2).astype(np.float64)
    exposure = np.stack([np.asarray(follows @ part[:, :, k]) for k in range(part.shape[2])], axis=2)
    adopted = first_adoptions(graph).filter(pl.col("adopted_at") < now)
    spread = topic_matrix(graph, adopted.filter(pl.col("adopted_at") >= now - RECENT)).sum(axis=0)
    active180 = (a180.sum(axis=1) > 0).astype(np.float64)
    per_person = np.stack([all_year, (a_year > 0).sum(axis=1), a_ever.sum(axis=1),
                           np.asarray(follows.sum(axis=1)).ravel(), follows @ active180], axis=1)
    own = np.concatenate([np.broadcast_to(per_person[:, None, :], (n, n_topics, per_person.shape[1])),
                          np.broadcast_to(spread[None, :, None], (n, n_topics, 1))], axis=2)
    new = 1.0 - np.minimum(topic_matrix(graph, adopted), 1.0)
    return Snapshot(now=now, follows=follows, person=person, part=part, exposure=exposure, own=own, new=new)


def rows(s: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Model rows of a snapshot: (features, keys), keys = (follower, person, topic) row indices.

    One row per follow f -> p and topic t where p acted on t before ``now``
    and f had not; ordered by topic, then follower, then person.
    """
    f_idx, p_idx = s.follows.nonzero()
    order = np.lexsort((p_idx, f_idx))
    f_idx, p_idx = f_idx[order], p_idx[order]
    xs, keys = [], []
    for t in range(s.new.shape[1]):
        keep = (s.person[p_idx, t, PERSON.index("acts_ever")] > 0) & (s.new[f_idx, t] > 0)
        f, p = f_idx[keep], p_idx[keep]
        others = np.clip(s.exposure[f, t] - s.part[p, t], 0.0, None)
        xs.append(np.log1p(np.concatenate([s.person[p, t], others, s.own[f, t]], axis=1)))
        keys.append(np.stack([f, p, np.full(f.size, t)], axis=1))
    return (np.concatenate(xs) if xs else np.zeros((0, len(FEATURES))),
            np.concatenate(keys).astype(np.int64) if keys else np.zeros((0, 3), dtype=np.int64))


@dataclass(frozen=True)
class ConversionModel:
    """The per-follower classifier, and how well it fit where it was trained.

    ``trained_at``: when the latest training rows were taken (one horizon
    before ``now``); ``rows`` / ``conversions``: training rows and positive
    labels; ``log_loss`` on them beside ``base_log_loss`` (predicting the
    mean for every row).
    """

    trained_at: datetime
    horizon: timedelta
    windows: int
    rows: int
    conversions: int
    log_loss: float
    base_log_loss: float
    estimator: Any = field(repr=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability that each row's follower takes the topic up after the person's activity on it."""
        if not len(x):
            return np.zeros(0)
        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(self.estimator.predict_proba(x)[:, 1], dtype=np.float64)


def conversion_labels(graph: TopicGraph, keys: np.ndarray, then: datetime, horizon: timedelta,
                      exposure_window: timedelta | None = EXPOSURE_WINDOW) -> np.ndarray:
    """1 where the row's follower took the topic up in ``[then, then + horizon)`` attributed to the row's person.

    ``keys``: (follower, person, topic) row indices, as :func:`rows` gives
    them for a snapshot at ``then``.

    >>> from graphkit.io.synthetic import generate
    >>> g = generate(n_people=2_000, n_topics=4, seed=1)
    >>> then = data_end(g) - RECENT
    >>> x, keys = rows(snapshot(g, then))
    >>> y = conversion_labels(g, keys, then, RECENT)
    >>> bool(0 < y.sum() < len(y))
    True
    """
    won = attributed_adoptions(graph, start=then, end=then + horizon, window=exposure_window,
                               follows=follow_pairs(graph, before=then))
    if won.is_empty() or not len(keys):
        return np.zeros(len(keys))
    n, n_topics = graph.n_people, len(graph.topics)

    def code(f: np.ndarray, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        return (f * n + p) * n_topics + t

    t_won = won["topic"].cast(pl.Enum(list(graph.topics))).to_physical().to_numpy().astype(np.int64)
    hit = code(graph.index_of(won["follower"]).astype(np.int64), graph.index_of(won["person_id"]).astype(np.int64),
               t_won)
    return np.isin(code(keys[:, 0], keys[:, 1], keys[:, 2]), hit).astype(np.float64)


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_model(graph: TopicGraph, now: datetime, *, horizon: timedelta = RECENT,
              exposure_window: timedelta | None = EXPOSURE_WINDOW, windows: int = 2, seed: int = 0,
              params: dict[str, Any] | None = None) -> ConversionModel:
    """The classifier: rows at ``now − k·horizon`` (k = 1..``windows``), labels in the horizon after each.

    ``params`` override :data:`MODEL_PARAMS`. Nothing from ``now`` on is read.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    xs, ys = [], []
    for k in range(1, windows + 1):
        then = now - k * horizon
        x, keys = rows(snapshot(graph, then, exposure_window=exposure_window))
        xs.append(x)
        ys.append(conversion_labels(graph, keys, then, horizon, exposure_window))
    x, y = np.concatenate(xs), np.concatenate(ys)
    trained_at = now - horizon
    if not y.size or y.max() == 0:
        raise GraphkitError(
            f"no follower took a topic up after a followee's activity on it in the {windows} year(s) before "
            f"{trained_at + horizon:%Y-%m-%d}, so expected conversions has nothing to learn from; use a longer "
            "horizon or more history")
    est = HistGradientBoostingClassifier(**{**MODEL_PARAMS, "random_state": seed, **(params or {})})
    # one thread: deterministic, and OpenMP threads on a busy machine wait on each other
    with threadpool_limits(limits=1, user_api="openmp"):
        est.fit(x, y)
        p = est.predict_proba(x)[:, 1]
    return ConversionModel(trained_at=trained_at, horizon=horizon, windows=windows, rows=int(y.size),
                           conversions=int(y.sum()), log_loss=_log_loss(y, p),
                           base_log_loss=_log_loss(y, np.full(y.size, y.mean())), estimator=est)


@dataclass(frozen=True)
class Conversions:
    """The fitted model and its probability for every row at ``now``: what a score and its terms are read from.

    ``keys``: (follower, person, topic) row indices of the rows at ``now``
    (:func:`rows`); ``probability``: the model's prediction for each. Made
    once per graph and settings by :func:`fitted_conversions`.
    """

    model: ConversionModel
    keys: np.ndarray = field(repr=False)
    probability: np.ndarray = field(repr=False)


def fitted_conversions(graph: TopicGraph, now: datetime, *, horizon: timedelta = RECENT,
                       exposure_window: timedelta | None = EXPOSURE_WINDOW, seed: int = 0) -> Conversions:
    """The model fitted before ``now`` (:func:`fit_model`) and its probabilities at ``now``, fitted once per graph.

    Kept in the graph's view cache under ``now`` and the settings (a graph
    is immutable, so the entry cannot go stale; a new graph fits anew): a
    score, its ranking and its explanation on the same graph share one fit.
    Which topics are reported does not enter: the model is fitted on all of
    them. ``graph.drop_views()`` forgets it.

    >>> from graphkit.io.synthetic import generate
    >>> g = generate(n_people=2_000, n_topics=4, seed=1)
    >>> c = fitted_conversions(g, data_end(g))
    >>> c is fitted_conversions(g, data_end(g)), len(c.keys) == len(c.probability) > 0
    (True, True)
    """
    key = ("expected_conversions", now, horizon, exposure_window, seed)
    if key not in graph._views:
        model = fit_model(graph, now, horizon=horizon, exposure_window=exposure_window, seed=seed)
        x, keys = rows(snapshot(graph, now, exposure_window=exposure_window))
        probability = model.predict(x)
        for shared in (keys, probability):  # every result of this graph reads them: nobody may write them
            shared.setflags(write=False)
        graph._views[key] = Conversions(model=model, keys=keys, probability=probability)
    return graph._views[key]


@dataclass(frozen=True)
class ExpectedConversionsResult:
    """Expected conversions per (person, topic), the fitted model, and how it was called.

    ``table``: the columns of every score (``person_id``, ``topic``,
    ``score``, ``rank``, ``percentile``, ``audience``, ``active_audience``,
    ``credibility``); ``score`` is the expected number of followers new to
    the topic who take it up within the horizon after the person's activity
    on it (0 for a person with no act on the topic before ``now``).
    ``conversions``: the model and its probability for every row at ``now``
    (what :func:`conversion_terms` reads).
    """

    table: pl.DataFrame
    conversions: Conversions = field(repr=False)
    parameters: dict[str, Any]
    version: str = __version__

    @property
    def model(self) -> ConversionModel:
        """The fitted classifier and how well it fit where it was trained."""
        return self.conversions.model

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``."""
        return top_rows(self.table, topic, k)


def expected_conversions(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    horizon: timedelta = RECENT,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
    seed: int = 0,
) -> ExpectedConversionsResult:
    """Expected conversions of every person on every topic (the model is in the module text).

    ``topics``: topics to report (default: every topic). ``window = (start,
    end)``: scored as of ``end`` (default: just after the latest dated
    event) from everything before it; ``audience``, ``active_audience`` and
    ``credibility`` count events in ``[start, end)``. ``horizon``: how far
    ahead conversions count, and how far back the model is trained.
    ``exposure_window``: how long before a follower's adoption the person's
    act must be (None: any time before). ``seed``: the trees' random state.

    >>> from graphkit import TopicGraph
    >>> undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    >>> expected_conversions(undated)
    Traceback (most recent call last):
    graphkit.errors.GraphkitError: expected conversions needs dated contributions or purchases; this graph has no timestamps
    """
    from graphkit.scoring.influence import influence_table

    req = score_request(graph, topics=topics, window=window, horizon=horizon, score="expected conversions")
    fitted = fitted_conversions(graph, req.now, horizon=horizon, exposure_window=exposure_window, seed=seed)
    score = np.zeros((graph.n_people, len(graph.topics)))
    np.add.at(score, (fitted.keys[:, 1], fitted.keys[:, 2]), fitted.probability)
    structure = topic_structure(graph, window=(req.start, req.now))
    table = influence_table(graph, structure, req.topic_idx, score[:, req.topic_idx], tie_rel=1e-9)
    params = req.parameters(exposure_window=exposure_window, seed=seed)
    return ExpectedConversionsResult(table=table, conversions=fitted, parameters=params)


def conversion_terms(graph: TopicGraph, result: ExpectedConversionsResult, person_id: str,
                     topic: str) -> pl.DataFrame:
    """One row per follower of ``person_id`` new to ``topic``: ``follower``, ``probability``; they add up to the score.

    The probabilities are those ``result`` was summed from (nothing is
    fitted or predicted again); ``graph`` is the graph it was computed on.

    >>> from graphkit.io.synthetic import generate
    >>> g = generate(n_people=2_000, n_topics=4, seed=1)
    >>> r = expected_conversions(g, topics=["books"])
    >>> best = r.top("books", 1).row(0, named=True)
    >>> terms = conversion_terms(g, r, best["person_id"], "books")
    >>> abs(terms["probability"].sum() - best["score"]) < 1e-9 * best["score"]
    True
    """
    if topic not in result.parameters["topics"]:
        raise GraphkitError(f"the expected conversions result has no topic {topic!r}; compute it with "
                            f"topics=[{topic!r}]")
    keys, probability = result.conversions.keys, result.conversions.probability
    keep = (keys[:, 1] == graph.index_of([person_id])[0]) & (keys[:, 2] == graph.topic_of(topic))
    ids = graph.people["person_id"]
    return (pl.DataFrame({"follower": ids.gather(keys[keep, 0]), "probability": probability[keep]},
                         schema={"follower": pl.String, "probability": pl.Float64})
            .sort("probability", "follower", descending=[True, False]))
