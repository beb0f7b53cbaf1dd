"""``graphkit communities``: Leiden communities of every topic's attention layer, with a summary."""

from __future__ import annotations

import argparse
import sys

import polars as pl

from graphkit.cli.common import add_dataset, add_output, answer, dataset_name, load_graph
from graphkit.errors import GraphkitError
from graphkit.scoring.community import ENGINES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "communities",
        help="communities per topic (Leiden on each topic's attention layer), with a summary",
        description="Partition the people of every topic's attention layer with Leiden (modularity, seeded; see "
        "graphkit.scoring.community.topic_communities) and summarise each community: size, top influencers, share of "
        "customers, best-matching brand community. Without --out, print the largest communities of each topic.",
    )
    add_dataset(p, optional_flag=True)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics to partition (default: every topic)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same partition (0)")
    p.add_argument("--resolution", type=float, default=1.0, metavar="R",
                   help="modularity resolution; higher gives more, smaller communities (1.0)")
    p.add_argument("--n-iterations", type=int, default=1, metavar="N",
                   help="Leiden iterations per topic; more is slower and slightly better; negative: until "
                        "stable, slow on large data (1)")
    p.add_argument("--engine", choices=ENGINES, default="native",
                   help="native (default): graphkit's own Leiden, topics on parallel threads; igraph: igraph's "
                        "Leiden in worker processes (the reference it was measured against)")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="parallel workers: threads for the native engine, processes for igraph's (default: every "
                        "core on large graphs, in-process on small ones)")
    p.add_argument("--start", metavar="DATE", help="window start (ISO date or datetime, UTC)")
    p.add_argument("--end", metavar="DATE", help="window end, exclusive")
    p.add_argument("--out", metavar="FILE", help="write the membership (person_id, topic, community) to FILE "
                   "(.parquet or .csv)")
    p.add_argument("--summary", metavar="FILE", help="write the summary per (topic, community) to FILE "
                   "(.parquet or .csv; in CSV the top influencers are joined with ';')")
    p.add_argument("--top", type=int, default=5, metavar="K", help="communities listed per topic without --out (5)")
    add_output(p)
    p.set_defaults(handler=_communities)


def _communities(args: argparse.Namespace) -> int:
    from graphkit.io.files import check_writable, write_table
    from graphkit.progress import step
    from graphkit.scoring.community import topic_communities

    if args.top < 1:
        raise GraphkitError(f"--top must be at least 1; got {args.top}")
    for target in (args.out, getattr(args, "summary", None)):  # a bad path fails before the work, not after
        if target:
            check_writable(target)
    graph = load_graph(dataset_name(args), quiet=args.quiet, lenient=args.lenient, rejects=args.rejects)
    window = None if args.start is None and args.end is None else (args.start, args.end)
    with step("communities per topic (Leiden)", enabled=not args.quiet):
        res = topic_communities(
            graph, topics=args.topics, seed=args.seed, resolution=args.resolution,
            n_iterations=args.n_iterations, n_jobs=args.jobs, window=window, engine=args.engine,
        )
    written: dict[str, str] = {}
    notes: list[str] = []
    if args.summary:
        summary = res.summary
        if str(args.summary).endswith(".csv"):  # CSV has no list type
            summary = summary.with_columns(pl.col("top_influencers").list.join(";"))
        path = write_table(summary, args.summary)
        written["summary"] = str(path)
        notes.append(f"{path}: {summary.height} communities")
    if args.out:
        path = write_table(res.membership, args.out)
        written["membership"] = str(path)
        notes.append(f"{path}: {res.membership.height} rows ({len(res.modularity)} topics)")
    counts = res.summary.group_by("topic").len()
    per_topic = pl.DataFrame({"topic": list(res.modularity), "modularity": list(res.modularity.values())})
    per_topic = per_topic.join(counts, on="topic", how="left").with_columns(pl.col("len").fill_null(0).alias("communities"))
    per_topic = per_topic.select("topic", "communities", "modularity")
    top = res.summary.filter(pl.col("community") < args.top).select(
        "topic", "community", "size", "customer_share", "top_influencers", "brand_community", "brand_jaccard")
    empty = [t for t, q in res.modularity.items() if q != q]
    if empty:
        print(f"note: no attention edges on {', '.join(empty)} in the window: no communities there", file=sys.stderr)

    def text() -> str:
        if args.out:
            return "\n".join(notes)
        shown = top.with_columns(pl.col("top_influencers").list.join(", "))
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                       float_precision=3, fmt_str_lengths=60, tbl_width_chars=160):
            return "\n".join([*notes, str(per_topic), str(shown)])

    answer(args, {"seed": args.seed, "engine": args.engine, "topics": per_topic, "largest": top, "written": written}, text)
    return 0
