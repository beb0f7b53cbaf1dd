"""Does a score predict the adoptions that follow a person's activity on a topic? The backtest on real data.

For each dataset and cut-off T0 it runs :func:`graphkit.evidence.backtest.backtest`
with every built-in scorer side by side, in one run: graphkit's scores
(``expected_conversions``, ``adopter_pagerank``, ``adoption_influence``, ``potential_reach``,
``topic_influence``), the simple
topic-gated baselines (``posts_x_active_new_followers``, the one to beat;
``active_new_followers``, ``activity_x_active_new_followers``,
``past_attributed``) and the peers (``audience``, ``active_audience``, global
``pagerank``, ``topic_activity``, ``random``).

Outcome: the attributed outcome -- followers present before T0, new to the
topic at T0, whose first adoption of it in the year after T0 came within 180
days after the person's own activity on it -- with its credit-split variant
and, for comparison, followers' adoption whatever the person did. Metrics
precision@k and NDCG@k per topic, averaged over topics; 95% intervals from 200
bootstrap resamples of people; every scorer is compared with audience size
and with ``posts_x_active_new_followers`` on the same resamples. Topic
specificity and the uplift check (exposed vs unexposed adoption rates beside
a placebo) are computed at every cut-off.

Cut-offs: Ciao at the time by which 80% of its dated events had happened
(2008-11-14), 2009-01-01 and 2010-01-01; CiaoDVD at 2009-01-01, 2010-01-01
and 2011-01-01 (each leaves a year of data after it).

Datasets: the bundled Ciao (always) and CiaoDVD from ``shared/datasets``
(set ``GRAPHKIT_SHARED_DATASETS``). Results in ``benchmarks/results/``:
``backtest_real.csv`` (every row), ``backtest_real_topics.csv`` (per topic, attributed outcome),
``backtest_real_splits.csv`` (what each split kept),
``backtest_real_specificity.csv``, ``backtest_real_uplift.csv``,
``backtest_real_<dataset>.png`` (scorers x metric at the last cut-off) and
``backtest_real_cutoffs.png`` (P@50 and NDCG@10 of the main scorers at every
cut-off).

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
from graphkit.evidence.backtest import BUILTIN_SCORERS, backtest, plot_backtest, report  # noqa: E402
from graphkit.io.datasets import load_ciao, shared_dataset  # noqa: E402
from graphkit.model.topics import activity_events  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
HORIZON = timedelta(days=365)
#: Cut-offs per dataset; "p80" is the time by which 80% of the dataset's dated events had happened.
CUTOFFS = {
    "ciao": ["p80", "2009-01-01", "2010-01-01"],
    "ciaodvd": ["2009-01-01", "2010-01-01", "2011-01-01"],
}
#: The scorers drawn in the cut-off figure (the others are in the CSV and the per-dataset figures).
MAIN = ("expected_conversions", "adopter_pagerank", "adoption_influence", "posts_x_active_new_followers",
        "past_attributed", "potential_reach", "topic_influence", "audience")


def load(name: str):
    if name == "ciao":
        return load_ciao()
    if name == "ciaodvd":
        from graphkit.io.adapters import ciaodvd

        return ciaodvd.load(shared_dataset("ciaodvd"))
    raise GraphkitError(f"unknown dataset {name!r}; choose ciao or ciaodvd")


def cutoffs(name: str, graph) -> list[str]:
    out = []
    for c in CUTOFFS[name]:
        if c == "p80":
            ts = pl.concat([graph.edges.select("ts"), graph.transactions.select("ts")]).drop_nulls()["ts"]
            c = f"{ts.sort()[int(0.8 * (len(ts) - 1))]:%Y-%m-%d}"
        out.append(c)
    return out


def run(name: str, n_bootstrap: int) -> dict[str, pl.DataFrame]:
    graph = load(name)
    activity_events(graph)  # cached on the graph
    when = cutoffs(name, graph)
    started = time.perf_counter()
    r = backtest(graph, cutoffs=when, scorers=BUILTIN_SCORERS, ks=(10, 50), horizon=HORIZON,
                 n_bootstrap=n_bootstrap, seed=0, progress=True)
    seconds = time.perf_counter() - started
    print(f"{name}: cut-offs {', '.join(when)} in {seconds:.0f} s")
    print(report(r))
    axes = plot_backtest(r)
    axes[0].figure.savefig(RESULTS / f"backtest_real_{name}.png", dpi=110, bbox_inches="tight")
    plt.close(axes[0].figure)
    label = pl.lit(name).alias("dataset")
    return {
        "": r.table.with_columns(label, seconds=pl.lit(seconds)),
        "_topics": r.per_topic.filter(pl.col("outcome") == "attributed").with_columns(label),
        "_splits": r.splits.with_columns(label),
        "_specificity": r.specificity.with_columns(label),
        "_uplift": r.uplift.with_columns(label) if not r.uplift.is_empty() else pl.DataFrame(),
    }


def plot_cutoffs(table: pl.DataFrame, path: Path) -> None:
    """P@50 and NDCG@10 (attributed) of the main scorers at every cut-off, one row of panels per dataset."""
    t = table.filter((pl.col("outcome") == "attributed") & pl.col("scorer").is_in(MAIN)
                     & (((pl.col("metric") == "precision") & (pl.col("k") == 50))
                        | ((pl.col("metric") == "ndcg") & (pl.col("k") == 10))))
    datasets = t["dataset"].unique(maintain_order=True).to_list()
    panels = [("precision", 50), ("ndcg", 10)]
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.6 * len(datasets)), squeeze=False)
    colors = plt.get_cmap("tab10").colors
    for row, ds in zip(axes, datasets):
        for ax, (metric, k) in zip(row, panels):
            part = t.filter((pl.col("dataset") == ds) & (pl.col("metric") == metric))
            cuts = sorted(part["cutoff"].unique().to_list())
            for i, scorer in enumerate(MAIN):
                rows = part.filter(pl.col("scorer") == scorer).sort("cutoff")
                if rows.is_empty():
                    continue
                x = [cuts.index(c) + (i - len(MAIN) / 2) * 0.06 for c in rows["cutoff"]]
                ax.errorbar(x, rows["value"], yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
                            marker="o", capsize=3, label=scorer, color=colors[i],
                            lw=2.2 if scorer in ("adopter_pagerank", "posts_x_active_new_followers") else 1)
            ax.set_xticks(range(len(cuts)), [f"{c:%Y-%m-%d}" for c in cuts])
            ax.set_title(f"{ds}: {metric}@{k}")
            ax.grid(alpha=0.3)
        row[0].set_ylabel("mean over topics, 95% interval")
    fig.suptitle("attributed adoptions in the year after each cut-off")
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
    parts: dict[str, list[pl.DataFrame]] = {}
    for name in args.datasets:
        try:
            out = run(name, args.n_bootstrap)
        except GraphkitError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        for suffix, frame in out.items():
            if not frame.is_empty():
                parts.setdefault(suffix, []).append(frame)
    if not parts:
        print("nothing ran")
        return 1
    for suffix, frames in parts.items():
        pl.concat(frames, how="diagonal_relaxed").write_csv(RESULTS / f"backtest_real{suffix}.csv")
    plot_cutoffs(pl.concat(parts[""]), RESULTS / "backtest_real_cutoffs.png")
    print(f"\nwritten to {RESULTS}/backtest_real*.csv and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
