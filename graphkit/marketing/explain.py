"""Why is someone influential on a topic: the terms of their score.

:func:`explain` explains any ranking score by name, the default one
(:data:`graphkit.scoring.registry.DEFAULT_SCORE`) unless told otherwise;
:func:`explain_influence` is its part for topic influence, described here.

Topic influence is personalised PageRank on a topic's attention layer (see
:func:`graphkit.scoring.influence.topic_influence`). At its fixed point a person
*j*'s score is exactly the sum of

- one term per attention giver *i*: ``d * score[i] * W[i, j] / out[i]``,
  the share of *i*'s own influence that *i*'s attention passes to *j*
  (``W`` = the topic layer of weights that pass influence, ``out[i]`` = all
  the attention *i* pays on the topic, including what passes nothing such as
  negative edges; ``d`` = damping factor);
- one term for *j*'s own activity on the topic: ``restart[j] * ((1 - d) +
  d * returned)``, the teleport to active people, where ``returned`` is the
  score mass whose attention passed nothing (people who pay no attention on
  the topic, and the unpassed part of everybody else's), which the model
  sends back to the teleport.

:func:`explain_influence` lists the largest terms with who gave them and
through which kinds of edges, so an analyst can see whose attention makes a
person influential.

>>> from graphkit.marketing import example_market
>>> ex = explain_influence(example_market(), "lea", "lego")
>>> ex.select("term", "giver", "via").head(2).rows()
[('attention', 'f1', 'follows+referred+shares'), ('attention', 'f2', 'follows+shares')]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import person_labels, require_columns
from graphkit.model.graph import TopicGraph, counted_in
from graphkit.model.topics import Window, normalize_window, topic_activity, topic_structure
from graphkit.scoring.registry import DEFAULT_SCORE, FallbackWarning, Ranking, ranking

#: The terms must add up to the score within this relative tolerance, or within the
#: solver's accuracy (an absolute error of about its ``tol``), whichever is larger.
ADDS_UP_RTOL = 1e-6


def explain_influence(
    graph: TopicGraph,
    person_id: str,
    topic: str,
    *,
    influence: Any = None,
    top: int = 10,
    damping_factor: float | None = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """The largest terms of a person's influence score on a topic, as a table.

    ``influence`` is the :class:`~graphkit.scoring.results.InfluenceResult` the score
    comes from (its damping factor and window are used), or its ``.table``
    (then pass the same ``damping_factor``, default 0.85, and ``window``);
    when None it is computed with :func:`graphkit.scoring.influence.topic_influence`.
    Raises when the terms do not add up to the score (the table was computed
    with other parameters, or by a model this decomposition does not fit,
    such as an potential-reach score).

    Rows, largest contribution first: the ``top`` attention givers
    (``term = "attention"``), then, when more gave attention, one
    ``"other attention"`` row for the rest, and one ``"own activity"`` row
    (the teleport term). Columns: ``person_id`` and ``topic`` (as asked),
    ``term``, ``giver`` (person_id; null on
    aggregate rows), ``name``, ``via`` (kinds of positive edges from the
    giver: follows, mentions, replies, shares, or referred when the person
    referred the giver), ``weight`` (attention weight on the topic),
    ``giver_score``, ``contribution`` and ``share`` (of the score; the
    shares sum to 1).

    >>> from graphkit.marketing import example_market
    >>> ex = explain_influence(example_market(), "lea", "lego", top=2)
    >>> ex.select("term", "giver", "share").with_columns(pl.col("share").round(3)).rows()
    [('attention', 'f1', 0.261), ('attention', 'f2', 0.209), ('other attention', None, 0.325), ('own activity', None, 0.205)]
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise GraphkitError(f"top must be a positive integer; got {top!r}")
    t = graph.topic_of(topic)
    j = int(graph.index_of([person_id])[0])
    if influence is None:
        from graphkit.scoring.influence import topic_influence

        d = 0.85 if damping_factor is None else damping_factor
        influence = topic_influence(graph, topics=[topic], damping_factor=d, window=window)
    params = getattr(influence, "parameters", None)
    atol = 1e-9
    if params is not None:  # a result object knows how it was made
        if damping_factor is not None and damping_factor != params["damping_factor"]:
            raise GraphkitError(f"damping_factor={damping_factor} differs from the result's "
                                f"{params['damping_factor']}; leave it out")
        d, window = params["damping_factor"], params["window"]
        atol = max(atol, 10 * float(params.get("tol", 0.0)), 1e-6 if params.get("dtype") == "float32" else 0.0)
    else:
        d = 0.85 if damping_factor is None else damping_factor
    table = getattr(influence, "table", influence)
    require_columns(table, ("person_id", "topic", "score"), "influence", "Pass topic_influence(...) or its .table.")
    rows = table.filter(pl.col("topic") == topic).select("person_id", pl.col("score").cast(pl.Float64))
    if rows.height == 0:
        raise GraphkitError(f"the influence table has no rows for topic {topic!r}; compute influence on it")
    scores = np.zeros(graph.n_people)
    scores[graph.index_of(rows["person_id"])] = rows["score"].to_numpy()

    structure = topic_structure(graph, window=window)
    w = structure.layer(t)
    restart = structure.restart([t])[:, 0]
    out = structure.out_weight[:, t]
    passed = np.divide(np.asarray(w.sum(axis=1)).ravel(), out, out=np.zeros_like(out), where=out > 0)
    returned = float((scores * (1.0 - passed)).sum())  # mass whose attention passed nothing: back to teleport
    col = w[:, [j]].tocoo()
    givers = col.row.astype(np.int64)
    weights = col.data.astype(np.float64)
    contrib = d * scores[givers] * weights / out[givers]
    own = float(restart[j] * ((1.0 - d) + d * returned))
    total = float(contrib.sum()) + own
    score = float(scores[j])
    if abs(total - score) > max(ADDS_UP_RTOL * score, atol):
        raise GraphkitError(
            f"the terms add up to {total:.6g} but the score of {person_id!r} on {topic!r} is {score:.6g}: "
            "pass the InfluenceResult itself, or the damping_factor and window the table was computed with"
        )

    ids = graph.people["person_id"]
    via = _via(graph, person_id, topic, window)
    terms = pl.DataFrame({
        "term": ["attention"] * len(givers),
        "giver": ids.gather(givers),
        "weight": weights,
        "giver_score": scores[givers],
        "contribution": contrib,
    }).sort(["contribution", "giver"], descending=[True, False])
    shown, rest = terms.head(top), terms.slice(top)
    parts = [shown]
    if rest.height:
        parts.append(pl.DataFrame({
            "term": ["other attention"], "giver": pl.Series([None], dtype=pl.String),
            "weight": [float(rest["weight"].sum())], "giver_score": pl.Series([None], dtype=pl.Float64),
            "contribution": [float(rest["contribution"].sum())],
        }))
    parts.append(pl.DataFrame({
        "term": ["own activity"], "giver": pl.Series([None], dtype=pl.String),
        "weight": [float(restart[j])], "giver_score": pl.Series([None], dtype=pl.Float64), "contribution": [own],
    }))
    return _terms_table(graph, person_id, topic, parts, score, via=via)


