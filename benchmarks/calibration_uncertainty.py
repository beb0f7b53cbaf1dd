"""Are the rank intervals honest? Intervals from one half of the evidence against the rank on the other half.

    GRAPHKIT_SHARED_DATASETS=/work/shared/datasets python benchmarks/calibration_uncertainty.py
    python benchmarks/calibration_uncertainty.py --datasets ciao --splits 1 --resamples 60

For each dataset (bundled Ciao; CiaoDVD from the shared datasets when
present) and each of ``--splits`` random splits (seeded 0, 1, ...; the
summary gives the coverage over all splits and the lowest and highest
split, so that no figure rests on one split), every row of
evidence -- each contribution (review, mention...), each follow and other
edge, each purchase -- goes to half A or half B with probability 1/2. Then,
for each score (topic influence, and the default score of
:mod:`graphkit.scoring.registry` when it differs):

* on half A: the published ranks and the bootstrap rank intervals at levels
  50 %, 80 % and 90 % (the same draws; topic influence with the batched
  resample solver, the default score in closed form, other scores by
  re-scoring ``--resamples-rescoring`` resampled graphs); dated scores as
  of the end of the whole period on both halves;
* on half B: the ranks;
* **coverage**: the share of (person, topic) whose rank on B lies in their
  interval from A, for the people in A's top 20 of each topic (positive
  scores; topics with at least 20 such people) and for every person with
  a positive score on A.

Two readings are reported. The *bootstrap interval* (``rank_low`` ..
``rank_high``, what graphkit shows) says where the rank would fall if the
same evidence were drawn again; half B is such a draw, but so is half A
itself, so B's rank differs from A's by the noise of both halves and a
bootstrap interval centred on A is expected to cover it less often than
its level (about 74 % for a 90 % interval, were ranks normal). The
*replication interval* adds that second draw: A's rank plus the central
``level`` range of the difference between two independent resamples'
ranks. It should cover B's rank at about its level.

Results: ``benchmarks/results/calibration_uncertainty.csv`` (one row per
dataset, split, score, set and level).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit.errors import GraphkitError  # noqa: E402
from graphkit.io.datasets import load_ciao, shared_dataset  # noqa: E402
from graphkit.model.graph import EDGE_INDEX, TopicGraph  # noqa: E402
from graphkit.model.topics import topic_structure  # noqa: E402
from graphkit.scoring.influence import topic_influence  # noqa: E402
from graphkit.scoring.baselines import RECENT  # noqa: E402
from graphkit.scoring.reach import data_end  # noqa: E402
from graphkit.scoring.registry import DEFAULT_SCORE, ranking  # noqa: E402
from graphkit.scoring.uncertainty import (  # noqa: E402
    influence_draws,
    new_follower_draws,
    resample_ranks,
    rescoring_draws,
)

RESULTS = ROOT / "benchmarks" / "results"
LEVELS = (0.5, 0.8, 0.9, 0.95, 0.98)
TOP = 20


def half(graph: TopicGraph, keep_edges: np.ndarray, keep_tx: np.ndarray) -> TopicGraph:
    """The graph with only the chosen edge and purchase rows (people, items, topics unchanged)."""
    rows = np.flatnonzero(keep_edges)
    out = TopicGraph(people=graph.people, edges=graph.edges[rows], items=graph.items, communities=graph.communities,
                     transactions=graph.transactions.filter(pl.Series(keep_tx)), handles=graph.handles,
                     source=graph.source)
    out._views[EDGE_INDEX] = graph.edge_index[rows]
    out.__dict__["topics"] = graph.topics
    return out


def draws_for(score: str, graph: TopicGraph, topics: list[str], resamples: int, rescoring: int, seed: int,
              now=None):
    """(point table, {topic: (rows, draws)}) of ``score`` on ``graph`` (as of ``now`` for dated scores)."""
    if score == "topic_influence:rescoring":  # the row bootstrap, re-scoring resampled graphs (slow; for checks)
        point = topic_influence(graph, topics=topics).table
        per, _ = rescoring_draws(graph, lambda g: topic_influence(g, topics=topics).table, point,
                                 resamples=rescoring, seed=seed)
        return point, per
    if score == "topic_influence":
        res = topic_influence(graph, topics=topics)
        idx = [graph.topic_of(t) for t in res.parameters["topics"]]
        per, _ = influence_draws(graph, topic_structure(graph), idx, res.table, damping_factor=0.85,
                                 resamples=resamples, seed=seed)
        return res.table, per
    window = None if now is None else (None, now)
    r = ranking(graph, score=score, topics=topics, window=window)
    if r.score != score:
        raise GraphkitError(r.note)
    if score == "posts_x_active_new_followers":  # the closed form: the same draws as re-scoring, cheaply
        per, _ = new_follower_draws(graph, r.table, now=now, recent=RECENT, resamples=resamples, seed=seed)
        return r.table, per
    per, _ = rescoring_draws(graph, lambda g: ranking(g, score=score, topics=topics, window=window).table, r.table,
                             resamples=rescoring, seed=seed)
    return r.table, per


def selected_interval(r: np.ndarray, point: np.ndarray, level: float, top: int = TOP, least: int = 10):
    """Selection-aware interval: the point rank plus the central ``level`` range of r[b'] - r[b] over pairs of
    different resamples in which the person is in the top ``top`` in the first (the bootstrap of "picked on one
    draw, ranked on another"); all pairs when fewer than ``least`` resamples select the person."""
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    lo = np.empty(len(r), dtype=np.int64)
    hi = np.empty(len(r), dtype=np.int64)
    b = r.shape[1]
    off = ~np.eye(b, dtype=bool)
    for i, row in enumerate(r):
        first = row <= top
        if first.sum() < least:
            first = np.ones(b, dtype=bool)
        diff = (row[None, :] - row[first][:, None])[off[first]]
        lo[i] = point[i] + np.quantile(diff, lo_q, method="lower")
        hi[i] = point[i] + np.quantile(diff, hi_q, method="higher")
    return lo, hi


#: Widening factors of the replication reading tried (its offsets from the published rank, times f).
FACTORS = (1.25, 1.5, 2.0)


def intervals(r: np.ndarray, point: np.ndarray, level: float, pair: np.ndarray, *, every: bool = True
              ) -> dict[str, tuple]:
    """The intervals compared, for people with resample ranks ``r`` (people x resamples) and published ranks
    ``point``: name -> (low, high); only the bootstrap interval and the replication reading unless ``every``."""
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    lo = np.quantile(r, lo_q, axis=1, method="lower")
    hi = np.quantile(r, hi_q, axis=1, method="higher")
    diff = r - r[:, pair]  # two independent resamples: the spread of a replication
    d_lo = np.quantile(diff, lo_q, axis=1, method="lower")
    d_hi = np.quantile(diff, hi_q, axis=1, method="higher")
    shift = np.median(r, axis=1) - point  # how much worse a resample ranks the person than the data does
    out = {"bootstrap": (lo, hi), "replication": (point + d_lo, point + d_hi)}
    if not every:
        return out
    out |= {
        "selected": selected_interval(r, point, level),
        "bias-corrected": (np.floor(lo + shift), np.ceil(hi + shift)),
        "bias-corrected replication": (np.floor(point + shift + d_lo), np.ceil(point + shift + d_hi)),
    }
    for f in FACTORS:
        out[f"replication x{f:g}"] = (np.floor(point + f * d_lo), np.ceil(point + f * d_hi))
    return {k: (np.maximum(lo_, 1), hi_) for k, (lo_, hi_) in out.items()}  # no rank above 1


def coverage(point_a: pl.DataFrame, per: dict, point_b: pl.DataFrame, seed: int) -> list[dict]:
    """Coverage rows for both sets, levels and intervals."""
    b_rank = point_a.select("person_id", "topic").join(point_b.select("person_id", "topic", "rank"),
                                                       on=["person_id", "topic"], how="left")["rank"].to_numpy()
    a_rank = point_a["rank"].to_numpy().astype(np.int64)
    a_score = point_a["score"].to_numpy()
    found: dict[tuple, list] = {}
    widths: dict[tuple, list] = {}
    rng = np.random.default_rng(seed)
    topic_rows = point_a.select("topic").with_row_index("_r").group_by("topic", maintain_order=True).agg("_r")
    for ti, (topic, all_rows) in enumerate(topic_rows.iter_rows()):
        all_rows = np.asarray(all_rows)
        rows, d = per[topic]
        valid = ~np.isnan(d).all(axis=0)
        d = d[:, valid]
        if d.shape[1] < 10:
            continue
        ranks = resample_ranks(d, seed=seed, topic=ti)
        pos_rows = all_rows[a_score[all_rows] > 0]
        top_rows = pos_rows[a_rank[pos_rows] <= TOP]
        sets = {"positive": pos_rows}
        if len(top_rows) == TOP:
            sets["top20"] = top_rows
        where = {r: i for i, r in enumerate(rows)}
        pair = rng.permutation(d.shape[1])
        for name, chosen in sets.items():
            idx = np.array([where.get(r, -1) for r in chosen], dtype=np.int64)
            have = idx >= 0
            chosen, idx = chosen[have], idx[have]
            r = ranks[idx]
            for lv in LEVELS:
                # selection is about the top; everyone gets the two plain readings
                made = intervals(r, a_rank[chosen], lv, pair, every=name == "top20")
                for kind, (lo, hi) in made.items():
                    found.setdefault((name, lv, kind), []).extend(((b_rank[chosen] >= lo) & (b_rank[chosen] <= hi)).tolist())
                    widths.setdefault((name, lv, kind), []).extend((hi - lo).tolist())
    return [{"set": k[0], "level": k[1], "interval": k[2], "pairs": len(v), "coverage": float(np.mean(v)) if v else None,
             "median_width": float(np.median(widths[k])) if v else None} for k, v in found.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["ciao", "ciaodvd"])
    ap.add_argument("--splits", type=int, default=4, help="random splits per dataset (seeded 0, 1, ...)")
    ap.add_argument("--tuning-splits", type=int, default=2,
                    help="further splits (seeded 100, 101, ...) used only to choose the level of the tuned interval")
    ap.add_argument("--resamples", type=int, default=100, help="resamples of topic influence (batched)")
    ap.add_argument("--resamples-rescoring", type=int, default=40, help="resamples of re-scored scores")
    ap.add_argument("--scores", nargs="+", default=None, help=f"default: topic_influence and {DEFAULT_SCORE}")
    args = ap.parse_args(argv)
    scores = args.scores or list(dict.fromkeys(["topic_influence", DEFAULT_SCORE]))
    out_rows = []
    for name in args.datasets:
        if name == "ciao":
            graph = load_ciao()
        else:
            try:
                from graphkit.io.adapters import ciaodvd

                graph = ciaodvd.load(shared_dataset(name))
            except GraphkitError as exc:
                print(f"{name}: skipped ({exc})")
                continue
        now = data_end(graph)  # both halves are scored as of the end of the whole period
        for split in [*range(args.splits), *range(100, 100 + args.tuning_splits)]:
            rng = np.random.default_rng([2026, split])
            keep_e = rng.random(graph.edges.height) < 0.5
            keep_t = rng.random(graph.transactions.height) < 0.5
            a, b = half(graph, keep_e, keep_t), half(graph, ~keep_e, ~keep_t)
            active = topic_structure(a).activity_t.sum(axis=1) > 0
            active &= topic_structure(b).activity_t.sum(axis=1) > 0
            topics = [t for t, ok in zip(graph.topics, active) if ok]
            for score in scores:
                t0 = time.perf_counter()
                try:
                    point_a, per = draws_for(score, a, topics, args.resamples, args.resamples_rescoring, split, now)
                    if score == "topic_influence":
                        point_b = topic_influence(b, topics=topics).table
                    else:
                        rb = ranking(b, score=score, topics=topics, window=(None, now))
                        if rb.score != score:
                            raise GraphkitError(rb.note)
                        point_b = rb.table
                except GraphkitError as exc:
                    print(f"{name} split {split} {score}: skipped ({exc})")
                    continue
                for row in coverage(point_a, per, point_b, split):
                    out_rows.append({"dataset": name, "split": split, "score": score, **row,
                                     "resamples": args.resamples
                                     if score in ("topic_influence", "posts_x_active_new_followers")
                                     else args.resamples_rescoring})
                print(f"{name} split {split} {score}: {time.perf_counter() - t0:.0f} s", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "calibration_uncertainty.csv"
    table = pl.DataFrame(out_rows)
    table.write_csv(path)
    summary, tuned = summarise_coverage(table)
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, float_precision=3,
                   tbl_width_chars=220, fmt_str_lengths=40):
        print("reported splits (0, 1, ...):")
        print(summary.filter(pl.col("level") == 0.9))
        print("the least width reaching 90 % on the tuning splits (100, 101, ...), then measured on the reported ones:")
        print(tuned)
    print(f"written: {path}")
    return 0


def summarise_coverage(table: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Coverage per (dataset, score, set, interval, level) over the reported splits; and, per score and
    interval, the level chosen on the tuning splits (the smallest whose top-20 coverage, pooled over the
    datasets, reaches 90 %) with its coverage on the reported splits of each dataset."""
    def pooled(frame: pl.DataFrame, *by: str) -> pl.DataFrame:
        return (frame.group_by(*by)
                .agg(pl.len().alias("splits"), pl.col("pairs").sum(),
                     ((pl.col("coverage") * pl.col("pairs")).sum() / pl.col("pairs").sum()).alias("coverage"),
                     pl.col("coverage").min().alias("lowest split"), pl.col("coverage").max().alias("highest split"),
                     pl.col("median_width").mean())
                .sort(*by))

    tuning = pl.col("split") >= 100
    summary = pooled(table.filter(~tuning), "dataset", "score", "set", "interval", "level")
    top = table.filter(pl.col("set") == "top20")
    on_tuning = pooled(top.filter(tuning), "score", "interval", "level")
    chosen = (on_tuning.filter(pl.col("coverage") >= 0.9).sort("level").group_by("score", "interval").first()
              .select("score", "interval", "level", pl.col("coverage").alias("tuning coverage")))
    reported = pooled(top.filter(~tuning), "dataset", "score", "interval", "level")
    tuned = (chosen.join(reported, on=["score", "interval", "level"], how="left")
             .select("score", "interval", "level", "tuning coverage", "dataset", "coverage", "lowest split",
                     "highest split", "median_width")
             .sort("score", "median_width"))
    return summary, tuned


if __name__ == "__main__":
    raise SystemExit(main())
