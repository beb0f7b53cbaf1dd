"""Adopter PageRank on hand-built graphs with known answers, against networkx, and registered by name."""

from __future__ import annotations

from datetime import datetime, timezone

import networkx as nx
import numpy as np
import polars as pl
import pytest

import graphkit as gk
from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.evidence.scorers import BUILTIN_SCORERS, builtin_scorer
from graphkit.scoring import registry
from graphkit.scoring.adopters import adopter_pagerank, adopter_terms, adopter_walk
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.reach import data_end

ITEMS = {"frogbook": "frogs", "pan": "cooking", "mktbook": "marketing", "hat": "hats"}
MONTHS = [f"{y}-{m:02d}-01" for y in (2020, 2021) for m in range(1, 13)]


def _graph(rows: list[tuple], people: list[str], sign: list[int] | None = None) -> TopicGraph:
    src, dst, kind, topic, ts = zip(*rows)
    edges = pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "ts": ts})
    if sign is not None:
        edges = edges.with_columns(sign=pl.Series(sign))
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people}), edges,
                                  items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))


def world() -> TopicGraph:
    """``frogx`` reviews frogs every month of 2020-2021 and has 10 followers new to frogs, active on hats (three
    take frogs up in 2021, after its reviews); ``sat`` reviews frogs in 2021 too, but its 10 followers took frogs up
    in 2018; ``old`` reviewed frogs in 2018 only and has 10 followers new to frogs; ``mktx`` reviews marketing and
    ``cook`` cooking every month, and ``mktx``'s 6 followers follow ``cook`` too; ``celeb`` is followed by everyone,
    reviews hats and never touches frogs, marketing or cooking."""
    rows: list[tuple] = []
    people = ["frogx", "sat", "old", "mktx", "cook", "celeb"]
    rows += [("frogx", "frogbook", "reviews", "frogs", ts) for ts in MONTHS]
    rows += [("sat", "frogbook", "reviews", "frogs", ts) for ts in MONTHS[12:]]
    rows += [("old", "frogbook", "reviews", "frogs", "2018-03-01")]
    rows += [("mktx", "mktbook", "reviews", "marketing", ts) for ts in MONTHS]
    rows += [("cook", "pan", "reviews", "cooking", ts) for ts in MONTHS]
    rows += [("celeb", "hat", "reviews", "hats", "2021-06-01")]
    for leader, n in (("frogx", 10), ("sat", 10), ("old", 10), ("mktx", 6)):
        for i in range(n):
            f = f"{leader}_f{i}"
            people.append(f)
            rows += [(f, leader, "follows", None, None), (f, "celeb", "follows", None, None)]
            rows += [(f, "hat", "reviews", "hats", f"{y}-{1 + i % 12:02d}-10") for y in (2020, 2021)]
            if leader == "frogx" and i < 3:
                rows.append((f, "frogbook", "reviews", "frogs", f"2021-{2 + i:02d}-15"))
            if leader == "sat":
                rows.append((f, "frogbook", "reviews", "frogs", "2018-05-01"))
            if leader == "mktx":
                rows.append((f, "cook", "follows", None, None))
    return _graph(rows, people)


@pytest.fixture(scope="module")
def g() -> TopicGraph:
    return world()


@pytest.fixture(scope="module", params=["learned", "active"])
def scored(g, request):
    return adopter_pagerank(g, propensity=request.param)


def _score(table: pl.DataFrame, person: str, topic: str) -> float:
    return table.filter(person_id=person, topic=topic)["score"].item()


def test_the_leader_is_the_one_possible_adopters_attend_to(scored):
    t = scored.table
    assert scored.top("frogs", 1)["person_id"].item() == "frogx"
    assert _score(t, "frogx", "frogs") > _score(t, "sat", "frogs") >= 0.0  # sat's followers adopted long ago
    assert scored.top("cooking", 1)["person_id"].item() == "cook"
    assert scored.top("marketing", 1)["person_id"].item() == "mktx"
    assert scored.converged


def test_zero_for_anyone_without_activity_on_the_topic_in_the_window(scored, g):
    t = scored.table
    for topic in ("frogs", "cooking", "marketing"):
        assert _score(t, "celeb", topic) == 0.0  # the largest audience, never on these topics
    assert _score(t, "old", "frogs") == 0.0  # followers new to frogs, but its last frog review is 3 years old
    assert _score(t, "mktx", "cooking") == 0.0 and _score(t, "cook", "marketing") == 0.0
    walk = adopter_walk(g, scored.parameters["now"], propensity="active")
    positive = t.filter(pl.col("score") > 0)
    rows, cols = g.index_of(positive["person_id"]), [g.topic_of(x) for x in positive["topic"]]
    assert positive.height > 0 and walk.gate[rows, cols].all()


def test_deterministic(g, scored):
    again = adopter_pagerank(g, propensity=scored.parameters["propensity"])
    assert again.table.equals(scored.table)


def test_table_has_the_columns_and_types_of_every_score(scored, g):
    ti = topic_influence(g).table
    assert scored.table.schema == ti.schema
    assert set(scored.table["topic"].unique()) == set(g.topics)
    assert scored.table["score"].is_finite().all()
    assert scored.table.filter(topic="hats")["score"].max() == 0.0  # nobody new to hats follows anyone active on it


def test_nothing_from_now_on_is_used(g):
    """Scored as of 2021-07-01, the result is the same whatever happens afterwards."""
    now = datetime(2021, 7, 1, tzinfo=timezone.utc)
    cut = TopicGraph.from_tables(g.people.select("person_id"),
                                 g.edges.filter(pl.col("ts").is_null() | (pl.col("ts") < now)),
                                 items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))
    cols = ["person_id", "topic", "score", "rank"]
    full = adopter_pagerank(g, window=(None, now), propensity="active").table.select(cols)
    assert full.equals(adopter_pagerank(cut, window=(None, now), propensity="active").table.select(cols))


