"""The whole ``graphkit score`` job beside a plain peer pipeline, at 100k, 1M and 10M people.

Each pipeline runs in its own child process on the same generated dataset
folder (``graphkit generate``), so its peak memory is its own (the child's
resident-set high-water mark from ``wait4``) and nothing is shared or warm:

- **graphkit**: ``graphkit score --source DIR --write OUT --json`` (stage
  times from its progress lines);
- **peer**: what a competent analyst writes without graphkit: polars reads the
  Parquet files and codes ids with a join, then for every topic an igraph graph
  of follows plus the topic's positive interactions, igraph's personalised
  PageRank (PRPACK) with teleport to the people active on the topic, igraph's
  Leiden (modularity, its default two iterations), percentiles with polars, RFM
  loyalty with polars, Parquet out;
- **engine**: graphkit's batched solver alone, to print updates per second per
  core (edge updates = live entries x sweeps) beside the GAP benchmark's
  reference PageRank (at most 98M edges/s per core on Twitter-2010).

The machine is shared: ``uptime`` load is printed beside every run, CPU seconds
(user + system) beside wall time, and ratios compare runs made back to back in
one invocation. Sizes whose projected peak
memory does not fit in the memory available now are skipped, saying so.

    python benchmarks/bench_pipeline.py --sizes 100000 1000000 [--skip-peer] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_pipeline.csv"
GAP_EDGES_PER_S_PER_CORE = 98e6  # GAP PageRank reference on Twitter-2010, per core (upper bound)
BYTES_PER_EDGE_GUESS = 400  # graphkit's peak per input edge, for the memory check before a size runs


def load() -> float:
    return os.getloadavg()[0]


def available_gb() -> float:
    with open("/proc/meminfo") as fh:
        info = dict(line.split(":", 1) for line in fh)
    return int(info["MemAvailable"].split()[0]) / 1e6


def child(argv: list[str]) -> tuple[float, float, str, str, float]:
    """Run a child process; return (wall seconds, peak RSS GB, stdout, stderr, CPU seconds).

    CPU seconds (user + system of the child and the processes it waited for) say what the
    job costs whatever else the shared machine runs; wall time depends on that load."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed:\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1e6, stdout, stderr, usage.ru_utime + usage.ru_stime


def stages(stderr: str) -> dict[str, float]:
    """Stage times from graphkit's progress lines ("<label>: done in 1.2 s")."""
    out = {}
    for label, seconds in re.findall(r"^(.*?): done(?: \(\d+/\d+\))? in ([0-9.]+) s$", stderr, flags=re.M):
        label = re.sub(r"^writing run \S+ to .*", "writing", label)
        label = re.sub(r"^reading .*", "reading", label)
        out[label] = float(seconds)
    return out


# ----------------------------------------------------------------- children
def run_engine(folder: str) -> None:
    """Batched solver alone on a dataset: prints JSON with solve seconds, sweeps and updates."""
    import numba
    import numpy as np

    from graphkit.io.files import read_dataset
    from graphkit.model.topics import topic_structure
    from graphkit.scoring.influence import topic_system
    from graphkit.scoring.linalg import solve_ppr

    g = read_dataset(folder)
    s = topic_structure(g)
    topics = [t for t in range(len(s.topics)) if s.activity_t[t].sum() > 0]
    t0 = time.perf_counter()
    system = topic_system(s, topics)
    built = time.perf_counter()
    sol = solve_ppr(system, damping_factor=0.85, max_iter=100, tol=1e-10)
    solved = time.perf_counter()
    per_topic = np.diff(system.indptr[system.offsets])
    updates = float((per_topic * sol.iterations).sum())
    print(json.dumps({"build_s": built - t0, "solve_s": solved - built, "updates": updates,
                      "threads": numba.get_num_threads(), "live_entries": int(system.nnz),
                      "sweeps_max": int(sol.iterations.max())}))


