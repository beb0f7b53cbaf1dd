"""Topic influence: the output contract, and the batched engine against the igraph reference."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.scoring.influence import topic_influence

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
    # ... but a tie shares the percentile of its lowest rank: nobody in a tie is "top" by id
    assert t["percentile"].to_list() == [25.0, 25.0, 25.0, 25.0]


def test_people_tied_at_zero_are_never_top_percentile(ciao):
    t = topic_influence(ciao, topics=["Adult Products"]).table
    zero = t.filter(pl.col("score") == 0)
    assert zero.height > 0.5 * t.height  # few people are active on this topic
    assert zero["percentile"].max() <= 100.0 * (1 - (t.height - zero.height) / t.height) + 1e-9
    assert t.filter(pl.col("percentile") > 90)["score"].min() > 0


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
    # cat's cooking mention, then the pan purchases of February: a window between them leaves cooking empty
    with pytest.raises(GraphkitError, match="nobody is active on topic"):
        topic_influence(tiny, topics=["cooking"], window=("2024-01-03T12:00", "2024-02-01"))
    res = topic_influence(tiny, window=("2024-01-02", "2024-01-03"))  # only bob's frog share remains
    assert res.parameters["topics"] == ["frogs"]


# ------------------------------------------------------------------ synthetic graphs and peers
@pytest.fixture(scope="module")
def synthetic():
    from graphkit.io.synthetic import generate

    return generate(n_people=4_000, seed=11)


@pytest.fixture(scope="module")
def synthetic_reference(synthetic):
    return topic_influence(synthetic, engine="igraph")


def _max_abs(a, b) -> float:
    j = a.table.join(b.table, on=["person_id", "topic"], suffix="_b")
    assert j.height == a.table.height == b.table.height
    return j.select((pl.col("score") - pl.col("score_b")).abs().max()).item()


def test_batched_agrees_with_igraph_on_synthetic(synthetic, synthetic_reference):
    res = topic_influence(synthetic)
    assert res.converged and len(res.parameters["topics"]) == 16
    assert _max_abs(synthetic_reference, res) < 1e-6
    for topic in res.parameters["topics"]:
        assert synthetic_reference.top(topic, 100)["person_id"].to_list() == res.top(topic, 100)["person_id"].to_list()


def test_float32_agrees_within_float32_accuracy(synthetic, synthetic_reference):
    res = topic_influence(synthetic, dtype="float32")
    assert res.table["score"].dtype == pl.Float64
    assert _max_abs(synthetic_reference, res) < 1e-6


def test_scores_are_non_negative_sum_to_one_and_deterministic(synthetic):
    a, b = topic_influence(synthetic), topic_influence(synthetic)
    assert a.table.equals(b.table)
    sums = a.table.group_by("topic").agg(pl.col("score").sum())["score"].to_numpy()
    assert np.allclose(sums, 1.0, atol=1e-12)
    assert a.table["score"].min() >= 0.0


def test_inactive_people_get_no_score_from_teleport(synthetic):
    from graphkit.model.topics import topic_structure

    res = topic_influence(synthetic)
    s = topic_structure(synthetic)
    receives = np.asarray(s.general.sum(axis=0)).ravel() > 0
    receives[s.topical_dst] = True
    # inactive people nobody pays positive attention to score exactly 0
    lonely = synthetic.people["person_id"].filter(pl.Series(~s.active & ~receives)).to_list()
    assert len(lonely) > 10
    assert res.table.filter(pl.col("person_id").is_in(lonely))["score"].max() == 0.0


@pytest.mark.parametrize("seed", [1, 2])
def test_networkx_pagerank_cross_check_on_small_graphs(seed):
    """networkx pagerank(personalization=activity) on each topic's layer, with a sink node
    for the attention that passes nothing (networkx's dangling = the teleport vector)."""
    import networkx as nx

    from graphkit.io.synthetic import generate
    from graphkit.model.topics import topic_layer, topic_structure

    g = generate(n_people=300, n_topics=4, seed=seed)
    res = topic_influence(g, tol=1e-12)
    s = topic_structure(g)
    ids = g.people["person_id"].to_list()
    for topic in res.parameters["topics"]:
        t = g.topic_of(topic)
        layer = topic_layer(g, topic).tocoo()
        unpassed = s.unpassed(t)
        G = nx.DiGraph()
        G.add_nodes_from(range(len(ids) + 1))
        G.add_weighted_edges_from(zip(layer.row.tolist(), layer.col.tolist(), layer.data.tolist()))
        sink = len(ids)
        G.add_weighted_edges_from((i, sink, float(unpassed[i])) for i in np.flatnonzero(unpassed))
        v = {i: float(a) for i, a in enumerate(s.activity[:, t]) if a > 0}
        pr = nx.pagerank(G, alpha=0.85, personalization=v, dangling=v, tol=1e-13, max_iter=1000)
        x = np.array([pr[i] for i in range(len(ids))])
        x /= x.sum()
        mine = res.table.filter(pl.col("topic") == topic)["score"].to_numpy()
        assert np.abs(mine - x).max() < 1e-8


def test_result_records_how_it_was_made(tiny):
    import graphkit

    res = topic_influence(tiny, topics=["frogs"], damping_factor=0.5, window=("2024-01-01", None))
    assert res.parameters["damping_factor"] == 0.5 and res.parameters["topics"] == ["frogs"]
    assert res.parameters["max_iter"] == 100 and res.parameters["tol"] == 1e-10
    assert res.parameters["window"][0].year == 2024 and res.parameters["window"][1] is None
    assert res.version == graphkit.__version__ and res.converged and res.iterations >= 1
    assert set(res.residuals) == {"frogs"} and res.residuals["frogs"] < 1e-10
    with pytest.raises(Exception):
        res.iterations = 3  # frozen


def test_too_few_iterations_is_reported_not_hidden(synthetic):
    res = topic_influence(synthetic, max_iter=3)
    assert not res.converged and res.iterations == 3
    assert max(res.residuals.values()) > 1e-10


@pytest.mark.parametrize("seed", range(5))
def test_rank_shortcut_for_zero_scores_ranks_like_the_full_sort(seed):
    from graphkit.scoring.influence import rank_scores, tie_floor_percentiles

    rng = np.random.default_rng(seed)
    n = 2000
    scores = np.where(rng.random(n) < 0.7, 0.0, rng.choice([0.1, 0.2, 0.3], n) + rng.normal(0, 1e-13, n))
    scores[rng.integers(0, n, 20)] = -0.0
    tiebreak = rng.permutation(n)
    # reference, written plainly: by score descending, then runs of near-equal scores by tiebreak
    by_score = sorted(range(n), key=lambda i: (-scores[i], tiebreak[i]))
    groups, prev = [], None
    for i in by_score:
        if prev is None or scores[prev] - scores[i] > 1e-9 * scores[prev]:
            groups.append([])
        groups[-1].append(i)
        prev = i
    full = np.empty(n, dtype=np.uint32)
    full[[i for g in groups for i in sorted(g, key=lambda i: tiebreak[i])]] = np.arange(1, n + 1)
    assert any(len(g) > 1 and g != sorted(g, key=lambda i: tiebreak[i]) for g in groups)  # near-ties exist
    rank = rank_scores(scores, tiebreak)
    assert np.array_equal(rank, full)
    pct = tie_floor_percentiles(scores, rank)
    zero = scores == 0
    assert np.all(pct[zero] == pct[zero].min()) and pct[zero].max() < pct[~zero].min()
    # with negative scores the shortcut does not apply, and the order stays by score
    mixed = scores - 0.05 * zero
    assert rank_scores(mixed, tiebreak)[zero].min() > rank_scores(mixed, tiebreak)[~zero].max()
