"""The split of a backtest: the graph as it was known before a cut-off T0.

Scorers see only this past graph (:func:`split_at`); outcomes are measured
on the full data after T0 (:mod:`graphkit.evidence.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import PERSON_KINDS, TopicGraph

#: Population policies of :func:`split_at`.
POPULATIONS: tuple[str, ...] = ("active", "all")
#: Undated edges of these kinds are structure (not events) and may cross the cut-off.
STRUCTURAL_KINDS: tuple[str, ...] = ("follows", "member_of")


@dataclass(frozen=True)
class Split:
    """The past graph at one cut-off, and what the split kept and left out.

    ``counts`` has: ``people`` / ``people_excluded`` (present before the
    cut-off or not), ``follows`` / ``follows_excluded``, ``events_before`` /
    ``events_after`` (dated edges and transactions), ``undated_events_excluded``
    (topic-labelled or referral edges without a timestamp: their time is
    unknown, so they are on neither side).
    """

    cutoff: datetime
    population: str
    past: TopicGraph
    counts: dict[str, int]


def as_utc(when: datetime | date | str) -> datetime:
    """A cut-off as a UTC datetime (naive values and dates are taken as UTC).

    >>> as_utc("2008-01-01")
    datetime.datetime(2008, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
        except ValueError:
            raise GraphkitError(f"cut-off {when!r} is not an ISO date or datetime (e.g. 2008-01-01)") from None
    if isinstance(when, date) and not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if not isinstance(when, datetime):
        raise GraphkitError(f"cut-off must be a datetime, date or ISO text; got {type(when).__name__}")
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _customers(graph: TopicGraph) -> pl.DataFrame:
    return graph.people.select("person_id", "customer_id").drop_nulls("customer_id")


def split_at(graph: TopicGraph, cutoff: datetime | date | str, *, population: str = "active") -> Split:
    """The graph as it was known before ``cutoff``: nothing from T0 on reaches it.

    Kept: dated edges and transactions before T0; undated follow and
    membership edges (structure) between people present before T0; the items
    and communities those rows refer to (so a topic first seen after T0 is not
    in the past graph's vocabulary). ``people.joined`` / ``last_active`` from
    T0 on are replaced by what was known before T0. Undated topic-labelled
    edges are left out (their time is unknown) and counted.

    ``population="active"`` (default) keeps only people present before T0
    (they authored, received or paid for something dated before T0), and
    follow edges between them. Follow edges are usually undated, so without
    this a follower who joined after T0 would sit in the past audience of the
    person they follow, and their later adoption would be credited to scores
    that could not have known about them. ``population="all"`` keeps everyone
    and every undated edge (use it only when follows are known to predate T0).

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "late"]}),
    ...     pl.DataFrame({"src": ["b", "late", "a", "late"], "dst": ["a", "a", "x", "x"],
    ...                   "kind": ["follows", "follows", "reviews", "reviews"], "topic": [None, None, "t", "t"],
    ...                   "ts": [None, None, "2020-01-01", "2021-01-01"]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
    >>> s = split_at(g, "2020-06-01")
    >>> s.past.people["person_id"].to_list(), s.counts["follows_excluded"]
    (['a'], 2)
    """
    if population not in POPULATIONS:
        raise GraphkitError(f"population must be one of {POPULATIONS}; got {population!r}")
    t0 = as_utc(cutoff)
    e = graph.edges
    before = pl.col("ts") < t0
    dated = e.filter(before)
    tx = graph.transactions.filter(before)
    tx_people = tx.join(_customers(graph), on="customer_id", how="inner").select("person_id", "ts")
    seen = pl.concat([dated.select(person_id="src", ts="ts"), tx_people])
    if population == "active":
        received = dated.filter(pl.col("kind").is_in(PERSON_KINDS)).select(person_id="dst")
        present = pl.concat([seen.select("person_id"), received]).unique()["person_id"]
    else:
        present = graph.people["person_id"]
    undated = e.filter(pl.col("ts").is_null())
    structural = undated.filter(pl.col("kind").is_in(STRUCTURAL_KINDS))
    keep = structural.filter(
        pl.col("src").is_in(present.implode())
        & ((pl.col("kind") != "follows") | pl.col("dst").is_in(present.implode()))
    )
    edges = pl.concat([dated.filter(pl.col("src").is_in(present.implode())), keep])
    last_seen = seen.group_by("person_id").agg(last_seen=pl.col("ts").max())
    people = (
        graph.people.filter(pl.col("person_id").is_in(present.implode()))
        .join(last_seen, on="person_id", how="left", maintain_order="left")
        .with_columns(
            joined=pl.when(pl.col("joined") < t0).then(pl.col("joined")),
            last_active=pl.when(pl.col("last_active") < t0).then(pl.col("last_active")).otherwise(pl.col("last_seen")),
        )
        .drop("last_seen")
    )
    tx = tx.filter(pl.col("customer_id").is_in(people["customer_id"].drop_nulls().implode()))
    used_items = pl.concat([edges.filter(pl.col("kind") == "reviews")["dst"], tx["item_id"]]).unique()
    used_communities = edges.filter(pl.col("kind") == "member_of")["dst"].unique()
    past = TopicGraph.from_tables(
        people,
        edges,
        items=graph.items.filter(pl.col("item_id").is_in(used_items.implode())),
        communities=graph.communities.filter(pl.col("community_id").is_in(used_communities.implode())),
        transactions=tx,
        handles=graph.handles.filter(pl.col("person_id").is_in(present.implode())),
        source=f"{graph.source or 'graph'} before {t0:%Y-%m-%d %H:%M}",
    )
    n_follows = int((e["kind"] == "follows").sum())
    kept_follows = int((edges["kind"] == "follows").sum())
    counts = {
        "people": people.height,
        "people_excluded": graph.people.height - people.height,
        "follows": kept_follows,
        "follows_excluded": n_follows - kept_follows,
        "events_before": dated.height + graph.transactions.filter(before).height,
        "events_after": e.filter(pl.col("ts") >= t0).height + graph.transactions.filter(pl.col("ts") >= t0).height,
        "undated_events_excluded": undated.height - structural.height,
    }
    return Split(cutoff=t0, population=population, past=past, counts=counts)
