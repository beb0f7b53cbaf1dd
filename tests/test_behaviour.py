"""Behavioural influence, referrals, audience vs active audience: known answers and the bundled data."""

from __future__ import annotations

import datetime as dt

import numpy as np

import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.marketing import example_market
from graphkit.marketing.behaviour import (
    audience,
    behaviour_correlations,
    behaviour_vs_audience,
    behavioural_influence,
    first_adoptions,
    inactive_accounts,
    referrals,
)
from graphkit.scoring.influence import topic_influence


@pytest.fixture(scope="module")
def market() -> TopicGraph:
    return example_market()


def row(table: pl.DataFrame, person: str, topic: str) -> dict:
    return table.filter((pl.col("person_id") == person) & (pl.col("topic") == topic)).row(0, named=True)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def test_first_adoption_is_the_first_purchase_or_contribution(market):
    a = first_adoptions(market)
    assert row(a, "lea", "lego")["adopted_at"] == day("2024-01-05")
    assert row(a, "lea", "cooking")["adopted_at"] == day("2024-02-03")  # her (negative) mention of ivy
    assert row(a, "max", "lego")["adopted_at"] == day("2024-03-01")  # bought a train, never posted
    assert row(a, "f1", "lego")["adopted_at"] == day("2024-01-06")  # shared lea before buying
    assert a.filter(pl.col("person_id") == "ghost").height == 0


def test_followers_who_adopt_after_a_person_within_the_window(market):
    b30 = behavioural_influence(market, window_days=30)
    lea = row(b30, "lea", "lego")
    # followers f1..f5 and ghost; f5 adopted before lea (not exposed); f1-f3 within a week; f4 85 days later
    assert (lea["audience"], lea["exposed"], lea["adopters"]) == (6, 5, 3)
    assert lea["adoption_rate"] == pytest.approx(3 / 5)
    zoe = row(b30, "zoe", "lego")
    assert (zoe["audience"], zoe["exposed"], zoe["adopters"]) == (5, 4, 3)
    b90 = behavioural_influence(market, window_days=90)
    assert row(b90, "lea", "lego")["adopters"] == 4  # f4 now counts
    # nobody follows max: exposure 0, rate undefined (null), not zero
    assert row(b90, "max", "lego")["exposed"] == 0 and row(b90, "max", "lego")["adoption_rate"] is None
    assert (b90["adopters"] <= b90["exposed"]).all() and (b90["exposed"] <= b90["audience"]).all()


def test_behavioural_influence_is_per_topic(market):
    b = behavioural_influence(market, window_days=90)
    assert row(b, "lea", "cooking")["adopters"] == 0  # her followers never cook
    ivy = row(b, "ivy", "cooking")  # reviewed the knife Jan 20; the cooks posted in February
    assert (ivy["exposed"], ivy["adopters"]) == (2, 2)
    assert behavioural_influence(market, topics=["lego"])["topic"].unique().to_list() == ["lego"]


def test_bad_arguments_are_refused(market):
    for bad in (0, -3, "30", None):
        with pytest.raises(GraphkitError, match="window_days"):
            behavioural_influence(market, window_days=bad)
    with pytest.raises(GraphkitError, match="topics is a list"):
        behavioural_influence(market, topics="lego")
    with pytest.raises(GraphkitError, match="unknown topic 'toads'"):
        behavioural_influence(market, topics=["toads"])


def _referral_graph(amounts: list[float | None]) -> TopicGraph:
    """ann and bob both referred cat; cat buys a lego set twice and a pan once."""
    people = pl.DataFrame({"person_id": ["ann", "bob", "cat"], "customer_id": ["c1", "c2", "c3"]})
    edges = pl.DataFrame({
        "src": ["ann", "bob"], "dst": ["cat", "cat"], "kind": ["referred", "referred"],
        "topic": ["lego", None], "ts": ["2024-01-01", "2024-01-10"],
    })
    items = pl.DataFrame({"item_id": ["set", "pan"], "topic": ["lego", "cooking"]})
    tx = pl.DataFrame({
        "customer_id": ["c3", "c3", "c3", "c3"], "item_id": ["set", "set", "pan", "set"],
        "amount": amounts, "ts": ["2023-12-25", "2024-01-05", "2024-01-12", "2024-01-20"],
    })
    return TopicGraph.from_tables(people, edges, items=items, transactions=tx)


