"""Backtest: do scores learned on the past pick the people whose followers take a topic up after them?

The question a brand asks of an influence score is behavioural: *if I pick the
people this score ranks first on a topic, will more of their followers take the
topic up after hearing about it from them than if I had picked otherwise?*
:func:`backtest` answers it on the caller's own data:

1. **Split** the data at a cut-off T0 (:func:`~graphkit.evidence.split.split_at`):
   scorers see only what was known before T0.
2. **Score** every scorer on that past graph: built-in peers and baselines,
   scores registered in :mod:`graphkit.scoring.registry`, or any function
   ``f(graph, *, topics) -> DataFrame(person_id, topic, score)``
   (:mod:`graphkit.evidence.scorers`).
3. **Outcomes** per (person, topic) from the full data
   (:mod:`graphkit.evidence.outcomes`). The default, ``attributed``, counts a
   follower's first adoption of the topic after T0 only when the person was
   active on the topic in the 180 days before it; ``attributed_split``
   splits each adoption among its exposers; ``followers_adoption`` counts
   every follower who adopts, whatever the person did (propensity, not
   influence: kept for comparison).
4. **Metrics** per topic over the candidates (people with a follower new to
   the topic): precision@k, NDCG@k, Spearman (:mod:`graphkit.evidence.metrics`),
   averaged over topics with enough candidates.
5. **Intervals** by bootstrapping people (one resample shared by every topic
   and scorer), and **paired differences** of every scorer with audience size
   and with the best simple baseline,
   ``posts_x_active_new_followers``, on the same resamples.
6. **Diagnostics** (:mod:`graphkit.evidence.diagnostics`): topic specificity
   of every scorer, and an uplift check of exposure against a placebo.

``a`` reviews frogs two months before the cut-off; two of its followers take
frogs up afterwards. ``e`` has the larger audience but never mentions frogs:

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> cooks = ["a", "b", "c", "d", "e", "f"]
>>> g = TopicGraph.from_tables(
...     pl.DataFrame({"person_id": cooks}),
...     pl.DataFrame({
...         "src": ["b", "c", "c", "d", "f"] + cooks + ["a", "b", "c"],
...         "dst": ["a", "a", "e", "e", "e"] + ["pan"] * 6 + ["frogbook"] * 3,
...         "kind": ["follows"] * 5 + ["reviews"] * 9,
...         "topic": [None] * 5 + ["cooking"] * 6 + ["frogs"] * 3,
...         "ts": [None] * 5 + ["2020-01-01"] * 6 + ["2020-04-01", "2020-09-01", "2020-09-01"],
...     }),
...     items=pl.DataFrame({"item_id": ["pan", "frogbook"], "topic": ["cooking", "frogs"]}),
... )
>>> def favour_e(graph, *, topics):  # a user scorer: any function of the past graph
...     return pl.DataFrame({"person_id": ["a", "e"], "topic": ["frogs", "frogs"], "score": [0.0, 1.0]})
>>> r = backtest(g, cutoffs=["2020-06-01"], scorers={"mine": favour_e}, ks=(1,), min_candidates=2, n_bootstrap=20,
...              uplift_check=False)
>>> r.table.filter(outcome="attributed", metric="precision").select("scorer", "value").rows()
[('posts_x_active_new_followers', 1.0), ('mine', 0.0), ('audience', 0.0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.evidence import outcomes as oc
from graphkit.evidence.diagnostics import mean_jaccard, top_set, top_share, uplift
from graphkit.evidence.metrics import METRICS, mean_over_topics, topic_metrics
from graphkit.evidence.scorers import (
    AUDIENCE,
    BEST_BASELINE,
    BUILTIN_SCORERS,
    Scorer,
    builtin_scorer,
    checked_scores,
    resolve_scorers,
)
from graphkit.evidence.split import POPULATIONS, Split, as_utc, split_at
from graphkit.model.adoption import EXPOSURE_WINDOW
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import topic_activity
from graphkit.progress import step
from graphkit.version import __version__

__all__ = [
    "BUILTIN_SCORERS", "CANDIDATES", "METRICS", "OUTCOMES", "POPULATIONS", "BacktestResult", "Split", "as_utc",
    "backtest", "builtin_scorer", "default_scorers", "outcomes", "plot_backtest", "report", "split_at",
]

#: Outcomes measured after the cut-off; the first is the default (see :mod:`graphkit.evidence.outcomes`).
OUTCOMES = oc.OUTCOMES
outcomes = oc.outcomes
#: Candidate policies of :func:`backtest`.
CANDIDATES: tuple[str, ...] = ("reach", "topic")
#: Topic specificity looks at the top 50 (share with no activity on the topic) and the top 10 (overlap across topics).
SPECIFICITY_K: tuple[int, int] = (50, 10)


def default_scorers() -> tuple[str, ...]:
    """Every built-in scorer, then every score registered in :mod:`graphkit.scoring.registry` not built in.

    >>> default_scorers()[:3]
    ('random', 'audience', 'active_audience')
    """
    from graphkit.scoring.registry import SCORES

    return BUILTIN_SCORERS + tuple(s for s in SCORES if s not in BUILTIN_SCORERS)


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` measured, and how.

    ``table``: one row per cut-off, outcome, metric, k and scorer: the mean
    over topics (``value``) with its bootstrap interval (``low``, ``high``);
    the paired difference with audience size (``vs_audience``,
    ``vs_audience_low``, ``vs_audience_high``, and ``share_above_audience``,
    the share of resamples where the scorer is above it) and with the best
    simple baseline, ``posts_x_active_new_followers`` (``vs_baseline``, ...).
    ``per_topic``: every metric of every scorer on every topic. ``splits``:
    what each split kept. ``topics``: every topic with its candidates,
    positives and whether it was evaluated. ``specificity``: per cut-off and
    scorer, ``top_inactive_share`` (share of the top 50 with no activity on
    the topic before T0, mean over topics) and ``top10_jaccard`` (mean
    overlap of top-10 lists across topics). ``uplift``: the uplift check per
    cut-off and topic (see :func:`graphkit.evidence.diagnostics.uplift`; empty
    when not run).
    """

    table: pl.DataFrame
    per_topic: pl.DataFrame
    splits: pl.DataFrame
    topics: pl.DataFrame
    specificity: pl.DataFrame
    uplift: pl.DataFrame
    parameters: dict[str, Any]
    version: str = __version__

    def plot(self, **kwargs: Any):
        """Shortcut for :func:`plot_backtest`."""
        return plot_backtest(self, **kwargs)

    def report(self, **kwargs: Any) -> str:
        """Shortcut for :func:`report`."""
        return report(self, **kwargs)


