"""Communities per topic: planted partitions, seeding, modularity, the summary, comparison, the command."""

from __future__ import annotations

import json

import random

import igraph as ig
import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from graphkit import GraphkitError, TopicGraph
from graphkit.cli import main
from graphkit.io.synthetic import generate
from graphkit.model.topics import topic_layer
from graphkit.scoring.community import (
    MEMBERSHIP_SCHEMA,
    SUMMARY_SCHEMA,
    CommunityResult,
    compare_partitions,
    leiden,
    topic_communities,
)


# ------------------------------------------------------------------ helpers
def planted_pairs(groups: np.ndarray, p_in: float, p_out: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each pair i < j is linked with p_in inside a group, p_out across."""
    n = groups.size
    i, j = np.triu_indices(n, k=1)
    p = np.where(groups[i] == groups[j], p_in, p_out)
    keep = rng.random(i.size) < p
    return i[keep], j[keep]


def truth_table(ids: list[str], groups: np.ndarray, topic: str | None = None) -> pl.DataFrame:
    df = pl.DataFrame({"person_id": ids, "community": groups.astype(np.int64)})
    return df if topic is None else df.with_columns(topic=pl.lit(topic))


@pytest.fixture(scope="module")
def two_topic_graph():
    """120 people grouped one way on 'frogs' (4 blocks of 30) and another way on 'music' (3 interleaved groups)."""
    rng = np.random.default_rng(11)
    n = 120
    ids = [f"p{i:03d}" for i in range(n)]
    frogs, music = np.arange(n) // 30, np.arange(n) % 3
    frames = []
    for topic, groups in (("frogs", frogs), ("music", music)):
        i, j = planted_pairs(groups, 0.35, 0.01, rng)
        flip = rng.random(i.size) < 0.5  # attention direction does not matter: the layer is symmetrised
        src, dst = np.where(flip, j, i), np.where(flip, i, j)
        frames.append(pl.DataFrame({"src": [ids[k] for k in src], "dst": [ids[k] for k in dst],
                                    "kind": "shares", "topic": topic}))
    graph = TopicGraph.from_tables(pl.DataFrame({"person_id": ids}), pl.concat(frames))
    return graph, ids, {"frogs": frogs, "music": music}


@pytest.fixture
def hand_built():
    """Frogs: triangle a1-a2-a3 and pair b1-b2; cooking: z -> a1. Brand clubs frogclub {a1,a2,z}, bclub {b1}."""
    people = pl.DataFrame({
        "person_id": ["a1", "a2", "a3", "b1", "b2", "z"],
        "customer_id": ["c1", "c2", None, "c4", None, None],
    })
    communities = pl.DataFrame({"community_id": ["frogclub", "bclub"], "topic": ["frogs", "frogs"]})
    edges = pl.DataFrame({
        "src": ["a1", "a2", "a3", "b1", "z", "a1", "a2", "z", "b1"],
        "dst": ["a2", "a3", "a1", "b2", "a1", "frogclub", "frogclub", "frogclub", "bclub"],
        "kind": ["shares"] * 5 + ["member_of"] * 4,
        "topic": ["frogs"] * 4 + ["cooking"] + [None] * 4,
    })
    return TopicGraph.from_tables(people, edges, communities=communities)


HAND_SCORES = pl.DataFrame({
    "person_id": ["a1", "a2", "a3", "b1", "b2", "a1", "z"],
    "topic": ["frogs"] * 5 + ["cooking"] * 2,
    "score": [0.3, 0.2, 0.5, 0.4, 0.6, 0.1, 0.9],
})


@pytest.fixture(scope="module")
def ciao_result(ciao):
    topics = ["Books", "Food & Drink", "Games", "Musical Instruments & Equipment"]
    return topics, topic_communities(ciao, topics=topics, seed=0)


# ----------------------------------------------------------- planted graphs
def test_leiden_recovers_a_planted_partition_up_to_relabelling():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(5), 40)
    src, dst = planted_pairs(groups, 0.3, 0.01, rng)
    found = leiden(groups.size, src, dst, np.ones(src.size), seed=0)
    ids = [f"n{i}" for i in range(groups.size)]
    cmp = compare_partitions(truth_table(ids, groups), truth_table(ids, found))
    assert cmp["same"].to_list() == [True]
    assert cmp["nmi"][0] == pytest.approx(1.0)


def test_each_topic_recovers_its_own_planted_grouping(two_topic_graph):
    graph, ids, truth = two_topic_graph
    res = topic_communities(graph, seed=4, n_jobs=1)
    assert sorted(res.modularity) == ["frogs", "music"]
    for topic, groups in truth.items():
        cmp = compare_partitions(res.membership.filter(pl.col("topic") == topic), truth_table(ids, groups, topic))
        assert cmp["same"].to_list() == [True], topic
    # The same people form different communities on different topics.
    frogs = res.membership.filter(pl.col("topic") == "frogs").drop("topic")
    music = res.membership.filter(pl.col("topic") == "music").drop("topic")
    assert compare_partitions(frogs, music)["nmi"][0] < 0.2


# ----------------------------------------------------------------- seeding
def test_same_seed_same_partition_and_state_does_not_leak():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(8), 25)
    src, dst = planted_pairs(groups, 0.15, 0.03, rng)  # noisy: Leiden's random choices matter
    w = rng.random(src.size) + 0.5
    first = leiden(groups.size, src, dst, w, seed=42)
    leiden(groups.size, src, dst, w, seed=7)  # another run in between changes nothing
    again = leiden(groups.size, src, dst, w, seed=42)
    assert np.array_equal(first, again)


def test_another_seed_gives_another_partition_of_equal_quality():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(10), 60)  # 600 nodes: ten blocks of visits, drawn from the seed
    src, dst = planted_pairs(groups, 0.05, 0.01, rng)
    runs = [leiden(groups.size, src, dst, np.ones(src.size), seed=s) for s in (1, 2, 3)]
    g = ig.Graph(n=groups.size, edges=np.column_stack([src, dst]).tolist())
    assert not np.array_equal(runs[0], runs[1]) or not np.array_equal(runs[0], runs[2])
    q = [g.modularity(r.tolist()) for r in runs]
    assert max(q) - min(q) < 0.02 and min(q) > g.modularity(groups.tolist()) - 0.02


def test_zero_weight_edges_change_nothing():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(4), 30)
    src, dst = planted_pairs(groups, 0.3, 0.02, rng)
    w = rng.random(src.size) + 0.5
    zeros = rng.integers(0, groups.size, size=(2, 500))  # many zero-weight (and parallel) edges
    with_zeros = leiden(groups.size, np.r_[src, zeros[0]], np.r_[dst, zeros[1]], np.r_[w, np.zeros(500)], seed=4)
    assert np.array_equal(with_zeros, leiden(groups.size, src, dst, w, seed=4))


def test_sequential_and_parallel_runs_give_the_same_result():
    graph = generate(n_people=3_000, n_topics=4, seed=3)
    one = topic_communities(graph, seed=9, n_jobs=1)
    two = topic_communities(graph, seed=9, n_jobs=2, influence=None)
    assert one.parameters["n_jobs"] == 1 and two.parameters["n_jobs"] == 2
    assert one.membership.height > 1_000
    assert one.membership.equals(two.membership)
    assert one.summary.equals(two.summary)
    assert one.modularity == two.modularity
    # a topic's partition does not depend on which other topics are requested
    alone = topic_communities(graph, topics=[graph.topics[1]], seed=9, n_jobs=1)
    assert alone.membership.equals(one.membership.filter(pl.col("topic") == graph.topics[1]))


def test_igraph_random_generator_is_restored(hand_built):
    topic_communities(hand_built, seed=3, influence=HAND_SCORES, n_jobs=1)
    random.seed(7)
    a = ig.Graph.Erdos_Renyi(n=40, p=0.2).get_edgelist()
    random.seed(7)
    b = ig.Graph.Erdos_Renyi(n=40, p=0.2).get_edgelist()
    assert a == b  # igraph draws from Python's random module again


# -------------------------------------------------------------- modularity
def _igraph_of_layer(graph: TopicGraph, topic: str) -> tuple[ig.Graph, np.ndarray]:
    w = topic_layer(graph, topic)
    u = sp.triu(w + w.T, k=1, format="coo")
    g = ig.Graph(n=graph.n_people, edges=np.column_stack([u.row, u.col]).tolist(), directed=False)
    g.es["weight"] = u.data.tolist()
    return g, np.asarray(g.strength(weights="weight")) > 0


def test_modularity_matches_igraph_and_beats_singletons(ciao, ciao_result):
    topics, res = ciao_result
    for topic in topics:
        g, has_edge = _igraph_of_layer(ciao, topic)
        rows = res.membership.filter(pl.col("topic") == topic)
        idx = ciao.index_of(rows["person_id"])
        # people without an edge in the layer are left out, everyone with one is in
        assert sorted(idx.tolist()) == np.flatnonzero(has_edge).tolist()
        membership = np.arange(ciao.n_people) + 10_000_000  # isolated people as singletons (no effect)
        membership[idx] = rows["community"].to_numpy()
        membership = np.unique(membership, return_inverse=True)[1]
        expected = g.modularity(membership.tolist(), weights="weight")
        assert res.modularity[topic] == pytest.approx(expected, abs=1e-9)
        singletons = g.modularity(list(range(ciao.n_people)), weights="weight")
        assert res.modularity[topic] > 0.3 > singletons
        contributions = res.summary.filter(pl.col("topic") == topic)["modularity_contribution"].sum()
        assert contributions == pytest.approx(res.modularity[topic], abs=1e-9)


def test_native_leiden_matches_igraph_modularity_and_keeps_communities_connected(ciao):
    topics = list(ciao.topics)
    scores = _no_scores(ciao, topics)
    native = topic_communities(ciao, seed=2, influence=scores)
    reference = topic_communities(ciao, seed=2, influence=scores, engine="igraph")
    assert native.parameters["engine"] == "native" and reference.parameters["engine"] == "igraph"
    gap = np.mean([native.modularity[t] - reference.modularity[t] for t in topics])
    assert gap > -0.002, gap  # as good as igraph's Leiden on the same layers, on average
    for topic in topics:
        assert abs(native.modularity[topic] - reference.modularity[topic]) < 0.03, topic
        # the same people are partitioned: everyone with an edge in the layer
        same = compare_partitions(native.membership.filter(pl.col("topic") == topic),
                                  reference.membership.filter(pl.col("topic") == topic))
        assert same["only_a"][0] == same["only_b"][0] == 0 and same["nmi"][0] > 0.5
    # Leiden's refinement guarantee: every community is connected within its layer
    for topic in topics[:6]:
        g, _ = _igraph_of_layer(ciao, topic)
        rows = native.membership.filter(pl.col("topic") == topic)
        idx = ciao.index_of(rows["person_id"])
        for _, members in pl.DataFrame({"i": idx, "c": rows["community"]}).group_by("c"):
            assert g.subgraph(members["i"].to_list()).is_connected(), (topic, members.height)


def test_native_leiden_matches_igraph_modularity_on_a_synthetic_graph():
    graph = generate(n_people=20_000, n_topics=4, seed=3)
    native = topic_communities(graph, seed=0, n_jobs=1)
    reference = topic_communities(graph, seed=0, n_jobs=1, engine="igraph")
    gaps = [native.modularity[t] - reference.modularity[t] for t in graph.topics]
    assert np.mean(gaps) > -0.002, gaps
    assert max(abs(g) for g in gaps) < 0.01, gaps
    assert min(native.modularity.values()) > 0.3


def test_unknown_engine_is_refused(hand_built):
    with pytest.raises(GraphkitError, match="engine must be one of"):
        topic_communities(hand_built, engine="gve")


def test_higher_resolution_gives_more_communities(ciao):
    coarse = topic_communities(ciao, topics=["Games"], resolution=0.5, influence=_no_scores(ciao, ["Games"]))
    fine = topic_communities(ciao, topics=["Games"], resolution=2.0, influence=_no_scores(ciao, ["Games"]))
    assert fine.summary.height > coarse.summary.height
    assert fine.parameters["resolution"] == 2.0


def _no_scores(graph: TopicGraph, topics: list[str]) -> pl.DataFrame:
    """Equal (zero) influence for everyone: top influencers are then the smallest person_ids."""
    return pl.concat([graph.people.select("person_id", topic=pl.lit(t), score=pl.lit(0.0)) for t in topics])


# ---------------------------------------------------------------- the summary
def test_summary_of_a_hand_built_graph(hand_built):
    res = topic_communities(hand_built, influence=HAND_SCORES, n_influencers=2)
    assert dict(res.summary.schema) == SUMMARY_SCHEMA
    assert dict(res.membership.schema) == MEMBERSHIP_SCHEMA
    assert res.membership.rows() == [
        ("a1", "cooking", 0), ("z", "cooking", 0),
        ("a1", "frogs", 0), ("a2", "frogs", 0), ("a3", "frogs", 0), ("b1", "frogs", 1), ("b2", "frogs", 1),
    ]
    rows = {(r["topic"], r["community"]): r for r in res.summary.iter_rows(named=True)}
    a, b, c = rows[("frogs", 0)], rows[("frogs", 1)], rows[("cooking", 0)]
    assert (a["size"], a["customers"], a["top_influencers"]) == (3, 2, ["a3", "a1"])
    assert a["customer_share"] == pytest.approx(2 / 3)
    # frogclub {a1, a2, z}: 2 shared members, Jaccard 2 / (3 + 3 - 2)
    assert (a["brand_community"], a["brand_overlap"]) == ("frogclub", 2)
    assert a["brand_jaccard"] == pytest.approx(0.5) and a["brand_share"] == pytest.approx(2 / 3)
    assert (b["size"], b["customers"], b["top_influencers"], b["brand_community"]) == (2, 1, ["b2", "b1"], "bclub")
    assert b["brand_jaccard"] == pytest.approx(0.5) and b["brand_share"] == pytest.approx(0.5)
    # m = 4 unit edges: triangle 3/4 - (6/8)^2, pair 1/4 - (2/8)^2
    assert a["modularity_contribution"] == pytest.approx(0.1875) and b["modularity_contribution"] == pytest.approx(0.1875)
    assert res.modularity["frogs"] == pytest.approx(0.375)
    assert (c["size"], c["top_influencers"], c["brand_community"]) == (2, ["z", "a1"], "frogclub")
    assert c["brand_jaccard"] == pytest.approx(2 / 3) and c["brand_share"] == pytest.approx(1.0)
    assert res.modularity["cooking"] == pytest.approx(0.0)
    assert res.of("frogs")["size"].to_list() == [3, 2]
    assert res.method == "leiden" and res.seed == 0 and res.version


def test_people_without_a_score_come_last_and_brand_ties_go_to_the_smaller_id(hand_built):
    extra = pl.DataFrame({"src": ["b2"], "dst": ["aclub"], "kind": ["member_of"], "weight": [1.0], "sign": [1]})
    edges = pl.concat([hand_built.edges, extra],
                      how="diagonal_relaxed")
    communities = pl.DataFrame({"community_id": ["frogclub", "bclub", "aclub"], "topic": ["frogs"] * 3})
    graph = hand_built.replace(edges=edges, communities=communities)
    partial = HAND_SCORES.filter(pl.col("person_id") != "a3")  # a3 has the best frogs score otherwise
    res = topic_communities(graph, topics=["frogs"], influence=partial)
    first, second = res.summary.iter_rows(named=True)
    assert first["top_influencers"] == ["a1", "a2", "a3"]
    # bclub {b1} and aclub {b2} both overlap {b1, b2} with Jaccard 1/2
    assert (second["brand_community"], second["brand_jaccard"]) == ("aclub", 0.5)
    none = topic_communities(graph, topics=["frogs"], influence=partial, n_influencers=0)
    assert none.summary["top_influencers"].to_list() == [[], []]


def test_summary_without_brand_members_has_null_brand(hand_built):
    graph = hand_built.replace(edges=hand_built.edges.filter(pl.col("kind") != "member_of"))
    res = topic_communities(graph, influence=HAND_SCORES)
    assert res.summary["brand_community"].null_count() == res.summary.height
    assert res.summary["brand_overlap"].to_list() == [0] * res.summary.height


def test_top_influencers_come_from_topic_influence_by_default(hand_built):
    from graphkit.scoring.influence import topic_influence

    res = topic_communities(hand_built, topics=["frogs"])
    scores = topic_influence(hand_built, topics=["frogs"]).table
    for row in res.summary.iter_rows(named=True):
        members = res.membership.filter((pl.col("topic") == "frogs") & (pl.col("community") == row["community"]))
        best = (scores.join(members, on=["person_id", "topic"])
                .sort(["score", "person_id"], descending=[True, False])["person_id"].head(3).to_list())
        assert row["top_influencers"] == best


def test_influence_in_any_row_order_gives_the_same_summary(ciao):
    from graphkit.scoring.influence import topic_influence

    topics = ["Books", "Games"]
    scores = topic_influence(ciao, topics=topics).table  # blocks of every person in graph order: read by slicing
    shuffled = scores.sample(fraction=1.0, shuffle=True, seed=3)  # read by joining on person_id
    mixed = pl.concat([scores.filter(pl.col("topic") == "Books"),  # one block sliced, one joined
                       scores.filter(pl.col("topic") == "Games").sample(fraction=1.0, shuffle=True, seed=4)])
    results = [topic_communities(ciao, topics=topics, seed=1, influence=t).summary for t in (scores, shuffled, mixed)]
    assert results[0].equals(results[1]) and results[0].equals(results[2])


def test_equal_sized_communities_are_numbered_by_smallest_member():
    pairs = [("x1", "x2"), ("x2", "x3"), ("x3", "x1"), ("c1", "c2"), ("c2", "c3"), ("c3", "c1")]
    graph = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["x1", "x2", "x3", "c1", "c2", "c3"]}),
        pl.DataFrame({"src": [s for s, _ in pairs], "dst": [d for _, d in pairs], "kind": "mentions", "topic": "t"}),
    )
    for seed in range(3):
        res = topic_communities(graph, seed=seed, influence=_no_scores(graph, ["t"]))
        zero = res.membership.filter(pl.col("community") == 0)["person_id"].to_list()
        assert zero == ["c1", "c2", "c3"]
        assert res.summary["top_influencers"].to_list() == [["c1", "c2", "c3"], ["x1", "x2", "x3"]]


def test_window_leaves_out_attention_outside_it():
    graph = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["a", "b", "c", "d"]}),
        pl.DataFrame({"src": ["a", "b", "c"], "dst": ["b", "a", "d"], "kind": "shares", "topic": "t",
                      "ts": ["2024-01-05", "2024-01-06", "2023-06-01"]}),
    )
    every = topic_communities(graph, influence=_no_scores(graph, ["t"]))
    recent = topic_communities(graph, window=("2024-01-01", None), influence=_no_scores(graph, ["t"]))
    assert sorted(every.membership["person_id"]) == ["a", "b", "c", "d"]
    assert sorted(recent.membership["person_id"]) == ["a", "b"]
    assert recent.parameters["window"][0].year == 2024


def test_a_topic_without_attention_has_no_communities(hand_built):
    graph = hand_built.replace(items=pl.DataFrame({"item_id": ["pan"], "topic": ["baking"]}))
    res = topic_communities(graph, influence=HAND_SCORES)
    assert np.isnan(res.modularity["baking"])
    assert res.membership.filter(pl.col("topic") == "baking").height == 0
    assert res.of("baking").height == 0


def test_bundled_ciao(ciao, ciao_result):
    topics, res = ciao_result
    assert isinstance(res, CommunityResult)
    assert res.parameters["topics"] == topics and res.parameters["n_jobs"] == 1  # small graph: in-process
    for topic in topics:
        s = res.of(topic)
        sizes = s["size"].to_list()
        assert sizes == sorted(sizes, reverse=True) and s["community"].to_list() == list(range(len(sizes)))
        assert sum(sizes) == res.membership.filter(pl.col("topic") == topic).height
        assert s["top_influencers"].list.len().to_list() == [min(3, n) for n in sizes]
        assert s["customer_share"].is_between(0, 1).all()
    assert res.membership.select(pl.struct("person_id", "topic").n_unique()).item() == res.membership.height


# -------------------------------------------------------------- comparison
def test_compare_partitions_is_label_invariant_and_sees_differences():
    rng = np.random.default_rng(1)
    ids = [f"q{i}" for i in range(60)]
    groups = rng.integers(0, 4, 60)
    a = truth_table(ids, groups)
    relabelled = truth_table(ids, np.array([10, 3, 7, 1])[groups])
    assert compare_partitions(a, relabelled).select("nmi", "adjusted_rand", "same").row(0) == (
        pytest.approx(1.0), pytest.approx(1.0), True)
    moved = groups.copy()
    moved[0] = (moved[0] + 1) % 4
    row = compare_partitions(a, truth_table(ids, moved)).row(0, named=True)
    assert row["same"] is False and row["nmi"] < 1.0 and row["adjusted_rand"] < 1.0
    fewer = compare_partitions(a, truth_table(ids[:50], groups[:50])).row(0, named=True)
    assert (fewer["people"], fewer["only_a"], fewer["only_b"], fewer["same"]) == (50, 10, 0, False)
    assert fewer["nmi"] == pytest.approx(1.0)


def test_compare_partitions_per_topic_and_errors(ciao_result):
    _, res = ciao_result
    cmp = compare_partitions(res, res)
    assert cmp["topic"].to_list() == sorted(res.modularity) and cmp["same"].all()
    with pytest.raises(GraphkitError, match="'topic' column"):
        compare_partitions(res, res.membership.drop("topic"))
    with pytest.raises(GraphkitError, match="lacks column"):
        compare_partitions(res, pl.DataFrame({"person_id": ["a"]}))
    with pytest.raises(GraphkitError, match="more than once"):
        compare_partitions(pl.DataFrame({"person_id": ["a", "a"], "community": [0, 1]}), res.membership.drop("topic"))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 0}, "resolution must be a positive number"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"n_jobs": 0}, "n_jobs must be >= 1"),
        ({"n_iterations": 0}, "n_iterations must be positive"),
        ({"topics": "frogs"}, "not a single string"),
        ({"topics": ["toads"]}, "unknown topic 'toads'"),
        ({"topics": ["frogs", "frogs"]}, "more than once"),
        ({"topics": []}, "topics is empty"),
        ({"influence": HAND_SCORES.filter(pl.col("topic") == "frogs")}, r"no scores for topic\(s\) \['cooking'\]"),
        ({"influence": HAND_SCORES.drop("score")}, "lacks column"),
        ({"influence": pl.concat([HAND_SCORES, pl.DataFrame({"person_id": ["nobody"], "topic": ["frogs"], "score": [1.0]})])},
         r"not in the graph, e.g. \['nobody'\]"),
    ],
)
def test_bad_arguments_are_refused(hand_built, kwargs, message):
    with pytest.raises(GraphkitError, match=message):
        topic_communities(hand_built, **kwargs)


def test_leiden_refuses_bad_edges():
    with pytest.raises(GraphkitError, match="node numbers"):
        leiden(2, np.array([0]), np.array([2]), np.ones(1))
    with pytest.raises(GraphkitError, match="finite and >= 0"):
        leiden(2, np.array([0]), np.array([1]), np.array([-1.0]))


# ----------------------------------------------------------------- command
def test_cli_writes_membership_and_summary(tmp_path, capsys):
    out, summary = tmp_path / "m.parquet", tmp_path / "s.csv"
    code = main(["communities", "bundled", "--topics", "Games", "--seed", "2", "--out", str(out),
                 "--summary", str(summary), "--quiet"])
    assert code == 0
    m = pl.read_parquet(out)
    assert m.columns == ["person_id", "topic", "community"] and m["topic"].unique().to_list() == ["Games"]
    s = pl.read_csv(summary)
    assert s["size"].sum() == m.height
    assert s["top_influencers"].str.split(";").list.len().max() == 3
    assert f"{m.height} rows" in capsys.readouterr().out


def test_cli_prints_the_largest_communities(capsys):
    assert main(["communities", "bundled", "--topics", "Games", "--top", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "modularity" in out and "top_influencers" in out and "Games" in out


def test_cli_engine_chooses_the_leiden(capsys):
    found = {}
    for engine in ("native", "igraph"):
        assert main(["communities", "bundled", "--topics", "Games", "--engine", engine, "--json", "--quiet"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["engine"] == engine
        found[engine] = answer["topics"][0]["modularity"]
    assert found["native"] == pytest.approx(found["igraph"], abs=0.02)  # two Leidens, one quality
    assert main(["communities", "bundled", "--engine", "louvain", "--quiet"]) == 2
    assert "invalid choice: 'louvain'" in capsys.readouterr().err


def test_cli_errors_are_one_line(capsys):
    assert main(["communities", "bundled", "--topics", "Frogs", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: unknown topic 'Frogs'") and err.count("\n") == 1
    assert main(["communities"]) == 2  # no dataset named
    assert main(["communities", "bundled", "--top", "0"]) == 1


def test_cli_help_names_the_options(capsys):
    assert main(["communities", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("bundled", "--topics", "--seed", "--resolution", "--engine", "--jobs", "--out", "--summary"):
        assert option in out
