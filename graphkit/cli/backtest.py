"""``graphkit backtest``: learn scores before cut-offs, measure followers' adoption after, compare."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from graphkit.cli.common import add_dataset, add_output, answer, dataset_name, load_graph


def register(sub: argparse._SubParsersAction) -> None:
    from graphkit.evidence.backtest import BUILTIN_SCORERS, CANDIDATES, POPULATIONS

    p = sub.add_parser(
        "backtest", help="does a score predict which followers take up a topic next? (vs audience size)",
        description="Split the data at each cut-off, compute every scorer on the past only, count the followers "
                    "who take up each topic afterwards, and compare scorers (precision@k, NDCG@k, Spearman) "
                    "with bootstrap intervals over people and a paired comparison against audience size. "
                    "Writes backtest.csv, backtest_topics.csv, backtest_splits.csv and backtest.png to --out.",
    )
    add_dataset(p, optional_flag=True)
    p.add_argument("--cutoff", action="append", required=True, metavar="DATE",
                   help="cut-off T0 (ISO date); repeat for several")
    p.add_argument("--k", action="append", type=_positive, metavar="K", help="k of precision@k and NDCG@k; repeat (default 10 and 50)")
    p.add_argument("--scorers", default="random,audience,active_audience,pagerank,topic_activity,topic_influence,expected_reach",
                   help=f"comma-separated built-in scorers, from: {', '.join(BUILTIN_SCORERS)} (default: all)")
    p.add_argument("--horizon-days", type=_positive, help="count adoptions this many days after T0 (default: to the end)")
    p.add_argument("--population", choices=POPULATIONS, default="active",
                   help="'active' (default): only people and follows present before T0; 'all': everyone")
    p.add_argument("--candidates", choices=CANDIDATES, default="reach",
                   help="'reach' (default): everyone with a follower new to the topic; 'topic': also active on it")
    p.add_argument("--min-candidates", type=_positive, default=100, help="evaluate topics with at least this many (default 100)")
    p.add_argument("--n-bootstrap", type=int, default=200, help="bootstrap resamples of people (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the random scorer (default 0)")
    p.add_argument("--outcome", choices=("count", "rate"), default="count", help="outcome shown and plotted (default count)")
    p.add_argument("--out", required=True, help="output folder (created if needed)")
    add_output(p)
    p.set_defaults(handler=_backtest)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _backtest(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import polars as pl

    from graphkit.evidence.backtest import backtest, builtin_scorer, plot_backtest
    from graphkit.io.files import write_table

    scorers = [s.strip() for s in args.scorers.split(",") if s.strip()]
    for name in scorers:  # unknown names fail before the data is loaded
        builtin_scorer(name)
    graph = load_graph(dataset_name(args), quiet=args.quiet)
    result = backtest(
        graph, cutoffs=args.cutoff, scorers=scorers, ks=tuple(args.k or (10, 50)),
        horizon=timedelta(days=args.horizon_days) if args.horizon_days else None, population=args.population,
        candidates=args.candidates, min_candidates=args.min_candidates, n_bootstrap=args.n_bootstrap, seed=args.seed,
        progress=not args.quiet,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(result.table, out / "backtest.csv")
    write_table(result.per_topic, out / "backtest_topics.csv")
    write_table(result.splits, out / "backtest_splits.csv")
    files = ["backtest.csv", "backtest_topics.csv", "backtest_splits.csv"]
    for cutoff in result.table["cutoff"].unique().sort():
        axes = plot_backtest(result, outcome=args.outcome, cutoff=cutoff)
        name = "backtest.png" if cutoff == result.table["cutoff"].max() else f"backtest_{cutoff:%Y-%m-%d}.png"
        axes[0].figure.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(axes[0].figure)
        files.append(name)
    shown = result.table.filter(pl.col("outcome") == args.outcome)
    level = int(100 * result.parameters["level"])

    def text() -> str:
        lines = []
        for (cutoff,), rows in shown.group_by("cutoff", maintain_order=True):
            n_topics = rows["n_topics"][0]
            lines.append(f"cut-off {cutoff:%Y-%m-%d}: followers' adoption ({args.outcome}), mean over {n_topics} "
                         f"topics, {level}% intervals; vs audience = paired difference")
            for (metric, k), part in rows.group_by("metric", "k", maintain_order=True):
                lines.append(f"  {metric}@{k}" if k is not None else f"  {metric}")
                for r in part.iter_rows(named=True):
                    lines.append(f"    {r['scorer']:<16} {r['value']:7.3f} [{r['low']:6.3f}, {r['high']:6.3f}]   "
                                 f"vs audience {r['vs_audience']:+7.3f} [{r['vs_low']:+6.3f}, {r['vs_high']:+6.3f}]")
        lines.append(f"written to {out}/: {', '.join(files)}")
        return "\n".join(lines)

    answer(args, {"out": str(out), "files": [str(out / f) for f in files], "outcome": args.outcome,
                  "level": result.parameters["level"], "results": shown}, text)
    return 0