def backtest(
    graph: TopicGraph,
    *,
    cutoffs: Sequence[datetime | date | str],
    scorers: Iterable[str | Scorer] | Mapping[str, str | Scorer] | None = None,
    ks: Sequence[int] = (10, 50),
    horizon: timedelta | None = None,
    exposure_window: timedelta | None = EXPOSURE_WINDOW,
    outcomes: Sequence[str] = OUTCOMES,
    population: str = "active",
    candidates: str = "reach",
    min_candidates: int = 100,
    shrinkage: float = 10.0,
    n_bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    damping_factor: float = 0.85,
    uplift_check: bool = True,
    progress: bool = False,
) -> BacktestResult:
    """Learn every score before each cut-off, measure attributed adoption after it, compare with intervals.

    ``scorers``: names (built-in, :data:`BUILTIN_SCORERS`, or registered in
    :mod:`graphkit.scoring.registry`) and/or functions ``f(graph, *, topics)
    -> DataFrame(person_id, topic, score)``; a dict names them; None = all
    (:func:`default_scorers`). Audience size and
    ``posts_x_active_new_followers`` are always added: every scorer is
    compared with both. ``ks``: the k of precision@k and NDCG@k.
    ``horizon``: how long after T0 adoptions count (None: to the end of the
    data; also the look-back of the ``past_attributed`` baseline, a year when
    None). ``exposure_window``: how long before a follower's adoption the
    person's activity on the topic counts for the attributed outcomes (None:
    any time before). ``outcomes``: which of :data:`OUTCOMES` to measure.
    ``population``: see :func:`~graphkit.evidence.split.split_at`.
    ``candidates``: who is ranked on a topic -- ``"reach"`` (default)
    everyone with a follower new to the topic, ``"topic"`` only those among
    them who had contributed on the topic before T0. A topic is evaluated
    when it has ``min_candidates`` candidates and a positive outcome.
    ``shrinkage``: prior strength of ``followers_adoption_rate``.
    ``n_bootstrap`` resamples of people give intervals at ``level``; ``seed``
    fixes them, the random scorer and the placebo. ``uplift_check``: run the
    uplift diagnostic.

    >>> from datetime import timedelta
    >>> from graphkit.io.datasets import load_ciao
    >>> r = backtest(load_ciao(), cutoffs=["2010-01-01"], scorers=["random", "audience"], horizon=timedelta(days=365),
    ...              n_bootstrap=10, uplift_check=False)
    >>> r.table.filter(outcome="attributed", metric="ndcg", k=10).sort("value")["scorer"].to_list()
    ['random', 'audience', 'posts_x_active_new_followers']
    """
    if not cutoffs:
        raise GraphkitError("give at least one cut-off, e.g. cutoffs=['2008-01-01']")
    if candidates not in CANDIDATES:
        raise GraphkitError(f"candidates must be one of {CANDIDATES}; got {candidates!r}")
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1:
        raise GraphkitError(f"ks must be positive integers; got {ks}")
    if n_bootstrap < 0 or not 0 < level < 1:
        raise GraphkitError(f"need n_bootstrap >= 0 and 0 < level < 1; got {n_bootstrap}, {level}")
    if min_candidates < 2:
        raise GraphkitError(f"min_candidates must be at least 2 (a ranking of one is no test); got {min_candidates}")
    chosen_outcomes = tuple(dict.fromkeys(outcomes))
    bad = [o for o in chosen_outcomes if o not in OUTCOMES]
    if bad or not chosen_outcomes:
        raise GraphkitError(f"outcomes must be among {OUTCOMES}; got {list(outcomes)}")
    named = resolve_scorers(default_scorers() if scorers is None else scorers, seed=seed,
                            damping_factor=damping_factor, horizon=horizon or timedelta(days=365),
                            exposure_window=exposure_window)
    parts: dict[str, list[pl.DataFrame]] = {k: [] for k in ("table", "per", "topics", "spec", "uplift")}
    splits = []
    when = sorted(as_utc(c) for c in cutoffs)
    for ci, cutoff in enumerate(when):
        with step(f"backtest: split at {cutoff:%Y-%m-%d} and outcomes", enabled=progress):
            split = split_at(graph, cutoff, population=population)
            out = oc.outcomes(graph, split, horizon=horizon, exposure_window=exposure_window, shrinkage=shrinkage)
        splits.append({"cutoff": cutoff, **split.counts})
        scores = {}
        for name, fn in named.items():
            with step(f"backtest: scoring {name}", enabled=progress):
                scores[name] = checked_scores(name, fn(split.past, topics=split.past.topics))
        with step(f"backtest: metrics with {n_bootstrap} resamples", enabled=progress):
            rng = np.random.default_rng([seed, ci])
            ev = _evaluate(out, scores, split, outcomes=chosen_outcomes, ks=ks, candidates=candidates,
                           min_candidates=min_candidates, n_bootstrap=n_bootstrap, level=level, rng=rng)
        for key, frame in zip(("table", "per", "topics", "spec"), ev):
            parts[key].append(frame.with_columns(cutoff=pl.lit(cutoff)))
        if uplift_check:
            with step("backtest: uplift check", enabled=progress):
                parts["uplift"].append(uplift(graph, split, horizon=horizon, exposure_window=exposure_window,
                                              n_bootstrap=n_bootstrap, level=level, seed=seed))
    first = ["cutoff", "outcome", "metric", "k", "scorer"]
    table = pl.concat(parts["table"])
    table = table.select(first + [c for c in table.columns if c not in first])
    per = pl.concat(parts["per"]).select("cutoff", "outcome", "topic", "metric", "k", "scorer", "value")
    spec = pl.concat(parts["spec"])
    spec = spec.select("cutoff", *[c for c in spec.columns if c != "cutoff"])
    ups = pl.concat(parts["uplift"]) if parts["uplift"] else pl.DataFrame()
    params = dict(cutoffs=[c.isoformat() for c in when], scorers=list(named), ks=list(ks),
                  horizon_days=None if horizon is None else horizon.total_seconds() / 86400,
                  exposure_window_days=None if exposure_window is None else exposure_window.total_seconds() / 86400,
                  outcomes=list(chosen_outcomes), population=population, candidates=candidates,
                  min_candidates=min_candidates, shrinkage=shrinkage, n_bootstrap=n_bootstrap, level=level, seed=seed,
                  damping_factor=damping_factor, references=[AUDIENCE, BEST_BASELINE], source=graph.source)
    return BacktestResult(table=table, per_topic=per, splits=pl.DataFrame(splits), topics=pl.concat(parts["topics"]),
                          specificity=spec, uplift=ups, parameters=params)


