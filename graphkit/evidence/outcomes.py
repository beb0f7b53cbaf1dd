"""What a backtest measures after the cut-off, per (person, topic).

Followers are those of the past graph (:func:`graphkit.evidence.split.split_at`:
follows known before T0, between people present before T0). A follower is
*eligible* on topic *t* when they had not adopted *t* before T0
(:func:`graphkit.model.topics.first_adoptions`). Adoptions count from T0 to
``T0 + horizon`` (no horizon: to the end of the data).

- **attributed** (the default outcome: it measures influence): eligible
  followers whose first adoption of *t* at *τ* came after the person was
  active on *t* in ``[τ − exposure_window, τ)``
  (:func:`graphkit.model.adoption.attributed_adoptions`);
- **attributed_split**: the same adoptions, each credited ``1/k`` to its *k*
  exposers (Bakshy et al. 2011; Goyal, Bonchi and Lakshmanan 2011);
- **followers_adoption**: eligible followers who adopt *t*, whatever the
  person did about *t* -- the followers' own propensity, not influence: a
  score can win it without the person ever mentioning *t*;
- **followers_adoption_rate**: the same over the eligible followers, shrunk
  toward the topic's pooled rate.

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> from graphkit.evidence.split import split_at
>>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "c"]}),
...     pl.DataFrame({"src": ["b", "c", "a", "b", "c"], "dst": ["a", "a", "x", "x", "x"],
...                   "kind": ["follows", "follows", "reviews", "reviews", "reviews"], "topic": [None, None, "t", "t", "t"],
...                   "ts": [None, None, "2019-12-01", "2020-02-01", "2021-02-01"]}),
...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
>>> s = split_at(g, "2020-01-15", population="all")
>>> outcomes(g, s).select("person_id", "eligible", "followers_adoption", "attributed").row(0)   # c adopted a year on
('a', 2, 2, 1)
"""

from __future__ import annotations

import math
from datetime import timedelta

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.evidence.split import Split
from graphkit.model.adoption import EXPOSURE_WINDOW, attributed_adoptions, follow_pairs
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import first_adoptions

#: Outcomes measured after the cut-off (columns of :func:`outcomes`); the first is the default.
OUTCOMES: tuple[str, ...] = ("attributed", "attributed_split", "followers_adoption", "followers_adoption_rate")


def _check(horizon: timedelta | None, shrinkage: float = 0.0) -> None:
    if horizon is not None and horizon <= timedelta(0):
        raise GraphkitError(f"horizon must be a positive duration or None (to the end of the data); got {horizon}")
    if shrinkage < 0 or not math.isfinite(shrinkage):
        raise GraphkitError(f"shrinkage must be a finite number >= 0; got {shrinkage}")


def _grid(graph: TopicGraph, split: Split) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The past graph's follow pairs, and every followed person x past topic with ``audience`` and ``eligible``."""
    follows = follow_pairs(split.past)
    adopted = (
        first_adoptions(graph)
        .filter(pl.col("adopted_at") < split.cutoff)
        .select(follower="person_id", topic="topic")
    )
    before = follows.join(adopted, on="follower", how="inner").group_by("person_id", "topic").agg(
        adopted_before=pl.len().cast(pl.Int64))
    audience = follows.group_by("person_id").agg(audience=pl.len().cast(pl.Int64))
    topics = pl.DataFrame({"topic": list(split.past.topics)}, schema={"topic": pl.String})
    grid = (
        audience.join(topics, how="cross")
        .join(before, on=["person_id", "topic"], how="left")
        .with_columns(eligible=pl.col("audience") - pl.col("adopted_before").fill_null(0))
        .drop("adopted_before")
    )
    return follows, grid


