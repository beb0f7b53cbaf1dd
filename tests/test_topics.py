"""Topic structure: activity, credibility, the layers' weights, windows, audiences."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.model.graph import counted_in
from graphkit.model.topics import (
    normalize_window,
    open_end,
    restart_matrix,
    topic_activity,
    topic_layer,
    topic_structure,
)


def _g(edges: list[tuple], people=("ann", "bob", "cat", "dan")) -> TopicGraph:
    """edges: (src, dst, kind, topic, weight, sign, ts)."""
    cols = ["src", "dst", "kind", "topic", "weight", "sign", "ts"]
    df = pl.DataFrame([dict(zip(cols, e)) for e in edges],
                      schema={"src": pl.String, "dst": pl.String, "kind": pl.String, "topic": pl.String,
                              "weight": pl.Float64, "sign": pl.Int8, "ts": pl.String})
    return TopicGraph.from_tables(pl.DataFrame({"person_id": list(people)}), df,
                                  items=pl.DataFrame({"item_id": ["frogbook", "pan"], "topic": ["frogs", "cooking"]}))


@pytest.fixture
def g() -> TopicGraph:
    return _g([
        ("bob", "ann", "follows", None, 1.0, 1, None),
        ("cat", "ann", "follows", None, 2.0, 1, None),
        ("dan", "ann", "follows", None, 1.0, -1, None),         # a hate-follow
        ("ann", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-01"),
        ("ann", "frogbook", "reviews", "frogs", 1.0, -1, "2024-01-02"),  # a panned review is still activity
        ("ann", "pan", "reviews", "cooking", 1.0, 1, "2024-01-03"),
        ("bob", "ann", "shares", "frogs", 3.0, 1, "2024-01-04"),
        ("cat", "ann", "replies", "frogs", 1.0, -1, "2024-01-05"),
        ("cat", "ann", "replies", "cooking", 1.0, 1, "2024-01-06"),
    ])


def test_activity_counts_authored_contributions_whatever_their_sign(g):
    a = topic_activity(g).toarray()
    frogs, cooking = g.topic_of("frogs"), g.topic_of("cooking")
    assert a[:, frogs].tolist() == [2.0, 1.0, 1.0, 0.0]
    assert a[:, cooking].tolist() == [1.0, 0.0, 1.0, 0.0]
    s = topic_structure(g)
    assert s.active.tolist() == [True, True, True, False]  # dan never contributed


def test_credibility_is_the_positive_share_received_and_null_without_any(g):
    s = topic_structure(g)
    frogs, cooking = g.topic_of("frogs"), g.topic_of("cooking")
    assert s.credibility[0, frogs] == pytest.approx(3.0 / 4.0)  # bob's share (3) vs cat's scorn (1)
    assert s.credibility[0, cooking] == 1.0
    assert np.isnan(s.credibility[1, frogs])


def test_layer_scales_follows_by_followee_activity_and_credibility(g):
    w = topic_layer(g, "frogs").toarray()
    # bob: follow 1 x activity 2 x credibility 0.75 = 1.5, plus his share 3
    assert w[1, 0] == pytest.approx(1.5 + 3.0)
    # cat: follow 2 x 2 x 0.75 = 3; the negative reply passes nothing
    assert w[2, 0] == pytest.approx(3.0)
    assert w[3].sum() == 0.0  # dan: inactive, and his follow is negative
    cooking = topic_layer(g, "cooking").toarray()
    assert cooking[2, 0] == pytest.approx(2 * 1 * 1.0 + 1.0)


def test_attention_that_passes_nothing_is_counted_as_given(g):
    s = topic_structure(g)
    frogs = g.topic_of("frogs")
    # cat gives: follow 2 x activity 2 (undiscounted) + reply 1 (negative) = 5; passes 3
    assert s.out_weight[2, frogs] == pytest.approx(5.0)
    assert s.unpassed(frogs)[2] == pytest.approx(2.0)
    assert s.out_weight[3].sum() == 0.0


def test_referral_means_the_referred_attends_to_the_referrer():
    g = _g([("ann", "bob", "referred", "frogs", 1.0, 1, "2024-01-01"),
            ("ann", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-01"),
            ("bob", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-01")])
    w = topic_layer(g, "frogs").toarray()
    assert w[1, 0] == 1.0 and w[0, 1] == 0.0


def test_window_keeps_events_inside_and_follows_made_before_its_end():
    g = _g([
        ("bob", "ann", "follows", None, 1.0, 1, "2024-06-01"),   # follows made after the window: not yet there
        ("cat", "ann", "follows", None, 1.0, 1, "2023-01-01"),   # made before the window: still there
        ("ann", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-02"),
        ("ann", "frogbook", "reviews", "frogs", 1.0, 1, "2024-03-01"),  # after the window
        ("bob", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-03"),
        ("cat", "frogbook", "reviews", "frogs", 1.0, 1, "2024-01-04"),
    ])
    window = ("2024-01-01", "2024-02-01")
    assert topic_activity(g, window=window).toarray()[:, g.topic_of("frogs")].tolist() == [1.0, 1.0, 1.0, 0.0]
    w = topic_layer(g, "frogs", window=window).toarray()
    assert w[1, 0] == 0.0 and w[2, 0] == 1.0
    s = topic_structure(g, window=window)
    assert s.audience.tolist() == [1, 0, 0, 0]
    assert topic_structure(g).audience.tolist() == [2, 0, 0, 0]


def test_audience_counts_distinct_followers_and_active_audience_the_active_ones(g):
    s = topic_structure(g)
    assert s.audience.tolist() == [3, 0, 0, 0]  # the hate-follower is audience too
    assert s.active_audience.tolist() == [2, 0, 0, 0]


def test_restart_matrix_is_activity_normalised_and_refuses_empty_topics(g):
    r = restart_matrix(g, ["frogs"])
    assert r[:, 0].tolist() == [0.5, 0.25, 0.25, 0.0]
    with pytest.raises(GraphkitError, match="nobody is active on topic"):
        restart_matrix(g, ["cooking"], window=("2024-01-04", "2024-01-05"))


def test_window_normalisation_and_errors():
    assert normalize_window((datetime(2024, 1, 1), None))[0] == datetime(2024, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(GraphkitError, match="before its end"):
        normalize_window(("2024-02-01", "2024-01-01"))
    with pytest.raises(GraphkitError, match="not an ISO 8601"):
        normalize_window(("last tuesday", None))
    with pytest.raises(GraphkitError, match="pair"):
        normalize_window("2024")


def test_structure_is_cached_per_window(g):
    assert topic_structure(g) is topic_structure(g)
    assert topic_structure(g, window=("2024-01-01", None)) is not topic_structure(g)


def test_a_window_ending_after_the_data_shares_the_open_structure(g):
    # every event dated (follows undated): ending after the last event counts exactly what an open window counts
    end = datetime(2024, 2, 1, tzinfo=timezone.utc)
    assert g.edges.filter(counted_in(None, end)).height == g.edges.height
    assert (topic_activity(g, window=(None, end)) != topic_activity(g)).nnz == 0
    assert open_end(g, end) is None
    assert topic_structure(g, window=(None, end)) is topic_structure(g)
    # ending inside the data, or with an undated event (it counts only without bounds), keeps the bound
    assert open_end(g, datetime(2024, 1, 6, tzinfo=timezone.utc)) is not None
    undated = _g([("bob", "ann", "follows", None, 1.0, 1, None), ("ann", "pan", "reviews", "cooking", 1.0, 1, None),
                  ("bob", "pan", "reviews", "cooking", 1.0, 1, "2024-01-03")])
    assert open_end(undated, end) == end
    bounded, whole = topic_structure(undated, window=(None, end)), topic_structure(undated)
    assert bounded is not whole and bounded.activity.sum() == 1 and whole.activity.sum() == 2
