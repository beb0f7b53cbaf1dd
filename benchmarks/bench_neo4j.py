"""Neo4j store throughput: batched write-back vs one row per transaction, and load, side by side.

    python benchmarks/bench_neo4j.py                 # bundled Ciao + synthetic 100k customers
    python benchmarks/bench_neo4j.py --full-ciao     # also load ALL of Ciao and check the flagship
                                                     # query against the embedded one (slow on ArcadeDB)

Against the server in NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD / NEO4J_DATABASE
when set (ITS graphkit DATA IS DELETED: use a throw-away database), else against
an ArcadeDB server started here (127.0.0.1, free port, stopped by its PID).

For each dataset: the database is cleared; every node is loaded (people, their
:Customer label, items) and up to ``--rel-rows`` relationships of each big
table (edges, purchases) -- rows/s per table; then the same score rows are
written back (a) by graphkit's batched ``write_scores`` (UNWIND $rows, one
transaction per batch) at several batch sizes and (b) by a naive loop of one
row per transaction (``--naive-rows`` rows, same Cypher) -- rows/s and the
ratio. Results: benchmarks/results/neo4j.csv and neo4j.png.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import signal
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "neo4j"))

from graphkit import __version__  # noqa: E402
from graphkit.io import neo4j as gneo4j  # noqa: E402
from graphkit.io.datasets import load_ciao  # noqa: E402
from graphkit.io.neo4j import Neo4jSettings, Neo4jStore  # noqa: E402
from graphkit.marketing.loyalty import influential_loyal_customers  # noqa: E402
from graphkit.scoring.influence import topic_influence  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _server():
    if os.environ.get("NEO4J_URI"):
        return None, Neo4jSettings.from_env(), "neo4j (NEO4J_URI)"
    from arcadedb import USER, ArcadeDBServer

    srv = ArcadeDBServer(heap="1500m")
    srv.wait_ready()
    return srv, Neo4jSettings(uri=srv.uri, user=USER, password=srv.password, database="graphkit"), "arcadedb 26.10.2 (Bolt)"


def _capped(graph, rel_rows: int):
    """Every node, and the first ``rel_rows`` rows of the edge and purchase tables."""
    if rel_rows <= 0:
        return graph
    return graph.replace(edges=graph.edges.head(rel_rows), transactions=graph.transactions.head(rel_rows))


def _naive(store: Neo4jStore, rows: list[dict], run_id: str) -> float:
    """One row per managed transaction, same Cypher as the batched path; returns seconds."""
    start = time.perf_counter()
    with store._session() as s:
        for r in rows:
            n = s.execute_write(gneo4j._count_rows, gneo4j.Q_WRITE_INFLUENCE,
                                {"rows": [r], "run_id": run_id, "owner": "bench"})
            assert n == 1
    return time.perf_counter() - start


def bench(name: str, graph, store: Neo4jStore, args, out: list[dict], backend: str) -> None:
    print(f"\n== {name}: {graph}", flush=True)
    store.clear(batch_size=20000)
    part = _capped(graph, args.rel_rows)
    report = store.load(part, batch_size=args.load_batch)
    for table, seconds in report.seconds_by_table.items():
        n = report.rows.get(table, part.people.filter(pl.col("customer_id").is_not_null()).height)
        if n:
            out.append(dict(dataset=name, backend=backend, what=f"load {table}", method="batched UNWIND MERGE",
                            batch_size=args.load_batch, rows=n, seconds=seconds, rows_per_s=n / seconds))
            print(f"load {table:<16} {n:>9,} rows {seconds:8.1f} s {n / seconds:10,.0f} rows/s", flush=True)

    t0 = time.perf_counter()
    topics = sorted(graph.topics)[: args.topics]
    influence = topic_influence(graph, topics=topics).table
    influence = influence.head(args.write_rows) if args.write_rows else influence
    print(f"influence on {len(topics)} topic(s) in {time.perf_counter() - t0:.1f} s; writing {influence.height:,} rows",
          flush=True)
    best = 0.0
    for bs in args.batch_sizes:
        # keep every run while measuring: pruning old runs is not part of the write being timed
        w = store.write_scores(influence=influence, run_id=f"bench-{name}-{bs}", batch_size=bs, keep_runs=99)
        rate = w.rows["influence"] / w.seconds
        best = max(best, rate)
        out.append(dict(dataset=name, backend=backend, what="write-back influence", method="graphkit batched",
                        batch_size=bs, rows=w.rows["influence"], seconds=w.seconds, rows_per_s=rate))
        print(f"write-back batched   batch {bs:>6,}: {w.rows['influence']:>9,} rows {w.seconds:8.1f} s "
              f"{rate:10,.0f} rows/s", flush=True)
    rows = gneo4j._records(influence.head(args.naive_rows))
    # a run being written by owner 'bench': the batches' run guard lets only its owner write rows
    store._write("MERGE (r:ScoreRun {run_id: 'bench-naive'}) SET r.status = 'writing', r.owner = 'bench' "
                 "RETURN count(*) AS n")
    seconds = _naive(store, rows, "bench-naive")
    naive = len(rows) / seconds
    out.append(dict(dataset=name, backend=backend, what="write-back influence", method="one row per transaction",
                    batch_size=1, rows=len(rows), seconds=seconds, rows_per_s=naive))
    print(f"write-back naive     1 row / tx : {len(rows):>9,} rows {seconds:8.1f} s {naive:10,.0f} rows/s", flush=True)
    print(f"ratio batched (best) / naive: {best / naive:.1f}x", flush=True)
    out.append(dict(dataset=name, backend=backend, what="ratio batched/naive", method="", batch_size=None, rows=None,
                    seconds=None, rows_per_s=best / naive))


def full_ciao(store: Neo4jStore, out: list[dict], backend: str) -> None:
    """Load all of Ciao, write influence on 3 topics, and compare the flagship query with the embedded one."""
    g = load_ciao()
    print(f"\n== full Ciao load and flagship check: {g}", flush=True)
    store.clear(batch_size=20000)
    report = store.load(g)
    print(f"loaded {report.total:,} rows in {report.seconds:.0f} s ({report.total / report.seconds:,.0f} rows/s)")
    out.append(dict(dataset="ciao (all)", backend=backend, what="load everything", method="batched UNWIND MERGE",
                    batch_size=report.batch_size, rows=report.total, seconds=report.seconds,
                    rows_per_s=report.total / report.seconds))
    t0 = time.perf_counter()
    back = store.read()
    seconds = time.perf_counter() - t0
    exact = all(back.tables()[k].equals(v) for k, v in g.tables().items())
    print(f"read back in {seconds:.0f} s; round trip exact: {exact}")
    topics = ["DVDs", "Beauty", "Books"]
    influence = topic_influence(g, topics=topics).table
    store.write_scores(influence=influence, run_id="full-ciao")
    same = True
    for opts in (dict(top_percentile=10, min_loyalty=0.5), dict(top_percentile=50, min_loyalty=0.25, window_days=365),
                 dict(top_percentile=100, min_loyalty=0.0)):
        t0 = time.perf_counter()
        a = store.influential_loyal_customers(topics=topics, **opts)
        t1 = time.perf_counter()
        b = influential_loyal_customers(g, topics=topics, influence=influence, **opts)
        t2 = time.perf_counter()
        same &= a.equals(b)
        print(f"flagship {opts}: neo4j {a.height} rows in {t1 - t0:.1f} s, embedded {b.height} rows in "
              f"{t2 - t1:.2f} s, equal: {a.equals(b)}")
    out.append(dict(dataset="ciao (all)", backend=backend, what=f"round trip exact={exact}, flagship equal={same}",
                    method="", batch_size=None, rows=None, seconds=seconds, rows_per_s=None))


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # tables of a few rows (topics, communities) measure per-transaction latency, not throughput: left out
    data = [r for r in rows if r["rows_per_s"] and r["what"] != "ratio batched/naive" and int(r["rows"] or 0) >= 1000]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(data) + 1.2))
    labels = [f"{r['dataset']}: {r['what']} ({r['method']}, batch {r['batch_size']})" for r in data]
    colors = ["tab:red" if r["method"] == "one row per transaction" else
              "tab:blue" if r["what"].startswith("write") else "tab:gray" for r in data]
    ax.barh(range(len(data)), [float(r["rows_per_s"]) for r in data], color=colors)
    ax.set_yticks(range(len(data)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("rows per second (log scale)")
    fig.suptitle(f"Load (grey) and write-back: batched (blue) vs one row per transaction (red), "
                 f"on {data[0]['backend'] if data else ''}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rel-rows", type=int, default=30_000, help="rows of edges and of purchases loaded (0 = all)")
    p.add_argument("--write-rows", type=int, default=30_000, help="score rows written back (0 = all)")
    p.add_argument("--naive-rows", type=int, default=1_000, help="rows written one per transaction")
    p.add_argument("--topics", type=int, default=4, help="topics scored (rows = people x topics)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    p.add_argument("--load-batch", type=int, default=5_000)
    p.add_argument("--customers", type=int, default=100_000, help="customers of the synthetic graph")
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--full-ciao", action="store_true", help="also load all of Ciao and check the flagship query")
    p.add_argument("--plot-only", action="store_true", help="redraw neo4j.png from neo4j.csv and stop")
    args = p.parse_args()
    if args.plot_only:
        with open(RESULTS / "neo4j.csv") as f:
            plot(list(csv.DictReader(f)), RESULTS / "neo4j.png")
        return 0

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a TERM unwinds: the finally stops the server
    server, settings, backend = _server()
    out: list[dict] = []
    try:
        with Neo4jStore(settings, batch_size=args.load_batch) as store:
            bench("ciao", load_ciao(), store, args, out, backend)
            save(out)
            if not args.skip_synthetic:
                from graphkit.io.synthetic import generate

                share = 0.3
                g = generate(n_people=int(round(args.customers / share)), customer_share=share, seed=0)
                bench(f"synthetic {args.customers // 1000}k customers", g, store, args, out, backend)
                save(out)
            if args.full_ciao:
                full_ciao(store, out, backend)
                save(out)
    finally:
        if server is not None:
            server.stop()
    print(f"\nwrote {RESULTS / 'neo4j.csv'} and {RESULTS / 'neo4j.png'}")
    return 0


def save(out: list[dict]) -> None:
    """CSV and figure of everything measured so far (a long run that fails later keeps its numbers)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(RESULTS / "neo4j.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["dataset", "backend", "what", "method", "batch_size", "rows", "seconds",
                                          "rows_per_s", "graphkit", "machine", "when"])
        w.writeheader()
        for r in out:
            w.writerow({**r, "graphkit": __version__, "machine": f"{platform.machine()} {os.cpu_count()} cpu",
                        "when": stamp})
    plot(out, RESULTS / "neo4j.png")


if __name__ == "__main__":
    raise SystemExit(main())
