"""Adoption influence on hand-built graphs with known answers: topic-specific, learned from the past, no leaks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.evidence.scorers import BUILTIN_SCORERS, builtin_scorer
from graphkit.scoring import registry
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.topical import FEATURES, adoption_influence, features

ITEMS = {"frogbook": "frogs", "pan": "cooking", "mktbook": "marketing", "hat": "hats"}


def _graph(rows: list[tuple], people: list[str]) -> TopicGraph:
    src, dst, kind, topic, ts = zip(*rows)
    return TopicGraph.from_tables(
        pl.DataFrame({"person_id": people}),
        pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "ts": ts}),
        items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}),
    )


def expert_world() -> TopicGraph:
    """Three experts who review their topic every month of 2020-2021: ``frogx`` on frogs, ``mktx`` on marketing,
    ``cook`` on cooking; each has 12 followers active on hats, half of whom take the expert's topic up in 2020 or
    2021. Every follower of ``mktx`` also follows ``cook`` and some take cooking up (after ``cook``'s reviews).
    ``celeb`` has every follower and the most, reviews hats, and never touches frogs, marketing or cooking."""
    rows: list[tuple] = []
    people = ["frogx", "mktx", "cook", "celeb"]
    months = [f"{y}-{m:02d}-01" for y in (2020, 2021) for m in range(1, 13)]
    for expert, item in (("frogx", "frogbook"), ("mktx", "mktbook"), ("cook", "pan")):
        rows += [(expert, item, "reviews", ITEMS[item], ts) for ts in months]
        for i in range(12):
            f = f"{expert}_f{i}"
            people.append(f)
            rows += [(f, expert, "follows", None, None), (f, "celeb", "follows", None, None)]
            rows += [(f, "hat", "reviews", "hats", f"{y}-{1 + i % 12:02d}-10") for y in (2020, 2021)]
            if i < 6:  # takes the expert's topic up, mid-month after a review
                rows.append((f, item, "reviews", ITEMS[item], f"{2020 + i % 2}-{2 + i:02d}-15"))
            if expert == "mktx":
                rows.append((f, "cook", "follows", None, None))
                if i % 3 == 0:
                    rows.append((f, "pan", "reviews", "cooking", f"{2020 + i % 2}-{3 + i:02d}-20"))
    rows += [("celeb", "hat", "reviews", "hats", "2021-06-01")]
    return _graph(rows, people)


@pytest.fixture(scope="module")
def world() -> TopicGraph:
    return expert_world()


@pytest.fixture(scope="module")
def scored(world):
    return adoption_influence(world)


def _score(table: pl.DataFrame, person: str, topic: str) -> float:
    return table.filter(person_id=person, topic=topic)["score"].item()


def test_the_frog_expert_scores_on_frogs_only(scored, world):
    t = scored.table
    assert _score(t, "frogx", "frogs") > 0
    assert [_score(t, "frogx", other) for other in ("cooking", "marketing", "hats")] == [0.0, 0.0, 0.0]
    assert scored.top("frogs", 1)["person_id"].item() == "frogx"


def test_the_marketing_expert_gets_nothing_on_cooking(scored):
    t = scored.table
    assert _score(t, "mktx", "marketing") > 0
    assert _score(t, "mktx", "cooking") == 0.0
    cooking = scored.top("cooking", 2)["person_id"].to_list()
    assert cooking[0] == "cook" and "mktx" not in cooking[:1]
    assert t.filter(person_id="mktx", topic="cooking")["rank"].item() > t.filter(person_id="cook",
                                                                                   topic="cooking")["rank"].item()


def test_a_celebrity_who_never_posts_on_the_topic_is_not_in_its_top(scored, world):
    t = scored.table
    audience = t.filter(topic="frogs").sort("audience", descending=True)["person_id"][0]
    assert audience == "celeb"  # the largest audience by far ...
    for topic in ("frogs", "cooking", "marketing"):
        assert _score(t, "celeb", topic) == 0.0  # ... and nothing where it never acts
        positive = t.filter((pl.col("topic") == topic) & (pl.col("score") > 0))["person_id"].to_list()
        assert "celeb" not in positive and positive, topic


def test_only_people_who_acted_on_the_topic_score_above_zero(scored, world):
    x = features(world, scored.parameters["now"])
    acted = x[:, :, FEATURES.index("acts_ever")] > 0
    positive = np.zeros_like(acted)
    t = scored.table
    for row in t.filter(pl.col("score") > 0).iter_rows(named=True):
        positive[world.index_of(pl.Series([row["person_id"]]))[0], world.topic_of(row["topic"])] = True
    assert positive.any() and not (positive & ~acted).any()


def test_table_has_the_columns_and_types_of_every_score(scored, world):
    ti = topic_influence(world).table
    assert scored.table.schema == ti.schema
    assert scored.table.height == ti.height
    assert scored.model.rows > 0 and scored.model.adoptions > 0


def test_deterministic(world, scored):
    again = adoption_influence(world)
    assert again.table.equals(scored.table)


def test_nothing_from_now_on_is_used(world):
    """Scored as of 2021-07-01, the result is the same whatever happens afterwards."""
    now = datetime(2021, 7, 1, tzinfo=timezone.utc)
    cut = TopicGraph.from_tables(world.people.select("person_id"),
                                 world.edges.filter(pl.col("ts").is_null() | (pl.col("ts") < now)),
                                 items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))
    full = adoption_influence(world, window=(None, now), horizon=timedelta(days=180))
    part = adoption_influence(cut, window=(None, now), horizon=timedelta(days=180))
    cols = ["person_id", "topic", "score", "rank"]
    assert full.table.select(cols).equals(part.table.select(cols))


def test_clear_errors():
    undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
                                     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    with pytest.raises(GraphkitError, match="timestamps"):
        adoption_influence(undated)
    quiet = _graph([("b", "a", "follows", None, None), ("a", "frogbook", "reviews", "frogs", "2020-01-01")],
                   ["a", "b"])
    with pytest.raises(GraphkitError, match="nothing to learn"):
        adoption_influence(quiet)
    with pytest.raises(GraphkitError, match="list of topic names"):
        adoption_influence(quiet, topics="frogs")


def test_registered_and_backtested_by_name(world):
    assert "adoption_influence" in registry.SCORES
    assert "adoption_influence" in BUILTIN_SCORERS
    by_name = builtin_scorer("adoption_influence")(world, topics=world.topics)
    assert by_name.filter(person_id="frogx", topic="frogs")["score"].item() > 0
    table = registry.score_table(world, score="adoption_influence", topics=["frogs"])
    assert table["topic"].unique().to_list() == ["frogs"]


def _active_new_followers(world: TopicGraph, person: str, topic: str, now: datetime) -> list[str]:
    """Brute force: followers of ``person`` (follow known before ``now``) who had not acted on ``topic`` before
    ``now`` and acted on anything in the year before it."""
    e = world.edges.with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")))
    before = e.filter(pl.col("ts").is_not_null() & (pl.col("ts") < now))
    out = []
    for f in e.filter((pl.col("kind") == "follows") & (pl.col("dst") == person))["src"].unique().sort():
        mine = before.filter((pl.col("src") == f) & (pl.col("kind") != "follows"))
        adopted = mine.filter(pl.col("dst").replace_strict(ITEMS, default=None) == topic).height > 0
        active = mine.filter(pl.col("ts") >= now - timedelta(days=365)).height > 0
        if not adopted and active:
            out.append(f)
    return out


def test_explain_adds_up_and_names_the_followers(world, scored):
    from graphkit.marketing.explain import explain

    ex = explain(world, "frogx", "frogs", score="adoption_influence", top=3)
    assert set(ex["score_name"]) == {"adoption_influence"}
    score = _score(scored.table, "frogx", "frogs")
    assert ex["contribution"].sum() == pytest.approx(score, rel=1e-9)
    assert ex["share"].sum() == pytest.approx(1.0, rel=1e-9)
    expected = _active_new_followers(world, "frogx", "frogs", scored.parameters["now"])
    assert expected == sorted(f"frogx_f{i}" for i in range(6, 12))  # the six who had not taken frogs up yet
    followers = ex.filter(pl.col("term") == "new follower")
    assert followers["giver"].to_list() == expected[:3]
    assert ex.filter(pl.col("term") == "other new followers")["weight"].item() == 3.0
    rate = ex.filter(pl.col("term") == "rate")["weight"].item()
    assert score == pytest.approx(rate * (len(expected) + 1), rel=1e-9)
    feats = ex.filter(pl.col("term").str.starts_with("feature: "))
    assert feats["term"].to_list() == [f"feature: {f}" for f in FEATURES]
    assert feats.filter(pl.col("term") == "feature: acts_year")["weight"].item() == pytest.approx(12.0)


def test_adoption_terms_add_up_for_everyone(world, scored):
    from graphkit.scoring.topical import adoption_terms

    now = scored.parameters["now"]
    for person, topic in (("frogx", "frogs"), ("mktx", "marketing"), ("cook", "cooking"), ("mktx", "cooking"),
                          ("celeb", "frogs"), ("celeb", "hats"), ("frogx_f7", "hats")):
        terms = adoption_terms(world, scored, person, topic)
        assert terms.score == pytest.approx(_score(scored.table, person, topic), rel=1e-9, abs=1e-12)
        names = world.people["person_id"].gather(terms.followers).to_list()
        assert sorted(names) == _active_new_followers(world, person, topic, now), (person, topic)


def test_explain_adoption_influence_from_the_command_line(world, scored, tmp_path, capsys):
    import json

    from graphkit.cli import main
    from graphkit.io.files import write_dataset

    write_dataset(world, tmp_path / "w")
    assert main(["explain", str(tmp_path / "w"), "cook", "cooking", "--score", "adoption_influence",
                 "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score_name"] == "adoption_influence"
    assert out["score"] == pytest.approx(_score(scored.table, "cook", "cooking"), rel=1e-9)
    assert main(["explain", str(tmp_path / "w"), "celeb", "frogs", "--score", "adoption_influence", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "never acted on that topic" in err and "Traceback" not in err