def _interval(values: np.ndarray, tail: float) -> tuple[float, float]:
    boot = values[1:]
    if not boot.size or np.all(np.isnan(boot)):
        return (float("nan"), float("nan"))
    lo, hi = np.nanquantile(boot, [tail, 1 - tail])
    return (float(lo), float(hi))


def _evaluate(out: pl.DataFrame, scores: dict[str, pl.DataFrame], split: Split, *, outcomes: tuple[str, ...],
              ks: tuple[int, ...], candidates: str, min_candidates: int, n_bootstrap: int, level: float,
              rng: np.random.Generator) -> tuple[pl.DataFrame, ...]:
    past = split.past
    own = topic_activity(past).tocoo()  # who had contributed on which topic before T0
    active = pl.DataFrame({
        "person_id": past.people["person_id"].gather(own.row),
        "topic": pl.Series(np.asarray(past.topics, dtype=object)[own.col], dtype=pl.String),
    }).unique().with_columns(active_before=pl.lit(True))
    cand = (
        out.filter(pl.col("eligible") > 0)
        .join(active, on=["person_id", "topic"], how="left")
        .with_columns(pl.col("active_before").fill_null(False))
    )
    if candidates == "topic":
        cand = cand.filter("active_before")
    for name, s in scores.items():
        cand = cand.join(s.rename({"score": f"s:{name}"}), on=["person_id", "topic"], how="left")
    main = outcomes[0]
    stats = cand.group_by("topic").agg(candidates=pl.len(), positives=(pl.col(main) > 0).sum(),
                                       missing=pl.sum_horizontal(*[pl.col(f"s:{n}").is_null().sum() for n in scores]))
    topics = (
        pl.DataFrame({"topic": list(past.topics)}, schema={"topic": pl.String})
        .join(stats, on="topic", how="left")
        .with_columns(pl.col("candidates", "positives", "missing").fill_null(0))
        .with_columns(evaluated=(pl.col("candidates") >= min_candidates) & (pl.col("positives") > 0))
    )
    chosen = topics.filter("evaluated")["topic"].to_list()
    if not chosen:
        raise GraphkitError(
            f"no topic can be evaluated at {split.cutoff:%Y-%m-%d}: none has {min_candidates} candidates (people with "
            f"a follower new to the topic) and a positive {main} outcome after the cut-off; lower min_candidates, "
            "lengthen the horizon or move the cut-off")
    cand = cand.filter(pl.col("topic").is_in(chosen))
    people = cand.select("person_id").unique().sort("person_id").with_row_index("pos")
    cand = cand.join(people, on="person_id", how="left")
    n_people = people.height
    w_all = np.ones((1 + n_bootstrap, n_people), dtype=np.int64)
    if n_bootstrap:
        w_all[1:] = rng.multinomial(n_people, np.full(n_people, 1.0 / n_people), size=n_bootstrap)
    results: dict[tuple[str, str, str, int | None], list[np.ndarray]] = {}
    per_rows, inactive_share, tops = [], {n: [] for n in scores}, {n: [] for n in scores}
    top_k, jac_k = SPECIFICITY_K
    for (topic,), rows in sorted(cand.partition_by("topic", as_dict=True).items()):
        w = w_all[:, rows["pos"].to_numpy()]
        gains = {}
        for outcome in outcomes:
            y = rows[outcome].to_numpy().astype(np.float64)
            gains[outcome] = y - y.min()  # the least-adopting candidate gains nothing
        # a person the scorer did not score ranks below everyone it did
        s = {name: np.nan_to_num(rows[f"s:{name}"].fill_nan(None).to_numpy().astype(np.float64), nan=-np.inf)
             for name in scores}
        for (outcome, metric, k, name), vals in topic_metrics(w, s, gains, ks).items():
            results.setdefault((outcome, metric, name, k), []).append(vals)
            per_rows.append((outcome, topic, metric, k, name, float(vals[0])))
        silent = ~rows["active_before"].to_numpy()
        ids = rows["person_id"].to_numpy()
        for name, score in s.items():
            inactive_share[name].append(top_share(score, silent, top_k))
            tops[name].append(top_set(score, ids, jac_k, rng))
    tail = (1 - level) / 2
    table_rows = []
    for (outcome, metric, name, k), vals in results.items():
        mean = mean_over_topics(vals)  # per replicate
        row = {"outcome": outcome, "metric": metric, "k": k, "scorer": name, "value": float(mean[0])}
        row["low"], row["high"] = _interval(mean, tail)
        for ref, label in ((AUDIENCE, "audience"), (BEST_BASELINE, "baseline")):
            diff = mean - mean_over_topics(results[(outcome, metric, ref, k)])
            row[f"vs_{label}"] = float(diff[0])
            row[f"vs_{label}_low"], row[f"vs_{label}_high"] = _interval(diff, tail)
            row[f"share_above_{label}"] = float(np.mean(diff[1:] > 0)) if n_bootstrap else float("nan")
        row.update(n_topics=len(chosen), n_people=n_people)
        table_rows.append(row)
    schema = {"outcome": pl.String, "metric": pl.String, "k": pl.Int64, "scorer": pl.String, "value": pl.Float64,
              "low": pl.Float64, "high": pl.Float64}
    for label in ("audience", "baseline"):
        schema.update({f"vs_{label}": pl.Float64, f"vs_{label}_low": pl.Float64, f"vs_{label}_high": pl.Float64,
                       f"share_above_{label}": pl.Float64})
    schema.update(n_topics=pl.Int64, n_people=pl.Int64)
    table = pl.DataFrame(table_rows, schema=schema, orient="row")
    order_o = {o: i for i, o in enumerate(outcomes)}
    order_m = {m: i for i, m in enumerate(METRICS)}
    table = table.sort(pl.col("outcome").replace_strict(order_o, return_dtype=pl.Int64),
                       pl.col("metric").replace_strict(order_m, return_dtype=pl.Int64), "k", "value",
                       descending=[False, False, False, True], nulls_last=True, maintain_order=True)
    per = pl.DataFrame(per_rows, schema={"outcome": pl.String, "topic": pl.String, "metric": pl.String, "k": pl.Int64,
                                         "scorer": pl.String, "value": pl.Float64}, orient="row")
    spec = pl.DataFrame({
        "scorer": list(scores),
        "top_inactive_share": [float(np.nanmean(inactive_share[n])) for n in scores],
        "top10_jaccard": [mean_jaccard(tops[n]) for n in scores],
        "n_topics": [len(chosen)] * len(scores),
    }, schema={"scorer": pl.String, "top_inactive_share": pl.Float64, "top10_jaccard": pl.Float64,
               "n_topics": pl.Int64})
    return table, per, topics, spec


