"""``graphkit generate``: write a synthetic dataset folder (see :mod:`graphkit.io.synthetic`)."""

from __future__ import annotations

import argparse

from graphkit.cli.common import add_dataset_out, add_output, answer
from graphkit.io.files import write_dataset
from graphkit.io.ownership import writable_folder
from graphkit.io.synthetic import generate
from graphkit.progress import step


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="write a synthetic dataset (power-law follows, topics, purchases)",
        description="Generate a seeded synthetic topic graph and write it as a dataset folder. "
                    "1M people give about 10M follows and 20M edges.",
    )
    p.add_argument("--people", type=_count(2), default=10_000, help="number of people (default 10000)")
    p.add_argument("--follows-per-person", type=_number, default=10.0, help="mean accounts each person follows (default 10)")
    p.add_argument("--topics", type=_count(1), default=16, help="number of topics (default 16)")
    p.add_argument("--interactions-per-person", type=_number, default=10.0,
                   help="mean authored mentions/replies/shares/reviews per person, inactive ones included (default 10)")
    p.add_argument("--inactive-share", type=_number, default=0.44, help="share of never-active accounts (default 0.44)")
    p.add_argument("--customer-share", type=_number, default=0.3, help="share of people who are customers (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_dataset_out(p, "path")
    add_output(p)
    p.set_defaults(handler=_generate)


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}, got {value}")
        return value

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _generate(args: argparse.Namespace) -> int:
    show = not args.quiet
    writable_folder(args.path, "dataset", force=args.force)  # refuse before spending minutes generating
    with step(f"generating {args.people:,} people", enabled=show):
        g = generate(
            n_people=args.people, follows_per_person=args.follows_per_person, n_topics=args.topics,
            interactions_per_person=args.interactions_per_person, inactive_share=args.inactive_share,
            customer_share=args.customer_share, seed=args.seed,
        )
    with step(f"writing {args.path} ({args.format})", enabled=show):
        write_dataset(g, args.path, format=args.format, force=args.force, wait=args.wait)
    counts = {"people": g.people.height, "edges": g.edges.height, "transactions": g.transactions.height,
              "topics": len(g.topics)}
    answer(args, {"path": args.path, "format": args.format, "seed": args.seed, **counts},
           f"{args.path}: {counts['people']:,} people, {counts['edges']:,} edges, "
           f"{counts['transactions']:,} transactions, {counts['topics']} topics (seed {args.seed})")
    return 0
