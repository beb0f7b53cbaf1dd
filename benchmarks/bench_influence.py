"""Topic influence engines side by side: graphkit batched vs an igraph loop vs a scipy loop vs networkx.

    python benchmarks/bench_influence.py                 # Ciao, 100k and 1M people (takes ~10 minutes)
    python benchmarks/bench_influence.py --sizes 100000  # smaller run

For each dataset (bundled Ciao, synthetic graphs of ``--sizes`` people with
~10 follows each and 16 topics) it computes the topic structure once (shared
by every engine, timed apart as "prep"), then runs, in this process:

* ``batched-f64`` / ``batched-f32`` -- graphkit's engine: one sparse system for
  all topics (build) and Gauss-Seidel sweeps over it (solve); ``batched-f64-1thread``
  the same on one thread (the loops below are single-threaded);
* ``igraph-loop`` -- graphkit's reference engine: per topic, the weighted layer
  as an igraph graph and PRPACK ``personalized_pagerank``;
* ``scipy-loop`` -- per topic, the layer as a row-stochastic scipy matrix and
  plain power iteration to the same tolerance;
* ``networkx`` -- per topic ``nx.pagerank(personalization=...)`` (100k people at most).

Each engine is timed best-of-``--repeat`` (the machine is shared: the best run
is the least disturbed one), with its peak memory (resident set increase,
from the kernel's high-water mark), iterations, and agreement with the igraph reference (max
abs difference, topics whose top-100 is identical). The machine's memory
bandwidth is measured in the same run (numpy copy of 512 MB, best of 5); the
bandwidth bound of the batched solve is ``sweeps x bytes one sweep must move /
bandwidth`` (see :meth:`graphkit.scoring.linalg.TopicSystem.bytes_per_iteration`).
Results go to ``benchmarks/results/bench_influence.csv`` and ``.png``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import threading
import time
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit.io.datasets import load_ciao  # noqa: E402
from graphkit.io.synthetic import generate  # noqa: E402
from graphkit.model.topics import topic_structure  # noqa: E402
from graphkit.scoring.influence import _igraph_engine, rank_scores, topic_system  # noqa: E402
from graphkit.scoring.linalg import solve_ppr  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DAMPING, TOL = 0.85, 1e-10


# ------------------------------------------------------------------------------ measuring
def memory_bandwidth(mb: int = 512, repeat: int = 5) -> float:
    """Best copy bandwidth in bytes/s (read + write counted), like STREAM copy."""
    a = np.ones(mb * 2**20 // 8)
    b = np.empty_like(a)
    np.copyto(b, a)  # touch the pages first
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best


def _libc():
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: memory figures then include memory freed but not returned to the system
        return None


LIBC = _libc()
if LIBC is not None:
    LIBC.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: arrays over 1 MB are mapped, and unmapped when freed


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int | None:
    """The kernel's high-water mark of the resident set (VmHWM), in bytes; None if unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current resident set (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _peak_rss() is not None
    except OSError:
        return False


class PeakMemory:
    """Peak increase of the resident set while the block runs.

    Read from the kernel's high-water mark (reset on entry), so measuring costs
    nothing: a sampling thread would steal CPU from the multi-threaded engine
    on a 2-core machine (it slowed the batched build by ~1.4 s at 1M people).
    Where the mark cannot be reset, the resident set is sampled every 2 ms.
    """

    def __enter__(self):
        if LIBC is not None:
            LIBC.malloc_trim(0)  # give memory freed by earlier runs back, so the base is honest
        self.base = self.peak = _rss()
        self._thread = None
        if not _reset_peak_rss():
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        else:
            self.peak = max(self.peak, _peak_rss())
        self.peak = max(self.peak, _rss())
        self.increase = self.peak - self.base


def best_of(fn, repeat: int):
    """(best seconds, peak memory increase of that run, result of that run)."""
    best, best_mem, best_out = np.inf, 0, None
    for _ in range(repeat):
        with PeakMemory() as mem:
            t = time.perf_counter()
            out = fn()
            el = time.perf_counter() - t
        if el < best:
            best, best_mem, best_out = el, mem.increase, out
        del out
    return best, best_mem, best_out