# --------------------------------------------------------------------------- report
def report(result: BacktestResult, *, outcome: str | None = None, panels: Sequence[tuple[str, int]] = (
        ("precision", 50), ("ndcg", 10))) -> str:
    """The backtest as text: per cut-off, every scorer on each panel (metric, k) with paired differences, then
    topic specificity and the pooled uplift check.

    ``outcome``: the outcome shown (default: the first measured, ``attributed``).
    """
    outcome = outcome or result.parameters["outcomes"][0]
    if outcome not in result.parameters["outcomes"]:
        raise GraphkitError(f"outcome {outcome!r} was not measured; measured: {result.parameters['outcomes']}")
    level = int(round(100 * result.parameters["level"]))
    lines = []
    for (cutoff,), rows in result.table.filter(pl.col("outcome") == outcome).group_by("cutoff", maintain_order=True):
        lines.append(f"cut-off {cutoff:%Y-%m-%d}: {outcome}, mean over {rows['n_topics'][0]} topics, {level}% "
                     f"intervals over {rows['n_people'][0]} people; paired differences vs audience and vs "
                     f"{BEST_BASELINE}")
        for metric, k in panels:
            part = rows.filter((pl.col("metric") == metric) & (pl.col("k") == k))
            if part.is_empty():
                continue
            lines.append(f"  {metric}@{k}")
            for r in part.iter_rows(named=True):
                lines.append(f"    {r['scorer']:<32} {r['value']:6.3f} [{r['low']:6.3f}, {r['high']:6.3f}]   "
                             f"vs audience {r['vs_audience']:+6.3f} [{r['vs_audience_low']:+6.3f}, "
                             f"{r['vs_audience_high']:+6.3f}]   vs baseline {r['vs_baseline']:+6.3f} "
                             f"[{r['vs_baseline_low']:+6.3f}, {r['vs_baseline_high']:+6.3f}]")
        spec = result.specificity.filter(pl.col("cutoff") == cutoff).sort("top_inactive_share", nulls_last=True)
        lines.append(f"  topic specificity: share of the top {SPECIFICITY_K[0]} with no activity on the topic before "
                     f"T0; mean Jaccard of top-{SPECIFICITY_K[1]} lists across topics")
        for r in spec.iter_rows(named=True):
            lines.append(f"    {r['scorer']:<32} {r['top_inactive_share']:6.3f}   {r['top10_jaccard']:6.3f}")
        if not result.uplift.is_empty():
            u = result.uplift.filter((pl.col("cutoff") == cutoff) & pl.col("topic").is_null())
            for r in u.iter_rows(named=True):
                lines.append(
                    f"  uplift check (all topics): base rate {100 * r['base_rate']:.2f}%; exposed vs unexposed "
                    f"{100 * r['uplift']:+.2f} points [{100 * r['uplift_low']:+.2f}, {100 * r['uplift_high']:+.2f}], "
                    f"placebo {100 * r['placebo']:+.2f} [{100 * r['placebo_low']:+.2f}, "
                    f"{100 * r['placebo_high']:+.2f}], excess {100 * r['excess']:+.2f} "
                    f"[{100 * r['excess_low']:+.2f}, {100 * r['excess_high']:+.2f}]")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- plot
