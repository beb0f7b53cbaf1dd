"""Tables between Spark and graphkit: a dataset read by Spark into the model, polars <-> Spark DataFrames.

A dataset on a data lake is a folder (any path Spark reads: local, ``hdfs://``,
``s3a://``...) holding one Parquet table per name (``people.parquet``,
``edges.parquet``, ...; each a file or a folder of part files, as Spark writes
them), or Spark DataFrames the caller already has. Either way the tables are
validated by the same rules as an embedded dataset
(:meth:`graphkit.model.graph.TopicGraph.from_tables`), so bad rows are refused
with the file, the column and the rows.

>>> sorted(table_paths("s3a://lake/brand"))[:2]
['communities', 'edges']
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

import polars as pl

from graphkit.errors import DataFileError, GraphkitError
from graphkit.io.spark.session import spark_session
from graphkit.model.graph import TopicGraph
from graphkit.model.schema import TABLE_ORDER, TABLES

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession


def table_paths(root: str | os.PathLike) -> dict[str, str]:
    """Where each table of a dataset folder is: ``<root>/<table>.parquet``."""
    base = str(root).rstrip("/")
    return {table: f"{base}/{table}.parquet" for table in TABLE_ORDER}


def to_polars(frame: DataFrame) -> pl.DataFrame:
    """A Spark DataFrame collected to the driver as a polars DataFrame (through Arrow, no pandas)."""
    return pl.from_arrow(frame.toArrow())


def to_spark(table: pl.DataFrame, spark: SparkSession | None = None) -> DataFrame:
    """A polars DataFrame as a Spark DataFrame (through Arrow).

    Enums and categoricals become strings and unsigned integers signed ones
    of the next size (Spark has neither).
    """
    spark = spark or spark_session()
    casts = {pl.UInt8: pl.Int16, pl.UInt16: pl.Int32, pl.UInt32: pl.Int64, pl.UInt64: pl.Int64}
    fixed = [pl.col(c).cast(pl.String) if isinstance(dt, (pl.Enum, pl.Categorical)) else pl.col(c).cast(casts[dt])
             for c, dt in table.schema.items() if isinstance(dt, (pl.Enum, pl.Categorical)) or dt in casts]
    if fixed:
        table = table.with_columns(fixed)
    arrow = table.to_arrow(compat_level=pl.CompatLevel.oldest())  # large_string etc., which Spark reads
    if table.height == 0:
        from pyspark.sql.pandas.types import from_arrow_schema

        return spark.createDataFrame([], from_arrow_schema(arrow.schema))
    return spark.createDataFrame(arrow)


def write_tables(tables: Mapping[str, pl.DataFrame | DataFrame], path: str | os.PathLike, *,
                 spark: SparkSession | None = None, overwrite: bool = False) -> dict[str, str]:
    """Write result tables from Spark as Parquet: ``<path>/<name>.parquet`` each (a folder of part files).

    Tables are polars DataFrames (sent to Spark through Arrow) or Spark
    DataFrames. An existing table is refused unless ``overwrite``. Returns
    where each table went.
    """
    from pyspark.errors import AnalysisException

    spark = spark or spark_session()
    base = str(path).rstrip("/")
    written = {}
    for name, table in tables.items():
        frame = to_spark(table, spark) if isinstance(table, pl.DataFrame) else table
        target = f"{base}/{name}.parquet"
        try:
            frame.write.mode("overwrite" if overwrite else "errorifexists").parquet(target)
        except AnalysisException as exc:
            if "PATH_ALREADY_EXISTS" in str(exc) or "already exists" in str(exc):
                raise DataFileError(target, "exists; pass overwrite=True to replace it") from None
            raise
        written[name] = target
    return written


def read_graph(
    source: str | os.PathLike | Mapping[str, Any],
    *,
    spark: SparkSession | None = None,
    lenient: bool = False,
) -> TopicGraph:
    """A :class:`~graphkit.model.graph.TopicGraph` from a dataset folder read by Spark, or from Spark DataFrames.

    ``source`` is a folder path Spark can read (``<table>.parquet`` per
    table; ``people`` and ``edges`` required) or a mapping from table name
    (``people``, ``edges``, ``items``, ``communities``, ``transactions``,
    ``handles``) to a Spark DataFrame. The tables are collected to the driver
    and validated there, strictly unless ``lenient``.
    """
    if isinstance(source, Mapping):
        unknown = sorted(set(source) - set(TABLE_ORDER))
        if unknown:
            raise GraphkitError(f"unknown table name(s) {unknown}; tables are {list(TABLE_ORDER)}")
        frames = {name: to_polars(df) for name, df in source.items()}
        files = {name: f"<Spark DataFrame {name}>" for name in frames}
        where = "Spark DataFrames"
    else:
        spark = spark or spark_session()
        from pyspark.errors import AnalysisException

        frames, files = {}, {}
        for table, path in table_paths(source).items():
            try:
                frames[table] = to_polars(spark.read.parquet(path))
            except AnalysisException as exc:
                if "PATH_NOT_FOUND" not in str(exc) and "Path does not exist" not in str(exc):
                    first = str(exc).strip().splitlines()[0]
                    raise DataFileError(path, f"cannot be read by Spark ({first})") from None
                continue
            files[table] = path
        where = str(source)
    for table in TABLE_ORDER:
        if TABLES[table].min_rows and table not in frames:
            shown = f"Spark DataFrame {table!r}" if isinstance(source, Mapping) else table_paths(source)[table]
            raise DataFileError(shown, f"the {table} table is required ({where})")
    return TopicGraph.from_tables(**frames, lenient=lenient, files=files, source=where)


#: The tables of a graph the Spark queries read (handles and communities play no part in them).
QUERY_TABLES: tuple[str, ...] = ("people", "edges", "items", "transactions")


def graph_frames(graph: TopicGraph, spark: SparkSession | None = None) -> dict[str, DataFrame]:
    """A validated graph's tables as Spark DataFrames, each with its ``row`` (position in the graph's table).

    ``row`` keeps the graph's order where an answer depends on it: people
    in the graph's order, and sums over edges taken in the order the
    embedded model takes them (so the floating-point result is the same).
    Tables: :data:`QUERY_TABLES`.
    """
    spark = spark or spark_session()
    tables = graph.tables()
    return {name: to_spark(tables[name].with_row_index("row").with_columns(pl.col("row").cast(pl.Int64)), spark)
            for name in QUERY_TABLES}