# ------------------------------------------------------------------------------ engines
def batched(structure, topic_idx, dtype, threads=None):
    if threads is not None:  # one thread: what the engine does without parallelism, less hurt by a busy machine
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            return batched(structure, topic_idx, dtype)
        finally:
            numba.set_num_threads(before)
    t = time.perf_counter()
    system = topic_system(structure, topic_idx, dtype=dtype)
    build = time.perf_counter() - t
    sol = solve_ppr(system, damping_factor=DAMPING, max_iter=200, tol=TOL)
    return {"scores": sol.scores, "iterations": int(sol.iterations.max()), "sweeps": int(sol.iterations.sum()),
            "build_s": build, "solve_s": time.perf_counter() - t - build, "system": system,
            "converged": bool(sol.converged.all())}


def igraph_loop(structure, topic_idx):
    restart = structure.restart(topic_idx)
    return {"scores": _igraph_engine(structure, topic_idx, restart, DAMPING), "iterations": None, "converged": True}


def scipy_loop(structure, topic_idx):
    """What one would write with scipy alone: per topic, P = D^-1 W, then power iteration."""
    restart = structure.restart(topic_idx)
    scores = np.empty_like(restart)
    iterations = []
    for k, t in enumerate(topic_idx):
        layer = structure.layer(t)
        out = structure.out_weight_t[t]
        inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
        pt = sp.csr_array((sp.diags_array(inv) @ layer).T)
        v = restart[:, k]
        x = v.copy()
        for it in range(1, 1001):
            y = DAMPING * (pt @ x)
            y += (1.0 - y.sum()) * v  # teleport, dangling and unpassed mass all return to v
            delta = np.abs(y - x).sum()
            x = y
            if delta < TOL:
                break
        iterations.append(it)
        scores[:, k] = x
    return {"scores": scores, "iterations": max(iterations), "sweeps": sum(iterations), "converged": True}


def networkx_loop(structure, topic_idx):
    import networkx as nx

    restart = structure.restart(topic_idx)
    n = structure.n_people
    scores = np.empty_like(restart)
    for k, t in enumerate(topic_idx):
        layer = structure.layer(t).tocoo()
        unpassed = structure.unpassed(t)
        g = nx.DiGraph()
        g.add_nodes_from(range(n + 1))
        g.add_weighted_edges_from(zip(layer.row.tolist(), layer.col.tolist(), layer.data.tolist()))
        g.add_weighted_edges_from((int(i), n, float(unpassed[i])) for i in np.flatnonzero(unpassed))
        v = {int(i): float(restart[i, k]) for i in np.flatnonzero(restart[:, k])}
        pr = nx.pagerank(g, alpha=DAMPING, personalization=v, dangling=v, tol=TOL / n, max_iter=1000)
        x = np.array([pr[i] for i in range(n)])
        scores[:, k] = x / x.sum()
    return {"scores": scores, "iterations": None, "converged": True}


# ------------------------------------------------------------------------------ running
def agreement(scores: np.ndarray, reference: np.ndarray) -> tuple[float, int]:
    """Max abs difference and the number of topics whose top-100 people are identical
    (ranked as graphkit ranks: ties within rounding noise broken by person)."""
    same = 0
    who = np.arange(len(reference))
    for k in range(reference.shape[1]):
        top_ref = np.argsort(rank_scores(reference[:, k], who))[:100]
        top = np.argsort(rank_scores(scores[:, k], who))[:100]
        same += bool(np.array_equal(top_ref, top))
    return float(np.abs(scores - reference).max()), same


