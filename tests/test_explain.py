"""Explanations: the terms of a topic influence score add up to it, and name who gave the attention."""

from __future__ import annotations

import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.marketing import example_market
from graphkit.marketing.explain import explain_influence
from graphkit.scoring.influence import topic_influence


@pytest.fixture(scope="module")
def market() -> TopicGraph:
    return example_market()


@pytest.mark.parametrize("engine", ["batched", "igraph"])
def test_terms_add_up_to_every_score(market, engine):
    result = topic_influence(market, engine=engine)
    for person, topic, score in result.table.select("person_id", "topic", "score").iter_rows():
        ex = explain_influence(market, person, topic, influence=result, top=3)
        assert ex["contribution"].sum() == pytest.approx(score, rel=1e-6, abs=1e-9)
        if score > 0:
            assert ex["share"].sum() == pytest.approx(1.0, rel=1e-6)
        assert ex["term"].to_list()[-1] == "own activity"


def test_givers_and_the_edges_they_used(market):
    ex = explain_influence(market, "ivy", "cooking")
    attention = ex.filter(pl.col("term") == "attention")
    # the cooks follow and praise ivy; lea's mention of ivy is negative and passes nothing
    assert sorted(attention["giver"].to_list()) == ["cook1", "cook2"]
    assert attention["via"].unique().to_list() == ["follows+mentions"]
    assert "other attention" not in ex["term"].to_list()
    lea = explain_influence(market, "lea", "lego")
    assert lea.filter(pl.col("giver") == "f1")["via"].item() == "follows+referred+shares"  # lea referred f1
    assert lea.filter(pl.col("giver") == "f5")["via"].item() == "follows"
    assert "ghost" not in lea["giver"].to_list()  # never posted: passes nothing
    assert lea["contribution"].head(4).is_sorted(descending=True)


def test_top_folds_the_rest_into_one_row(market):
    ex = explain_influence(market, "lea", "lego", top=2)
    assert ex["term"].to_list() == ["attention", "attention", "other attention", "own activity"]
    full = explain_influence(market, "lea", "lego", top=10)
    assert ex.filter(pl.col("term") == "other attention")["contribution"].item() == pytest.approx(
        full.filter(pl.col("term") == "attention")["contribution"].slice(2).sum()
    )


def test_no_influence_no_terms(market):
    ex = explain_influence(market, "tom", "lego")
    assert ex["term"].to_list() == ["own activity"] and ex["contribution"].item() == 0.0
    assert ex["share"].item() is None


def test_mismatched_parameters_are_refused(market):
    table = topic_influence(market, damping_factor=0.5).table
    with pytest.raises(GraphkitError, match="add up"):
        explain_influence(market, "lea", "lego", influence=table)  # assumes the default 0.85
    assert explain_influence(market, "lea", "lego", influence=table, damping_factor=0.5).height > 0
    with pytest.raises(GraphkitError, match="differs from the result"):
        explain_influence(market, "lea", "lego", influence=topic_influence(market), damping_factor=0.5)
    reach = pl.DataFrame({"person_id": ["lea"], "topic": ["lego"], "score": [0.9]})  # not a PageRank
    with pytest.raises(GraphkitError, match="add up"):
        explain_influence(market, "lea", "lego", influence=reach)
    with pytest.raises(GraphkitError, match="unknown person_id"):
        explain_influence(market, "zed", "lego")
    with pytest.raises(GraphkitError, match="top must be"):
        explain_influence(market, "lea", "lego", top=0)


def test_windowed_result_is_explained_with_its_window(market):
    result = topic_influence(market, topics=["lego"], window=("2024-01-05", "2024-01-08"))
    ex = explain_influence(market, "lea", "lego", influence=result)
    score = result.table.filter(pl.col("person_id") == "lea")["score"].item()
    assert ex["contribution"].sum() == pytest.approx(score, rel=1e-6)


def test_ciao_top_person_is_explained(ciao):
    result = topic_influence(ciao, topics=["Books"])
    top = result.top("Books", 1).row(0, named=True)
    ex = explain_influence(ciao, top["person_id"], "Books", influence=result, top=10)
    assert ex["contribution"].sum() == pytest.approx(top["score"], rel=1e-6)
    assert ex["term"].to_list().count("attention") == 10 and "other attention" in ex["term"].to_list()
    assert set(ex.filter(pl.col("term") == "attention")["via"]) == {"follows"}  # Ciao's attention is trust
