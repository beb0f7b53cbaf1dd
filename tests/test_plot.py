"""Figures: rendered to PNG with Agg, checked for content (labels, number of marks, not blank)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

from graphkit import GraphkitError, TopicGraph, plot  # noqa: E402
from graphkit.marketing import (  # noqa: E402
    advocate_segments,
    engagement_kpis,
    example_market,
    segment_overlaps,
    value_influence_matrix,
)
from graphkit.marketing.behaviour import (  # noqa: E402
    audience,
    behaviour_vs_audience,
    inactive_accounts,
)
from graphkit.marketing.experts import experts, recognition_shares  # noqa: E402
from graphkit.marketing.explain import explain_influence  # noqa: E402
from graphkit.scoring.influence import topic_influence  # noqa: E402


@pytest.fixture(scope="module")
def market() -> TopicGraph:
    return example_market()


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def rendered(ax, path) -> np.ndarray:
    """Save the Axes' figure as PNG; return its pixels (and check the file is there)."""
    ax.figure.savefig(path, dpi=60)
    assert path.exists() and path.stat().st_size > 2000
    return plt.imread(path)


def not_blank(pixels: np.ndarray) -> bool:
    """Some pixels carry colour (0.05%, ~55 pixels at this size): the marks, not only the black frame,
    grey text and white background (an empty Axes has none)."""
    rgb = pixels[..., :3]
    return float(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.2).mean()) > 0.0005


def test_not_blank_rejects_an_empty_axes(tmp_path):
    _, ax = plt.subplots()
    assert not not_blank(rendered(ax, tmp_path / "empty.png"))


def n_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections)


