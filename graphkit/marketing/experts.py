"""Experts per topic and recognition shares: conversations as a service.

Find the people in your ecosystem whose contributions on a topic others
found helpful (:func:`experts`), then reward them in proportion to their
participation with a budget split to the cent (:func:`recognition_shares`).

>>> from graphkit.marketing import example_market
>>> experts(example_market(), topics=["lego"]).select("person_id", "expertise", "rank").head(2).rows()
[('lea', 6.0, 1), ('zoe', 4.0, 2)]
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Iterable

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import in_window, person_labels, require_columns
from graphkit.model.graph import ACTIVITY_KINDS, TopicGraph
from graphkit.model.topics import Window, topic_list

#: Columns of an experts table, in order.
EXPERT_COLUMNS: tuple[str, ...] = (
    "person_id", "topic", "participation", "reviews", "helpfulness", "endorsements", "expertise", "rank",
)
#: Interaction kinds that can endorse a person (their destination is the person endorsed).
ENDORSING_KINDS: tuple[str, ...] = ("mentions", "replies", "shares")


def experts(graph: TopicGraph, *, topics: Iterable[str] | None = None, window: Window | None = None) -> pl.DataFrame:
    """People whose contributions on a topic others found helpful, ranked per topic.

    Over ``window = (start, end)`` (all time by default), for each person
    and topic:

    - ``participation``: contributions authored on the topic (mentions,
      replies, shares, reviews; whatever their sentiment);
    - ``reviews`` and ``helpfulness``: the reviews authored on the topic and
      the sum of their weights; a review's weight is how helpful others found
      it (Ciao: the helpfulness rating, 1 = barely; default 1). A critical
      review can be helpful, so a review's own sign does not matter here;
    - ``endorsements``: weight of the positive mentions, replies and shares
      on the topic other people addressed to the person (negative attention
      endorses nothing);
    - ``expertise`` = helpfulness + endorsements, and ``rank`` within the
      topic (1 = top; ties by participation, then person_id).

    One row per person and topic with participation or endorsements; sorted
    by topic, then rank.

    >>> from graphkit.marketing import example_market
    >>> experts(example_market(), topics=["cooking"]).select("person_id", "participation", "helpfulness",
    ...     "endorsements", "rank").rows()
    [('ivy', 1, 5.0, 4.0, 1), ('cook1', 2, 1.0, 0.0, 2), ('cook2', 2, 1.0, 0.0, 3), ('lea', 1, 0.0, 0.0, 4)]
    """
    chosen = topic_list(graph, topics)
    e = graph.edges.filter(in_window("ts", window) & pl.col("topic").is_in(chosen))
    authored = (
        e.filter(pl.col("kind").is_in(ACTIVITY_KINDS))
        .group_by(pl.col("src").alias("person_id"), "topic")
        .agg(
            pl.len().cast(pl.Int64).alias("participation"),
            (pl.col("kind") == "reviews").sum().cast(pl.Int64).alias("reviews"),
            pl.col("weight").filter(pl.col("kind") == "reviews").sum().cast(pl.Float64).alias("helpfulness"),
        )
    )
    endorsed = (
        e.filter(pl.col("kind").is_in(ENDORSING_KINDS) & (pl.col("sign") > 0) & (pl.col("src") != pl.col("dst")))
        .group_by(pl.col("dst").alias("person_id"), "topic")
        .agg(pl.col("weight").sum().cast(pl.Float64).alias("endorsements"))
    )
    out = authored.join(endorsed, on=["person_id", "topic"], how="full", coalesce=True).with_columns(
        pl.col("participation").fill_null(0), pl.col("reviews").fill_null(0),
        pl.col("helpfulness").fill_null(0.0), pl.col("endorsements").fill_null(0.0),
    )
    out = out.with_columns(expertise=pl.col("helpfulness") + pl.col("endorsements")).sort(
        ["topic", "expertise", "participation", "person_id"], descending=[False, True, True, False]
    )
    return out.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("topic").alias("rank")).select(
        EXPERT_COLUMNS
    )


def budget_cents(budget: Any) -> int:
    """The budget as a whole number of cents; refuses negatives, NaN and fractions of a cent."""
    if isinstance(budget, bool):
        raise GraphkitError(f"budget must be an amount of money (e.g. 1000 or '1000.50'); got {budget!r}")
    try:
        d = Decimal(str(budget)) if isinstance(budget, (int, float, str)) else Decimal(budget)
    except (InvalidOperation, TypeError, ValueError):
        raise GraphkitError(f"budget must be an amount of money (e.g. 1000 or '1000.50'); got {budget!r}") from None
    if not d.is_finite() or d < 0:
        raise GraphkitError(f"budget must be a finite amount >= 0; got {budget!r}")
    cents = d * 100
    if cents != cents.to_integral_value():
        raise GraphkitError(f"budget {budget!r} has fractions of a cent; round it to 2 decimals")
    return int(cents)


def split_cents(weights: list[float], total_cents: int, tiebreak: list[str]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` by largest remainder; sums exactly.

    Each share gets the whole cents of its exact quota; the cents left over
    go one by one to the largest remainders (ties: larger weight, then
    ``tiebreak`` ascending). Arithmetic is exact (fractions), so the result
    does not depend on floating-point rounding.

    >>> split_cents([1.0, 1.0, 1.0], 100, ["a", "b", "c"])
    [34, 33, 33]
    """
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise GraphkitError("recognition weights must be finite and >= 0")
    exact = [Fraction(w) for w in weights]
    total = sum(exact, Fraction(0))
    if total == 0:
        raise GraphkitError("nobody has any weight to share the budget by; check topics= and by=")
    quotas = [w * total_cents / total for w in exact]
    cents = [math.floor(q) for q in quotas]
    left = total_cents - sum(cents)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - cents[i]), -exact[i], tiebreak[i]))
    for i in order[:left]:
        cents[i] += 1
    return cents


