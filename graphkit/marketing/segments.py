"""Advocate segments: fans, influencers, influential customers, community members, reviewers, loyal customers, and their overlaps.

>>> SEGMENTS[:3]
('fan_follower', 'influencer', 'influential_customer')
"""

from __future__ import annotations

from typing import Any, Iterable

import polars as pl

from graphkit.marketing.common import (
    LOYAL_PERCENTILE,
    TOP_INFLUENCE_PERCENTILE,
    check_threshold,
    example_market,  # noqa: F401  (used by the examples below)
    percentile,
    person_labels,
    require_columns,
    resolve_influence,
    resolve_loyalty,
)
from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import topic_list

#: Advocate segments (the customer-advocacy map), in display order.
SEGMENTS: tuple[str, ...] = (
    "fan_follower",
    "influencer",
    "influential_customer",
    "community_member",
    "reviewer",
    "loyal_customer",
)


# ----------------------------------------------------------------- segments
def advocate_segments(
    graph: TopicGraph,
    *,
    influence: Any = None,
    loyalty: pl.DataFrame | None = None,
    brand: str | None = None,
    topics: Iterable[str] | None = None,
    influence_threshold: float = TOP_INFLUENCE_PERCENTILE,
    loyalty_threshold: float = LOYAL_PERCENTILE,
) -> pl.DataFrame:
    """The customer-advocacy map: which advocate segments each person belongs to.

    A person may be in several segments; the overlaps are the opportunities
    (see :func:`segment_overlaps`). With ``brand`` set, brand accounts,
    communities and reviewed items are those of that brand; otherwise of any
    brand (fan_follower) or any at all (community_member, reviewer).

    - **fan_follower**: not a customer, follows a brand account (a person
      with ``brand`` set) or belongs to a brand's community page.
    - **influencer**: not a customer, influence percentile above
      ``influence_threshold`` on at least one of ``topics`` (default: every
      topic; see :func:`resolve_influence`; default threshold: the top 10%).
      With many topics, "top 10% somewhere" is common: pass the topics
      your brand is about.
    - **influential_customer**: a customer with that top topic influence.
    - **community_member**: member_of a community.
    - **reviewer**: authored at least one review.
    - **loyal_customer**: a customer whose loyalty score percentile among
      customers is above ``loyalty_threshold`` (default: the upper half).

    ``influence`` and ``loyalty`` default to the default ranking score
    (:func:`graphkit.scoring.registry.score_table`) and
    :func:`graphkit.marketing.loyalty.loyalty` of the graph. Brand accounts are the
    brand, not advocates: they are left out. Columns: person_id,
    customer_id, name, one boolean per segment (:data:`SEGMENTS` order),
    ``segments`` (how many) and ``combination`` (their names joined with
    ``+``; ``"none"``).

    >>> from graphkit.scoring.influence import topic_influence  # the example market's story is topic influence
    >>> s = advocate_segments(example_market(), influence=topic_influence(example_market()))
    >>> s.filter(pl.col("segments") > 0).select("person_id", "combination").rows()
    [('lea', 'influential_customer+community_member+reviewer'), ('zoe', 'influential_customer+reviewer+loyal_customer'), ('max', 'loyal_customer'), ('ivy', 'influencer+reviewer'), ('f2', 'loyal_customer'), ('f4', 'loyal_customer'), ('f5', 'reviewer'), ('cook1', 'reviewer'), ('cook2', 'reviewer'), ('fan', 'fan_follower+community_member'), ('sam', 'loyal_customer')]
    """
    it = check_threshold("influence_threshold", influence_threshold)
    lt = check_threshold("loyalty_threshold", loyalty_threshold)
    people = graph.people
    if brand is not None:
        check_brand(graph, brand)
    brand_col = people["brand"] if "brand" in people.columns else pl.Series([None] * people.height, dtype=pl.String)
    is_brand = brand_col.is_not_null() if brand is None else brand_col == brand
    brand_accounts = people.filter(is_brand.fill_null(False))["person_id"]
    comm = graph.communities if brand is None else graph.communities.filter(pl.col("brand") == brand)
    brand_comms = comm.filter(pl.col("brand").is_not_null())["community_id"]
    edges = graph.edges

    def sources(kind: str, targets: pl.Series) -> pl.Series:
        return edges.filter((pl.col("kind") == kind) & pl.col("dst").is_in(targets.implode()))["src"].unique()

    follows_brand = sources("follows", brand_accounts)
    in_brand_comm = sources("member_of", brand_comms)
    members = sources("member_of", comm["community_id"])
    reviewed = graph.items if brand is None else graph.items.filter(pl.col("brand") == brand)
    reviewers = sources("reviews", reviewed["item_id"])
    infl = resolve_influence(graph, influence, topics=None if topics is None else topic_list(graph, topics))
    top = infl.filter(pl.col("influence_percentile") > it)["person_id"].unique()
    lo = resolve_loyalty(graph, loyalty)
    loyal = lo.filter(percentile(pl.col("loyalty_score")) > lt)["person_id"]

    customer = pl.col("customer_id").is_not_null()
    pid = pl.col("person_id")
    out = person_labels(graph).filter(~pid.is_in(brand_accounts.implode())).with_columns(
        fan_follower=~customer & (pid.is_in(follows_brand.implode()) | pid.is_in(in_brand_comm.implode())),
        influencer=~customer & pid.is_in(top.implode()),
        influential_customer=customer & pid.is_in(top.implode()),
        community_member=pid.is_in(members.implode()),
        reviewer=pid.is_in(reviewers.implode()),
        loyal_customer=customer & pid.is_in(loyal.implode()),
    )
    names = [pl.when(pl.col(s)).then(pl.lit(s)) for s in SEGMENTS]
    return out.with_columns(
        pl.sum_horizontal([pl.col(s).cast(pl.Int32) for s in SEGMENTS]).alias("segments"),
        pl.concat_str(names, separator="+", ignore_nulls=True).replace("", "none").alias("combination"),
    )


