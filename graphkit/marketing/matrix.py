"""The value x influence matrix: customers placed by value and by topic influence (champions, loyalists, hidden advocates, occasional).

>>> quadrant_counts(value_influence_matrix(example_market(), topic="lego", score="topic_influence"))["quadrant"].to_list()
['champions', 'loyalists', 'hidden advocates', 'occasional']
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import (
    HIGH_VALUE_PERCENTILE,
    TOP_INFLUENCE_PERCENTILE,
    best_topic_influence,
    check_threshold,
    example_market,  # noqa: F401  (used by the examples below)
    percentile,
    person_labels,
    require_columns,
    resolve_influence,
    resolve_loyalty,
)
from graphkit.model.graph import TopicGraph
from graphkit.scoring.registry import DEFAULT_SCORE, score_table

#: Quadrants of the value x influence matrix, in display order.
QUADRANTS: tuple[str, ...] = ("champions", "loyalists", "hidden advocates", "occasional")


# ------------------------------------------------------------------- matrix
def value_influence_matrix(
    graph: TopicGraph,
    *,
    topic: str | None = None,
    influence: Any = None,
    score: str = DEFAULT_SCORE,
    loyalty: pl.DataFrame | None = None,
    value: Literal["auto", "monetary", "loyalty_score"] = "auto",
    value_threshold: float = HIGH_VALUE_PERCENTILE,
    influence_threshold: float = TOP_INFLUENCE_PERCENTILE,
    aggregate: Literal["max", "mean"] = "max",
) -> pl.DataFrame:
    """The value x influence matrix: every customer placed by value and by topic influence.

    *Value* is the customer's spend (``monetary`` of the loyalty table) or,
    when prices are unknown, the combined ``loyalty_score``. With
    ``value="auto"`` (default) monetary is used when every customer has one,
    otherwise the loyalty score is, and ``value_basis`` says which. On the
    bundled Ciao data amounts are unknown, so value is the loyalty score
    (recency and frequency). ``value_percentile`` ranks value among
    customers. ``loyalty`` defaults to :func:`graphkit.marketing.loyalty.loyalty` of
    the graph; customers without a purchase in it have value 0.

    *Influence* is the ranking score named by ``score`` (default
    :data:`~graphkit.scoring.registry.DEFAULT_SCORE`; the choices and the
    fallback are in :mod:`graphkit.scoring.registry`) or the table passed as
    ``influence``, on ``topic``, or with
    ``topic=None`` aggregated over topics (``aggregate="max"``: the best
    topic, named in ``topic``; ``"mean"``: mean over topics).
    ``influence_percentile`` is over everybody on the topic (see
    :func:`resolve_influence`); any score table with ``person_id``,
    ``topic``, ``score`` works as ``influence``.

    Quadrants (high = strictly above the threshold percentile; defaults:
    value above the customers' median, influence in the top 10%):
    **champions** high value, high influence; **loyalists** high value, low
    influence; **hidden advocates** low value, high influence (the Lego fan
    who buys little but is heard a lot); **occasional** low and low.

    Columns: person_id, customer_id, name, topic, value, value_basis,
    value_percentile, influence, influence_percentile, quadrant,
    value_threshold, influence_threshold. Sorted by quadrant, then influence.

    >>> g = example_market()
    >>> m = value_influence_matrix(g, score="topic_influence", topic="lego")
    >>> m.filter(pl.col("quadrant") != "occasional").select("name", "value", "quadrant").rows()
    [('Zoe', 400.0, 'champions'), ('F1', 45.0, 'loyalists'), ('Max', 500.0, 'loyalists'), ('F5', 50.0, 'loyalists'), ('Sam', 120.0, 'loyalists'), ('Lea', 10.0, 'hidden advocates')]
    >>> value_influence_matrix(g, score="topic_influence", topic="cooking").filter(pl.col("name") == "Lea")["quadrant"].item()
    'occasional'
    """
    vt = check_threshold("value_threshold", value_threshold)
    it = check_threshold("influence_threshold", influence_threshold)
    if value not in ("auto", "monetary", "loyalty_score"):
        raise GraphkitError(f"value must be 'auto', 'monetary' or 'loyalty_score'; got {value!r}")
    lo = resolve_loyalty(graph, loyalty)
    if lo.height == 0:
        raise GraphkitError("the graph has no customers (people.customer_id is empty): the matrix needs customers")
    unknown_money = int(lo["monetary"].is_null().sum())
    basis = value if value != "auto" else ("monetary" if unknown_money == 0 else "loyalty_score")
    if basis == "monetary" and unknown_money:
        raise GraphkitError(f"{unknown_money} customer(s) have no monetary value (unknown prices); "
                            "use value='loyalty_score' or value='auto'")
    if basis == "loyalty_score" and lo["loyalty_score"].is_null().any():
        raise GraphkitError("loyalty has null loyalty_score values; recompute loyalty or fill them")
    if topic is not None:
        graph.topic_of(topic)
    if influence is None:  # the default ranking score (graphkit.scoring.registry)
        influence = score_table(graph, score=score, topics=None if topic is None else [topic])
    table = resolve_influence(graph, influence, topics=None if topic is None else [topic])
    infl = best_topic_influence(graph, table, topic=topic, aggregate=aggregate)
    high_v = pl.col("value_percentile") > vt
    high_i = pl.col("influence_percentile") > it
    quadrant = (
        pl.when(high_v & high_i).then(pl.lit("champions"))
        .when(high_v).then(pl.lit("loyalists"))
        .when(high_i).then(pl.lit("hidden advocates"))
        .otherwise(pl.lit("occasional"))
    )
    order = {q: i for i, q in enumerate(QUADRANTS)}
    return (
        lo.select("person_id", "customer_id", pl.col(basis).alias("value"))
        .with_columns(value_basis=pl.lit(basis), value_percentile=percentile(pl.col("value")))
        .join(infl, on="person_id", how="left")
        .join(person_labels(graph).select("person_id", "name"), on="person_id", how="left")
        .with_columns(quadrant=quadrant, value_threshold=pl.lit(vt), influence_threshold=pl.lit(it))
        .with_columns(pl.col("quadrant").replace_strict(order, return_dtype=pl.Int32).alias("_q"))
        .sort(["_q", "influence_percentile", "value_percentile", "person_id"], descending=[False, True, True, False])
        .select("person_id", "customer_id", "name", "topic", "value", "value_basis", "value_percentile",
                "influence", "influence_percentile", "quadrant", "value_threshold", "influence_threshold")
    )


def quadrant_counts(matrix: pl.DataFrame) -> pl.DataFrame:
    """Customers per quadrant of a :func:`value_influence_matrix` (all four quadrants, zeros included).

    >>> quadrant_counts(value_influence_matrix(example_market(), score="topic_influence", topic="lego")).rows()
    [('champions', 1, 0.1), ('loyalists', 4, 0.4), ('hidden advocates', 1, 0.1), ('occasional', 4, 0.4)]
    """
    require_columns(matrix, ("quadrant",), "matrix", "Pass the table of value_influence_matrix(...).")
    counts = matrix.group_by("quadrant").len("customers")
    out = pl.DataFrame({"quadrant": list(QUADRANTS)}).join(counts, on="quadrant", how="left", maintain_order="left")
    out = out.with_columns(pl.col("customers").fill_null(0).cast(pl.Int64))
    return out.with_columns(share=pl.col("customers") / max(matrix.height, 1))