def run_peer(folder: str, out: str) -> None:
    """The plain pipeline a competent analyst writes: polars + igraph per topic + igraph Leiden."""
    import igraph as ig
    import numpy as np
    import polars as pl

    times = {}
    t = time.perf_counter()
    people = pl.read_parquet(f"{folder}/people.parquet", columns=["person_id", "customer_id"])
    ids = people.select("person_id").with_row_index("i")
    edges = (pl.scan_parquet(f"{folder}/edges.parquet")
             .select("src", "dst", "kind", "topic", "weight", "sign")
             .join(ids.lazy().rename({"person_id": "src", "i": "s"}), on="src")
             .join(ids.lazy().rename({"person_id": "dst", "i": "d"}), on="dst", how="left")
             .drop("src", "dst").collect())
    tx = pl.read_parquet(f"{folder}/transactions.parquet")
    times["reading"] = time.perf_counter() - t

    n = people.height
    t = time.perf_counter()
    follows = edges.filter((pl.col("kind") == "follows") & (pl.col("sign") > 0) & (pl.col("s") != pl.col("d")))
    fs, fd, fw = (follows[c].to_numpy() for c in ("s", "d", "weight"))
    activity = (edges.filter(pl.col("kind").is_in(["mentions", "replies", "shares", "reviews"]) & pl.col("topic").is_not_null())
                .group_by("topic", "s").len())
    labelled = edges.filter(pl.col("topic").is_not_null() & (pl.col("sign") > 0) & pl.col("d").is_not_null()
                            & (pl.col("s") != pl.col("d")))
    topics = sorted(activity["topic"].unique().to_list())
    frames, members, pr_s, leiden_s, layer_edges = [], [], 0.0, 0.0, 0
    for topic in topics:
        mine = labelled.filter(pl.col("topic") == topic)
        src = np.concatenate([fs, mine["s"].to_numpy()])
        dst = np.concatenate([fd, mine["d"].to_numpy()])
        w = np.concatenate([fw, mine["weight"].to_numpy()])
        act = activity.filter(pl.col("topic") == topic)
        reset = np.zeros(n)
        reset[act["s"].to_numpy()] = act["len"].to_numpy()
        g = ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=True)
        g.es["weight"] = w
        layer_edges += len(src)
        t1 = time.perf_counter()
        pr = np.asarray(g.personalized_pagerank(damping=0.85, reset=reset, weights="weight", implementation="prpack"))
        pr_s += time.perf_counter() - t1
        frames.append(pl.DataFrame({"i": np.arange(n, dtype=np.uint32), "topic": topic, "score": pr}))
        u = g.as_undirected(combine_edges="sum")
        u.delete_vertices(np.flatnonzero(np.asarray(u.degree()) == 0))
        t1 = time.perf_counter()
        part = u.community_leiden(objective_function="modularity", weights="weight")
        leiden_s += time.perf_counter() - t1
        members.append(pl.DataFrame({"topic": topic, "community": np.asarray(part.membership, dtype=np.uint32)}))
    influence = (pl.concat(frames)
                 .with_columns(percentile=100 * pl.col("score").rank("max").over("topic") / n)
                 .join(ids, on="i").drop("i"))
    times["influence + communities"] = time.perf_counter() - t
    t = time.perf_counter()
    last = tx["ts"].max()
    loyal = tx.group_by("customer_id").agg(
        recency_days=(last - pl.col("ts").max()).dt.total_seconds() / 86400,
        frequency=pl.col("order_id").n_unique(), monetary=pl.col("amount").sum(),
    ).with_columns(*(pl.col(c).rank().truediv(pl.len()).mul(5).ceil().alias(c + "_q")
                     for c in ("recency_days", "frequency", "monetary")))
    times["loyalty"] = time.perf_counter() - t
    t = time.perf_counter()
    Path(out).mkdir(parents=True, exist_ok=True)
    influence.write_parquet(f"{out}/influence.parquet")
    pl.concat(members).write_parquet(f"{out}/communities.parquet")
    loyal.write_parquet(f"{out}/loyalty.parquet")
    times["writing"] = time.perf_counter() - t
    print(json.dumps({"stages": times, "pagerank_s": pr_s, "leiden_s": leiden_s, "layer_edges": layer_edges}))