def _terms_table(graph: TopicGraph, person_id: str, topic: str, parts: list[pl.DataFrame], score: float,
                 via: pl.DataFrame | None = None) -> pl.DataFrame:
    """The explain table from its term rows: each term's share of ``score``, the giver's name and how p sees them.

    ``via`` maps givers to how the person sees them; without it a giver is a follower ("follows").
    """
    result = pl.concat(parts, how="vertical_relaxed").with_columns(
        share=pl.col("contribution") / score if score > 0 else pl.lit(None, dtype=pl.Float64))
    if via is None:
        result = result.with_columns(via=pl.when(pl.col("giver").is_not_null()).then(pl.lit("follows")))
    else:
        result = result.join(via, on="giver", how="left", maintain_order="left")
    names = person_labels(graph).select(pl.col("person_id").alias("giver"), "name")
    return (
        result.join(names, on="giver", how="left", maintain_order="left")
        .select(pl.lit(person_id).alias("person_id"), pl.lit(topic).alias("topic"),
                "term", "giver", "name", "via", "weight", "giver_score", "contribution", "share")
    )


def _via(graph: TopicGraph, person_id: str, topic: str, window: Window | None) -> pl.DataFrame:
    """Kinds of positive edges through which each giver attends to ``person_id`` on ``topic``."""
    start, end = normalize_window(window)
    e = graph.edges.filter(pl.col("sign") > 0)
    # a referral (src referred dst) is attention from dst to src, as in the influence model
    e = e.with_columns(
        pl.when(pl.col("kind") == "referred").then(pl.col("dst")).otherwise(pl.col("src")).alias("giver"),
        pl.when(pl.col("kind") == "referred").then(pl.col("src")).otherwise(pl.col("dst")).alias("receiver"),
    ).filter(
        (pl.col("receiver") == person_id) & (pl.col("giver") != person_id)
        & (pl.col("topic").is_null() | (pl.col("topic") == topic))
        & (pl.col("kind") != "reviews") & (pl.col("kind") != "member_of")
    )
    e = e.filter(counted_in(start, end))
    return e.group_by("giver").agg(pl.col("kind").unique().sort().str.join("+").alias("via"))