def attributed_adoption(
    graph: TopicGraph,
    split: Split,
    *,
    horizon: timedelta | None = None,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
) -> pl.DataFrame:
    """Eligible followers whose first adoption in ``[T0, T0 + horizon)`` came after the person's activity on it.

    ``exposure_window``: the person must have been active on the topic in
    ``[τ − exposure_window, τ)`` before the adoption at *τ* (default 180 days;
    ``None`` = any time before *τ*). Columns: ``person_id, topic, audience,
    eligible, count`` (attributed adoptions, full credit) and ``credit``
    (each adoption split ``1/k`` among its *k* exposers). Rows: every person
    with a follower in the past graph x every topic of the past graph.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.evidence.split import split_at
    >>> g = load_ciao()
    >>> a = attributed_adoption(g, split_at(g, "2010-01-01"), horizon=timedelta(days=365))
    >>> bool((a["credit"] <= a["count"]).all() and (a["count"] <= a["eligible"]).all())
    True
    """
    _check(horizon)
    follows, grid = _grid(graph, split)
    end = split.cutoff + horizon if horizon is not None else None
    credited = (
        attributed_adoptions(graph, start=split.cutoff, end=end, window=exposure_window, follows=follows)
        .group_by("person_id", "topic")
        .agg(count=pl.len().cast(pl.Int64), credit=pl.col("credit").sum())
    )
    return (
        grid.join(credited, on=["person_id", "topic"], how="left")
        .with_columns(pl.col("count").fill_null(0), pl.col("credit").fill_null(0.0))
        .select("person_id", "topic", "audience", "eligible", "count", "credit")
        .sort("topic", "person_id")
    )


def followers_adoption(
    graph: TopicGraph,
    split: Split,
    *,
    horizon: timedelta | None = None,
    shrinkage: float = 10.0,
) -> pl.DataFrame:
    """Eligible followers who adopt the topic in ``[T0, T0 + horizon)``, whatever the person did about it.

    Not influence: it measures the followers' own propensity (a person who
    never mentions the topic scores as well as one who does). Kept to compare
    with earlier results and to show that gap. Columns: ``person_id, topic,
    audience, eligible, count`` and ``rate`` = ``(count + shrinkage * p) /
    (eligible + shrinkage)`` where ``p`` is the topic's pooled rate (all its
    adoptions over all eligible follower slots), so 2 of 2 followers adopting
    does not outrank 150 of 200. Rows as :func:`attributed_adoption`.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.evidence.split import split_at
    >>> g = load_ciao()
    >>> f = followers_adoption(g, split_at(g, "2010-01-01"), horizon=timedelta(days=365))
    >>> bool((f["count"] <= f["eligible"]).all())
    True
    """
    _check(horizon, shrinkage)
    follows, grid = _grid(graph, split)
    new = first_adoptions(graph).filter(pl.col("adopted_at") >= split.cutoff)
    if horizon is not None:
        new = new.filter(pl.col("adopted_at") < split.cutoff + horizon)
    counted = (
        follows.join(new.select(follower="person_id", topic="topic"), on="follower", how="inner")
        .group_by("person_id", "topic")
        .agg(count=pl.len().cast(pl.Int64))
    )
    grid = grid.join(counted, on=["person_id", "topic"], how="left").with_columns(pl.col("count").fill_null(0))
    pooled = grid.group_by("topic").agg(
        prior=pl.when(pl.col("eligible").sum() > 0).then(pl.col("count").sum() / pl.col("eligible").sum()).otherwise(0.0)
    )
    return (
        grid.join(pooled, on="topic", how="left")
        .with_columns(rate=(pl.col("count") + shrinkage * pl.col("prior")) / (pl.col("eligible") + shrinkage))
        .select("person_id", "topic", "audience", "eligible", "count", "rate")
        .sort("topic", "person_id")
    )


def outcomes(
    graph: TopicGraph,
    split: Split,
    *,
    horizon: timedelta | None = None,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
    shrinkage: float = 10.0,
) -> pl.DataFrame:
    """Every outcome of :data:`OUTCOMES` side by side, per (person, topic).

    Columns: ``person_id, topic, audience, eligible`` and one column per
    outcome (``attributed``, ``attributed_split``, ``followers_adoption``,
    ``followers_adoption_rate``); see :func:`attributed_adoption` and
    :func:`followers_adoption`.
    """
    a = attributed_adoption(graph, split, horizon=horizon, exposure_window=exposure_window)
    f = followers_adoption(graph, split, horizon=horizon, shrinkage=shrinkage)
    return (
        a.rename({"count": "attributed", "credit": "attributed_split"})
        .join(f.select("person_id", "topic", followers_adoption="count", followers_adoption_rate="rate"),
              on=["person_id", "topic"], how="left")
        .select("person_id", "topic", "audience", "eligible", *OUTCOMES)
        .sort("topic", "person_id")
    )
