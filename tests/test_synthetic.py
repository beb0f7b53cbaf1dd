"""The synthetic generator: valid by construction, seeded, and shaped like the texts describe."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph, read_dataset, write_dataset
from graphkit.io.synthetic import (
    END,
    START,
    conform,
    generate,
    topic_names,
    zipf_probabilities,
)
from graphkit.model.schema import TABLES, validate_tables

N = 20_000


@pytest.fixture(scope="module")
def g() -> TopicGraph:
    return generate(n_people=N, seed=11)


def test_tables_are_exactly_what_validation_would_produce(g):
    clean, rejects = validate_tables(g.tables())
    assert rejects.height == 0
    for name, df in g.tables().items():
        assert df.schema == pl.Schema({c.name: c.dtype for c in TABLES[name].columns}), name
        assert clean[name].equals(df), name


def test_validate_true_goes_through_from_tables_and_agrees():
    fast = generate(n_people=800, seed=5)
    checked = generate(n_people=800, seed=5, validate=True)
    for name in TABLES:
        assert getattr(checked, name).equals(getattr(fast, name)), name


def test_same_seed_same_graph_other_seed_other_graph():
    a, b, c = generate(n_people=1_000, seed=1), generate(n_people=1_000, seed=1), generate(n_people=1_000, seed=2)
    assert all(getattr(a, t).equals(getattr(b, t)) for t in TABLES)
    assert not a.edges.equals(c.edges)
    assert not a.transactions.equals(c.transactions)


def test_inactive_share_is_exact_and_last_active_marks_it(g):
    authored = np.bincount(g.activity_edges["src_idx"].to_numpy(), minlength=N) > 0  # contributions, not purchases
    assert (~authored).sum() == round(0.44 * N)
    # last_active is the last contribution: null exactly for never-active accounts
    assert (g.people["last_active"].is_null().to_numpy() == ~authored).all()
    last = g.edges.filter(pl.col("kind").is_in(["mentions", "replies", "shares", "reviews"])).group_by("src").agg(
        pl.col("ts").max().alias("last"))
    joined = g.people.join(last, left_on="person_id", right_on="src", how="inner")
    assert (joined["last"] == joined["last_active"]).all()


@pytest.mark.parametrize("share", [0.0, 0.9])
def test_inactive_share_parameter(share):
    h = generate(n_people=2_000, inactive_share=share, seed=3)
    authored = np.bincount(h.activity_edges["src_idx"].to_numpy(), minlength=2_000) > 0
    assert (~authored).sum() == round(share * 2_000)


def test_follows_are_heavy_tailed_without_self_loops_or_repeats(g):
    f = g.edges.filter(pl.col("kind") == "follows")
    assert 0.9 * 10 * N < f.height <= 10 * N * 1.1
    assert f.filter(pl.col("src") == pl.col("dst")).height == 0
    assert f.select("src", "dst").is_duplicated().sum() == 0
    assert f["topic"].is_null().all() and (f["sign"] == 1).all()
    indeg = np.sort(g.adjacency().count_nonzero(axis=0))[::-1]
    # a uniform (Poisson) graph would give the top 1% about 2% of follows and a max near 2x the mean
    assert indeg[: N // 100].sum() / indeg.sum() > 0.15
    assert indeg[0] > 50 * indeg.mean()
    assert np.median(indeg) < 0.6 * indeg.mean()  # most accounts have a small audience


def test_topics_have_skewed_popularity(g):
    per_topic = g.activity_edges.group_by("topic_idx").len()
    counts = dict(zip([g.topics[i] for i in per_topic["topic_idx"]], per_topic["len"]))
    ordered = [counts[t] for t in topic_names(16)]  # most popular first, by construction
    assert ordered[0] > 8 * ordered[-1]
    assert sum(a >= b for a, b in zip(ordered, ordered[1:])) >= 13  # nearly monotone


def test_zipf_probabilities_are_a_decreasing_distribution():
    for exponent in (0.0, 0.75, 1.0, 2.0):
        p = zipf_probabilities(50, exponent)
        assert abs(p.sum() - 1) < 1e-12 and (np.diff(p) <= 1e-15).all()
    assert np.allclose(zipf_probabilities(5, 0.0), 0.2)


def test_interactions_have_the_declared_mix_signs_and_targets(g):
    e = g.edges
    inter = e.filter(pl.col("kind").is_in(["mentions", "replies", "shares", "reviews"]))
    assert abs(inter.height - 10 * N) <= 1
    mix = dict(inter.group_by("kind").len().iter_rows())
    assert abs(mix["shares"] / inter.height - 0.35) < 0.01 and abs(mix["reviews"] / inter.height - 0.25) < 0.01
    assert inter["topic"].is_not_null().all()
    assert set(inter["sign"].unique()) == {-1, 1}
    assert 0.02 < (inter["sign"] == -1).mean() < 0.1
    reviews = inter.filter(pl.col("kind") == "reviews").join(g.items, left_on="dst", right_on="item_id")
    assert reviews.height == mix["reviews"] and (reviews["topic"] == reviews["topic_right"]).all()
    assert reviews["weight"].is_between(1, 5).all()
    people = set(g.people["person_id"])
    social = inter.filter(pl.col("kind") != "reviews")
    assert set(social["dst"]) <= people and (social["src"] != social["dst"]).all()
    # most shares go to accounts the author follows (the mechanism of influence)
    follows = e.filter(pl.col("kind") == "follows").select("src", "dst")
    followed = social.join(follows, on=["src", "dst"], how="semi").height
    assert followed / social.height > 0.5


def test_every_dated_act_happens_after_the_actor_joined(g):
    joined = g.people.select(pl.col("person_id").alias("src"), "joined")
    e = g.edges.join(joined, on="src")
    assert e.height == g.edges.height
    assert (e["ts"] >= e["joined"]).all()
    assert g.edges["ts"].min() >= START and g.edges["ts"].max() < END


def test_communities_and_referrals(g):
    m = g.edges.filter(pl.col("kind") == "member_of")
    assert m.height > 0 and set(m["dst"]) <= set(g.communities["community_id"])
    ref = g.edges.filter(pl.col("kind") == "referred")
    assert ref.height > 0
    customers = set(g.people.filter(pl.col("customer_id").is_not_null())["person_id"])
    assert set(ref["src"]) <= customers and set(ref["dst"]) <= customers
    follows = g.edges.filter(pl.col("kind") == "follows")
    back = ref.select(pl.col("dst").alias("src"), pl.col("src").alias("dst"))
    assert back.join(follows, on=["src", "dst"], how="semi").height == ref.height  # referred by someone they follow


def test_transactions_have_amounts_dates_and_orders(g):
    t = g.transactions
    n_customers = g.people["customer_id"].is_not_null().sum()
    assert n_customers == round(0.3 * N)
    assert 4 * n_customers < t.height < 6 * n_customers
    assert (t["amount"] > 0).all() and t["amount"].is_finite().all()
    assert set(t["item_id"]) <= set(g.items["item_id"])
    per_order = t.group_by("order_id").agg(pl.col("customer_id").n_unique(), pl.col("ts").n_unique(), pl.len())
    assert (per_order["customer_id"] == 1).all() and (per_order["ts"] == 1).all()
    assert (per_order["len"] > 1).any()
    cust = g.people.select("customer_id", "joined").drop_nulls("customer_id")
    tj = t.join(cust, on="customer_id")
    assert tj.height == t.height and (tj["ts"] >= tj["joined"]).all()


def _favourite_topic(g) -> pl.DataFrame:
    """Each active person's most frequent contribution topic (a proxy for the hidden primary topic)."""
    top = g.activity_edges.group_by("src_idx", "topic_idx").len().sort(["len", "topic_idx"], descending=[True, False])
    top = top.unique("src_idx", keep="first", maintain_order=True)
    ids = g.person_index.rename({"idx": "src_idx"})
    return top.join(ids, on="src_idx").select("person_id", pl.col("topic_idx").alias("fav"))


