"""Neo4j store throughput: batched write-back vs one row per transaction, and load, side by side.

    python benchmarks/bench_neo4j.py                 # bundled Ciao + synthetic 100k customers
    python benchmarks/bench_neo4j.py --full-ciao     # also load ALL of Ciao and check the flagship
                                                     # query against the embedded one (slow on ArcadeDB)
    python benchmarks/bench_neo4j.py --writeback DATASET RUNS [DATASET RUNS ...] --before REV
                                                     # write-back of whole score runs (graphkit score
                                                     # --write RUNS on DATASET): this tree beside git
                                                     # revision REV, side by side
    python benchmarks/bench_neo4j.py --writeback DATASET RUNS --repeat 3 --no-people
                                                     # the steady state: the third write also deletes
                                                     # the oldest run (2 runs kept)
    python benchmarks/bench_neo4j.py --row-shapes RUNS  # server CPU per row written, by statement shape

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
# the write-back child imports the graphkit under test (an earlier revision for the "before" column)
sys.path.insert(0, sys.argv[sys.argv.index("--graphkit-root") + 1] if "--graphkit-root" in sys.argv else str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "neo4j"))

from graphkit import __version__  # noqa: E402
from graphkit.io.neo4j import store as gstore  # noqa: E402
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
    from graphkit.io.neo4j.cypher import INFLUENCE_ROW_PROPERTIES, create_rows

    query = create_rows("InfluenceRow", INFLUENCE_ROW_PROPERTIES, per_batch=("topic",))
    start = time.perf_counter()
    with store._session() as s:
        for i, r in enumerate(rows):
            values = {p: [r.get(p)] for p in INFLUENCE_ROW_PROPERTIES}
            n = s.execute_write(gstore._count_rows, query, {"c": values, "run_id": run_id, "owner": "bench",
                                                            "topic": r["topic"], "batch_key": f"naive/{i}"})
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
    rows = gstore._records(influence.head(args.naive_rows))
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


def flagship_ciao(store: Neo4jStore, out: list[dict], backend: str, repeats: int = 3, purchased: bool = True) -> None:
    """The flagship query on all of Ciao: over the run's loyalty rows, over PURCHASED, and embedded.

    Loads Ciao's people, items and 284k purchases (edges are not read by the query: one is loaded),
    writes the ranking of DVDs, Beauty and Books with loyalty as ``graphkit score`` does (run
    ``with-loyalty``) and once without loyalty (run ``without-loyalty``: the query then recomputes
    loyalty from every purchase), and times each query (median of ``repeats``) beside the embedded
    one on the same influence table, checking the rows are equal.
    """
    from graphkit.marketing.loyalty import loyalty

    g = load_ciao()
    part = g.replace(edges=g.edges.head(1))
    print(f"\n== flagship query on all of Ciao ({g})", flush=True)
    store.clear(batch_size=20000)
    t0 = time.perf_counter()
    store.load(part)
    print(f"loaded people, items and {g.transactions.height:,} purchases in {time.perf_counter() - t0:.0f} s",
          flush=True)
    topics = ["DVDs", "Beauty", "Books"]
    influence = topic_influence(g, topics=topics).table
    as_of = g.transactions["ts"].max()
    store.write_scores(influence=influence, loyalty=loyalty(g), run_id="with-loyalty", loyalty_as_of=as_of)
    if purchased:
        store.write_scores(influence=influence, run_id="without-loyalty")
    for opts in (dict(top_percentile=10, min_loyalty=0.5), dict(top_percentile=50, min_loyalty=0.25, limit=20),
                 dict(top_percentile=100, min_loyalty=0.0)):
        b = influential_loyal_customers(g, topics=topics, influence=influence, **opts)
        times = {}
        for name, run in (("run's loyalty", "with-loyalty"), ("PURCHASED", "without-loyalty"), ("embedded", None)):
            if run == "without-loyalty" and not purchased:
                continue
            seconds = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                a = (store.influential_loyal_customers(topics=topics, run_id=run, **opts) if run else
                     influential_loyal_customers(g, topics=topics, influence=influence, **opts))
                seconds.append(time.perf_counter() - t0)
                assert a.equals(b), (name, opts)
            times[name] = sorted(seconds)[len(seconds) // 2]
        print(f"flagship {opts}: {b.height} rows, equal in all {len(times)}; median of {repeats}: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()), flush=True)
        for name, seconds in times.items():
            out.append(dict(dataset="ciao (all)", backend=backend if name != "embedded" else "polars",
                            what=f"flagship {opts}", method=name, batch_size=None, rows=b.height, seconds=seconds,
                            rows_per_s=None))


# ------------------------------------------------------------ write-back of a whole run
def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def writeback_child(args) -> int:
    """One write-back, in its own process (graphkit imported from ``--graphkit-root``): JSON on stdout.

    A fresh ArcadeDB holds the run's people (and topics, items, communities; one
    edge); then ``write_scores`` writes the run as ``graphkit score --write neo4j``
    would (influence rows ``--rows``, communities, loyalty and whatever else the
    graphkit under test writes), timed with the client's peak memory and both
    processes' CPU seconds. ``--max-rows`` writes the first rows of each table only.
    """
    import inspect
    import json
    import threading

    import graphkit.io.neo4j as gk_neo4j
    from graphkit import TopicGraph
    from graphkit.io.score_folder import current_run
    from arcadedb import USER, ArcadeDBServer

    dataset, runs = Path(args.dataset), Path(args.runs)
    run = current_run(runs)
    people = pl.read_parquet(dataset / "people.parquet")
    n_people = people.height
    if args.no_people:  # the run's rows are nodes of their own, linked to no Person: loading 1M people takes 13 min
        people = people.head(2)
    ids = people["person_id"]
    edge = pl.DataFrame({"src": [ids[0]], "dst": [ids[1]], "kind": ["follows"]})
    extra = {n: pl.read_parquet(dataset / f"{n}.parquet") for n in ("items", "communities")
             if (dataset / f"{n}.parquet").exists()}
    graph = TopicGraph.from_tables(people, edge, **extra)
    tables = {n: pl.read_parquet(run / f"{n}.parquet") for n in ("influence", "communities", "loyalty",
                                                                  "community_summary") if (run / f"{n}.parquet").exists()}
    meta = json.loads((run / "run.json").read_text())
    if args.max_rows:
        tables = {n: t.head(args.max_rows) if n != "influence" else
                  t.filter(pl.col("score") > 0).head(args.max_rows) for n, t in tables.items()}
    server = ArcadeDBServer(heap=args.heap)
    out: dict = {"graphkit_root": args.graphkit_root, "people": n_people, "people_loaded": people.height,
                 "table_rows": {n: t.height for n, t in tables.items()}}
    try:
        server.wait_ready()
        settings = gk_neo4j.Neo4jSettings(uri=server.uri, user=USER, password=server.password, database="graphkit")
        with gk_neo4j.Neo4jStore(settings, batch_size=args.load_batch) as store:
            t0 = time.perf_counter()
            store.load(graph)
            out["setup_seconds"] = time.perf_counter() - t0
            accepted = inspect.signature(store.write_scores).parameters
            kwargs = dict(influence=tables["influence"], communities=tables.get("communities"),
                          loyalty=tables.get("loyalty"), run_id="bench", parameters=meta.get("parameters"),
                          influence_rows=args.rows if args.rows in ("all", "nonzero") else float(args.rows))
            if "community_summary" in accepted:  # what graphkit score passes (see graphkit.cli.batch)
                kwargs["community_summary"] = tables.get("community_summary")
                tx = dataset / "transactions.parquet"
                if tx.exists() and meta.get("parameters", {}).get("as_of") is None:
                    kwargs["loyalty_as_of"] = pl.scan_parquet(tx).select(pl.col("ts").max()).collect().item()
                    kwargs["loyalty_window_days"] = meta.get("parameters", {}).get("window_days")
                kwargs["check_people"] = False  # loaded just before, as graphkit score does under its lock
            if "batch_size" in accepted and args.batch:
                kwargs["batch_size"] = args.batch
            if args.writers > 1:
                kwargs["writers"] = args.writers
            peak, stop = [_rss_mb()], threading.Event()

            def sample() -> None:
                while not stop.wait(0.05):
                    peak[0] = max(peak[0], _rss_mb())

            sampler = threading.Thread(target=sample, daemon=True)
            out["client_rss_before_mb"] = peak[0]
            cpu0, scpu0 = time.process_time(), _cpu_s(server.pid)
            sampler.start()
            t0 = time.perf_counter()
            report = store.write_scores(**kwargs)
            out["seconds"] = time.perf_counter() - t0
            stop.set()
            sampler.join()
            out.update(client_peak_mb=max(peak[0], _rss_mb()), client_cpu_s=time.process_time() - cpu0,
                       server_cpu_s=_cpu_s(server.pid) - scpu0, rows=report.rows, total=report.total)
            out["rows_per_s"] = report.total / out["seconds"]
            out["again"] = []
            for i in range(2, args.repeat + 1):  # the same run again under new ids: from the third on, each
                kwargs.update(run_id=f"bench-{i}", keep_runs=2)  # write also deletes the oldest run (2 kept)
                cpu0, scpu0, t0 = time.process_time(), _cpu_s(server.pid), time.perf_counter()
                store.write_scores(**kwargs)
                out["again"].append(dict(seconds=time.perf_counter() - t0, client_cpu_s=time.process_time() - cpu0,
                                         server_cpu_s=_cpu_s(server.pid) - scpu0, runs_deleted=max(0, i - 2),
                                         load=os.getloadavg()[0]))
    finally:
        server.stop()
    print(json.dumps(out))
    return 0


def row_shapes(args) -> None:
    """Server and client CPU per row written, for several shapes of the same batch of rows, side by side on
    one fresh ArcadeDB (4 GB heap): the layout's columns statement, a list per row, a map per row, fewer
    properties, and loyalty rows with and without an index on ``person_id``. Each shape writes
    ``--shape-rows`` rows in transactions of 20,000, twice (the first pass warms the server up)."""
    from graphkit.io.score_folder import current_run
    from arcadedb import USER, ArcadeDBServer

    import neo4j

    run = current_run(Path(args.row_shapes))
    n = args.shape_rows
    infl = pl.read_parquet(run / "influence.parquet").filter(pl.col("score") > 0).head(n)
    infl = infl.with_columns(community=pl.lit(3, pl.Int64))
    loyal = pl.read_parquet(run / "loyalty.parquet").head(n)
    iprops = list(gstore.INFLUENCE_ROW_PROPERTIES)
    lprops = list(gstore.LOYALTY_ROW_PROPERTIES)
    fixed = ["run_id: $run_id", "topic: $topic"]

    def columns(label: str, props: list[str]) -> str:
        fields = fixed + [f"{x}: $c.{x}[i]" for x in props]
        return (f"UNWIND range(0, size($c.{props[0]}) - 1) AS i CREATE (:{label} {{{', '.join(fields)}}}) "
                f"RETURN count(*) AS n")

    def lists(label: str, props: list[str]) -> str:
        fields = fixed + [f"{x}: r[{k}]" for k, x in enumerate(props)]
        return f"UNWIND $rows AS r CREATE (:{label} {{{', '.join(fields)}}}) RETURN count(*) AS n"

    def maps(label: str, props: list[str]) -> str:
        return f"UNWIND $rows AS r CREATE (x:{label}) SET x = r, x.run_id = $run_id, x.topic = $topic RETURN count(*) AS n"

    server = ArcadeDBServer(heap=args.heap)
    try:
        server.wait_ready()
        with neo4j.GraphDatabase.driver(server.uri, auth=(USER, server.password)) as driver, \
                driver.session(database="graphkit") as session:
            session.run("CREATE INDEX bench_loyalty_person IF NOT EXISTS FOR (n:LoyaltyIndexed) ON (n.person_id)").consume()

            def write(name: str, label: str, props: list[str], table: pl.DataFrame, shape) -> None:
                query = shape(label, props)
                cpu0, scpu0, t0 = time.process_time(), _cpu_s(server.pid), time.perf_counter()
                for start in range(0, table.height, 20_000):
                    part = table.slice(start, 20_000).select(props)
                    if shape is columns:
                        params = {"c": {c: part[c].to_list() for c in props}}
                    else:
                        params = {"rows": part.rows() if shape is lists else part.to_dicts()}
                    params.update(run_id="20240101T000000Z-0123abcd", topic="books")
                    done = session.execute_write(lambda tx: tx.run(query, params).single()["n"])
                    assert done == part.height, (name, done, part.height)
                server_s = _cpu_s(server.pid) - scpu0
                print(f"{name:<40} {table.height:>8,} {time.perf_counter() - t0:>7.2f} {time.process_time() - cpu0:>7.2f} "
                      f"{server_s:>7.2f} {server_s / table.height * 1e6:>8.1f}  (load {os.getloadavg()[0]:.1f})",
                      flush=True)

            print(f"{'shape':<40} {'rows':>8} {'wall s':>7} {'client':>7} {'server':>7} {'server us/row':>8}")
            for attempt in (1, 2):
                print(f"-- pass {attempt}" + (" (the server warms up)" if attempt == 1 else ""))
                write("influence: columns (graphkit's)", f"Influence{attempt}", iprops, infl, columns)
                write("influence: a list per row", f"InfluenceList{attempt}", iprops, infl, lists)
                write("influence: a map per row", f"InfluenceMap{attempt}", iprops, infl, maps)
                write("influence: columns, 5 of 8 properties", f"InfluenceFew{attempt}", iprops[:4] + iprops[-1:],
                      infl, columns)
                write("loyalty: columns, no index (graphkit's)", f"Loyalty{attempt}", lprops, loyal, columns)
                write("loyalty: columns, index on person_id", "LoyaltyIndexed", lprops, loyal, columns)
    finally:
        server.stop()


def _tree_of(rev: str) -> str:
    """A folder holding graphkit as it was at git revision ``rev`` (extracted once)."""
    import subprocess
    import tempfile

    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True, capture_output=True,
                         text=True).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"graphkit-bench-{sha}"
    if not (folder / "graphkit").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "graphkit"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return str(folder)


def writeback(args, out: list[dict]) -> None:
    """Each (dataset, score folder) pair written back by revision ``--before`` and by this tree, side by side."""
    import json
    import subprocess

    pairs = list(zip(args.writeback[::2], args.writeback[1::2]))
    trees = ([("before " + args.before, _tree_of(args.before))] if args.before else []) + [("after", str(ROOT))]
    print(f"{'dataset':<22} {'graphkit':<16} {'rows written':>13} {'wall s':>8} {'rows/s':>9} {'client peak':>12} "
          f"{'client cpu':>10} {'server cpu':>10}", flush=True)
    for dataset, runs in pairs:
        for label, tree in trees:
            cmd = [sys.executable, __file__, "--writeback-child", "--graphkit-root", tree, "--dataset", dataset,
                   "--runs", runs, "--rows", str(args.rows), "--heap", args.heap, "--load-batch", str(args.load_batch),
                   "--repeat", str(args.repeat), "--writers", str(args.writers), "--batch", str(args.batch)]
            if args.no_people:
                cmd.append("--no-people")
            max_rows = args.before_max_rows if label != "after" else 0
            if max_rows:
                cmd += ["--max-rows", str(max_rows)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{dataset}: {label} failed:\n{done.stderr[-3000:]}", flush=True)
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            name = f"{Path(dataset).name} ({r['people'] // 1000}k people)"
            note = f" (first {max_rows:,} rows of each table)" if max_rows else ""
            print(f"{name:<22} {label:<16} {r['total']:>13,} {r['seconds']:>8.1f} {r['rows_per_s']:>9,.0f} "
                  f"{r['client_peak_mb']:>9,.0f} MB {r['client_cpu_s']:>10.1f} {r['server_cpu_s']:>10.1f}{note}",
                  flush=True)
            print(f"{'':<22} {'':<16} rows by table: {r['rows']}; setup (load {r.get('people_loaded', r['people']):,} "
                  f"people) {r['setup_seconds']:.0f} s",
                  flush=True)
            for i, again in enumerate(r.get("again", []), start=2):
                print(f"{'':<22} {'write ' + str(i):<16} {r['total']:>13,} {again['seconds']:>8.1f} "
                      f"{r['total'] / again['seconds']:>9,.0f} {'':>12} {again['client_cpu_s']:>10.1f} "
                      f"{again['server_cpu_s']:>10.1f} (deleting {again['runs_deleted']} old run(s); load "
                      f"{again['load']:.1f})", flush=True)
                out.append(dict(dataset=name, backend="arcadedb 26.10.2 (Bolt)",
                                what=f"write-back run ({args.rows}), write {i} (deletes {again['runs_deleted']} old run)",
                                method=label + note, batch_size=args.batch or None, rows=r["total"],
                                seconds=again["seconds"], rows_per_s=r["total"] / again["seconds"],
                                client_cpu_s=round(again["client_cpu_s"], 1),
                                server_cpu_s=round(again["server_cpu_s"], 1)))
            out.append(dict(dataset=name, backend="arcadedb 26.10.2 (Bolt)", what=f"write-back run ({args.rows})",
                            method=label + note, batch_size=args.batch or None, rows=r["total"], seconds=r["seconds"],
                            rows_per_s=r["rows_per_s"], client_peak_mb=round(r["client_peak_mb"]),
                            client_cpu_s=round(r["client_cpu_s"], 1), server_cpu_s=round(r["server_cpu_s"], 1),
                            detail=json.dumps(r["rows"], sort_keys=True)))


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
    p.add_argument("--flagship", action="store_true",
                   help="only time the flagship query on all of Ciao (run's loyalty, PURCHASED, embedded)")
    p.add_argument("--no-purchased", action="store_true",
                   help="with --flagship: time the query over the run's loyalty only (not the one over PURCHASED)")
    p.add_argument("--plot-only", action="store_true", help="redraw neo4j.png from neo4j.csv and stop")
    p.add_argument("--writeback", nargs="+", metavar="DATASET RUNS",
                   help="write back the current run of each score folder RUNS made from DATASET (pairs)")
    p.add_argument("--before", metavar="REV", help="with --writeback: also run git revision REV's graphkit, beside")
    p.add_argument("--before-max-rows", type=int, default=0,
                   help="with --before: the earlier revision writes only the first N rows of each table")
    p.add_argument("--rows", default="nonzero", help="influence rows written: nonzero, all or a top percent")
    p.add_argument("--heap", default="4g", help="ArcadeDB heap for --writeback")
    p.add_argument("--writeback-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--graphkit-root", default=str(ROOT), help=argparse.SUPPRESS)
    p.add_argument("--dataset", help=argparse.SUPPRESS)
    p.add_argument("--runs", help=argparse.SUPPRESS)
    p.add_argument("--max-rows", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=0, help="with --writeback: rows per transaction (default: the store's)")
    p.add_argument("--writers", type=int, default=1, help="with --writeback: sessions writing batches at once")
    p.add_argument("--repeat", type=int, default=1,
                   help="with --writeback: write the run N times (2 runs kept: from the third on, each write also "
                        "deletes the oldest run); with --flagship: times each query N times (median; default 3)")
    p.add_argument("--no-people", action="store_true",
                   help="with --writeback: load 2 people, not all (the run's rows are not linked to Person nodes)")
    p.add_argument("--row-shapes", metavar="RUNS",
                   help="server CPU per row for several statement shapes, on rows of the score folder RUNS")
    p.add_argument("--shape-rows", type=int, default=200_000, help="with --row-shapes: rows written per shape")
    args = p.parse_args()
    if args.row_shapes:
        row_shapes(args)
        return 0
    if args.writeback_child:
        return writeback_child(args)
    if args.writeback:
        if len(args.writeback) % 2:
            p.error("--writeback takes pairs: DATASET RUNS [DATASET RUNS ...]")
        out: list[dict] = []
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        writeback(args, out)
        save(out, RESULTS / "neo4j_writeback.csv")
        return 0
    if args.plot_only:
        with open(RESULTS / "neo4j.csv") as f:
            plot(list(csv.DictReader(f)), RESULTS / "neo4j.png")
        return 0

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a TERM unwinds: the finally stops the server
    server, settings, backend = _server()
    out: list[dict] = []
    try:
        if args.flagship:
            with Neo4jStore(settings, batch_size=args.load_batch) as store:
                flagship_ciao(store, out, backend, repeats=args.repeat if args.repeat > 1 else 3,
                              purchased=not args.no_purchased)
            save(out, RESULTS / "neo4j_flagship.csv")
            return 0
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


def save(out: list[dict], path: Path = RESULTS / "neo4j.csv") -> None:
    """CSV (and, for the throughput table, its figure) of everything measured so far (a long run that fails
    later keeps its numbers)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    fields = ["dataset", "backend", "what", "method", "batch_size", "rows", "seconds", "rows_per_s"]
    fields += [k for r in out for k in r if k not in fields]
    fields = list(dict.fromkeys(fields)) + ["graphkit", "machine", "load", "when"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in out:
            w.writerow({**r, "graphkit": __version__, "machine": f"{platform.machine()} {os.cpu_count()} cpu",
                        "load": load, "when": stamp})
    if path.name == "neo4j.csv":
        plot(out, RESULTS / "neo4j.png")


if __name__ == "__main__":
    raise SystemExit(main())