def recognition_shares(
    graph: TopicGraph,
    *,
    budget: Any,
    topics: Iterable[str] | None = None,
    top: int | None = None,
    by: str = "participation",
    experts_table: pl.DataFrame | None = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """Split a recognition budget among experts in proportion to their participation.

    Takes the :func:`experts` of ``topics`` over ``window`` (or the
    ``experts_table`` given), keeps the ``top`` best-ranked per topic when
    set, sums each person's ``by`` column over the topics (default
    ``participation``; ``expertise`` or ``helpfulness`` also make sense) and
    splits ``budget`` in proportion, to the cent, by largest remainder: the
    amounts sum **exactly** to the budget. People with no weight get nothing
    and are left out.

    Columns: ``person_id``, ``name``, ``topics`` (how many topics they were
    counted on), the ``by`` column, ``share`` (of the budget, 0..1) and
    ``amount`` (Decimal with 2 places). Sorted by amount, largest first.

    >>> from graphkit.marketing import example_market
    >>> r = recognition_shares(example_market(), budget="99.99", topics=["lego", "cooking"], top=3)
    >>> r.select("person_id", "participation", "amount").rows()
    [('cook1', 2, Decimal('25.00')), ('cook2', 2, Decimal('24.99')), ('f5', 1, Decimal('12.50')), ('ivy', 1, Decimal('12.50')), ('lea', 1, Decimal('12.50')), ('zoe', 1, Decimal('12.50'))]
    >>> r["amount"].sum()
    Decimal('99.99')
    """
    cents = budget_cents(budget)
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise GraphkitError(f"top must be a positive integer or None; got {top!r}")
    table = experts(graph, topics=topics, window=window) if experts_table is None else experts_table
    require_columns(table, ("person_id", "topic", "rank", by), "experts_table", "Pass the table of experts(...).")
    if experts_table is not None and topics is not None:
        table = table.filter(pl.col("topic").is_in(topic_list(graph, topics)))
    if not table[by].dtype.is_numeric():
        raise GraphkitError(f"by={by!r} must name a numeric column of the experts table; it is {table[by].dtype}")
    if top is not None:
        table = table.filter(pl.col("rank") <= top)
    per = (
        table.group_by("person_id")
        .agg(pl.col("topic").n_unique().cast(pl.Int64).alias("topics"), pl.col(by).sum())
        .filter(pl.col(by) > 0)
        .sort("person_id")
    )
    if per.height == 0:
        raise GraphkitError("nobody has any weight to share the budget by; check topics=, top= and by=")
    split = split_cents([float(w) for w in per[by].to_list()], cents, per["person_id"].to_list())
    amounts = pl.Series("amount", [Decimal(c).scaleb(-2) for c in split], dtype=pl.Decimal(38, 2))
    out = per.with_columns(amounts, share=pl.col(by).cast(pl.Float64) / float(per[by].sum()))
    return (
        out.join(person_labels(graph).select("person_id", "name"), on="person_id", how="left")
        .sort(["amount", by, "person_id"], descending=[True, True, False])
        .select("person_id", "name", "topics", by, "share", "amount")
    )