def test_purchases_follow_exposure_to_followed_accounts(g):
    """Half the lines are in a followed account's topic: far more matches than with shuffled topics."""
    fav = _favourite_topic(g)
    topic_idx = g.topic_index.select("topic", pl.col("topic_idx").cast(pl.UInt32))
    lines = (g.transactions.with_row_index("line")
             .join(g.items.select("item_id", "topic"), on="item_id").join(topic_idx, on="topic")
             .join(g.people.select("person_id", "customer_id").drop_nulls(), on="customer_id"))
    shuffled = lines.with_columns(pl.col("topic_idx").shuffle(seed=1))
    exposure = (g.edges.filter(pl.col("kind") == "follows").select(pl.col("src").alias("person_id"), "dst")
                .join(fav.rename({"person_id": "dst"}), on="dst").select("person_id", "fav").unique())

    def match_rate(frame: pl.DataFrame) -> float:
        hits = frame.join(exposure, left_on=["person_id", "topic_idx"], right_on=["person_id", "fav"], how="semi")
        return hits.height / frame.height

    assert match_rate(lines) > match_rate(shuffled) + 0.05


def test_community_members_are_fans_of_its_topic(g):
    fav = _favourite_topic(g).with_columns(fav=pl.col("fav").replace_strict(
        list(range(len(g.topics))), list(g.topics), return_dtype=pl.String))
    members = (g.edges.filter(pl.col("kind") == "member_of").select(pl.col("src").alias("person_id"), "dst")
               .join(g.communities.select(pl.col("community_id").alias("dst"), "topic"), on="dst")
               .join(fav, on="person_id"))
    assert members.height > 100
    assert (members["topic"] == members["fav"]).mean() > 0.5


