"""Does a score predict which followers take up a topic next? The backtest on real data.

For each dataset and cut-off T0 it runs :func:`graphkit.evidence.backtest.backtest`
with every built-in scorer side by side, in one run:

- ``potential_reach`` (graphkit), ``topic_influence`` (graphkit's topic
  PageRank), ``topic_activity``;
- peers and baselines: ``audience`` (follower count), ``active_audience``
  (followers who posted in the last year), global ``pagerank`` (igraph) and
  ``random``.

Outcome: followers present before T0 who take up the topic for the first time
in the year after T0 (count, and shrunk rate); metrics precision@k, NDCG@k and
Spearman per topic, averaged over topics; 95% intervals from 200 bootstrap
resamples of people; every scorer is compared with audience size on the same
resamples. Ratios printed are scorer / audience on NDCG@10 (count).

Datasets: the bundled Ciao (always) and CiaoDVD from ``shared/datasets``
(when the folder and its adapter are there). Results:
``benchmarks/results/backtest_real.csv`` (every row), ``backtest_real_topics.csv``
(per topic), ``backtest_real_splits.csv`` (what each split kept),
``backtest_real_<dataset>.png`` (scorers x metric at the last cut-off) and
``backtest_real_cutoffs.png`` (NDCG@10 of every scorer at every cut-off).

Run: ``python benchmarks/backtest_real.py [--n-bootstrap 200] [--datasets ciao ciaodvd]``
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402

from graphkit.errors import GraphkitError  # noqa: E402
from graphkit.evidence.backtest import BUILTIN_SCORERS, backtest, plot_backtest  # noqa: E402
from graphkit.io.datasets import load_ciao, shared_dataset  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
COLORS = plt.get_cmap("tab10").colors  # one colour per scorer, the same in every panel
HORIZON = timedelta(days=365)
#: Cut-offs per dataset: yearly, leaving at least a year of future after each.
CUTOFFS = {
    "ciao": ["2007-01-01", "2008-01-01", "2009-01-01", "2010-01-01"],
    "ciaodvd": ["2008-01-01", "2009-01-01", "2010-01-01", "2011-01-01"],
}


def load(name: str):
    if name == "ciao":
        return load_ciao()
    if name == "ciaodvd":
        try:
            from graphkit.io.adapters import ciaodvd
        except ImportError:
            raise GraphkitError("graphkit.io.adapters.ciaodvd is not in this build; merge the data branch") from None
        return ciaodvd.load(shared_dataset("ciaodvd"))
    raise GraphkitError(f"unknown dataset {name!r}; choose ciao or ciaodvd")


def run(name: str, n_bootstrap: int, candidates: str = "reach") -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, object]:
    graph = load(name)
    started = time.perf_counter()
    r = backtest(graph, cutoffs=CUTOFFS[name], scorers=BUILTIN_SCORERS, ks=(10, 50), horizon=HORIZON,
                 candidates=candidates, n_bootstrap=n_bootstrap, seed=0, progress=True)
    seconds = time.perf_counter() - started
    label = pl.lit(name), pl.lit(candidates)
    table = r.table.with_columns(dataset=label[0], candidates=label[1], seconds=pl.lit(seconds))
    topics = r.per_topic.with_columns(dataset=label[0], candidates=label[1])
    splits = r.splits.with_columns(dataset=label[0], candidates=label[1])
    print(f"{name} ({candidates}): {len(CUTOFFS[name])} cut-offs in {seconds:.0f} s")
    return table, topics, splits, r


def report(table: pl.DataFrame) -> None:
    """Print NDCG@10 (count) per cut-off with intervals, and ratios to audience."""
    t = table.filter((pl.col("outcome") == "count") & (pl.col("metric") == "ndcg") & (pl.col("k") == 10))
    for (dataset, candidates, cutoff), rows in t.group_by("dataset", "candidates", "cutoff", maintain_order=True):
        base = rows.filter(pl.col("scorer") == "audience")["value"].item()
        print(f"\n{dataset} (candidates={candidates}) cut-off {cutoff:%Y-%m-%d}, NDCG@10 of followers' adoption "
              f"in the next year, {rows['n_topics'][0]} topics")
        for r in rows.sort("value", descending=True).iter_rows(named=True):
            print(f"  {r['scorer']:<16} {r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]  x{r['value'] / base:4.2f} "
                  f"audience   diff {r['vs_audience']:+.3f} [{r['vs_low']:+.3f}, {r['vs_high']:+.3f}]")


def plot_cutoffs(table: pl.DataFrame, path: Path) -> None:
    t = table.filter((pl.col("outcome") == "count") & (pl.col("metric") == "ndcg") & (pl.col("k") == 10)
                     & (pl.col("candidates") == "reach"))
    datasets = t["dataset"].unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets) + 1.5, 4.2), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        part = t.filter(pl.col("dataset") == ds)
        for scorer, rows in part.group_by("scorer", maintain_order=True):
            rows = rows.sort("cutoff")
            x = rows["cutoff"].dt.year().to_list()
            ax.errorbar(x, rows["value"], yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
                        marker="o", capsize=3, label=scorer[0], color=COLORS[BUILTIN_SCORERS.index(scorer[0])],
                        lw=2.2 if scorer[0] in ("potential_reach", "audience") else 1)
        ax.set_xticks(sorted(set(part["cutoff"].dt.year().to_list())))
        ax.set_title(f"{ds}: NDCG@10 of followers' adoption, next year")
        ax.set_xlabel("cut-off (1 January)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean over topics, 95% interval")
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["ciao", "ciaodvd"])
    p.add_argument("--n-bootstrap", type=int, default=200)
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    tables, topics, splits = [], [], []
    for name in args.datasets:
        try:
            runs = [run(name, args.n_bootstrap)]
        except GraphkitError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        if name == "ciao":  # robustness: rank only people who themselves contributed on the topic before T0
            runs.append(run(name, args.n_bootstrap, candidates="topic"))
        for t, tp, sp, r in runs:
            tables.append(t)
            topics.append(tp)
            splits.append(sp)
        r = runs[0][3]
        axes = plot_backtest(r, outcome="count")
        axes[0].figure.savefig(RESULTS / f"backtest_real_{name}.png", dpi=110, bbox_inches="tight")
        plt.close(axes[0].figure)
    if not tables:
        print("nothing ran")
        return 1
    table = pl.concat(tables)
    table.write_csv(RESULTS / "backtest_real.csv")
    pl.concat(topics).write_csv(RESULTS / "backtest_real_topics.csv")
    pl.concat(splits).write_csv(RESULTS / "backtest_real_splits.csv")
    plot_cutoffs(table, RESULTS / "backtest_real_cutoffs.png")
    report(table)
    print(f"\nwritten to {RESULTS}/backtest_real*.csv and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
