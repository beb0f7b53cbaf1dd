"""``graphkit demo``: the main job on the bundled real data, no server needed."""

from __future__ import annotations

import argparse
import sys

from graphkit.cli.common import add_output, answer
from graphkit.scoring.registry import DEFAULT_SCORE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run the main job on the bundled Ciao data and write results",
        description="Load the bundled Ciao data, rank people per topic by the default score, measure loyalty, print the "
                    "influential loyal customers of a few topics, and write tables and figures.",
    )
    p.add_argument("--out", default="graphkit-output", help="output folder (default: graphkit-output)")
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics to answer for (default: the 3 busiest)")
    p.add_argument("--top", type=int, default=10, help="rows per topic (default 10)")
    p.add_argument("--top-percentile", type=float, default=10.0, help="influence percentile kept (default 10)")
    p.add_argument("--min-loyalty", type=float, default=0.5, help="minimum loyalty score, 0..1 (default 0.5)")
    add_output(p)
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from graphkit.demo import render, run_demo

    report = run_demo(args.out, topics=args.topics, top=args.top, top_percentile=args.top_percentile,
                      min_loyalty=args.min_loyalty, progress=not args.quiet)
    if report.fallback:
        print(f"note: {DEFAULT_SCORE} cannot be computed here ({report.fallback}); ranked by {report.score} "
              "instead", file=sys.stderr)
    payload = {"out": args.out, "topics": list(report.topics), "files": [str(f) for f in report.files],
               "seconds": report.seconds, "score": report.score, "score_fallback": report.fallback,
               "shown": report.shown,
               "answers": report.answers}
    answer(args, payload, lambda: render(report, top_percentile=args.top_percentile, min_loyalty=args.min_loyalty))
    return 0
