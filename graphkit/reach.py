"""Expected reach: if this person talks about a topic, how many people new to it are likely to take it up?

Audience size counts followers; topic influence (PageRank) rewards topical
authorities, whose followers are mostly already active on the topic. A brand
that wants to *grow* a topic needs neither: it needs the followers who have not
adopted the topic yet and are likely to. The expected reach of person *p* on
topic *t*, as of a time ``now``, is

    reach(p, t) = credibility(p, t) * sum over followers f of p, f not yet active on t, of  propensity(f, t)

- **followers**: follow edges with sign +1 (a follower who mocks passes nothing);
- **not yet active on t**: f has no contribution on t and no purchase of an
  item of t before ``now`` (:func:`adoptions`);
- **propensity(f, t)**: the probability that f adopts t within ``horizon``,
  from a logistic model of six features of f's own history (see
  :data:`FEATURES`): how active f was lately, how many topics f took up lately
  (the habit of trying new things), how many topics f has, how related t is to
  f's topics (affinity: the share of people active on f's topics who are also
  active on t, weighted by f's mix), how fast t itself has been spreading, and
  how long f has been around (newcomers explore).
  The model is **learned from the same data, one horizon earlier**: features
  at ``now - horizon``, labels = adoptions in ``[now - horizon, now)``; then
  applied to the features at ``now``. Training uses the people who were
  already there one horizon earlier (as scoring uses the people there now).
  Nothing after ``now`` is used;
- **credibility(p, t)**: the share of positive attention p receives (follows
  and interactions on t, by weight); negative attention gives no reach.

The table has the columns of ``topic_influence(...).table`` (person_id,
topic, score, rank, percentile, audience, active_audience, credibility), so it
can be used anywhere a score table is accepted.

>>> from graphkit.datasets import load_ciao
>>> r = expected_reach(load_ciao(), topics=["Books"])
>>> r.table.columns
['person_id', 'topic', 'score', 'rank', 'percentile', 'audience', 'active_audience', 'credibility']
>>> r.model.converged
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl

from graphkit.errors import ConvergenceError, GraphkitError
from graphkit.graph import ACTIVITY_KINDS, PERSON_KINDS, TopicGraph

#: Features of the propensity model, in the order of its coefficients.
FEATURES: tuple[str, ...] = (
    "recent_activity",  # log(1 + f's contributions and purchases in the last horizon)
    "recent_new_topics",  # log(1 + topics f took up in the last horizon)
    "breadth",  # log(1 + topics f has taken up so far)
    "affinity",  # log(0.001 + relatedness of t to f's topics)
    "topic_trend",  # log(0.0001 + share of people new to t in the last horizon)
    "tenure",  # log(1 + days since f's first event): newcomers explore
)
_RIDGE = 1.0  # L2 penalty on the standardised coefficients: keeps tiny data sets finite
_MAX_ROWS = 2_000_000  # training rows beyond this are thinned by a fixed stride


# ----------------------------------------------------------------------- data
def events(graph: TopicGraph) -> pl.DataFrame:
    """Every dated thing a person did on a topic: ``person_id, topic, ts``.

    Contributions (mentions, replies, shares, reviews with a topic) and
    purchases (a customer's transaction on an item of the topic).
    """
    acts = graph.edges.filter(
        pl.col("kind").is_in(ACTIVITY_KINDS) & pl.col("topic").is_not_null() & pl.col("ts").is_not_null()
    ).select(person_id="src", topic="topic", ts="ts")
    buys = (
        graph.transactions.drop_nulls("ts")
        .join(graph.items.select("item_id", "topic"), on="item_id", how="inner")
        .join(graph.people.select("person_id", "customer_id").drop_nulls("customer_id"), on="customer_id", how="inner")
        .select("person_id", "topic", "ts")
    )
    return pl.concat([acts, buys])


def adoptions(graph: TopicGraph) -> pl.DataFrame:
    """When each person first took up each topic: ``person_id, topic, first_ts``.

    A person adopts a topic with their first dated contribution on it
    (mention, reply, share, review) or their first purchase of an item of that
    topic, whichever comes first. Undated rows carry no time and are ignored.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a"], "customer_id": ["c"]}),
    ...     pl.DataFrame({"src": ["a"], "dst": ["x"], "kind": ["reviews"], "topic": ["t"], "ts": ["2020-03-01"]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}),
    ...     transactions=pl.DataFrame({"customer_id": ["c"], "item_id": ["x"], "ts": ["2020-01-01"]}))
    >>> adoptions(g)["first_ts"].dt.date().to_list()
    [datetime.date(2020, 1, 1)]
    """
    return events(graph).group_by("person_id", "topic").agg(first_ts=pl.col("ts").min()).sort("person_id", "topic")


def _indexed(graph: TopicGraph, table: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    t = table.join(graph.person_index, on="person_id", how="inner").join(graph.topic_index, on="topic", how="inner")
    return t["idx"].to_numpy().astype(np.int64), t["topic_idx"].to_numpy().astype(np.int64)


def _follows(graph: TopicGraph) -> Any:
    """Positive follow edges as a 0/1 CSR matrix (row = follower, column = followed)."""
    f = graph.adjacency(("follows",), sign=1).copy()
    f.data[:] = 1.0
    f.setdiag(0)
    f.eliminate_zeros()
    return f


def audiences(graph: TopicGraph, *, window: tuple[datetime | None, datetime | None] | None = None) -> pl.DataFrame:
    """Followers per person: ``audience`` (all) and ``active_audience`` (did something in ``window``).

    A follower is active when they contributed to a topic or bought
    something within ``window = (start, end)`` (either end may be None; no
    window: ever). Columns: person_id, audience, active_audience.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "c"]}),
    ...     pl.DataFrame({"src": ["b", "c", "b"], "dst": ["a", "a", "x"], "kind": ["follows", "follows", "reviews"],
    ...                   "topic": [None, None, "t"], "ts": [None, None, "2020-01-01"]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
    >>> audiences(g).row(0)
    ('a', 2, 1)
    """
    f = graph.adjacency(("follows",)).copy()
    f.data[:] = 1.0
    ev = events(graph)
    start, end = window if window is not None else (None, None)
    if start is not None:
        ev = ev.filter(pl.col("ts") >= start)
    if end is not None:
        ev = ev.filter(pl.col("ts") < end)
    active = np.zeros(graph.n_people)
    active[graph.index_of(ev["person_id"].unique().to_list())] = 1.0
    return graph.people.select("person_id").with_columns(
        audience=pl.Series(np.asarray(f.sum(axis=0)).ravel(), dtype=pl.Float64).cast(pl.Int64),
        active_audience=pl.Series(np.asarray(f.T @ active).ravel(), dtype=pl.Float64).cast(pl.Int64),
    )


def credibility(graph: TopicGraph, *, end: datetime | None = None) -> np.ndarray:
    """n x T share of positive attention each person receives on each topic (NaN: none received).

    Attention on topic t = follow edges (about no topic, so they count on every
    topic) plus interactions labelled t (mentions, replies, shares, referrals),
    by weight; only edges before ``end`` (undated edges always count).
    """
    e = graph.person_edges.filter(pl.col("kind").is_in(PERSON_KINDS))
    if end is not None:
        e = e.filter(pl.col("ts").is_null() | (pl.col("ts") < end))
    n, n_topics = graph.n_people, len(graph.topics)
    pos, tot = np.zeros((n, n_topics)), np.zeros((n, n_topics))
    dst = e["dst_idx"].to_numpy().astype(np.int64)
    w = e["weight"].to_numpy()
    wplus = w * (e["sign"].to_numpy() > 0)
    topical = e["topic_idx"].is_not_null().to_numpy()
    # follows are about no topic: they count on every topic
    pos += np.bincount(dst[~topical], wplus[~topical], minlength=n)[:, None]
    tot += np.bincount(dst[~topical], w[~topical], minlength=n)[:, None]
    t = e["topic_idx"].to_numpy()[topical].astype(np.int64)
    np.add.at(pos, (dst[topical], t), wplus[topical])
    np.add.at(tot, (dst[topical], t), w[topical])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, pos / np.where(tot > 0, tot, 1.0), np.nan)


# ------------------------------------------------------------------ propensity
@dataclass(frozen=True)
class PropensityModel:
    """The logistic model of adoption that expected reach learned, and how well it fit.

    ``coefficients``: feature -> coefficient on the standardised feature
    (``intercept`` first). ``trained_at``: the time features were taken at;
    labels are adoptions in ``[trained_at, trained_at + horizon)``. ``rows`` /
    ``positives``: training pairs (person, topic not yet adopted) and how many
    adopted. ``log_loss`` on the training rows, and the base rate's log loss
    for comparison (``base_log_loss``).
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
        """Adoption probability for feature rows ``x`` (columns in :data:`FEATURES` order)."""
        beta = self.coefficients["coefficient"].to_numpy()
        return _sigmoid(beta[0] + ((x - self.mean) / self.scale) @ beta[1:])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def _features(n: int, n_topics: int, first: np.ndarray, ev_pt: tuple[np.ndarray, ...], at: np.datetime64, horizon: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
    """Feature array (n, T, len(FEATURES)) at time ``at``, and the adopted-before-``at`` mask."""
    adopted = first < at  # NaT (never) compares False
    recent = (first >= at - horizon) & adopted
    p, t, ts = ev_pt
    before = ts < at
    mix = np.zeros((n, n_topics))
    np.add.at(mix, (p[before], t[before]), 1.0)
    lately = np.bincount(p[before & (ts >= at - horizon)], minlength=n).astype(np.float64)
    since = np.full(n, at, dtype=first.dtype)
    np.minimum.at(since, p[before], ts[before])
    share = mix / np.maximum(mix.sum(axis=1, keepdims=True), 1.0)
    a = adopted.astype(np.float64)
    both = a.T @ a
    related = both / np.maximum(np.diag(both)[:, None], 1.0)  # P(active on t | active on s)
    np.fill_diagonal(related, 0.0)  # affinity is about *other* topics
    was_new = np.maximum((~(first < at - horizon)).sum(axis=0), 1)
    trend = recent.sum(axis=0) / was_new
    x = np.empty((n, n_topics, len(FEATURES)))
    x[:, :, 0] = np.log1p(lately)[:, None]
    x[:, :, 1] = np.log1p(recent.sum(axis=1))[:, None]
    x[:, :, 2] = np.log1p(adopted.sum(axis=1))[:, None]
    x[:, :, 3] = np.log(1e-3 + share @ related)
    x[:, :, 4] = np.log(1e-4 + trend)[None, :]
    x[:, :, 5] = np.log1p((at - since) / np.timedelta64(1, "D"))[:, None]
    return x, adopted


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


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def propensity(
    graph: TopicGraph,
    *,
    now: datetime | None = None,
    horizon: timedelta = timedelta(days=365),
    max_iter: int = 50,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, PropensityModel]:
    """Probability that each person adopts each topic within ``horizon`` after ``now``.

    Returns ``(prob, adopted, model)``: two n x T arrays in the graph's person
    and topic order (``adopted``: already active on the topic before ``now``;
    its ``prob`` is 0) and the fitted :class:`PropensityModel`. ``now``
    defaults to just after the latest dated event. Raises
    :class:`~graphkit.errors.GraphkitError` when the horizon before ``now``
    holds no adoption to learn from, and
    :class:`~graphkit.errors.ConvergenceError` when Newton's method does not
    reach ``tol`` in ``max_iter`` steps.
    """
    if horizon <= timedelta(0):
        raise GraphkitError(f"horizon must be a positive duration; got {horizon}")
    ev = events(graph)
    if ev.is_empty():
        raise GraphkitError("expected reach needs dated contributions or purchases on topics; this graph has none")
    if now is None:
        now = ev["ts"].max() + timedelta(microseconds=1)
    ev = ev.filter(pl.col("ts") < now)
    n, n_topics = graph.n_people, len(graph.topics)
    p, t = _indexed(graph, ev)
    ts = ev.join(graph.person_index, on="person_id", how="inner").join(graph.topic_index, on="topic", how="inner")["ts"]
    ts = ts.dt.replace_time_zone(None).to_numpy().astype("datetime64[us]")
    first = np.full((n, n_topics), np.datetime64("NaT"), dtype="datetime64[us]")
    order = np.argsort(ts)[::-1]  # later first, so the earliest write wins
    first[p[order], t[order]] = ts[order]
    at = np.datetime64(now.replace(tzinfo=None), "us")
    h = np.timedelta64(int(horizon.total_seconds() * 1e6), "us")
    x_then, adopted_then = _features(n, n_topics, first, (p, t, ts), at - h, h)
    y = (first >= at - h) & ~adopted_then  # adopted during the last horizon
    # train on people who were already there one horizon ago, as scoring does now: newcomers
    # take up their first topics by definition and would teach the model that a blank history predicts adoption
    rows = ~adopted_then & adopted_then.any(axis=1, keepdims=True)
    x_train, y_train = x_then[rows], y[rows].astype(np.float64)
    if len(y_train) > _MAX_ROWS:
        stride = -(-len(y_train) // _MAX_ROWS)
        x_train, y_train = x_train[::stride], y_train[::stride]
    positives = int(y_train.sum())
    if positives == 0:
        raise GraphkitError(
            f"nobody took up a new topic between {(now - horizon):%Y-%m-%d} and {now:%Y-%m-%d}, so expected reach "
            "has nothing to learn propensities from; use a longer horizon or a later end of the window")
    beta, mean, scale, iterations, converged = _fit_logistic(x_train, y_train, max_iter=max_iter, tol=tol)
    if not converged:
        raise ConvergenceError("expected reach: the propensity model did not converge; raise max_iter or tol",
                               iterations=iterations, residual=float("nan"))
    fitted = _sigmoid(beta[0] + ((x_train - mean) / scale) @ beta[1:])
    model = PropensityModel(
        coefficients=pl.DataFrame({"feature": ["intercept", *FEATURES], "coefficient": beta}),
        trained_at=now - horizon, horizon=horizon, rows=len(y_train), positives=positives,
        log_loss=_log_loss(y_train, fitted), base_log_loss=_log_loss(y_train, np.full(len(y_train), y_train.mean())),
        iterations=iterations, converged=converged, mean=mean, scale=scale,
    )
    x_now, adopted_now = _features(n, n_topics, first, (p, t, ts), at, h)
    prob = np.where(adopted_now, 0.0, model.predict(x_now.reshape(-1, len(FEATURES))).reshape(n, n_topics))
    return prob, adopted_now, model


# ----------------------------------------------------------------------- reach
@dataclass(frozen=True)
class ReachResult:
    """Expected reach per (person, topic), and how it was made.

    ``table``: person_id, topic, score (expected number of followers new to
    the topic who take it up within ``horizon``), rank (1 = highest on the
    topic), percentile (share of people on the topic scoring at most as much,
    0-100), audience, active_audience (followers active in the last horizon),
    credibility. ``model``: the fitted :class:`PropensityModel`.
    """

    table: pl.DataFrame
    model: PropensityModel
    parameters: dict[str, Any]
    version: str


def expected_reach(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    window: tuple[datetime | None, datetime | None] | None = None,
    horizon: timedelta = timedelta(days=365),
    max_iter: int = 50,
    tol: float = 1e-6,
) -> ReachResult:
    """Expected reach of every person on every topic (see the module text for the model).

    ``topics``: which topics to report (default: all). ``window = (start,
    end)``: score as of ``end`` (default: just after the latest event), from
    the events in ``[start, end)`` (``start`` None: all history).
    ``horizon``: how far ahead a follower's adoption counts, and how far
    back the propensity model is trained.

    >>> import polars as pl
    >>> from graphkit.datasets import load_ciao
    >>> r = expected_reach(load_ciao(), topics=["Books", "Travel"])
    >>> r.table.filter(rank=1).select("topic", "audience").sort("topic").height
    2
    """
    from graphkit import __version__

    chosen = list(graph.topics) if topics is None else list(topics)
    idx = [graph.topic_of(t) for t in chosen]
    start, end = window if window is not None else (None, None)
    g = graph
    if start is not None:  # drop older history: what happened before start is not known
        g = graph.replace(
            edges=graph.edges.filter(pl.col("ts").is_null() | (pl.col("ts") >= start)),
            transactions=graph.transactions.filter(pl.col("ts") >= start),
        )
    prob, _, model = propensity(g, now=end, horizon=horizon, max_iter=max_iter, tol=tol)
    now = model.trained_at + horizon
    cred = credibility(g, end=now)
    reach = (_follows(g).T @ prob) * np.nan_to_num(cred, nan=0.0)
    aud = audiences(g, window=(now - horizon, now))
    n = g.n_people
    table = pl.DataFrame({
        "person_id": np.tile(g.people["person_id"].to_numpy(), len(idx)),
        "topic": np.repeat(np.asarray(chosen, dtype=object), n),
        "score": reach[:, idx].T.reshape(-1),
        "credibility": cred[:, idx].T.reshape(-1),
    }, schema={"person_id": pl.String, "topic": pl.String, "score": pl.Float64, "credibility": pl.Float64})
    table = (
        table.with_columns(pl.col("credibility").fill_nan(None))
        .join(aud, on="person_id", how="left", maintain_order="left")
        .with_columns(
            rank=pl.col("score").rank("min", descending=True).over("topic").cast(pl.Int64),
            percentile=(100.0 * pl.col("score").rank("max").over("topic") / pl.len().over("topic")),
        )
        .select("person_id", "topic", "score", "rank", "percentile", "audience", "active_audience", "credibility")
    )
    params = dict(topics=chosen, window=window, horizon_days=horizon.total_seconds() / 86400, max_iter=max_iter, tol=tol,
                  now=now.isoformat())
    return ReachResult(table=table, model=model, parameters=params, version=__version__)
