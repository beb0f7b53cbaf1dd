"""The Spark engine gives the batched engine's topic influence, on both strategies, in a real local[2] session."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit.errors import GraphkitError
from graphkit.io.synthetic import generate
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.spark import compact_structure, payload_bytes, plan_buckets


@pytest.fixture(scope="module")
def small():
    return generate(n_people=400, follows_per_person=5, n_topics=4, seed=3)


def agreement(ref, got) -> tuple[float, int]:
    j = ref.table.join(got.table, on=["person_id", "topic"], how="full", coalesce=True)
    assert j.height == ref.table.height == got.table.height
    return float((j["score"] - j["score_right"]).abs().max()), int((j["rank"] != j["rank_right"]).sum())


def top(result, k: int = 100) -> dict[str, list[str]]:
    t = result.table.filter(pl.col("rank") <= k).sort("topic", "rank")
    return {topic: g["person_id"].to_list() for (topic,), g in t.group_by("topic", maintain_order=True)}


def test_topics_in_parallel_give_the_batched_scores_exactly_on_ciao(spark, ciao):
    ref = topic_influence(ciao)
    got = topic_influence(ciao, engine="spark", strategy="topics", partitions=3)
    diff, moved = agreement(ref, got)
    assert diff == 0.0 and moved == 0  # same solver, same per-topic system: bit for bit
    assert top(got) == top(ref)
    assert got.table.drop("score", "rank", "percentile").equals(ref.table.drop("score", "rank", "percentile"))
    assert got.parameters["engine"] == "spark" and got.parameters["strategy"] == "topics"
    assert got.parameters["partitions"] == 3 and got.converged and got.iterations == ref.iterations


def test_dataframe_iterations_agree_with_the_batched_engine(spark, small):
    # the model rebuilt in Spark SQL (credibility, follows scaled by activity, inactive givers, negative
    # edges passing nothing) and solved by Jacobi iterations: same fixed point, to 1e-6
    window = ("2020-06-01", None)  # follows made before the window still count; events only inside it
    ref = topic_influence(small, window=window)
    got = topic_influence(small, engine="spark", strategy="iterations", tol=1e-9, window=window)
    diff, _ = agreement(ref, got)
    assert diff < 1e-6
    assert got.converged and got.parameters["strategy"] == "iterations"
    assert top(got, 20) == top(ref, 20)


def test_auto_picks_topics_in_parallel_for_a_structure_that_fits_a_worker(spark, small):
    got = topic_influence(small, engine="spark")
    assert got.parameters["strategy"] == "topics"
    diff, moved = agreement(topic_influence(small), got)
    assert diff == 0.0 and moved == 0


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
    from graphkit.model.topics import topic_structure

    s = topic_structure(ciao)
    p = compact_structure(s, range(len(s.topics)))
    dense = 3 * s.activity_t.nbytes  # activity, follow scaling and attention given as n x T arrays
    assert payload_bytes(p) < dense