def _networkx_scores(walk, t: int, n: int, damping: float) -> np.ndarray:
    """The same walk, per topic, by networkx: leaked attention goes to one extra sink node (dangling -> restart)."""
    dg = nx.DiGraph()
    dg.add_nodes_from(range(n + 1))
    follows = walk.follows.tocoo()
    passed = np.zeros(n)
    for f, p in zip(follows.row, follows.col):
        w = walk.attention[p, t]
        if w > 0:
            dg.add_edge(int(f), int(p), weight=float(w))
            passed[f] += w
    for f in range(n):
        rest = walk.out[f, t] - passed[f]
        if rest > 1e-12:
            dg.add_edge(f, n, weight=float(rest))
    personal = {i: float(walk.restart[i, t]) for i in range(n)} | {n: 0.0}
    pr = nx.pagerank(dg, alpha=damping, personalization=personal, weight="weight", tol=1e-14, max_iter=10_000)
    x = np.array([pr[i] for i in range(n)])
    return np.where(walk.gate[:, t], x / x.sum(), 0.0)


@pytest.mark.parametrize("damping, outside", [(0.85, 100.0), (0.5, 1.0), (0.85, 0.0)])
def test_batched_solve_agrees_with_networkx(g, damping, outside):
    """A negative follow and (with no outside attention) dangling people are in the graph too."""
    rows = [(f"frogx_f{i}", "sat", "follows", None, None) for i in range(4)] + [("sat", "frogx", "follows", None, None)]
    extra = _graph(rows, ["frogx", "sat"] + [f"frogx_f{i}" for i in range(4)], sign=[1, 1, -1, 1, 1])
    h = TopicGraph.from_tables(g.people, pl.concat([g.edges, extra.edges], how="diagonal_relaxed"),
                               items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))
    r = adopter_pagerank(h, damping_factor=damping, outside_attention=outside, propensity="active", tol=1e-14,
                         max_iter=1000)
    walk = adopter_walk(h, r.parameters["now"], propensity="active", outside_attention=outside)
    assert walk.follows.sum() < h.edges.filter(kind="follows").height  # the negative follow passes nothing
    for topic in ("frogs", "cooking", "marketing"):
        t = h.topic_of(topic)
        want = _networkx_scores(walk, t, h.n_people, damping)
        got = r.table.filter(topic=topic).sort(pl.col("person_id").replace_strict(
            dict(zip(h.people["person_id"], range(h.n_people)))))["score"].to_numpy()
        assert want.max() > 0
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


def test_registered_and_backtested_by_name(g):
    assert "adopter_pagerank" in registry.SCORES and "adopter_pagerank" in registry.LABELS
    assert "adopter_pagerank" in BUILTIN_SCORERS
    assert gk.adopter_pagerank is adopter_pagerank
    by_name = builtin_scorer("adopter_pagerank")(g, topics=g.topics)
    direct = adopter_pagerank(g).table
    assert by_name.select("person_id", "topic", "score").equals(direct.select("person_id", "topic", "score"))
    r = registry.ranking(g, score="adopter_pagerank", topics=["frogs"])
    assert r.fallback is None and r.table["topic"].unique().to_list() == ["frogs"]
    assert r.parameters["now"] == data_end(g).isoformat() and r.parameters["converged"]


def test_clear_errors(g):
    undated = _graph([("b", "a", "follows", None, None), ("a", "frogbook", "reviews", "frogs", None)], ["a", "b"])
    with pytest.raises(GraphkitError, match="timestamps"):
        adopter_pagerank(undated)
    with pytest.raises(GraphkitError, match="--score"):  # a non-default score does not fall back silently
        registry.ranking(undated, score="adopter_pagerank")
    with pytest.raises(GraphkitError, match="list of topic names"):
        adopter_pagerank(g, topics="frogs")
    with pytest.raises(GraphkitError, match="propensity must be one of"):
        adopter_pagerank(g, propensity="magic")
    with pytest.raises(GraphkitError, match="damping_factor"):
        adopter_pagerank(g, damping_factor=1.0)
    quiet = _graph([("b", "a", "follows", None, None), ("a", "frogbook", "reviews", "frogs", "2020-01-01")],
                   ["a", "b"])
    with pytest.raises(GraphkitError, match="nothing to learn"):
        adopter_pagerank(quiet)
    assert adopter_pagerank(quiet, propensity="active").table.height == quiet.n_people * len(quiet.topics)


@pytest.mark.parametrize("propensity", ["learned", "active"])
def test_terms_add_up_to_the_score(g, propensity):
    table = adopter_pagerank(g, propensity=propensity).table
    for person, topic in (("frogx", "frogs"), ("sat", "frogs"), ("cook", "cooking"), ("mktx", "marketing")):
        ex = adopter_terms(g, person, topic, top=3, propensity=propensity)
        score = _score(table, person, topic)
        assert ex["contribution"].sum() == pytest.approx(score, rel=1e-8, abs=1e-15)
        if score > 0:
            assert ex["share"].sum() == pytest.approx(1.0)
            assert ex["contribution"].head(-1).is_sorted(descending=True)
    ex = adopter_terms(g, "frogx", "frogs", top=3, propensity=propensity)
    assert ex["term"].to_list() == ["possible adopter"] * 3 + ["other followers"]
    assert set(ex["giver"].drop_nulls()) <= {f"frogx_f{i}" for i in range(10)}
    silent = adopter_terms(g, "celeb", "frogs", propensity=propensity)  # nothing to explain
    assert silent["contribution"].sum() == 0.0 and silent["share"].null_count() == silent.height
