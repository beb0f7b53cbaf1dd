"""Adopter PageRank: the attention of the people who could still take a topic up, arriving at those active on it.

Topic PageRank (:mod:`graphkit.scoring.influence`) asks who holds attention on
a topic, and rewards topical authorities whose followers know the topic
already. A brand wants acts: people new to topic *t* who take it up after
someone's activity on it. Adopter PageRank keeps personalised PageRank at the
core and changes who the walk starts from and where it goes. As of ``now``,
per topic *t*:

- **the walk restarts at the people who could still adopt t**: everyone new to
  *t* (no contribution labelled *t*, no purchase of an item in *t*, before
  ``now``), in proportion to their *propensity* to take *t* up within the
  next ``horizon`` -- learned from the same data one horizon earlier
  (:func:`graphkit.scoring.reach.propensity`: a logistic model of their own
  recent activity, the topics they took up lately, how related *t* is to
  their topics, how fast *t* spreads, their tenure), or, with
  ``propensity="active"``, 1 for each such person active on anything in the
  year before ``now``;
- **it walks to whom they attend to on t**: from a person along their
  positive follows to followees active on *t* lately, each in proportion to
  the followee's *recent* activity on *t* -- ``log1p`` of their acts on *t* in
  the year before ``now``, each act weighted ``2^(-age / half_life_days)``
  (what they will see, and the chance the followee is still active on *t*
  when they adopt) -- times the followee's credibility on *t* (the positive
  share of the topic-labelled attention they received; 1 when none). A
  person's attention on *t* is that weight summed over everyone they follow
  plus ``outside_attention``: the attention paid outside *t*'s active people,
  which passes nothing and returns to the restart (as negative follows do in
  topic PageRank). With a large ``outside_attention`` a followee's share of a
  follower's attention hardly depends on how many other active people the
  follower watches -- the attributed outcome credits every exposer in full --
  and the walk is mostly one step long;
- **the score is the stationary mass arriving at a person** (the walk's
  probability of being there), kept only for people active on *t* in the
  year before ``now``: anyone else scores 0 on *t*, however large their
  audience or their mass from other walks (the frog expert counts on frogs
  only; a celebrity who never mentions *t* is not in *t*'s top).

The walk is solved by graphkit's batched topic engine
(:class:`graphkit.scoring.linalg.TopicSystem`, :func:`graphkit.scoring.linalg.solve_ppr`):
every topic at once, one sparse system, deterministic.

The recency half-life is **estimated from the data before** ``now``
(:func:`estimate_half_life`): the delays between a followee taking a topic
up and a follower taking it up after them, fitted as an exponential observed
below one year -- on Ciao about 130 days, on CiaoDVD about 280-300. The
other settings (``damping_factor`` 0.85, ``outside_attention`` 100, the
learned propensity) were chosen on one backtest cut-off, Ciao 2008-11-14,
among about thirty variants; the other cut-offs and CiaoDVD were not used to
choose (``docs/backtest.md``).

>>> from graphkit.io.datasets import load_ciao
>>> r = adopter_pagerank(load_ciao(), topics=["Books"])
>>> r.table.columns
['person_id', 'topic', 'score', 'rank', 'percentile', 'audience', 'active_audience', 'credibility']
>>> top = r.top("Books", 5)   # everyone in the top acted on Books in the last year
>>> bool((top["score"] > 0).all()), r.converged
(True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import (
    NEUTRAL_CREDIBILITY,
    Window,
    activity_events,
    first_adoptions,
    normalize_window,
    topic_activity,
    topic_structure,
)
from graphkit.scoring.linalg import TopicSystem, solve_ppr
from graphkit.scoring.reach import data_end
from graphkit.scoring.results import top_rows
from graphkit.version import __version__

#: How far back "recent" looks: a person with no act on the topic in this span before ``now`` scores 0 on it.
RECENT = timedelta(days=365)
#: How the restart is weighted (see the module).
PROPENSITIES: tuple[str, ...] = ("learned", "active")


@dataclass(frozen=True, eq=False)
class AdopterWalk:
    """The walk of every topic as of ``now`` (internal indices; n people x T topics of the graph).

    ``follows``: n x n positive follows (row = follower, one entry per pair)
    along which mass moves; ``attention``: n x T weight a follower gives a
    followee on each topic (recent activity x credibility); ``out``: n x T
    each person's whole attention per topic (what ``attention`` is divided
    by; the rest returns to the restart); ``restart``: n x T restart weights
    (0 for people who adopted the topic before ``now``); ``gate``: n x T,
    True where the person acted on the topic in the year before ``now`` (the
    only people scored above 0).
    """

    now: datetime
    follows: sp.csr_array
    attention: np.ndarray
    out: np.ndarray
    restart: np.ndarray
    gate: np.ndarray


@dataclass(frozen=True)
class AdopterPageRankResult:
    """Adopter PageRank per (person, topic), and how it was made.

    ``table``: the score columns (see :func:`adopter_pagerank`);
    ``iterations`` (the largest over topics) and ``converged`` report the
    solver; ``parameters`` how it was called; ``seconds`` the wall time.
    """

    table: pl.DataFrame
    parameters: dict[str, Any]
    iterations: int
    converged: bool
    seconds: float = 0.0
    version: str = __version__

    def top(self, topic: str, k: int = 10) -> pl.DataFrame:
        """The ``k`` best-ranked people on ``topic``."""
        return top_rows(self.table, topic, k)


#: Fewest follower adoptions after a followee's to estimate the half-life from; with fewer, the default is used.
MIN_PROPAGATIONS = 30
#: The half-life used when it cannot be estimated (too few propagations), in days.
DEFAULT_HALF_LIFE_DAYS = 45.0
#: Most follower adoptions the estimate reads (a fixed sample beyond: bounded cost on large graphs).
MAX_ADOPTIONS = 200_000


@dataclass(frozen=True)
class HalfLife:
    """The recency half-life of :func:`adopter_pagerank`, estimated from the data before ``now``.

    ``days``: the half-life used; ``source``: ``"estimated"`` or
    ``"default"`` (fewer than :data:`MIN_PROPAGATIONS` propagations);
    ``propagations``: the (followee, follower, topic) delays read;
    ``mean_delay_days``, ``median_delay_days``: of those delays.
    """

    days: float
    source: str
    propagations: int
    mean_delay_days: float | None
    median_delay_days: float | None


def _truncated_exponential_rate(mean: float, limit: float) -> float:
    """Maximum-likelihood rate of an exponential observed only below ``limit``, from the sample mean.

    The likelihood's score equation is ``mean = 1/rate - limit / (exp(rate*limit) - 1)``; its right side falls
    from ``limit/2`` (rate 0: delays spread evenly, no decay) towards 0, so the root is unique; 0 when
    ``mean >= limit/2``.
    """
    from scipy.optimize import brentq

    if mean >= limit / 2:
        return 0.0

    def gap(rate: float) -> float:
        with np.errstate(over="ignore"):  # exp(rate * limit) beyond float range: the second term is 0
            return 1.0 / rate - limit / np.expm1(rate * limit) - mean

    # at 1e-9/limit the right side is ~limit/2 > mean; at 2/mean it is below mean/2
    return float(brentq(gap, 1e-9 / limit, 2.0 / max(mean, 1e-9), xtol=1e-12, maxiter=500))


def estimate_half_life(graph: TopicGraph, now: datetime, *, max_delay: timedelta = RECENT) -> HalfLife:
    """How fast a followee's act on a topic fades, estimated from the propagations observed before ``now``.

    A *propagation* is a positive follow *f -> v* and a topic *t* such that
    *v* took *t* up (first dated act on *t*) at ``tv`` and *f* later, at
    ``tf``, with ``tv < tf < now`` and ``tf - tv < max_delay`` (a year: the
    walk reads only the last year of acts). The delays ``tf - tv`` are taken
    as exponential -- the time an action takes to propagate from a person to
    a follower, with influence decaying as ``exp(-delay / mean)`` (Goyal,
    Bonchi and Lakshmanan, *Learning influence probabilities in social
    networks*, WSDM 2010) -- observed only below ``max_delay``: the rate is
    the maximum-likelihood estimate of that truncated exponential, and the
    half-life ``ln 2 / rate`` (capped at ten years when the delays show no
    decay). Only events before ``now`` are read, so a score computed as of
    ``now`` learns nothing from later events. With fewer than
    :data:`MIN_PROPAGATIONS` propagations the half-life is
    :data:`DEFAULT_HALF_LIFE_DAYS`. Beyond :data:`MAX_ADOPTIONS` follower
    adoptions, a fixed sample of them is read (deterministic).

    >>> from graphkit.io.datasets import load_ciao
    >>> g = load_ciao()
    >>> h = estimate_half_life(g, data_end(g))
    >>> h.source, h.days > 0, h.propagations >= MIN_PROPAGATIONS
    ('estimated', True, True)
    """
    limit = max_delay.total_seconds() / 86400.0
    adoptions = first_adoptions(graph).filter(pl.col("adopted_at") < now)
    if adoptions.height > MAX_ADOPTIONS:
        adoptions = adoptions.sample(MAX_ADOPTIONS, seed=0)
    follows = (graph.person_edges
               .filter((pl.col("kind") == "follows") & (pl.col("sign") > 0) & counted_in(None, now)
                       & (pl.col("src_idx") != pl.col("dst_idx")))
               .select("src_idx", "dst_idx").unique())
    ids = graph.people["person_id"]
    mine = adoptions.select(pl.col("person_id").alias("f"), "topic", pl.col("adopted_at").alias("tf"))
    theirs = first_adoptions(graph).filter(pl.col("adopted_at") < now).select(
        pl.col("person_id").alias("v"), "topic", pl.col("adopted_at").alias("tv"))
    pairs = pl.DataFrame({"f": ids.gather(follows["src_idx"]), "v": ids.gather(follows["dst_idx"])})
    delays = (mine.join(pairs, on="f").join(theirs, on=["v", "topic"])
              .select(((pl.col("tf") - pl.col("tv")).dt.total_seconds() / 86400.0).alias("d"))
              .filter((pl.col("d") > 0) & (pl.col("d") < limit))["d"].sort().to_numpy())  # sorted: sums in one order
    if len(delays) < MIN_PROPAGATIONS:
        return HalfLife(DEFAULT_HALF_LIFE_DAYS, "default", len(delays),
                        float(delays.mean()) if len(delays) else None,
                        float(np.median(delays)) if len(delays) else None)
    rate = _truncated_exponential_rate(float(delays.mean()), limit)
    days = min(np.log(2.0) / rate, 10 * 365.0) if rate > 0 else 10 * 365.0
    return HalfLife(float(days), "estimated", len(delays), float(delays.mean()), float(np.median(delays)))


def resolve_half_life(graph: TopicGraph, now: datetime, half_life_days: float | str) -> HalfLife:
    """``half_life_days`` as a :class:`HalfLife`: ``"estimated"`` (:func:`estimate_half_life`) or a number of days.

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> resolve_half_life(g, data_end(g), 60).days, resolve_half_life(g, data_end(g), 60).source
    (60.0, 'given')
    """
    if isinstance(half_life_days, str):
        if half_life_days != "estimated":
            raise GraphkitError(f"half_life_days must be a number of days or 'estimated'; got {half_life_days!r}")
        return estimate_half_life(graph, now)
    if isinstance(half_life_days, bool) or not isinstance(half_life_days, (int, float)) or not half_life_days > 0:
        raise GraphkitError(f"half_life_days must be > 0 (days) or 'estimated'; got {half_life_days!r}")
    return HalfLife(float(half_life_days), "given", 0, None, None)


def _topic_codes(graph: TopicGraph, topic: pl.Series) -> np.ndarray:
    return topic.cast(pl.Enum(list(graph.topics))).to_physical().to_numpy()


def _follows(graph: TopicGraph, now: datetime) -> tuple[sp.csr_array, sp.csr_array]:
    """(every follow, positive follows) made before ``now``: n x n, row = follower, one entry per pair."""
    n = graph.n_people
    f = graph.person_edges.filter((pl.col("kind") == "follows") & counted_in(None, now)
                                  & (pl.col("src_idx") != pl.col("dst_idx")))

    def matrix(e: pl.DataFrame) -> sp.csr_array:
        e = e.select("src_idx", "dst_idx").unique()
        m = sp.csr_array((np.ones(e.height), (e["src_idx"].to_numpy(), e["dst_idx"].to_numpy())), shape=(n, n))
        m.sum_duplicates()
        m.sort_indices()
        return m

    return matrix(f), matrix(f.filter(pl.col("sign") > 0))


def _recent_weight(graph: TopicGraph, now: datetime, half_life_days: float) -> np.ndarray:
    """n x T: log1p of each person's acts on each topic in the year before ``now``, each halved every half-life."""
    n, n_topics = graph.n_people, len(graph.topics)
    ev = activity_events(graph).filter((pl.col("ts") < now) & (pl.col("ts") >= now - RECENT))
    w = np.zeros((n, n_topics))
    if ev.height:
        age = ((pl.lit(now) - pl.col("ts")).dt.total_seconds() / 86400.0)
        decay = ev.select((-(np.log(2.0) / half_life_days) * age).exp())[:, 0].to_numpy()
        np.add.at(w, (graph.index_of(ev["person_id"]), _topic_codes(graph, ev["topic"])), decay)
    return np.log1p(w)


