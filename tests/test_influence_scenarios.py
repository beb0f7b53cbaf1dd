"""The four scenarios from the marketing texts, as small hand-built graphs."""

from __future__ import annotations

import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.scoring.influence import topic_influence


def _graph(people: list[str], edges: list[tuple], items: dict[str, str]) -> TopicGraph:
    """edges: (src, dst, kind, topic, sign) rows; items: item_id -> topic."""
    src, dst, kind, topic, sign = zip(*edges)
    return TopicGraph.from_tables(
        pl.DataFrame({"person_id": people}),
        pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "sign": sign},
                     schema={"src": pl.String, "dst": pl.String, "kind": pl.String, "topic": pl.String, "sign": pl.Int8}),
        items=pl.DataFrame({"item_id": list(items), "topic": list(items.values())}),
    )


def _row(res, person: str, topic: str) -> dict:
    return res.table.filter((pl.col("person_id") == person) & (pl.col("topic") == topic)).row(0, named=True)


@pytest.fixture(scope="module")
def niche():
    """A frog expert with 200 frog-active followers who share his posts; a celebrity
    with 50,000 followers (active on music) who never posts about frogs."""
    frog_fans = [f"frogfan{i}" for i in range(200)]
    celeb_fans = [f"fan{i}" for i in range(50_000)]
    edges = [("frogman", "frogbook", "reviews", "frogs", 1)] * 3 + [("celeb", "album", "reviews", "music", 1)] * 3
    for f in frog_fans:
        edges += [(f, "frogman", "follows", None, 1), (f, "frogman", "shares", "frogs", 1)]
    for f in celeb_fans:
        edges += [(f, "celeb", "follows", None, 1), (f, "album", "reviews", "music", 1)]
    edges += [(f, "celeb", "follows", None, 1) for f in frog_fans[:50]]  # some frog fans follow the celebrity too
    g = _graph(["frogman", "celeb", *frog_fans, *celeb_fans], edges, {"frogbook": "frogs", "album": "music"})
    return topic_influence(g)


def test_niche_expert_outranks_celebrity_on_frogs(niche):
    expert, celeb = _row(niche, "frogman", "frogs"), _row(niche, "celeb", "frogs")
    assert expert["audience"] == 200 and celeb["audience"] == 50_050
    assert expert["rank"] == 1
    assert expert["score"] > 10 * celeb["score"]


def test_niche_expert_does_not_outrank_celebrity_elsewhere(niche):
    expert, celeb = _row(niche, "frogman", "music"), _row(niche, "celeb", "music")
    assert celeb["rank"] == 1
    assert expert["score"] < celeb["score"]


def test_expert_off_topic_has_low_influence_and_credibility_there():
    fans = [f"fan{i}" for i in range(300)]
    chef_fans = [f"cook{i}" for i in range(20)]
    edges = [("guru", "book", "reviews", "marketing", 1)] * 5 + [("guru", "pan", "reviews", "cooking", 1)] * 5
    edges += [("chef", "pan", "reviews", "cooking", 1)] * 5
    for f in fans:  # replies to the guru: approving on marketing, scornful on cooking
        edges += [(f, "guru", "follows", None, 1), (f, "guru", "replies", "marketing", 1),
                  (f, "guru", "replies", "cooking", -1)]
    for f in chef_fans:
        edges += [(f, "chef", "follows", None, 1), (f, "chef", "replies", "cooking", 1)]
    g = _graph(["guru", "chef", *fans, *chef_fans], edges, {"book": "marketing", "pan": "cooking"})
    res = topic_influence(g)
    marketing, cooking, chef = _row(res, "guru", "marketing"), _row(res, "guru", "cooking"), _row(res, "chef", "cooking")
    assert marketing["rank"] == 1 and marketing["credibility"] == 1.0
    assert cooking["credibility"] == 0.0
    assert chef["rank"] == 1 and cooking["score"] < chef["score"] / 3
    assert cooking["score"] < marketing["score"] / 10
    assert cooking["percentile"] < marketing["percentile"]


def test_mocked_celebrity_has_audience_but_little_influence():
    """Two stars with the same audience: one admired, one followed to be mocked."""
    mockers = [f"mocker{i}" for i in range(1_000)]
    admirers = [f"admirer{i}" for i in range(1_000)]
    edges = [("star", "album", "reviews", "music", 1)] * 5 + [("idol", "album", "reviews", "music", 1)] * 5
    for i, f in enumerate(mockers):  # mostly scorn: 9 in 10 replies are negative
        edges += [(f, "star", "follows", None, 1), (f, "star", "replies", "music", -1 if i % 10 else 1)]
    for f in admirers:
        edges += [(f, "idol", "follows", None, 1), (f, "idol", "replies", "music", 1)]
    g = _graph(["star", "idol", *mockers, *admirers], edges, {"album": "music"})
    res = topic_influence(g)
    star, idol = _row(res, "star", "music"), _row(res, "idol", "music")
    assert star["audience"] == idol["audience"] == 1_000
    assert star["audience"] == res.table["audience"].max()
    assert star["credibility"] == pytest.approx(0.1) and idol["credibility"] == 1.0
    assert idol["rank"] == 1 and star["rank"] == 2
    assert star["score"] < idol["score"] / 5


def test_inactive_audience_changes_audience_not_influence():
    fans = [f"fan{i}" for i in range(100)]
    edges = [("host", "pan", "reviews", "cooking", 1)] * 3 + [("rival", "pan", "reviews", "cooking", 1)] * 3
    for i, f in enumerate(fans):
        edges += [(f, "host" if i % 2 else "rival", "follows", None, 1), (f, "pan", "reviews", "cooking", 1)]
    base = _graph(["host", "rival", *fans], edges, {"pan": "cooking"})
    ghosts = [f"ghost{i}" for i in range(10_000)]  # never post anything
    bigger = _graph(["host", "rival", *fans, *ghosts], edges + [(gh, "host", "follows", None, 1) for gh in ghosts],
                    {"pan": "cooking"})
    before, after = topic_influence(base), topic_influence(bigger)
    b, a = _row(before, "host", "cooking"), _row(after, "host", "cooking")
    assert a["audience"] == b["audience"] + 10_000
    assert a["active_audience"] == b["active_audience"] == 50
    assert a["score"] == pytest.approx(b["score"], abs=1e-12)
    assert a["rank"] == b["rank"]
    assert after.table.filter(pl.col("person_id").str.starts_with("ghost"))["score"].max() == 0.0
