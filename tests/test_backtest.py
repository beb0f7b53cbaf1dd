"""The backtest: the split leaks nothing, outcomes and metrics are right, the known answer comes out."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import matplotlib
import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from graphkit import TopicGraph
from graphkit.cli import main
from graphkit.errors import GraphkitError
from graphkit.evidence.backtest import (
    BUILTIN_SCORERS,
    as_utc,
    backtest,
    builtin_scorer,
    outcomes,
    plot_backtest,
    report,
    split_at,
)
from graphkit.evidence.metrics import topic_metrics
from graphkit.evidence.outcomes import followers_adoption
from graphkit.io.synthetic import generate

matplotlib.use("Agg")
T0 = "2021-01-01"


def cascade(n_fans: int = 10, n_dormant: int = 30) -> TopicGraph:
    """A planted answer. ``inf`` (10 followers) reviews frogs, before T0 and every month after; its followers
    are active and curious, took up ponds last year, and take up frogs after T0. ``celeb`` (30 followers)
    reviews frogs too, but its followers reviewed cars once, years ago, and never do anything again."""
    fans = [f"fan{i}" for i in range(n_fans)]
    dormant = [f"dor{i}" for i in range(n_dormant)]
    people = ["inf", "celeb", *fans, *dormant]
    rows = []  # (src, dst, kind, topic, ts)
    rows += [(f, "inf", "follows", None, None) for f in fans]
    rows += [(d, "celeb", "follows", None, None) for d in dormant]
    rows += [("inf", "frogbook", "reviews", "frogs", "2019-05-01"), ("inf", "frogbook", "reviews", "frogs", "2020-05-01")]
    rows += [("inf", "frogbook", "reviews", "frogs", f"2021-{m:02d}-01") for m in range(1, 13)]
    rows += [("celeb", "carmag", "reviews", "cars", "2018-02-01"), ("celeb", "frogbook", "reviews", "frogs", "2020-06-01")]
    for i, f in enumerate(fans):
        rows += [(f, "hat", "reviews", "hats", f"2019-{1 + i % 12:02d}-10"),
                 (f, "pond", "reviews", "ponds", f"2020-{1 + i % 12:02d}-15"),
                 (f, "frogbook", "reviews", "frogs", f"2021-{1 + i % 12:02d}-20")]
    for i, d in enumerate(dormant):
        rows += [(d, "carmag", "reviews", "cars", f"2018-{1 + i % 12:02d}-05")]
    edges = pl.DataFrame(rows, schema=["src", "dst", "kind", "topic", "ts"], orient="row")
    items = pl.DataFrame({"item_id": ["frogbook", "carmag", "hat", "pond"], "topic": ["frogs", "cars", "hats", "ponds"]})
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people}), edges, items=items)


def extend(g: TopicGraph, *, edges: list[tuple] = (), items: dict | None = None, people: list[str] = ()) -> TopicGraph:
    """The graph with more edges ``(src, dst, kind, topic, ts or None)``, items and people."""
    new = pl.DataFrame(
        [(s, d, k, t, as_utc(ts) if ts else None) for s, d, k, t, ts in edges],
        schema={"src": pl.String, "dst": pl.String, "kind": pl.String, "topic": pl.String,
                "ts": pl.Datetime("us", "UTC")}, orient="row").with_columns(weight=pl.lit(1.0), sign=pl.lit(1, pl.Int8))
    tables = g.tables()
    tables["edges"] = pl.concat([g.edges, new], how="diagonal_relaxed")
    if items:
        tables["items"] = pl.concat([g.items, pl.DataFrame(items)], how="diagonal_relaxed")
    if people:
        tables["people"] = pl.concat([g.people, pl.DataFrame({"person_id": list(people)})], how="diagonal_relaxed")
    return TopicGraph.from_tables(**tables)


# ------------------------------------------------------------------------- split
def test_split_keeps_only_what_was_known_before_the_cutoff():
    g = generate(n_people=300, seed=5)
    t0 = as_utc("2024-06-01")
    s = split_at(g, t0)
    past = s.past
    assert past.edges["ts"].drop_nulls().max() < t0
    assert past.transactions["ts"].max() < t0
    for col in ("joined", "last_active"):
        assert past.people[col].drop_nulls().max() < t0
    # the population: people who did or received something dated before T0
    before = g.edges.filter(pl.col("ts") < t0)
    assert set(past.people["person_id"]) <= set(before["src"]) | set(before["dst"]) | set(
        g.people.join(g.transactions.filter(pl.col("ts") < t0), on="customer_id")["person_id"])
    assert s.counts["people"] + s.counts["people_excluded"] == g.people.height
    # follows (dated in the synthetic data) only before T0 and between people present then
    f = past.edges.filter(pl.col("kind") == "follows")
    assert f["src"].is_in(past.people["person_id"].implode()).all()
    assert f["dst"].is_in(past.people["person_id"].implode()).all()
    assert s.counts["follows"] + s.counts["follows_excluded"] == (g.edges["kind"] == "follows").sum()


def test_split_drops_topics_and_undated_activity_first_seen_after_the_cutoff():
    g = extend(cascade(), edges=[("fan0", "zep", "reviews", "zeppelins", "2021-05-01"),
                                 ("fan1", "zep", "reviews", "zeppelins", None)],
               items={"item_id": ["zep"], "topic": ["zeppelins"]})
    s = split_at(g, T0)
    assert "zeppelins" in g.topics and "zeppelins" not in s.past.topics
    assert s.counts["undated_events_excluded"] == 1
    # dormant followers are present (they reviewed cars in 2018); people active only after T0 are not
    assert s.counts["people"] == g.people.height


def test_population_active_leaves_out_followers_who_appear_only_after_the_cutoff():
    newcomer = extend(cascade(), people=["new"], edges=[("new", "inf", "follows", None, None),
                                                        ("new", "frogbook", "reviews", "frogs", "2021-06-01")])
    active = outcomes(newcomer, split_at(newcomer, T0)).filter(person_id="inf", topic="frogs")
    every = outcomes(newcomer, split_at(newcomer, T0, population="all")).filter(person_id="inf", topic="frogs")
    assert active.select("audience", "attributed", "followers_adoption").row(0) == (10, 10, 10)
    assert every.select("audience", "attributed", "followers_adoption").row(0) == (11, 11, 11)  # the newcomer leaks


# ---------------------------------------------------------------------- outcomes
def test_followers_adoption_counts_followers_new_to_the_topic_and_shrinks_the_rate():
    g = cascade()
    out = followers_adoption(g, split_at(g, T0), shrinkage=10.0)
    inf = out.filter(person_id="inf", topic="frogs").row(0, named=True)
    celeb = out.filter(person_id="celeb", topic="frogs").row(0, named=True)
    assert (inf["audience"], inf["eligible"], inf["count"]) == (10, 10, 10)
    assert (celeb["audience"], celeb["eligible"], celeb["count"]) == (30, 30, 0)
    prior = 10 / 40  # pooled over every eligible follower slot on frogs
    assert inf["rate"] == pytest.approx((10 + 10 * prior) / (10 + 10))
    assert celeb["rate"] == pytest.approx((0 + 10 * prior) / (30 + 10))
    # hats were adopted by every fan before T0: nobody is eligible, nothing counts
    hats = out.filter(person_id="inf", topic="hats").row(0, named=True)
    assert (hats["eligible"], hats["count"]) == (0, 0)
    # a horizon that ends before the adoptions counts none of them
    short = outcomes(g, split_at(g, T0), horizon=timedelta(days=10))
    assert short.filter(person_id="inf", topic="frogs").select("attributed", "followers_adoption").row(0) == (0, 0)


# ----------------------------------------------------------------------- metrics
def _brute(score: np.ndarray, gain: np.ndarray, w: np.ndarray, k: int) -> tuple[float, float, float]:
    """NDCG@k and precision@k averaged over every order of tied scores, on the data with each
    candidate repeated w times; Spearman from scipy on the repeated data."""
    idx = np.repeat(np.arange(len(score)), w)
    s, g = score[idx], gain[idx]
    disc = 1.0 / np.log2(np.arange(len(s)) + 2.0)
    ideal = np.sum(np.sort(g)[::-1][:k] * disc[:k])
    threshold = np.sort(g)[::-1][min(k, len(g)) - 1]
    rel = (g >= threshold) & (g > 0)
    ndcgs, precs = [], []
    for perm in itertools.permutations(range(len(s))):
        p = np.array(perm)
        if np.any(np.diff(s[p]) > 0):  # not an order by score (descending)
            continue
        ndcgs.append(np.sum(g[p][:k] * disc[:k]) / ideal)
        precs.append(rel[p][:k].sum() / k)
    return float(np.mean(ndcgs)), float(np.mean(precs)), float(spearmanr(s, g).statistic)


@pytest.mark.parametrize("seed", range(6))
def test_metrics_are_the_exact_expectation_over_tied_orders(seed):
    rng = np.random.default_rng(seed)
    n = 5
    score = rng.integers(0, 3, n).astype(float)  # plenty of ties
    gain = rng.integers(0, 4, n).astype(float)
    gain[0] = 2.0  # at least one positive gain
    w = rng.integers(0, 3, n)
    w[0] = max(w[0], 1)
    w = np.where(w.sum() > 7, np.minimum(w, 1), w)  # keep the brute force small
    for k in (1, 2, 3):
        got = topic_metrics(w[None, :], {"s": score}, {"count": gain}, [k])
        ndcg, prec, rho = _brute(score, gain, w, k)
        assert got[("count", "ndcg", k, "s")][0] == pytest.approx(ndcg)
        assert got[("count", "precision", k, "s")][0] == pytest.approx(prec)
        if np.isnan(rho):
            assert np.isnan(got[("count", "spearman", None, "s")][0])
        else:
            assert got[("count", "spearman", None, "s")][0] == pytest.approx(rho)


def test_metrics_of_a_perfect_and_a_reversed_ranking():
    gain = np.array([5.0, 3.0, 2.0, 0.0, 0.0, 0.0])
    w = np.ones((1, 6), dtype=np.int64)
    got = topic_metrics(w, {"good": gain.copy(), "bad": -gain}, {"count": gain}, [3])
    assert got[("count", "ndcg", 3, "good")][0] == pytest.approx(1.0)
    assert got[("count", "precision", 3, "good")][0] == pytest.approx(1.0)
    assert got[("count", "spearman", None, "good")][0] == pytest.approx(1.0)
    assert got[("count", "precision", 3, "bad")][0] == pytest.approx(0.0)
    assert got[("count", "spearman", None, "bad")][0] == pytest.approx(-1.0)


# ---------------------------------------------------------------- known answer
def test_planted_influencer_is_ranked_first_and_the_celebrity_is_not():
    r = backtest(cascade(), cutoffs=[T0], scorers=["audience", "potential_reach", "random", "active_new_followers"],
                 ks=(1,), min_candidates=2, n_bootstrap=0)
    assert r.topics.filter("evaluated")["topic"].to_list() == ["frogs"]
    prec = {s: v for s, v in r.table.filter(outcome="attributed", metric="precision").select("scorer", "value").iter_rows()}
    assert prec["potential_reach"] == 1.0  # inf first: its followers are the ones who adopt
    assert prec["posts_x_active_new_followers"] == 1.0  # inf posts on frogs, and its followers are active
    assert prec["active_new_followers"] == 1.0  # celeb's 30 followers are dormant
    assert prec["audience"] == 0.0  # celeb first: 30 followers, none adopts
    row = r.table.filter(outcome="attributed", metric="ndcg", scorer="potential_reach").row(0, named=True)
    assert row["value"] == 1.0 and row["vs_audience"] > 0 and row["vs_baseline"] == 0


def test_no_information_from_the_cutoff_on_reaches_any_scorer():
    g = generate(n_people=300, seed=11)
    t0 = as_utc("2024-06-01")
    seen: dict[tuple[str, int], pl.DataFrame] = {}

    def spy(name: str, run: int):
        inner = builtin_scorer(name)

        def scorer(graph: TopicGraph, *, topics):
            for col in ("ts",):
                assert graph.edges[col].drop_nulls().max() < t0
            assert graph.transactions["ts"].max() < t0
            assert graph.people["last_active"].drop_nulls().max() < t0
            table = getattr(inner(graph, topics=topics), "table", inner(graph, topics=topics))
            seen[(name, run)] = table.select("person_id", "topic", "score").sort("topic", "person_id")
            return table
        return scorer

    first = backtest(g, cutoffs=[t0], scorers={n: spy(n, 0) for n in BUILTIN_SCORERS}, min_candidates=10,
                     n_bootstrap=0)
    # perturb everything from T0 on: move events, drop some, add a new topic, new follows, new last_active
    rng = np.random.default_rng(0)
    e = g.edges
    after = e.filter(pl.col("ts") >= t0)
    shifted = after.with_columns(ts=pl.lit(t0) + pl.duration(days=pl.Series(rng.integers(0, 200, after.height))))
    shifted = shifted.filter(pl.Series(rng.random(after.height) < 0.6))
    ids = g.people["person_id"].to_list()
    late = "2024-06-04"
    extra = [(p, "zep", "reviews", "zeppelins", late) for p in ids[:20]]
    extra += [(p, q, "follows", None, late) for p, q in zip(ids[:20], ids[-20:])]
    moved = g.replace(edges=pl.concat([e.filter(pl.col("ts").is_null() | (pl.col("ts") < t0)), shifted]))
    moved = extend(moved, edges=extra, items={"item_id": ["zep"], "topic": ["zeppelins"]})
    tx = g.transactions
    tx_after = tx.filter(pl.col("ts") >= t0).with_columns(ts=pl.col("ts") + timedelta(days=1))
    perturbed = moved.replace(
        people=g.people.with_columns(last_active=pl.when(pl.col("last_active") >= t0)
                                     .then(pl.lit(datetime(2024, 12, 31, tzinfo=timezone.utc)))
                                     .otherwise(pl.col("last_active"))),
        transactions=pl.concat([tx.filter(pl.col("ts") < t0), tx_after]))
    second = backtest(perturbed, cutoffs=[t0], scorers={n: spy(n, 1) for n in BUILTIN_SCORERS}, min_candidates=10,
                      n_bootstrap=0)
    for name in BUILTIN_SCORERS:
        assert seen[(name, 0)].equals(seen[(name, 1)]), name
    # ...while the outcomes, measured after T0, did change
    assert not first.per_topic.equals(second.per_topic)


# ------------------------------------------------------------ result and errors
def test_result_carries_intervals_paired_differences_and_parameters():
    r = backtest(cascade(), cutoffs=[T0, "2020-07-01"], scorers=["random", "potential_reach"], ks=(1,),
                 min_candidates=2, n_bootstrap=30, seed=3)
    assert r.table["cutoff"].n_unique() == 2 and r.splits.height == 2
    # audience and the best simple baseline are added: every scorer is compared with both
    assert set(r.table["scorer"]) == {"random", "potential_reach", "audience", "posts_x_active_new_followers"}
    finite = r.table.filter(pl.col("low").is_not_nan())
    assert (finite["low"] <= finite["high"]).all()
    assert (r.table.filter(scorer="audience")["vs_audience"] == 0).all()
    assert (r.table.filter(scorer="posts_x_active_new_followers")["vs_baseline"] == 0).all()
    assert set(r.table["outcome"]) == {"attributed", "attributed_split", "followers_adoption", "followers_adoption_rate"}
    assert set(r.specificity["scorer"]) == set(r.table["scorer"]) and r.uplift["cutoff"].n_unique() == 2
    assert r.parameters["n_bootstrap"] == 30 and r.parameters["population"] == "active"
    assert r.version == __import__("graphkit").__version__
    again = backtest(cascade(), cutoffs=[T0, "2020-07-01"], scorers=["random", "potential_reach"], ks=(1,),
                     min_candidates=2, n_bootstrap=30, seed=3)
    assert r.table.equals(again.table)  # seeded


def test_bad_inputs_are_refused_with_what_to_do():
    g = cascade()
    with pytest.raises(GraphkitError, match="not an ISO date"):
        backtest(g, cutoffs=["next tuesday"])
    with pytest.raises(GraphkitError, match="unknown scorer 'fame'"):
        backtest(g, cutoffs=[T0], scorers=["fame"])
    with pytest.raises(GraphkitError, match="population must be one of"):
        split_at(g, T0, population="everyone")
    with pytest.raises(GraphkitError, match="no topic can be evaluated"):
        backtest(g, cutoffs=[T0], scorers=["audience"], min_candidates=50)
    with pytest.raises(GraphkitError, match="no column"):
        backtest(g, cutoffs=[T0], scorers={"x": lambda graph, *, topics: pl.DataFrame({"person_id": ["inf"]})},
                 min_candidates=2)
    dup = pl.DataFrame({"person_id": ["inf", "inf"], "topic": ["frogs", "frogs"], "score": [1.0, 2.0]})
    with pytest.raises(GraphkitError, match="duplicate"):
        backtest(g, cutoffs=[T0], scorers={"x": lambda graph, *, topics: dup}, min_candidates=2)


def test_people_a_scorer_leaves_out_rank_last_and_are_counted():
    partial = pl.DataFrame({"person_id": ["celeb"], "topic": ["frogs"], "score": [1.0]})
    r = backtest(cascade(), cutoffs=[T0], scorers={"partial": lambda graph, *, topics: partial}, ks=(1,),
                 min_candidates=2, n_bootstrap=0)
    assert r.topics.filter(topic="frogs")["missing"].item() == 1
    assert r.table.filter(outcome="attributed", metric="precision", scorer="partial")["value"].item() == 0.0


def test_plot_has_one_panel_per_metric_with_every_scorer():
    r = backtest(cascade(), cutoffs=[T0], scorers=["random", "potential_reach"], ks=(1,), min_candidates=2,
                 n_bootstrap=10)
    axes = plot_backtest(r)
    assert [a.get_title() for a in axes] == ["precision@1", "ndcg@1", "spearman"]
    assert {t.get_text() for t in axes[0].get_yticklabels()} == {"random", "potential_reach", "audience",
                                                                 "posts_x_active_new_followers"}
    assert "attributed" in axes[0].figure.get_suptitle()
    text = report(r, panels=[("precision", 1), ("ndcg", 1)])
    assert "vs baseline" in text and "topic specificity" in text and "uplift check" in text


# -------------------------------------------------------------------------- cli
def test_cli_writes_tables_and_figure(tmp_path, capsys):
    from graphkit import write_dataset

    write_dataset(cascade(), tmp_path / "data")
    code = main(["backtest", str(tmp_path / "data"), "--cutoff", T0, "--k", "1", "--min-candidates", "2",
                 "--scorers", "audience,potential_reach", "--n-bootstrap", "10", "--out", str(tmp_path / "out")])
    assert code == 0
    for name in ("backtest.csv", "backtest_topics.csv", "backtest_splits.csv", "backtest.png"):
        assert (tmp_path / "out" / name).exists()
    out = capsys.readouterr().out
    assert "potential_reach" in out and "audience" in out
    table = pl.read_csv(tmp_path / "out" / "backtest.csv")
    assert set(table["scorer"]) == {"audience", "potential_reach", "posts_x_active_new_followers"}
    for name in ("backtest_specificity.csv", "backtest_uplift.csv"):
        assert (tmp_path / "out" / name).exists()


def test_cli_errors_are_one_line(tmp_path, capsys):
    code = main(["backtest", "--bundled", "--cutoff", "2009-01-01", "--scorers", "fame", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Error: unknown scorer 'fame'") and err.count("\n") == 1
    assert main(["backtest", "--bundled", "--out", str(tmp_path)]) == 2  # --cutoff is required


def test_cli_help_lists_the_options(capsys):
    assert main(["backtest", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--cutoff", "--k", "--scorers", "--horizon-days", "--exposure-days", "--population",
                   "--n-bootstrap", "--outcome", "--out"):
        assert option in out
