"""Simple topic-gated baselines: what any influence score has to beat to be worth its complexity.

Each is a plain function ``f(graph, *, topics=None, now=None) -> DataFrame``
with ``person_id, topic, score`` for every person x topic, computed from what
is known before ``now`` (default: just after the graph's latest dated event,
which in a backtest is the cut-off):

- :func:`active_new_followers`: followers new to the topic (never active on
  it) who were active on anything in the year before ``now`` -- who could
  still take the topic up, and is around to do it;
- :func:`posts_x_active_new_followers`: ``log1p(the person's acts on the
  topic -- contributions and purchases -- in the year before now) x active
  new followers`` (the default ranking score, see
  :mod:`graphkit.scoring.registry`) -- the
  strongest simple baseline measured on Ciao and CiaoDVD: zero for a person
  who has not talked about the topic lately, however large their audience;
- :func:`activity_x_active_new_followers`: the person's acts on the topic
  (all before ``now``) x active new followers;
- :func:`past_attributed`: how many of the person's followers took the topic
  up after the person was active on it, over the year before ``now``
  (:func:`graphkit.model.adoption.attributed_adoptions`).

"Active" is the model's activity (:func:`graphkit.model.topics.topic_activity`),
"new to the topic" the model's adoptions
(:func:`graphkit.model.topics.first_adoptions`).

>>> from graphkit.io.datasets import load_ciao
>>> t = posts_x_active_new_followers(load_ciao(), topics=["Books"])
>>> t.sort("score", descending=True)["person_id"].head(3).to_list()
['90', '343', '259']
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.model.adoption import EXPOSURE_WINDOW, attributed_adoptions
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import topic_activity, topic_list
from graphkit.scoring.reach import data_end

#: How far back "recent" looks: a year.
RECENT = timedelta(days=365)


def matrix_table(graph: TopicGraph, values: np.ndarray, topics: Iterable[str] | None = None) -> pl.DataFrame:
    """Long ``person_id, topic, score`` table from an n x T array in the graph's person and topic order.

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> matrix_table(g, np.ones((g.n_people, len(g.topics))), ["lego"]).height == g.n_people
    True
    """
    chosen = topic_list(graph, topics)
    idx = [graph.topic_of(t) for t in chosen]
    n = graph.n_people
    return pl.DataFrame({
        "person_id": np.tile(graph.people["person_id"].to_numpy(), len(idx)),
        "topic": np.repeat(np.asarray(chosen, dtype=object), n),
        "score": np.asarray(values)[:, idx].T.reshape(-1).astype(np.float64),
    }, schema={"person_id": pl.String, "topic": pl.String, "score": pl.Float64})


def _now(graph: TopicGraph, now: datetime | None) -> datetime:
    now = data_end(graph) if now is None else now
    if now is None:
        raise GraphkitError("these baselines need dated activity (they look at the last year); the graph has no "
                            "timestamps: rank by audience or topic activity instead")
    return now


def followers_new_and_active(graph: TopicGraph, *, now: datetime | None = None,
                             recent: timedelta = RECENT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who counts as an active new follower: ``(follower, leader, counted)``.

    ``follower`` / ``leader``: row indices of the distinct follows made
    before ``now`` (undated ones always were), self-follows left out;
    ``counted``: n x T booleans, True where the person is new to the topic
    at ``now`` and was active on anything in ``[now − recent, now)``. A
    follower counts for a leader on topic *t* when ``counted[follower, t]``.

    >>> from graphkit.marketing import example_market
    >>> f, l, counted = followers_new_and_active(example_market())
    >>> len(f) == len(l), counted.dtype
    (True, dtype('bool'))
    """
    follows, counted = distinct_follows_and_counted(graph, now=now, recent=recent)
    follower = np.repeat(np.arange(graph.n_people, dtype=np.int64), np.diff(follows.indptr))
    return follower, follows.indices.astype(np.int64), counted


