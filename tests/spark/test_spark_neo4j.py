"""Score runs written to Neo4j from Spark partitions (local[2]) into a real Bolt server (ArcadeDB, or NEO4J_URI)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit.errors import StoreError
from graphkit.io.neo4j import Neo4jSettings, Neo4jStore
from graphkit.io.spark import to_spark
from graphkit.io.spark.neo4j import write_scores_spark
from graphkit.io.synthetic import generate
from graphkit.marketing.loyalty import loyalty
from graphkit.scoring.community import topic_communities
from graphkit.scoring.influence import topic_influence

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "neo4j"))
from arcadedb import USER, ArcadeDBServer, arcadedb_home


@pytest.fixture(scope="module")
def store():
    """A store on an empty database: NEO4J_URI's (its graphkit nodes are deleted) or a fresh ArcadeDB."""
    if os.environ.get("NEO4J_URI"):
        with Neo4jStore(Neo4jSettings.from_env(), batch_size=25) as s:
            s.clear()
            yield s
        return
    if arcadedb_home() is None:
        pytest.skip("arcadedb-embedded is not installed (pip install 'graphkit[test]') and NEO4J_URI is not set")
    with ArcadeDBServer() as server:
        settings = Neo4jSettings(uri=server.uri, user=USER, password=server.password, database="graphkit")
        with Neo4jStore(settings, batch_size=25) as s:
            yield s


@pytest.fixture(scope="module")
def scores():
    graph = generate(n_people=120, follows_per_person=3, n_topics=2, seed=7)
    influence = topic_influence(graph).table
    found = topic_communities(graph, seed=0, influence=topic_influence(graph))
    communities = found.membership.select("person_id", "topic", pl.col("community").cast(pl.Int64))
    return dict(influence=influence, communities=communities, loyalty=loyalty(graph),
                community_summary=found.summary, loyalty_as_of=graph.transactions["ts"].max())


def _run(store: Neo4jStore, run_id: str) -> dict:
    info = {r.run_id: r for r in store.runs()}[run_id]
    return {"rows": info.rows, "parameters": info.parameters, "topics": info.topics,
            "influence": store.read_scores(run_id=run_id), "communities": store.read_communities(run_id=run_id),
            "loyalty": store.read_loyalty(run_id=run_id), "topic_summary": store.read_topic_summary(run_id=run_id),
            "community_summary": store.read_community_summary(run_id=run_id),
            "nodes": store._read("MATCH (s:InfluenceRow) WHERE s.run_id = $r RETURN count(s) AS n", {"r": run_id})[0]["n"]}


def _same(a: dict, b: dict) -> None:
    for key in a:
        if isinstance(a[key], pl.DataFrame):
            assert_frame_equal(a[key], b[key], check_exact=True), key
        else:
            assert a[key] == b[key], key


def test_rows_written_from_partitions_equal_the_local_write_and_a_retried_job_writes_them_once(spark, store, scores):
    local = store.write_scores(**scores, run_id="local", influence_rows="nonzero", check_people=False, keep_runs=9)
    frames = {k: to_spark(scores[k], spark).repartition(3) for k in ("influence", "communities", "loyalty")}
    report = write_scores_spark(store, **frames, community_summary=scores["community_summary"], run_id="spark",
                                influence_rows="nonzero", loyalty_as_of=scores["loyalty_as_of"], keep_runs=9)
    assert report.rows == local.rows and local.rows["influence"] > 25 * 3  # several batches per partition
    assert store.current_run_id() == "spark"
    _same(_run(store, "local"), _run(store, "spark"))
    keys = store._read("MATCH (b:RunBatch) WHERE b.run_id = 'spark' RETURN b.key AS k")
    assert any("spark/influence/p2" in r["k"] for r in keys)  # batches are keyed by partition

    # the job of each table run twice (as every task run again after writing all its batches): rows once
    from graphkit.io.neo4j.cypher import INFLUENCE_ROW_PROPERTIES
    from graphkit.io.spark.neo4j import _write_table

    kept = frames["influence"].filter("score > 0").join(frames["communities"], ["person_id", "topic"], "left")
    with store.writing():
        store.open_run("twice", "{}")
        for _ in range(2):
            n = _write_table(kept, store.settings, "twice", store.lock_owner, "InfluenceRow",
                             ("topic", *INFLUENCE_ROW_PROPERTIES), "influence", 25, ("topic", "rank", "person_id"))
            assert n == local.rows["influence"]
        store.publish_run("twice", {"influence": n}, sorted(scores["influence"]["topic"].unique()), keep_runs=9)
    assert_frame_equal(store.read_scores(run_id="twice"), _run(store, "local")["influence"], check_exact=True)
    assert _run(store, "twice")["nodes"] == local.rows["influence"]


