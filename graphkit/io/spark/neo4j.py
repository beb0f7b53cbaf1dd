"""Score runs written to Neo4j from Spark partitions, under the store's single-writer rule and run switch.

The driver takes the database's writer lock and opens the run (status
``writing``); each partition of the influence and loyalty tables then writes
its rows through the official ``neo4j`` driver, in batched ``UNWIND``
transactions of columns, each batch keyed by the run, the table, the
partition and the batch's number (a ``(:RunBatch)`` node, unique): a task that
fails and runs again, or a job run again, writes every batch once. Only when
every partition has finished does the driver switch readers to the run, in the
one fenced transaction :meth:`~graphkit.io.neo4j.Neo4jStore.publish_run`
runs; a job that fails deletes what it wrote, and a driver killed before that
leaves a run that is never published (the next writer deletes it). The rows are
the ones :meth:`~graphkit.io.neo4j.Neo4jStore.write_scores` writes from this
machine. All Cypher is in :mod:`graphkit.io.neo4j.cypher`.

>>> partition_stream("influence", 3)
'spark/influence/p3'
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from graphkit.errors import GraphkitError, StoreError
from graphkit.io.neo4j.cypher import (
    COMMUNITY_SUMMARY_PROPERTIES,
    INFLUENCE_ROW_PROPERTIES,
    LOYALTY_ROW_PROPERTIES,
    TOPIC_SUMMARY_PROPERTIES,
    UNCERTAINTY_PROPERTIES,
    batch_key,
    create_rows,
)
from graphkit.io.neo4j.store import (
    COMMUNITY_SUMMARY_SCHEMA,
    TOPIC_SUMMARY_SCHEMA,
    Neo4jSettings,
    Neo4jStore,
    WriteReport,
    check_columns,
    new_run_id,
    run_parameters,
    write_batch,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame

__all__ = ["partition_stream", "write_scores_spark"]

_INFLUENCE = ("person_id", "topic", "score", "rank", "percentile", "audience", "active_audience", "credibility")
_TYPES = {"score": "double", "rank": "long", "percentile": "double", "audience": "long", "active_audience": "long",
          "credibility": "double", "community": "long", "score_low": "double", "score_high": "double",
          "rank_low": "long", "rank_high": "long", "p_top_1": "double", "p_top_10": "double",
          "recency_days": "double", "frequency": "long", "monetary": "double", "tenure_days": "double",
          "r_score": "long", "f_score": "long", "m_score": "long", "loyalty_score": "double"}


def partition_stream(table: str, partition: int) -> str:
    """The stream name of a table's partition: its batches are keyed ``<run>/<stream>/<number>``."""
    return f"spark/{table}/p{partition}"