def test_write_and_read_back_strictly(tmp_path):
    h = generate(n_people=500, seed=4)
    back = read_dataset(write_dataset(h, tmp_path / "synth"))
    for name in TABLES:
        assert getattr(back, name).equals(getattr(h, name)), name


def test_small_and_degenerate_settings_still_give_valid_graphs():
    for kwargs in (dict(n_people=2), dict(n_people=50, customer_share=0.0), dict(n_people=50, follows_per_person=0),
                   dict(n_people=50, n_topics=1), dict(n_people=50, n_topics=40), dict(n_people=30, customer_share=1.0)):
        h = generate(**kwargs, seed=0)
        _, rejects = validate_tables(h.tables())
        assert rejects.height == 0, kwargs
    assert "topic-040" in generate(n_people=50, n_topics=40, seed=0).topics
    assert generate(n_people=50, customer_share=0.0, seed=0).transactions.height == 0


@pytest.mark.parametrize("kwargs, word", [
    (dict(n_people=1), "n_people"),
    (dict(n_people=10.5), "n_people"),
    (dict(n_topics=0), "n_topics"),
    (dict(follows_per_person=-1), "follows_per_person"),
    (dict(interactions_per_person=float("nan")), "interactions_per_person"),
    (dict(transactions_per_customer=0.5), "transactions_per_customer"),
    (dict(inactive_share=1.0), "inactive_share"),
    (dict(customer_share=-0.1), "customer_share"),
    (dict(interactions_per_person=0.1), "raise interactions_per_person"),
])
def test_bad_arguments_are_named(kwargs, word):
    with pytest.raises(GraphkitError, match=word):
        generate(**{"n_people": 100, **kwargs})


def test_conform_orders_casts_and_fills_declared_columns():
    df = conform(pl.DataFrame({"kind": ["follows"], "dst": ["b"], "src": ["a"], "sign": [1]}), "edges")
    assert df.columns == [c.name for c in TABLES["edges"].columns]
    assert df.row(0, named=True) | {} == {"src": "a", "dst": "b", "kind": "follows", "topic": None, "weight": 1.0,
                                          "sign": 1, "ts": None, "channel": None}
    assert df.schema["sign"] == pl.Int8