def plot_backtest(result: BacktestResult, *, outcome: str | None = None, cutoff: datetime | date | str | None = None,
                  axes: Sequence[Any] | None = None):
    """Scorers x metric: the mean over topics with its bootstrap interval, one panel per metric.

    Returns the list of Axes (one per metric and k). ``outcome``: default the
    first measured (``attributed``). ``cutoff`` picks one cut-off (default:
    the last). Dashed lines mark audience size (red) and the best simple
    baseline (green).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from graphkit.io.datasets import load_ciao
    >>> r = backtest(load_ciao(), cutoffs=["2009-01-01"], scorers=["random"], n_bootstrap=5, uplift_check=False)
    >>> len(plot_backtest(r))
    5
    """
    import matplotlib.pyplot as plt

    outcome = outcome or result.parameters["outcomes"][0]
    if outcome not in result.parameters["outcomes"]:
        raise GraphkitError(f"outcome must be one of {result.parameters['outcomes']}; got {outcome!r}")
    t = result.table.filter(pl.col("outcome") == outcome)
    when = as_utc(cutoff) if cutoff is not None else t["cutoff"].max()
    t = t.filter(pl.col("cutoff") == when)
    if t.is_empty():
        raise GraphkitError(f"no backtest rows for cut-off {when}; cut-offs are {result.parameters['cutoffs']}")
    panels = t.select("metric", "k").unique(maintain_order=True).rows()
    if axes is None:
        fig, axs = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 0.45 * t["scorer"].n_unique() + 1.6),
                                sharey=True, squeeze=False)
        axes = list(axs[0])
        fig.suptitle(f"backtest at {when:%Y-%m-%d}: {outcome.replace('_', ' ')}, "
                     f"{int(t['n_topics'][0])} topics, {int(round(100 * result.parameters['level']))}% intervals")
    if len(axes) != len(panels):
        raise GraphkitError(f"plot_backtest needs {len(panels)} axes (one per metric and k); got {len(axes)}")
    first = t.filter((pl.col("metric") == panels[0][0]) & pl.col("k").eq_missing(panels[0][1]))
    names = first.sort("value", maintain_order=True)["scorer"].to_list()
    refs = {AUDIENCE: "tab:red", BEST_BASELINE: "tab:green"}
    for ax, (metric, k) in zip(axes, panels):
        rows = {r["scorer"]: r for r in t.filter((pl.col("metric") == metric) & pl.col("k").eq_missing(k))
                .iter_rows(named=True)}
        y = np.arange(len(names))
        vals = np.array([rows[n]["value"] for n in names])
        # a percentile interval need not contain the point estimate (few resamples): draw what lies beyond it
        err = np.array([[rows[n]["value"] - rows[n]["low"], rows[n]["high"] - rows[n]["value"]] for n in names]).T
        ax.errorbar(vals, y, xerr=np.clip(np.nan_to_num(err), 0, None), fmt="none", ecolor="grey", capsize=3)
        ax.scatter(vals, y, c=[refs.get(n, "tab:blue") for n in names], zorder=3)
        for ref, color in refs.items():
            ax.axvline(rows[ref]["value"], color=color, ls="--", lw=0.8)
        ax.set_yticks(y, names)
        ax.set_title(f"{metric}@{k}" if k is not None else metric)
        ax.grid(axis="x", alpha=0.3)
    return list(axes)
