"""``graphkit pseudonymise``: write a copy of a dataset whose identifiers are keyed pseudonyms."""

from __future__ import annotations

import argparse

from graphkit.cli.common import DATASET_HELP, add_dataset_out, add_output, answer, load_graph


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pseudonymise", help="copy a dataset with person ids, customer ids, handles and order ids as keyed hashes",
        description="Read and validate a dataset and write it to OUT with every person id, customer id, handle "
                    "and order id replaced by its pseudonym (HMAC-SHA256 under the key in GRAPHKIT_PSEUDONYM_KEY), "
                    "the same in every table so joins still hold; people's names are dropped. Score the "
                    "pseudonymised dataset and no run holds a raw id. Only the key's holder can re-identify "
                    "(see --mapping and docs/privacy.md).",
    )
    p.add_argument("path", metavar="SRC", help=DATASET_HELP)
    add_dataset_out(p, "out", what="file format of OUT")
    p.add_argument("--mapping", metavar="FILE",
                   help="also write the key holder's lookup table (kind, value, pseudonym) to FILE (.parquet or "
                        ".csv); it holds the raw ids: keep it with the key, away from OUT")
    add_output(p)
    p.set_defaults(handler=_pseudonymise)


def _pseudonymise(args: argparse.Namespace) -> int:
    from graphkit.errors import GraphkitError
    from graphkit.io.files import write_dataset, write_table
    from graphkit.io.ownership import writable_folder
    from graphkit.model.pseudonyms import pseudonym_key, pseudonym_table, pseudonymise
    from graphkit.progress import step

    key = pseudonym_key()  # refuse before reading anything when the key is not set
    writable_folder(args.out, "dataset", force=args.force)
    if args.mapping and not args.mapping.endswith((".parquet", ".csv")):
        raise GraphkitError(f"--mapping writes a .parquet or .csv file, got {args.mapping!r}")
    graph = load_graph(args.path, quiet=args.quiet)
    with step("pseudonymising", enabled=not args.quiet):
        out = pseudonymise(graph, key=key)
    with step(f"writing {args.out} ({args.format})", enabled=not args.quiet):
        write_dataset(out, args.out, format=args.format, force=args.force, wait=args.wait)
    written = {"dataset": str(args.out)}
    if args.mapping:
        written["mapping"] = str(write_table(pseudonym_table(graph, key=key, kinds=("person", "customer", "handle",
                                                                                    "order")), args.mapping))
    counts = {"people": out.people.height, "customers": int(out.people["customer_id"].is_not_null().sum()),
              "handles": out.handles.height, "edges": out.edges.height, "transactions": out.transactions.height}
    answer(args, {"source": args.path, "written": written, "format": args.format, **counts},
           f"{args.out}: {counts['people']:,} people, {counts['customers']:,} customers, {counts['handles']:,} "
           f"handles pseudonymised (key from GRAPHKIT_PSEUDONYM_KEY)"
           + (f"; lookup table in {written['mapping']}" if args.mapping else ""))
    return 0
