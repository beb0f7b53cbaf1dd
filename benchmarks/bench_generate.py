"""How fast graphkit makes and stores big synthetic graphs, beside igraph and networkx generators.

For each size it times, in one run:

- ``graphkit.io.synthetic.generate`` (the whole graph: follows, interactions,
  items, communities, purchases, referrals; about 20 edges per person);
- ``write_dataset`` to Parquet, and ``read_dataset`` back (which runs the full
  strict validation and builds the TopicGraph through ``from_tables``);
- peers that generate only a follow layer of the same size (n people, about
  10 directed edges each): igraph ``Static_Power_Law`` and ``Barabasi``,
  networkx ``barabasi_albert_graph`` (networkx only up to ``--networkx-max``
  people: it is pure Python).

Ratios are peer time / graphkit time for the follow layer vs our whole graph,
so a ratio above 1 means graphkit builds twice the edges faster than the peer
builds half of them. Wall time and process CPU time are both reported: the
machine may be shared. Results go to ``benchmarks/results/bench_generate.csv``
and ``.png``.

Run: ``python benchmarks/bench_generate.py [--sizes 100000 1000000]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from graphkit import read_dataset, write_dataset  # noqa: E402
from graphkit.io.synthetic import generate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def timed(fn):
    """(result, wall seconds, CPU seconds of this process, all threads)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir()) / 2**20


def run(sizes: list[int], networkx_max: int, seed: int) -> pl.DataFrame:
    import igraph as ig
    import networkx as nx

    rows = []

    def add(n, engine, step, edges, wall, cpu, mb=None):
        rows.append({"people": n, "engine": engine, "step": step, "edges": edges,
                     "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "mb": None if mb is None else round(mb, 1)})
        print(f"{n:>10,} {engine:<26} {step:<22} {edges:>12,} edges  wall {wall:7.2f} s  cpu {cpu:7.2f} s"
              + (f"  {mb:7.1f} MB" if mb is not None else ""), flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    try:
        for n in sizes:
            g, w, c = timed(lambda: generate(n_people=n, seed=seed))
            add(n, "graphkit", "generate", g.edges.height, w, c)
            target = tmp / f"synth_{n}"
            _, w, c = timed(lambda: write_dataset(g, target))
            add(n, "graphkit", "write parquet", g.edges.height, w, c, folder_mb(target))
            back, w, c = timed(lambda: read_dataset(target))
            add(n, "graphkit", "read + validate", back.edges.height, w, c)
            assert back.edges.height == g.edges.height
            del back
            g2, w, c = timed(lambda: generate(n_people=n, seed=seed, validate=True))
            add(n, "graphkit", "generate validate=True", g2.edges.height, w, c)
            del g, g2
            shutil.rmtree(target)

            gi, w, c = timed(lambda: ig.Graph.Static_Power_Law(n, 10 * n, exponent_out=3.0, exponent_in=2.3))
            add(n, "igraph Static_Power_Law", "follows only", gi.ecount(), w, c)
            gi, w, c = timed(lambda: ig.Graph.Barabasi(n, 10, directed=True))
            add(n, "igraph Barabasi", "follows only", gi.ecount(), w, c)
            del gi
            if n <= networkx_max:
                gx, w, c = timed(lambda: nx.barabasi_albert_graph(n, 10, seed=seed))
                add(n, "networkx barabasi_albert", "follows only", gx.number_of_edges(), w, c)
                del gx
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return pl.DataFrame(rows)


def report(df: pl.DataFrame) -> None:
    ours = df.filter((pl.col("engine") == "graphkit") & (pl.col("step") == "generate")).select(
        "people", pl.col("wall_s").alias("ours_wall"), pl.col("edges").alias("ours_edges"))
    peers = df.filter(pl.col("step") == "follows only").join(ours, on="people").with_columns(
        ratio=(pl.col("wall_s") / pl.col("ours_wall")).round(2),
        edges_per_s_ratio=((pl.col("ours_edges") / pl.col("ours_wall")) / (pl.col("edges") / pl.col("wall_s"))).round(2),
    )
    print("\npeer wall time / graphkit generate wall time (peer builds the follow layer only):")
    with pl.Config(tbl_rows=50, tbl_hide_dataframe_shape=True):
        print(peers.select("people", "engine", "edges", "wall_s", "ours_edges", "ours_wall", "ratio",
                           "edges_per_s_ratio"))
    full = df.filter(pl.col("engine") == "graphkit").group_by("people", maintain_order=True).agg(
        gen_write_wall=pl.col("wall_s").filter(pl.col("step").is_in(["generate", "write parquet"])).sum())
    print("\ngraphkit generate + write Parquet, wall seconds:")
    for n, s in full.iter_rows():
        print(f"  {n:>10,} people: {s:.1f} s")


def plot(df: pl.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = [f"{e}\n{s}" for e, s in df.select("engine", "step").unique(maintain_order=True).iter_rows()]
    sizes = df["people"].unique(maintain_order=True).to_list()
    width = 0.8 / max(len(sizes), 1)
    for i, n in enumerate(sizes):
        part = df.filter(pl.col("people") == n)
        lookup = {f"{e}\n{s}": w for e, s, w in part.select("engine", "step", "wall_s").iter_rows()}
        ax.bar([j + i * width for j in range(len(labels))], [lookup.get(lab, 0) for lab in labels], width,
               label=f"{n:,} people")
    ax.set_xticks([j + width * (len(sizes) - 1) / 2 for j in range(len(labels))], labels, fontsize=7, rotation=30,
                  ha="right")
    ax.set_ylabel("wall seconds")
    ax.set_yscale("log")
    ax.set_title("Synthetic graph generation and storage (graphkit: whole graph; peers: follows only)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--networkx-max", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    df = run(args.sizes, args.networkx_max, args.seed)
    report(df)
    RESULTS.mkdir(parents=True, exist_ok=True)
    df.write_csv(RESULTS / "bench_generate.csv")
    plot(df, RESULTS / "bench_generate.png")
    print(f"\nsaved {RESULTS / 'bench_generate.csv'} and {RESULTS / 'bench_generate.png'}")


if __name__ == "__main__":
    main()
