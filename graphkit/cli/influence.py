"""``graphkit influence``: topic influence scores of a dataset, as a table or a top-k listing."""

from __future__ import annotations

import argparse
import sys

import polars as pl

from graphkit.cli.common import add_dataset, add_output, add_spark_options, answer, dataset_name, load_graph, spark_options
from graphkit.errors import GraphkitError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "influence",
        help="topic influence (personalised PageRank per topic) of every person",
        description="Score every person on every topic (see graphkit.scoring.influence.topic_influence). "
        "Without --out, print the top people of each topic.",
    )
    add_dataset(p, optional_flag=True)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics to score (default: every active topic)")
    p.add_argument("--engine", choices=("batched", "igraph", "spark"), default="batched",
                   help="batched (default, all topics at once), igraph (the reference, one topic at a time) or "
                        "spark (Apache Spark; pip install 'graphkit[spark]')")
    add_spark_options(p)
    p.add_argument("--variant", choices=("standard", "gds"), default="standard",
                   help="standard PageRank (scores sum to 1 per topic) or Neo4j GDS semantics")
    p.add_argument("--damping-factor", type=float, default=0.85, metavar="D", help="default 0.85")
    p.add_argument("--max-iter", type=int, metavar="N", help="default 100 (gds: 20; --engine spark --strategy iterations: 300)")
    p.add_argument("--tol", type=float, metavar="T", help="default 1e-10 (gds: 1e-7)")
    p.add_argument("--start", metavar="DATE", help="window start (ISO date or datetime, UTC)")
    p.add_argument("--end", metavar="DATE", help="window end, exclusive")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--out", metavar="FILE", help="write the full table to FILE (.parquet or .csv)")
    p.add_argument("--top", type=int, default=10, metavar="K", help="people listed per topic without --out (10)")
    add_output(p)
    p.set_defaults(handler=_influence)


def _influence(args: argparse.Namespace) -> int:
    from graphkit.io.files import check_writable, write_table
    from graphkit.progress import step
    from graphkit.scoring.influence import topic_influence

    if args.top < 1:
        raise GraphkitError(f"--top must be at least 1; got {args.top}")
    options = spark_options(args)
    for target in (args.out, getattr(args, "summary", None)):  # a bad path fails before the work, not after
        if target:
            check_writable(target)
    graph = load_graph(dataset_name(args), quiet=args.quiet, lenient=args.lenient, rejects=args.rejects)
    window = None if args.start is None and args.end is None else (args.start, args.end)
    with step(f"topic influence ({args.engine} engine)", enabled=not args.quiet):
        res = topic_influence(
            graph, topics=args.topics, engine=args.engine, variant=args.variant,
            damping_factor=args.damping_factor, max_iter=args.max_iter, tol=args.tol,
            window=window, dtype=args.dtype, **options,
        )
    if not res.converged:
        print(f"warning: not converged after {res.iterations} iterations; raise --max-iter", file=sys.stderr)
    topics = list(res.parameters["topics"])
    about = {"topics": topics, "people": graph.n_people, "engine": args.engine, "variant": args.variant,
             "iterations": res.iterations, "converged": res.converged}
    if args.out:
        path = write_table(res.table, args.out)
        answer(args, {**about, "written": str(path), "rows": res.table.height},
               f"{path}: {res.table.height} rows ({len(topics)} topics x {graph.n_people} people)")
        return 0
    top = res.table.filter(pl.col("rank") <= args.top).sort("topic", "rank").select(
        "topic", "rank", "person_id", "score", "audience", "active_audience", "credibility")

    def text() -> str:
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                       float_precision=6):
            return str(top)

    answer(args, {**about, "top": top}, text)
    return 0
