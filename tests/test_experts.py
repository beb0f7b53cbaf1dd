"""Experts per topic and recognition shares that sum exactly to the budget."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import GraphkitError, TopicGraph
from graphkit.marketing import example_market
from graphkit.marketing.experts import (
    EXPERT_COLUMNS,
    experts,
    recognition_shares,
    split_cents,
)


@pytest.fixture(scope="module")
def market() -> TopicGraph:
    return example_market()


def test_experts_known_answers(market):
    e = experts(market)
    assert e.columns == list(EXPERT_COLUMNS)
    lego = e.filter(pl.col("topic") == "lego")
    # lea: a review found helpful by 3 + three positive shares; zoe: review of weight 1 + three mentions
    assert lego.select("person_id", "helpfulness", "endorsements", "expertise", "rank").head(3).rows() == [
        ("lea", 3.0, 3.0, 6.0, 1), ("zoe", 1.0, 3.0, 4.0, 2), ("f5", 1.0, 0.0, 1.0, 3),
    ]
    # f1-f3 took part (a share and a mention each) but nobody endorsed them
    f1 = lego.filter(pl.col("person_id") == "f1").row(0, named=True)
    assert (f1["participation"], f1["reviews"], f1["expertise"]) == (2, 0, 0.0)
    cooking = e.filter(pl.col("topic") == "cooking")
    # lea's mention of ivy is negative: it counts as lea's participation, not as ivy's endorsement
    ivy = cooking.filter(pl.col("person_id") == "ivy").row(0, named=True)
    assert (ivy["helpfulness"], ivy["endorsements"]) == (5.0, 4.0)
    assert cooking.filter(pl.col("person_id") == "lea")["participation"].item() == 1


def test_experts_ranks_are_one_to_n_per_topic(market):
    e = experts(market)
    for (topic,), part in e.group_by("topic"):
        assert sorted(part["rank"].to_list()) == list(range(1, part.height + 1)), topic
        assert part.sort("rank")["expertise"].is_sorted(descending=True)


def test_experts_window(market):
    jan = experts(market, topics=["cooking"], window=("2024-01-01", "2024-02-01"))
    assert jan.select("person_id", "expertise").rows() == [("ivy", 5.0)]  # the cooks came in February


def test_recognition_sums_exactly_and_follows_participation(market):
    r = recognition_shares(market, budget="99.99", topics=["lego", "cooking"], top=3)
    assert r["amount"].sum() == Decimal("99.99")
    assert r["amount"].dtype == pl.Decimal(38, 2)
    amounts = dict(zip(r["person_id"].to_list(), r["amount"].to_list()))
    # participation 2 (cook1, cook2) vs 1 (f5, ivy, lea, zoe): 24.9975 vs 12.49875 exact quotas;
    # the five cents left go to the largest remainders, the last one to cook1 before cook2 by id
    assert amounts == {"cook1": Decimal("25.00"), "cook2": Decimal("24.99"), "f5": Decimal("12.50"),
                       "ivy": Decimal("12.50"), "lea": Decimal("12.50"), "zoe": Decimal("12.50")}
    assert r["share"].sum() == pytest.approx(1.0)


def test_recognition_by_another_column_and_from_a_given_table(market):
    e = experts(market)
    r = recognition_shares(market, budget=1000, experts_table=e, topics=["lego"], by="expertise")
    assert dict(zip(r["person_id"].to_list(), r["amount"].to_list())) == {
        "lea": Decimal("545.45"), "zoe": Decimal("363.64"), "f5": Decimal("90.91"),  # remainders .45 < .64 < .91
    }
    assert r.columns == ["person_id", "name", "topics", "expertise", "share", "amount"]


def test_recognition_refuses_bad_budgets_and_arguments(market):
    for bad in (-1, "1.005", float("nan"), "lots", True):
        with pytest.raises(GraphkitError, match="budget"):
            recognition_shares(market, budget=bad)
    with pytest.raises(GraphkitError, match="top must be"):
        recognition_shares(market, budget=10, top=0)
    with pytest.raises(GraphkitError, match="lacks column"):
        recognition_shares(market, budget=10, by="karma")
    with pytest.raises(GraphkitError, match="nobody has any weight"):
        recognition_shares(market, budget=10, topics=["lego"], by="endorsements",
                           experts_table=experts(market).with_columns(endorsements=pl.lit(0.0)))
    assert recognition_shares(market, budget=0)["amount"].sum() == Decimal("0.00")


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(min_value=0.001, max_value=1e6, allow_nan=False), min_size=1, max_size=40),
    cents=st.integers(min_value=0, max_value=10**12),
)
def test_largest_remainder_is_exact_and_fair(weights, cents):
    ids = [f"p{i:02d}" for i in range(len(weights))]
    split = split_cents(weights, cents, ids)
    assert sum(split) == cents
    total = sum(Fraction(w) for w in weights)
    for w, c in zip(weights, split):
        quota = Fraction(w) * cents / total
        assert quota - 1 < c < quota + 1  # every share within a cent of its exact quota
    assert split == split_cents(weights, cents, ids)  # deterministic


def test_ciao_experts_and_recognition(ciao):
    e = experts(ciao, topics=["Books", "Travel"])
    reviews = ciao.edges.filter((pl.col("kind") == "reviews") & pl.col("topic").is_in(["Books", "Travel"]))
    assert e["participation"].sum() == reviews.height  # Ciao's contributions are its reviews
    assert e["helpfulness"].sum() == pytest.approx(reviews["weight"].sum())
    assert e["endorsements"].sum() == 0  # no mentions, replies or shares in Ciao
    r = recognition_shares(ciao, budget="12345.67", topics=["Books"], top=25, by="expertise")
    assert r.height == 25 and r["amount"].sum() == Decimal("12345.67")
