"""Potential reach: the model does what it says, and its table plugs in wherever influence does."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from graphkit.errors import GraphkitError
from graphkit.evidence.backtest import as_utc, split_at
from graphkit.marketing import example_market, value_influence_matrix
from graphkit.marketing.loyalty import influential_loyal_customers
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.reach import FEATURES, data_end, potential_reach, propensity
from tests.test_backtest import T0, cascade, extend


@pytest.fixture(scope="module")
def past():
    """The planted cascade as known before T0 (the fans' frogs reviews are in the future)."""
    return split_at(cascade(), T0).past


def test_table_has_the_columns_and_types_of_topic_influence(past):
    reach = potential_reach(past).table
    influence = topic_influence(past).table
    assert reach.schema == influence.schema
    assert reach.height == past.n_people * len(past.topics)
    frogs = reach.filter(topic="frogs").sort("rank")
    assert frogs["rank"].to_list() == list(range(1, past.n_people + 1))
    assert frogs["percentile"][0] == 100.0


def test_the_planted_influencer_outreaches_the_celebrity(past):
    r = potential_reach(past, topics=["frogs"])
    top = r.top("frogs", 2)
    assert top["person_id"].to_list() == ["inf", "celeb"]
    assert top["audience"].to_list() == [10, 30]  # reach is not audience
    # the model learned that active, recently curious people take up topics
    prob, model = propensity(past)
    frogs = past.topic_of("frogs")
    fans = past.index_of([f"fan{i}" for i in range(10)])
    dormant = past.index_of([f"dor{i}" for i in range(30)])
    assert prob[fans, frogs].min() > 3 * prob[dormant, frogs].max()
    coef = dict(model.coefficients.iter_rows())
    assert list(coef) == ["intercept", *FEATURES] and coef["recent_activity"] > 0
    assert model.converged and model.positives == 11  # 10 fans took up ponds, celeb took up frogs
    assert model.trained_at == data_end(past) - timedelta(days=365)


def test_reach_is_the_credible_sum_of_new_followers_propensities(past):
    r = potential_reach(past, topics=["frogs", "hats"]).table
    prob, _ = propensity(past)
    fans = past.index_of([f"fan{i}" for i in range(10)])
    inf = r.filter(person_id="inf").sort("topic")
    assert inf["score"][0] == pytest.approx(prob[fans, past.topic_of("frogs")].sum())
    assert inf["score"][1] == 0.0  # every fan already reviews hats: nobody new to reach


def test_followers_already_on_the_topic_and_mocking_followers_add_nothing(past):
    g = extend(past, people=["old", "mocker"], edges=[
        ("old", "inf", "follows", None, None), ("old", "frogbook", "reviews", "frogs", "2019-03-01"),
        ("mocker", "hat", "reviews", "hats", "2020-10-01"),
    ])
    mocking = g.edges.filter(src="old", kind="follows").with_columns(src=pl.lit("mocker"), sign=pl.lit(-1, pl.Int8))
    g = g.replace(edges=pl.concat([g.edges, mocking]))
    score = potential_reach(g, topics=["frogs"]).table.filter(person_id="inf")["score"].item()
    prob, _ = propensity(g)
    assert prob[g.index_of(["mocker"])[0], g.topic_of("frogs")] > 0  # the mocker might adopt, but not through inf
    fans = g.index_of([f"fan{i}" for i in range(10)])
    assert score == pytest.approx(prob[fans, g.topic_of("frogs")].sum())


def test_negative_attention_on_the_topic_lowers_reach_by_credibility(past):
    mocked = extend(past, edges=[("dor0", "inf", "mentions", "frogs", "2020-11-01"),
                                 ("dor1", "inf", "mentions", "frogs", "2020-11-02"),
                                 ("dor2", "inf", "mentions", "frogs", "2020-11-03")])
    signs = mocked.edges.with_columns(sign=pl.when((pl.col("kind") == "mentions") & (pl.col("src") != "dor0"))
                                      .then(-1).otherwise(pl.col("sign")).cast(pl.Int8))
    mocked = mocked.replace(edges=signs)
    row = potential_reach(mocked, topics=["frogs"]).table.filter(person_id="inf").row(0, named=True)
    prob, _ = propensity(mocked)
    fans = mocked.index_of([f"fan{i}" for i in range(10)])
    assert row["credibility"] == pytest.approx(1 / 3)
    assert row["score"] == pytest.approx(prob[fans, mocked.topic_of("frogs")].sum() / 3)


def test_window_end_uses_nothing_after_it():
    g = cascade()
    end = as_utc("2020-12-01")
    windowed = potential_reach(g, window=(None, end)).table
    cut = g.replace(edges=g.edges.filter(pl.col("ts").is_null() | (pl.col("ts") < end)),
                    transactions=g.transactions.filter(pl.col("ts") < end))
    assert windowed.equals(potential_reach(cut, window=(None, end)).table)


def test_what_cannot_be_learned_is_refused_with_what_to_do(past):
    quiet_end = extend(past, edges=[("inf", "frogbook", "reviews", "frogs", "2020-12-20")])  # a repeat, no adoption
    with pytest.raises(GraphkitError, match="nothing to learn propensities from"):
        potential_reach(quiet_end, horizon=timedelta(days=5))
    undated = past.replace(edges=past.edges.with_columns(ts=pl.lit(None, pl.Datetime("us", "UTC"))))
    with pytest.raises(GraphkitError, match="no timestamps"):
        potential_reach(undated)
    with pytest.raises(GraphkitError, match="not a single string"):
        potential_reach(past, topics="frogs")
    with pytest.raises(GraphkitError, match="unknown topic"):
        potential_reach(past, topics=["zeppelins"])
    with pytest.raises(GraphkitError, match="positive duration"):
        propensity(past, horizon=timedelta(0))


def test_plugs_into_the_flagship_query_and_the_value_influence_matrix():
    g = example_market()
    reach = potential_reach(g, horizon=timedelta(days=60)).table
    matrix = value_influence_matrix(g, topic="lego", influence=reach)
    assert matrix.height == g.people["customer_id"].drop_nulls().len()
    best = reach.filter(topic="lego").sort("rank")["person_id"].to_list()
    loyal = influential_loyal_customers(g, topics=["lego"], influence=reach, min_loyalty=0.0, top_percentile=50)
    assert loyal.height > 0 and set(loyal["person_id"]) <= set(best[: len(best) // 2 + 1])


def test_deterministic(past):
    a, b = potential_reach(past).table, potential_reach(past).table
    assert a.equals(b)
    assert np.isfinite(a["score"].to_numpy()).all() and (a["score"] >= 0).all()
