"""``graphkit runs``: the score runs of a score folder or of Neo4j, with what each was made from."""

from __future__ import annotations

import argparse

from graphkit.cli.common import add_output, answer

NEO4J = "neo4j"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "runs", help="list the score runs of a score folder or of Neo4j, with their lineage",
        description="List every published score run, oldest first: its id, whether readers see it (current), "
                    "the graphkit version that wrote it, its parameters and the SHA-256 of each input table "
                    "(parameters.inputs), so that two runs on changed data never look alike.")
    p.add_argument("target", metavar="PATH|neo4j", help="a folder written by 'graphkit score --write PATH', or "
                                                          "neo4j (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD)")
    add_output(p, quiet=False)
    p.set_defaults(handler=_runs)


def _runs(args: argparse.Namespace) -> int:
    if args.target == NEO4J:
        from graphkit.io.neo4j import Neo4jStore

        with Neo4jStore() as store:
            store.verify()
            current = store.current_run_id()
            runs = [{"run_id": r.run_id, "current": r.run_id == current, "graphkit_version": r.version,
                     "parameters": r.parameters, "rows": r.rows, "status": r.status,
                     "finished": r.finished.isoformat() if r.finished else None}
                    for r in store.runs() if r.status == "complete"]
    else:
        from graphkit.io.score_folder import list_runs

        runs = list_runs(args.target)

    def text() -> str:
        if not runs:
            return f"{args.target}: no score runs"
        lines = []
        for r in runs:
            inputs = r["parameters"].get("inputs") or {}
            mark = "*" if r["current"] else " "
            lines.append(f"{mark} {r['run_id']}  graphkit {r['graphkit_version']}  "
                         f"rows {sum((r['rows'] or {}).values())}")
            for table, digest in sorted(inputs.items()):
                lines.append(f"    {table:<13} {digest[:19]}")
            if not inputs:
                lines.append("    (no input fingerprints: written before graphkit recorded lineage)")
        return "\n".join(lines)

    answer(args, {"target": args.target, "count": len(runs), "runs": runs}, text)
    return 0
