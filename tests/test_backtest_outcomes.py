"""The backtest's outcomes: each against a brute-force loop on small random graphs, and on hand-built cases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.evidence.outcomes import OUTCOMES, attributed_adoption, followers_adoption, outcomes
from graphkit.evidence.split import as_utc, split_at
from graphkit.model.adoption import attributed_adoptions

T0 = as_utc("2021-01-01")
DAY = timedelta(days=1)


def graph_of(people: list[str], follows: list[tuple[str, str]], posts: list[tuple[str, str, int]],
             buys: list[tuple[str, str, int]] = ()) -> TopicGraph:
    """People, undated follows (follower, followee), reviews (person, topic, day from T0) and purchases
    (person, topic, day). Each topic has one item to review and one to buy."""
    topics = sorted({t for _, t, _ in [*posts, *buys]} | {"a"})
    edges = [(f, p, "follows", None, None) for f, p in follows]
    edges += [(p, f"review-{t}", "reviews", t, T0 + d * DAY) for p, t, d in posts]
    e = pl.DataFrame(edges, schema={"src": pl.String, "dst": pl.String, "kind": pl.String, "topic": pl.String,
                                    "ts": pl.Datetime("us", "UTC")}, orient="row")
    items = pl.DataFrame({"item_id": [f"{w}-{t}" for t in topics for w in ("review", "shop")],
                          "topic": [t for t in topics for _ in range(2)]})
    tx = pl.DataFrame([(p, f"shop-{t}", 1.0, T0 + d * DAY) for p, t, d in buys],
                      schema={"customer_id": pl.String, "item_id": pl.String, "amount": pl.Float64,
                              "ts": pl.Datetime("us", "UTC")}, orient="row")
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people, "customer_id": people}), e, items=items,
                                  transactions=tx)


def brute(g: TopicGraph, population: str, horizon: timedelta | None, window: timedelta | None,
          posts: list[tuple[str, str, int]], buys: list[tuple[str, str, int]]) -> dict:
    """(person, topic) -> (audience, eligible, attributed, credit, followers_adoption), by plain loops."""
    split = split_at(g, T0, population=population)
    follows = {(f, p) for f, p, k in split.past.edges.select("src", "dst", "kind").iter_rows()
               if k == "follows" and f != p}
    acts: dict[tuple[str, str], list[datetime]] = {}
    for p, t, d in [*posts, *buys]:
        acts.setdefault((p, t), []).append(T0 + d * DAY)
    first = {key: min(ts) for key, ts in acts.items()}
    end = T0 + horizon if horizon is not None else None

    def active(p: str, t: str, tau: datetime) -> bool:
        return any(ts < tau and (window is None or ts >= tau - window) for ts in acts.get((p, t), []))

    out = {}
    for p in {p for _, p in follows}:
        fans = [f for f, q in follows if q == p]
        for t in split.past.topics:
            eligible = [f for f in fans if not ((f, t) in first and first[(f, t)] < T0)]
            adopters = [f for f in eligible if (f, t) in first and (end is None or first[(f, t)] < end)]
            attributed = [f for f in adopters if active(p, t, first[(f, t)])]
            credit = 0.0
            for f in attributed:
                k = sum(active(q, t, first[(f, t)]) for ff, q in follows if ff == f)
                credit += 1.0 / k
            out[(p, t)] = (len(fans), len(eligible), len(attributed), credit, len(adopters))
    return out


people_st = st.just([f"p{i}" for i in range(6)])
acts_st = st.lists(st.tuples(st.sampled_from([f"p{i}" for i in range(6)]), st.sampled_from(["a", "b"]),
                             st.integers(-400, 400)), max_size=25)


@settings(max_examples=30, deadline=None)
@given(
    follows=st.lists(st.tuples(st.sampled_from([f"p{i}" for i in range(6)]),
                               st.sampled_from([f"p{i}" for i in range(6)])), min_size=1, max_size=20),
    posts=acts_st,
    buys=acts_st,
    population=st.sampled_from(["active", "all"]),
    horizon=st.sampled_from([None, timedelta(days=120)]),
    window=st.sampled_from([None, timedelta(days=30), timedelta(days=180)]),
)
def test_every_outcome_matches_a_brute_force_loop(follows, posts, buys, population, horizon, window):
    posts = [("p0", "a", -1), *posts]  # somebody is present before T0
    g = graph_of([f"p{i}" for i in range(6)], follows, posts, buys)
    split = split_at(g, T0, population=population)
    got = outcomes(g, split, horizon=horizon, exposure_window=window)
    want = brute(g, population, horizon, window, posts, buys)
    assert got.height == len(want)
    for r in got.iter_rows(named=True):
        aud, elig, attr, credit, fol = want[(r["person_id"], r["topic"])]
        assert (r["audience"], r["eligible"], r["attributed"], r["followers_adoption"]) == (aud, elig, attr, fol)
        assert r["attributed_split"] == pytest.approx(credit)
        assert r["attributed_split"] <= r["attributed"] <= r["followers_adoption"] <= r["eligible"]


def test_attributed_counts_only_adoptions_soon_after_the_person_was_active():
    # fans f1..f5 follow ann (posts on frogs 10 days before T0) and bob (posted on frogs 300 days before T0)
    fans = [f"f{i}" for i in range(1, 6)]
    follows = [(f, "ann") for f in fans] + [(f, "bob") for f in fans]
    posts = [("ann", "frogs", -10), ("bob", "frogs", -300), ("ann", "cars", -5), ("bob", "cars", -5)]
    posts += [(f, "cars", -50) for f in fans]  # every fan is present before T0, and knows cars already
    posts += [("f1", "frogs", 20), ("f2", "frogs", 170), ("f3", "frogs", 171), ("f4", "frogs", 400)]
    g = graph_of(["ann", "bob", *fans], follows, posts)
    a = attributed_adoption(g, split_at(g, T0), horizon=timedelta(days=365))
    ann = a.filter(person_id="ann", topic="frogs").row(0, named=True)
    bob = a.filter(person_id="bob", topic="frogs").row(0, named=True)
    # f1 (day 20) and f2 (day 170: exactly 180 days after ann's post) count; f3 (181 days after) does not;
    # f4 is past the horizon
    assert (ann["audience"], ann["eligible"], ann["count"], ann["credit"]) == (5, 5, 2, 2.0)
    assert (bob["count"], bob["credit"]) == (0, 0.0)  # bob's post was too long ago
    # "any time before": bob exposed them too, and the credit is split
    anytime = attributed_adoption(g, split_at(g, T0), horizon=timedelta(days=365), exposure_window=None)
    assert anytime.filter(person_id="ann", topic="frogs").select("count", "credit").row(0) == (3, 1.5)
    assert anytime.filter(person_id="bob", topic="frogs").select("count", "credit").row(0) == (3, 1.5)
    # the fans had all taken up cars before T0: nobody is eligible, nothing counts
    assert a.filter(person_id="ann", topic="cars").select("eligible", "count").row(0) == (0, 0)
    # followers' adoption counts every fan who adopts, whatever ann and bob did
    f = followers_adoption(g, split_at(g, T0), horizon=timedelta(days=365))
    assert f.filter(person_id="bob", topic="frogs")["count"].item() == 3


def test_activity_at_the_adoption_instant_or_after_it_does_not_count():
    follows = [("fan", "ann")]
    posts = [("fan", "cars", -30), ("ann", "cars", -30), ("bob", "frogs", -30),  # frogs was known before T0
             ("ann", "frogs", 10), ("fan", "frogs", 10), ("ann", "frogs", 11)]
    g = graph_of(["ann", "bob", "fan"], follows, posts)
    assert attributed_adoption(g, split_at(g, T0)).filter(topic="frogs")["count"].item() == 0


def test_a_purchase_in_the_topic_is_activity_and_adoption():
    follows = [("fan", "ann")]
    posts = [("fan", "cars", -30), ("ann", "cars", -30)]
    buys = [("ann", "frogs", -20), ("fan", "frogs", 40)]
    g = graph_of(["ann", "fan"], follows, posts, buys)
    assert attributed_adoption(g, split_at(g, T0)).filter(topic="frogs")["count"].item() == 1


def test_a_follower_who_appears_only_after_the_cutoff_is_not_counted():
    follows = [("fan", "ann"), ("late", "ann")]
    posts = [("fan", "cars", -30), ("ann", "frogs", -30), ("fan", "frogs", 10), ("late", "frogs", 10)]
    g = graph_of(["ann", "fan", "late"], follows, posts)
    active = attributed_adoption(g, split_at(g, T0)).filter(topic="frogs")
    every = attributed_adoption(g, split_at(g, T0, population="all")).filter(topic="frogs")
    assert active.select("audience", "count").row(0) == (1, 1)
    assert every.select("audience", "count").row(0) == (2, 2)  # the newcomer would leak into the outcome


def test_attributed_adoptions_names_every_exposer_with_its_credit():
    follows = [("fan", "ann"), ("fan", "bob"), ("fan", "cat")]
    posts = [("ann", "frogs", -10), ("bob", "frogs", -20), ("cat", "frogs", -400), ("fan", "frogs", 5)]
    g = graph_of(["ann", "bob", "cat", "fan"], follows, posts)
    a = attributed_adoptions(g, start=T0, end=T0 + timedelta(days=365))
    assert a.select("person_id", "exposers", "credit").rows() == [("ann", 2, 0.5), ("bob", 2, 0.5)]
    assert a["last_active"].to_list() == [T0 - 10 * DAY, T0 - 20 * DAY]


def test_bad_windows_and_horizons_are_refused():
    g = graph_of(["ann", "fan"], [("fan", "ann")], [("ann", "frogs", -10)])
    with pytest.raises(GraphkitError, match="window must be a positive duration"):
        attributed_adoptions(g, start=T0, window=timedelta(0))
    with pytest.raises(GraphkitError, match="horizon must be a positive duration"):
        attributed_adoption(g, split_at(g, T0), horizon=-DAY)
    assert OUTCOMES[0] == "attributed"
