"""Marketing views of a graph: value x influence matrix, advocate segments, engagement KPIs.

These functions turn topic influence (:mod:`graphkit.influence`) and loyalty
(:mod:`graphkit.loyalty`) into the tables a marketing analyst works with. Each
takes precomputed ``influence=`` / ``loyalty=`` tables when you have them (any
score with the same columns works, e.g. a backtest's expected reach) and
computes them from the graph when you do not. Every result is a polars
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

from typing import Any, Iterable, Literal, Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.graph import ACTIVITY_KINDS, TopicGraph, dated_in
from graphkit.scores import DEFAULT_SCORE, score_table
from graphkit.topics import Window, normalize_window

#: Quadrants of the value x influence matrix, in display order.
QUADRANTS: tuple[str, ...] = ("champions", "loyalists", "hidden advocates", "occasional")
#: Advocate segments (the customer-advocacy map), in display order.
SEGMENTS: tuple[str, ...] = (
    "fan_follower",
    "influencer",
    "influential_customer",
    "community_member",
    "reviewer",
    "loyal_customer",
)
#: Default "top topic influence": above this influence percentile (the top 10%).
TOP_INFLUENCE_PERCENTILE = 90.0
#: Default "high value": above this value percentile among customers (the upper half).
HIGH_VALUE_PERCENTILE = 50.0
#: Default "loyal customer": above this loyalty-score percentile among customers.
LOYAL_PERCENTILE = 50.0
#: Engagement KPIs (Forrester's four I), in display order.
KPIS: tuple[str, ...] = ("involvement", "interaction", "intimacy", "influence")


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

    Same window convention as :func:`graphkit.influence.topic_influence`;
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


def topic_list(graph: TopicGraph, topics: Iterable[str] | None) -> list[str]:
    """The topics asked for, checked against the graph (None: every topic of the graph).

    >>> topic_list(example_market(), ["lego"])
    ['lego']
    """
    if topics is None:
        return list(graph.topics)
    if isinstance(topics, str):
        raise GraphkitError(f"topics is a list of topics; got the text {topics!r} (write topics=[{topics!r}])")
    chosen = list(dict.fromkeys(topics))
    for t in chosen:
        graph.topic_of(t)  # unknown topic -> error naming the choices
    if not chosen:
        raise GraphkitError("topics is empty; pass None for every topic")
    return chosen


def _check_threshold(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 <= float(value) < 100.0):
        raise GraphkitError(f"{name} is a percentile in [0, 100); got {value!r}")
    return float(value)


def _require(table: pl.DataFrame, columns: tuple[str, ...], what: str, hint: str) -> None:
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
    with those columns, such as an expected-reach table); when None it is
    computed with :func:`graphkit.influence.topic_influence` on ``topics``
    over ``window``. Unknown people or topics raise.

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
        from graphkit.influence import topic_influence

        influence = topic_influence(graph, topics=topics, window=window)
    table = getattr(influence, "table", influence)
    hint = "Pass graphkit.influence.topic_influence(...).table or a table with the same columns."
    _require(table, ("person_id", "topic", "score"), "influence", hint)
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
    """The loyalty table to use: the one given, else :func:`graphkit.loyalty.loyalty` of the graph.

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
        from graphkit.loyalty import loyalty as compute_loyalty

        loyalty = compute_loyalty(graph)
    _require(loyalty, ("customer_id", "loyalty_score"), "loyalty",
             "Pass graphkit.loyalty.loyalty(graph) or a table with the same columns.")
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


