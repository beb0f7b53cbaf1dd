"""The data model: indexing, topic vocabulary, views, immutability."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph


def test_topics_are_sorted_union_of_all_labels(tiny):
    assert tiny.topics == ("cooking", "frogs")
    assert tiny.topic_of("frogs") == 1
    with pytest.raises(GraphkitError, match="unknown topic 'toads'.*cooking, frogs"):
        tiny.topic_of("toads")


def test_index_of_maps_ids_to_rows_and_refuses_unknown(tiny):
    assert tiny.index_of(["dan", "ann"]).tolist() == [3, 0]
    with pytest.raises(GraphkitError, match="unknown person_id"):
        tiny.index_of(["zed"])


def test_person_edges_excludes_items_and_communities(tiny):
    pe = tiny.person_edges
    assert set(pe["kind"]) == {"follows", "shares", "mentions"}
    assert pe.filter(pl.col("kind") == "shares").select("src_idx", "dst_idx", "topic_idx").row(0) == (1, 0, 1)


def test_edge_indices_are_rows_of_people_in_their_own_order():
    # People listed out of id order, 300 of them (Enum physical codes change width past 255).
    rng = np.random.default_rng(3)
    ids = [f"p{i}" for i in rng.permutation(300)]
    src, dst = rng.choice(ids, 2000), rng.choice(ids, 2000)
    kinds = rng.choice(["follows", "mentions", "shares"], 2000)
    topics = [None if k == "follows" else t for k, t in zip(kinds, rng.choice(["b", "a", "c"], 2000))]
    g = TopicGraph.from_tables(pl.DataFrame({"person_id": ids}),
                               pl.DataFrame({"src": src, "dst": dst, "kind": kinds, "topic": topics}))
    row = {p: i for i, p in enumerate(ids)}
    pe = g.person_edges
    assert pe.schema["src_idx"] == pe.schema["dst_idx"] == pe.schema["topic_idx"] == pl.UInt32
    assert pe["src_idx"].to_list() == [row[s] for s in src]
    assert pe["dst_idx"].to_list() == [row[d] for d in dst]
    assert pe["topic_idx"].to_list() == [None if t is None else "abc".index(t) for t in topics]
    act = g.activity_edges
    assert act["src_idx"].to_list() == [row[s] for s, k in zip(src, kinds) if k != "follows"]


def test_adjacency_filters_by_kind_topic_and_sign(tiny):
    follows = tiny.adjacency()
    assert follows.shape == (4, 4) and follows.nnz == 3
    assert follows[1, 0] == 1.0 and follows[0, 1] == 0.0
    assert tiny.adjacency(("shares", "mentions"), topic="frogs").toarray()[1, 0] == 2.0
    assert tiny.adjacency(("mentions",), sign=-1).nnz == 1
    assert tiny.adjacency(("mentions",), sign=1).nnz == 0
    assert tiny.adjacency() is tiny.adjacency()  # cached


def test_activity_counts_contributions_and_purchases_per_topic(tiny):
    act = tiny.activity().toarray()
    # ann reviewed the frog book she bought that day (one act, not two), bob shared on frogs
    assert act[:, tiny.topic_of("frogs")].tolist() == [1.0, 1.0, 0.0, 0.0]
    # cat mentioned on cooking; ann and bob bought a pan: a purchase of an item of t is activity on t
    assert act[:, tiny.topic_of("cooking")].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert tiny.activity(start=None, end=datetime(2024, 2, 1, tzinfo=timezone.utc)).toarray()[:, tiny.topic_of("cooking")].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_igraph_view_matches_adjacency(tiny):
    g = tiny.igraph()
    assert g.vcount() == 4 and g.ecount() == 3 and g.is_directed()
    assert sorted(g.get_edgelist()) == [(1, 0), (2, 0), (3, 0)]
    assert g.vs["name"] == ["ann", "bob", "cat", "dan"]


def test_replace_returns_new_validated_graph(tiny):
    heavier = tiny.replace(edges=tiny.edges.with_columns(weight=pl.col("weight") * 2))
    assert heavier is not tiny
    assert tiny.edges["weight"].sum() == 12.0 and heavier.edges["weight"].sum() == 24.0
    with pytest.raises(GraphkitError):
        tiny.replace(edges=tiny.edges.with_columns(weight=pl.lit(-1.0)))


def test_caller_tables_are_not_mutated():
    people = pl.DataFrame({"person_id": [1, 2]})  # integers: cast to text inside
    edges = pl.DataFrame({"src": [1], "dst": [2], "kind": ["follows"]})
    g = TopicGraph.from_tables(people, edges)
    assert people.dtypes == [pl.Int64] and g.people["person_id"].to_list() == ["1", "2"]
    assert np.array_equal(g.index_of(["2"]), [1])


def test_summary_counts(ciao):
    counts = dict(ciao.summary().iter_rows())
    assert counts["people"] == 7375 and counts["topics"] == 28
    assert counts["edges.follows"] == 111_781 and counts["edges.reviews"] == 284_086
    assert counts["transactions"] == 284_086 and counts["rejected rows"] == 0


def test_edge_index_from_validation_matches_a_fresh_lookup_and_skips_rejected_rows():
    from graphkit.model.graph import EDGE_INDEX

    people = pl.DataFrame({"person_id": ["c", "a", "b", "d"]})
    edges = pl.DataFrame({
        "src": ["a", "zed", "b", "c", "a"], "dst": ["b", "a", "i1", "a", "g1"],
        "kind": ["follows", "follows", "reviews", "shares", "member_of"],
        "topic": [None, None, "x", "x", None],
    })
    g = TopicGraph.from_tables(people, edges, items=pl.DataFrame({"item_id": ["i1"], "topic": ["x"]}),
                               communities=pl.DataFrame({"community_id": ["g1"]}), lenient=True)
    assert g.rejects["row"].to_list() == [2]  # src 'zed' is nobody
    assert g.edge_index.rows() == [(1, 2), (2, None), (0, 1), (1, None)]
    fresh = TopicGraph(**g.tables())  # a graph built without validation looks ids up itself
    assert EDGE_INDEX not in fresh._views
    assert fresh.edge_index.equals(g.edge_index)
    assert fresh.person_edges.equals(g.person_edges)
    assert g.person_edges["kind"].to_list() == ["follows", "shares"]
