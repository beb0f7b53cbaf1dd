"""Ranking metrics of a backtest, for many bootstrap replicates at once, with ties handled exactly.

Per topic, the candidates are ranked by a score and compared with an outcome:
precision@k (share of the top k among the k best outcomes, outcome > 0),
NDCG@k (gain = outcome minus its minimum on the topic) and Spearman's rank
correlation. A bootstrap replicate is a vector of multiplicities (how many
copies of each candidate it drew), so every replicate is scored in one pass.
Tied scores are scored by the exact expectation over random orders of the
tie: a coarse score gains nothing from lucky tie-breaking.

>>> import numpy as np
>>> gain = np.array([3.0, 1.0, 0.0])
>>> m = topic_metrics(np.ones((1, 3)), {"s": gain}, {"y": gain}, [1])
>>> float(m[("y", "ndcg", 1, "s")][0]), float(m[("y", "precision", 1, "s")][0])
(1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

#: Metrics reported per topic, in this order.
METRICS: tuple[str, ...] = ("precision", "ndcg", "spearman")


def discounts(k: int) -> np.ndarray:
    """D[j] = sum of DCG discounts of positions 0..j-1, for j = 0..k."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])


@dataclass
class Ranked:
    """A topic's candidates ordered by one score (or by the outcome), with its tie groups.

    Metrics are computed for many bootstrap replicates at once: ``w`` is a
    (replicates x candidates) array of multiplicities, and a tie group of the
    sorted order occupies positions ``[start, end)`` counted in copies.
    """

    order: np.ndarray  # candidate positions, best first
    starts: np.ndarray  # start of every tie group in that order
    group_of: np.ndarray  # tie group of each sorted position

    @classmethod
    def by(cls, values: np.ndarray) -> Ranked:
        order = np.argsort(-values, kind="stable")
        v = values[order]
        starts = np.concatenate([[0], np.flatnonzero(v[1:] != v[:-1]) + 1]).astype(np.int64)
        group_of = np.repeat(np.arange(starts.size), np.diff(np.append(starts, values.size)))
        return cls(order, starts, group_of)

    def spans(self, w_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per replicate and tie group: number of copies, first and end position."""
        size = np.add.reduceat(w_sorted, self.starts, axis=1)
        end = np.cumsum(size, axis=1)
        return size, end - size, end

    def centred_ranks(self, w: np.ndarray, w_sorted: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Mid-ranks (ties share their mean rank) minus their weighted mean, in candidate order."""
        size, start, _ = self.spans(w_sorted)
        ranks = np.empty_like(w)
        ranks[:, self.order] = (start + (size + 1) / 2.0)[:, self.group_of]
        return ranks - (w * ranks).sum(axis=1, keepdims=True) / total


def topic_metrics(w: np.ndarray, scores: Mapping[str, np.ndarray], gains: Mapping[str, np.ndarray],
                   ks: Sequence[int]) -> dict[tuple[str, str, int | None, str], np.ndarray]:
    """Every metric of every scorer against every outcome on one topic, for every replicate.

    ``w``: (replicates x candidates) multiplicities; ``gains``: outcome minus
    its minimum, per outcome. Returns ``(outcome, metric, k, scorer) ->
    values per replicate``. Tied scores are scored by the exact expectation
    over random orders of the tie: a group straddling position k counts in
    proportion to its share of the top k.
    """
    w = w.astype(np.float64)
    total = w.sum(axis=1, keepdims=True)
    disc = {k: discounts(k) for k in ks}
    truth = {}
    for outcome, gain in gains.items():
        t = Ranked.by(gain)
        wt = w[:, t.order]
        end = np.cumsum(wt, axis=1)
        g = gain[t.order]
        per_k = {}
        for k in ks:
            p = min(int(np.max(np.argmax(end >= k, axis=1))) + 1, g.size)  # items that can reach the top k
            e, s = np.minimum(end[:, :p], k), np.minimum(end[:, :p] - wt[:, :p], k)
            ideal = (g[:p] * (disc[k][e.astype(np.int64)] - disc[k][s.astype(np.int64)])).sum(axis=1)
            kth = np.where(end[:, -1] >= k, np.argmax(end >= k, axis=1), g.size - 1)
            per_k[k] = (ideal, g[kth])  # ideal DCG, and the k-th best outcome (relevance threshold)
        rt = t.centred_ranks(w, wt, total)
        truth[outcome] = (per_k, rt, (w * rt * rt).sum(axis=1))
    out: dict[tuple[str, str, int | None, str], np.ndarray] = {}
    for name, score in scores.items():
        r = Ranked.by(score)
        ws = w[:, r.order]
        size, start, end = r.spans(ws)
        rs = r.centred_ranks(w, ws, total)
        var_s = (w * rs * rs).sum(axis=1)
        for k in ks:
            # only tie groups that start inside the top k in some replicate matter
            n_groups = int(np.max((start < k).sum(axis=1)))
            n_items = int(r.starts[n_groups]) if n_groups < r.starts.size else score.size
            sub, heads = ws[:, :n_items], r.starts[:n_groups]
            st, en, sz = start[:, :n_groups], end[:, :n_groups], size[:, :n_groups]
            safe = np.where(sz > 0, sz, 1.0)
            lo, hi = np.minimum(st, k).astype(np.int64), np.minimum(en, k).astype(np.int64)
            share = (hi - lo) / safe  # expected share of the group's copies inside the top k
            discount = (disc[k][hi] - disc[k][lo]) / safe
            for outcome, gain in gains.items():
                ideal, threshold = truth[outcome][0][k]
                gs = gain[r.order[:n_items]]
                dcg = (np.add.reduceat(sub * gs, heads, axis=1) * discount).sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[(outcome, "ndcg", k, name)] = np.where(ideal > 0, dcg / ideal, np.nan)
                relevant = (gs[None, :] >= threshold[:, None]) & (gs[None, :] > 0)
                hits = np.add.reduceat(sub * relevant, heads, axis=1)
                out[(outcome, "precision", k, name)] = (hits * share).sum(axis=1) / k
        for outcome in gains:
            _, rt, var_t = truth[outcome]
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = (w * rs * rt).sum(axis=1) / np.sqrt(var_s * var_t)
            out[(outcome, "spearman", None, name)] = np.where((var_s > 1e-9) & (var_t > 1e-9), rho, np.nan)
    return out



def mean_over_topics(values: list[np.ndarray]) -> np.ndarray:
    """Per replicate, the mean over topics where the metric is defined (NaN where it is nowhere)."""
    v = np.vstack(values)
    n = np.sum(~np.isnan(v), axis=0)
    return np.where(n > 0, np.nansum(v, axis=0) / np.maximum(n, 1), np.nan)
