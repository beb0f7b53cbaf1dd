"""Ciao (Tang et al.): product reviews with categories, helpfulness, time, and trust.

Mapping (also written in ``datasets/ciao/SOURCE.md``):

- every user is a person and a customer (``customer_id`` = ``person_id``);
  ``joined`` / ``last_active`` are their first / last review time;
- trust ``truster -> trustee`` is a ``follows`` edge (weight 1, sign +1, undated);
- each review is a ``reviews`` edge user -> product, topic = the review's
  category name, weight = helpfulness (1..7), sign = +1 when the rating is 3..5
  and -1 when it is 0..2, ts = review time;
- each review is also a transaction (Ciao has no prices: ``amount`` is null,
  each review its own order);
- items are products; a product's topic is the category most of its reviews
  carry (101 products carry two; ties go to the lower category id).

>>> from graphkit.io.adapters.ciao import category_names
>>> category_names()[10]
'Ciao Café'
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.errors import DataFileError
from graphkit.model.graph import TopicGraph

# catalog_ciao.txt, with its one mis-encoded name repaired ("Ciao Caf?" -> "Ciao Café").
_CATEGORIES = (
    "DVDs", "Books", "Beauty", "Music", "Travel", "Food & Drink", "Sports & Outdoors", "Entertainment",
    "Health", "Ciao Café", "Shopping", "Internet", "Software", "House & Garden", "Education & Careers",
    "Cars", "Household Appliances", "Telecommunications", "Electronics", "Musical Instruments & Equipment",
    "Computers", "Cameras", "Family", "Games", "Fashion", "Adult Products", "Office Equipment", "Finance",
)


def category_names() -> dict[int, str]:
    """Ciao category id (1..28) -> name."""
    return {i + 1: name for i, name in enumerate(_CATEGORIES)}


def load(folder: str | Path) -> TopicGraph:
    """Build a TopicGraph from ``shared/datasets/ciao`` (its ``derived/`` CSV files)."""
    folder = Path(folder)
    ratings_path = folder / "derived" / "ciao_ratings_with_time.csv"
    trust_path = folder / "derived" / "ciao_trust.csv"
    for p in (ratings_path, trust_path):
        if not p.exists():
            raise DataFileError(str(p), "missing; point to the Ciao folder of shared/datasets")
    r = pl.read_csv(ratings_path, schema_overrides={c: pl.Int64 for c in
                    ("user", "product", "category", "rating", "helpfulness", "unix_time")})
    t = pl.read_csv(trust_path, schema_overrides={"truster": pl.Int64, "trustee": pl.Int64})
    cats = pl.DataFrame({"category": list(category_names()), "topic": list(category_names().values())})
    r = r.join(cats, on="category", how="left").with_columns(
        ts=pl.from_epoch("unix_time", time_unit="s").dt.cast_time_unit("us").dt.replace_time_zone("UTC"),
        person=pl.col("user").cast(pl.String),
        item=pl.col("product").cast(pl.String),
    )
    active = r.group_by("person").agg(joined=pl.col("ts").min(), last_active=pl.col("ts").max())
    ids = pl.concat([r["person"], t["truster"].cast(pl.String), t["trustee"].cast(pl.String)]).unique()
    people = (
        pl.DataFrame({"person_id": ids})
        .join(active, left_on="person_id", right_on="person", how="left")
        .with_columns(customer_id=pl.col("person_id"))
        .sort(pl.col("person_id").cast(pl.Int64))
        .select("person_id", "customer_id", "joined", "last_active")
    )
    items = (
        r.group_by("item", "category", "topic").len()
        .sort(["item", "len", "category"], descending=[False, True, False])
        .unique("item", keep="first", maintain_order=True)
        .sort(pl.col("item").cast(pl.Int64))
        .select(pl.col("item").alias("item_id"), "topic")
    )
    follows = t.select(
        src=pl.col("truster").cast(pl.String), dst=pl.col("trustee").cast(pl.String), kind=pl.lit("follows"),
        topic=pl.lit(None, pl.String), weight=pl.lit(1.0), sign=pl.lit(1, pl.Int8),
        ts=pl.lit(None, pl.Datetime("us", "UTC")), channel=pl.lit("ciao"),
    )
    reviews = r.select(
        src="person", dst="item", kind=pl.lit("reviews"), topic="topic",
        weight=pl.col("helpfulness").cast(pl.Float64),
        sign=pl.when(pl.col("rating") >= 3).then(1).otherwise(-1).cast(pl.Int8),
        ts="ts", channel=pl.lit("ciao"),
    )
    transactions = r.select(
        customer_id="person", item_id="item", amount=pl.lit(None, pl.Float64), ts="ts",
        order_id=pl.lit(None, pl.String),
    )
    return TopicGraph.from_tables(
        people, pl.concat([follows, reviews]), items=items, transactions=transactions, source=str(folder)
    )
