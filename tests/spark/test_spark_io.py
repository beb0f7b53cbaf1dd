"""A dataset read by Spark (Parquet written by Spark, or Spark DataFrames) becomes the same model; the CLI runs on Spark."""

from __future__ import annotations

import json

import polars as pl
import pytest

from graphkit.cli import main
from graphkit.errors import DataFileError, GraphkitError, ValidationError
from graphkit.io.files import write_dataset
from graphkit.io.spark import read_graph, to_polars, to_spark, write_tables
from graphkit.io.synthetic import generate
from graphkit.scoring.influence import topic_influence


@pytest.fixture(scope="module")
def graph():
    return generate(n_people=300, follows_per_person=4, n_topics=3, seed=5)


def test_a_dataset_written_by_spark_reads_back_into_the_same_model(spark, graph, tmp_path):
    for name, table in graph.tables().items():
        if table.height:
            to_spark(table, spark).repartition(2).write.parquet(str(tmp_path / f"{name}.parquet"))  # part files
    back = read_graph(str(tmp_path), spark=spark)
    for name, table in graph.tables().items():  # Spark keeps no row order across part files
        assert getattr(back, name).sort(pl.all()).equals(table.sort(pl.all())), name
    frames = {name: to_spark(t, spark) for name, t in graph.tables().items() if t.height}
    assert read_graph(frames).edges.sort(pl.all()).equals(graph.edges.sort(pl.all()))


def test_bad_tables_read_by_spark_are_refused_with_the_table_and_rows(spark, graph, tmp_path):
    with pytest.raises(DataFileError, match="people table is required"):
        read_graph(str(tmp_path / "nothing"), spark=spark)
    bad = graph.edges.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(-2.0).otherwise(pl.col("weight"))
                                   .alias("weight"))
    with pytest.raises(ValidationError, match="'edges', column 'weight'"):
        read_graph({"people": to_spark(graph.people, spark), "edges": to_spark(bad, spark)})
    with pytest.raises(GraphkitError, match="unknown table name"):
        read_graph({"persons": to_spark(graph.people, spark)})
    assert to_polars(to_spark(graph.people.head(0), spark)).height == 0


def test_graphkit_score_on_spark_writes_the_batched_engine_scores(spark, graph, tmp_path, capsys):
    data = write_dataset(graph, tmp_path / "data")
    code = main(["score", "--source", str(data), "--write", str(tmp_path / "scores"), "--engine", "spark",
                 "--strategy", "topics", "--score", "topic_influence", "--json", "--quiet"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    written = pl.read_parquet(next((tmp_path / "scores" / "runs").glob("*/influence.parquet")))
    assert written.height == summary["rows"]["influence"]
    ref = topic_influence(graph).table
    assert written.sort("topic", "person_id").select("person_id", "topic", "score", "rank").equals(
        ref.sort("topic", "person_id").select("person_id", "topic", "score", "rank"))


def test_spark_options_without_the_spark_engine_are_one_error_line(graph, tmp_path, capsys):
    data = write_dataset(graph, tmp_path / "data")
    assert main(["influence", str(data), "--strategy", "iterations"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1 and "--engine spark" in err and "Traceback" not in err


def test_results_written_as_parquet_from_spark_read_back_equal(spark, graph, tmp_path):
    result = topic_influence(graph, engine="spark").table
    where = write_tables({"influence": result}, tmp_path / "out", spark=spark)
    back = pl.read_parquet(f"{where['influence']}/*.parquet").cast(dict(result.schema))  # Spark has no unsigned ints
    assert back.sort("topic", "person_id").equals(result.sort("topic", "person_id"))
    with pytest.raises(DataFileError, match="exists; pass overwrite=True"):
        write_tables({"influence": result}, tmp_path / "out", spark=spark)
    write_tables({"influence": result.head(3)}, tmp_path / "out", spark=spark, overwrite=True)
    assert pl.read_parquet(f"{where['influence']}/*.parquet").height == 3


def test_the_local_session_has_the_heap_graphkit_asks_for(spark):
    # Spark's default 1 GB heap filled up in the DataFrame iterations and the JVM collected garbage for ever.
    from graphkit.io.spark.session import DRIVER_MEMORY

    asked = int(DRIVER_MEMORY.rstrip("g")) * 2**30
    heap = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
    assert 0.85 * asked <= heap <= asked
