"""How much room is there above the simple baseline? The backtest's ceilings, per dataset and cut-off.

A *ceiling* scorer ranks every candidate by the attributed outcome itself
(it reads the future: a diagnostic, never a score), within a gate:

- ``ceiling_recent_gate``: people who acted on the topic in the year before
  the cut-off, perfectly ordered, then everyone else (tied) -- the best any
  score that gives 0 to people not active lately can do;
- ``ceiling_ever_gate``: the same for people who ever acted on the topic;
- ``ceiling_any``: everyone perfectly ordered.

Each is compared with ``posts_x_active_new_followers`` on the same
resamples, as in :func:`graphkit.evidence.backtest.backtest` (attributed
outcome, 180-day exposure window, one-year horizon). The script also counts
where the positive outcomes are: inside the recent gate, among people whose
last act on the topic is older, among people who had never acted on it.

Run: ``python benchmarks/backtest_ceiling.py [--datasets ciaodvd] [--cutoffs 2009-01-01 ...] [--n-bootstrap 200]``
Writes ``benchmarks/results/backtest_ceiling.csv``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from graphkit.evidence import outcomes as oc  # noqa: E402
from graphkit.evidence.backtest import backtest  # noqa: E402
from graphkit.evidence.split import split_at  # noqa: E402
from graphkit.model.topics import activity_events  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from backtest_real import HORIZON, RESULTS, cutoffs, load  # noqa: E402

GATES = {"ceiling_recent_gate": "recent", "ceiling_ever_gate": "ever", "ceiling_any": None}


def gated_outcomes(graph, cutoff: str) -> pl.DataFrame:
    """Per candidate (person, topic): the attributed outcome and whether the person acted on it lately / ever."""
    split = split_at(graph, cutoff)
    out = oc.outcomes(graph, split, horizon=HORIZON).filter(pl.col("eligible") > 0)
    ev = activity_events(split.past)
    t0 = split.cutoff
    recent = ev.filter(pl.col("ts") >= t0 - timedelta(days=365)).select("person_id", "topic").unique()
    ever = ev.select("person_id", "topic").unique()
    return (out.select("person_id", "topic", "attributed")
            .join(recent.with_columns(recent=pl.lit(True)), on=["person_id", "topic"], how="left")
            .join(ever.with_columns(ever=pl.lit(True)), on=["person_id", "topic"], how="left")
            .with_columns(pl.col("recent", "ever").fill_null(False)))


def ceiling(table: pl.DataFrame, gate: str | None):
    def scorer(graph, *, topics):
        inside = pl.lit(True) if gate is None else pl.col(gate)
        # inside the gate: the outcome, plus a tiny step so a zero outcome still ranks above everyone outside
        score = pl.when(inside).then(pl.col("attributed").cast(pl.Float64) + 1e-6).otherwise(0.0)
        return table.select("person_id", "topic", score=score)
    return scorer


def run(name: str, when: list[str] | None, n_bootstrap: int) -> pl.DataFrame:
    graph = load(name)
    when = when or cutoffs(name, graph)
    rows = []
    for cutoff in when:
        table = gated_outcomes(graph, cutoff)
        r = backtest(graph, cutoffs=[cutoff], scorers={k: ceiling(table, g) for k, g in GATES.items()},
                     horizon=HORIZON, outcomes=("attributed",), n_bootstrap=n_bootstrap, uplift_check=False)
        evaluated = r.topics.filter("evaluated")["topic"]
        t = table.filter(pl.col("topic").is_in(evaluated.implode()))
        pos = pl.col("attributed") > 0
        counts = t.select(positives=pos.sum(), in_recent_gate=(pos & pl.col("recent")).sum(),
                          older_acts_only=(pos & pl.col("ever") & ~pl.col("recent")).sum(),
                          never_acted=(pos & ~pl.col("ever")).sum()).row(0, named=True)
        thin = t.group_by("topic").agg(pl.col("recent").sum().alias("n")).filter(pl.col("n") < 50).height
        print(f"{name} {cutoff}: {evaluated.len()} topics, {thin} with fewer than 50 people active lately; "
              f"positives {counts}")
        panel = r.table.filter(((pl.col("metric") == "precision") & (pl.col("k") == 50))
                               | ((pl.col("metric") == "ndcg") & (pl.col("k") == 10)))
        rows.append(panel.select("cutoff", "metric", "k", "scorer", "value", "vs_baseline", "vs_baseline_low",
                                 "vs_baseline_high").with_columns(dataset=pl.lit(name), thin_topics=pl.lit(thin),
                                                                  **{k: pl.lit(v) for k, v in counts.items()}))
    return pl.concat(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["ciaodvd"])
    p.add_argument("--cutoffs", nargs="*", help="default: the cut-offs of backtest_real.py")
    p.add_argument("--n-bootstrap", type=int, default=200)
    args = p.parse_args()
    parts = []
    for name in args.datasets:
        parts.append(run(name, args.cutoffs, args.n_bootstrap))
    out = pl.concat(parts)
    with pl.Config(tbl_rows=100, tbl_cols=12, tbl_width_chars=200, float_precision=3):
        print(out.select("dataset", "cutoff", "metric", "scorer", "value", "vs_baseline", "vs_baseline_low",
                         "vs_baseline_high"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_csv(RESULTS / "backtest_ceiling.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
