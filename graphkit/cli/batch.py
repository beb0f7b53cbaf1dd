"""``graphkit score`` and ``graphkit loyal``: the batch jobs, on files or on Neo4j.

``score`` reads a graph (a dataset folder, ``bundled`` Ciao, or ``neo4j``),
computes topic influence, topic communities (when this build has them) and
loyalty, and writes them as one run: into a score folder
(``runs/<run_id>.<suffix>/*.parquet`` + ``run.json``, then a ``CURRENT``
pointer file renamed into place) or into Neo4j (see :mod:`graphkit.io.neo4j`).
``loyal`` answers the influential-loyal-customers query: embedded on a
dataset folder, or in Cypher on Neo4j over the current score run.

Writers delete only what graphkit made and write one at a time: a score
folder carries a ``.graphkit`` marker (``--force`` to take over another
non-empty folder) and is locked while written; Neo4j has a lock node with a
lease. A second writer waits ``--wait`` seconds, then exits with 4.

Neo4j settings come from NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD and
NEO4J_DATABASE. Exit codes: 0 done, 1 error, 2 usage, 3 server unreachable,
4 another job is writing there.
"""

from __future__ import annotations

import argparse
import sys
import time

import polars as pl

from graphkit.cli.common import (
    add_lenient,
    add_score,
    add_spark_options,
    check_lenient,
    load_graph,
    rank,
    seconds,
    spark_options,
    spark_rank,
)
from graphkit.cli.output import print_json
from graphkit.errors import GraphkitError
from graphkit.io.ownership import DEFAULT_WAIT
from graphkit.progress import step
from graphkit.scoring.registry import DEFAULT_SCORE, SCORES