def adopter_walk(graph: TopicGraph, now: datetime, *, propensity: str = "learned",
                 half_life_days: float | str = "estimated", outside_attention: float = 100.0,
                 horizon: timedelta = RECENT) -> AdopterWalk:
    """The parts of every topic's walk as of ``now`` (see the module and :class:`AdopterWalk`).

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> w = adopter_walk(g, data_end(g), propensity="active")
    >>> w.restart.shape == w.attention.shape == (g.n_people, len(g.topics))
    True
    """
    if propensity not in PROPENSITIES:
        raise GraphkitError(f"propensity must be one of {PROPENSITIES}; got {propensity!r}")
    half_life_days = resolve_half_life(graph, now, half_life_days).days
    if not outside_attention >= 0:
        raise GraphkitError(f"outside_attention must be >= 0; got {outside_attention!r}")
    n, n_topics = graph.n_people, len(graph.topics)
    acts = topic_activity(graph, window=(now - RECENT, now)).toarray()
    gate = acts > 0
    weight = _recent_weight(graph, now, half_life_days) * gate  # a dated act in the year: the same window
    every, positive = _follows(graph, now)
    cred = topic_structure(graph, window=(now - RECENT, now)).credibility
    attention = weight * np.where(np.isnan(cred), NEUTRAL_CREDIBILITY, cred)
    out = np.asarray(every @ weight) + outside_attention
    if propensity == "learned":
        from graphkit.scoring.reach import propensity as learned

        restart, _ = learned(graph, now=now, horizon=horizon)  # 0 where the topic was adopted already
    else:
        adopted = first_adoptions(graph).filter(pl.col("adopted_at") < now)
        new = np.ones((n, n_topics), dtype=bool)
        new[graph.index_of(adopted["person_id"]), _topic_codes(graph, adopted["topic"])] = False
        restart = (new & (acts.sum(axis=1) > 0)[:, None]).astype(np.float64)
    return AdopterWalk(now=now, follows=positive, attention=attention, out=out, restart=restart, gate=gate)


