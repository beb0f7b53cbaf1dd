"""Diagnostics every backtest reports beside its metrics: topic specificity and an uplift check.

**Topic specificity** (per scorer): influence is contextual, so a score's
top on topic *t* should be people who talk about *t*. Two numbers:
``top_inactive_share`` -- the share of the top 50 on *t* (ties in random
order, in expectation) who had no activity on *t* before the cut-off, averaged
over topics; ``top10_jaccard`` -- the mean Jaccard overlap of the top-10 lists
of every pair of topics (1: the same people top every topic, as a
topic-free score does).

**Uplift check** (per topic, and pooled): do people exposed to a topic
through the accounts they follow take it up more than people who are not,
once their own activity and how many accounts they follow are held fixed?
Among people present before T0 and new to *t*, *exposed* = they follow
someone active on *t* in the exposure window before T0; the outcome is their
first adoption of *t* in ``[T0, T0 + horizon)``. The difference of adoption
rates is taken within strata of (own activity in the year before T0) x
(accounts followed) and averaged with the exposed as weights. Beside it, a
**placebo**: the same with exposure through people they do *not* follow
(the follow edges' targets shuffled, so every person keeps how many they
follow and every account how many follow it). Exposure that predicts
adoption no better than the placebo says the attributed outcome is mostly
people's own propensity; an excess over the placebo says exposure through
real ties carries information -- influence, or homophily on the topic
(people follow those who share their interests), which this check cannot
tell apart.

>>> import numpy as np
>>> top_share(np.array([3.0, 2.0, 2.0, 0.0]), np.array([True, False, True, False]), 2)
0.75
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.evidence.split import Split
from graphkit.model.adoption import EXPOSURE_WINDOW, follow_pairs
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import activity_events, first_adoptions

#: Own activity (acts in the year before T0) and accounts followed: stratum lower bounds.
ACTIVITY_BINS: tuple[int, ...] = (0, 1, 3, 10, 30)
FOLLOWING_BINS: tuple[int, ...] = (0, 1, 3, 10, 30, 100)


# -------------------------------------------------------------------- specificity
def top_share(score: np.ndarray, flag: np.ndarray, k: int) -> float:
    """Expected share of the top ``k`` by ``score`` (ties in random order) for which ``flag`` holds.

    >>> top_share(np.array([1.0, 1.0, 1.0]), np.array([True, False, False]), 1)   # a three-way tie
    0.3333333333333333
    """
    k = min(k, score.size)
    if k == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")
    s, f = score[order], flag[order].astype(np.float64)
    starts = np.concatenate([[0], np.flatnonzero(s[1:] != s[:-1]) + 1])
    ends = np.append(starts[1:], s.size)
    inside = np.clip(k - starts, 0, ends - starts) / (ends - starts)  # share of each tie group in the top k
    return float((np.add.reduceat(f, starts) * inside).sum() / k)


def top_set(score: np.ndarray, ids: np.ndarray, k: int, rng: np.random.Generator) -> set:
    """The top ``k`` ids by ``score``, ties broken at random (seeded by the caller)."""
    order = np.lexsort((rng.random(score.size), -score))
    return set(ids[order[:k]].tolist())


def mean_jaccard(sets: list[set]) -> float:
    """Mean Jaccard overlap over every pair of sets (NaN with fewer than two).

    >>> mean_jaccard([{1, 2}, {2, 3}, {1, 2}])
    0.5555555555555555
    """
    pairs = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2) if a | b]
    return float(np.mean(pairs)) if pairs else float("nan")


# ------------------------------------------------------------------------- uplift
def _bins(values: np.ndarray, lower: tuple[int, ...]) -> np.ndarray:
    return np.searchsorted(np.asarray(lower), values, side="right") - 1


def _exposure(follower: np.ndarray, followee: np.ndarray, active: sp.csr_array, n: int) -> np.ndarray:
    """n x T bool: follows at least one person active on the topic in the window."""
    f = sp.csr_array((np.ones(follower.size), (follower, followee)), shape=(n, n))
    return np.asarray((f @ active).toarray()) > 0


def uplift(
    graph: TopicGraph,
    split: Split,
    *,
    horizon: timedelta | None = None,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
    n_bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Adoption of exposed vs unexposed people, within strata, beside a placebo; per topic and pooled.

    One row per topic of the past graph with at least one adoption, and a
    pooled row (``topic`` null). Columns: ``people`` (present before T0 and
    new to the topic), ``exposed``, ``adopters``, ``base_rate``,
    ``exposed_rate``, ``unexposed_rate`` (raw), ``uplift`` (the stratified
    difference of rates, exposed minus unexposed), ``placebo`` (the same
    through shuffled follows), ``excess`` = uplift − placebo, each with a
    bootstrap interval over people (``*_low``, ``*_high``). Rates are
    fractions (0.01 = one point). See the module for the method.

    >>> from graphkit.io.datasets import load_ciao
    >>> from graphkit.evidence.split import split_at
    >>> g = load_ciao()
    >>> u = uplift(g, split_at(g, "2010-01-01"), horizon=timedelta(days=365), n_bootstrap=20)
    >>> pooled = u.filter(pl.col("topic").is_null()).row(0, named=True)
    >>> pooled["uplift"] > pooled["placebo"]
    True
    """
    past, t0 = split.past, split.cutoff
    n, topics = past.n_people, list(past.topics)
    n_topics = len(topics)
    people = past.person_index.rename({"idx": "row"})
    enum = pl.Enum(topics)

    def cells(table: pl.DataFrame, who: str = "person_id") -> tuple[np.ndarray, np.ndarray]:
        t = table.filter(pl.col("topic").is_in(topics)).join(people, left_on=who, right_on="person_id", how="inner")
        return t["row"].to_numpy().astype(np.int64), t["topic"].cast(enum).to_physical().to_numpy().astype(np.int64)

    # who followed whom (real and shuffled), and who was active on each topic in the window before T0
    pairs = follow_pairs(past)
    src, dst = past.index_of(pairs["follower"]), past.index_of(pairs["person_id"])
    rng = np.random.default_rng(seed)
    fake = rng.permutation(dst)
    keep = (fake != src) & ~np.isin(src * n + fake, src * n + dst)  # a shuffled pair that is a real follow is no placebo
    acts = activity_events(past)
    recent = acts if exposure_window is None else acts.filter(pl.col("ts") >= t0 - exposure_window)
    r, c = cells(recent)
    active = sp.csr_array((np.ones(r.size), (r, c)), shape=(n, n_topics))
    exposed = _exposure(src, dst, active, n)
    placebo = _exposure(src[keep], fake[keep], active, n)

    # who was new to each topic at T0, and who took it up in the horizon
    adopt = first_adoptions(graph)
    r, c = cells(adopt.filter(pl.col("adopted_at") < t0))
    new = np.ones((n, n_topics), dtype=bool)
    new[r, c] = False
    after = adopt.filter(pl.col("adopted_at") >= t0)
    if horizon is not None:
        after = after.filter(pl.col("adopted_at") < t0 + horizon)
    r, c = cells(after)
    adopted = np.zeros((n, n_topics), dtype=bool)
    adopted[r, c] = True

    # strata: own acts in the year before T0 x accounts followed
    r, _ = cells(acts.filter(pl.col("ts") >= t0 - timedelta(days=365)))
    own = np.bincount(r, minlength=n)
    following = np.bincount(src, minlength=n)
    n_f = len(FOLLOWING_BINS)
    stratum = _bins(own, ACTIVITY_BINS) * n_f + _bins(following, FOLLOWING_BINS)
    n_strata = len(ACTIVITY_BINS) * n_f

    rows, cols = np.nonzero(new)
    y = adopted[rows, cols].astype(np.float64)
    cell = cols * n_strata + stratum[rows]  # (topic, stratum)
    n_cells = n_topics * n_strata
    weights = np.ones((1 + n_bootstrap, n))
    if n_bootstrap:
        weights[1:] = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap)

    def tally(flag: np.ndarray) -> dict[str, np.ndarray]:
        """Per replicate and (topic, stratum): weighted people and adopters, exposed (1) or not (0)."""
        key = (2 * cell + flag[rows, cols]).astype(np.int64)
        m = sp.csr_array((np.ones(rows.size), (rows, key)), shape=(n, 2 * n_cells))
        a = sp.csr_array((y, (rows, key)), shape=(n, 2 * n_cells))
        cnt = np.asarray((m.T @ weights.T).T).reshape(-1, n_topics, n_strata, 2)
        ad = np.asarray((a.T @ weights.T).T).reshape(-1, n_topics, n_strata, 2)
        return {"n": cnt, "a": ad}

    def stratified(t: dict[str, np.ndarray], axis: tuple[int, ...] = (1, 2)) -> np.ndarray:
        cnt, ad = t["n"], t["a"]
        both = (cnt[..., 1] > 0) & (cnt[..., 0] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = np.where(both, ad[..., 1] / cnt[..., 1] - ad[..., 0] / cnt[..., 0], 0.0)
            wexp = np.where(both, cnt[..., 1], 0.0)
            return (wexp * diff).sum(axis=axis) / wexp.sum(axis=axis)

    real_t, fake_t = tally(exposed), tally(placebo)
    tail = (1 - level) / 2
    out = []

    def interval(v: np.ndarray) -> tuple[float, float]:
        boot = v[1:]
        boot = boot[~np.isnan(boot)]
        return tuple(float(x) for x in np.quantile(boot, [tail, 1 - tail])) if boot.size else (np.nan, np.nan)

    for ti, topic in enumerate([*topics, None]):
        part = slice(None) if topic is None else slice(ti, ti + 1)  # pooled: every (topic, stratum) is a stratum
        rt = {k: v[:, part] for k, v in real_t.items()}
        ft = {k: v[:, part] for k, v in fake_t.items()}
        n_people, n_exp = rt["n"][0].sum(), rt["n"][0][..., 1].sum()
        adopters = rt["a"][0].sum()
        if adopters == 0:
            continue
        up, pl_ = stratified(rt), stratified(ft)
        row = {"topic": topic, "people": int(n_people), "exposed": int(n_exp), "adopters": int(adopters),
               "base_rate": adopters / n_people,
               "exposed_rate": rt["a"][0][..., 1].sum() / n_exp if n_exp else np.nan,
               "unexposed_rate": rt["a"][0][..., 0].sum() / (n_people - n_exp) if n_people > n_exp else np.nan}
        for name, v in (("uplift", up), ("placebo", pl_), ("excess", up - pl_)):
            lo, hi = interval(v)
            row.update({name: float(v[0]), f"{name}_low": lo, f"{name}_high": hi})
        out.append(row)
    schema = {"topic": pl.String, "people": pl.Int64, "exposed": pl.Int64, "adopters": pl.Int64}
    schema.update({c: pl.Float64 for c in ("base_rate", "exposed_rate", "unexposed_rate")})
    for name in ("uplift", "placebo", "excess"):
        schema.update({name: pl.Float64, f"{name}_low": pl.Float64, f"{name}_high": pl.Float64})
    return pl.DataFrame(out, schema=schema, orient="row").with_columns(cutoff=pl.lit(t0)).select("cutoff", *schema)
