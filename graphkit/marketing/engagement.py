"""Forrester's four engagement KPIs per customer: involvement, interaction, intimacy, influence.

>>> KPIS
('involvement', 'interaction', 'intimacy', 'influence')
"""

from __future__ import annotations

from typing import Any

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import (
    best_topic_influence,
    example_market,  # noqa: F401  (used by the examples below)
    in_window,
    percentile,
    person_labels,
    resolve_influence,
)
from graphkit.model.graph import ACTIVITY_KINDS, TopicGraph
from graphkit.model.topics import Window

#: Engagement KPIs (Forrester's four I), in display order.
KPIS: tuple[str, ...] = ("involvement", "interaction", "intimacy", "influence")


# --------------------------------------------------------------- engagement
def engagement_kpis(
    graph: TopicGraph,
    *,
    influence: Any = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """Forrester's four engagement KPIs per customer, from the data model.

    Over ``window = (start, end)`` (``start <= ts < end``; None: all time):

    - **involvement**: distinct days on which the customer did anything we
      can see (bought, or authored any dated edge: follow, review, mention,
      reply, share, membership, referral). Presence, like visits.
    - **interaction**: authored contributions (mentions, replies, shares,
      reviews): what the customer said.
    - **intimacy**: share of those contributions with positive sentiment
      (sign +1); null when the customer contributed nothing.
    - **influence**: the customer's best-topic influence percentile
      (``influence_topic`` names the topic; see :func:`resolve_influence`).
      When not given, the default ranking score is computed as of the end
      of the same window (:func:`graphkit.scoring.registry.score_table`).

    Each KPI also has a ``*_percentile`` among customers (100 = top, ties at
    their lowest, nulls left out) to compare one customer with the
    population (:func:`graphkit.plot.engagement`).

    >>> from graphkit.scoring.influence import topic_influence
    >>> k = engagement_kpis(example_market(), influence=topic_influence(example_market()))
    >>> k.filter(pl.col("person_id") == "lea").select(*KPIS, "influence_topic").row(0)
    (3, 2, 0.5, 93.75, 'lego')
    """
    cond = in_window("ts", window)
    customers = graph.people.filter(pl.col("customer_id").is_not_null()).select("person_id", "customer_id")
    if customers.height == 0:
        raise GraphkitError("the graph has no customers (people.customer_id is empty): KPIs are per customer")
    bought = graph.transactions.filter(cond).join(customers, on="customer_id").select("person_id", "ts")
    authored = graph.edges.filter(cond).select(pl.col("src").alias("person_id"), "ts")
    days = (
        pl.concat([bought, authored])
        .drop_nulls("ts")
        .group_by("person_id")
        .agg(pl.col("ts").dt.date().n_unique().alias("involvement"))
    )
    contrib = (
        graph.edges.filter(cond & pl.col("kind").is_in(ACTIVITY_KINDS))
        .group_by(pl.col("src").alias("person_id"))
        .agg(pl.len().alias("interaction"), (pl.col("sign") > 0).mean().alias("intimacy"))
    )
    best = best_topic_influence(graph, resolve_influence(graph, influence, window=window)).select(
        "person_id", pl.col("topic").alias("influence_topic"), pl.col("influence_percentile").alias("influence")
    )
    k = (
        customers.join(person_labels(graph).select("person_id", "name"), on="person_id", how="left")
        .join(days, on="person_id", how="left")
        .join(contrib, on="person_id", how="left")
        .join(best, on="person_id", how="left")
        .with_columns(
            pl.col("involvement").fill_null(0).cast(pl.Int64),
            pl.col("interaction").fill_null(0).cast(pl.Int64),
            pl.col("intimacy").cast(pl.Float64),
        )
    )
    return k.with_columns(percentile(pl.col(c)).alias(f"{c}_percentile") for c in KPIS).select(
        "person_id", "customer_id", "name", *KPIS, "influence_topic", *(f"{c}_percentile" for c in KPIS)
    )
