"""Communities of every topic: graphkit's own Leiden beside igraph's, on the same layers, side by side.

For each dataset (the bundled Ciao data, synthetic graphs of ``--sizes``
people, and any ``--source`` dataset folders, e.g. one made by
``graphkit generate DIR --people 1000000 --seed 1``) it runs
``topic_communities(graph, seed=0)`` for every topic three times, each in its
own child process (so that peak memory is the run's own):

- ``native, 2 threads``: graphkit's Leiden (numba), topics on 2 threads (the default);
- ``native, 1 thread``: the same, in the calling thread: its partitions must be
  identical to the 2-thread run's (printed);
- ``igraph, 2 processes``: igraph's ``community_leiden`` (``engine="igraph"``),
  topics in 2 loky worker processes.

Each child reads the data and builds the topic structure before the clock
starts (the score job shares them with the scores), then times the whole call
(layers, Leiden, relabelling, membership and summary; influence is passed in).
It prints wall seconds, CPU seconds (user + system of the process, plus the
Leiden CPU of igraph's worker processes), the peak resident memory the call
added (the process and its workers, sampled every 10 ms), the mean modularity
over topics and the largest per-topic gap to igraph's. The machine is shared:
the load average is printed beside every run and CPU s / 2 is what 2 idle
cores would take when both are kept busy. Results:
``benchmarks/results/bench_communities.csv``.

    python benchmarks/bench_communities.py [--sizes 100000] [--source /tmp/g1m] [--no-ciao] [--skip-igraph]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bench_communities.csv"
RUNS = (("native", 2), ("native", 1), ("igraph", 2))


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = [int(x) for x in fh.read().split()]
                out += kids
                todo += kids
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


class PeakMemory:
    """Highest resident memory of this process plus its descendants while the block runs (10 ms samples)."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        me = os.getpid()
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes(me) + sum(_rss_bytes(p) for p in _descendants(me)))
            self._stop.wait(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def load_graph(data: str):
    if data == "ciao":
        from graphkit.io.datasets import load_ciao

        return load_ciao()
    if data.startswith("synthetic:"):
        from graphkit.io.synthetic import generate

        return generate(n_people=int(data.split(":", 1)[1]), n_topics=16, seed=1)
    from graphkit.io.files import read_dataset

    return read_dataset(data)


def child(data: str, engine: str, threads: int) -> None:
    """One timed ``topic_communities`` call; prints one JSON line."""
    import numpy as np
    import polars as pl

    from graphkit import TopicGraph
    from graphkit.model.topics import topic_structure
    from graphkit.scoring.community import topic_communities

    graph = load_graph(data)
    topic_structure(graph)  # shared with the scores in a score job: built before the clock starts
    ids = graph.people["person_id"]
    influence = pl.concat([pl.DataFrame({"person_id": ids, "topic": t, "score": np.zeros(ids.len())})
                           for t in graph.topics])
    # Load the compiled code (numba's cache) and import igraph before the clock starts.
    tiny = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "c"]}), pl.DataFrame(
        {"src": ["a", "b"], "dst": ["b", "c"], "kind": ["shares", "shares"], "topic": [graph.topics[0]] * 2}))
    topic_communities(tiny, engine=engine, n_jobs=threads, influence=None)
    base = _rss_bytes(os.getpid())
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    with PeakMemory() as mem:
        res = topic_communities(graph, seed=0, engine=engine, n_jobs=threads, influence=influence)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if engine == "igraph" and res.parameters["n_jobs"] > 1:
        cpu += res.seconds["leiden_cpu"]  # the worker processes' Leiden
    digest = hashlib.sha256(res.membership.write_ipc(None).getvalue()).hexdigest()[:16]
    print(json.dumps({
        "wall_s": wall, "cpu_s": cpu, "leiden_wall_s": res.seconds["layers"], "summary_s": res.seconds["summary"],
        "peak_added_gb": max(mem.peak - base, 0) / 1e9, "people": graph.n_people, "topics": len(graph.topics),
        "modularity": res.modularity, "digest": digest, "load": (load + os.getloadavg()[0]) / 2,
    }))


def run_child(data: str, engine: str, threads: int) -> dict:
    argv = [sys.executable, __file__, "--child", data, engine, str(threads)]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000], help="synthetic graph sizes (people)")
    ap.add_argument("--source", nargs="*", default=[], help="dataset folders (graphkit generate / real data)")
    ap.add_argument("--no-ciao", action="store_true", help="skip the bundled Ciao data")
    ap.add_argument("--skip-igraph", action="store_true", help="native runs only (igraph's takes ~3x the CPU)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        data, engine, threads = args.child
        child(data, engine, int(threads))
        return
    import numpy as np
    import polars as pl

    datasets = ([] if args.no_ciao else ["ciao"]) + [f"synthetic:{n}" for n in args.sizes] + list(args.source)
    rows = []
    for data in datasets:
        found = {}
        for engine, threads in RUNS:
            if engine == "igraph" and args.skip_igraph:
                continue
            r = found[(engine, threads)] = run_child(data, engine, threads)
            rows.append({"data": data, "people": r["people"], "topics": r["topics"], "engine": engine,
                         "threads": threads, "wall_s": round(r["wall_s"], 2), "cpu_s": round(r["cpu_s"], 2),
                         "cpu_per_core_s": round(r["cpu_s"] / 2, 2), "leiden_wall_s": round(r["leiden_wall_s"], 2),
                         "summary_s": round(r["summary_s"], 2), "peak_added_gb": round(r["peak_added_gb"], 2),
                         "mean_modularity": round(float(np.mean(list(r["modularity"].values()))), 5),
                         "load": round(r["load"], 1), "digest": r["digest"]})
            print(f"{data:<22} {engine:<7} {threads} thr  wall {r['wall_s']:7.2f} s  cpu {r['cpu_s']:7.2f} s "
                  f"(cpu/2 {r['cpu_s'] / 2:6.2f} s)  peak +{r['peak_added_gb']:.2f} GB  "
                  f"modularity {rows[-1]['mean_modularity']:.5f}  load {r['load']:.1f}", flush=True)
        native, single = found[("native", 2)], found[("native", 1)]
        print(f"  native 1 thread == 2 threads: {native['digest'] == single['digest']}")
        if ("igraph", 2) in found:
            ref = found[("igraph", 2)]
            gaps = [native["modularity"][t] - ref["modularity"][t] for t in ref["modularity"]]
            print(f"  igraph / native: wall {ref['wall_s'] / native['wall_s']:.1f}x, cpu {ref['cpu_s'] / native['cpu_s']:.1f}x, "
                  f"peak {ref['peak_added_gb'] / max(native['peak_added_gb'], 1e-9):.1f}x; modularity native - igraph: "
                  f"mean {np.mean(gaps):+.5f}, per topic {min(gaps):+.5f} .. {max(gaps):+.5f}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_csv(RESULTS)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
