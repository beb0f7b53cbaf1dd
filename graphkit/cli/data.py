"""``graphkit validate`` and ``graphkit info``: check and describe a dataset folder."""

from __future__ import annotations

import argparse
import sys

from graphkit.cli.common import add_dataset, add_output, answer, dataset_folder
from graphkit.cli.output import EXIT_ERROR, error_object, print_json
from graphkit.errors import GraphkitError
from graphkit.io.files import read_dataset
from graphkit.model.schema import rejects_summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a dataset folder against the schemas",
                       description="Check every table of a dataset folder; strict unless --lenient. "
                                   "Exit code 0 when every row is valid, 1 when a row is bad (strict) "
                                   "or was rejected (--lenient), or a file cannot be read.")
    add_dataset(p, lenient=False)
    p.add_argument("--lenient", action="store_true", help="move bad rows to a rejects file instead of failing")
    p.add_argument("--rejects", metavar="FILE", help="where --lenient writes rejected rows (default PATH/rejects.csv)")
    p.add_argument("--verbose", action="store_true", help="show the offending rows of an error")
    add_output(p, quiet=False)
    p.set_defaults(handler=_validate)

    p = sub.add_parser("info", help="counts of people, topics, edges by kind, transactions",
                       description="Validate a dataset folder and print its counts.")
    add_dataset(p, lenient=False)
    add_output(p, quiet=False)
    p.set_defaults(handler=_info)


def _validate(args: argparse.Namespace) -> int:
    try:
        g = read_dataset(dataset_folder(args.path), lenient=args.lenient, rejects_path=args.rejects)
    except GraphkitError as exc:
        if not args.verbose:
            raise  # main() prints it on one line (and as JSON with --json)
        print(f"Error: {exc}", file=sys.stderr)  # the whole message, offending rows included
        if args.json:
            print_json(error_object(exc, EXIT_ERROR))
        return EXIT_ERROR
    counts = {"people": g.people.height, "edges": g.edges.height, "transactions": g.transactions.height,
              "topics": len(g.topics)}
    if g.rejects.height:
        target = args.rejects or f"{args.path}/rejects.csv"
        summary = rejects_summary(g.rejects)
        lines = [f"{args.path}: {g.rejects.height} row(s) rejected, written to {target}"]
        lines += [f"  {table}.{column}: {n}" for table, column, n in summary.iter_rows()]
        answer(args, {"path": args.path, "valid": False, "rejected": g.rejects.height, "rejects_file": target,
                      "rejects": summary, **counts}, "\n".join(lines))
        return 1
    answer(args, {"path": args.path, "valid": True, "rejected": 0, **counts},
           f"{args.path}: valid ({counts['people']} people, {counts['edges']} edges, "
           f"{counts['transactions']} transactions, {counts['topics']} topics)")
    return 0


def _info(args: argparse.Namespace) -> int:
    g = read_dataset(dataset_folder(args.path))
    counts = dict(g.summary().iter_rows())
    lines = [f"{what:<20} {count:>12,}" for what, count in counts.items()]
    if g.topics:
        lines.append("topics: " + ", ".join(g.topics))
    answer(args, {"path": args.path, "counts": counts, "topics": list(g.topics)}, "\n".join(lines))
    return 0