# --------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--keep", metavar="DIR", help="keep generated datasets here (reused when present)")
    ap.add_argument("--skip-peer", action="store_true", help="run graphkit only")
    ap.add_argument("--append", action="store_true", help="add to the results CSV instead of replacing it")
    ap.add_argument("--engine", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--peer", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine:
        return run_engine(args.engine)
    if args.peer:
        return run_peer(*args.peer)

    work = Path(args.keep or tempfile.mkdtemp(prefix="graphkit-bench-pipeline-"))
    py = sys.executable
    rows = []
    for n in args.sizes:
        need = n * 20 * BYTES_PER_EDGE_GUESS / 1e9
        if need > available_gb() * 0.9:
            print(f"{n:,} people: skipped, needs about {need:.0f} GB and {available_gb():.1f} GB is available now")
            continue
        data = work / f"g{n}"
        if not (data / "edges.parquet").exists():
            child([py, "-m", "graphkit", "generate", str(data), "--people", str(n), "--seed", "1", "--quiet"])
        import polars as pl

        n_edges = pl.scan_parquet(data / "edges.parquet").select(pl.len()).collect().item()
        runs = {}
        before = load()
        wall, peak, out, err, cpu = child([py, "-m", "graphkit", "score", "--source", str(data), "--write",
                                           str(work / f"out{n}"), "--json"])
        runs["graphkit"] = dict(wall=wall, peak=peak, cpu=cpu, stages=stages(err), load=before)
        before = load()
        _, _, out, _, _ = child([py, str(Path(__file__).resolve()), "--engine", str(data)])
        engine = json.loads(out.strip().splitlines()[-1])
        if not args.skip_peer:
            before = load()
            wall, peak, out, _, cpu = child([py, str(Path(__file__).resolve()), "--peer", str(data),
                                             str(work / f"peer{n}")])
            peer = json.loads(out.strip().splitlines()[-1])
            runs["peer"] = dict(wall=wall, peak=peak, cpu=cpu, stages=peer["stages"], load=before,
                                pagerank_s=peer["pagerank_s"], leiden_s=peer["leiden_s"])
        per_core = engine["updates"] / engine["solve_s"] / engine["threads"]
        print(f"\n{n:,} people, {n_edges:,} edges")
        for name, r in runs.items():
            ratio = r["wall"] / runs["graphkit"]["wall"]
            cpu_ratio = r["cpu"] / runs["graphkit"]["cpu"]
            print(f"  {name:9s} wall {r['wall']:7.1f} s  CPU {r['cpu']:7.1f} s  peak {r['peak']:5.2f} GB  "
                  f"({r['peak'] * 1e9 / n_edges:.0f} B/edge)  x{ratio:.2f} wall, x{cpu_ratio:.2f} CPU of graphkit  "
                  f"load {r['load']:.1f}")
            print("            " + ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items()))
        print(f"  engine    build {engine['build_s']:.2f} s, solve {engine['solve_s']:.2f} s, {engine['sweeps_max']} sweeps "
              f"max, {per_core / 1e6:.0f}M updates/s per core ({engine['threads']} threads); GAP reference PageRank "
              f"<= {GAP_EDGES_PER_S_PER_CORE / 1e6:.0f}M edges/s per core")
        for name, r in runs.items():
            rows.append({"people": n, "edges": n_edges, "pipeline": name, "wall_s": round(r["wall"], 2),
                         "cpu_s": round(r["cpu"], 2),
                         "peak_gb": round(r["peak"], 3), "bytes_per_edge": round(r["peak"] * 1e9 / n_edges),
                         "ratio_to_graphkit": round(r["wall"] / runs["graphkit"]["wall"], 2),
                         "cpu_ratio_to_graphkit": round(r["cpu"] / runs["graphkit"]["cpu"], 2),
                         "load": round(r["load"], 1), "stages": json.dumps(r["stages"]),
                         "engine_updates_per_s_per_core": round(per_core) if name == "graphkit" else ""})
    if rows:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        old = []
        if args.append and RESULTS.exists():
            with open(RESULTS, newline="") as fh:
                old = list(csv.DictReader(fh))
        with open(RESULTS, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), restval="")
            w.writeheader()
            w.writerows([{k: r.get(k, "") for k in rows[0]} for r in old] + rows)
        print(f"\nsaved {RESULTS}")


if __name__ == "__main__":
    main()
