"""Potential reach: if this person talked about a topic, how many people new to it would likely take it up?

Audience size counts followers; topic influence (PageRank) rewards topical
authorities, whose followers are mostly already active on the topic. A brand
that wants to *grow* a topic needs neither: it needs the followers who have not
adopted the topic yet and are likely to. The potential reach of person *p* on
topic *t*, as of a time ``now``, is

    reach(p, t) = credibility(p, t) * sum over followers f of p, f not yet active on t, of  propensity(f, t)

- **followers**: follow edges with sign +1, no self-follows (a follower who
  mocks passes nothing);
- **not yet active on t**: f has not adopted t before ``now`` (no dated
  contribution on t, no purchase of an item of t; see
  :func:`graphkit.model.topics.first_adoptions`);
- **propensity(f, t)**: the probability that f adopts t within ``horizon``,
  from a logistic model of six features of f's own history (see
  :data:`FEATURES`): how much f contributed lately, how many topics f took up
  lately (the habit of trying new things), how many topics f has, how related
  t is to f's topics (affinity: the share of people active on f's topics who
  are also active on t, weighted by f's mix of contributions), how fast t
  itself has been spreading, and how long f has been around (newcomers
  explore). The model is **learned from the same data, one horizon earlier**:
  features at ``now - horizon`` of the people present then, labels =
  adoptions in ``[now - horizon, now)``; then applied to the features at
  ``now``. Nothing from ``now`` on is used;
- **credibility(p, t)**: the share of positive weight in the topic-labelled
  attention p received, as in topic influence (1 when p received none: no
  evidence of mockery).

Potential reach does not ask whether *p* talks about *t* at all: it is what
*would* happen if *p* did, so an account with a large audience ranks high on
every topic. That is why it is never the default ranking and never called
influence (see :mod:`graphkit.scoring.registry`).

The table is built exactly as ``topic_influence(...).table`` is (person_id,
topic, score, rank, percentile, audience, active_audience, credibility; same
types, same tie rule), so it can be passed anywhere a score table is accepted
(``influence=`` of the influential-loyal-customers query and of the
value x influence matrix).

>>> from graphkit.io.datasets import load_ciao
>>> r = potential_reach(load_ciao(), topics=["Books"])
>>> r.table.columns
['person_id', 'topic', 'score', 'rank', 'percentile', 'audience', 'active_audience', 'credibility']
>>> r.model.converged, r.model.log_loss < r.model.base_log_loss
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl

from graphkit.errors import ConvergenceError, GraphkitError
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import (
    NEUTRAL_CREDIBILITY,
    Window,
    first_adoptions,
    normalize_window,
    topic_activity,
    topic_structure,
)
from graphkit.scoring.results import top_rows
from graphkit.version import __version__

#: Features of the propensity model, in the order of its coefficients (after the intercept).
FEATURES: tuple[str, ...] = (
    "recent_activity",  # log(1 + f's contributions in the last horizon)
    "recent_new_topics",  # log(1 + topics f took up in the last horizon)
    "breadth",  # log(1 + topics f has taken up so far)
    "affinity",  # log(0.001 + relatedness of t to f's topics)
    "topic_trend",  # log(0.0001 + share of people new to t who took it up in the last horizon)
    "tenure",  # log(1 + days since f's first adoption)
)
_RIDGE = 1.0  # L2 penalty on the standardised coefficients: keeps tiny or separable data finite
_MAX_ROWS = 2_000_000  # training rows beyond this are thinned by a fixed stride


@dataclass(frozen=True)
class PropensityModel:
    """The logistic model of adoption that potential reach learned, and how well it fit.

    ``coefficients``: feature -> coefficient on the standardised feature
    (``intercept`` first). ``trained_at``: when the training features were
    taken; labels are adoptions in ``[trained_at, trained_at + horizon)``.
    ``rows`` / ``positives``: training pairs (a person present at
    ``trained_at``, a topic they had not adopted) and how many adopted.
    ``log_loss`` on those rows, beside ``base_log_loss`` (predicting the base
    rate for everyone): the smaller the ratio, the more the features say.
    """

    coefficients: pl.DataFrame
    trained_at: datetime
    horizon: timedelta
    rows: int
    positives: int
    log_loss: float
    base_log_loss: float
    iterations: int
    converged: bool
    mean: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Adoption probability of feature rows ``x`` (columns in :data:`FEATURES` order)."""
        beta = self.coefficients["coefficient"].to_numpy()
        return _sigmoid(beta[0] + ((x - self.mean) / self.scale) @ beta[1:])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _fit_logistic(x: np.ndarray, y: np.ndarray, *, max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """Ridge-penalised logistic regression on standardised features: Newton steps, halved until they improve."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    penalty = np.full(z.shape[1], _RIDGE)
    penalty[0] = 0.0  # the intercept is not shrunk

    def loss(b: np.ndarray) -> float:  # penalised negative log-likelihood
        u = z @ b
        return float(np.sum(np.logaddexp(0.0, u) - y * u) + 0.5 * np.sum(penalty * b * b))

    beta = np.zeros(z.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-9) / max(1 - y.mean(), 1e-9))
    current = loss(beta)
    for it in range(1, max_iter + 1):
        prob = _sigmoid(z @ beta)
        hess = z.T @ (z * (prob * (1 - prob))[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hess, z.T @ (y - prob) - penalty * beta)
        for _ in range(30):  # plain Newton can overshoot on nearly separable data
            trial = loss(beta + step)
            if trial <= current:
                break
            step = step / 2
        beta, current = beta + step, min(trial, current)
        if np.max(np.abs(step)) < tol:
            return beta, mean, scale, it, True
    return beta, mean, scale, max_iter, False


def _adoption_times(graph: TopicGraph, now: datetime) -> np.ndarray:
    """n x T first-adoption times before ``now`` (NaT: not adopted), in the graph's person and topic order."""
    a = first_adoptions(graph).filter(pl.col("adopted_at") < now)
    a = a.join(graph.person_index, on="person_id", how="inner").join(graph.topic_index, on="topic", how="inner")
    first = np.full((graph.n_people, len(graph.topics)), np.datetime64("NaT"), dtype="datetime64[us]")
    first[a["idx"].to_numpy(), a["topic_idx"].to_numpy()] = (
        a["adopted_at"].dt.replace_time_zone(None).to_numpy().astype("datetime64[us]")
    )
    return first


def _features(graph: TopicGraph, first: np.ndarray, at: datetime, horizon: timedelta) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, T, len(FEATURES)) at time ``at``, and the n x T mask of topics adopted before ``at``."""
    n, n_topics = first.shape
    at64, h64 = np.datetime64(at.replace(tzinfo=None), "us"), np.timedelta64(horizon)
    adopted = first < at64  # NaT (never) compares False
    recent = adopted & (first >= at64 - h64)
    mix = topic_activity(graph, window=(None, at)).toarray()
    lately = np.asarray(topic_activity(graph, window=(at - horizon, at)).sum(axis=1)).ravel()
    share = mix / np.maximum(mix.sum(axis=1, keepdims=True), 1.0)
    a = adopted.astype(np.float64)
    both = a.T @ a
    related = both / np.maximum(np.diag(both)[:, None], 1.0)  # P(adopted t | adopted s)
    np.fill_diagonal(related, 0.0)  # affinity is about *other* topics
    was_new = np.maximum((~(first < at64 - h64)).sum(axis=0), 1)
    since = np.where(adopted, first, at64).min(axis=1)
    x = np.empty((n, n_topics, len(FEATURES)))
    x[:, :, 0] = np.log1p(lately)[:, None]
    x[:, :, 1] = np.log1p(recent.sum(axis=1))[:, None]
    x[:, :, 2] = np.log1p(adopted.sum(axis=1))[:, None]
    x[:, :, 3] = np.log(1e-3 + share @ related)
    x[:, :, 4] = np.log(1e-4 + recent.sum(axis=0) / was_new)[None, :]
    x[:, :, 5] = np.log1p((at64 - since) / np.timedelta64(1, "D"))[:, None]
    return x, adopted


def data_end(graph: TopicGraph) -> datetime | None:
    """Just after the latest dated edge or transaction (None when nothing is dated).

    >>> from graphkit.io.datasets import load_ciao
    >>> data_end(load_ciao()).year
    2011
    """
    last = [t for t in (graph.edges["ts"].max(), graph.transactions["ts"].max()) if t is not None]
    return max(last) + timedelta(microseconds=1) if last else None


def propensity(
    graph: TopicGraph,
    *,
    now: datetime | None = None,
    horizon: timedelta = timedelta(days=365),
    max_iter: int = 50,
    tol: float = 1e-6,
) -> tuple[np.ndarray, PropensityModel]:
    """Probability that each person adopts each topic within ``horizon`` after ``now``.

    Returns an n x T array in the graph's person and topic order (0 where the
    person had already adopted the topic) and the fitted
    :class:`PropensityModel`. ``now`` defaults to just after the latest
    dated event. Raises :class:`~graphkit.errors.GraphkitError` when the
    horizon before ``now`` holds no adoption to learn from, and
    :class:`~graphkit.errors.ConvergenceError` when Newton's method does not
    reach ``tol`` in ``max_iter`` steps.

    >>> from graphkit.io.datasets import load_ciao
    >>> prob, model = propensity(load_ciao())
    >>> prob.shape, bool(prob.max() < 1), model.positives > 0
    ((7375, 28), True, True)
    """
    if horizon <= timedelta(0):
        raise GraphkitError(f"horizon must be a positive duration; got {horizon}")
    now = data_end(graph) if now is None else now
    if now is None:
        raise GraphkitError("potential reach needs dated contributions or purchases; this graph has no timestamps")
    first = _adoption_times(graph, now)
    x_then, adopted_then = _features(graph, first, now - horizon, horizon)
    # train on the people already there one horizon ago, as scoring uses the people there now:
    # newcomers take up their first topics by definition and would teach that a blank history predicts adoption
    rows = ~adopted_then & adopted_then.any(axis=1, keepdims=True)
    x_train = x_then[rows]
    y_train = (first[rows] >= np.datetime64((now - horizon).replace(tzinfo=None), "us")).astype(np.float64)
    if len(y_train) > _MAX_ROWS:
        stride = -(-len(y_train) // _MAX_ROWS)
        x_train, y_train = x_train[::stride], y_train[::stride]
    positives = int(y_train.sum())
    if positives == 0:
        raise GraphkitError(
            f"nobody present on {now - horizon:%Y-%m-%d} took up a new topic before {now:%Y-%m-%d}, so potential "
            "reach has nothing to learn propensities from; use a longer horizon or a later end of the window")
    beta, mean, scale, iterations, converged = _fit_logistic(x_train, y_train, max_iter=max_iter, tol=tol)
    if not converged:
        raise ConvergenceError("potential reach: the propensity model did not converge; raise max_iter or tol",
                               iterations=iterations, residual=float("nan"))
    model = PropensityModel(
        coefficients=pl.DataFrame({"feature": ["intercept", *FEATURES], "coefficient": beta}),
        trained_at=now - horizon, horizon=horizon, rows=len(y_train), positives=positives,
        log_loss=_log_loss(y_train, _sigmoid(beta[0] + ((x_train - mean) / scale) @ beta[1:])),
        base_log_loss=_log_loss(y_train, np.full(len(y_train), y_train.mean())),
        iterations=iterations, converged=converged, mean=mean, scale=scale,
    )
    x_now, adopted_now = _features(graph, first, now, horizon)
    prob = model.predict(x_now.reshape(-1, len(FEATURES))).reshape(adopted_now.shape)
    return np.where(adopted_now, 0.0, prob), model


@dataclass(frozen=True)
class ReachResult:
    """Potential reach per (person, topic), and how it was made.

    ``table``: person_id, topic, score (expected number of followers new to
    the topic who take it up within the horizon), rank (1 = highest; ties by
    person_id), percentile (``100 * (1 - (rank - 1) / n)``), audience,
    active_audience (followers active in the window), credibility (null when
    no topic-labelled attention was received) — as in
    ``topic_influence(...).table``. ``model``: the fitted
    :class:`PropensityModel`.
    """

    table: pl.DataFrame
    model: PropensityModel
    parameters: dict[str, Any]
    version: str = __version__

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``."""
        return top_rows(self.table, topic, k)


