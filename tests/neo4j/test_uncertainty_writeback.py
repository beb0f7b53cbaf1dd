"""How sure each rank is, written back to Neo4j with a score run and read again."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal
from runs_support import TOPICS, sorted_rows

from graphkit.scoring.influence import topic_influence
from graphkit.scoring.uncertainty import uncertainty_columns


def test_a_run_with_uncertainty_keeps_its_intervals_and_one_without_has_none(sample_store, sample, influence_a):
    with_u = topic_influence(sample, topics=TOPICS, uncertainty=20, seed=1).table
    sample_store.write_scores(influence=with_u, run_id="unc-1", keep_runs=2)
    back = sample_store.read_uncertainty(run_id="unc-1")
    expected = with_u.select("person_id", "topic", *uncertainty_columns()).sort("topic", "person_id")
    assert_frame_equal(back, expected, check_exact=True)
    assert_frame_equal(sample_store.read_scores(run_id="unc-1"), sorted_rows(influence_a), check_exact=True)
    # the flagship query on Neo4j is unchanged; the intervals join onto it by (person, topic)
    rows = sample_store.influential_loyal_customers(topics=["DVDs"], run_id="unc-1", top_percentile=50,
                                                    min_loyalty=0.0)
    joined = rows.join(back, on=["person_id", "topic"], how="left")
    assert joined.height == rows.height and joined["p_top_10"].null_count() == 0
    sample_store.write_scores(influence=influence_a, run_id="unc-2", keep_runs=2)
    assert sample_store.read_uncertainty(run_id="unc-2") is None
    assert (back["rank_low"] <= back["rank_high"]).all()
    assert back.filter(pl.col("p_top_1") > 0).height >= 1
