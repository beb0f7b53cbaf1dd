"""Ranking scores by name: the one place that decides the default.

Two scores rank people on a topic, with the same columns (``person_id``,
``topic``, ``score``, ``rank``, ``percentile``, ``audience``,
``active_audience``, ``credibility``):

- ``"topic_influence"``: personalised PageRank per topic
  (:func:`graphkit.scoring.influence.topic_influence`), who holds attention on a topic;
- ``"expected_reach"``: followers new to the topic likely to take it up
  (:func:`graphkit.scoring.reach.expected_reach`);
- ``"adoption_influence"``: followers expected to take the topic up after the
  person's activity on it, zero for people not active on it
  (:func:`graphkit.scoring.topical.adoption_influence`).

:data:`DEFAULT_SCORE` is ``"expected_reach"`` because the backtest supports it
(``docs/backtest.md``): on the bundled Ciao data, learning before 2010-01-01 and
counting followers' first adoptions in the next year, NDCG@10 is 0.666
[0.625, 0.725] for expected reach, 0.234 [0.177, 0.289] for audience size and
0.123 [0.101, 0.146] for topic influence (95% bootstrap intervals over people).
Expected reach learns from dated activity; on undated data it raises, and
``score="topic_influence"`` is the choice to make.

>>> from graphkit.io.datasets import load_ciao
>>> t = score_table(load_ciao(), score="topic_influence", topics=["Books"])
>>> t.columns[:4], t["topic"].unique().to_list()
(['person_id', 'topic', 'score', 'rank'], ['Books'])
"""

from __future__ import annotations

from typing import Sequence

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window

SCORES: tuple[str, ...] = ("expected_reach", "topic_influence", "adoption_influence")
DEFAULT_SCORE = "expected_reach"


def check_score(score: str) -> str:
    """``score`` if it names a known score; otherwise a clear error with the choices."""
    if score not in SCORES:
        raise GraphkitError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    return score


def score_table(
    graph: TopicGraph,
    *,
    score: str = DEFAULT_SCORE,
    topics: Sequence[str] | None = None,
    window: Window | None = None,
) -> pl.DataFrame:
    """The table of ``score`` for ``topics`` (all topics when None) over ``window``."""
    check_score(score)
    if score == "expected_reach":
        from graphkit.scoring.reach import expected_reach

        try:
            return expected_reach(graph, topics=None if topics is None else list(topics), window=window).table
        except GraphkitError as exc:  # e.g. undated or too little history to learn propensities from
            raise GraphkitError(f"{exc}; or rank by score='topic_influence'") from exc
    if score == "adoption_influence":
        from graphkit.scoring.topical import adoption_influence

        return adoption_influence(graph, topics=None if topics is None else list(topics), window=window).table
    from graphkit.scoring.influence import topic_influence

    return topic_influence(graph, topics=topics, window=window).table