# ------------------------------------------------------------ any ranking score
def explain(
    graph: TopicGraph,
    person_id: str,
    topic: str,
    *,
    score: str = DEFAULT_SCORE,
    top: int = 10,
    window: Window | None = None,
) -> pl.DataFrame:
    """The terms of ``person_id``'s ``score`` on ``topic`` (default: the default ranking score), largest first.

    ``score`` is a name of :data:`graphkit.scoring.registry.SCORES`; where
    the default cannot be computed, the score it falls back to is explained
    (see :func:`graphkit.scoring.registry.ranking`). Columns: ``person_id``,
    ``topic``, ``score_name`` (the score explained), then those of
    :func:`explain_influence`: ``term``, ``giver``, ``name``, ``via``,
    ``weight``, ``giver_score``, ``contribution`` and ``share``. The
    contributions add up to the score and the shares to 1 (a score of 0 has
    null shares: nothing to explain).

    - ``topic_influence``: :func:`explain_influence` (the attention givers
      and the own-activity teleport term);
    - ``posts_x_active_new_followers``: one ``"new follower"`` row per
      follower who is new to the topic and was active in the year before
      now, each contributing ``log1p(acts)``; an ``"own activity"`` row whose
      ``weight`` is those acts (the person's acts on the topic in that year;
      a factor, so its contribution is null);
    - ``potential_reach``: one ``"new follower"`` row per follower new to
      the topic, contributing ``credibility x propensity`` (``giver_score``
      is the propensity); a ``"credibility"`` row whose ``weight`` is the
      factor.

    - ``adoption_influence``: the model's expected adoptions per active
      follower new to the topic (the rate) times those followers plus one:
      one ``"new follower"`` row per such follower contributing the rate, one
      ``"offset"`` row contributing the rate once more (the model's exposure
      is followers + 1), a ``"rate"`` row whose ``weight`` is the rate (a
      factor, contribution null), and one ``"feature: <name>"`` row per input
      of the model (:data:`graphkit.scoring.topical.FEATURES`) with its value
      as ``weight`` -- what the rate was predicted from.

    - ``adopter_pagerank``: one row per follower whose walk brings the
      person mass (:func:`graphkit.scoring.adopters.adopter_terms`):
      ``term`` ``"possible adopter"`` (new to the topic) or ``"adopter"``,
      ``weight`` the person's recent activity on the topic x credibility,
      ``giver_score`` the follower's stationary mass; the rest in one
      ``"other followers"`` row.

    - ``expected_conversions``: one ``"new follower"`` row per follower new
      to the topic, contributing the model's probability that they take the
      topic up after the person's activity on it (``giver_score``, also)
      (:func:`graphkit.scoring.exposure.conversion_terms`).

    Followers beyond ``top`` are summed in one ``"other new followers"`` row.

    >>> from graphkit.marketing import example_market
    >>> ex = explain(example_market(), "lea", "cooking", top=2)
    >>> ex.select("term", "giver", "weight", pl.col("share").round(3)).rows()
    [('new follower', 'f1', 1.0, 0.2), ('new follower', 'f2', 1.0, 0.2), ('other new followers', None, 3.0, 0.6), ('own activity', None, 1.0, None)]
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise GraphkitError(f"top must be a positive integer; got {top!r}")
    graph.index_of([person_id])  # an unknown person raises, naming the people table
    if score in ("adoption_influence", "expected_conversions"):
        compute = _explain_adoption if score == "adoption_influence" else _explain_conversions
        table = compute(graph, person_id, topic, top=top, window=window)
        if table is not None:
            return table.select("person_id", "topic", pl.lit(score).alias("score_name"),
                                pl.exclude("person_id", "topic"))
    r = ranking(graph, score=score, topics=[topic], window=window)
    if r.note is not None:
        warnings.warn(r.note, FallbackWarning, stacklevel=2)
    if r.score == "topic_influence":
        table = explain_influence(graph, person_id, topic, top=top, window=window)
    elif r.score in ("posts_x_active_new_followers", "potential_reach"):
        table = _explain_followers(graph, person_id, topic, r, top=top, window=window)
    elif r.score == "adopter_pagerank":
        table = _explain_adopters(graph, person_id, topic, top=top, window=window)
    else:
        raise GraphkitError(f"explain has no terms for the score {r.score!r} yet; explain another one with "
                            "--score topic_influence")
    return table.select("person_id", "topic", pl.lit(r.score).alias("score_name"), pl.exclude("person_id", "topic"))


def _explain_adoption(graph: TopicGraph, person_id: str, topic: str, *, top: int,
                      window: Window | None) -> pl.DataFrame | None:
    """Terms of adoption influence (None when it cannot be computed here: the caller falls back or raises)."""
    from graphkit.scoring.topical import adoption_influence, adoption_terms

    try:
        res = adoption_influence(graph, topics=[topic], window=window)
    except GraphkitError:
        return None  # ranking() says why, and falls back when adoption influence is the default
    score = float(res.table.filter(pl.col("person_id") == person_id)["score"].item())
    terms = adoption_terms(graph, res, person_id, topic)
    if abs(terms.score - score) > max(ADDS_UP_RTOL * score, 1e-9):
        raise GraphkitError(f"the terms add up to {terms.score:.6g} but the adoption_influence of {person_id!r} on "
                            f"{topic!r} is {score:.6g}; this is a bug in graphkit: please report it")
    ids = graph.people["person_id"]
    n = len(terms.followers)
    follow = pl.DataFrame({
        "term": ["new follower"] * n, "giver": ids.gather(terms.followers), "weight": np.ones(n),
        "giver_score": pl.Series([None] * n, dtype=pl.Float64), "contribution": np.full(n, terms.rate),
    }, schema_overrides={"giver": pl.String}).sort("giver")
    null_s, null_f = pl.Series([None], dtype=pl.String), pl.Series([None], dtype=pl.Float64)
    parts = [follow.head(top)]
    if n > top:
        parts.append(pl.DataFrame({"term": ["other new followers"], "giver": null_s, "weight": [float(n - top)],
                                   "giver_score": null_f, "contribution": [terms.rate * (n - top)]}))
    parts.append(pl.DataFrame({"term": ["offset", "rate"], "giver": [None, None], "weight": [1.0, terms.rate],
                               "giver_score": [None, None], "contribution": [terms.rate, None]},
                              schema={"term": pl.String, "giver": pl.String, "weight": pl.Float64,
                                      "giver_score": pl.Float64, "contribution": pl.Float64}))
    parts.append(pl.DataFrame({"term": [f"feature: {f}" for f in terms.features], "giver": [None] * len(terms.features),
                               "weight": list(terms.features.values()), "giver_score": [None] * len(terms.features),
                               "contribution": [None] * len(terms.features)},
                              schema={"term": pl.String, "giver": pl.String, "weight": pl.Float64,
                                      "giver_score": pl.Float64, "contribution": pl.Float64}))
    return _terms_table(graph, person_id, topic, parts, score)


def _explain_conversions(graph: TopicGraph, person_id: str, topic: str, *, top: int,
                         window: Window | None) -> pl.DataFrame | None:
    """Terms of expected conversions: one probability per follower new to the topic (None: cannot be computed)."""
    from graphkit.scoring.exposure import conversion_terms, expected_conversions

    try:
        res = expected_conversions(graph, topics=[topic], window=window)
    except GraphkitError:
        return None  # ranking() says why
    score = float(res.table.filter(pl.col("person_id") == person_id)["score"].item())
    terms = conversion_terms(graph, res, person_id, topic)
    total = float(terms["probability"].sum())
    if abs(total - score) > max(ADDS_UP_RTOL * score, 1e-9):
        raise GraphkitError(f"the terms add up to {total:.6g} but the expected_conversions of {person_id!r} on "
                            f"{topic!r} is {score:.6g}; this is a bug in graphkit: please report it")
    n = terms.height
    schema = {"term": pl.String, "giver": pl.String, "weight": pl.Float64, "giver_score": pl.Float64,
              "contribution": pl.Float64}
    follow = pl.DataFrame({"term": ["new follower"] * n, "giver": terms["follower"], "weight": np.ones(n),
                           "giver_score": terms["probability"], "contribution": terms["probability"]}, schema=schema)
    parts = [follow.head(top)]
    if n > top:
        parts.append(pl.DataFrame({"term": ["other new followers"], "giver": [None], "weight": [float(n - top)],
                                   "giver_score": [None], "contribution": [float(terms["probability"][top:].sum())]},
                                  schema=schema))
    return _terms_table(graph, person_id, topic, parts, score)


def _explain_adopters(graph: TopicGraph, person_id: str, topic: str, *, top: int,
                      window: Window | None) -> pl.DataFrame:
    """Terms of adopter PageRank: the followers whose walks bring the person's mass (they add up to the score)."""
    from graphkit.scoring.adopters import adopter_terms

    terms = adopter_terms(graph, person_id, topic, top=top, window=window)
    names = person_labels(graph).select(pl.col("person_id").alias("giver"), "name")
    return (
        terms.with_columns(via=pl.when(pl.col("giver").is_not_null()).then(pl.lit("follows")))
        .join(names, on="giver", how="left", maintain_order="left")
        .select("person_id", "topic", "term", "giver", "name", "via", "weight", "giver_score", "contribution",
                "share")
    )