def test_a_failed_job_leaves_no_run_and_a_second_attempt_completes_it(spark, store, scores, tmp_path):
    from pyspark.sql import functions as F
    from pyspark.sql.functions import udf

    flag = str(tmp_path / "failed-once")

    @udf("double")
    def fails_once(x):  # the first time any task computes it, it fails; after that it passes the value
        if not os.path.exists(flag):
            open(flag, "w").close()
            raise RuntimeError("task lost (injected by the test)")
        return x

    before = store.current_run_id()
    loyal = to_spark(scores["loyalty"], spark).repartition(2)
    flaky = loyal.withColumn("monetary", fails_once(F.col("monetary")))
    with pytest.raises(StoreError, match=r"loyalty rows of run 'broken' from Spark partitions failed \(1 attempt"):
        write_scores_spark(store, influence=to_spark(scores["influence"], spark), loyalty=flaky, run_id="broken",
                           influence_rows="nonzero")
    assert "broken" not in {r.run_id for r in store.runs()} and store.current_run_id() == before
    assert store._read("MATCH (s:InfluenceRow) WHERE s.run_id = 'broken' RETURN count(s) AS n")[0]["n"] == 0

    os.remove(flag)
    report = write_scores_spark(store, influence=to_spark(scores["influence"], spark), loyalty=flaky, run_id="again",
                                attempts=2, keep_runs=9, influence_rows="nonzero")
    assert report.rows["loyalty"] == scores["loyalty"].height and store.current_run_id() == "again"
    assert_frame_equal(store.read_loyalty(run_id="again"), scores["loyalty"], check_exact=True)
    assert report.parameters["influence_rows"]["keep"] == "nonzero"


def test_graphkit_score_on_spark_writes_its_run_to_neo4j_from_partitions(spark, store, tmp_path, monkeypatch, capsys):
    from graphkit.cli import main
    from graphkit.io.files import write_dataset

    graph = generate(n_people=80, follows_per_person=3, n_topics=2, seed=3)
    data = write_dataset(graph, tmp_path / "data")
    s = store.settings
    for key, value in (("NEO4J_URI", s.uri), ("NEO4J_USERNAME", s.user), ("NEO4J_PASSWORD", s.password),
                       ("NEO4J_DATABASE", s.database)):
        monkeypatch.setenv(key, value)
    code = main(["score", "--source", str(data), "--write", "neo4j", "--engine", "spark", "--strategy", "topics",
                 "--score", "topic_influence", "--run-id", "cli-spark", "--batch-size", "50", "--json", "--quiet"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    expected = topic_influence(graph).table.filter(pl.col("score") > 0).sort("topic", "rank", "person_id")
    assert summary["rows"]["influence"] == expected.height and store.current_run_id() == "cli-spark"
    got = store.read_scores(run_id="cli-spark")
    assert_frame_equal(got.select("person_id", "topic", "rank"), expected.select("person_id", "topic", "rank"))
    assert (got["score"] - expected["score"]).abs().max() < 1e-9
    keys = store._read("MATCH (b:RunBatch) WHERE b.run_id = 'cli-spark' RETURN b.key AS k")
    assert any("spark/influence/p" in r["k"] for r in keys)
