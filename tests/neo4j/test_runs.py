"""Score runs: run ids, the pointer switch, idempotent re-runs, kills half-way, retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import neo4j
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from runs_support import TOPICS, run_rows, sorted_rows, start_writer

import graphkit
import graphkit.io.neo4j.store as gneo4j
from graphkit.errors import GraphkitError, StoreError
from graphkit.marketing.loyalty import loyalty


def test_runs_switch_whole_and_carry_their_parameters(sample_store, sample, influence_a, influence_b):
    a = sample_store.write_scores(influence=influence_a, run_id="runs-a", parameters={"damping_factor": 0.85})
    assert a.rows == {"influence": influence_a.height, "topic_summary": len(TOPICS)}
    assert a.version == graphkit.__version__
    assert sample_store.current_run_id() == "runs-a"
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)
    loyal = loyalty(sample)
    communities = influence_a.select("person_id", "topic", (pl.col("rank") % 3).cast(pl.Int64).alias("community"))
    b = sample_store.write_scores(influence=influence_b, communities=communities, loyalty=loyal, run_id="runs-b",
                                  parameters={"damping_factor": 0.5, "topics": TOPICS})
    assert b.rows == {"influence": influence_b.height, "communities": communities.height, "loyalty": loyal.height,
                      "topic_summary": len(TOPICS)}
    assert sample_store.current_run_id() == "runs-b"
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_b), check_exact=True)
    assert_frame_equal(sample_store.read_scores(run_id="runs-a"), sorted_rows(influence_a), check_exact=True)
    assert_frame_equal(sample_store.read_loyalty(), loyal, check_exact=True)
    assert_frame_equal(sample_store.read_communities(), communities.sort("topic", "community", "person_id"))
    info = {r.run_id: r for r in sample_store.runs()}
    assert info["runs-b"].status == "complete" and info["runs-b"].parameters == {"damping_factor": 0.5, "topics": TOPICS}
    assert info["runs-b"].version == graphkit.__version__ and info["runs-b"].rows == b.rows
    assert info["runs-b"].topics == tuple(sorted(TOPICS))
    with pytest.raises(GraphkitError, match=r"score run 'runs-b' has no rows for topic\(s\) \['Travel'\]"):
        sample_store.influential_loyal_customers(topics=["DVDs", "Travel"])
    with pytest.raises(StoreError, match="no complete score run 'nope'"):
        sample_store.influential_loyal_customers(topics=["DVDs"], run_id="nope")
    # a run id names one write: writing a complete run id again is refused, and nothing changes
    with pytest.raises(GraphkitError, match=r"score run 'runs-b' already exists in Neo4j \(the current run\)"):
        sample_store.write_scores(influence=influence_a, run_id="runs-b")
    with pytest.raises(GraphkitError, match=r"score run 'runs-a' already exists in Neo4j \(a complete run\)"):
        sample_store.write_scores(influence=influence_b, run_id="runs-a")
    assert run_rows(sample_store, "runs-b") == influence_b.height
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_b), check_exact=True)
    # a third run: keep_runs=2 keeps it and the one before; runs-a goes
    sample_store.write_scores(influence=influence_a, run_id="runs-c")
    assert {r.run_id for r in sample_store.runs()} == {"runs-b", "runs-c"}
    assert run_rows(sample_store, "runs-a") == 0
    sample_store.write_scores(influence=influence_a, run_id="runs-d", keep_runs=1)
    assert [r.run_id for r in sample_store.runs()] == ["runs-d"]
    assert sample_store.read_communities().height == 0 and sample_store.read_loyalty().height == 0


def test_score_rows_for_unknown_people_are_refused(sample_store, influence_a):
    bad = pl.concat([influence_a.head(3), influence_a.head(1).with_columns(person_id=pl.lit("nobody"))])
    with pytest.raises(StoreError, match=r"score rows of 1 of 4 people found no matching node \(e.g. \['nobody'\]"):
        sample_store.write_scores(influence=bad, run_id="runs-bad")
    assert sample_store.current_run_id() != "runs-bad"
    with pytest.raises(GraphkitError, match="lacks column"):
        sample_store.write_scores(influence=influence_a.drop("percentile"))


def _kill_when_half_written(store, proc: subprocess.Popen, run_id: str, total: int) -> int:
    """Wait until the writer has committed some but not all rows of ``run_id``, then SIGKILL it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        n = run_rows(store, run_id)
        if 0 < n < total:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return run_rows(store, run_id)
        if proc.poll() is not None:
            pytest.fail(f"the writer ended before it could be killed: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the writer wrote nothing within 2 minutes")


def test_killed_write_then_rerun_leaves_one_complete_run(sample_store, influence_a, influence_b, bolt_env, tmp_path):
    sample_store.write_scores(influence=influence_a, run_id="kill-base")
    table = tmp_path / "b.parquet"
    influence_b.write_parquet(table)
    env = dict(bolt_env)
    # 1. killed half-way: readers still see the complete base run, never a mix
    proc = start_writer(env, str(table), "kill-1", batch_size=40)
    written = _kill_when_half_written(sample_store, proc, "kill-1", influence_b.height)
    assert 0 < written < influence_b.height
    assert sample_store.current_run_id() == "kill-base"
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)
    assert {r.run_id: r.status for r in sample_store.runs()}["kill-1"] == "writing"
    # 2. the same job run again with the same run id completes it: one copy of every row
    proc = start_writer(env, str(table), "kill-1", batch_size=2000)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-2000:]
    assert sample_store.current_run_id() == "kill-1"
    assert run_rows(sample_store, "kill-1") == influence_b.height
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_b), check_exact=True)
    # 3. killed again under a new id, then a different run: the abandoned partial run is purged
    proc = start_writer(env, str(table), "kill-2", batch_size=40)
    _kill_when_half_written(sample_store, proc, "kill-2", influence_b.height)
    sample_store.write_scores(influence=influence_a, run_id="kill-3")
    assert run_rows(sample_store, "kill-2") == 0
    assert {r.run_id: r.status for r in sample_store.runs()} == {"kill-1": "complete", "kill-3": "complete"}
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)


def test_transient_failures_are_retried_by_managed_transactions(sample_store, influence_a, monkeypatch):
    real = gneo4j._count_rows
    calls = {"n": 0, "failed": 0}

    def flaky(tx, query, params):
        calls["n"] += 1
        if "InfluenceRow" in query and calls["failed"] < 2:
            calls["failed"] += 1
            raise neo4j.exceptions.ServiceUnavailable("connection dropped (injected by the test)")
        return real(tx, query, params)

    monkeypatch.setattr(gneo4j, "_count_rows", flaky)
    report = sample_store.write_scores(influence=influence_a, run_id="retry-1", batch_size=1000)
    assert calls["failed"] == 2
    assert report.rows["influence"] == influence_a.height == run_rows(sample_store, "retry-1")
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)


def test_parameters_are_json_on_the_run(sample_store, influence_a):
    sample_store.write_scores(influence=influence_a.head(10), run_id="params-1",
                              parameters={"window": ("2010-01-01", None), "engine": "batched"})
    raw = sample_store._read("MATCH (r:ScoreRun {run_id: 'params-1'}) RETURN r.parameters AS p")[0]["p"]
    assert json.loads(raw) == {"window": ["2010-01-01", None], "engine": "batched"}
