"""Topic influence: the output contract, and the batched engine against the igraph reference."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.influence import topic_influence

CONTRACT = {
    "person_id": pl.String,
    "topic": pl.String,
    "score": pl.Float64,
    "rank": pl.UInt32,
    "percentile": pl.Float64,
    "audience": pl.UInt32,
    "active_audience": pl.UInt32,
    "credibility": pl.Float64,
}


@pytest.fixture(scope="module")
def ciao_reference(ciao):
    """The igraph engine on six Ciao topics (the reference is slow: one PRPACK solve per topic)."""
    topics = list(ciao.topics[::5])
    return topics, topic_influence(ciao, topics=topics, engine="igraph")


def test_table_has_the_contract_columns_one_row_per_person_and_topic(ciao, ciao_reference):
    topics, ref = ciao_reference
    t = ref.table
    assert dict(t.schema) == CONTRACT
    assert t.height == ciao.n_people * len(topics)
    assert t.select(pl.struct("person_id", "topic").n_unique()).item() == t.height
    assert sorted(t["topic"].unique()) == sorted(topics)


def test_scores_sum_to_one_and_ranks_are_a_permutation(ciao_reference, ciao):
    _, ref = ciao_reference
    per_topic = ref.table.group_by("topic").agg(
        pl.col("score").sum().alias("total"), pl.col("score").min().alias("low"),
        pl.col("rank").sort().alias("ranks"),
    )
    n = ciao.n_people
    for total, low, ranks in per_topic.select("total", "low", "ranks").iter_rows():
        assert total == pytest.approx(1.0, abs=1e-9)
        assert low >= 0.0
        assert ranks == list(range(1, n + 1))


def test_batched_agrees_with_igraph_on_ciao(ciao, ciao_reference):
    topics, ref = ciao_reference
    res = topic_influence(ciao, topics=topics)
    joined = ref.table.join(res.table, on=["person_id", "topic"], suffix="_b")
    assert joined.height == ref.table.height
    assert joined.select((pl.col("score") - pl.col("score_b")).abs().max()).item() < 1e-6
    for topic in topics:
        top_ref = ref.top(topic, 100)["person_id"].to_list()
        top_b = res.top(topic, 100)["person_id"].to_list()
        assert top_ref == top_b
    assert res.parameters["engine"] == "batched" and res.iterations >= 1


def test_rank_and_percentile_follow_score_then_person_id():
    g = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["d", "c", "b", "a"]}),
        pl.DataFrame({"src": ["d", "c", "b", "a"], "dst": ["a", "b", "c", "d"], "kind": ["shares"] * 4,
                      "topic": ["x"] * 4}),
    )
    t = topic_influence(g, engine="igraph").table.sort("rank")
    # a symmetric cycle: every score equal, so ranks follow person_id
    assert np.allclose(t["score"].to_numpy(), 0.25)
    assert t["person_id"].to_list() == ["a", "b", "c", "d"]
    assert t["percentile"].to_list() == [100.0, 75.0, 50.0, 25.0]


def test_unknown_topic_engine_and_bad_options_raise(tiny):
    with pytest.raises(GraphkitError, match="unknown topic 'toads'"):
        topic_influence(tiny, topics=["toads"])
    with pytest.raises(GraphkitError, match="engine must be one of"):
        topic_influence(tiny, engine="spark")
    with pytest.raises(GraphkitError, match="damping_factor"):
        topic_influence(tiny, damping_factor=1.0)
    with pytest.raises(GraphkitError, match="single string"):
        topic_influence(tiny, topics="frogs")


def test_topic_nobody_is_active_on_is_refused_when_asked_and_skipped_otherwise(tiny):
    # cat's cooking mention is the only cooking activity; a window after it leaves cooking empty
    with pytest.raises(GraphkitError, match="nobody is active on topic"):
        topic_influence(tiny, topics=["cooking"], window=("2024-01-03T12:00", None))
    res = topic_influence(tiny, window=("2024-01-02", "2024-01-03"))  # only bob's frog share remains
    assert res.parameters["topics"] == ["frogs"]
