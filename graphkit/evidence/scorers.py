"""The scorers a backtest compares: built-in baselines and peers, registered scores, and any function.

A scorer is a function ``scorer(graph, *, topics) -> DataFrame`` with
``person_id, topic, score`` (or a result with such a ``.table``), computed on
the past graph of a split. By name, a scorer is a built-in
(:data:`BUILTIN_SCORERS`, see :func:`builtin_scorer`) or a score registered in
:mod:`graphkit.scoring.registry`, so a new registered score is backtested with
no change here.

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
>>> sorted(resolve_scorers(["random"]))   # audience and the best simple baseline are always compared with
['audience', 'posts_x_active_new_followers', 'random']
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.adoption import EXPOSURE_WINDOW
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import topic_activity, topic_structure
from graphkit.scoring import baselines
from graphkit.scoring.reach import data_end

#: Scorers available by name (see :func:`builtin_scorer`).
BUILTIN_SCORERS: tuple[str, ...] = (
    "random", "audience", "active_audience", "pagerank", "topic_activity", "topic_influence", "potential_reach",
    "active_new_followers", "posts_x_active_new_followers", "activity_x_active_new_followers", "past_attributed",
    "adoption_influence", "adopter_pagerank", "expected_conversions",
)
#: Every scorer is compared with audience size ...
AUDIENCE = "audience"
#: ... and with the best simple baseline measured (log1p(recent posts on t) x active new followers).
BEST_BASELINE = "posts_x_active_new_followers"
#: The scorers every other one is compared with, on the same resamples; always run.
REFERENCES: tuple[str, ...] = (AUDIENCE, BEST_BASELINE)

Scorer = Callable[..., Any]


def _broadcast(graph: TopicGraph, values: np.ndarray, topics: Sequence[str]) -> pl.DataFrame:
    """A topic-free score (one number per person) repeated for every topic."""
    return baselines.matrix_table(graph, np.repeat(np.asarray(values, dtype=np.float64)[:, None], len(graph.topics), 1),
                                  topics)


def _audience(graph: TopicGraph, *, topics: Sequence[str], active: bool) -> pl.DataFrame:
    last = data_end(graph)
    window = (last - timedelta(days=365), None) if active and last is not None else None
    s = topic_structure(graph, window=window)
    return _broadcast(graph, s.active_audience if active else s.audience, topics)


def builtin_scorer(name: str, *, seed: int = 0, damping_factor: float = 0.85, horizon: timedelta = timedelta(days=365),
                   exposure_window: timedelta | None = EXPOSURE_WINDOW) -> Scorer:
    """A built-in scorer by name: ``scorer(graph, *, topics) -> DataFrame(person_id, topic, score)``.

    Peers and floors:

    - ``random``: uniform noise (seeded), the floor every score must beat;
    - ``audience``: number of followers;
    - ``active_audience``: followers who contributed in the last 365 days of the graph's data;
    - ``pagerank``: global PageRank of the follow graph (igraph, ``damping_factor``), one number per person;
    - ``topic_activity``: the person's own contributions on the topic;
    - ``topic_influence``: :func:`graphkit.scoring.influence.topic_influence` (score column);
    - ``potential_reach``: :func:`graphkit.scoring.reach.potential_reach` (score column).

    Simple topic-gated baselines (:mod:`graphkit.scoring.baselines`):

    - ``active_new_followers``: followers new to the topic who were active in the last year;
    - ``posts_x_active_new_followers``: log1p(contributions on the topic in the last year) x active new followers;
    - ``activity_x_active_new_followers``: contributions on the topic x active new followers;
    - ``past_attributed``: the attributed outcome over the ``horizon`` before the
      cut-off (followers who took the topic up within ``exposure_window`` after
      the person's activity on it).

    The topic-specific scores built to beat them:

    - ``adoption_influence``: :func:`graphkit.scoring.topical.adoption_influence`
      (score column), learned with the same ``horizon`` and ``exposure_window``;
    - ``adopter_pagerank``: :func:`graphkit.scoring.adopters.adopter_pagerank`
      (score column), its propensities learned with the same ``horizon`` and
      its walk with ``damping_factor``;
    - ``expected_conversions``: :func:`graphkit.scoring.exposure.expected_conversions`
      (score column), a per-follower model learned with the same ``horizon``
      and ``exposure_window``.

    >>> import polars as pl
    >>> from graphkit import TopicGraph
    >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"], "topic": [None]}),
    ...     items=pl.DataFrame({"item_id": ["x"], "topic": ["t"]}))
    >>> builtin_scorer("audience")(g, topics=["t"]).sort("person_id")["score"].to_list()
    [1.0, 0.0]
    """
    if name == "random":
        def random(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            rng = np.random.default_rng(seed)
            return baselines.matrix_table(graph, rng.random((graph.n_people, len(graph.topics))), topics)
        return random
    if name in ("audience", "active_audience"):
        def audience(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return _audience(graph, topics=topics, active=name == "active_audience")
        return audience
    if name == "pagerank":
        def pagerank(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            pr = graph.igraph(("follows",)).pagerank(weights="weight", damping=damping_factor, directed=True)
            return _broadcast(graph, np.asarray(pr), topics)
        return pagerank
    if name == "topic_activity":
        def activity(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return baselines.matrix_table(graph, topic_activity(graph).toarray(), topics)
        return activity
    if name == "topic_influence":
        def influence(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.influence import topic_influence

            # every topic somebody is active on; a topic it cannot score ranks its people last
            return topic_influence(graph, damping_factor=damping_factor).table
        return influence
    if name == "potential_reach":
        def reach(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.reach import potential_reach

            return potential_reach(graph, topics=list(topics)).table
        return reach
    if name == "past_attributed":
        def past(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return baselines.past_attributed(graph, topics=topics, horizon=horizon, window=exposure_window)
        return past
    if name == "adoption_influence":
        def adoption(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.topical import adoption_influence

            return adoption_influence(graph, topics=list(topics), horizon=horizon, exposure_window=exposure_window,
                                      seed=seed).table
        return adoption
    if name == "adopter_pagerank":
        def adopters(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.adopters import adopter_pagerank

            return adopter_pagerank(graph, topics=list(topics), horizon=horizon, damping_factor=damping_factor).table
        return adopters
    if name == "expected_conversions":
        def conversions(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            from graphkit.scoring.exposure import expected_conversions

            return expected_conversions(graph, topics=list(topics), horizon=horizon, exposure_window=exposure_window,
                                        seed=seed).table
        return conversions
    if name in ("active_new_followers", "posts_x_active_new_followers", "activity_x_active_new_followers"):
        fn = getattr(baselines, name)

        def baseline(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
            return fn(graph, topics=topics)
        return baseline
    registered = _registered()
    if name in registered:
        return _registered_scorer(name)
    raise GraphkitError(f"unknown scorer {name!r}; built-in scorers are {', '.join(BUILTIN_SCORERS)}"
                        + (f"; registered scores are {', '.join(registered)}" if registered else "")
                        + "; or pass a function scorer(graph, *, topics) -> DataFrame(person_id, topic, score)")


def _registered() -> tuple[str, ...]:
    from graphkit.scoring import registry

    return tuple(registry.SCORES)


def _registered_scorer(name: str) -> Scorer:
    def registered(graph: TopicGraph, *, topics: Sequence[str]) -> pl.DataFrame:
        from graphkit.scoring.registry import score_table

        # every topic of the past graph; the backtest keeps the ones it evaluates
        return score_table(graph, score=name)
    registered.__name__ = name
    return registered


def resolve_scorers(scorers: Iterable[str | Scorer] | Mapping[str, str | Scorer], **options: Any) -> dict[str, Scorer]:
    """Name -> scorer function, the :data:`REFERENCES` added when missing.

    ``scorers``: names and/or functions (a function is named by its
    ``__name__``), or a dict that names them. ``options`` go to
    :func:`builtin_scorer`.
    """
    items = list(scorers.items()) if isinstance(scorers, Mapping) else [
        (s if isinstance(s, str) else getattr(s, "__name__", f"scorer{i}"), s) for i, s in enumerate(scorers)
    ]
    out: dict[str, Scorer] = {}
    for name, s in items:
        if name in out:
            raise GraphkitError(f"two scorers are named {name!r}; pass a dict to name them")
        if isinstance(s, str):
            out[name] = builtin_scorer(s, **options)
        elif callable(s):
            out[name] = s
        else:
            raise GraphkitError(f"scorer {name!r} is a {type(s).__name__}; give a built-in name or a function")
    if not out:
        raise GraphkitError("no scorers given; e.g. scorers=('random', 'audience', 'posts_x_active_new_followers')")
    for ref in REFERENCES:  # every scorer is compared with these on the same resamples
        if ref not in out:
            out[ref] = builtin_scorer(ref, **options)
    return out


def checked_scores(name: str, result: Any) -> pl.DataFrame:
    """A scorer's output as ``person_id, topic, score`` (String, String, Float64), or a clear error."""
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
