"""``graphkit validate`` and ``graphkit info``: check and describe a dataset folder."""

from __future__ import annotations

import argparse
import sys

from graphkit.errors import GraphkitError
from graphkit.io.files import read_dataset
from graphkit.model.schema import rejects_summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a dataset folder against the schemas",
                       description="Check every table of a dataset folder; strict unless --lenient. "
                                   "Exit code 0 when every row is valid, 1 when a row is bad (strict) "
                                   "or was rejected (--lenient), or a file cannot be read.")
    p.add_argument("path", help="dataset folder (people, edges, ... as .parquet or .csv)")
    p.add_argument("--lenient", action="store_true", help="move bad rows to a rejects file instead of failing")
    p.add_argument("--rejects", metavar="FILE", help="where --lenient writes rejected rows (default PATH/rejects.csv)")
    p.add_argument("--verbose", action="store_true", help="show the offending rows of an error")
    p.set_defaults(handler=_validate)

    p = sub.add_parser("info", help="counts of people, topics, edges by kind, transactions",
                       description="Validate a dataset folder and print its counts.")
    p.add_argument("path", help="dataset folder")
    p.set_defaults(handler=_info)


def _validate(args: argparse.Namespace) -> int:
    try:
        g = read_dataset(args.path, lenient=args.lenient, rejects_path=args.rejects)
    except GraphkitError as exc:
        if not args.verbose:
            raise  # main() prints it on one line
        print(f"Error: {exc}", file=sys.stderr)  # the whole message, offending rows included
        return 1
    if g.rejects.height:
        target = args.rejects or f"{args.path}/rejects.csv"
        print(f"{args.path}: {g.rejects.height} row(s) rejected, written to {target}")
        for table, column, n in rejects_summary(g.rejects).iter_rows():
            print(f"  {table}.{column}: {n}")
        return 1
    print(f"{args.path}: valid ({g.people.height} people, {g.edges.height} edges, "
          f"{g.transactions.height} transactions, {len(g.topics)} topics)")
    return 0


def _info(args: argparse.Namespace) -> int:
    g = read_dataset(args.path)
    for what, count in g.summary().iter_rows():
        print(f"{what:<20} {count:>12,}")
    if g.topics:
        print("topics: " + ", ".join(g.topics), file=sys.stdout)
    return 0
