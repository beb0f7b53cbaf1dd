"""``graphkit backtest``: learn scores before cut-offs, measure attributed adoption after, compare."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from graphkit.cli.common import add_dataset, add_output, answer, dataset_name, load_graph


def register(sub: argparse._SubParsersAction) -> None:
    from graphkit.evidence.backtest import BUILTIN_SCORERS, CANDIDATES, OUTCOMES, POPULATIONS
    from graphkit.scoring.registry import SCORES

    p = sub.add_parser(
        "backtest", help="does a score pick the people whose followers take a topic up after them?",
        description="Split the data at each cut-off, compute every scorer on the past only, count the followers "
                    "who take up each topic afterwards soon after the person was active on it (attributed "
                    "adoption), and compare scorers (precision@k, NDCG@k, Spearman) with bootstrap intervals over "
                    "people and paired differences against audience size and against the best simple baseline "
                    "(posts_x_active_new_followers). Also reports topic specificity and an uplift check (exposure "
                    "vs a placebo). Writes backtest.csv, backtest_topics.csv, backtest_splits.csv, "
                    "backtest_specificity.csv, backtest_uplift.csv and backtest.png to --out.",
    )
    add_dataset(p, optional_flag=True)
    p.add_argument("--cutoff", action="append", required=True, metavar="DATE",
                   help="cut-off T0 (ISO date); repeat for several")
    p.add_argument("--k", action="append", type=_positive, metavar="K", help="k of precision@k and NDCG@k; repeat (default 10 and 50)")
    extra = [s for s in SCORES if s not in BUILTIN_SCORERS]
    p.add_argument("--scorers", help=f"comma-separated scorers, from: {', '.join(BUILTIN_SCORERS + tuple(extra))} "
                                     "(default: all)")
    p.add_argument("--horizon-days", type=_positive, help="count adoptions this many days after T0 (default: to the end)")
    p.add_argument("--exposure-days", type=_exposure, default=180, metavar="DAYS|any",
                   help="an adoption counts for a person active on the topic this many days before it "
                        "(default 180; 'any' = any time before)")
    p.add_argument("--population", choices=POPULATIONS, default="active",
                   help="'active' (default): only people and follows present before T0; 'all': everyone")
    p.add_argument("--candidates", choices=CANDIDATES, default="reach",
                   help="'reach' (default): everyone with a follower new to the topic; 'topic': also active on it")
    p.add_argument("--min-candidates", type=_positive, default=100, help="evaluate topics with at least this many (default 100)")
    p.add_argument("--n-bootstrap", type=int, default=200, help="bootstrap resamples of people (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the random scorer (default 0)")
    p.add_argument("--outcome", choices=OUTCOMES, default=OUTCOMES[0],
                   help=f"outcome shown and plotted (default {OUTCOMES[0]}; every outcome is in backtest.csv)")
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


def _exposure(text: str) -> int | None:
    return None if text.strip().lower() == "any" else _positive(text)


def _backtest(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import polars as pl

    from graphkit.evidence.backtest import backtest, builtin_scorer, plot_backtest, report
    from graphkit.io.files import write_table

    scorers = None if args.scorers is None else [s.strip() for s in args.scorers.split(",") if s.strip()]
    for name in scorers or ():  # unknown names fail before the data is loaded
        builtin_scorer(name)
    graph = load_graph(dataset_name(args), quiet=args.quiet, lenient=args.lenient, rejects=args.rejects)
    result = backtest(
        graph, cutoffs=args.cutoff, scorers=scorers, ks=tuple(args.k or (10, 50)),
        horizon=timedelta(days=args.horizon_days) if args.horizon_days else None,
        exposure_window=None if args.exposure_days is None else timedelta(days=args.exposure_days),
        population=args.population, candidates=args.candidates, min_candidates=args.min_candidates,
        n_bootstrap=args.n_bootstrap, seed=args.seed, progress=not args.quiet,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(result.table, out / "backtest.csv")
    write_table(result.per_topic, out / "backtest_topics.csv")
    write_table(result.splits, out / "backtest_splits.csv")
    write_table(result.specificity, out / "backtest_specificity.csv")
    write_table(result.uplift, out / "backtest_uplift.csv")
    files = ["backtest.csv", "backtest_topics.csv", "backtest_splits.csv", "backtest_specificity.csv",
             "backtest_uplift.csv"]
    for cutoff in result.table["cutoff"].unique().sort():
        axes = plot_backtest(result, outcome=args.outcome, cutoff=cutoff)
        name = "backtest.png" if cutoff == result.table["cutoff"].max() else f"backtest_{cutoff:%Y-%m-%d}.png"
        axes[0].figure.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(axes[0].figure)
        files.append(name)
    ks = tuple(args.k or (10, 50))
    panels = [("precision", k) for k in ks] + [("ndcg", k) for k in ks]
    shown = result.table.filter(pl.col("outcome") == args.outcome)
    answer(args, {"out": str(out), "files": [str(out / f) for f in files], "outcome": args.outcome,
                  "level": result.parameters["level"], "results": shown, "specificity": result.specificity,
                  "uplift": result.uplift},
           lambda: report(result, outcome=args.outcome, panels=panels) + f"\nwritten to {out}/: {', '.join(files)}")
    return 0
