"""The Spark engine gives the batched engine's topic influence, on both strategies, in a real local[2] session."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.io.synthetic import generate
from graphkit.scoring.influence import topic_influence
from graphkit.model.topics import topic_structure
from graphkit.scoring.influence import topic_system
from graphkit.scoring.linalg import solve_ppr
from graphkit.scoring.spark import compact_structure, payload_bytes, plan_buckets, spark_scores


@pytest.fixture(scope="module")
def small():
    return generate(n_people=400, follows_per_person=5, n_topics=4, seed=3)


@pytest.fixture(scope="module")
def layered():
    """Five layers of 12 people; attention only flows to the layer above, so a walk is at most 5 steps long
    and the DataFrame iterations reach the exact fixed point in a few iterations (a cheap, exact test).
    Every part of the model is there: follows scaled by the receiver's activity and credibility, labelled
    mentions and shares, mocking (negative) mentions and follows, unlabelled replies, a referral, inactive
    people, a window."""
    rng = np.random.default_rng(11)
    people = [f"p{layer}_{k}" for layer in range(5) for k in range(12)]
    topics = ["frogs", "lego", "tea"]
    rows = []
    for layer in range(1, 5):
        for k in range(12):
            me = f"p{layer}_{k}"
            for other in rng.choice(12, 3, replace=False):
                rows.append((me, f"p{layer - 1}_{other}", "follows", None, 1.0, int(rng.choice([1, 1, 1, -1])), None))
            for _ in range(3):
                kind = str(rng.choice(["mentions", "shares", "replies"]))
                topic = None if kind == "replies" else str(rng.choice(topics))
                rows.append((me, f"p{layer - 1}_{rng.integers(12)}", kind, topic, float(rng.integers(1, 4)),
                             int(rng.choice([1, 1, -1])), f"2024-0{int(rng.integers(1, 9))}-01"))
    for k in range(12 * 5):
        if k % 7 == 3:
            continue  # never active: attention they give is no evidence
        for _ in range(int(rng.integers(1, 4))):
            rows.append((people[k], "item_" + str(rng.choice(topics)), "reviews", None, 1.0, 1,
                         f"2024-0{int(rng.integers(1, 9))}-15"))
    rows.append(("p0_1", "p1_2", "referred", None, 1.0, 1, "2024-03-03"))  # p1_2 came through p0_1
    edges = pl.DataFrame(rows, schema=["src", "dst", "kind", "topic", "weight", "sign", "ts"], orient="row")
    # reviews carry the item's topic
    edges = edges.with_columns(pl.when(pl.col("kind") == "reviews").then(pl.col("dst").str.slice(5))
                               .otherwise(pl.col("topic")).alias("topic"))
    items = pl.DataFrame({"item_id": [f"item_{t}" for t in topics], "topic": topics})
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people}), edges, items=items)


def agreement(ref, got) -> tuple[float, int]:
    j = ref.table.join(got.table, on=["person_id", "topic"], how="full", coalesce=True)
    assert j.height == ref.table.height == got.table.height
    return float((j["score"] - j["score_right"]).abs().max()), int((j["rank"] != j["rank_right"]).sum())


def top(result, k: int = 100) -> dict[str, list[str]]:
    t = result.table.filter(pl.col("rank") <= k).sort("topic", "rank")
    return {topic: g["person_id"].to_list() for (topic,), g in t.group_by("topic", maintain_order=True)}


def test_topics_in_parallel_give_the_batched_scores_exactly_on_ciao(spark, ciao):
    ref = topic_influence(ciao)
    got = topic_influence(ciao, engine="spark")  # auto: the structure is 3 MB, it fits a worker
    diff, moved = agreement(ref, got)
    assert diff == 0.0 and moved == 0  # same solver, same per-topic system: bit for bit
    assert top(got) == top(ref)
    assert got.table.drop("score", "rank", "percentile").equals(ref.table.drop("score", "rank", "percentile"))
    assert got.parameters["engine"] == "spark" and got.parameters["strategy"] == "topics"
    assert got.parameters["partitions"] == 2 and got.converged and got.iterations == ref.iterations


def test_dataframe_iterations_agree_with_the_batched_engine(spark, layered):
    # the model rebuilt in Spark SQL and solved by Jacobi iterations: the batched engine's fixed point
    window = ("2024-02-01", None)  # follows made before the window still count; events only inside it
    ref = topic_influence(layered, window=window)
    got = topic_influence(layered, engine="spark", strategy="iterations", window=window)
    diff, moved = agreement(ref, got)
    assert diff < 1e-6 and moved == 0
    assert got.converged and got.iterations <= 10 and got.parameters["strategy"] == "iterations"
    assert got.table.drop("score", "rank", "percentile").equals(ref.table.drop("score", "rank", "percentile"))


def test_dataframe_iterations_agree_on_ciao_and_a_synthetic_graph(spark, ciao, small):
    # Ciao (real data, follows between reviewers) and a synthetic graph (purchases count as activity):
    # the Jacobi iterations reach the batched engine's fixed point
    for graph, topics in ((ciao, ["DVDs"]), (small, None)):
        ref = topic_influence(graph, topics=topics)
        got = topic_influence(graph, topics=topics, engine="spark", strategy="iterations")
        diff, moved = agreement(ref, got)
        assert diff < 1e-6 and top(got) == top(ref)
        assert got.converged and got.parameters["max_iter"] == 300 and got.iterations % 5 == 0


def test_dataframe_iterations_without_broadcast_shuffle_partial_sums(spark, layered):
    # scores too many to broadcast: the edges partitioned by giver, the partial sums shuffled
    structure = topic_structure(layered)
    ref = solve_ppr(topic_system(structure, [0, 1, 2]), damping_factor=0.85, max_iter=100, tol=1e-10)
    sol = spark_scores(layered, structure, [0, 1, 2], strategy="iterations", damping_factor=0.85, max_iter=None,
                       tol=1e-10, broadcast_limit=0)
    assert sol.converged.all() and sol.strategy == "iterations" and sol.max_iter == 300
    assert np.abs(sol.scores - ref.scores).max() < 1e-6


def test_more_partitions_than_topics_leave_no_topic_out(spark, small):
    got = topic_influence(small, engine="spark", strategy="topics", partitions=7)
    assert got.parameters["partitions"] == 4  # one task per topic, no empty task
    assert agreement(topic_influence(small), got) == (0.0, 0)


def test_bad_spark_options_are_refused_before_spark_runs(small):
    with pytest.raises(GraphkitError, match="strategy must be one of"):
        topic_influence(small, engine="spark", strategy="fast")
    with pytest.raises(GraphkitError, match="options of engine='spark'"):
        topic_influence(small, strategy="topics")
    with pytest.raises(GraphkitError, match="partitions must be a positive integer"):
        topic_influence(small, engine="spark", partitions=0)


def test_buckets_balance_work_and_keep_every_topic_once():
    work = np.array([9.0, 1.0, 1.0, 1.0, 8.0, 2.0])
    groups = plan_buckets(work, 2)
    assert sorted(k for g in groups for k in g) == list(range(6))
    assert sorted(work[g].sum() for g in groups) == [11.0, 11.0]
    assert plan_buckets(work, 10) == [[0], [4], [5], [1], [2], [3]]


def test_the_broadcast_structure_is_compact(ciao):
    s = topic_structure(ciao)
    p = compact_structure(s, range(len(s.topics)))
    dense = 3 * s.activity_t.nbytes  # activity, follow scaling and attention given as n x T arrays
    assert payload_bytes(p) < dense