def test_referral_revenue_is_credited_once_to_the_latest_referral():
    g = _referral_graph([99.0, 10.0, 20.0, 30.0])
    r = referrals(g)
    # Dec 25 came before any referral; Jan 5 only ann had referred (lego); the Jan 12 pan and the
    # Jan 20 set go to bob, the latest referral (his has no topic, so any purchase counts)
    assert r.rows() == [("ann", "lego", 1, 1, 10.0, 0), ("bob", "cooking", 1, 1, 20.0, 0), ("bob", "lego", 1, 1, 30.0, 0)]
    total = g.transactions.filter(pl.col("ts") >= day("2024-01-01"))["amount"].sum()
    assert r["referred_revenue"].sum() == total  # never counted twice
    windowed = referrals(g, window_days=5)  # ann: Jan 1-6; bob: Jan 10-15
    assert windowed.select("person_id", "topic", "referred_revenue").rows() == [("ann", "lego", 10.0), ("bob", "cooking", 20.0)]


def test_unknown_prices_give_null_revenue_and_are_counted():
    r = referrals(_referral_graph([None, None, 20.0, None]))
    assert r.rows() == [("ann", "lego", 1, 1, None, 1), ("bob", "cooking", 1, 1, 20.0, 0), ("bob", "lego", 1, 1, None, 1)]


def test_referrals_join_behavioural_influence(market):
    b = behavioural_influence(market, window_days=30)
    lea = row(b, "lea", "lego")
    assert (lea["referred_buyers"], lea["referred_purchases"], lea["referred_revenue"]) == (1, 1, 45.0)
    assert row(b, "zoe", "lego")["referred_revenue"] is None
    assert behavioural_influence(market, window_days=2).filter(pl.col("person_id") == "lea")["referred_purchases"].sum() == 0


def test_audience_matches_the_influence_table(market):
    a = audience(market)
    lea = a.filter(pl.col("person_id") == "lea").row(0, named=True)
    # f4 never posted but bought a castle: active; ghost never did anything
    assert (lea["audience"], lea["active_audience"], lea["never_active_followers"]) == (6, 5, 1)
    assert lea["active_share"] == pytest.approx(5 / 6)
    assert a.filter(pl.col("person_id") == "tom")["active_share"].item() is None
    infl = topic_influence(market, topics=["lego"]).table.select("person_id", "audience", "active_audience")
    joined = a.join(infl, on="person_id", suffix="_engine")
    assert (joined["audience"] == joined["audience_engine"]).all()
    assert (joined["active_audience"] == joined["active_audience_engine"]).all()


def test_inactive_accounts_in_and_out_of_a_window(market):
    all_time = inactive_accounts(market).row(0, named=True)
    # never active: brick, fan and ghost (tom, max, sam and f4 only bought, and buying is activity)
    assert (all_time["people"], all_time["active"], all_time["never_active"]) == (16, 13, 3)
    assert all_time["share_never_active"] == pytest.approx(3 / 16)
    feb = inactive_accounts(market, window=("2024-02-01", None)).row(0, named=True)
    assert feb["active"] == 7  # cook1, cook2 and lea posted in February; tom, max, sam and f4 bought
    assert feb["never_active"] == 3  # never is never, whatever the window
    assert feb["follows"] == 14 and 0 < feb["share_follows_from_inactive"] <= 1