def test_value_influence_scatter(market, tmp_path):
    m = value_influence_matrix(market, score="topic_influence", topic="lego")
    ax = plot.value_influence(m, label_top=2)
    assert not_blank(rendered(ax, tmp_path / "matrix.png"))
    assert n_points(ax) == m.height == 10
    assert ax.get_title() == "Value x influence on lego (10 customers)"
    assert ax.get_xlabel().splitlines()[0] == "value percentile among customers (monetary)"
    assert ax.get_ylabel() == "influence percentile (100 = top)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["champions: 1", "loyalists: 4", "hidden advocates: 1", "occasional: 4"]
    assert [t.get_text() for t in ax.texts] == ["Zoe", "Lea"]
    lines = {(tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.lines}
    assert ((50.0, 50.0), (0, 1)) in lines and ((0, 1), (90.0, 90.0)) in lines  # the quadrant lines
    with pytest.raises(GraphkitError, match="empty"):
        plot.value_influence(m.clear())


def test_segment_upset(market, tmp_path):
    o = segment_overlaps(advocate_segments(market, influence=topic_influence(market)))
    ax = plot.segment_upset(o)
    assert not_blank(rendered(ax, tmp_path / "upset.png"))
    combos = o.filter(pl.col("combination") != "none")
    assert len(ax.patches) == combos.height  # one bar per combination
    assert sorted(p.get_height() for p in ax.patches) == sorted(combos["people"].to_list())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "influential customer (2)" in labels and "fan follower (1)" in labels
    assert n_points(ax) == combos.height * 6  # the dot matrix
    assert len(plot.segment_upset(o, include_none=True).patches) == o.height
    assert len(plot.segment_upset(o, max_bars=2).patches) == 2


def test_engagement_figure(market, tmp_path):
    k = engagement_kpis(market)
    ax = plot.engagement(k, "lea")
    assert not_blank(rendered(ax, tmp_path / "engagement.png"))
    assert len(ax.patches) == 4
    widths = [p.get_width() for p in ax.patches]
    lea = k.filter(pl.col("person_id") == "lea").row(0, named=True)
    assert widths == [lea[f"{kpi}_percentile"] for kpi in ("involvement", "interaction", "intimacy", "influence")]
    assert ax.get_title() == "Engagement of Lea vs 10 customers"
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == ["involvement", "interaction", "intimacy",
                                                                            "influence"]
    with pytest.raises(GraphkitError, match="not in the KPI table"):
        plot.engagement(k, "ivy")  # not a customer


def test_behaviour_and_audience_figures(market, tmp_path):
    t = behaviour_vs_audience(market, topics=["lego"], window_days=30)
    ax = plot.behaviour_vs_audience(t, topic="lego")
    assert not_blank(rendered(ax, tmp_path / "behaviour.png"))
    assert len(ax.collections[0].get_offsets()) == t.height
    assert ax.get_xlabel() == "audience (followers)" and ax.get_ylabel() == "followers who adopted after them"
    assert "Spearman with adopters" in ax.get_title()
    a = audience(market)
    ax = plot.audience_activity(a, summary=inactive_accounts(market))
    assert not_blank(rendered(ax, tmp_path / "audience.png"))
    assert n_points(ax) == a.filter(pl.col("audience") > 0).height == 4
    assert "19% of accounts were not active in the window, 19% never were" in ax.get_title()  # 3 of 16


def test_experts_recognition_influencers_and_explanation(market, tmp_path):
    ax = plot.experts(experts(market), "lego", top=3)
    assert not_blank(rendered(ax, tmp_path / "experts.png"))
    assert len(ax.patches) == 6  # helpfulness and endorsements, stacked, for three people
    assert ax.get_title() == "Top 3 experts on lego"
    r = recognition_shares(market, budget=100, topics=["lego"])
    ax = plot.recognition(r)
    assert not_blank(rendered(ax, tmp_path / "recognition.png"))
    assert len(ax.patches) == r.height and "budget 100.00" in ax.get_title()
    assert ax.get_title().endswith(f"({r.height} people)")
    ax = plot.recognition(r, top=2)  # the title says what is drawn
    assert len(ax.patches) == 2 and ax.get_title().endswith(f"(largest 2 of {r.height} shares shown)")
    ax = plot.top_influencers(topic_influence(market), "cooking", k=2)
    assert not_blank(rendered(ax, tmp_path / "top.png"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ivy (2 followers)", "cook1 (0 followers)"]
    ex = explain_influence(market, "lea", "lego", top=2)
    ax = plot.explanation(ex)
    assert not_blank(rendered(ax, tmp_path / "explain.png"))
    assert len(ax.patches) == 4 and ax.get_title() == "What makes lea influential on lego"
    with pytest.raises(GraphkitError, match="nothing to explain"):
        plot.explanation(explain_influence(market, "tom", "lego"))


def test_figures_compose_on_given_axes(market):
    fig, (left, right) = plt.subplots(1, 2)
    assert plot.value_influence(value_influence_matrix(market, score="topic_influence", topic="lego"), ax=left) is left
    assert plot.engagement(engagement_kpis(market), "lea", ax=right) is right
    assert len(fig.axes) == 2


def test_ciao_matrix_figure_has_no_stripes_and_keeps_points_in_their_quadrant(ciao, tmp_path):
    m = value_influence_matrix(ciao, topic="Books", influence=topic_influence(ciao, topics=["Books"]))
    assert m["value_percentile"].n_unique() < 20  # loyalty without prices: a few levels, the stripes' cause
    ax = plot.value_influence(m)
    assert not_blank(rendered(ax, tmp_path / "ciao_matrix.png"))
    assert n_points(ax) == 7375
    assert ax.get_xlabel().splitlines() == ["value percentile among customers (loyalty_score)",
                                            "tied customers spread over the ranks they share"]
    assert len(ax.texts) == 5
    vt, it = m["value_threshold"][0], m["influence_threshold"][0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    for collection, label in zip(ax.collections, legend):
        quadrant, count = label.rsplit(": ", 1)
        xy = collection.get_offsets()
        assert len(xy) == int(count.replace(",", ""))
        high_v, high_i = quadrant in ("champions", "loyalists"), quadrant in ("champions", "hidden advocates")
        assert ((xy[:, 0] > vt) == high_v).all() and ((xy[:, 1] > it) == high_i).all(), quadrant
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert len(np.unique(xs.round(2))) > 1000  # spread, not 9 stripes
    assert np.histogram(xs, bins=10, range=(0, 100))[0].max() < 0.3 * len(xs)  # no column holds most points


def test_spread_ties_is_seeded_and_keeps_order_between_levels():
    values = np.array([5.0, 5.0, 5.0, 5.0, 60.0, 60.0, 99.0])
    a, b = plot.spread_ties(values, 50.0), plot.spread_ties(values, 50.0)
    assert np.array_equal(a, b)
    assert (a[:4] >= 5.0).all() and (a[:4] < 50.0).all()  # never across the threshold
    assert (a[4:6] >= 60.0).all() and (a[4:6] < 99.0).all() and a[6] == 99.0  # up to the next level; singles stay
    assert len(set(a[:4])) == 4


def test_influential_loyal_customers_figure(market, tmp_path):
    from graphkit.marketing.loyalty import influential_loyal_customers

    answers = influential_loyal_customers(market, topics=["lego", "cooking"], score="topic_influence",
                                          top_percentile=30, min_loyalty=0.3)
    ax = plot.influential_loyal_customers(answers, "lego", score_label="topic influence")
    assert not_blank(rendered(ax, tmp_path / "ilc.png"))
    lego = answers.filter(pl.col("topic") == "lego").sort("loyal_rank")
    assert lego.height >= 2
    # the bars are the score (what tells the top apart), in the answer's order, coloured by loyalty
    assert len(ax.patches) == lego.height and [p.get_width() for p in ax.patches] == lego["score"].to_list()
    assert len({p.get_facecolor() for p in ax.patches}) == lego["loyalty_score"].n_unique()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith(f"{lego['person_id'][0]} (loyalty ") and f"fit {lego['fit'][0]:.2f}" in labels[0]
    assert ax.get_title() == f"Influential loyal customers on lego ({lego.height}, by fit)"
    assert ax.get_xlabel() == "topic influence"
    assert plot.influential_loyal_customers(lego, top=1).get_title() == \
        f"Influential loyal customers on lego (top 1 of {lego.height}, by fit)"
    assert len(plot.influential_loyal_customers(lego).patches) == lego.height  # one topic: no need to name it
    with pytest.raises(GraphkitError, match="several topics"):
        plot.influential_loyal_customers(pl.concat([lego, lego.with_columns(topic=pl.lit("cooking"))]))


def test_behaviour_by_topic_draws_one_panel_per_topic(market, tmp_path):
    t = behaviour_vs_audience(market, window_days=30)
    axes = plot.behaviour_by_topic(t)
    topics = t["topic"].unique().to_list()
    assert len(axes) == len(topics) == 2
    assert sorted(ax.get_title().split("\n")[0].removeprefix("Acts vs audience on ") for ax in axes) == sorted(topics)
    for ax in axes:
        topic = ax.get_title().split("\n")[0].rsplit(" ", 1)[1]
        assert len(ax.collections[0].get_offsets()) == t.filter(pl.col("topic") == topic).height
    fig = axes[0].figure
    assert len(fig.axes) == 3  # two panels and one shared colour bar
    assert not_blank(rendered(axes[0], tmp_path / "acts.png"))
    one = plot.behaviour_by_topic(t, max_panels=1)
    assert len(one) == 1 and one[0].figure.get_suptitle().startswith("1 of 2 topics")
    with pytest.raises(GraphkitError, match="no rows for topic"):
        plot.behaviour_by_topic(t, topics=["frogs"])


def test_communities_figure_says_what_it_draws(ciao, tmp_path):
    from graphkit.scoring.community import topic_communities

    res = topic_communities(ciao, topics=["Books"], seed=0)
    ax = plot.communities(res.summary, modularity=res.modularity["Books"])
    assert not_blank(rendered(ax, tmp_path / "communities.png"))
    largest = res.summary.sort("size", descending=True).head(10)
    assert [p.get_width() for p in ax.patches] == largest["size"].to_list()
    held = largest["size"].sum() / res.summary["size"].sum()
    assert ax.get_title() == (f"Communities on Books (the 10 largest of {res.summary.height} hold {held:.0%} of the "
                              f"people, modularity {res.modularity['Books']:.2f})")
    first = largest.row(0, named=True)
    assert ax.get_yticklabels()[0].get_text() == f"#{first['community']}: {', '.join(first['top_influencers'][:3])}"
    assert "customers" not in " ".join(t.get_text() for t in ax.texts)  # every share is 100% on Ciao: not repeated


def test_experts_bars_fit_and_say_when_a_part_is_empty(ciao):
    from graphkit.marketing.experts import experts as table

    e = table(ciao, topics=["Books"])
    ax = plot.experts(e, "Books")
    assert ax.get_xlim()[1] > e["expertise"].max()  # the longest bar is not cut at the frame
    assert "nobody here received" in ax.get_xlabel()  # Ciao has no mentions, replies or shares
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["helpfulness of their reviews"]


def test_upset_title_says_when_combinations_are_left_out(market):
    o = segment_overlaps(advocate_segments(market))
    n = o.filter(pl.col("combination") != "none").height
    assert plot.segment_upset(o, max_bars=2).get_title().endswith(f"; the 2 largest of {n} combinations)")
    assert "largest" not in plot.segment_upset(o).get_title()


def test_behaviour_counts_are_jittered_only_a_little(ciao):
    t = behaviour_vs_audience(ciao, topics=["Books"], window_days=90)
    ax = plot.behaviour_vs_audience(t, topic="Books")
    xy = ax.collections[0].get_offsets()
    assert np.abs(xy[:, 0] - t["audience"].to_numpy()).max() <= 0.3
    assert np.abs(xy[:, 1] - t["adopters"].to_numpy()).max() <= 0.3
    assert len(np.unique(xy[:, 1])) > 100  # people with equal counts no longer sit on one point
    assert ax.get_xlabel().splitlines() == ["audience (followers)", "both counts jittered by up to 0.3"]


def test_rank_intervals_figure_draws_one_bar_per_person(ciao, tmp_path):
    from graphkit.scoring.registry import rank_uncertainty

    u = rank_uncertainty(ciao, score="topic_influence", topics=["Books"], resamples=30, seed=0)
    ax = plot.rank_intervals(u, "Books")
    assert not_blank(rendered(ax, tmp_path / "ranks.png"))
    assert len(ax.get_yticklabels()) == 20 and ax.get_yticklabels()[0].get_text().startswith("343  p(top 10)")
    segments = ax.collections[0].get_segments()
    assert len(segments) == 20 and len(ax.collections[1].get_offsets()) == 20  # 20 bars, 20 rank dots
    top = u.table.filter(pl.col("topic") == "Books").sort("rank").head(20)
    widths = sorted(s[1][0] - s[0][0] for s in segments)
    assert widths == pytest.approx(sorted((top["rank_high"] - top["rank_low"]).cast(float).to_numpy() + 0.8))
    with pytest.raises(GraphkitError, match="p_top_5"):
        plot.rank_intervals(u, "Books", k=5)
    with pytest.raises(GraphkitError, match="rank_low"):
        plot.rank_intervals(topic_influence(ciao, topics=["Books"]), "Books")
