"""``graphkit matrix | segments | experts | acts | explain``: the analyst's tables from the command line.

Thin wrappers over :mod:`graphkit.marketing`, :mod:`graphkit.marketing.experts`,
:mod:`graphkit.marketing.behaviour` and :mod:`graphkit.marketing.explain`. Each reads a dataset
folder (or ``ciao``, the bundled data), prints a short answer, and with
``--out FILE`` (.parquet or .csv) writes the full table, with ``--png FILE``
its figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from graphkit.model.graph import TopicGraph
from graphkit.progress import step
from graphkit.scoring.registry import DEFAULT_SCORE, SCORES, score_table

BUNDLED = "ciao"


def register(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser, *, figure: bool = True) -> None:
        p.add_argument("path", help=f"dataset folder, or '{BUNDLED}' for the bundled Ciao data")
        p.add_argument("--out", metavar="FILE", help="write the full table (.parquet or .csv)")
        if figure:
            p.add_argument("--png", metavar="FILE", help="write the figure (PNG)")
        p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    p = sub.add_parser("matrix", help="value x influence matrix of customers on a topic",
                       description="Place every customer by value (spend, or loyalty score when prices are "
                                   "unknown) and topic influence: champions, loyalists, hidden advocates, occasional.")
    common(p)
    p.add_argument("--topic", help="topic (default: each customer's best topic)")
    p.add_argument("--value-threshold", type=float, default=50.0, help="high value above this percentile (default 50)")
    p.add_argument("--influence-threshold", type=float, default=90.0,
                   help="high influence above this percentile (default 90: the top 10%%)")
    p.add_argument("--score", choices=SCORES, default=DEFAULT_SCORE,
                   help=f"influence axis (default {DEFAULT_SCORE}, the score the backtest supports)")
    p.set_defaults(handler=_matrix)

    p = sub.add_parser("segments", help="advocate segments and their overlaps",
                       description="Fans/followers, influencers, influential customers, community members, "
                                   "reviewers and loyal customers, with the people in each combination.")
    common(p)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics where influence counts (default: all)")
    p.add_argument("--brand", help="only this brand's accounts, communities and items")
    p.set_defaults(handler=_segments)

    p = sub.add_parser("experts", help="experts of a topic and a recognition budget split to the cent",
                       description="Rank the people whose contributions on a topic others found helpful; "
                                   "with --budget, split it in proportion to participation (sums exactly).")
    common(p)
    p.add_argument("--topic", required=True, help="topic")
    p.add_argument("--top", type=int, default=20, help="experts kept (default 20)")
    p.add_argument("--budget", help="recognition budget to split among the top experts, e.g. 5000 or 1234.50")
    p.set_defaults(handler=_experts)

    p = sub.add_parser("acts", help="behavioural influence vs audience and topic influence",
                       description="For each person and topic: followers who adopted the topic after them "
                                   "within a window, referral revenue, audience and topic influence; and, per "
                                   "topic, which of audience or influence tracks acts (Spearman).")
    common(p)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics (default: all)")
    p.add_argument("--window-days", type=float, default=90.0, help="days after the person's adoption (default 90)")
    p.set_defaults(handler=_acts)

    p = sub.add_parser("explain", help="why a person is influential on a topic: the terms of the score",
                       description="The attention givers (and own activity) whose terms make up a person's "
                                   "topic influence score, largest first; the shares sum to 1.")
    common(p)
    p.add_argument("person", help="person_id")
    p.add_argument("topic", help="topic")
    p.add_argument("--top", type=int, default=10, help="givers shown before the rest is summed (default 10)")
    p.set_defaults(handler=_explain)


def _load(path: str, quiet: bool) -> TopicGraph:
    with step(f"loading {path}", enabled=not quiet):
        if path == BUNDLED and not Path(path).exists():
            from graphkit.io.datasets import load_ciao

            return load_ciao()
        from graphkit.io.files import read_dataset

        return read_dataset(path)


def _influence(graph: TopicGraph, quiet: bool, topics: list[str] | None = None):
    from graphkit.scoring.influence import topic_influence

    with step("topic influence", enabled=not quiet):
        return topic_influence(graph, topics=topics)


def _show(df: pl.DataFrame, rows: int = 15) -> str:
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=rows, tbl_cols=-1,
                   tbl_width_chars=160, fmt_str_lengths=60):
        return str(df.head(rows))


def _write(args: argparse.Namespace, table: pl.DataFrame, draw) -> None:
    if args.out:
        from graphkit.io.files import write_table

        print(f"written: {write_table(table, args.out)}")
    if getattr(args, "png", None):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = draw()
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(args.png, dpi=120)
        plt.close(ax.figure)
        print(f"written: {args.png}")


def _matrix(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing import quadrant_counts, value_influence_matrix

    g = _load(args.path, args.quiet)
    with step(args.score.replace("_", " "), enabled=not args.quiet):
        infl = score_table(g, score=args.score, topics=[args.topic] if args.topic else None)
    m = value_influence_matrix(g, topic=args.topic, influence=infl, value_threshold=args.value_threshold,
                               influence_threshold=args.influence_threshold)
    print(f"value x {args.score.replace('_', ' ')} on {args.topic or 'each customer best topic'}: {m.height:,} customers, "
          f"value = {m['value_basis'][0]}, high value > p{args.value_threshold:g}, "
          f"high influence > p{args.influence_threshold:g}")
    print(_show(quadrant_counts(m).with_columns(pl.col("share").round(3))))
    hidden = m.filter(pl.col("quadrant") == "hidden advocates")
    print(f"hidden advocates (top {min(hidden.height, 10)} of {hidden.height:,}):")
    print(_show(hidden.select("person_id", "name", "topic", "value", "value_percentile", "influence_percentile"), 10))
    _write(args, m, lambda: plot.value_influence(m))
    return 0


def _segments(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing import advocate_segments, segment_overlaps

    g = _load(args.path, args.quiet)
    infl = _influence(g, args.quiet, args.topics)
    s = advocate_segments(g, influence=infl, brand=args.brand, topics=args.topics)
    o = segment_overlaps(s)
    print(f"advocate segments of {s.height:,} people" + (f" (brand {args.brand})" if args.brand else ""))
    print(_show(o.select("combination", "people")))
    _write(args, s, lambda: plot.segment_upset(o))
    return 0


def _experts(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.errors import GraphkitError
    from graphkit.marketing.experts import budget_cents, experts, recognition_shares

    if args.top < 1:
        raise GraphkitError(f"--top must be at least 1, got {args.top}")
    if args.budget is not None:
        budget_cents(args.budget)  # a bad budget fails before any work
    g = _load(args.path, args.quiet)
    e = experts(g, topics=[args.topic])
    print(f"experts on {args.topic}: {e.height:,} contributors")
    print(_show(e.drop("topic"), min(args.top, 20)))
    table = e.filter(pl.col("rank") <= args.top)
    if args.budget is not None:
        shares = recognition_shares(g, budget=args.budget, experts_table=e, top=args.top)
        print(f"recognition: {shares['amount'].sum()} split among {shares.height} people by participation")
        print(_show(shares.select("person_id", "participation", "share", "amount"), min(args.top, 20)))
        _write(args, shares, lambda: plot.recognition(shares))
    else:
        _write(args, table, lambda: plot.experts(e, args.topic, top=args.top))
    return 0


def _acts(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing.behaviour import (
        behaviour_correlations,
        behaviour_vs_audience,
    )

    g = _load(args.path, args.quiet)
    infl = _influence(g, args.quiet, args.topics)
    with step("adoption after exposure", enabled=not args.quiet):
        t = behaviour_vs_audience(g, topics=args.topics, influence=infl, window_days=args.window_days)
    c = behaviour_correlations(t)
    print(f"acts within {args.window_days:g} days vs audience and topic influence (Spearman with adopters):")
    print(_show(c.with_columns(pl.col("^rho_.*$").round(3)), 50))
    first = args.topics[0] if args.topics else (c["topic"][0] if c.height else None)
    _write(args, t, lambda: plot.behaviour_vs_audience(t, topic=first))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing.explain import explain_influence

    g = _load(args.path, args.quiet)
    infl = _influence(g, args.quiet, [args.topic])
    ex = explain_influence(g, args.person, args.topic, influence=infl, top=args.top)
    score = float(ex["contribution"].sum())
    print(f"influence of {args.person} on {args.topic}: score {score:.6g}, made of:")
    print(_show(ex.select("term", "giver", "via", "weight", "contribution", pl.col("share").round(4)), args.top + 2))
    _write(args, ex, lambda: plot.explanation(ex))
    return 0