def potential_reach(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    horizon: timedelta = timedelta(days=365),
    max_iter: int = 50,
    tol: float = 1e-6,
) -> ReachResult:
    """Potential reach of every person on every topic (the model is in the module text).

    ``topics``: topics to report (default: every topic of the graph).
    ``window = (start, end)``: reach is computed as of ``end`` (default:
    just after the latest dated event) from everything known before it;
    ``audience``, ``active_audience`` and ``credibility`` count events in
    ``[start, end)``, as :func:`graphkit.scoring.influence.topic_influence` does.
    ``horizon``: how far ahead a follower's adoption counts, and how far back
    the propensity model is trained. ``max_iter`` / ``tol``: Newton's method.

    >>> from graphkit.io.datasets import load_ciao
    >>> r = potential_reach(load_ciao(), topics=["Books", "Travel"])
    >>> r.top("Books", 3).select("rank").to_series().to_list()
    [1, 2, 3]
    """
    from graphkit.scoring.influence import influence_table

    if isinstance(topics, str):
        raise GraphkitError(f"topics must be a list of topic names, not a single string; use topics=[{topics!r}]")
    chosen = list(graph.topics) if topics is None else list(topics)
    topic_idx = [graph.topic_of(t) for t in chosen]
    start, end = normalize_window(window)
    prob, model = propensity(graph, now=end, horizon=horizon, max_iter=max_iter, tol=tol)
    now = model.trained_at + horizon
    structure = topic_structure(graph, window=(start, now))
    f = _positive_follows(graph, now)  # a follower counts once
    reach = np.zeros_like(prob)
    np.add.at(reach, f["dst_idx"].to_numpy(), prob[f["src_idx"].to_numpy()])
    reach *= np.where(np.isnan(structure.credibility), NEUTRAL_CREDIBILITY, structure.credibility)
    table = influence_table(graph, structure, topic_idx, reach[:, topic_idx], tie_rel=1e-9)
    params = dict(topics=chosen, window=(start, end), now=now, horizon_days=horizon.total_seconds() / 86400,
                  max_iter=max_iter, tol=tol)
    return ReachResult(table=table, model=model, parameters=params)


