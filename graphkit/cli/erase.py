"""``graphkit erase``: remove people and everything about them from a dataset, its score runs, or Neo4j."""

from __future__ import annotations

import argparse

from graphkit.cli.batch import NEO4J
from graphkit.cli.common import add_output, answer, seconds
from graphkit.io.ownership import DEFAULT_WAIT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "erase", help="erase people everywhere: dataset, score runs, Neo4j (with an erasure log)",
        description="Remove each person and everything about her: her people row, handles, edges in both "
                    "directions, the transactions of her customer id, and her rows and list entries in every "
                    "stored score run. Each store changes in one step, under its writer lock; erasing again "
                    "changes nothing. Each store that lost rows logs the erasure (keyed hashes of the ids, the "
                    "time, the rows per table; never the ids): set GRAPHKIT_ERASURE_KEY to a secret key first. "
                    "Exit codes: 0 done, 1 error, 2 usage, 3 server unreachable, 4 another job is writing there.",
    )
    p.add_argument("person_ids", nargs="+", metavar="PERSON_ID", help="person id(s) to erase, as in people.person_id")
    p.add_argument("--source", metavar="PATH|neo4j",
                   help="the dataset folder, or 'neo4j' (the graph and its score runs, from NEO4J_URI, "
                        "NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE; use ./neo4j for a folder of that name)")
    p.add_argument("--runs", action="append", metavar="PATH",
                   help="a score folder written by 'graphkit score --write PATH' (repeat for several)")
    p.add_argument("--pseudonymised", action="store_true",
                   help="the stores hold pseudonyms (graphkit pseudonymise): erase the pseudonym of each "
                        "PERSON_ID, computed with the key in GRAPHKIT_PSEUDONYM_KEY")
    p.add_argument("--wait", type=seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                   help=f"how long to wait for another job writing the same store before giving up with exit "
                        f"code 4 (default {DEFAULT_WAIT:g})")
    add_output(p, quiet=False)
    p.set_defaults(handler=_erase)


def _erase(args: argparse.Namespace) -> int:
    from graphkit.cli import UsageError
    from graphkit.io.erase import erase, erasure_key

    if args.source is None and not args.runs:
        raise UsageError("name where to erase from: --source PATH|neo4j and/or --runs PATH")
    erasure_key()  # refuse before connecting to anything when the key is not set
    ids = args.person_ids
    if args.pseudonymised:
        from graphkit.model.pseudonyms import pseudonym

        ids = [pseudonym(p, "person") for p in ids]
    if args.source == NEO4J:
        from graphkit.io.neo4j import Neo4jStore

        with Neo4jStore(wait=args.wait) as store:
            store.verify()
            report = erase(ids, store, runs=args.runs, wait=args.wait)
    else:
        report = erase(ids, args.source, runs=args.runs, wait=args.wait)

    def text() -> str:
        n = report.people
        if not report.total:
            return f"nothing to erase: none of the {n} id(s) is named in {_places(args)}"
        lines = [f"erased {n} id(s): {report.total} row(s) removed, logged at {report.at}"]
        for store, tables in report.removed.items():
            lines.append(f"  {store}: " + ", ".join(f"{t} {k}" for t, k in tables.items()))
        return "\n".join(lines)

    answer(args, report.to_dict(), text)
    return 0


def _places(args: argparse.Namespace) -> str:
    return ", ".join([*([args.source] if args.source else []), *(args.runs or [])])