def _explain_followers(graph: TopicGraph, person_id: str, topic: str, r: Ranking, *, top: int,
                       window: Window | None) -> pl.DataFrame:
    """Terms of a score that sums one term per follower new to the topic, times a factor of the person's."""
    from datetime import datetime

    t, j = graph.topic_of(topic), int(graph.index_of([person_id])[0])
    now = datetime.fromisoformat(r.parameters["now"])
    score = float(r.table.filter(pl.col("person_id") == person_id)["score"].item())
    if r.score == "posts_x_active_new_followers":
        from graphkit.scoring.baselines import RECENT, followers_new_and_active

        follower, leader, counted = followers_new_and_active(graph, now=now)
        mine = follower[(leader == j) & counted[follower, t]]
        acts = float(topic_activity(graph, window=(now - RECENT, now))[[j], [t]].sum())
        per = np.full(len(mine), np.log1p(acts))
        giver_score = np.full(len(mine), np.nan)
        factor_term, factor = "own activity", acts
    else:  # potential_reach: credibility x the propensities of the followers new to the topic
        from graphkit.scoring.reach import follower_propensities

        mine, prob, credibility = follower_propensities(graph, person_id, topic, window=window)
        per, giver_score = credibility * prob, prob
        factor_term, factor = "credibility", credibility
    if abs(float(per.sum()) - score) > max(ADDS_UP_RTOL * score, 1e-9):
        raise GraphkitError(f"the terms add up to {float(per.sum()):.6g} but the {r.score} of {person_id!r} on "
                            f"{topic!r} is {score:.6g}; this is a bug in graphkit: please report it")
    ids = graph.people["person_id"]
    terms = pl.DataFrame({
        "term": ["new follower"] * len(mine), "giver": ids.gather(mine), "weight": np.ones(len(mine)),
        "giver_score": pl.Series(giver_score, dtype=pl.Float64).fill_nan(None), "contribution": per,
    }, schema_overrides={"giver": pl.String}).sort(["contribution", "giver"], descending=[True, False])
    null_s, null_f = pl.Series([None], dtype=pl.String), pl.Series([None], dtype=pl.Float64)
    parts = [terms.head(top)]
    rest = terms.slice(top)
    if rest.height:
        parts.append(pl.DataFrame({"term": ["other new followers"], "giver": null_s,
                                   "weight": [float(rest["weight"].sum())], "giver_score": null_f,
                                   "contribution": [float(rest["contribution"].sum())]}))
    parts.append(pl.DataFrame({"term": [factor_term], "giver": null_s, "weight": [float(factor)],
                               "giver_score": null_f, "contribution": null_f}))
    return _terms_table(graph, person_id, topic, parts, score)