def _check(frame: Any, columns: Sequence[str], what: str) -> DataFrame:
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise GraphkitError(f"the {what} table must be a Spark DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise GraphkitError(f"the {what} table lacks column(s) {missing}; expected {list(columns)}")
    from pyspark.sql import functions as F

    return frame.select(*(F.col(c).cast(_TYPES.get(c, "string")).alias(c) for c in columns))


def _write_partitions(settings: Neo4jSettings, run_id: str, owner: str, label: str, properties: tuple[str, ...],
                      table: str, size: int, batches: Iterator[Any]) -> Iterator[Any]:
    """In a Spark task: the partition's rows as ``label`` nodes, ``size`` rows a batch, each batch keyed by
    the partition and its number; yields one Arrow batch (partition, rows written)."""
    import pyarrow as pa
    from pyspark import TaskContext

    partition = TaskContext.get().partitionId()
    stream = partition_stream(table, partition)
    query = create_rows(label, properties)
    params = {"run_id": run_id, "owner": owner}
    written, number, pending, held = 0, 0, [], 0
    store = Neo4jStore(settings, batch_size=size)
    try:
        with store.batch_session() as session:
            def flush(part: pa.Table) -> None:
                nonlocal written, number
                columns = {c: part.column(c).to_pylist() for c in properties}
                written += write_batch(session, query, {**params, "c": columns}, part.num_rows,
                                       batch_key(run_id, stream, number), f"{table} of Spark partition {partition}")
                number += 1

            for batch in batches:
                if batch.num_rows:
                    pending.append(batch)
                    held += batch.num_rows
                while held >= size:  # full batches, in the partition's row order
                    rows = pa.Table.from_batches(pending)
                    flush(rows.slice(0, size))
                    rest = rows.slice(size)
                    pending, held = rest.to_batches(), rest.num_rows
            if held:
                flush(pa.Table.from_batches(pending))
    finally:
        store.close()
    yield pa.RecordBatch.from_pydict({"partition": [partition], "rows": [written]})


def _write_table(frame: DataFrame, settings: Neo4jSettings, run_id: str, owner: str, label: str,
                 properties: tuple[str, ...], table: str, size: int, order: Sequence[str]) -> int:
    """Every row of ``frame`` written from its partitions (rows sorted within each partition, so a task run
    again sends the same batches); returns the rows written."""
    job = partial(_write_partitions, settings, run_id, owner, label, properties, table, size)
    counts = (frame.select(*properties).sortWithinPartitions(*order)
              .mapInArrow(job, "partition long, rows long").collect())
    return sum(int(r["rows"]) for r in counts)


def _topic_rows(kept: DataFrame, scored: DataFrame, comm: DataFrame | None, keep: str) -> tuple[pl.DataFrame, dict]:
    """Per topic (collected: one row each) what was scored, kept, left out and the community counts, as
    ``write_scores`` records them."""
    from pyspark.sql import functions as F

    per = scored.groupBy("topic").agg(
        F.count(F.lit(1)).alias("people"), F.sum((F.col("score") > 0).cast("long")).alias("nonzero"),
        F.sum(F.col("_keep").cast("long")).alias("written"),
        F.max(F.when(~F.col("_keep"), F.col("percentile"))).alias("left_out_percentile"))
    top = kept.groupBy("topic").agg(F.max("score").alias("top_score"),
                                    F.count(F.col("community")).alias("members_written"))
    out = per.join(top, "topic", "left")
    if comm is not None:
        members = comm.groupBy("topic").agg(F.count(F.lit(1)).alias("members"),
                                            F.countDistinct("community").alias("communities"))
        out = out.join(members, "topic", "full")
    table = pl.from_arrow(out.toArrow())
    for name in TOPIC_SUMMARY_PROPERTIES:
        if name not in table.columns:
            table = table.with_columns(pl.lit(None).alias(name))
    if comm is not None:
        table = table.with_columns(pl.col("members", "members_written", "communities").fill_null(0))
    else:
        table = table.with_columns(pl.lit(None).alias("members_written"))
    table = table.select(pl.col(c).cast(t) for c, t in TOPIC_SUMMARY_SCHEMA.items()).sort("topic")
    written = {"keep": keep, "topics": {r.pop("topic"): r for r in table.select(
        "topic", "people", "nonzero", "written", "left_out_percentile").to_dicts()}}
    return table, written


def write_scores_spark(
    store: Neo4jStore,
    *,
    influence: DataFrame,
    communities: DataFrame | None = None,
    loyalty: DataFrame | None = None,
    community_summary: pl.DataFrame | None = None,
    run_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    keep_runs: int = 2,
    batch_size: int | None = None,
    influence_rows: str | float = "all",
    loyalty_as_of: Any = None,
    loyalty_window_days: float | None = None,
    attempts: int = 1,
) -> WriteReport:
    """:meth:`~graphkit.io.neo4j.Neo4jStore.write_scores` with the rows written from Spark partitions.

    ``influence`` (the columns of ``topic_influence(...).table``, and the
    bootstrap columns when present), ``communities`` (``person_id, topic,
    community``) and ``loyalty`` (the columns of
    :func:`graphkit.marketing.loyalty.loyalty`) are Spark DataFrames;
    ``community_summary`` is small and written by the driver. The other
    arguments are those of ``write_scores``. The driver holds the writer lock
    for the whole job and publishes the run only after every partition wrote
    its rows. ``attempts``: how many times the Spark job of a table is run
    before giving up (on a cluster Spark also retries a failed task; either way
    a batch already written is not written again). A job that fails leaves no
    run behind; the error names the table.
    """
    from pyspark.sql import functions as F

    from graphkit.version import __version__

    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise GraphkitError(f"attempts must be a positive integer, got {attempts!r}")
    if isinstance(keep_runs, bool) or not isinstance(keep_runs, int) or keep_runs < 1:
        raise GraphkitError(f"keep_runs must be a positive integer, got {keep_runs!r}")
    run_id = run_id or new_run_id()
    if not isinstance(run_id, str) or not run_id.strip():
        raise GraphkitError(f"run_id must be non-empty text, got {run_id!r}")
    columns = _INFLUENCE + tuple(c for c in UNCERTAINTY_PROPERTIES if c in getattr(influence, "columns", ()))
    if 0 < len(columns) - len(_INFLUENCE) < len(UNCERTAINTY_PROPERTIES):
        columns = _INFLUENCE  # as write_scores: the bootstrap columns go together or not at all
    infl = _check(influence, columns, "influence")
    comm = _check(communities, ("person_id", "topic", "community"), "communities") if communities is not None else None
    loyal = _check(loyalty, LOYALTY_ROW_PROPERTIES, "loyalty") if loyalty is not None else None
    summary = (check_columns(community_summary, COMMUNITY_SUMMARY_SCHEMA, "community summary")
               if community_summary is not None else None)
    if isinstance(influence_rows, str) and influence_rows in ("all", "nonzero"):
        keep_label, chosen = influence_rows, F.lit(True) if influence_rows == "all" else F.col("score") > 0
    elif isinstance(influence_rows, (int, float)) and not isinstance(influence_rows, bool) and 0 < influence_rows <= 100:
        keep_label, chosen = f"top {influence_rows:g}%", F.col("percentile") > F.lit(100.0 - float(influence_rows))
    else:
        raise GraphkitError(f"influence rows to write must be 'all', 'nonzero' or a top percent in (0, 100]; got "
                            f"{influence_rows!r}")
    flagged = infl.withColumn("_keep", chosen)
    kept = flagged.filter("_keep").drop("_keep")
    if comm is not None:
        dupes = comm.groupBy("person_id", "topic").count().filter("count > 1").limit(1).collect()
        if dupes:
            raise GraphkitError(f"the communities table has rows that repeat a (person_id, topic), e.g. "
                                f"{(dupes[0]['person_id'], dupes[0]['topic'])}: one community per person and topic")
        if keep_label == "all":
            lost = comm.join(kept, ["person_id", "topic"], "left_anti")
            first = lost.limit(1).collect()
            if first:
                raise GraphkitError(f"{lost.count()} community rows have no influence row (e.g. "
                                    f"{(first[0]['person_id'], first[0]['topic'])}): communities must be of the "
                                    f"people and topics scored")
        kept = kept.join(comm, ["person_id", "topic"], "left")
    else:
        kept = kept.withColumn("community", F.lit(None).cast("long"))
    kept = kept.persist()
    try:
        topic_rows, written = _topic_rows(kept, flagged, comm, keep_label)
        params_json = run_parameters(parameters, written, with_loyalty=loyal is not None,
                                     loyalty_as_of=loyalty_as_of, loyalty_window_days=loyalty_window_days)
        scored = topic_rows["topic"].to_list()
        properties = ("topic", *INFLUENCE_ROW_PROPERTIES, *columns[len(_INFLUENCE):])
        size = batch_size or store.batch_size
        start = time.perf_counter()
        with store.writing():
            store.open_run(run_id, params_json)
            try:
                store.merge_topics(scored)
                store.write_run_rows(run_id, "TopicSummary", TOPIC_SUMMARY_PROPERTIES, topic_rows,
                                     stream="topic_summary", batch_size=size)
                rows = {"influence": _run_job(kept, store, run_id, "InfluenceRow", properties, "influence", size,
                                              ("topic", "rank", "person_id"), attempts)}
                if comm is not None:
                    rows["communities"] = int(topic_rows["members_written"].sum())
                if loyal is not None:
                    rows["loyalty"] = _run_job(loyal, store, run_id, "LoyaltyRow", LOYALTY_ROW_PROPERTIES, "loyalty",
                                               size, ("customer_id",), attempts)
                if summary is not None:
                    rows["community_summary"] = store.write_run_rows(
                        run_id, "CommunitySummary", COMMUNITY_SUMMARY_PROPERTIES, summary, stream="community_summary",
                        batch_size=size)
                rows["topic_summary"] = topic_rows.height
            except BaseException:
                with suppress(GraphkitError):  # nothing of a failed job stays (a kill leaves it unpublished)
                    store.discard_run(run_id)
                raise
            store.publish_run(run_id, rows, scored, keep_runs=keep_runs)
    finally:
        kept.unpersist()
    return WriteReport(run_id=run_id, rows=rows, parameters=json.loads(params_json), version=__version__,
                       seconds=time.perf_counter() - start, batch_size=size)


def _run_job(frame: DataFrame, store: Neo4jStore, run_id: str, label: str, properties: tuple[str, ...], table: str,
             size: int, order: Sequence[str], attempts: int) -> int:
    """The Spark job writing ``table``'s partitions, run up to ``attempts`` times; a failure is one line."""
    for attempt in range(1, attempts + 1):
        try:
            return _write_table(frame, store.settings, run_id, store.lock_owner, label, properties, table, size, order)
        except GraphkitError:
            raise
        except Exception as exc:  # a task's error arrives wrapped by Spark: keep its last error line, scrubbed
            if attempt < attempts:
                continue
            lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
            cause = next((ln for ln in reversed(lines) if "Error" in ln), lines[-1] if lines else type(exc).__name__)
            if store.settings.password:
                cause = cause.replace(store.settings.password, "***")
            raise StoreError(f"writing the {table} rows of run {run_id!r} from Spark partitions failed "
                             f"({attempts} attempt(s)): {cause[:400]}; the run was not published") from None
    raise AssertionError("unreachable")  # pragma: no cover
