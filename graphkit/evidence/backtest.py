"""Backtest: do scores learned on the past predict what people's followers do next?

The question a brand asks of an influence score is behavioural: *if I pick the
people this score ranks first on a topic, will more of their followers take up
the topic afterwards than if I had picked by audience size?* :func:`backtest`
answers it on the caller's own data:

1. **Split** the data at a cut-off time T0 (:func:`split_at`). Scorers see a
   graph that holds only what was known before T0: dated events before T0, and
   the people and follow edges present before T0 (see :func:`split_at` for why
   this restriction is the default).
2. **Score** every requested scorer on that past graph. A scorer is a function
   ``scorer(graph, *, topics) -> DataFrame`` with ``person_id, topic, score``
   (or a result with such a ``.table``); built-ins are listed in
   :data:`BUILTIN_SCORERS`.
3. **Outcome** per (person, topic), from the full data (:func:`outcomes`):
   ``count`` = followers who adopt the topic for the first time after T0, and
   ``rate`` = the same over the followers who could still adopt it (had not
   adopted before T0), shrunk toward the topic's mean rate so that small
   audiences do not dominate the top of the ranking by luck.
4. **Metrics** per topic: precision@k, NDCG@k and Spearman correlation between
   score and outcome over the candidates; averaged over topics with enough
   candidates. Ties in a score are handled exactly (the expected metric over a
   random order of tied people), so a coarse score gains nothing from lucky
   tie-breaking.
5. **Intervals** by bootstrapping people (the same resample for every topic
   and scorer: topics share people, so resampling topics would understate the
   error), and a **paired comparison** of every scorer against audience size
   on the same resamples.

Six people review cooking and ``a`` reviews frogs before the cut-off; ``e``
has the larger audience, but two of ``a``'s followers take up frogs afterwards
(one of them follows ``e`` too):

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> from graphkit.evidence.backtest import backtest
>>> cooks = ["a", "b", "c", "d", "e", "f"]
>>> g = TopicGraph.from_tables(
...     pl.DataFrame({"person_id": cooks}),
...     pl.DataFrame({
...         "src": ["b", "c", "c", "d", "f"] + cooks + ["a", "b", "c"],
...         "dst": ["a", "a", "e", "e", "e"] + ["pan"] * 6 + ["frogbook"] * 3,
...         "kind": ["follows"] * 5 + ["reviews"] * 9,
...         "topic": [None] * 5 + ["cooking"] * 6 + ["frogs"] * 3,
...         "ts": [None] * 5 + ["2020-01-01"] * 7 + ["2021-01-01"] * 2,
...     }),
...     items=pl.DataFrame({"item_id": ["pan", "frogbook"], "topic": ["cooking", "frogs"]}),
... )
>>> def favour_a(graph, *, topics):  # a user scorer: any function of the past graph
...     return pl.DataFrame({"person_id": ["a", "e"], "topic": ["frogs", "frogs"], "score": [1.0, 0.0]})
>>> r = backtest(g, cutoffs=["2020-06-01"], scorers={"mine": favour_a}, ks=(1,), min_candidates=2, n_bootstrap=20)
>>> r.table.filter(outcome="count", metric="precision").select("scorer", "value").rows()
[('mine', 1.0), ('audience', 0.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import PERSON_KINDS, TopicGraph
from graphkit.model.topics import first_adoptions, topic_structure
from graphkit.model.topics import topic_activity as activity_matrix
from graphkit.progress import step
from graphkit.scoring.reach import data_end
from graphkit.version import __version__

#: Scorers available by name (see :func:`builtin_scorer`).
BUILTIN_SCORERS: tuple[str, ...] = (
    "random", "audience", "active_audience", "pagerank", "topic_activity", "topic_influence", "expected_reach",
)
#: Metrics reported per topic, in this order.
METRICS: tuple[str, ...] = ("precision", "ndcg", "spearman")
#: Outcomes measured after the cut-off.
OUTCOMES: tuple[str, ...] = ("count", "rate")
#: Population policies of :func:`split_at`.
POPULATIONS: tuple[str, ...] = ("active", "all")
#: Candidate policies of :func:`backtest`.
CANDIDATES: tuple[str, ...] = ("reach", "topic")
#: The scorer every other one is compared with.
BASELINE = "audience"
#: Undated edges of these kinds are structure (not events) and may cross the cut-off.
STRUCTURAL_KINDS: tuple[str, ...] = ("follows", "member_of")

Scorer = Callable[..., Any]


# ---------------------------------------------------------------------------- split
@dataclass(frozen=True)
class Split:
    """The past graph at one cut-off, and what the split kept and left out.

    ``counts`` has: ``people`` / ``people_excluded`` (present before the
    cut-off or not), ``follows`` / ``follows_excluded``, ``events_before`` /
    ``events_after`` (dated edges and transactions), ``undated_events_excluded``
    (topic-labelled or referral edges without a timestamp: their time is
    unknown, so they are on neither side).
    """

    cutoff: datetime
    population: str
    past: TopicGraph
    counts: dict[str, int]


def as_utc(when: datetime | date | str) -> datetime:
    """A cut-off as a UTC datetime (naive values and dates are taken as UTC).

    >>> as_utc("2008-01-01")
    datetime.datetime(2008, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
        except ValueError:
            raise GraphkitError(f"cut-off {when!r} is not an ISO date or datetime (e.g. 2008-01-01)") from None
    if isinstance(when, date) and not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if not isinstance(when, datetime):
        raise GraphkitError(f"cut-off must be a datetime, date or ISO text; got {type(when).__name__}")
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _customers(graph: TopicGraph) -> pl.DataFrame:
    return graph.people.select("person_id", "customer_id").drop_nulls("customer_id")


def split_at(graph: TopicGraph, cutoff: datetime | date | str, *, population: str = "active") -> Split:
    """The graph as it was known before ``cutoff``: nothing from T0 on reaches it.

    Kept: dated edges and transactions before T0; undated follow and
    membership edges (structure) between people present before T0; the items
    and communities those rows refer to (so a topic first seen after T0 is not
    in the past graph's vocabulary). ``people.joined`` / ``last_active`` from
    T0 on are replaced by what was known before T0. Undated topic-labelled
    edges are left out (their time is unknown) and counted.

    ``population="active"`` (default) keeps only people present before T0
    (they authored, received or paid for something dated before T0), and
    follow edges between them. Follow edges are usually undated, so without
    this a follower who joined after T0 would sit in the past audience of the
    person they follow, and their later adoption would be credited to scores
    that could not have known about them. ``population="all"`` keeps everyone
    and every undated edge (use it only when follows are known to predate T0).

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "late"]}),
    ...     pl.DataFrame({"src": ["b", "late", "a", "late"], "dst": ["a", "a", "x", "x"],
    ...                   "kind": ["follows", "follows", "reviews", "reviews"], "topic": [None, None, "t", "t"],
    ...                   "ts": [None, None, "2020-01-01", "2021-01-01"]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
    >>> s = split_at(g, "2020-06-01")
    >>> s.past.people["person_id"].to_list(), s.counts["follows_excluded"]
    (['a'], 2)
    """
    if population not in POPULATIONS:
        raise GraphkitError(f"population must be one of {POPULATIONS}; got {population!r}")
    t0 = as_utc(cutoff)
    e = graph.edges
    before = pl.col("ts") < t0
    dated = e.filter(before)
    tx = graph.transactions.filter(before)
    tx_people = tx.join(_customers(graph), on="customer_id", how="inner").select("person_id", "ts")
    seen = pl.concat([dated.select(person_id="src", ts="ts"), tx_people])
    if population == "active":
        received = dated.filter(pl.col("kind").is_in(PERSON_KINDS)).select(person_id="dst")
        present = pl.concat([seen.select("person_id"), received]).unique()["person_id"]
    else:
        present = graph.people["person_id"]
    undated = e.filter(pl.col("ts").is_null())
    structural = undated.filter(pl.col("kind").is_in(STRUCTURAL_KINDS))
    keep = structural.filter(
        pl.col("src").is_in(present.implode())
        & ((pl.col("kind") != "follows") | pl.col("dst").is_in(present.implode()))
    )
    edges = pl.concat([dated.filter(pl.col("src").is_in(present.implode())), keep])
    last_seen = seen.group_by("person_id").agg(last_seen=pl.col("ts").max())
    people = (
        graph.people.filter(pl.col("person_id").is_in(present.implode()))
        .join(last_seen, on="person_id", how="left", maintain_order="left")
        .with_columns(
            joined=pl.when(pl.col("joined") < t0).then(pl.col("joined")),
            last_active=pl.when(pl.col("last_active") < t0).then(pl.col("last_active")).otherwise(pl.col("last_seen")),
        )
        .drop("last_seen")
    )
    tx = tx.filter(pl.col("customer_id").is_in(people["customer_id"].drop_nulls().implode()))
    used_items = pl.concat([edges.filter(pl.col("kind") == "reviews")["dst"], tx["item_id"]]).unique()
    used_communities = edges.filter(pl.col("kind") == "member_of")["dst"].unique()
    past = TopicGraph.from_tables(
        people,
        edges,
        items=graph.items.filter(pl.col("item_id").is_in(used_items.implode())),
        communities=graph.communities.filter(pl.col("community_id").is_in(used_communities.implode())),
        transactions=tx,
        handles=graph.handles.filter(pl.col("person_id").is_in(present.implode())),
        source=f"{graph.source or 'graph'} before {t0:%Y-%m-%d %H:%M}",
    )
    n_follows = int((e["kind"] == "follows").sum())
    kept_follows = int((edges["kind"] == "follows").sum())
    counts = {
        "people": people.height,
        "people_excluded": graph.people.height - people.height,
        "follows": kept_follows,
        "follows_excluded": n_follows - kept_follows,
        "events_before": dated.height + graph.transactions.filter(before).height,
        "events_after": e.filter(pl.col("ts") >= t0).height + graph.transactions.filter(pl.col("ts") >= t0).height,
        "undated_events_excluded": undated.height - structural.height,
    }
    return Split(cutoff=t0, population=population, past=past, counts=counts)


# ------------------------------------------------------------------------- outcomes
def outcomes(
    graph: TopicGraph,
    split: Split,
    *,
    horizon: timedelta | None = None,
    shrinkage: float = 10.0,
) -> pl.DataFrame:
    """What each person's followers did after the cut-off, per (person, topic).

    Followers are those of the past graph (so, by default, present before T0).
    Columns: ``person_id, topic, audience`` (followers), ``eligible``
    (followers who had not adopted the topic before T0), ``count`` (followers
    whose first adoption of the topic falls in ``[T0, T0 + horizon)``; no
    horizon = to the end of the data), ``rate`` = ``(count + shrinkage * p) /
    (eligible + shrinkage)`` where ``p`` is the topic's pooled rate (all its
    adoptions over all eligible follower slots), so a person with 2 eligible
    followers who both adopt is not ranked above one with 200 of whom 150 do.
    Rows: every person with at least one follower x every topic of the past.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b", "a", "b"], "dst": ["a", "x", "x"], "kind": ["follows", "reviews", "reviews"],
    ...                   "topic": [None, "t", "t"], "ts": [None, "2020-01-01", "2020-02-01"]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
    >>> s = split_at(g, "2020-01-15", population="all")
    >>> outcomes(g, s).select("person_id", "eligible", "count").row(0)
    ('a', 1, 1)
    """
    if shrinkage < 0 or not math.isfinite(shrinkage):
        raise GraphkitError(f"shrinkage must be a finite number >= 0; got {shrinkage}")
    t0 = split.cutoff
    end = t0 + horizon if horizon is not None else None
    follows = (
        split.past.edges.filter((pl.col("kind") == "follows") & (pl.col("src") != pl.col("dst")))
        .select(follower="src", person_id="dst")
        .unique()
    )
    adopt = first_adoptions(graph)
    pre = adopt.filter(pl.col("adopted_at") < t0)
    new = adopt.filter(pl.col("adopted_at") >= t0)
    if end is not None:
        new = new.filter(pl.col("adopted_at") < end)

    def followers_in(table: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            follows.join(table.select(follower="person_id", topic="topic"), on="follower", how="inner")
            .group_by("person_id", "topic")
            .agg(pl.len().cast(pl.Int64).alias(name))
        )

    audience = follows.group_by("person_id").agg(audience=pl.len().cast(pl.Int64))
    topics = pl.DataFrame({"topic": list(split.past.topics)}, schema={"topic": pl.String})
    grid = (
        audience.join(topics, how="cross")
        .join(followers_in(pre, "adopted_before"), on=["person_id", "topic"], how="left")
        .join(followers_in(new, "count"), on=["person_id", "topic"], how="left")
        .with_columns(pl.col("adopted_before", "count").fill_null(0))
        .with_columns(eligible=pl.col("audience") - pl.col("adopted_before"))
    )
    pooled = grid.group_by("topic").agg(
        prior=pl.when(pl.col("eligible").sum() > 0).then(pl.col("count").sum() / pl.col("eligible").sum()).otherwise(0.0)
    )
    return (
        grid.join(pooled, on="topic", how="left")
        .with_columns(rate=(pl.col("count") + shrinkage * pl.col("prior")) / (pl.col("eligible") + shrinkage))
        .select("person_id", "topic", "audience", "eligible", "count", "rate")
        .sort("topic", "person_id")
    )


# -------------------------------------------------------------------------- scorers
def _audience_scores(graph: TopicGraph, *, topics: Sequence[str], active: bool) -> pl.DataFrame:
    last = data_end(graph)
    window = (last - timedelta(days=365), None) if active and last is not None else None
    s = topic_structure(graph, window=window)
    counts = s.active_audience if active else s.audience
    return _broadcast(graph.people.select("person_id").with_columns(score=pl.Series(counts, dtype=pl.Float64)), topics)


def _broadcast(per_person: pl.DataFrame, topics: Sequence[str]) -> pl.DataFrame:
    """A topic-free score repeated for every topic."""
    return per_person.join(pl.DataFrame({"topic": list(topics)}, schema={"topic": pl.String}), how="cross")


def _matrix_scores(graph: TopicGraph, values: np.ndarray, topics: Sequence[str]) -> pl.DataFrame:
    """Long table from an n x T matrix in the graph's person and topic order."""
    idx = [graph.topic_of(t) for t in topics]
    n = graph.n_people
    return pl.DataFrame({
        "person_id": np.tile(graph.people["person_id"].to_numpy(), len(idx)),
        "topic": np.repeat(np.asarray(topics, dtype=object), n),
        "score": np.asarray(values)[:, idx].T.reshape(-1).astype(np.float64),
    }, schema={"person_id": pl.String, "topic": pl.String, "score": pl.Float64})


def builtin_scorer(name: str, *, seed: int = 0, damping_factor: float = 0.85) -> Scorer:
    """A built-in scorer by name: ``scorer(graph, *, topics) -> DataFrame(person_id, topic, score)``.

    - ``random``: uniform noise (seeded), the floor every score must beat;
    - ``audience``: number of followers;
    - ``active_audience``: followers who contributed in the last 365 days of the graph's data;
    - ``pagerank``: global PageRank of the follow graph (igraph, ``damping_factor``), one number per person;
    - ``topic_activity``: the person's own contributions on the topic;
    - ``topic_influence``: :func:`graphkit.scoring.influence.topic_influence` (score column);
    - ``expected_reach``: :func:`graphkit.scoring.reach.expected_reach` (score column).

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    >>> builtin_scorer("audience")(g, topics=["t"]).sort("person_id")["score"].to_list()
    [1.0, 0.0]
    """
    if name == "random":
        def random(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            rng = np.random.default_rng(seed)
            return _matrix_scores(graph, rng.random((graph.n_people, len(graph.topics))), topics)
        return random
    if name in ("audience", "active_audience"):
        def audience(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return _audience_scores(graph, topics=topics, active=name == "active_audience")
        return audience
    if name == "pagerank":
        def pagerank(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            pr = graph.igraph(("follows",)).pagerank(weights="weight", damping=damping_factor, directed=True)
            return _broadcast(graph.people.select("person_id").with_columns(score=pl.Series(pr, dtype=pl.Float64)), topics)
        return pagerank
    if name == "topic_activity":
        def topic_activity(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return _matrix_scores(graph, activity_matrix(graph).toarray(), topics)
        return topic_activity
    if name == "topic_influence":
        def topic_influence(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            try:
                from graphkit.scoring.influence import topic_influence as run
            except ImportError as exc:
                raise GraphkitError(
                    "the topic_influence scorer needs graphkit.scoring.influence, which this build does not have "
                    f"({exc}); leave it out of scorers"
                ) from None
            # every topic somebody is active on; a topic it cannot score ranks its people last
            return run(graph, damping_factor=damping_factor).table
        return topic_influence
    if name == "expected_reach":
        def expected_reach(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.reach import expected_reach as run

            return run(graph, topics=list(topics)).table
        return expected_reach
    raise GraphkitError(f"unknown scorer {name!r}; built-in scorers are {', '.join(BUILTIN_SCORERS)}, "
                        "or pass a function scorer(graph, *, topics) -> DataFrame(person_id, topic, score)")


def _resolve_scorers(scorers: Iterable[str | Scorer] | Mapping[str, str | Scorer], *, seed: int,
                     damping_factor: float) -> dict[str, Scorer]:
    items = list(scorers.items()) if isinstance(scorers, Mapping) else [
        (s if isinstance(s, str) else getattr(s, "__name__", f"scorer{i}"), s) for i, s in enumerate(scorers)
    ]
    out: dict[str, Scorer] = {}
    for name, s in items:
        if name in out:
            raise GraphkitError(f"two scorers are named {name!r}; pass a dict to name them")
        if isinstance(s, str):
            out[name] = builtin_scorer(s, seed=seed, damping_factor=damping_factor)
        elif callable(s):
            out[name] = s
        else:
            raise GraphkitError(f"scorer {name!r} is a {type(s).__name__}; give a built-in name or a function")
    if not out:
        raise GraphkitError("no scorers given; e.g. scorers=('random', 'audience', 'expected_reach')")
    if BASELINE not in out:  # every scorer is compared with audience size on the same resamples
        out[BASELINE] = builtin_scorer(BASELINE)
    return out


def _score_table(name: str, result: Any) -> pl.DataFrame:
    table = getattr(result, "table", result)
    if not isinstance(table, pl.DataFrame):
        raise GraphkitError(f"scorer {name!r} returned {type(table).__name__}; it must return a polars DataFrame "
                            "with person_id, topic, score (or a result with such a .table)")
    missing = [c for c in ("person_id", "topic", "score") if c not in table.columns]
    if missing:
        raise GraphkitError(f"scorer {name!r} returned no column(s) {missing}; it must return person_id, topic, score")
    table = table.select(pl.col("person_id").cast(pl.String), pl.col("topic").cast(pl.String),
                         pl.col("score").cast(pl.Float64))
    dup = table.filter(pl.struct("person_id", "topic").is_duplicated())
    if dup.height:
        raise GraphkitError(f"scorer {name!r} returned {dup.height} duplicate (person_id, topic) rows, "
                            f"e.g. {dup.row(0)[:2]}; return one score per person and topic")
    return table


# -------------------------------------------------------------------------- metrics
def _discounts(k: int) -> np.ndarray:
    """D[j] = sum of DCG discounts of positions 0..j-1, for j = 0..k."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])


@dataclass
class _Ranked:
    """A topic's candidates ordered by one score (or by the outcome), with its tie groups.

    Metrics are computed for many bootstrap replicates at once: ``w`` is a
    (replicates x candidates) array of multiplicities, and a tie group of the
    sorted order occupies positions ``[start, end)`` counted in copies.
    """

    order: np.ndarray  # candidate positions, best first
    starts: np.ndarray  # start of every tie group in that order
    group_of: np.ndarray  # tie group of each sorted position

    @classmethod
    def by(cls, values: np.ndarray) -> _Ranked:
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


def _topic_metrics(w: np.ndarray, scores: Mapping[str, np.ndarray], gains: Mapping[str, np.ndarray],
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
    disc = {k: _discounts(k) for k in ks}
    truth = {}
    for outcome, gain in gains.items():
        t = _Ranked.by(gain)
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
        r = _Ranked.by(score)
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


# ------------------------------------------------------------------------- backtest
@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` measured, and how.

    ``table``: one row per cut-off, outcome, metric, k and scorer, with the
    mean over topics (``value``), its bootstrap interval (``low``, ``high``),
    the paired difference with audience size (``vs_audience``, ``vs_low``,
    ``vs_high``) and the share of resamples where the scorer beat audience
    (``share_better``). ``per_topic``: the metric of every scorer on every
    topic. ``splits``: what each split kept (see :class:`Split`). ``topics``:
    every topic with its candidates, positives and whether it was evaluated.
    """

    table: pl.DataFrame
    per_topic: pl.DataFrame
    splits: pl.DataFrame
    topics: pl.DataFrame
    parameters: dict[str, Any]
    version: str = __version__

    def plot(self, **kwargs: Any):
        """Shortcut for :func:`plot_backtest`."""
        return plot_backtest(self, **kwargs)


def backtest(
    graph: TopicGraph,
    *,
    cutoffs: Sequence[datetime | date | str],
    scorers: Iterable[str | Scorer] | Mapping[str, str | Scorer] = (
        "random", "audience", "active_audience", "pagerank", "topic_influence", "expected_reach"),
    ks: Sequence[int] = (10, 50),
    horizon: timedelta | None = None,
    population: str = "active",
    candidates: str = "reach",
    min_candidates: int = 100,
    shrinkage: float = 10.0,
    n_bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    damping_factor: float = 0.85,
    progress: bool = False,
) -> BacktestResult:
    """Learn every score before each cut-off, measure followers' adoption after it, compare.

    ``scorers``: built-in names (:data:`BUILTIN_SCORERS`) and/or functions
    ``f(graph, *, topics) -> DataFrame(person_id, topic, score)``; a dict names
    them. Audience size is always added: it is the baseline of the paired
    comparison. ``ks``: the k of precision@k and NDCG@k. ``horizon``: how long
    after T0 adoptions count (None: to the end of the data). ``population``:
    see :func:`split_at`. ``candidates``: who is ranked on a topic —
    ``"reach"`` (default) everyone with at least one follower who had not
    adopted the topic before T0, ``"topic"`` only those among them who had
    themselves contributed on the topic before T0. A topic is evaluated when
    it has ``min_candidates`` candidates and at least one adoption.
    ``shrinkage``: prior strength of the rate outcome (see :func:`outcomes`).
    ``n_bootstrap`` resamples of people give intervals at ``level``; ``seed``
    fixes them and the random scorer.

    >>> from graphkit.io.datasets import load_ciao
    >>> r = backtest(load_ciao(), cutoffs=["2009-01-01"], scorers=["random", "audience"], n_bootstrap=10)
    >>> r.table.filter(outcome="count", metric="ndcg", k=10).sort("value")["scorer"].to_list()
    ['random', 'audience']
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
    named = _resolve_scorers(scorers, seed=seed, damping_factor=damping_factor)
    tables, per_topic, splits, topic_rows = [], [], [], []
    for ci, cutoff in enumerate(sorted(as_utc(c) for c in cutoffs)):
        with step(f"backtest: split at {cutoff:%Y-%m-%d}", enabled=progress):
            split = split_at(graph, cutoff, population=population)
            out = outcomes(graph, split, horizon=horizon, shrinkage=shrinkage)
        splits.append({"cutoff": cutoff, **split.counts})
        scores = {}
        for name, fn in named.items():
            with step(f"backtest: scoring {name}", enabled=progress):
                scores[name] = _score_table(name, fn(split.past, topics=split.past.topics))
        rng = np.random.default_rng([seed, ci])
        t, p, topics = _evaluate(out, scores, split, ks=ks, candidates=candidates, min_candidates=min_candidates,
                                 n_bootstrap=n_bootstrap, level=level, rng=rng)
        tables.append(t.with_columns(cutoff=pl.lit(cutoff)))
        per_topic.append(p.with_columns(cutoff=pl.lit(cutoff)))
        topic_rows.append(topics.with_columns(cutoff=pl.lit(cutoff)))
    first = ["cutoff", "outcome", "metric", "k", "scorer"]
    table = pl.concat(tables)
    table = table.select(first + [c for c in table.columns if c not in first])
    per = pl.concat(per_topic)
    per = per.select(["cutoff", "outcome", "topic", "metric", "k", "scorer", "value"])
    params = dict(cutoffs=[c.isoformat() for c in sorted(as_utc(c) for c in cutoffs)], scorers=list(named), ks=list(ks),
                  horizon_days=None if horizon is None else horizon.total_seconds() / 86400, population=population,
                  candidates=candidates, min_candidates=min_candidates, shrinkage=shrinkage, n_bootstrap=n_bootstrap,
                  level=level, seed=seed, damping_factor=damping_factor, source=graph.source)
    return BacktestResult(table=table, per_topic=per, splits=pl.DataFrame(splits), topics=pl.concat(topic_rows),
                          parameters=params)


def _mean_over_topics(values: list[np.ndarray]) -> np.ndarray:
    """Per replicate, the mean over topics where the metric is defined (NaN where it is nowhere)."""
    v = np.vstack(values)
    n = np.sum(~np.isnan(v), axis=0)
    return np.where(n > 0, np.nansum(v, axis=0) / np.maximum(n, 1), np.nan)


def _evaluate(out: pl.DataFrame, scores: dict[str, pl.DataFrame], split: Split, *, ks: tuple[int, ...],
              candidates: str, min_candidates: int, n_bootstrap: int, level: float,
              rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    cand = out.filter(pl.col("eligible") > 0)
    if candidates == "topic":
        own = activity_matrix(split.past).tocoo()
        active = pl.DataFrame({
            "person_id": split.past.people["person_id"].gather(own.row),
            "topic": pl.Series([split.past.topics[j] for j in own.col], dtype=pl.String),
        }).unique()
        cand = cand.join(active, on=["person_id", "topic"], how="semi")
    for name, s in scores.items():
        cand = cand.join(s.rename({"score": f"s:{name}"}), on=["person_id", "topic"], how="left")
    stats = cand.group_by("topic").agg(candidates=pl.len(), positives=(pl.col("count") > 0).sum(),
                                       missing=pl.sum_horizontal(*[pl.col(f"s:{n}").is_null().sum() for n in scores]))
    topics = (
        pl.DataFrame({"topic": list(split.past.topics)}, schema={"topic": pl.String})
        .join(stats, on="topic", how="left")
        .with_columns(pl.col("candidates", "positives", "missing").fill_null(0))
        .with_columns(evaluated=(pl.col("candidates") >= min_candidates) & (pl.col("positives") > 0))
    )
    chosen = topics.filter("evaluated")["topic"].to_list()
    if not chosen:
        raise GraphkitError(
            f"no topic can be evaluated at {split.cutoff:%Y-%m-%d}: none has {min_candidates} candidates (people with "
            "a follower new to the topic) and an adoption after the cut-off; lower min_candidates or move the cut-off")
    people = cand.filter(pl.col("topic").is_in(chosen))["person_id"].unique().sort()
    position = {p: i for i, p in enumerate(people.to_list())}
    w_all = np.ones((1 + n_bootstrap, len(position)), dtype=np.int64)
    if n_bootstrap:
        w_all[1:] = rng.multinomial(len(position), np.full(len(position), 1.0 / len(position)), size=n_bootstrap)
    results: dict[tuple[str, str, str, int | None], list[np.ndarray]] = {}
    per_rows = []
    for topic in chosen:
        rows = cand.filter(pl.col("topic") == topic)
        w = w_all[:, [position[p] for p in rows["person_id"].to_list()]]
        gains = {}
        for outcome in OUTCOMES:
            y = rows[outcome].to_numpy().astype(np.float64)
            gains[outcome] = y - y.min()  # the least-adopting candidate gains nothing
        # a person the scorer did not score ranks below everyone it did
        s = {name: np.nan_to_num(rows[f"s:{name}"].fill_nan(None).to_numpy().astype(np.float64), nan=-np.inf)
             for name in scores}
        for (outcome, metric, k, name), vals in _topic_metrics(w, s, gains, ks).items():
            results.setdefault((outcome, metric, name, k), []).append(vals)
            per_rows.append((outcome, topic, metric, k, name, float(vals[0])))
    tail = (1 - level) / 2
    table_rows = []
    for (outcome, metric, name, k), vals in results.items():
        mean = _mean_over_topics(vals)  # per replicate
        base = _mean_over_topics(results[(outcome, metric, BASELINE, k)])
        diff = mean - base
        boot, dboot = mean[1:], diff[1:]
        lo, hi = (np.nanquantile(boot, [tail, 1 - tail]) if boot.size else (np.nan, np.nan))
        dlo, dhi = (np.nanquantile(dboot, [tail, 1 - tail]) if dboot.size else (np.nan, np.nan))
        table_rows.append({
            "outcome": outcome, "metric": metric, "k": k, "scorer": name, "value": float(mean[0]),
            "low": float(lo), "high": float(hi), "vs_audience": float(diff[0]), "vs_low": float(dlo),
            "vs_high": float(dhi), "share_better": float(np.mean(dboot > 0)) if dboot.size else float("nan"),
            "n_topics": len(chosen), "n_people": len(position),
        })
    schema = {"outcome": pl.String, "metric": pl.String, "k": pl.Int64, "scorer": pl.String, "value": pl.Float64,
              "low": pl.Float64, "high": pl.Float64, "vs_audience": pl.Float64, "vs_low": pl.Float64,
              "vs_high": pl.Float64, "share_better": pl.Float64, "n_topics": pl.Int64, "n_people": pl.Int64}
    table = pl.DataFrame(table_rows, schema=schema, orient="row")
    per = pl.DataFrame(per_rows, schema={"outcome": pl.String, "topic": pl.String, "metric": pl.String, "k": pl.Int64,
                                         "scorer": pl.String, "value": pl.Float64}, orient="row")
    order = {m: i for i, m in enumerate(METRICS)}
    table = table.sort(pl.col("outcome"), pl.col("metric").replace_strict(order, return_dtype=pl.Int64), "k", "value",
                       descending=[False, False, False, True], nulls_last=True)
    return table, per, topics


# ----------------------------------------------------------------------------- plot
def plot_backtest(result: BacktestResult, *, outcome: str = "rate", cutoff: datetime | date | str | None = None,
                  axes: Sequence[Any] | None = None):
    """Scorers x metric: the mean over topics with its bootstrap interval, one panel per metric.

    Returns the list of Axes (one per metric and k). ``cutoff`` picks one
    cut-off (default: the last). The dashed line marks audience size.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from graphkit.io.datasets import load_ciao
    >>> r = backtest(load_ciao(), cutoffs=["2009-01-01"], scorers=["random", "audience"], n_bootstrap=5)
    >>> len(plot_backtest(r))
    5
    """
    import matplotlib.pyplot as plt

    if outcome not in OUTCOMES:
        raise GraphkitError(f"outcome must be one of {OUTCOMES}; got {outcome!r}")
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
        fig.suptitle(f"backtest at {when:%Y-%m-%d}: followers' adoption ({outcome}), "
                     f"{int(t['n_topics'][0])} topics, {int(100 * result.parameters['level'])}% intervals")
    if len(axes) != len(panels):
        raise GraphkitError(f"plot_backtest needs {len(panels)} axes (one per metric and k); got {len(axes)}")
    names = t.filter((pl.col("metric") == panels[0][0]) & (pl.col("k").eq_missing(panels[0][1]))).sort("value")["scorer"].to_list()
    for ax, (metric, k) in zip(axes, panels):
        rows = {r["scorer"]: r for r in t.filter((pl.col("metric") == metric) & pl.col("k").eq_missing(k)).iter_rows(named=True)}
        y = np.arange(len(names))
        vals = np.array([rows[n]["value"] for n in names])
        err = np.array([[rows[n]["value"] - rows[n]["low"], rows[n]["high"] - rows[n]["value"]] for n in names]).T
        colors = ["tab:red" if n == BASELINE else "tab:blue" for n in names]
        ax.errorbar(vals, y, xerr=np.nan_to_num(err), fmt="none", ecolor="grey", capsize=3)
        ax.scatter(vals, y, c=colors, zorder=3)
        ax.axvline(rows[BASELINE]["value"], color="tab:red", ls="--", lw=0.8)
        ax.set_yticks(y, names)
        ax.set_title(f"{metric}@{k}" if k is not None else metric)
        ax.grid(axis="x", alpha=0.3)
    return list(axes)
