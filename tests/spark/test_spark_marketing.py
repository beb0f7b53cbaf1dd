"""The default score, loyalty and the influential-loyal-customers query in Spark SQL give the embedded rows exactly."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit import TopicGraph
from graphkit.cli import main
from graphkit.errors import GraphkitError
from graphkit.io.files import write_dataset
from graphkit.io.spark import graph_frames
from graphkit.io.synthetic import generate
from graphkit.marketing.loyalty import influential_loyal_customers, loyalty
from graphkit.marketing.spark import collect_loyalty, spark_influential_loyal_customers, spark_loyalty
from graphkit.scoring.registry import DEFAULT_SCORE, ranking
from graphkit.scoring.spark_ranking import SPARK_SCORES, spark_ranking

CIAO_TOPICS = ["Books", "DVDs", "Travel"]


@pytest.fixture(scope="module")
def shop() -> TopicGraph:
    """A synthetic graph with prices, orders, ties and windows; amounts in quarters, so every sum is exact in binary
    whatever its order (Spark and polars add in different orders)."""
    g = generate(n_people=1500, follows_per_person=6, n_topics=4, seed=5)
    return g.replace(transactions=g.transactions.with_columns((pl.col("amount") * 4).round() / 4))


@pytest.fixture(scope="module")
def ciao_frames(spark, ciao):
    return graph_frames(ciao, spark)


@pytest.fixture(scope="module")
def shop_frames(spark, shop):
    return graph_frames(shop, spark)


@pytest.fixture(scope="module")
def ciao_ranking(spark, ciao, ciao_frames):
    """The default score on Ciao computed once in Spark SQL, kept in Spark for the query test."""
    r = spark_ranking(ciao, topics=CIAO_TOPICS, spark=spark, frames=ciao_frames)
    return replace(r, table=r.table.localCheckpoint(eager=True))


def test_the_default_score_in_spark_sql_is_the_registry_table_on_ciao(ciao, ciao_ranking):
    assert DEFAULT_SCORE in SPARK_SCORES  # the default runs on Spark (else the next line refuses, see below)
    ref = ranking(ciao, topics=CIAO_TOPICS)
    got = ciao_ranking.collect()
    assert (got.score, got.requested, got.fallback) == (ref.score, ref.requested, ref.fallback)
    assert_frame_equal(got.table, ref.table, check_exact=True)  # scores, ranks, ties, percentiles, audiences
    assert got.table["score"].gt(0).sum() > 100 and got.parameters["now"] == ref.parameters["now"]


def test_the_default_score_agrees_on_a_synthetic_graph_with_a_window(spark, shop, shop_frames):
    window = ("2023-01-01", "2024-06-01")
    ref = ranking(shop, window=window)
    got = spark_ranking(shop, window=window, spark=spark, frames=shop_frames).collect()
    assert got.score == ref.score == "posts_x_active_new_followers"
    assert_frame_equal(got.table, ref.table, check_exact=True)
    assert got.table["credibility"].is_not_null().sum() > 0 and got.table["active_audience"].sum() > 0


def test_loyalty_in_spark_sql_is_the_embedded_table(spark, ciao, ciao_frames, shop, shop_frames):
    assert_frame_equal(collect_loyalty(spark_loyalty(ciao, spark=spark, frames=ciao_frames)), loyalty(ciao),
                       check_exact=True)
    as_of = shop.transactions["ts"].max() - dt.timedelta(days=40)
    for options in ({}, {"as_of": as_of, "window_days": 200.5}):
        ref = loyalty(shop, **options)
        got = collect_loyalty(spark_loyalty(shop, spark=spark, frames=shop_frames, **options))
        assert_frame_equal(got, ref, check_exact=True)
        assert ref["monetary"].is_not_null().all() and ref["m_score"].n_unique() == 5


def test_the_flagship_query_in_spark_gives_the_embedded_rows(spark, ciao, ciao_frames, ciao_ranking, shop,
                                                             shop_frames):
    # on Ciao over the score computed in Spark SQL (a Spark DataFrame); on the synthetic graph computed within
    ref = influential_loyal_customers(ciao, topics=CIAO_TOPICS, top_percentile=20, min_loyalty=0.4)
    got = spark_influential_loyal_customers(ciao, topics=CIAO_TOPICS, influence=ciao_ranking.table,
                                            top_percentile=20, min_loyalty=0.4, spark=spark, frames=ciao_frames)
    assert_frame_equal(got, ref, check_exact=True)
    assert ref.height > 10
    topics = list(shop.topics[:2])
    options = dict(top_percentile=30, min_loyalty=0.3, window_days=365.0, limit=7)
    ref = influential_loyal_customers(shop, topics=topics, **options)
    got = spark_influential_loyal_customers(shop, topics=topics, spark=spark, frames=shop_frames, **options)
    assert_frame_equal(got, ref, check_exact=True)
    assert ref.height > 5


def test_a_precomputed_influence_table_is_queried_as_given(spark, ciao, ciao_frames):
    influence = ranking(ciao, score="topic_influence", topics=["Books"]).table
    ref = influential_loyal_customers(ciao, topics="Books", influence=influence)
    got = spark_influential_loyal_customers(ciao, topics="Books", influence=influence, spark=spark,
                                            frames=ciao_frames)
    assert_frame_equal(got, ref, check_exact=True)
    with pytest.raises(GraphkitError, match="no rows for topic"):
        spark_influential_loyal_customers(ciao, topics="DVDs", influence=influence, spark=spark, frames=ciao_frames)


def test_undated_data_falls_back_as_the_registry_does(spark):
    g = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["ann", "bob", "cat"]}),
        pl.DataFrame({"src": ["bob", "cat", "ann", "bob"], "dst": ["ann", "ann", "bob", "ann"],
                      "kind": ["follows", "follows", "shares", "shares"], "topic": [None, None, "frogs", "frogs"]}))
    ref = ranking(g)
    got = spark_ranking(g, spark=spark).collect()
    assert ref.fallback is not None and (got.score, got.fallback) == (ref.score, ref.fallback)
    assert got.note == ref.note
    assert_frame_equal(got.table, ref.table, check_exact=True)


def test_a_score_spark_does_not_compute_is_refused_not_replaced(spark, ciao):
    for score in ("potential_reach", "adoption_influence"):
        with pytest.raises(GraphkitError, match=f"'{score}' is not available on Spark.*--engine batched"):
            spark_ranking(ciao, score=score, spark=spark)


def test_graphkit_score_and_loyal_on_spark_write_and_print_the_embedded_rows(spark, shop, tmp_path, capsys):
    data = write_dataset(shop, tmp_path / "data")
    topic = shop.topics[0]
    assert main(["score", "--source", str(data), "--write", str(tmp_path / "scores"), "--engine", "spark",
                 "--topics", topic, "--json", "--quiet"]) == 0
    capsys.readouterr()
    run = next((tmp_path / "scores" / "runs").glob("*"))
    assert_frame_equal(pl.read_parquet(run / "influence.parquet"), ranking(shop, topics=[topic]).table,
                       check_exact=True)
    assert_frame_equal(pl.read_parquet(run / "loyalty.parquet"), loyalty(shop), check_exact=True)
    answers = []
    for engine in ("spark", "batched"):
        assert main(["loyal", "--source", str(data), "--topic", topic, "--top-percentile", "40", "--min-loyalty",
                     "0.3", "--engine", engine, "--json", "--quiet"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0]["rows"] == answers[1]["rows"] and answers[0]["count"] > 3
    assert main(["loyal", "--source", str(data), "--topic", topic, "--engine", "spark", "--score",
                 "potential_reach"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1 and "--engine batched" in err