def run_dataset(name, graph, args, bandwidth, rows):
    print(f"\n=== {name}: {graph.n_people:,} people, {graph.edges.height:,} edges", flush=True)
    t = time.perf_counter()
    structure = topic_structure(graph)
    prep = time.perf_counter() - t
    topic_idx = [k for k in range(len(structure.topics)) if structure.activity_t[k].sum() > 0]
    print(f"prep (topic structure, shared by all engines): {prep:.2f} s; {len(topic_idx)} topics; "
          f"general matrix {structure.general.nnz:,} entries", flush=True)

    engines = [("batched-f64", lambda: batched(structure, topic_idx, "float64")),
               ("batched-f32", lambda: batched(structure, topic_idx, "float32")),
               ("batched-f64-1thread", lambda: batched(structure, topic_idx, "float64", threads=1)),
               ("igraph-loop", lambda: igraph_loop(structure, topic_idx)),
               ("scipy-loop", lambda: scipy_loop(structure, topic_idx))]
    if graph.n_people <= args.networkx_max:
        engines.append(("networkx", lambda: networkx_loop(structure, topic_idx)))
    results = {}
    for engine, fn in engines:
        repeat = args.repeat if engine.startswith("batched") or graph.n_people < 500_000 else args.repeat_slow
        seconds, mem, out = best_of(fn, repeat)
        out.update(seconds=seconds, memory=mem)
        results[engine] = out
        print(f"  {engine:<12} {seconds:8.2f} s  (best of {repeat})", flush=True)

    ref = results["igraph-loop"]["scores"]
    base = results["batched-f64"]["seconds"]
    for engine, r in results.items():
        max_abs, same = agreement(r["scores"], ref)
        row = {
            "dataset": name, "people": graph.n_people, "topics": len(topic_idx), "engine": engine,
            "seconds": round(r["seconds"], 4), "speedup_of_batched": round(r["seconds"] / base, 2),
            "iterations": r.get("iterations"), "converged": r["converged"],
            "max_abs_vs_igraph": f"{max_abs:.2e}", "top100_identical": f"{same}/{len(topic_idx)}",
            "peak_mem_mb": round(r["memory"] / 2**20, 1), "prep_seconds": round(prep, 3),
            "build_s": "", "solve_s": "", "bytes_per_sweep_mb": "", "bound_s": "", "x_bound": "",
        }
        if engine.startswith("batched"):
            system = r["system"]
            bound = r["iterations"] * system.bytes_per_iteration() / bandwidth
            row.update(build_s=round(r["build_s"], 3), solve_s=round(r["solve_s"], 3),
                       bytes_per_sweep_mb=round(system.bytes_per_iteration() / 1e6, 1),
                       bound_s=round(bound, 4), x_bound=round(r["solve_s"] / bound, 1))
        rows.append(row)


def print_table(rows):
    cols = ["dataset", "engine", "seconds", "speedup_of_batched", "iterations", "max_abs_vs_igraph",
            "top100_identical", "peak_mem_mb", "build_s", "solve_s", "bound_s", "x_bound"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("\n" + "  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))


def save(rows, bandwidth):
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "bench_influence.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) + ["bandwidth_gb_s"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "bandwidth_gb_s": round(bandwidth / 1e9, 2)})

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(engines)
    for e, engine in enumerate(engines):
        xs, ys = [], []
        for d, ds in enumerate(datasets):
            hit = [r for r in rows if r["dataset"] == ds and r["engine"] == engine]
            if hit:
                xs.append(d + e * width)
                ys.append(hit[0]["seconds"])
        bars = ax.bar(xs, ys, width, label=engine)
        for bar, y in zip(bars, ys):
            ax.annotate(f"{y:.2g}", (bar.get_x() + bar.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks([d + 0.4 - width / 2 for d in range(len(datasets))], datasets)
    ax.set_ylabel("seconds (best run, log scale)")
    ax.set_title(f"Topic influence, all topics (memory bandwidth {bandwidth / 1e9:.1f} GB/s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "bench_influence.png", dpi=120)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="*", type=int, default=[100_000, 1_000_000], help="synthetic graph sizes")
    p.add_argument("--no-ciao", action="store_true", help="skip the bundled Ciao data")
    p.add_argument("--repeat", type=int, default=3, help="runs per engine (best is kept)")
    p.add_argument("--repeat-slow", type=int, default=1, help="runs of the loops on graphs of 500k people or more")
    p.add_argument("--networkx-max", type=int, default=100_000, help="largest graph networkx runs on")
    args = p.parse_args()

    warm = topic_structure(load_ciao())  # load the compiled kernels (both dtypes) before timing anything
    for dtype in ("float64", "float32"):
        batched(warm, [0], dtype)
    bandwidth = memory_bandwidth()
    print(f"memory bandwidth (numpy copy, best of 5): {bandwidth / 1e9:.1f} GB/s; cores: {os.cpu_count()}; "
          f"load average: {os.getloadavg()[0]:.1f}", flush=True)
    rows: list[dict] = []
    if not args.no_ciao:
        run_dataset("ciao", load_ciao(), args, bandwidth, rows)
    for n in args.sizes:
        t = time.perf_counter()
        g = generate(n_people=n, seed=1)
        print(f"(generated {n:,} people in {time.perf_counter() - t:.1f} s)", flush=True)
        run_dataset(f"synthetic-{n // 1000}k" if n < 1_000_000 else f"synthetic-{n // 1_000_000}M", g, args,
                    bandwidth, rows)
        del g
    print_table(rows)
    save(rows, bandwidth)
    print(f"\nsaved {RESULTS / 'bench_influence.csv'} and {RESULTS / 'bench_influence.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