def test_behaviour_beside_audience_and_influence(market):
    t = behaviour_vs_audience(market, topics=["lego"], window_days=30)
    assert {"audience", "active_audience", "influence", "influence_percentile", "adopters"} <= set(t.columns)
    lea = t.filter(pl.col("person_id") == "lea").row(0, named=True)
    assert (lea["audience"], lea["active_audience"], lea["adopters"]) == (6, 5, 3)
    assert lea["influence_percentile"] == 93.75  # second on lego, after zoe


def test_correlations_say_which_measure_tracks_acts():
    table = pl.DataFrame({
        "topic": ["x"] * 4 + ["y"] * 2, "exposed": [5, 5, 5, 0, 3, 3], "adopters": [1, 2, 3, 0, 1, 2],
        "audience": [10, 20, 30, 99, 1, 2], "active_audience": [3, 3, 4, 0, 1, 1], "influence": [0.3, 0.2, 0.1, 0.9, 0.1, 0.2],
    })
    c = behaviour_correlations(table)
    x = c.filter(pl.col("topic") == "x").row(0, named=True)
    assert x["people"] == 3  # the person nobody was exposed to is left out
    assert x["rho_audience"] == pytest.approx(1.0) and x["rho_influence"] == pytest.approx(-1.0)
    assert x["rho_active_audience"] == pytest.approx(0.8660254, rel=1e-6)
    y = c.filter(pl.col("topic") == "y").row(0, named=True)
    assert y["rho_audience"] is None  # fewer than 3 people: no correlation
    with pytest.raises(GraphkitError, match="lacks column"):
        behaviour_correlations(table.drop("influence"))


def test_ciao_acts_audience_and_inactive_accounts(ciao):
    infl = topic_influence(ciao, topics=["Books", "Travel"])
    t = behaviour_vs_audience(ciao, topics=["Books", "Travel"], influence=infl)
    assert t.height > 1000 and set(t["topic"].unique()) == {"Books", "Travel"}
    assert (t["adopters"] <= t["exposed"]).all() and (t["exposed"] <= t["audience"]).all()
    assert t["adopters"].sum() > 0
    c = behaviour_correlations(t)
    assert c.height == 2 and c["rho_audience"].is_not_null().all()
    # everybody in Ciao reviewed something, but most did not in the data's last year
    last_year = inactive_accounts(ciao, window=("2010-04-12", None)).row(0, named=True)
    assert last_year["never_active"] == 0 and last_year["inactive"] > last_year["active"]
    a = audience(ciao, window=("2010-04-12", None))
    assert a["audience"].sum() == 111_781
    assert (a["active_audience"] <= a["audience"]).all()


def test_synthetic_referrals_bring_revenue_never_counted_twice():
    from graphkit.io.synthetic import generate

    g = generate(n_people=2000, seed=3)
    r = referrals(g)
    assert r.height > 0 and r["referred_revenue"].sum() > 0
    referred = g.edges.filter(pl.col("kind") == "referred")
    buyers = g.people.join(referred.select(pl.col("dst").alias("person_id")).unique(), on="person_id")
    their_spend = g.transactions.join(buyers.select("customer_id"), on="customer_id")["amount"].sum()
    assert r["referred_revenue"].sum() <= their_spend + 1e-6
    made = referred.group_by(pl.col("src").alias("person_id")).len("referred_people")
    per = r.group_by("person_id").agg(pl.col("referred_buyers").max()).join(made, on="person_id")
    assert per.height == r["person_id"].n_unique()  # every credited referrer made a referral
    assert (per["referred_buyers"] <= per["referred_people"]).all()
    inactive = inactive_accounts(g).row(0, named=True)
    # 44% never author anything; those who buy are active all the same
    never_authored = np.bincount(g.activity_edges["src_idx"].to_numpy(), minlength=g.n_people) == 0
    assert float(never_authored.mean()) == pytest.approx(0.44, abs=0.01)
    assert 0 < inactive["share_never_active"] < float(never_authored.mean())
