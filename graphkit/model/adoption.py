"""Attributed adoption: which first adoptions of a topic followed a followee's activity on it.

A follower *f* of *p* takes up topic *t* for the first time at *τ*
(:func:`graphkit.model.topics.first_adoptions`). The adoption is **attributed**
to *p* when *p* was active on *t* (:func:`graphkit.model.topics.activity_events`:
a contribution labelled *t* or a purchase of an item in *t*) in the
exposure window ``[τ − window, τ)``; with ``window=None``, at any time before
*τ*. An adoption with *k* such exposers is credited ``1/k`` to each of them
in the credit-split variant (Bakshy et al. 2011; Goyal, Bonchi and
Lakshmanan 2011), 1 to each in the full-credit count.

This is the outcome that measures influence: counting every follower who
adopts *t*, whatever *p* did about *t*, measures the followers' own
propensity.

>>> import polars as pl
>>> from datetime import timedelta
>>> from graphkit import TopicGraph
>>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["p", "q", "f"]}),
...     pl.DataFrame({"src": ["f", "f", "p", "q", "f"], "dst": ["p", "q", "x", "x", "x"],
...                   "kind": ["follows", "follows", "reviews", "reviews", "reviews"], "topic": [None, None, "t", "t", "t"],
...                   "ts": [None, None, "2020-05-01", "2019-01-01", "2020-06-01"]}),
...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
>>> a = attributed_adoptions(g, start="2020-01-01", end="2021-01-01")   # q posted too long before
>>> a.select("follower", "person_id", "topic", "credit").rows()
[('f', 'p', 't', 1.0)]
>>> attributed_adoptions(g, start="2020-01-01", end="2021-01-01", window=None)["credit"].to_list()
[0.5, 0.5]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterable

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import activity_events, first_adoptions, normalize_window

#: Default exposure window: the followee must have been active on the topic in the 180 days before the adoption.
EXPOSURE_WINDOW = timedelta(days=180)


def follow_pairs(graph: TopicGraph, *, before: datetime | None = None) -> pl.DataFrame:
    """Distinct ``(follower, person_id)`` pairs of follow edges made before ``before`` (undated ones always).

    Self-follows are left out: following oneself exposes nobody.

    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["a", "a", "b"], "dst": ["b", "b", "b"], "kind": ["follows"] * 3}))
    >>> follow_pairs(g).rows()
    [('a', 'b')]
    """
    return (
        graph.edges.filter((pl.col("kind") == "follows") & (pl.col("src") != pl.col("dst")) & counted_in(None, before))
        .select(follower="src", person_id="dst")
        .unique()
        .sort("follower", "person_id")
    )


def attributed_adoptions(
    graph: TopicGraph,
    *,
    start: datetime | date | str,
    end: datetime | date | str | None = None,
    window: timedelta | None = EXPOSURE_WINDOW,
    follows: pl.DataFrame | None = None,
    topics: Iterable[str] | None = None,
) -> pl.DataFrame:
    """First adoptions in ``[start, end)`` with the followees each is attributed to, one row per (adoption, exposer).

    ``follows``: ``(follower, person_id)`` pairs that may carry exposure
    (default: :func:`follow_pairs` made before ``start``); a follower who
    adopts at *τ* is new to the topic at ``start`` by construction.
    ``window``: how long before *τ* the followee's activity counts (default
    180 days; ``None`` = any time before *τ*). Activity at *τ* itself does not
    count: it cannot have been seen before the adoption.

    Columns: ``follower``, ``person_id`` (the exposer), ``topic``,
    ``adopted_at`` (*τ*), ``last_active`` (the exposer's last act on the
    topic before *τ*), ``exposers`` (*k*, how many followees exposed this
    adoption) and ``credit`` = ``1/k``. Adoptions nobody exposed have no row.
    """
    lo, hi = normalize_window((start, end))
    if lo is None:
        raise GraphkitError("attributed_adoptions needs a start: adoptions are counted from start to end")
    if window is not None and window <= timedelta(0):
        raise GraphkitError(f"window must be a positive duration or None (any time before the adoption); got {window}")
    follows = follow_pairs(graph, before=lo) if follows is None else follows.select("follower", "person_id")
    adopt = first_adoptions(graph, topics=topics).filter(pl.col("adopted_at") >= lo)
    if hi is not None:
        adopt = adopt.filter(pl.col("adopted_at") < hi)
    # every (adoption, followee) pair, then the followee's last act on the topic strictly before the adoption
    pairs = (
        adopt.rename({"person_id": "follower"})
        .join(follows, on="follower", how="inner")
        .sort("adopted_at")
    )
    acts = activity_events(graph, topics=topics).rename({"ts": "last_active"}).sort("last_active")
    exposed = pairs.join_asof(acts, left_on="adopted_at", right_on="last_active", by=["person_id", "topic"],
                              strategy="backward", allow_exact_matches=False, check_sortedness=False)
    keep = pl.col("last_active").is_not_null()
    if window is not None:
        keep = keep & (pl.col("last_active") >= pl.col("adopted_at") - window)
    schema = {"follower": pl.String, "person_id": pl.String, "topic": pl.String}
    return (
        exposed.filter(keep)
        .with_columns(exposers=pl.len().over("follower", "topic").cast(pl.Int64))
        .with_columns(credit=1.0 / pl.col("exposers"))
        .select("follower", "person_id", "topic", "adopted_at", "last_active", "exposers", "credit")
        .cast(schema)
        .sort("follower", "topic", "person_id")
    )
