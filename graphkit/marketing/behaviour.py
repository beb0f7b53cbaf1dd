"""Behavioural influence: acts, not audience.

Audience size is not influence; what counts is the power to change acts. This
module measures acts: how many of the people who follow someone went on to
buy or adopt in the same topic after them (:func:`behavioural_influence`),
what explicit referrals brought (:func:`referrals`), and how much of an
audience is active at all (:func:`audience`, :func:`inactive_accounts`).
:func:`behaviour_vs_audience` puts acts beside audience size and topic
influence, and :func:`behaviour_correlations` says, per topic, which of the
two tracks acts better.

Definitions used throughout:

- a person **adopts** a topic at the first time they bought an item of that
  topic or authored a dated contribution (mention, reply, share, review)
  labelled with it (:func:`first_adoptions`);
- a person is **active** in a window when they authored a topic-labelled
  contribution in it (posting, as in "44% of accounts never posted"), the
  definition the influence model uses; purchases alone do not make an
  account active;
- follows carry no time in most data (none in Ciao), so "followers" are the
  followers at the end of the data, whenever they started following.

>>> from graphkit.marketing import example_market
>>> b = behavioural_influence(example_market(), window_days=30)
>>> b.filter(pl.col("person_id") == "lea").select("topic", "exposed", "adopters").rows()
[('cooking', 6, 0), ('lego', 5, 3)]
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import person_labels, resolve_influence
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import (
    Window,
    first_adoptions,
    normalize_window,
    purchases,
    topic_list,
    topic_structure,
)

#: Default delay (days) within which a follower's adoption counts as following the leader's.
WINDOW_DAYS = 90


def _window_days(window_days: float | None, *, allow_none: bool) -> dt.timedelta | None:
    if window_days is None and allow_none:
        return None
    if not isinstance(window_days, (int, float)) or isinstance(window_days, bool) or not window_days > 0:
        raise GraphkitError(f"window_days must be a number of days > 0; got {window_days!r}")
    return dt.timedelta(days=float(window_days))


def _follows(graph: TopicGraph) -> pl.DataFrame:
    """Distinct (follower, leader) person_id pairs, self-follows left out."""
    follower, leader = _follower_pairs(graph, None)
    ids = graph.people["person_id"]
    return pl.DataFrame({"follower": ids.gather(follower), "leader": ids.gather(leader)})


def _follower_pairs(graph: TopicGraph, window: Window | None) -> tuple[np.ndarray, np.ndarray]:
    """(follower, leader) row indices of distinct follows, no self-follows; with a window end,
    only follows that existed by then (undated follows always did), as the influence model counts them."""
    _, end = normalize_window(window)
    f = graph.person_edges.filter((pl.col("kind") == "follows") & (pl.col("src_idx") != pl.col("dst_idx"))
                                  & counted_in(None, end))
    f = f.select("src_idx", "dst_idx").unique()
    return f["src_idx"].to_numpy().astype(np.int64), f["dst_idx"].to_numpy().astype(np.int64)


def audience(graph: TopicGraph, *, window: Window | None = None) -> pl.DataFrame:
    """Audience beside active audience, per person.

    Columns: ``person_id``, ``name``, ``audience`` (distinct followers),
    ``active_audience`` (followers active in ``window = (start, end)``: who
    contributed on a topic or bought an item of one),
    ``active_share`` (null without followers) and
    ``never_active_followers`` (followers never active at all). Counts
    are those of the influence table's ``audience`` / ``active_audience``
    (same window, same definitions). Sorted by audience, largest first.

    >>> from graphkit.marketing import example_market
    >>> a = audience(example_market(), window=("2024-01-06", "2024-01-07"))
    >>> a.filter(pl.col("person_id") == "lea").select("audience", "active_audience", "never_active_followers").row(0)
    (6, 3, 1)
    """
    s = topic_structure(graph, window=window)
    ever = topic_structure(graph).active
    follower, leader = _follower_pairs(graph, window)
    never = np.bincount(leader[~ever[follower]], minlength=graph.n_people)
    out = person_labels(graph).select("person_id", "name").with_columns(
        audience=pl.Series(s.audience, dtype=pl.Int64),
        active_audience=pl.Series(s.active_audience, dtype=pl.Int64),
        never_active_followers=pl.Series(never, dtype=pl.Int64),
    )
    out = out.with_columns(
        pl.when(pl.col("audience") > 0).then(pl.col("active_audience") / pl.col("audience")).alias("active_share")
    )
    return out.select("person_id", "name", "audience", "active_audience", "active_share", "never_active_followers").sort(
        ["audience", "person_id"], descending=[True, False]
    )


def inactive_accounts(graph: TopicGraph, *, window: Window | None = None) -> pl.DataFrame:
    """How many accounts are active, inactive in the window, or never active; one row.

    Columns: ``people``, ``active`` (contributed on a topic or bought an item
    of one in ``window = (start, end)``), ``inactive`` (did not),
    ``never_active`` (never did either),
    ``share_never_active``, ``follows`` (distinct follow pairs) and
    ``share_follows_from_inactive``: the share of follows whose follower was
    not active in the window, attention that passes no influence.

    >>> from graphkit.marketing import example_market
    >>> inactive_accounts(example_market()).select("people", "active", "never_active").row(0)
    (16, 13, 3)
    """
    active = topic_structure(graph, window=window).active
    ever = topic_structure(graph).active
    follower, _ = _follower_pairs(graph, window)
    n, n_follows = graph.n_people, len(follower)
    return pl.DataFrame({
        "people": [n], "active": [int(active.sum())], "inactive": [n - int(active.sum())],
        "never_active": [n - int(ever.sum())], "share_never_active": [(n - int(ever.sum())) / n],
        "follows": [n_follows],
        "share_follows_from_inactive": [float((~active[follower]).mean()) if n_follows else None],
    }, schema_overrides={"share_follows_from_inactive": pl.Float64})


def referrals(graph: TopicGraph, *, window_days: float | None = None) -> pl.DataFrame:
    """What explicit referrals brought, per referrer and topic of the purchases.

    A ``referred`` edge ``src -> dst`` (``src`` referred ``dst``) is credited
    with the purchases ``dst`` made at or after the referral's time (any time
    when the edge is undated), within ``window_days`` when given, and only in
    the referral's topic when the edge has one. A purchase reached by several
    referrals is credited once, to the latest referral before it (last touch;
    ties go to the smaller referrer id), so revenue is never counted twice.

    Columns: ``person_id`` (the referrer), ``topic`` (of the purchased
    items), ``referred_buyers`` (distinct referred people who bought),
    ``referred_purchases``, ``referred_revenue`` (sum of known amounts; null
    when every amount is unknown) and ``unpriced_purchases``.

    >>> from graphkit.marketing import example_market
    >>> referrals(example_market()).rows()
    [('lea', 'lego', 1, 1, 45.0, 0)]
    """
    span = _window_days(window_days, allow_none=True)
    refs = graph.edges.filter(pl.col("kind") == "referred").select(
        pl.col("src").alias("person_id"), pl.col("dst").alias("buyer"), pl.col("topic").alias("ref_topic"),
        pl.col("ts").alias("ref_ts"),
    )
    buys = purchases(graph).with_row_index("purchase").rename({"person_id": "buyer"})
    hit = refs.join(buys, on="buyer")
    keep = pl.col("ref_ts").is_null() | (pl.col("ts") >= pl.col("ref_ts"))
    if span is not None:
        keep = keep & (pl.col("ref_ts").is_null() | (pl.col("ts") < pl.col("ref_ts") + span))
    keep = keep & (pl.col("ref_topic").is_null() | (pl.col("ref_topic") == pl.col("topic")))
    credited = (
        hit.filter(keep)
        .sort(["purchase", "ref_ts", "person_id"], descending=[False, True, False], nulls_last=True)
        .unique("purchase", keep="first")
    )
    return (
        credited.group_by("person_id", "topic")
        .agg(
            pl.col("buyer").n_unique().cast(pl.Int64).alias("referred_buyers"),
            pl.len().cast(pl.Int64).alias("referred_purchases"),
            pl.when(pl.col("amount").is_not_null().any()).then(pl.col("amount").sum()).alias("referred_revenue"),
            pl.col("amount").is_null().sum().cast(pl.Int64).alias("unpriced_purchases"),
        )
        .with_columns(pl.col("referred_revenue").cast(pl.Float64))
        .sort("person_id", "topic")
    )


def behavioural_influence(
    graph: TopicGraph,
    *,
    topics: Iterable[str] | None = None,
    window_days: float = WINDOW_DAYS,
) -> pl.DataFrame:
    """How often a person's followers adopt a topic after them: influence on acts.

    For each person and each topic they adopted (:func:`first_adoptions`),
    their followers who had not adopted the topic yet are ``exposed``; those
    who adopted it strictly after the person and within ``window_days`` are
    ``adopters``; ``adoption_rate`` = adopters / exposed (null when nobody
    was exposed). Explicit referrals (:func:`referrals`, within the same
    window) add ``referred_buyers``, ``referred_purchases`` and
    ``referred_revenue``; a referrer who never adopted the topic still gets
    a row (with ``adopted_at`` null).

    This is a measure of co-occurrence in time, not proof of cause: people
    who follow each other share tastes.

    Columns: person_id, topic, adopted_at, audience (all followers),
    exposed, adopters, adoption_rate, referred_buyers, referred_purchases,
    referred_revenue. Sorted by topic, then adopters.

    >>> from graphkit.marketing import example_market
    >>> b = behavioural_influence(example_market(), topics=["lego"], window_days=30)
    >>> b.select("person_id", "exposed", "adopters", "referred_revenue").head(2).rows()
    [('lea', 5, 3, 45.0), ('zoe', 4, 3, None)]
    """
    chosen = topic_list(graph, topics)
    span = _window_days(window_days, allow_none=False)
    adopt = first_adoptions(graph, topics=chosen)
    follows = _follows(graph)
    audience_size = follows.group_by(pl.col("leader").alias("person_id")).agg(pl.len().cast(pl.Int64).alias("audience"))
    pairs = (
        follows.join(adopt.rename({"person_id": "leader", "adopted_at": "leader_at"}), on="leader")
        .join(adopt.rename({"person_id": "follower", "adopted_at": "follower_at"}), on=["follower", "topic"], how="left")
    )
    exposed = pl.col("follower_at").is_null() | (pl.col("follower_at") > pl.col("leader_at"))
    adopted = (pl.col("follower_at") > pl.col("leader_at")) & (pl.col("follower_at") <= pl.col("leader_at") + span)
    acts = pairs.group_by(pl.col("leader").alias("person_id"), "topic").agg(
        exposed.sum().cast(pl.Int64).alias("exposed"), adopted.fill_null(False).sum().cast(pl.Int64).alias("adopters")
    )
    refs = referrals(graph, window_days=window_days).filter(pl.col("topic").is_in(chosen))
    out = (
        adopt.join(acts, on=["person_id", "topic"], how="left")
        .join(refs.drop("unpriced_purchases"), on=["person_id", "topic"], how="full", coalesce=True)
        .join(audience_size, on="person_id", how="left")
    )
    ints = ("audience", "exposed", "adopters", "referred_buyers", "referred_purchases")
    out = out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in ints)
    out = out.with_columns(
        pl.when(pl.col("exposed") > 0).then(pl.col("adopters") / pl.col("exposed")).alias("adoption_rate")
    )
    return out.select(
        "person_id", "topic", "adopted_at", "audience", "exposed", "adopters", "adoption_rate",
        "referred_buyers", "referred_purchases", "referred_revenue",
    ).sort(["topic", "adopters", "referred_purchases", "person_id"], descending=[False, True, True, False])


def behaviour_vs_audience(
    graph: TopicGraph,
    *,
    topics: Iterable[str] | None = None,
    window_days: float = WINDOW_DAYS,
    influence: Any = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """Acts beside audience and the influence ranking, per person and topic.

    :func:`behavioural_influence` joined with :func:`audience` (active
    audience over ``window``) and influence (the table given, or the default
    ranking score of :func:`graphkit.scoring.registry.score_table`; see
    :func:`graphkit.marketing.resolve_influence` for ``influence_percentile``).

    Columns: person_id, name, topic, audience, active_audience, influence,
    influence_percentile, exposed, adopters, adoption_rate,
    referred_revenue.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.scoring.influence import topic_influence
    >>> g = example_market()
    >>> t = behaviour_vs_audience(g, topics=["lego"], window_days=30, influence=topic_influence(g))
    >>> t.select("person_id", "audience", "active_audience", "adopters", "influence_percentile").head(2).rows()
    [('lea', 6, 5, 3, 93.75), ('zoe', 5, 5, 3, 100.0)]
    """
    chosen = topic_list(graph, topics)
    acts = behavioural_influence(graph, topics=chosen, window_days=window_days)
    aud = audience(graph, window=window).select("person_id", "name", "active_audience")
    infl = resolve_influence(graph, influence, topics=chosen, window=window).select(
        "person_id", "topic", pl.col("score").alias("influence"), "influence_percentile"
    )
    out = acts.join(aud, on="person_id", how="left").join(infl, on=["person_id", "topic"], how="left")
    missing = out.filter(pl.col("influence").is_null())["topic"].unique().sort().to_list()
    if missing:
        raise GraphkitError(f"the influence table has no rows for topic(s) {missing[:5]}; compute influence on them")
    return out.select(
        "person_id", "name", "topic", "audience", "active_audience", "influence", "influence_percentile",
        "exposed", "adopters", "adoption_rate", "referred_revenue",
    )


def behaviour_correlations(table: pl.DataFrame) -> pl.DataFrame:
    """Per topic: does audience, active audience or the influence ranking track acts better?

    Spearman rank correlation of ``adopters`` with ``audience``,
    ``active_audience`` and ``influence`` over the people of a
    :func:`behaviour_vs_audience` table who had at least one exposed
    follower (null when fewer than 3 such people or a column is constant).

    >>> from graphkit.marketing import example_market
    >>> behaviour_correlations(behaviour_vs_audience(example_market(), topics=["lego"])).columns
    ['topic', 'people', 'adopters', 'rho_audience', 'rho_active_audience', 'rho_influence']
    """
    need = ("topic", "adopters", "exposed", "audience", "active_audience", "influence")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise GraphkitError(f"table lacks column(s) {missing}; pass the table of behaviour_vs_audience(...)")
    rows = []
    for (topic,), part in table.filter(pl.col("exposed") > 0).sort("topic").group_by("topic", maintain_order=True):
        row: dict[str, Any] = {"topic": topic, "people": part.height, "adopters": int(part["adopters"].sum())}
        for col in ("audience", "active_audience", "influence"):
            ok = part.height >= 3 and part[col].n_unique() > 1 and part["adopters"].n_unique() > 1
            rho = part.select(pl.corr(pl.col("adopters").cast(pl.Float64), pl.col(col).cast(pl.Float64),
                                      method="spearman")).item() if ok else None
            row[f"rho_{col}"] = rho
        rows.append(row)
    schema = {"topic": pl.String, "people": pl.Int64, "adopters": pl.Int64, "rho_audience": pl.Float64,
              "rho_active_audience": pl.Float64, "rho_influence": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