def _stationary(walk: AdopterWalk, topic_idx: list[int], damping_factor: float, max_iter: int,
                tol: float) -> tuple[np.ndarray, int, bool]:
    """(n x len(topic_idx) stationary mass of everyone, before the gate; iterations; converged)."""
    # a topic nobody could still adopt has no walk: everyone scores 0 on it
    live = [k for k, t in enumerate(topic_idx) if walk.restart[:, t].sum() > 0]
    cols = [topic_idx[k] for k in live]
    mass = np.zeros((walk.restart.shape[0], len(topic_idx)))
    if not live:
        return mass, 0, True
    system = TopicSystem.build(walk.follows, walk.attention[:, cols], restart=walk.restart[:, cols],
                               out=walk.out[:, cols])
    sol = solve_ppr(system, damping_factor=damping_factor, max_iter=int(max_iter), tol=float(tol))
    mass[:, live] = sol.scores
    return mass, int(sol.iterations.max()), bool(sol.converged.all())


def adopter_pagerank(
    graph: TopicGraph,
    *,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
    damping_factor: float = 0.85,
    half_life_days: float | str = "estimated",
    outside_attention: float = 100.0,
    propensity: str = "learned",
    horizon: timedelta = RECENT,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> AdopterPageRankResult:
    """Adopter PageRank of every person on every topic (the model is in the module text).

    Returns an :class:`AdopterPageRankResult` whose ``table`` has the columns
    of every score: ``person_id``, ``topic``, ``score`` (the stationary mass
    of the walk restarted at the people who could still adopt the topic; 0
    for a person with no act on the topic in the year before ``now``),
    ``rank`` (1 = top; ties by person_id), ``percentile``, ``audience``,
    ``active_audience``, ``credibility`` -- as
    :func:`graphkit.scoring.influence.topic_influence` gives them.

    ``topics``: topics to report (default: every topic of the graph).
    ``window = (start, end)``: the score is computed as of ``end`` (default:
    just after the latest dated event) from everything known before it;
    ``audience``, ``active_audience`` and ``credibility`` count events in
    ``[start, end)``. ``damping_factor``: probability of following attention
    rather than restarting. ``half_life_days``: how fast a followee's past
    acts on the topic fade from their weight, in days, or ``"estimated"``
    (:func:`estimate_half_life`; ``parameters["half_life"]`` says how it was
    found). ``outside_attention``: the
    attention a person pays outside the topic's active people, in units of
    one recent act (it passes nothing). ``propensity``: ``"learned"`` (a
    logistic model learned one ``horizon`` earlier; raises when that horizon
    holds no adoption to learn from) or ``"active"`` (everyone new to the
    topic who acted on anything in the year before ``now``, weight 1).
    ``max_iter``, ``tol``: the solver's (as for topic influence).

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> people = pl.DataFrame({"person_id": ["frog", "celeb", "f1", "f2"]})
    >>> edges = pl.DataFrame({
    ...     "src": ["f1", "f2", "f1", "f2", "frog", "f1", "f2"], "dst": ["frog", "frog", "celeb", "celeb", "x", "y", "y"],
    ...     "kind": ["follows"] * 4 + ["reviews"] * 3, "topic": [None] * 4 + ["frogs", "cooking", "cooking"],
    ...     "ts": [None] * 4 + ["2024-05-01", "2024-04-01", "2024-04-02"]})
    >>> g = TopicGraph.from_tables(people, edges, items=pl.DataFrame({"item_id": ["x", "y"], "topic": ["frogs", "cooking"]}))
    >>> r = adopter_pagerank(g, topics=["frogs"], propensity="active")
    >>> r.top("frogs", 2).select("person_id", "rank").rows()   # the celebrity never posted on frogs
    [('frog', 1), ('celeb', 2)]
    >>> float(r.table.filter(pl.col("person_id") == "celeb")["score"][0])
    0.0
    """
    from graphkit.scoring.influence import influence_table

    started = time.perf_counter()
    if isinstance(topics, str):
        raise GraphkitError(f"topics must be a list of topic names, not a single string; use topics=[{topics!r}]")
    if not 0.0 <= damping_factor < 1.0:
        raise GraphkitError(f"damping_factor must be in [0, 1); got {damping_factor!r}")
    if horizon <= timedelta(0):
        raise GraphkitError(f"horizon must be a positive duration; got {horizon}")
    chosen = list(graph.topics) if topics is None else list(topics)
    if not chosen:
        raise GraphkitError("the data has no topic (no item, community or contribution names one), so there is "
                            "nothing to rank people on; give items a topic or label contributions with one")
    topic_idx = [graph.topic_of(t) for t in chosen]
    start, end = normalize_window(window)
    now = data_end(graph) if end is None else end
    if now is None:
        raise GraphkitError("adopter PageRank needs dated contributions or purchases (it looks at the year before "
                            "now); this graph has no timestamps")
    half_life = resolve_half_life(graph, now, half_life_days)
    walk = adopter_walk(graph, now, propensity=propensity, half_life_days=half_life.days,
                        outside_attention=outside_attention, horizon=horizon)
    mass, iterations, converged = _stationary(walk, topic_idx, damping_factor, max_iter, tol)
    scores = np.where(walk.gate[:, topic_idx], mass, 0.0)
    structure = topic_structure(graph, window=(start, now))
    table = influence_table(graph, structure, topic_idx, scores, tie_rel=1e-9)
    params = dict(topics=chosen, window=(start, end), now=now, damping_factor=damping_factor,
                  half_life_days=half_life.days, half_life=half_life, outside_attention=outside_attention,
                  propensity=propensity,
                  horizon_days=horizon.total_seconds() / 86400, max_iter=max_iter, tol=tol)
    return AdopterPageRankResult(table=table, parameters=params, iterations=iterations, converged=converged,
                                 seconds=time.perf_counter() - started)


def adopter_terms(
    graph: TopicGraph,
    person_id: str,
    topic: str,
    *,
    top: int = 10,
    window: Window | None = None,
    **options: Any,
) -> pl.DataFrame:
    """The terms of ``person_id``'s adopter PageRank on ``topic``: whose walks bring the mass, largest first.

    A person active on the topic gets no restart (they adopted it already),
    so at the walk's fixed point their score is exactly the sum, over the
    people *f* who follow them, of ``d * mass[f] * attention / out[f]``: the
    share of *f*'s stationary mass (``giver_score``; for a possible adopter,
    mostly their restart) that *f*'s attention passes to the person
    (``weight`` = the person's recent activity on the topic x credibility;
    ``out[f]`` = all of *f*'s attention on it). Rows: the ``top`` followers
    (``term = "possible adopter"`` for one new to the topic,
    ``"adopter"`` for one who passes on mass that reached them), then one
    ``"other followers"`` row for the rest. Columns ``person_id``, ``topic``,
    ``term``, ``giver``, ``weight``, ``giver_score``, ``contribution``,
    ``share`` (of the score; null when the score is 0: nothing to explain).
    ``window`` and ``options`` (``damping_factor``, ``half_life_days``,
    ``outside_attention``, ``propensity``, ``horizon``) as for
    :func:`adopter_pagerank`.

    >>> from graphkit.io.datasets import load_ciao
    >>> ex = adopter_terms(load_ciao(), "90", "Books", top=3)
    >>> ex["term"].to_list(), round(float(ex["share"].sum()), 6)
    (['possible adopter', 'possible adopter', 'possible adopter', 'other followers'], 1.0)
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise GraphkitError(f"top must be a positive integer; got {top!r}")
    t = graph.topic_of(topic)
    j = int(graph.index_of([person_id])[0])
    r = adopter_pagerank(graph, topics=[topic], window=window, **options)
    p = r.parameters
    walk = adopter_walk(graph, p["now"], propensity=p["propensity"], half_life_days=p["half_life_days"],
                        outside_attention=p["outside_attention"], horizon=timedelta(days=p["horizon_days"]))
    mass = _stationary(walk, [t], p["damping_factor"], p["max_iter"], p["tol"])[0][:, 0]
    score = float(r.table.filter(pl.col("person_id") == person_id)["score"].item())
    followers = walk.follows[:, [j]].tocoo().row.astype(np.int64)
    weight = float(walk.attention[j, t])
    contrib = (p["damping_factor"] * mass[followers] * weight / walk.out[followers, t]
               if score > 0 else np.zeros(len(followers)))
    order = np.lexsort((followers, -contrib))
    followers, contrib = followers[order], contrib[order]
    kept, rest = slice(0, top), slice(top, None)
    ids = graph.people["person_id"].to_numpy()
    new = walk.restart[followers[kept], t] > 0
    terms = pl.DataFrame({
        "term": np.where(new, "possible adopter", "adopter").tolist(),
        "giver": ids[followers[kept]].tolist(),
        "weight": np.full(len(contrib[kept]), weight),
        "giver_score": mass[followers[kept]],
        "contribution": contrib[kept],
    }, schema={"term": pl.String, "giver": pl.String, "weight": pl.Float64, "giver_score": pl.Float64,
               "contribution": pl.Float64})
    if len(contrib[rest]):
        terms = pl.concat([terms, pl.DataFrame({
            "term": ["other followers"], "giver": [None], "weight": [weight], "giver_score": [None],
            "contribution": [float(contrib[rest].sum())]}, schema=terms.schema)])
    if score > 0 and not np.isclose(float(contrib.sum()), score, rtol=1e-6, atol=1e-12):
        raise GraphkitError(f"adopter PageRank terms of {person_id!r} on {topic!r} add up to {contrib.sum():.6g}, "
                            f"not its score {score:.6g}; the walk did not converge (raise max_iter)")
    share = pl.col("contribution") / score if score > 0 else pl.lit(None, dtype=pl.Float64)
    return terms.select(pl.lit(person_id).alias("person_id"), pl.lit(topic).alias("topic"), pl.all(),
                        share.alias("share"))