NEO4J = "neo4j"
BUNDLED = "bundled"
_UNCERTAINTY_COLUMNS = ("score_low", "score_high", "rank_low", "rank_high")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="compute influence, communities and loyalty and write them as one run",
        description="Read a graph, score influence (--score), topic communities (when available) and loyalty, and "
                    "write them as one run into a folder or into Neo4j (settings from NEO4J_URI, NEO4J_USERNAME, "
                    "NEO4J_PASSWORD, NEO4J_DATABASE). One writer at a time per folder or database. Exit codes: 0 done, "
                    "1 error, 2 usage, 3 server unreachable, 4 another job is writing there (retry, or raise --wait).",
    )
    p.add_argument("--source", required=True, metavar="PATH|neo4j|bundled",
                   help="dataset folder, 'neo4j' (read the graph from Neo4j) or 'bundled' (Ciao)")
    p.add_argument("--write", required=True, metavar="PATH|neo4j",
                   help="score folder (runs/<run>/*.parquet + a CURRENT pointer), or 'neo4j' "
                        "(use ./neo4j for a folder of that name)")
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics to score (default: every active topic)")
    p.add_argument("--run-id", help="name of the run (default: UTC time + a short unique suffix)")
    p.add_argument("--engine", choices=("batched", "igraph", "spark"), default="batched",
                   help="influence engine: batched (default), igraph, or spark (Apache Spark: the session of "
                        "spark-submit, or local[2]; needs pip install 'graphkit[spark]'; a --source Spark can read "
                        "but this machine cannot, e.g. s3a://..., is read by Spark)")
    add_spark_options(p)
    add_score(p, "ranking score written as influence.parquet for the flagship query")
    p.add_argument("--damping-factor", type=float, default=0.85, help="PageRank damping factor (default 0.85)")
    p.add_argument("--as-of", help="loyalty reference date, ISO 8601 (default: the latest purchase)")
    p.add_argument("--window-days", type=float, help="loyalty window in days (default: all history)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the community detection and of the --uncertainty resamples (default 0)")
    p.add_argument("--uncertainty", type=int, metavar="N",
                   help="also say how sure each rank is: N bootstrap resamples of the evidence (e.g. 100) add "
                        "score_low/score_high, rank_low/rank_high (90%% intervals), p_top_1, p_top_10 to the "
                        "ranking, and a stability table (folder) -- written to Neo4j too")
    p.add_argument("--batch-size", type=int, default=20_000, help="rows per Neo4j transaction (default 20000)")
    p.add_argument("--neo4j-rows", type=influence_rows, default="nonzero", metavar="nonzero|all|PERCENT",
                   help="with --write neo4j: the influence rows written: nonzero (default; most people score 0 on "
                        "most topics), all, or a number P for the top P percent of each topic; the loyal query "
                        "refuses a --top-percentile that needs rows left out")
    p.add_argument("--keep-runs", type=int, default=2, help="complete runs kept, the current one included (default 2)")
    p.add_argument("--wait", type=seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                   help=f"how long to wait for another job writing the same folder or database before giving up "
                        f"with exit code 4 (default {DEFAULT_WAIT:g})")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder graphkit did not make, deleting what is in it")
    p.add_argument("--no-load", action="store_true",
                   help="with --write neo4j and a dataset --source: do not (re)load the dataset into Neo4j first")
    add_lenient(p, "SOURCE")
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=_score)

    p = sub.add_parser(
        "loyal", help="influential loyal customers on a topic (embedded or in Neo4j)",
        description="Customers in the top influence percentile on a topic whose loyalty score is at least a "
                    "threshold, ranked by fit = percentile/100 * loyalty. On a dataset folder it runs embedded "
                    "(influence from --scores or computed now); on neo4j it runs in Cypher over the current run.",
    )
    p.add_argument("--topic", required=True, action="append", metavar="TOPIC", help="topic (repeat for several)")
    p.add_argument("--source", default=BUNDLED, metavar="PATH|neo4j|bundled", help="where the graph is (default bundled)")
    p.add_argument("--scores", metavar="PATH", help="a folder written by 'graphkit score --write PATH' (embedded only)")
    p.add_argument("--run-id", help="score run to use on Neo4j (default: the current run)")
    p.add_argument("--top-percentile", type=float, default=10.0, help="influence percentile kept (default 10: top 10%%)")
    p.add_argument("--min-loyalty", type=float, default=0.5, help="minimum loyalty score, 0..1 (default 0.5)")
    p.add_argument("--as-of", help="loyalty reference date, ISO 8601 (default: the latest purchase)")
    p.add_argument("--window-days", type=float, help="loyalty window in days (default: all history)")
    p.add_argument("--limit", type=int, help="rows per topic (default: all)")
    p.add_argument("--score", choices=SCORES, default=DEFAULT_SCORE,
                   help=f"ranking score when computed here (default {DEFAULT_SCORE}; where it cannot be computed, "
                        "topic_influence, said on stderr); with --scores or Neo4j the written run's score is used")
    p.add_argument("--uncertainty", type=int, metavar="N",
                   help="how sure each rank is: N bootstrap resamples (e.g. 100) add score_low/score_high, "
                        "rank_low/rank_high (90%% intervals), p_top_1, p_top_10 (embedded; on Neo4j and with "
                        "--scores they come from a run written with graphkit score --uncertainty N)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --uncertainty resamples (default 0)")
    p.add_argument("--engine", choices=("batched", "spark"), default="batched",
                   help="where a dataset folder's query runs: batched (this machine, default) or spark (the score, "
                        "loyalty and the query in Spark SQL: the session of spark-submit, or local[2]; needs pip "
                        "install 'graphkit[spark]')")
    add_spark_options(p)
    p.add_argument("--json", action="store_true",
                   help="print one JSON line: count, seconds, rows (with --out: where they were written)")
    p.add_argument("--out", metavar="FILE", help="write the rows to FILE (.parquet or .csv)")
    add_lenient(p, "SOURCE")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=_loyal)


# ------------------------------------------------------------------ helpers
def check_uncertainty(args: argparse.Namespace) -> None:
    """Refuse a bad ``--uncertainty`` or ``--seed`` before any work, naming the flag."""
    if args.uncertainty is not None and args.uncertainty < 2:
        raise GraphkitError(f"--uncertainty is a number of bootstrap resamples, at least 2 (100 is a good start); "
                            f"got {args.uncertainty}")
    if args.seed < 0:
        raise GraphkitError(f"--seed must be a non-negative integer; got {args.seed}")