def follower_propensities(
    graph: TopicGraph,
    person_id: str,
    topic: str,
    *,
    window: Window | None = None,
    horizon: timedelta = timedelta(days=365),
) -> tuple[np.ndarray, np.ndarray, float]:
    """The terms of one person's potential reach on one topic: ``(followers, propensities, credibility)``.

    ``followers``: row indices of the person's distinct positive followers
    (follows made by the window's end); ``propensities``: each one's
    probability of taking the topic up (0 for those who already have);
    ``credibility``: the factor applied to their sum. ``credibility *
    propensities.sum()`` is the person's score in :func:`potential_reach`
    with the same ``window`` and ``horizon``.

    >>> from graphkit.io.datasets import load_ciao
    >>> f, p, c = follower_propensities(load_ciao(), "8", "Books")
    >>> len(f) == len(p), bool((p >= 0).all()), 0.0 <= c <= 1.0
    (True, True, True)
    """
    t, j = graph.topic_of(topic), int(graph.index_of([person_id])[0])
    start, end = normalize_window(window)
    prob, model = propensity(graph, now=end, horizon=horizon)
    now = model.trained_at + horizon
    structure = topic_structure(graph, window=(start, now))
    followers = _positive_follows(graph, now)
    mine = followers.filter(pl.col("dst_idx") == j)["src_idx"].to_numpy().astype(np.int64)
    cred = structure.credibility[j, t]
    return mine, prob[mine, t], float(NEUTRAL_CREDIBILITY if np.isnan(cred) else cred)


def _positive_follows(graph: TopicGraph, now: datetime) -> pl.DataFrame:
    """Distinct positive follows made by ``now`` (undated ones always were), no self-follows, in a fixed order."""
    return graph.person_edges.filter(
        (pl.col("kind") == "follows") & (pl.col("sign") > 0) & (pl.col("src_idx") != pl.col("dst_idx"))
        & counted_in(None, now)
    ).select("src_idx", "dst_idx").unique(maintain_order=True)  # a fixed order: sums are reproducible