def _labels(graph: TopicGraph) -> pl.DataFrame:
    name = pl.col("name") if "name" in graph.people.columns else pl.lit(None, dtype=pl.String)
    return graph.people.select("person_id", "customer_id", pl.coalesce(name, pl.col("person_id")).alias("name"))


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
    customers. ``loyalty`` defaults to :func:`graphkit.loyalty.loyalty` of
    the graph; customers without a purchase in it have value 0.

    *Influence* is the ranking score named by ``score`` — ``"expected_reach"``
    (default, the score the backtest supports; see :mod:`graphkit.scores`) or
    ``"topic_influence"`` — or the table passed as ``influence``, on ``topic``, or with
    ``topic=None`` aggregated over topics (``aggregate="max"``: the best
    topic, named in ``topic``; ``"mean"``: mean over topics).
    ``influence_percentile`` is over everybody on the topic (see
    :func:`resolve_influence`). ``influence`` defaults to
    :func:`graphkit.influence.topic_influence`; any score table with
    ``person_id``, ``topic``, ``score`` works.

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
    [('Zoe', 400.0, 'champions'), ('F1', 45.0, 'loyalists'), ('F5', 50.0, 'loyalists'), ('Max', 500.0, 'loyalists'), ('Sam', 120.0, 'loyalists'), ('Lea', 10.0, 'hidden advocates')]
    >>> value_influence_matrix(g, score="topic_influence", topic="cooking").filter(pl.col("name") == "Lea")["quadrant"].item()
    'occasional'
    """
    vt = _check_threshold("value_threshold", value_threshold)
    it = _check_threshold("influence_threshold", influence_threshold)
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
    if influence is None:  # the backtest-supported score by default (graphkit.scores)
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
        .join(_labels(graph).select("person_id", "name"), on="person_id", how="left")
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
    _require(matrix, ("quadrant",), "matrix", "Pass the table of value_influence_matrix(...).")
    counts = matrix.group_by("quadrant").len("customers")
    out = pl.DataFrame({"quadrant": list(QUADRANTS)}).join(counts, on="quadrant", how="left", maintain_order="left")
    out = out.with_columns(pl.col("customers").fill_null(0).cast(pl.Int64))
    return out.with_columns(share=pl.col("customers") / max(matrix.height, 1))


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

    ``influence`` and ``loyalty`` default to
    :func:`graphkit.influence.topic_influence` and
    :func:`graphkit.loyalty.loyalty` of the graph. Brand accounts are the
    brand, not advocates: they are left out. Columns: person_id,
    customer_id, name, one boolean per segment (:data:`SEGMENTS` order),
    ``segments`` (how many) and ``combination`` (their names joined with
    ``+``; ``"none"``).

    >>> s = advocate_segments(example_market())
    >>> s.filter(pl.col("segments") > 0).select("person_id", "combination").rows()
    [('lea', 'influential_customer+community_member+reviewer'), ('zoe', 'influential_customer+reviewer+loyal_customer'), ('max', 'loyal_customer'), ('ivy', 'influencer+reviewer'), ('f2', 'loyal_customer'), ('f4', 'loyal_customer'), ('f5', 'reviewer'), ('cook1', 'reviewer'), ('cook2', 'reviewer'), ('fan', 'fan_follower+community_member'), ('sam', 'loyal_customer')]
    """
    it = _check_threshold("influence_threshold", influence_threshold)
    lt = _check_threshold("loyalty_threshold", loyalty_threshold)
    people = graph.people
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
    out = _labels(graph).filter(~pid.is_in(brand_accounts.implode())).with_columns(
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

    >>> o = segment_overlaps(advocate_segments(example_market()))
    >>> o.filter(pl.col("segments") >= 2).select("combination", "people").rows()
    [('fan_follower+community_member', 1), ('influencer+reviewer', 1), ('influential_customer+community_member+reviewer', 1), ('influential_customer+reviewer+loyal_customer', 1)]
    """
    _require(segments, ("combination", "segments", *SEGMENTS), "segments", "Pass the table of advocate_segments(...).")
    return (
        segments.group_by("combination", *SEGMENTS, "segments")
        .len("people")
        .sort(["people", "segments", "combination"], descending=[True, False, False])
        .select("combination", pl.col("people").cast(pl.Int64), pl.col("segments").cast(pl.Int64), *SEGMENTS)
    )


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
      When not given, influence is computed over the same window.

    Each KPI also has a ``*_percentile`` among customers (100 = top, ties at
    their lowest, nulls left out) to compare one customer with the
    population (:func:`graphkit.plot.engagement`).

    >>> k = engagement_kpis(example_market())
    >>> k.filter(pl.col("person_id") == "lea").select(*KPIS, "influence_topic").row(0)
    (3, 2, 0.5, 100.0, 'lego')
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
        customers.join(_labels(graph).select("person_id", "name"), on="person_id", how="left")
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
