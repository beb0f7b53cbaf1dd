"""Rank uncertainty: a clear leader is sure, n equals share the top, seeds reproduce, both paths agree."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.io.synthetic import generate
from graphkit.model.topics import topic_activity, topic_structure
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.linalg import ResampleSystem, row_summary, solve_ppr_resamples
from graphkit.scoring.registry import rank_uncertainty, score_table
from graphkit.scoring.uncertainty import bootstrap, resample_graph, uncertainty_columns


def _topic_graph(posts: dict[str, int], followers: dict[str, int]) -> TopicGraph:
    """People posting on 'frogs' (reviews of frog items) with their own active followers (who review 'cats')."""
    people, src, dst, kind, topic, ts = [], [], [], [], [], []
    day = 0

    def edge(s, d, k, t):
        nonlocal day
        day += 1
        src.append(s), dst.append(d), kind.append(k), topic.append(t)
        ts.append(f"2024-01-01T00:00:00+00:00" if k == "follows" else f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}")

    for p in posts:
        people.append(p)
        for i in range(posts[p]):
            edge(p, f"frog{i}", "reviews", "frogs")
        for f in range(followers[p]):
            fid = f"{p}_f{f}"
            people.append(fid)
            edge(fid, p, "follows", None)
            edge(fid, "cat0", "reviews", "cats")
    items = pl.DataFrame({"item_id": [f"frog{i}" for i in range(max(posts.values()))] + ["cat0"],
                          "topic": ["frogs"] * max(posts.values()) + ["cats"]})
    return TopicGraph.from_tables(pl.DataFrame({"person_id": people}),
                                  pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "ts": ts}),
                                  items=items)


def _posts_score(graph: TopicGraph) -> pl.DataFrame:
    a = topic_activity(graph).toarray()[:, graph.topic_of("frogs")]
    return pl.DataFrame({"person_id": graph.people["person_id"], "topic": "frogs", "score": a})


def _frogs(table: pl.DataFrame) -> dict[str, dict]:
    return {r["person_id"]: r for r in table.filter(pl.col("topic") == "frogs").iter_rows(named=True)}


LEADER = ({"lea": 30, "b1": 2, "b2": 2, "b3": 1}, {"lea": 12, "b1": 2, "b2": 1, "b3": 1})
TIE = ({"t1": 4, "t2": 4, "t3": 4, "t4": 4}, {"t1": 3, "t2": 3, "t3": 3, "t4": 3})


@pytest.mark.parametrize("path", ["batched", "rescoring"])
def test_a_clear_leader_is_sure_of_the_top(path):
    g = _topic_graph(*LEADER)
    if path == "batched":
        u = rank_uncertainty(g, score="topic_influence", topics=["frogs"], resamples=200, seed=3)
    else:
        u = bootstrap(g, _posts_score, resamples=200, seed=3)
    lea = _frogs(u.table)["lea"]
    assert lea["rank"] == 1
    assert lea["p_top_1"] >= 0.99
    assert (lea["rank_low"], lea["rank_high"]) == (1, 1)
    others = [r["p_top_1"] for p, r in _frogs(u.table).items() if p != "lea"]
    assert max(others) <= 0.01


@pytest.mark.parametrize("path", ["batched", "rescoring"])
def test_n_equals_share_the_top_about_equally(path):
    g = _topic_graph(*TIE)
    n, b = 4, 400
    if path == "batched":
        u = rank_uncertainty(g, score="topic_influence", topics=["frogs"], resamples=b, seed=5)
    else:
        u = bootstrap(g, _posts_score, resamples=b, seed=5)
    rows = _frogs(u.table)
    p = np.array([rows[f"t{i}"]["p_top_1"] for i in range(1, n + 1)])
    assert p.sum() == pytest.approx(1.0)  # someone is always first: ties are shared, never doubled
    se = np.sqrt((1 / n) * (1 - 1 / n) / b)
    assert np.all(np.abs(p - 1 / n) < 4 * se), p  # each about 1/n, whatever its id
    assert all(rows[f"t{i}"]["rank_high"] > rows[f"t{i}"]["rank_low"] for i in range(1, n + 1))
    stab = u.stability.filter(pl.col("k") == 1)["expected_overlap"][0]
    assert stab < 0.5  # two resamples rarely agree on who is first


def test_the_same_seed_gives_the_same_intervals_and_another_seed_does_not():
    g = generate(n_people=1500, n_topics=4, seed=2)
    a = rank_uncertainty(g, score="topic_influence", resamples=30, seed=11)
    b = rank_uncertainty(g, score="topic_influence", resamples=30, seed=11)
    c = rank_uncertainty(g, score="topic_influence", resamples=30, seed=12)
    assert a.table.equals(b.table) and a.stability.equals(b.stability)
    assert not a.table.select(uncertainty_columns()).equals(c.table.select(uncertainty_columns()))
    r1 = bootstrap(g, _topic_table, resamples=5, seed=4)
    r2 = bootstrap(g, _topic_table, resamples=5, seed=4)
    assert r1.table.equals(r2.table)


def _topic_table(graph: TopicGraph) -> pl.DataFrame:
    return topic_influence(graph).table


def test_chunks_and_threads_do_not_change_the_draws():
    g = generate(n_people=800, n_topics=3, seed=1)
    s = topic_structure(g)
    idx = np.arange(len(s.topics))
    system = ResampleSystem.build(s.general, s.follow_scale_t, (s.topical_src, s.topical_dst, s.topical_topic,
                                  s.topical_weight), activity_t=s.activity_t, out_t=s.out_weight_t,
                                  topic_idx=idx, all_activity_t=s.activity_t)
    kw = {"seed": 9, "damping_factor": 0.85, "max_iter": 200, "tol": 1e-7}
    sol = solve_ppr_resamples(system, np.arange(10), chunk=10, **kw)
    whole = sol.scores
    # resamples converge after different numbers of sweeps, so the solver packs the ones left mid-way;
    # one resample at a time never packs: the same numbers to the last bit
    assert (sol.sweeps.min(axis=1) < sol.sweeps.max(axis=1)).any()
    np.testing.assert_array_equal(whole, solve_ppr_resamples(system, np.arange(10), chunk=1, **kw).scores)
    parts = solve_ppr_resamples(system, np.arange(10), chunk=3, **kw).scores
    np.testing.assert_array_equal(whole, parts)
    later = solve_ppr_resamples(system, np.arange(5, 10), chunk=10, **kw).scores
    np.testing.assert_array_equal(whole[:, 5:], later)


def test_the_data_column_of_the_resample_solver_is_topic_influence():
    g = generate(n_people=1200, n_topics=4, seed=3)
    s = topic_structure(g)
    idx = np.arange(len(s.topics))
    system = ResampleSystem.build(s.general, s.follow_scale_t, (s.topical_src, s.topical_dst, s.topical_topic,
                                  s.topical_weight), activity_t=s.activity_t, out_t=s.out_weight_t,
                                  topic_idx=idx, all_activity_t=s.activity_t)
    sol = solve_ppr_resamples(system, np.array([-1]), seed=0, damping_factor=0.85, max_iter=300, tol=1e-9)
    ref = topic_influence(g).table["score"].to_numpy().reshape(len(idx), g.n_people).T
    topic = np.repeat(np.arange(len(idx)), np.diff(system.offsets))
    np.testing.assert_allclose(sol.scores[:, 0], ref[system.person, topic], rtol=2e-5, atol=1e-9)
    assert np.count_nonzero(ref) == np.count_nonzero(sol.scores[:, 0])  # the live states are everyone scoring


def test_batched_resamples_agree_with_rescoring_resampled_graphs():
    # the two paths draw different random numbers from the same model: their summaries agree up to noise
    g = generate(n_people=1500, n_topics=3, seed=4)
    fast = rank_uncertainty(g, score="topic_influence", resamples=60, seed=1)
    slow = bootstrap(g, _topic_table, resamples=60, seed=1)
    cols = ["person_id", "topic", "p_top_10", "rank_low", "rank_high"]
    both = fast.table.select(cols).join(slow.table.select(cols), on=["person_id", "topic"], suffix="_slow")
    top = both.filter(pl.col("p_top_10") + pl.col("p_top_10_slow") > 0)
    gap = (top["p_top_10"] - top["p_top_10_slow"]).abs()
    assert gap.mean() < 0.08, gap.describe()
    width = (both["rank_high"].cast(pl.Int64) - both["rank_low"].cast(pl.Int64))
    width_slow = (both["rank_high_slow"].cast(pl.Int64) - both["rank_low_slow"].cast(pl.Int64))
    ratio = width.filter(both["p_top_10"] > 0.2).mean() / width_slow.filter(both["p_top_10"] > 0.2).mean()
    assert 0.7 < ratio < 1.4, ratio


def test_resampled_graph_repeats_rows_and_keeps_people():
    g = _topic_graph(*LEADER)
    r = resample_graph(g, seed=0, resample=0)
    assert r.people.equals(g.people) and r.topics == g.topics
    counts = r.edges.group_by("src", "dst", "kind").len()["len"]
    assert counts.max() >= 2  # some rows drawn more than once
    assert r.edges.height != g.edges.height or not r.edges.equals(g.edges)


def test_uncertainty_option_on_the_ranking_functions():
    g = _topic_graph(*LEADER)
    t = topic_influence(g, topics=["frogs"], uncertainty=50, seed=2)
    assert set(uncertainty_columns()) <= set(t.table.columns)
    assert t.stability is not None and t.stability["k"].to_list() == [1, 10]
    s = score_table(g, score="topic_influence", topics=["frogs"], uncertainty=50, seed=2)
    assert s.select(uncertainty_columns()).equals(t.table.select(uncertainty_columns()))
    # intervals hold the point rank; zeros are never in a top
    assert (t.table["rank_low"] <= t.table["rank_high"]).all()
    assert t.table.filter(pl.col("score") == 0)["p_top_10"].max() == 0.0


def test_bad_options_are_refused_with_the_option_named():
    g = _topic_graph(*LEADER)
    with pytest.raises(GraphkitError, match="resamples"):
        rank_uncertainty(g, score="topic_influence", resamples=1)
    with pytest.raises(GraphkitError, match="level"):
        rank_uncertainty(g, score="topic_influence", level=1.5)
    with pytest.raises(GraphkitError, match="top_k"):
        rank_uncertainty(g, score="topic_influence", top_k=(0,))
    with pytest.raises(GraphkitError, match="variant"):
        topic_influence(g, variant="gds", uncertainty=10)


def test_the_default_score_in_closed_form_is_exactly_the_rescoring():
    # posts_x_active_new_followers is a sum over evidence rows: its resamples are drawn without a graph per
    # resample, from the same row counts resample_graph uses -- the same numbers, to the last bit
    from datetime import datetime

    from graphkit.marketing import example_market
    from graphkit.scoring.baselines import RECENT, posts_x_active_new_followers
    from graphkit.scoring.registry import ranking
    from graphkit.scoring.uncertainty import new_follower_bootstrap

    g = example_market()
    r = ranking(g, score="posts_x_active_new_followers")
    now = datetime.fromisoformat(r.parameters["now"])
    chosen = list(dict.fromkeys(r.table["topic"].to_list()))
    fast = new_follower_bootstrap(g, r.table, now=now, recent=RECENT, resamples=40, seed=6)

    def rescore(h: TopicGraph) -> pl.DataFrame:  # as the registry re-scores: all zeros cannot be ranked
        t = posts_x_active_new_followers(h, topics=chosen, now=now)
        if not (t["score"] > 0).any():
            raise GraphkitError("every score is 0")
        return t

    slow = bootstrap(g, rescore, point=r.table, resamples=40, seed=6)
    assert fast.parameters["method"] == "closed form"
    assert fast.table.equals(slow.table) and fast.stability.equals(slow.stability)
    assert fast.parameters["failed_resamples"] == slow.parameters["failed_resamples"]
    assert fast.table["p_top_1"].sum() > 0
    via_registry = rank_uncertainty(g, score="posts_x_active_new_followers", resamples=40, seed=6)
    assert via_registry.table.equals(fast.table) and via_registry.parameters["method"] == "closed form"



def test_the_default_score_in_closed_form_is_exactly_the_rescoring_on_a_synthetic_graph():
    # more people, follows and topics than the example market; 18 resamples: a call of 16 (four groups of
    # four drawn from one hash per row) and one of 2 (a partial group)
    from datetime import datetime

    from graphkit.scoring.baselines import RECENT, posts_x_active_new_followers
    from graphkit.scoring.registry import ranking
    from graphkit.scoring.uncertainty import new_follower_bootstrap

    g = generate(n_people=1200, seed=3)
    r = ranking(g, score="posts_x_active_new_followers")
    now = datetime.fromisoformat(r.parameters["now"])
    chosen = list(dict.fromkeys(r.table["topic"].to_list()))
    fast = new_follower_bootstrap(g, r.table, now=now, recent=RECENT, resamples=18, seed=2)
    slow = bootstrap(g, lambda h: posts_x_active_new_followers(h, topics=chosen, now=now), point=r.table,
                     resamples=18, seed=2)
    assert len(chosen) > 5 and (fast.table["p_top_10"] > 0).sum() > 50
    assert fast.table.equals(slow.table) and fast.stability.equals(slow.stability)

def test_row_counts_are_poisson_one_and_depend_on_the_resample_only():
    from graphkit.scoring.linalg import STREAM_EDGES, poisson1_counts

    a = poisson1_counts(3, STREAM_EDGES, 7, 400_000).astype(np.float64)
    assert abs(a.mean() - 1) < 0.01 and abs(a.var() - 1) < 0.02
    assert abs((a == 0).mean() - np.exp(-1)) < 0.005
    b = poisson1_counts(3, STREAM_EDGES, 8, 400_000).astype(np.float64)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    np.testing.assert_array_equal(poisson1_counts(3, STREAM_EDGES, 7, 1000), a[:1000])


@pytest.mark.parametrize("resamples", [2, 7, 100, 401])
def test_interval_ends_are_numpy_quantiles_at_every_level(resamples):
    # the ends come from small buffers near the extremes, or from selection when the level is low
    rng = np.random.default_rng(resamples)
    m = 600
    s = np.round(rng.random((m, resamples)), 2)
    s[rng.random((m, resamples)) < 0.3] = 0.0
    s[rng.random((m, resamples)) < 0.05] = np.nan
    ranks = rng.integers(1, 40, size=(m, resamples)).astype(np.int32)
    ks = np.array([1, 10])
    for level in (0.5, 0.8, 0.9, 0.98):
        lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
        out_s, out_r = np.empty((m, 2)), np.empty((m, 2), dtype=np.int64)
        counts = np.empty((m, 2), dtype=np.int64)
        row_summary(s, ranks, lo_q, hi_q, ks, out_s, out_r, counts)
        s0 = np.nan_to_num(s)
        np.testing.assert_array_equal(out_s[:, 0], np.quantile(s0, lo_q, axis=1, method="lower"))
        np.testing.assert_array_equal(out_s[:, 1], np.quantile(s0, hi_q, axis=1, method="higher"))
        np.testing.assert_array_equal(out_r[:, 0], np.quantile(ranks, lo_q, axis=1, method="lower"))
        np.testing.assert_array_equal(out_r[:, 1], np.quantile(ranks, hi_q, axis=1, method="higher"))
        np.testing.assert_array_equal(counts[:, 1], ((s0 > 0) & (ranks <= 10)).sum(axis=1))