def segment_overlaps(segments: pl.DataFrame) -> pl.DataFrame:
    """People per combination of segments (the data of an UpSet chart), largest first.

    Columns: ``combination``, ``people``, ``segments`` (how many segments
    the combination has) and one boolean per segment. People in no segment
    form the ``"none"`` row.

    >>> from graphkit.scoring.influence import topic_influence
    >>> o = segment_overlaps(advocate_segments(example_market(), influence=topic_influence(example_market())))
    >>> o.filter(pl.col("segments") >= 2).select("combination", "people").rows()
    [('fan_follower+community_member', 1), ('influencer+reviewer', 1), ('influential_customer+community_member+reviewer', 1), ('influential_customer+reviewer+loyal_customer', 1)]
    """
    require_columns(segments, ("combination", "segments", *SEGMENTS), "segments", "Pass the table of advocate_segments(...).")
    return (
        segments.group_by("combination", *SEGMENTS, "segments")
        .len("people")
        .sort(["people", "segments", "combination"], descending=[True, False, False])
        .select("combination", pl.col("people").cast(pl.Int64), pl.col("segments").cast(pl.Int64), *SEGMENTS)
    )


def check_brand(graph: TopicGraph, brand: str) -> str:
    """``brand`` if some brand account, community or item carries it; else an error listing the brands.

    A brand nobody carries would filter everything out, or nothing: an answer
    that looks valid and is not.

    >>> check_brand(example_market(), "nobrand")
    Traceback (most recent call last):
    ...
    graphkit.errors.GraphkitError: unknown brand 'nobrand': no brand account, community or item carries it; brands are: Brick Co, Chef & Co
    """
    known = pl.concat([t["brand"] for t in (graph.people, graph.communities, graph.items)
                       if "brand" in t.columns]).drop_nulls().unique().sort().to_list()
    if brand not in known:
        shown = ", ".join(known[:20]) + (f" (+{len(known) - 20} more)" if len(known) > 20 else "") if known else "none"
        raise GraphkitError(f"unknown brand {brand!r}: no brand account, community or item carries it; "
                            f"brands are: {shown}")
    return brand
