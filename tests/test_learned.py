"""The arguments and the as-of moment the learned scores share (adoption influence, expected conversions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.scoring.exposure import expected_conversions
from graphkit.scoring.learned import score_request, topic_matrix
from graphkit.scoring.reach import data_end
from graphkit.scoring.topical import adoption_influence
from tests.test_topical import expert_world

YEAR = timedelta(days=365)


@pytest.fixture(scope="module")
def world() -> TopicGraph:
    return expert_world()


def test_now_is_the_windows_end_else_just_after_the_data(world):
    cut = datetime(2021, 7, 1, tzinfo=timezone.utc)
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    r = score_request(world, topics=None, window=(start, cut), horizon=YEAR, score="x")
    assert (r.topics, r.start, r.end, r.now) == (list(world.topics), start, cut, cut)
    assert r.topic_idx == list(range(len(world.topics)))
    r = score_request(world, topics=["hats", "frogs"], window=None, horizon=YEAR, score="x")
    assert (r.topics, r.topic_idx, r.start, r.end) == (["hats", "frogs"], [world.topic_of("hats"),
                                                                           world.topic_of("frogs")], None, None)
    assert r.now == data_end(world) == max(world.edges["ts"].drop_nulls()) + timedelta(microseconds=1)


def test_both_scores_check_and_record_their_arguments_alike(world):
    window = (datetime(2021, 1, 1, tzinfo=timezone.utc), datetime(2021, 7, 1, tzinfo=timezone.utc))
    a = adoption_influence(world, topics=["frogs"], window=window, horizon=timedelta(days=180))
    e = expected_conversions(world, topics=["frogs"], window=window, horizon=timedelta(days=180))
    assert a.parameters == e.parameters == {"topics": ["frogs"], "window": window, "now": window[1],
                                            "horizon_days": 180.0, "exposure_window_days": 180.0, "seed": 0}
    undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
                                     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    for compute, name in ((adoption_influence, "adoption influence"), (expected_conversions, "expected conversions")):
        with pytest.raises(GraphkitError, match="list of topic names.*topics=\\['frogs'\\]"):
            compute(world, topics="frogs")
        with pytest.raises(GraphkitError, match="horizon must be a positive duration; got 0:00:00"):
            compute(world, horizon=timedelta(0))
        with pytest.raises(GraphkitError, match=f"^{name} needs dated contributions or purchases"):
            compute(undated)
        with pytest.raises(GraphkitError, match="unicorns"):
            compute(world, topics=["unicorns"])


def test_topic_matrix_adds_rows_up_per_person_and_topic(world):
    frame = pl.DataFrame({"person_id": ["frogx", "frogx", "cook"], "topic": ["frogs", "frogs", "cooking"],
                          "v": [0.5, 2.0, 3.0]})
    counts, values = topic_matrix(world, frame), topic_matrix(world, frame, "v")
    frogx, cook = world.index_of(["frogx", "cook"])
    assert counts.shape == (world.n_people, len(world.topics)) and counts.sum() == 3
    assert counts[frogx, world.topic_of("frogs")] == 2 and values[frogx, world.topic_of("frogs")] == 2.5
    assert values[cook, world.topic_of("cooking")] == 3.0 and values.sum() == 5.5
    assert not topic_matrix(world, frame.clear()).any()