def influence_rows(text: str) -> str | float:
    """An argparse type: ``nonzero``, ``all`` or a percent in (0, 100].

    >>> influence_rows("nonzero"), influence_rows("5")
    ('nonzero', 5.0)
    """
    if text in ("nonzero", "all"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected nonzero, all or a percent, got {text!r}") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"expected a percent in (0, 100], got {text!r}")
    return value


def _store(batch_size: int = 20_000, *, progress: bool = False, wait: float = DEFAULT_WAIT):
    from graphkit.io.neo4j import Neo4jStore

    store = Neo4jStore(batch_size=batch_size, progress=progress, wait=wait)
    store.verify()
    return store


def _read_graph(source: str, *, quiet: bool, args: argparse.Namespace | None = None):
    lenient = bool(getattr(args, "lenient", False))
    rejects = getattr(args, "rejects", None)
    check_lenient(source, lenient=lenient, rejects=rejects)
    if lenient and source == NEO4J:
        raise GraphkitError("--lenient is for a dataset folder --source, not 'neo4j' (already validated)")
    if source == NEO4J:
        with step("reading the graph from Neo4j", enabled=not quiet), _store() as store:
            return store.read()
    if source == BUNDLED:
        from graphkit.io.datasets import load_ciao

        return load_ciao()
    import os

    if getattr(args, "engine", None) == "spark" and not os.path.exists(source):  # a data-lake path: Spark reads it
        from graphkit.io.spark import read_graph

        if rejects:
            raise GraphkitError("--rejects is for a dataset folder on this machine; with a path Spark reads, "
                                "--lenient leaves bad rows out of the graph only")
        with step(f"reading {source} with Spark", enabled=not quiet):
            return read_graph(source, lenient=lenient)
    return load_graph(source, quiet=quiet, lenient=lenient, rejects=rejects)


def _communities(graph, topics, seed: int, influence) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(membership, summary) of the topics' Leiden communities."""
    from graphkit.scoring.community import topic_communities

    result = topic_communities(graph, topics=topics, seed=seed, influence=influence)
    return result.membership.select("person_id", "topic", pl.col("community").cast(pl.Int64)), result.summary


# --------------------------------------------------------------------- score
def _check_score_folder(folder: str, *, force: bool) -> None:
    """Refuse, before any work, a --write folder graphkit may not or cannot write (it is checked again when written)."""
    import os

    from graphkit.errors import FolderNotOwnedError
    from graphkit.io.ownership import writable_folder
    from graphkit.io.score_folder import LOCK_NAME

    target = writable_folder(folder, "scores", force=force, replaces=False, ignore=(LOCK_NAME,))
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise FolderNotOwnedError(folder, f"cannot be created: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FolderNotOwnedError(folder, f"cannot be written: no permission to write in {existing}")


def _score(args: argparse.Namespace) -> int:
    from graphkit.io.neo4j import new_run_id
    from graphkit.marketing.loyalty import loyalty
    from graphkit.scoring.influence import topic_influence
    from graphkit.version import __version__

    start = time.perf_counter()
    quiet = args.quiet
    check_uncertainty(args)
    if args.force and args.write == NEO4J:
        raise GraphkitError("--force is for a score folder; on Neo4j graphkit writes only its own nodes")
    if args.write != NEO4J:  # a folder that cannot be written fails now, not after the scoring
        _check_score_folder(args.write, force=args.force)
    store = _store(args.batch_size, progress=not quiet, wait=args.wait) if args.write == NEO4J else None
    try:
        options = spark_options(args)
        frames = None
        if args.engine == "spark":
            from graphkit.scoring.spark_ranking import check_spark_score

            check_spark_score(args.score)  # a score Spark does not compute is refused before any work
        graph = _read_graph(args.source, quiet=quiet, args=args)
        from graphkit.io.lineage import input_fingerprints

        # lineage: what this run was made from (hashed now, while the graph is all memory holds)
        inputs = input_fingerprints(graph)
        with step(f"topic influence ({args.engine} engine)", enabled=not quiet):
            result = topic_influence(graph, topics=args.topics, engine=args.engine, damping_factor=args.damping_factor,
                                     **options)
        topics = sorted(result.table["topic"].unique().to_list())
        if args.engine == "spark":  # the ranking score and loyalty in Spark SQL too
            from graphkit.io.spark import graph_frames

            frames = graph_frames(graph)
            ranked = spark_rank(graph, args.score, topics=topics, influence=result, frames=frames, quiet=quiet,
                                **options)
        else:
            ranked = rank(graph, args.score, topics=topics, quiet=quiet)
        ranking = result.table if ranked.score == "topic_influence" else ranked.table  # the engine asked for
        stability = None
        if args.uncertainty is not None:
            from graphkit.scoring.registry import rank_uncertainty

            with step(f"{ranked.score.replace('_', ' ')}: {args.uncertainty} bootstrap resamples", enabled=not quiet):
                if ranked.score == "topic_influence":  # the engine and damping factor asked for
                    u = topic_influence(graph, topics=topics, engine=args.engine, damping_factor=args.damping_factor,
                                        uncertainty=args.uncertainty, seed=args.seed)
                else:
                    u = rank_uncertainty(graph, score=ranked.score, topics=topics, resamples=args.uncertainty,
                                         seed=args.seed)
            ranking, stability = u.table, u.stability
        # the communities read only the topic structure: the edge tables the scores were built from go
        graph.drop_views(keep=("topic_structure", "activity", "open_end"))
        with step("topic communities", enabled=not quiet):
            communities, community_summary = _communities(graph, topics, args.seed, result)
        with step("loyalty" + (" (Spark SQL)" if frames is not None else ""), enabled=not quiet):
            if frames is not None:
                from graphkit.marketing.spark import collect_loyalty, spark_loyalty

                loyal = collect_loyalty(spark_loyalty(graph, as_of=args.as_of, window_days=args.window_days,
                                                      frames=frames))
            else:
                loyal = loyalty(graph, as_of=args.as_of, window_days=args.window_days)
        run_id = args.run_id or new_run_id()
        parameters = {
            "source": args.source, "topics": topics, "score": ranked.score, "score_requested": args.score,
            "score_fallback": ranked.fallback, "engine": args.engine,
            "damping_factor": args.damping_factor,
            "influence": result.parameters, "iterations": result.iterations, "converged": result.converged,
            "as_of": args.as_of, "window_days": args.window_days, "seed": args.seed,
            "communities": True, "lenient": args.lenient, "rejected": graph.rejects.height,
            "uncertainty": args.uncertainty,
        }
        parameters["inputs"] = inputs
        if store is not None:
            with store.writing():  # one lock for the load and the run: no other job changes the graph between
                if args.source != NEO4J and not args.no_load:
                    with step("loading the graph into Neo4j", enabled=not quiet):
                        store.load(graph)
                with step(f"writing run {run_id} to Neo4j", enabled=not quiet):
                    from graphkit.marketing.loyalty import resolve_as_of

                    # the loyalty's date, so that the Cypher flagship query can read it instead of every purchase
                    as_of = resolve_as_of(graph, args.as_of) if graph.transactions.height else None
                    if frames is not None:  # the rows go from Spark's partitions, in batches keyed by partition
                        from graphkit.io.spark import to_spark
                        from graphkit.io.spark.neo4j import write_scores_spark

                        if args.source != NEO4J and args.no_load:  # as below
                            store.check_people(ranking["person_id"], loyal["person_id"])
                        report = write_scores_spark(
                            store, influence=to_spark(ranking), communities=to_spark(communities),
                            loyalty=to_spark(loyal), community_summary=community_summary, run_id=run_id,
                            parameters=parameters, keep_runs=args.keep_runs, influence_rows=args.neo4j_rows,
                            loyalty_as_of=as_of, loyalty_window_days=args.window_days)
                    else:
                        report = store.write_scores(
                            influence=ranking, communities=communities, loyalty=loyal, run_id=run_id,
                            parameters=parameters, keep_runs=args.keep_runs, influence_rows=args.neo4j_rows,
                            community_summary=community_summary, loyalty_as_of=as_of,
                            loyalty_window_days=args.window_days,
                            # the graph was loaded under this lock: every person is there
                            check_people=args.source != NEO4J and args.no_load)
            rows = report.rows
        else:
            tables = {"influence": ranking, "loyalty": loyal, "communities": communities,
                      "community_summary": community_summary}
            if stability is not None:
                tables["stability"] = stability
            rows = {k: v.height for k, v in tables.items()}
            meta = {"run_id": run_id, "parameters": parameters, "graphkit_version": __version__, "rows": rows}
            with step(f"writing run {run_id} to {args.write}", enabled=not quiet):
                from graphkit.io.score_folder import write_run

                write_run(args.write, tables, run_id=run_id, meta=meta, keep_runs=args.keep_runs, force=args.force,
                          wait=args.wait)
    finally:
        if store is not None:
            store.close()
    seconds = round(time.perf_counter() - start, 3)
    summary = {"run_id": run_id, "rows": rows, "rows_written": sum(rows.values()), "seconds": seconds,
               "source": args.source, "write": args.write, "communities": True, "rejected": graph.rejects.height}
    if stability is not None:
        summary["uncertainty"] = {"resamples": args.uncertainty, "seed": args.seed,
                                  "columns": [c for c in ranking.columns if c in _UNCERTAINTY_COLUMNS
                                              or c.startswith("p_top_")],
                                  "stability": stability.to_dicts()}
    if args.json:
        print_json(summary, sort_keys=True)
    else:
        parts = ", ".join(f"{n} {k}" for k, n in rows.items())
        print(f"run {run_id}: wrote {parts} to {args.write} in {seconds:.1f} s")
    return 0


# --------------------------------------------------------------------- loyal
def _check_scores_match(influence: pl.DataFrame, graph, args: argparse.Namespace) -> None:
    """Refuse scores of another dataset (their people are not this graph's) or without the topics asked."""
    if "person_id" not in influence.columns or "topic" not in influence.columns:
        raise GraphkitError(f"{args.scores}: the current run has no person_id/topic columns in influence.parquet; "
                            "was it written by 'graphkit score'?")
    ids = influence["person_id"].unique()
    strangers = ids.filter(~ids.is_in(graph.people["person_id"].implode()))
    if strangers.len():
        shown = ", ".join(repr(x) for x in strangers.sort().head(3).to_list())
        raise GraphkitError(f"{args.scores}: the current run scores {strangers.len():,} of {ids.len():,} people who "
                            f"are not in {args.source} (e.g. {shown}): it was computed from other data; score this "
                            f"dataset first: graphkit score --source {args.source} --write {args.scores}")
    missing = sorted(set(args.topic) - set(influence["topic"].unique().to_list()))
    if missing:
        raise GraphkitError(f"{args.scores}: the current run has no scores for topic(s) {', '.join(map(repr, missing))}; "
                            f"score them: graphkit score --source {args.source} --write {args.scores} --topics ...")


def _loyal(args: argparse.Namespace) -> int:
    from graphkit.marketing.loyalty import influential_loyal_customers

    start = time.perf_counter()
    check_uncertainty(args)
    if args.out:  # a bad path fails before the work, not after
        from graphkit.io.files import check_writable

        check_writable(args.out)
    options = dict(top_percentile=args.top_percentile, min_loyalty=args.min_loyalty, as_of=args.as_of,
                   window_days=args.window_days, limit=args.limit)
    run_id = None
    spark_opts = spark_options(args)
    if args.engine == "spark":
        if args.source == NEO4J:
            raise GraphkitError("--engine spark runs the query on a dataset folder; on --source neo4j it runs in "
                                "Cypher (leave --engine out)")
        if args.uncertainty is not None:
            raise GraphkitError("--uncertainty resamples on this machine: leave --engine spark out, or write a run "
                                "with graphkit score --uncertainty N and pass it with --scores")
        if not args.scores:
            from graphkit.scoring.spark_ranking import check_spark_score

            check_spark_score(args.score)
    if args.uncertainty is not None and (args.source == NEO4J or args.scores):
        where = "--source neo4j" if args.source == NEO4J else "--scores"
        raise GraphkitError(f"--uncertainty computes the score here; with {where} the intervals come from the "
                            "score run: write it with graphkit score --uncertainty N (they are then shown)")
    if args.source == NEO4J:
        if args.scores:
            raise GraphkitError("--scores is for a dataset folder; on Neo4j the query uses a score run (--run-id)")
        if args.lenient or args.rejects:
            raise GraphkitError("--lenient and --rejects are for a dataset folder --source; Neo4j holds a validated graph")
        with step("influential loyal customers in Neo4j", enabled=not args.quiet), _store() as store:
            run_id = args.run_id or store.current_run_id()
            rows = store.influential_loyal_customers(topics=args.topic, run_id=run_id, **options)
            intervals = store.read_uncertainty(run_id=run_id)
        if intervals is not None:  # the run says how sure each rank is: show it
            rows = rows.join(intervals, on=["person_id", "topic"], how="left", maintain_order="left")
    else:
        if args.run_id:
            raise GraphkitError("--run-id is for --source neo4j; for a dataset folder pass --scores PATH")
        graph = _read_graph(args.source, quiet=args.quiet, args=args)
        influence = frames = None
        if args.scores:
            from graphkit.io.files import read_table

            from graphkit.io.score_folder import current_run

            influence = read_table(current_run(args.scores) / "influence.parquet")
            _check_scores_match(influence, graph, args)
        elif args.engine == "spark":  # the score in Spark SQL, left there for the query
            from graphkit.io.spark import graph_frames
            from graphkit.marketing.loyalty import check_query_arguments
            from graphkit.scoring.spark_ranking import spark_ranking

            topics = check_query_arguments(args.topic, args.top_percentile, args.min_loyalty, args.limit)
            frames = graph_frames(graph)
            ranked_on_spark = spark_ranking(graph, score=args.score, topics=topics, frames=frames,
                                            **spark_opts)
            if ranked_on_spark.note is not None:
                print(ranked_on_spark.note, file=sys.stderr)
            influence = ranked_on_spark.table
        else:
            from graphkit.marketing.loyalty import check_query_arguments

            topics = check_query_arguments(args.topic, args.top_percentile, args.min_loyalty, args.limit)
            ranked = rank(graph, args.score, topics=topics, quiet=args.quiet)
            influence = ranked.table
            if args.uncertainty is not None:
                from graphkit.scoring.registry import rank_uncertainty

                with step(f"{ranked.score.replace('_', ' ')}: {args.uncertainty} bootstrap resamples",
                          enabled=not args.quiet):
                    influence = rank_uncertainty(graph, score=ranked.score, topics=topics,
                                                 resamples=args.uncertainty, seed=args.seed).table
        if args.engine == "spark":
            from graphkit.marketing.spark import spark_influential_loyal_customers

            with step("influential loyal customers (Spark SQL)", enabled=not args.quiet):
                rows = spark_influential_loyal_customers(graph, topics=args.topic, influence=influence,
                                                         frames=frames, **options)
        else:
            with step("influential loyal customers", enabled=not args.quiet):
                rows = influential_loyal_customers(graph, topics=args.topic, influence=influence, **options)
    seconds = round(time.perf_counter() - start, 3)
    if args.out:
        from graphkit.io.files import write_table

        written = write_table(rows, args.out)
        if args.json:
            print_json({"count": rows.height, "run_id": run_id, "seconds": seconds, "topics": args.topic,
                        "written": str(written)})
        else:
            print(f"{rows.height} rows written to {written}")
    elif args.json:
        print_json({"count": rows.height, "run_id": run_id, "seconds": seconds, "topics": args.topic,
                    "rows": rows})
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True, fmt_str_lengths=30):
            shown = rows.with_columns(pl.col("fit", "score", "percentile", "credibility", "recency_days",
                                             "loyalty_score", *(c for c in ("score_low", "score_high")
                                                                if c in rows.columns)).round(4))
            print(shown)
        print(f"{rows.height} influential loyal customer(s) on {', '.join(args.topic)}", file=sys.stderr)
    return 0
