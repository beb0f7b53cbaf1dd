"""Adopter PageRank on hand-built graphs with known answers, against networkx, and registered by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import networkx as nx
import numpy as np
import polars as pl
import pytest

import graphkit as gk
from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.evidence.scorers import BUILTIN_SCORERS, builtin_scorer
from graphkit.scoring import registry
from graphkit.scoring.adopters import (
    DEFAULT_HALF_LIFE_DAYS,
    MIN_PROPAGATIONS,
    adopter_pagerank,
    adopter_terms,
    adopter_walk,
    estimate_half_life,
)
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


def _propagation_world(half_life: float, n: int = 400, seed: int = 1, after: int = 0) -> TopicGraph:
    """``n`` leaders each take frogs up on 2020-01-01; one follower each takes it up an exponential delay later
    (half-life ``half_life`` days; delays of a year or more are drawn too and must be left out). ``after`` more
    leader/follower pairs act only from 2023 on (after the cut-off the tests use)."""
    rng = np.random.default_rng(seed)
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    delays = rng.exponential(half_life / np.log(2.0), n)
    rows, people = [], []
    for i, d in enumerate(delays):
        people += [f"lead{i}", f"fol{i}"]
        rows += [(f"fol{i}", f"lead{i}", "follows", None, None),
                 (f"lead{i}", "frogbook", "reviews", "frogs", start),
                 (f"fol{i}", "frogbook", "reviews", "frogs", start + timedelta(days=float(d)))]
    for i in range(after):
        late = datetime(2023, 1, 1, tzinfo=timezone.utc) + timedelta(days=i)
        people += [f"late{i}", f"latefol{i}"]
        rows += [(f"latefol{i}", f"late{i}", "follows", None, None),
                 (f"late{i}", "frogbook", "reviews", "frogs", late),
                 (f"latefol{i}", "frogbook", "reviews", "frogs", late + timedelta(days=1))]
    src, dst, kind, topic, ts = zip(*rows)
    edges = pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "ts": ts},
                         schema_overrides={"ts": pl.Datetime("us", "UTC")})
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people}), edges,
                                  items=pl.DataFrame({"item_id": list(ITEMS), "topic": list(ITEMS.values())}))


def _brute_force_half_life(graph: TopicGraph, now: datetime, limit: float = 365.0) -> float:
    """Every follow and every pair of first acts by loop; the truncated exponential's likelihood maximised
    numerically (not by the score equation the module solves)."""
    from scipy.optimize import minimize_scalar

    first: dict[tuple[str, str], datetime] = {}
    for row in graph.edges.filter(pl.col("topic").is_not_null() & (pl.col("ts") < now)).iter_rows(named=True):
        key = (row["src"], row["topic"])
        first[key] = min(first.get(key, row["ts"]), row["ts"])
    delays = []
    for row in graph.edges.filter(kind="follows").iter_rows(named=True):
        for (who, topic), tf in first.items():
            tv = first.get((row["dst"], topic))
            if who == row["src"] and tv is not None:
                d = (tf - tv).total_seconds() / 86400
                if 0 < d < limit:
                    delays.append(d)
    d = np.array(delays)

    def nll(log_rate: float) -> float:
        rate = np.exp(log_rate)
        return -(len(d) * np.log(rate) - rate * d.sum() - len(d) * np.log1p(-np.exp(-rate * limit)))

    rate = np.exp(minimize_scalar(nll, bounds=(-15, 2), method="bounded", options={"xatol": 1e-10}).x)
    return float(np.log(2.0) / rate)


@pytest.mark.parametrize("half_life", [20.0, 60.0, 150.0])
def test_half_life_estimate_recovers_the_delays_and_matches_brute_force(half_life):
    g = _propagation_world(half_life)
    now = datetime(2022, 6, 1, tzinfo=timezone.utc)
    h = estimate_half_life(g, now)
    assert h.source == "estimated"
    assert h.days == pytest.approx(_brute_force_half_life(g, now), rel=1e-4)
    assert h.days == pytest.approx(half_life, rel=0.2)  # 400 draws, delays beyond a year left out
    delays = [d for d in np.random.default_rng(1).exponential(half_life / np.log(2.0), 400) if 0 < d < 365]
    assert h.propagations == len(delays)


def test_half_life_estimate_reads_nothing_from_now_on():
    now = datetime(2022, 6, 1, tzinfo=timezone.utc)
    before = estimate_half_life(_propagation_world(60.0), now)
    later = _propagation_world(60.0, after=200)  # 200 one-day propagations, all after now
    assert estimate_half_life(later, now) == before
    assert estimate_half_life(later, datetime(2024, 1, 1, tzinfo=timezone.utc)).days < before.days
    cols = ["person_id", "topic", "score"]
    r = adopter_pagerank(later, window=(None, now), propensity="active")
    assert r.parameters["half_life_days"] == before.days and r.parameters["half_life"].source == "estimated"
    assert r.table.select(cols).filter(pl.col("person_id").str.starts_with("lea")).equals(
        adopter_pagerank(_propagation_world(60.0), window=(None, now), propensity="active").table.select(cols)
        .filter(pl.col("person_id").str.starts_with("lea")))


def test_half_life_default_given_and_errors(g):
    h = estimate_half_life(g, data_end(g))  # the small world has too few propagations within a year
    assert h.source == "default" and h.days == DEFAULT_HALF_LIFE_DAYS and h.propagations < MIN_PROPAGATIONS
    r = adopter_pagerank(g, half_life_days=90, propensity="active")
    assert r.parameters["half_life_days"] == 90.0 and r.parameters["half_life"].source == "given"
    assert not r.table.equals(adopter_pagerank(g, half_life_days=10, propensity="active").table)
    for bad in ("fitted", 0, -3.0, True):
        with pytest.raises(GraphkitError, match="half_life_days"):
            adopter_pagerank(g, half_life_days=bad)
    assert registry.ranking(g, score="adopter_pagerank").parameters["half_life"] == "default"


def test_explain_gives_the_terms_of_adopter_pagerank(g, tmp_path, capsys):
    import json

    from graphkit.cli import main
    from graphkit.io.files import write_dataset
    from graphkit.marketing.explain import explain

    score = _score(adopter_pagerank(g).table, "frogx", "frogs")
    ex = explain(g, "frogx", "frogs", score="adopter_pagerank", top=3)
    assert set(ex["score_name"]) == {"adopter_pagerank"} and score > 0
    assert ex["contribution"].sum() == pytest.approx(score, rel=1e-8)
    assert ex["term"].to_list() == ["possible adopter"] * 3 + ["other followers"]
    assert set(ex.filter(pl.col("giver").is_not_null())["via"]) == {"follows"}
    write_dataset(g, tmp_path / "w")
    assert main(["explain", str(tmp_path / "w"), "frogx", "frogs", "--score", "adopter_pagerank", "--json",
                 "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score_name"] == "adopter_pagerank" and out["score"] == pytest.approx(score, rel=1e-8)
    assert main(["explain", str(tmp_path / "w"), "celeb", "frogs", "--score", "adopter_pagerank", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "did not act on that topic" in err and "Traceback" not in err