def distinct_follows_and_counted(graph: TopicGraph, *, now: datetime | None = None,
                                 recent: timedelta = RECENT) -> tuple[sp.csr_array, np.ndarray]:
    """:func:`followers_new_and_active` as ``(follows, counted)``: ``follows`` an n x n CSR (row =
    follower, column = leader) holding 1.0 per distinct follow, the one structure both the pairs and
    the counts per leader are read from (at 1M people it is not built twice).

    >>> from graphkit.marketing import example_market
    >>> follows, counted = distinct_follows_and_counted(example_market())
    >>> set(follows.data.tolist()) <= {1.0}, follows.shape[0] == counted.shape[0]
    (True, True)
    """
    now = _now(graph, now)
    # only the two row columns are copied out of the 20M-row edge table (the filter reads kind and ts)
    f = (graph.person_edges.lazy()
         .filter((pl.col("kind") == "follows") & counted_in(None, now) & (pl.col("src_idx") != pl.col("dst_idx")))
         .select("src_idx", "dst_idx").collect())
    n = graph.n_people
    # distinct (follower, leader) pairs, sorted: a person, not an edge count (a CSR merges repeats)
    follows = sp.csr_array((np.ones(f.height), (f["src_idx"].to_numpy(), f["dst_idx"].to_numpy())), shape=(n, n))
    del f
    follows.sum_duplicates()
    follows.data[:] = 1.0
    active = np.asarray(topic_activity(graph, window=(now - recent, now)).sum(axis=1)).ravel() > 0
    # Adopted before now: a dated act of activity_events before now (its first is the adoption), found on
    # row numbers: labelled contributions, and every purchase of an item of the topic.
    before = pl.col("ts").is_not_null() & (pl.col("ts") < now)
    contributed = graph.activity_edges.lazy().filter(before).select("src_idx", "topic_idx").collect()
    buyers = graph.people.select("customer_id", pl.int_range(pl.len(), dtype=pl.UInt32).alias("src_idx")).filter(
        pl.col("customer_id").is_not_null())
    bought = (
        graph.transactions.filter(before).select("customer_id", "item_id")
        .join(buyers, on="customer_id")
        .join(graph.items.select("item_id", "topic").filter(pl.col("topic").is_not_null()), on="item_id")
        .select("src_idx", pl.col("topic").cast(pl.Enum(list(graph.topics))).to_physical().alias("topic_idx"))
    )
    counted = np.ones((n, len(graph.topics)), dtype=bool)
    for acts in (contributed, bought):
        counted[acts["src_idx"].to_numpy(), acts["topic_idx"].to_numpy()] = False
    counted &= active[:, None]
    return follows, counted


def new_active_followers_matrix(graph: TopicGraph, *, now: datetime | None = None,
                                recent: timedelta = RECENT) -> np.ndarray:
    """n x T: per person and topic, followers new to the topic at ``now`` who were active in ``[now − recent, now)``.

    >>> from graphkit.marketing import example_market
    >>> new_active_followers_matrix(example_market()).shape[1] == len(example_market().topics)
    True
    """
    follows, counted = distinct_follows_and_counted(graph, now=now, recent=recent)
    return np.asarray(follows.T @ counted.astype(np.float64))


def posts_x_active_new_followers_matrix(graph: TopicGraph, *, now: datetime | None = None) -> np.ndarray:
    """n x T: ``log1p(acts on the topic in the year before now) x active new followers`` (see the module).

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> float(posts_x_active_new_followers_matrix(g)[g.index_of(["lea"])[0], g.topic_of("lego")])
    0.0
    """
    now = _now(graph, now)
    posts = topic_activity(graph, window=(now - RECENT, now)).toarray()
    return np.log1p(posts) * new_active_followers_matrix(graph, now=now)


def active_new_followers(graph: TopicGraph, *, topics: Iterable[str] | None = None,
                         now: datetime | None = None) -> pl.DataFrame:
    """Followers new to the topic who were active in the year before ``now`` (see the module)."""
    return matrix_table(graph, new_active_followers_matrix(graph, now=now), topics)


def posts_x_active_new_followers(graph: TopicGraph, *, topics: Iterable[str] | None = None,
                                 now: datetime | None = None) -> pl.DataFrame:
    """``log1p(contributions on the topic in the year before now) x active new followers`` (see the module)."""
    return matrix_table(graph, posts_x_active_new_followers_matrix(graph, now=now), topics)


def activity_x_active_new_followers(graph: TopicGraph, *, topics: Iterable[str] | None = None,
                                    now: datetime | None = None) -> pl.DataFrame:
    """``contributions on the topic before now x active new followers`` (see the module)."""
    now = _now(graph, now)
    posts = topic_activity(graph, window=(None, now)).toarray()
    return matrix_table(graph, posts * new_active_followers_matrix(graph, now=now), topics)


def past_attributed(graph: TopicGraph, *, topics: Iterable[str] | None = None, now: datetime | None = None,
                    horizon: timedelta = RECENT, window: timedelta | None = EXPOSURE_WINDOW) -> pl.DataFrame:
    """Followers whose first adoption of the topic in ``[now − horizon, now)`` followed the person's activity on it.

    The attributed outcome of the backtest, measured on the past: the
    adoption at *τ* counts when the person was active on the topic in
    ``[τ − window, τ)`` (:func:`graphkit.model.adoption.attributed_adoptions`).

    >>> from graphkit.io.datasets import load_ciao
    >>> t = past_attributed(load_ciao(), topics=["Books"])
    >>> int(t["score"].sum()) > 0
    True
    """
    now = _now(graph, now)
    a = attributed_adoptions(graph, start=now - horizon, end=now, window=window)
    counts = a.group_by("person_id", "topic").agg(score=pl.len().cast(pl.Float64))
    return (
        matrix_table(graph, np.zeros((graph.n_people, len(graph.topics))), topics)
        .drop("score")
        .join(counts, on=["person_id", "topic"], how="left", maintain_order="left")
        .with_columns(pl.col("score").fill_null(0.0))
    )
