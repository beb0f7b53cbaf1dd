"""Cost of rank uncertainty: 100 bootstrap resamples of topic influence, batched vs a loop of re-scorings.

    python benchmarks/bench_uncertainty.py                        # Ciao and 100k people (a few minutes)
    python benchmarks/bench_uncertainty.py --sizes 20000 --naive 20

For each dataset (bundled Ciao; synthetic graphs of ``--sizes`` people, ~10
follows each, 16 topics) it times, in this process, on a fresh copy of the
graph each time (nothing cached from an earlier run):

* ``one scoring`` -- ``topic_influence(graph)``: structure, solve, table;
* ``batched`` -- ``topic_influence(graph, uncertainty=R)``: the same plus R
  resamples solved as extra columns of the batched solver, and the
  summaries (intervals, p_top_k, stability);
* ``naive loop`` -- the peer: :func:`graphkit.scoring.uncertainty.bootstrap`
  with ``topic_influence`` as the score, i.e. R times: resample the edge
  rows, build the structure, solve, and the same summaries. With ``--naive``
  smaller than R it runs that many and scales the time to R (said in the
  ``naive_runs`` column);
* the registry's default score (whichever it is): one ranking, and
  ``rank_uncertainty`` with R resamples (drawn in closed form for
  ``posts_x_active_new_followers``, re-scored for a score without one),
  each ``--repeat`` times (the least CPU seconds of each kept: a busy
  machine only adds to them). ``--only default`` runs just this part.

Wall seconds (the machine is shared: the best of ``--repeat`` for the
single scoring), CPU seconds of the process (all threads; steadier on a
busy machine), the ratio of each to one scoring, and the peak increase of
the resident set (kernel high-water mark). Results go to
``benchmarks/results/bench_uncertainty.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_influence import PeakMemory  # noqa: E402

from graphkit.errors import GraphkitError  # noqa: E402
from graphkit.io.datasets import load_ciao  # noqa: E402
from graphkit.io.synthetic import generate  # noqa: E402
from graphkit.model.graph import EDGE_INDEX, TopicGraph  # noqa: E402
from graphkit.scoring.influence import topic_influence  # noqa: E402
from graphkit.scoring.registry import rank_uncertainty, ranking  # noqa: E402
from graphkit.scoring import linalg, uncertainty  # noqa: E402
from graphkit.scoring.uncertainty import bootstrap  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def fresh(graph: TopicGraph) -> TopicGraph:
    """The same tables with no cached views (structure, matrices): every run starts cold."""
    g = TopicGraph(people=graph.people, edges=graph.edges, items=graph.items, communities=graph.communities,
                   transactions=graph.transactions, handles=graph.handles, source=graph.source)
    g._views[EDGE_INDEX] = graph.edge_index
    return g


def timed(fn):
    with PeakMemory() as mem:
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - w, time.process_time() - c
    return wall, cpu, mem.increase, out


#: (phase, module, function): where the batched resamples of topic influence spend their time.
PHASES = (
    ("draws (Poisson counts of rows and contributions)", linalg, "_draw_counts"),
    ("draws (Poisson counts of rows and contributions)", linalg, "_draw_activity"),
    ("solver sweeps (all resamples, set-up per chunk included)", linalg, "_resampled_ppr"),
    ("resample system (structure -> entries with origins)", linalg.ResampleSystem, "build"),
    ("ranks within each resample", linalg, "rank_columns"),
    ("interval ends, p_top_k (per person)", linalg, "row_summary"),
    ("summaries in all (ranks, ends, stability, table)", uncertainty, "summarise"),
)


def phases(graph: TopicGraph, resamples: int) -> list[tuple[str, float, float]]:
    """CPU and wall seconds of each phase of ``topic_influence(graph, uncertainty=resamples)``, by timing the
    functions of :data:`PHASES` (patched for the run, restored after)."""
    spent: dict[str, list[float]] = {}
    saved = []
    for label, owner, attr in PHASES:
        fn = owner.__dict__[attr]
        saved.append((owner, attr, fn))
        inner = fn.__func__ if isinstance(fn, classmethod) else fn

        def timed_call(*a, _inner=inner, _label=label, **k):
            w, c = time.perf_counter(), time.process_time()
            try:
                return _inner(*a, **k)
            finally:
                t = spent.setdefault(_label, [0.0, 0.0])
                t[0] += time.process_time() - c
                t[1] += time.perf_counter() - w

        setattr(owner, attr, classmethod(timed_call) if isinstance(fn, classmethod) else timed_call)
    try:
        w, c = time.perf_counter(), time.process_time()
        topic_influence(fresh(graph), uncertainty=resamples)
        total = (time.process_time() - c, time.perf_counter() - w)
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)
    return [("all (one scoring + resamples + summaries)", *total)] + [(k, v[0], v[1]) for k, v in spent.items()]


def run(name: str, graph: TopicGraph, resamples: int, naive: int, repeat: int, only: str = "all") -> list[dict]:
    if only == "default":
        return run_default(name, graph, resamples, repeat)
    topic_influence(fresh(graph), uncertainty=2)  # compile the kernels outside the timings
    ones = [timed(lambda: topic_influence(fresh(graph))) for _ in range(repeat)]
    one_wall, one_cpu, one_mem, _ = min(ones, key=lambda r: r[0])
    one_cpu = min(r[1] for r in ones)
    rows = [{"dataset": name, "people": graph.n_people, "method": "one scoring", "resamples": 0,
             "seconds": one_wall, "cpu_seconds": one_cpu, "x_one_wall": 1.0, "x_one_cpu": 1.0,
             "peak_mem_mb": one_mem / 2**20, "naive_runs": ""}]
    wall, cpu, mem, res = timed(lambda: topic_influence(fresh(graph), uncertainty=resamples))
    rows.append({"dataset": name, "people": graph.n_people, "method": "batched", "resamples": resamples,
                 "seconds": wall, "cpu_seconds": cpu, "x_one_wall": wall / one_wall, "x_one_cpu": cpu / one_cpu,
                 "peak_mem_mb": mem / 2**20, "naive_runs": ""})
    sweeps = res.parameters["uncertainty"]["iterations"]
    topics = res.parameters["topics"]
    n = min(naive, resamples)
    wall, cpu, mem, _ = timed(lambda: bootstrap(fresh(graph), lambda g: topic_influence(g, topics=topics).table,
                                                resamples=n, seed=0))
    scale = resamples / n
    rows.append({"dataset": name, "people": graph.n_people, "method": "naive loop", "resamples": resamples,
                 "seconds": wall * scale, "cpu_seconds": cpu * scale, "x_one_wall": wall * scale / one_wall,
                 "x_one_cpu": cpu * scale / one_cpu, "peak_mem_mb": mem / 2**20,
                 "naive_runs": n if n < resamples else ""})
    print(f"{name}: {len(topics)} topics, resample sweeps up to {sweeps}", flush=True)
    for label, cpu_s, wall_s in phases(graph, resamples):
        print(f"  {label:<60}{cpu_s:8.2f} CPU s{wall_s:8.2f} wall s", flush=True)
        rows.append({"dataset": name, "people": graph.n_people, "method": f"phase: {label}",
                     "resamples": resamples, "seconds": wall_s, "cpu_seconds": cpu_s, "x_one_wall": wall_s / one_wall,
                     "x_one_cpu": cpu_s / one_cpu, "peak_mem_mb": "", "naive_runs": ""})
    if only == "all":
        rows += run_default(name, graph, resamples, repeat)
    return rows


def run_default(name: str, graph: TopicGraph, resamples: int, repeat: int) -> list[dict]:
    """The default score of the registry: one ranking, and ``rank_uncertainty`` with ``resamples``."""
    try:
        rank_uncertainty(fresh(graph), resamples=2)  # compile, as above
    except GraphkitError as exc:
        print(f"{name}: default score skipped ({exc})")
        return []
    ones = [timed(lambda: ranking(fresh(graph))) for _ in range(repeat)]
    one_wall, _, one_mem, r = min(ones, key=lambda x: x[0])
    one_cpu = min(x[1] for x in ones)
    label = f"default ({r.score})"
    rows = [{"dataset": name, "people": graph.n_people, "method": f"{label}: one scoring", "resamples": 0,
             "seconds": one_wall, "cpu_seconds": one_cpu, "x_one_wall": 1.0, "x_one_cpu": 1.0,
             "peak_mem_mb": one_mem / 2**20, "naive_runs": ""}]
    runs = [timed(lambda: rank_uncertainty(fresh(graph), resamples=resamples)) for _ in range(repeat)]
    wall, _, mem, u = min(runs, key=lambda x: x[0])
    cpu = min(x[1] for x in runs)
    rows.append({"dataset": name, "people": graph.n_people, "method": f"{label}: {u.parameters['method']}",
                 "resamples": resamples, "seconds": wall, "cpu_seconds": cpu, "x_one_wall": wall / one_wall,
                 "x_one_cpu": cpu / one_cpu, "peak_mem_mb": mem / 2**20, "naive_runs": ""})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000], help="synthetic graph sizes (people)")
    ap.add_argument("--resamples", type=int, default=100)
    ap.add_argument("--naive", type=int, default=100, help="naive re-scorings actually run (scaled to --resamples)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the single scoring (best kept)")
    ap.add_argument("--no-ciao", action="store_true")
    ap.add_argument("--only", choices=["all", "influence", "default"], default="all",
                    help="topic influence, the default score, or both")
    args = ap.parse_args(argv)
    rows: list[dict] = []
    if not args.no_ciao:
        rows += run("ciao", load_ciao(), args.resamples, args.naive, args.repeat, args.only)
    for size in args.sizes:
        rows += run(f"synthetic-{size // 1000}k", generate(n_people=size, seed=0), args.resamples, args.naive,
                    args.repeat, args.only)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("bench_uncertainty.csv" if args.only == "all" else f"bench_uncertainty_{args.only}.csv")
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"{'dataset':<16}{'method':<70}{'resamples':>10}{'wall s':>9}{'cpu s':>9}{'x one (wall)':>14}"
          f"{'x one (cpu)':>13}{'peak MB':>9}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['method']:<70}{r['resamples']:>10}{r['seconds']:>9.2f}{r['cpu_seconds']:>9.2f}"
              f"{r['x_one_wall']:>14.1f}{r['x_one_cpu']:>13.1f}"
              + (f"{r['peak_mem_mb']:>9.0f}" if r["peak_mem_mb"] != "" else f"{'':>9}")
              + (f"   (scaled from {r['naive_runs']} runs)" if r["naive_runs"] else ""))
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
