"""What the marketing views share: a known example market, influence and loyalty tables, percentiles.

These functions turn a ranking score (the default one of
:mod:`graphkit.scoring.registry`, or any other) and loyalty
(:mod:`graphkit.marketing.loyalty`) into the tables a marketing analyst works with. Each
takes precomputed ``influence=`` / ``loyalty=`` tables when you have them (any
score with the same columns works: ``topic_influence(...).table``, a potential
reach table) and computes them from the graph when you do not, influence by
:data:`~graphkit.scoring.registry.DEFAULT_SCORE`. Every result is a polars
DataFrame keyed by the caller's ids; :mod:`graphkit.plot` draws them.

Loyalty stays an axis of its own: nothing here ranks customers by influence
alone. Percentiles follow one convention everywhere in this module: a value's
percentile is ``100 * (rank, ties at their lowest) / count``, so the top value
is at 100 and a crowd of zeros sits at the bottom instead of the middle.

>>> g = example_market()
>>> sorted(g.topics)
['cooking', 'lego']
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph, dated_in
from graphkit.model.topics import Window, normalize_window

#: Default "top topic influence": above this influence percentile (the top 10%).
TOP_INFLUENCE_PERCENTILE = 90.0
#: Default "high value": above this value percentile among customers (the upper half).
HIGH_VALUE_PERCENTILE = 50.0
#: Default "loyal customer": above this loyalty-score percentile among customers.
LOYAL_PERCENTILE = 50.0


# --------------------------------------------------------------------- example
def example_market() -> TopicGraph:
    """A small hand-built market whose right answers are known (for examples and tests).

    Two topics, ``lego`` and ``cooking``. The Brick Co brand has an account
    (``brick``), a community (``brickclub``) and two lego items; a cookware
    brand sells two cooking items.

    - ``lea`` is the Lego fan: she bought one cheap set (10.0), but five
      lego fans follow her and three of them share her posts on lego; she
      referred ``f1``, who then bought a train. Hidden advocate on lego.
    - ``zoe`` spends a lot on lego (400.0) and is followed and mentioned by
      the same fans: a champion on lego.
    - ``max`` spends the most (500.0) and nobody listens to him: a loyalist.
    - ``tom`` bought once, cheaply, and is silent: occasional.
    - ``ivy`` is no customer but the cooks follow and mention her on
      cooking: an influencer on cooking (and nobody on lego).
    - ``f1`` ... ``f5`` are lego-fan customers: f1-f3 share lea and mention
      zoe the day after lea's review and buy within a week, f4 buys months
      later, f5 bought (and disliked) a train before them all.
    - ``cook1`` and ``cook2`` post on cooking; ``sam`` buys cookware and
      never posts; ``fan`` follows the brand account and joined its
      community but never bought; ``ghost`` follows lea and never posted.

    >>> g = example_market()
    >>> g.people.height, g.transactions.height
    (16, 14)
    """
    ids = ["brick", "lea", "zoe", "max", "tom", "ivy", "f1", "f2", "f3", "f4", "f5",
           "cook1", "cook2", "fan", "ghost", "sam"]
    customers = {"lea", "zoe", "max", "tom", "f1", "f2", "f3", "f4", "f5", "sam"}
    people = pl.DataFrame({
        "person_id": ids,
        "customer_id": [f"c_{p}" if p in customers else None for p in ids],
        "name": [p.capitalize() for p in ids],
        "brand": ["Brick Co" if p == "brick" else None for p in ids],
    })
    items = pl.DataFrame({
        "item_id": ["castle", "train", "pan", "knife"],
        "topic": ["lego", "lego", "cooking", "cooking"],
        "brand": ["Brick Co", "Brick Co", "Chef & Co", "Chef & Co"],
    })
    communities = pl.DataFrame({"community_id": ["brickclub"], "topic": ["lego"], "brand": ["Brick Co"]})
    fans = ["f1", "f2", "f3", "f4", "f5"]
    e: list[tuple[str, str, str, str | None, float, int, str | None]] = []
    for f in fans:  # the lego fans follow lea and zoe; f1-f3 also talk about them on lego
        e += [(f, "lea", "follows", None, 1.0, 1, None), (f, "zoe", "follows", None, 1.0, 1, None)]
    for f in fans[:3]:
        e += [(f, "lea", "shares", "lego", 1.0, 1, "2024-01-06"), (f, "zoe", "mentions", "lego", 1.0, 1, "2024-01-07")]
    e += [("ghost", "lea", "follows", None, 1.0, 1, None)]
    e += [("lea", "castle", "reviews", "lego", 3.0, 1, "2024-01-05")]  # found helpful by 3
    e += [("zoe", "castle", "reviews", "lego", 1.0, 1, "2024-01-04")]
    e += [("f5", "train", "reviews", "lego", 1.0, -1, "2024-01-02")]  # an unhappy early buyer
    for c in ("cook1", "cook2"):
        e += [(c, "ivy", "follows", None, 1.0, 1, None), (c, "ivy", "mentions", "cooking", 2.0, 1, "2024-02-01")]
        e += [(c, "pan", "reviews", "cooking", 1.0, 1, "2024-02-02")]
    e += [("ivy", "knife", "reviews", "cooking", 5.0, 1, "2024-01-20")]
    e += [("lea", "ivy", "mentions", "cooking", 1.0, -1, "2024-02-03")]  # lea mocks ivy: negative attention
    e += [("fan", "brick", "follows", None, 1.0, 1, None), ("fan", "brickclub", "member_of", None, 1.0, 1, None)]
    e += [("lea", "brickclub", "member_of", None, 1.0, 1, None)]
    e += [("lea", "f1", "referred", "lego", 1.0, 1, "2024-01-06")]
    edges = pl.DataFrame(e, schema=["src", "dst", "kind", "topic", "weight", "sign", "ts"], orient="row")
    t = [
        ("c_lea", "castle", 10.0, "2024-01-05"),
        ("c_zoe", "castle", 150.0, "2024-01-04"), ("c_zoe", "train", 250.0, "2024-01-10"),
        ("c_max", "pan", 200.0, "2024-01-03"), ("c_max", "knife", 100.0, "2024-01-04"),
        ("c_max", "train", 200.0, "2024-03-01"),
        ("c_tom", "pan", 5.0, "2024-02-10"),
        ("c_f1", "train", 45.0, "2024-01-10"), ("c_f2", "train", 40.0, "2024-01-12"),
        ("c_f3", "castle", 35.0, "2024-01-20"), ("c_f4", "castle", 30.0, "2024-03-30"),
        ("c_f5", "train", 50.0, "2024-01-02"),
        ("c_sam", "pan", 60.0, "2024-01-15"), ("c_sam", "knife", 60.0, "2024-02-15"),
    ]
    transactions = pl.DataFrame(t, schema=["customer_id", "item_id", "amount", "ts"], orient="row")
    return TopicGraph.from_tables(people, edges, items=items, communities=communities,
                                  transactions=transactions, source="example_market")


# --------------------------------------------------------------------- helpers
def in_window(col: str, window: Window | None) -> pl.Expr:
    """Filter expression ``start <= col < end`` for a window ``(start, end)`` (either bound may be None).

    Same window convention as :func:`graphkit.scoring.influence.topic_influence`;
    undated rows pass only when there is no bound at all.

    >>> df = pl.DataFrame({"ts": ["2024-01-01", "2024-02-01", None]}).with_columns(
    ...     pl.col("ts").str.to_datetime().dt.replace_time_zone("UTC"))
    >>> df.filter(in_window("ts", ("2024-01-15", None))).height, df.filter(in_window("ts", None)).height
    (1, 3)
    """
    return dated_in(*normalize_window(window), col)


def percentile(expr: pl.Expr) -> pl.Expr:
    """Percentile of each value within its column (or ``.over`` group): 100 = top, ties at their lowest.

    >>> pl.DataFrame({"x": [0.0, 0.0, 3.0, 5.0]}).select(percentile(pl.col("x")))["x"].to_list()
    [25.0, 25.0, 75.0, 100.0]
    """
    return expr.rank("min").cast(pl.Float64) * 100.0 / expr.count().cast(pl.Float64)


def check_threshold(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 <= float(value) < 100.0):
        raise GraphkitError(f"{name} is a percentile in [0, 100); got {value!r}")
    return float(value)


def require_columns(table: pl.DataFrame, columns: tuple[str, ...], what: str, hint: str) -> None:
    if not isinstance(table, pl.DataFrame):
        raise GraphkitError(f"{what} must be a polars DataFrame; got {type(table).__name__}. {hint}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise GraphkitError(f"{what} lacks column(s) {missing}; it has {table.columns}. {hint}")


def resolve_influence(
    graph: TopicGraph,
    influence: Any = None,
    *,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """The influence table to use, with this module's ``influence_percentile``.

    ``influence`` is a table with columns ``person_id``, ``topic``, ``score``
    (``topic_influence(...).table``, a result with ``.table``, or any score
    with those columns, such as a potential-reach table); when None the
    default ranking score (:data:`graphkit.scoring.registry.DEFAULT_SCORE`,
    :func:`graphkit.scoring.registry.score_table`) is computed on ``topics``
    as of the end of ``window``. Unknown people or topics raise.

    Returns ``person_id``, ``topic``, ``score``, ``influence_percentile``:
    one row per person of the graph and topic of the table (people without
    a row score 0). ``influence_percentile`` is the score's percentile on
    its topic over everybody, ties at their lowest: people who have no
    influence on a topic sit at the bottom and are never "top" (the
    engine's own ``percentile`` orders tied scores by person_id, which on a
    topic few people are active on would put people with score 0 in the
    top 10%).

    >>> g = example_market()
    >>> t = pl.DataFrame({"person_id": ["lea", "zoe"], "topic": ["lego", "lego"], "score": [0.4, 0.3]})
    >>> resolve_influence(g, t).sort("influence_percentile")["influence_percentile"].to_list()[-3:]
    [6.25, 93.75, 100.0]
    """
    if influence is None:
        from graphkit.scoring.registry import score_table

        influence = score_table(graph, topics=topics, window=window)
    table = getattr(influence, "table", influence)
    hint = "Pass graphkit.scoring.registry.score_table(...) or a table with the same columns."
    require_columns(table, ("person_id", "topic", "score"), "influence", hint)
    unknown = table.join(graph.person_index, on="person_id", how="anti")["person_id"]
    if unknown.len():
        raise GraphkitError(f"influence has person_id(s) not in the graph: {unknown.head(5).to_list()}; "
                            "was it computed on another graph?")
    bad_topics = sorted(set(table["topic"].drop_nulls().unique().to_list()) - set(graph.topics))
    if bad_topics:
        raise GraphkitError(f"influence has topic(s) not in the graph: {bad_topics[:5]}; "
                            f"topics are {list(graph.topics)[:12]}")
    if table["score"].is_null().any() or table["score"].cast(pl.Float64).is_nan().any():
        raise GraphkitError("influence has null or NaN scores; recompute it or fill them (0 = no influence)")
    if topics is not None:
        absent = sorted(set(topics) - set(table["topic"].unique().to_list()))
        if absent:
            raise GraphkitError(f"the influence table has no rows for topic(s) {absent[:5]}; compute influence on them")
        table = table.filter(pl.col("topic").is_in(list(topics)))
    grid = graph.people.select("person_id").join(table.select("topic").unique().sort("topic"), how="cross")
    return (
        grid.join(table.select("person_id", "topic", pl.col("score").cast(pl.Float64)),
                  on=["person_id", "topic"], how="left", maintain_order="left")
        .with_columns(pl.col("score").fill_null(0.0))
        .with_columns(percentile(pl.col("score")).over("topic").alias("influence_percentile"))
    )


def resolve_loyalty(graph: TopicGraph, loyalty: pl.DataFrame | None = None) -> pl.DataFrame:
    """The loyalty table to use: the one given, else :func:`graphkit.marketing.loyalty.loyalty` of the graph.

    Returns one row per customer of the graph (``person_id``, ``customer_id``,
    ``monetary``, ``loyalty_score``); customers missing from the table (no
    purchase in its window) get a loyalty score of 0 and a monetary value of 0.
    Pass ``loyalty(graph, as_of=..., window_days=...)`` for another window.

    >>> g = example_market()
    >>> lo = pl.DataFrame({"customer_id": ["c_max"], "monetary": [500.0], "loyalty_score": [0.9]})
    >>> resolve_loyalty(g, lo).filter(pl.col("person_id") == "tom").row(0)
    ('tom', 'c_tom', 0.0, 0.0)
    """
    if loyalty is None:
        from graphkit.marketing.loyalty import loyalty as compute_loyalty

        loyalty = compute_loyalty(graph)
    require_columns(loyalty, ("customer_id", "loyalty_score"), "loyalty",
             "Pass graphkit.marketing.loyalty.loyalty(graph) or a table with the same columns.")
    customers = graph.people.filter(pl.col("customer_id").is_not_null()).select("person_id", "customer_id")
    unknown = loyalty.join(customers, on="customer_id", how="anti")["customer_id"]
    if unknown.len():
        raise GraphkitError(f"loyalty has customer_id(s) not in the people table: {unknown.head(5).to_list()}")
    if loyalty["customer_id"].is_duplicated().any():
        raise GraphkitError("loyalty has several rows for one customer_id; it must have one row per customer")
    if "monetary" not in loyalty.columns:
        loyalty = loyalty.with_columns(monetary=pl.lit(None, dtype=pl.Float64))
    given = loyalty.select("customer_id", pl.col("monetary").cast(pl.Float64),
                           pl.col("loyalty_score").cast(pl.Float64), pl.lit(True).alias("_given"))
    # customers absent from the loyalty table bought nothing in its window: value 0, not unknown
    return customers.join(given, on="customer_id", how="left", maintain_order="left").select(
        "person_id", "customer_id",
        pl.when(pl.col("_given")).then(pl.col("monetary")).otherwise(0.0).alias("monetary"),
        pl.when(pl.col("_given")).then(pl.col("loyalty_score")).otherwise(0.0).alias("loyalty_score"),
    )


def best_topic_influence(
    graph: TopicGraph,
    influence: pl.DataFrame,
    *,
    topic: str | None = None,
    aggregate: Literal["max", "mean"] = "max",
) -> pl.DataFrame:
    """One influence figure per person: on ``topic``, or aggregated over topics.

    ``influence`` is a table from :func:`resolve_influence`. Columns
    ``person_id``, ``topic`` (the topic used; with ``aggregate="max"`` the
    person's best topic, with ``"mean"`` the text ``"mean"``), ``influence``
    (the score there; with ``"mean"`` the mean score) and
    ``influence_percentile``.

    >>> g = example_market()
    >>> t = resolve_influence(g, pl.DataFrame({"person_id": ["lea", "ivy"], "topic": ["lego", "cooking"],
    ...                                         "score": [0.4, 0.5]}))
    >>> best_topic_influence(g, t).filter(pl.col("person_id").is_in(["lea", "ivy"])).select("person_id", "topic").rows()
    [('lea', 'lego'), ('ivy', 'cooking')]
    """
    if aggregate not in ("max", "mean"):
        raise GraphkitError(f"aggregate must be 'max' or 'mean'; got {aggregate!r}")
    t = influence.select("person_id", "topic", "score", "influence_percentile")
    if topic is not None:
        graph.topic_of(topic)  # unknown topic -> error naming the choices
        per = t.filter(pl.col("topic") == topic)
        if per.height == 0:
            raise GraphkitError(f"the influence table has no rows for topic {topic!r}; compute influence on it")
    elif aggregate == "max":
        per = t.sort(["influence_percentile", "score", "topic"], descending=[True, True, False]).unique(
            "person_id", keep="first")
    else:
        per = t.group_by("person_id").agg(
            pl.lit("mean").alias("topic"), pl.col("score").mean(), pl.col("influence_percentile").mean())
    per = per.select("person_id", "topic", pl.col("score").alias("influence"), "influence_percentile")
    return graph.people.select("person_id").join(per, on="person_id", how="left", maintain_order="left")


def person_labels(graph: TopicGraph) -> pl.DataFrame:
    name = pl.col("name") if "name" in graph.people.columns else pl.lit(None, dtype=pl.String)
    return graph.people.select("person_id", "customer_id", pl.coalesce(name, pl.col("person_id")).alias("name"))
