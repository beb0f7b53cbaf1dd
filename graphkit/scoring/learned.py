"""What the learned adoption scores share: their arguments checked, the moment they are computed as of, n x T counts.

Adoption influence (:mod:`graphkit.scoring.topical`) and expected
conversions (:mod:`graphkit.scoring.exposure`) take the same ``topics``,
``window`` and ``horizon``, check them the same way, and are computed as of
the same ``now``: the window's end, else just after the data's latest dated
event (:func:`graphkit.scoring.reach.data_end`). :func:`score_request` does
that once for both, and :meth:`ScoreRequest.parameters` records it.

>>> from graphkit.marketing import example_market
>>> g = example_market()
>>> r = score_request(g, topics=["lego"], window=None, horizon=timedelta(days=365), score="adoption influence")
>>> r.topics, r.topic_idx == [g.topic_of("lego")], r.now == data_end(g)
(['lego'], True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window, normalize_window
from graphkit.scoring.reach import data_end

@dataclass(frozen=True)
class ScoreRequest:
    """A learned score's checked arguments: the topics reported, the window as given, and ``now``.

    ``topics``: topic names (every topic of the graph when none were
    given); ``topic_idx``: their columns in the graph's topic order;
    ``start`` / ``end``: the window as given (either may be None);
    ``now``: the moment scored as of; ``horizon``: how far ahead it counts.
    """

    topics: list[str]
    topic_idx: list[int]
    start: datetime | None
    end: datetime | None
    now: datetime
    horizon: timedelta

    def parameters(self, *, exposure_window: timedelta | None, seed: int) -> dict[str, Any]:
        """How the score was called, for its result: topics, window, now, horizon and exposure window in days, seed."""
        return {"topics": self.topics, "window": (self.start, self.end), "now": self.now,
                "horizon_days": self.horizon.total_seconds() / 86400,
                "exposure_window_days": None if exposure_window is None else exposure_window.total_seconds() / 86400,
                "seed": seed}


def score_request(graph: TopicGraph, *, topics: Sequence[str] | None, window: Window | None, horizon: timedelta,
                  score: str) -> ScoreRequest:
    """Check a learned score's ``topics`` and ``horizon`` and resolve ``now`` (``score`` names it in errors).

    >>> from graphkit import TopicGraph
    >>> undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
    ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    >>> score_request(undated, topics=None, window=None, horizon=timedelta(days=1), score="expected conversions")
    Traceback (most recent call last):
    graphkit.errors.GraphkitError: expected conversions needs dated contributions or purchases; this graph has no timestamps
    """
    if isinstance(topics, str):
        raise GraphkitError(f"topics must be a list of topic names, not a single string; use topics=[{topics!r}]")
    if horizon <= timedelta(0):
        raise GraphkitError(f"horizon must be a positive duration; got {horizon}")
    chosen = list(graph.topics) if topics is None else list(topics)
    topic_idx = [graph.topic_of(t) for t in chosen]
    start, end = normalize_window(window)
    now = data_end(graph) if end is None else end
    if now is None:
        raise GraphkitError(f"{score} needs dated contributions or purchases; this graph has no timestamps")
    return ScoreRequest(topics=chosen, topic_idx=topic_idx, start=start, end=end, now=now, horizon=horizon)


def topic_matrix(graph: TopicGraph, frame: pl.DataFrame, value: str | None = None) -> np.ndarray:
    """n x T dense array (people x topics, the graph's orders) from rows with ``person_id``, ``topic``.

    Each row adds its ``value`` (1 when ``value`` is None: counts).

    >>> from graphkit.marketing import example_market
    >>> g = example_market()
    >>> m = topic_matrix(g, pl.DataFrame({"person_id": ["lea", "lea"], "topic": ["lego", "lego"]}))
    >>> m.shape == (g.n_people, len(g.topics)), m[g.index_of(["lea"])[0], g.topic_of("lego")]
    (True, np.float64(2.0))
    """
    n, n_topics = graph.n_people, len(graph.topics)
    if frame.is_empty():
        return np.zeros((n, n_topics))
    rows = graph.index_of(frame["person_id"])
    cols = frame["topic"].cast(pl.Enum(list(graph.topics))).to_physical().to_numpy()
    vals = np.ones(frame.height) if value is None else frame[value].to_numpy().astype(np.float64)
    return sp.coo_array((vals, (rows, cols)), shape=(n, n_topics)).toarray()
