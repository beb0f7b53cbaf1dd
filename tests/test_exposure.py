"""Expected conversions on hand-built graphs: topic-specific, rows and labels against brute force, no leaks."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.evidence.scorers import BUILTIN_SCORERS, builtin_scorer
from graphkit.scoring.exposure import (
    FEATURES,
    RECENCY_DAYS,
    conversion_labels,
    conversion_terms,
    expected_conversions,
    rows,
    snapshot,
)

from graphkit.scoring.influence import topic_influence
from tests.test_topical import ITEMS, _graph, expert_world

NOW = datetime(2021, 7, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def world() -> TopicGraph:
    return expert_world()


@pytest.fixture(scope="module")
def scored(world):
    return expected_conversions(world)


def _score(table: pl.DataFrame, person: str, topic: str) -> float:
    return table.filter(person_id=person, topic=topic)["score"].item()


def test_the_frog_expert_scores_on_frogs_only(scored):
    t = scored.table
    assert _score(t, "frogx", "frogs") > 0
    assert [_score(t, "frogx", other) for other in ("cooking", "marketing", "hats")] == [0.0, 0.0, 0.0]
    assert scored.top("frogs", 1)["person_id"].item() == "frogx"


def test_the_marketing_expert_gets_nothing_on_cooking(scored):
    t = scored.table
    assert _score(t, "mktx", "marketing") > 0 and _score(t, "mktx", "cooking") == 0.0
    assert scored.top("cooking", 1)["person_id"].item() == "cook"


def test_a_celebrity_who_never_posts_on_the_topic_is_not_in_its_top(scored):
    t = scored.table
    assert t.filter(topic="frogs").sort("audience", descending=True)["person_id"][0] == "celeb"
    for topic in ("frogs", "cooking", "marketing"):
        assert _score(t, "celeb", topic) == 0.0
        positive = t.filter((pl.col("topic") == topic) & (pl.col("score") > 0))["person_id"].to_list()
        assert positive and "celeb" not in positive, topic


def _events(world: TopicGraph, now: datetime) -> pl.DataFrame:
    e = world.edges.with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")))
    return e.filter((pl.col("kind") != "follows") & pl.col("ts").is_not_null() & (pl.col("ts") < now))


def test_zero_for_everyone_who_never_acted_on_the_topic(world, scored):
    acted = set(_events(world, scored.parameters["now"]).select("src", "topic").iter_rows())
    positive = scored.table.filter(pl.col("score") > 0).select("person_id", "topic").iter_rows()
    positive = set(positive)
    assert positive and positive <= acted


def _brute_rows(world: TopicGraph, now: datetime) -> dict[tuple[str, str, str], list[float]]:
    """Every row (follower, person, topic) and its features, by loops over the events (log1p, FEATURES order)."""
    ev = _events(world, now)
    follows = world.edges.filter(pl.col("kind") == "follows").select("src", "dst").unique().rows()
    followees = {f: sorted({d for s, d in follows if s == f and d != f}) for f, _ in follows}
    followers = {p: sorted({s for s, d in follows if d == p and s != p}) for _, p in follows}
    acts = {}
    for src, topic, ts in ev.select("src", "topic", "ts").iter_rows():
        acts.setdefault(src, []).append((topic, ts))

    def on(p, t, days=None):
        return [ts for tt, ts in acts.get(p, []) if tt == t and (days is None or ts >= now - days * DAY)]

    def first(p, t):
        return min(on(p, t), default=None)

    def converted(p, t):  # followers who took t up after p's act on it within 180 days, before now
        n = 0
        for f in followers.get(p, []):
            tau = first(f, t)
            if tau is not None and any(tau - 180 * DAY <= ts < tau for ts in on(p, t)):
                n += 1
        return n

    def part(q, t):
        a180, a_year, ever = len(on(q, t, 180)), len(on(q, t, 365)), len(on(q, t))
        recency = math.exp(-((now - max(on(q, t))).total_seconds() / 86400) / RECENCY_DAYS) if a_year else 0.0
        return [a180 > 0, a_year > 0, ever > 0, recency, math.log1p(a180),
                (a180 > 0) * math.log1p(converted(q, t))]

    people = world.people["person_id"].to_list()
    spread = {t: sum(1 for q in people if first(q, t) is not None and first(q, t) >= now - 365 * DAY)
              for t in world.topics}
    out = {}
    for f, p in sorted(set(follows)):
        if f == p:
            continue
        for t in world.topics:
            if not on(p, t) or on(f, t):
                continue
            mine = on(p, t)
            days = (now - max(mine)).total_seconds() / 86400
            person = [len(on(p, t, 90)), len(on(p, t, 180)), len(on(p, t, 365)), len(mine), days,
                      sum(1 for _, ts in acts.get(p, []) if ts >= now - 365 * DAY), converted(p, t),
                      len(followers.get(p, []))]
            others = np.sum([part(q, t) for q in followees[f] if q != p] or [[0.0] * 6], axis=0).tolist()
            year = [tt for tt, ts in acts.get(f, []) if ts >= now - 365 * DAY]
            own = [len(year), len(set(year)), len(acts.get(f, [])), len(followees[f]),
                   sum(1 for q in followees[f] if any(ts >= now - 180 * DAY for _, ts in acts.get(q, []))), spread[t]]
            out[(f, p, t)] = [math.log1p(v) for v in person + others + own]
    return out


def test_rows_against_brute_force(world):
    x, keys = rows(snapshot(world, NOW))
    ids, topics = world.people["person_id"].to_list(), world.topics
    got = {(ids[f], ids[p], topics[t]): x[i].tolist() for i, (f, p, t) in enumerate(keys)}
    expected = _brute_rows(world, NOW)
    assert len(got) == len(keys) and set(got) == set(expected) and len(expected) > 20
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, rtol=1e-9, atol=1e-12, err_msg=str(key))
    assert x.shape[1] == len(FEATURES)


def test_labels_against_brute_force(world):
    then, horizon = NOW - timedelta(days=365), timedelta(days=365)
    _, keys = rows(snapshot(world, then))
    y = conversion_labels(world, keys, then, horizon, timedelta(days=180))
    ev = _events(world, datetime(2100, 1, 1, tzinfo=timezone.utc))
    ids, topics = world.people["person_id"].to_list(), world.topics
    for (f, p, t), label in zip(keys, y):
        mine = ev.filter((pl.col("src") == ids[f]) & (pl.col("topic") == topics[t]))["ts"]
        tau = mine.min()
        hit = tau is not None and then <= tau < then + horizon and ev.filter(
            (pl.col("src") == ids[p]) & (pl.col("topic") == topics[t]) & (pl.col("ts") < tau)
            & (pl.col("ts") >= tau - timedelta(days=180))).height > 0
        assert label == float(hit), (ids[f], ids[p], topics[t])
    assert 0 < y.sum() < len(y)


def test_score_is_the_sum_of_its_followers_probabilities(world, scored):
    for person, topic in (("frogx", "frogs"), ("mktx", "marketing"), ("cook", "cooking"), ("celeb", "frogs")):
        terms = conversion_terms(world, scored, person, topic)
        assert terms["probability"].sum() == pytest.approx(_score(scored.table, person, topic), rel=1e-9, abs=1e-15)
        assert ((terms["probability"] >= 0) & (terms["probability"] <= 1)).all()
    assert conversion_terms(world, scored, "celeb", "frogs").is_empty()
    with pytest.raises(GraphkitError, match="no topic"):
        conversion_terms(world, expected_conversions(world, topics=["frogs"]), "frogx", "hats")


def test_table_columns_and_deterministic(world, scored):
    assert scored.table.schema == topic_influence(world).table.schema
    assert scored.model.rows > 0 and 0 < scored.model.conversions < scored.model.rows
    # 37 training rows: leaves of 200 rows cannot split, the trees predict the mean (on Ciao they learn: module doctest)
    assert scored.model.log_loss == pytest.approx(scored.model.base_log_loss)
    assert expected_conversions(world).table.equals(scored.table)


def test_nothing_from_now_on_is_used(world):
    cut = TopicGraph.from_tables(world.people.select("person_id"),
                                 world.edges.filter(pl.col("ts").is_null() | (pl.col("ts") < NOW)),
                                 items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))
    full = expected_conversions(world, window=(None, NOW), horizon=timedelta(days=180))
    part = expected_conversions(cut, window=(None, NOW), horizon=timedelta(days=180))
    cols = ["person_id", "topic", "score", "rank"]
    assert full.table.select(cols).equals(part.table.select(cols))


def test_clear_errors():
    undated = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
                                     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
    with pytest.raises(GraphkitError, match="timestamps"):
        expected_conversions(undated)
    quiet = _graph([("b", "a", "follows", None, None), ("a", "frogbook", "reviews", "frogs", "2020-01-01")],
                   ["a", "b"])
    with pytest.raises(GraphkitError, match="nothing to learn"):
        expected_conversions(quiet)
    with pytest.raises(GraphkitError, match="list of topic names"):
        expected_conversions(quiet, topics="frogs")


def test_backtested_by_name(world):
    assert "expected_conversions" in BUILTIN_SCORERS
    by_name = builtin_scorer("expected_conversions")(world, topics=world.topics)
    assert by_name.filter(person_id="frogx", topic="frogs")["score"].item() > 0


def test_explain_adds_up_to_the_score(world, scored):
    from graphkit.marketing.explain import explain

    ex = explain(world, "frogx", "frogs", score="expected_conversions", top=3)
    assert set(ex["score_name"]) == {"expected_conversions"}
    assert ex["contribution"].sum() == pytest.approx(_score(scored.table, "frogx", "frogs"), rel=1e-9)
    assert ex["share"].sum() == pytest.approx(1.0, rel=1e-9)
    followers = ex.filter(pl.col("term") == "new follower")["giver"].to_list()
    assert len(followers) == 3 and all(f.startswith("frogx_f") for f in followers)
    assert ex.filter(pl.col("term") == "other new followers")["weight"].item() == 3.0  # six had not taken frogs up


def test_explain_from_the_command_line(world, scored, tmp_path, capsys):
    import json

    from graphkit.cli import main
    from graphkit.io.files import write_dataset

    write_dataset(world, tmp_path / "w")
    assert main(["explain", str(tmp_path / "w"), "cook", "cooking", "--score", "expected_conversions",
                 "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score_name"] == "expected_conversions"
    assert out["score"] == pytest.approx(_score(scored.table, "cook", "cooking"), rel=1e-9)
    assert main(["explain", str(tmp_path / "w"), "celeb", "frogs", "--score", "expected_conversions", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "never acted on that topic" in err and "Traceback" not in err


def test_one_fit_per_graph_and_settings(world, scored, monkeypatch):
    from graphkit.marketing.explain import explain
    from graphkit.scoring import exposure
    from graphkit.scoring.registry import ranking

    assert expected_conversions(world, topics=["frogs"]).conversions is scored.conversions  # topics do not refit
    reseeded = expected_conversions(world, seed=1)
    assert reseeded.conversions is not scored.conversions and reseeded.parameters["seed"] == 1

    def refit(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(exposure, "fit_model", refit)
    ex = explain(world, "frogx", "frogs", score="expected_conversions", top=3)  # reads the fit the score made
    assert ex["contribution"].sum() == pytest.approx(_score(scored.table, "frogx", "frogs"), rel=1e-9)
    assert ranking(world, score="expected_conversions", topics=["cooking"]).table.equals(
        scored.table.filter(topic="cooking"))
    with pytest.raises(AssertionError, match="fitted again"):  # other settings are another fit
        expected_conversions(world, horizon=timedelta(days=180))
    with pytest.raises(AssertionError, match="fitted again"):  # so is another graph, even with the same tables
        expected_conversions(TopicGraph.from_tables(world.people, world.edges, items=world.items))


def test_a_fit_belongs_to_its_graph(world, scored):
    same = TopicGraph.from_tables(world.people, world.edges, items=world.items)
    again = expected_conversions(same)
    assert again.conversions is not scored.conversions and again.table.equals(scored.table)  # deterministic
    # a new follower of frogx, new to frogs and active on hats: in the new graph's terms, not in the old one's
    newbie = pl.DataFrame({"src": ["newbie", "newbie"], "dst": ["frogx", "hat"], "kind": ["follows", "reviews"],
                           "topic": [None, "hats"], "ts": [None, datetime(2021, 3, 10, tzinfo=timezone.utc)]})
    people = pl.concat([world.people.select("person_id"), pl.DataFrame({"person_id": ["newbie"]})])
    grown = TopicGraph.from_tables(people,
                                   pl.concat([world.edges.select(newbie.columns), newbie], how="vertical_relaxed"),
                                   items=world.items)
    r = expected_conversions(grown)
    assert "newbie" in conversion_terms(grown, r, "frogx", "frogs")["follower"].to_list()
    assert "newbie" not in conversion_terms(world, scored, "frogx", "frogs")["follower"].to_list()
    assert _score(r.table, "frogx", "frogs") > _score(scored.table, "frogx", "frogs")


def test_terms_are_the_models_predictions_of_the_rows_at_now(world, scored):
    x, keys = rows(snapshot(world, scored.parameters["now"]))
    ids = world.people["person_id"].to_list()
    for person, topic in (("frogx", "frogs"), ("cook", "cooking")):
        keep = (keys[:, 1] == ids.index(person)) & (keys[:, 2] == world.topic_of(topic))
        expected = sorted(zip(scored.model.predict(x[keep]).tolist(), [ids[f] for f in keys[keep, 0]]),
                          key=lambda pf: (-pf[0], pf[1]))
        terms = conversion_terms(world, scored, person, topic)
        assert list(zip(terms["probability"], terms["follower"])) == expected and len(expected) >= 6
    with pytest.raises(ValueError, match="read-only"):  # the fit is shared by every result of the graph
        scored.conversions.probability[0] = 1.0
