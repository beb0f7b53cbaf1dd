"""Value x influence matrix, advocate segments and engagement KPIs: known answers and the bundled data."""

from __future__ import annotations

import polars as pl
import pytest

from graphkit import GraphkitError, TopicGraph
from graphkit.marketing import (
    KPIS,
    QUADRANTS,
    SEGMENTS,
    advocate_segments,
    engagement_kpis,
    example_market,
    quadrant_counts,
    resolve_influence,
    resolve_loyalty,
    segment_overlaps,
    value_influence_matrix,
)
from graphkit.marketing.loyalty import loyalty
from graphkit.scoring.influence import topic_influence


@pytest.fixture(scope="module")
def market() -> TopicGraph:
    return example_market()


def quadrant_of(matrix: pl.DataFrame, person: str) -> str:
    return matrix.filter(pl.col("person_id") == person)["quadrant"].item()


# ------------------------------------------------------------------- matrix
def test_lego_fan_is_a_hidden_advocate_on_lego_only(market):
    lego = value_influence_matrix(market, score="topic_influence", topic="lego")
    cooking = value_influence_matrix(market, score="topic_influence", topic="cooking")
    # buys little (10.0, second lowest spend) but five lego fans follow her and three share her posts
    assert quadrant_of(lego, "lea") == "hidden advocates"
    assert quadrant_of(cooking, "lea") == "occasional"
    assert quadrant_of(lego, "zoe") == "champions"
    assert quadrant_of(lego, "max") == "loyalists" and quadrant_of(cooking, "max") == "loyalists"
    assert quadrant_of(lego, "tom") == "occasional"
    assert lego["value_basis"].unique().to_list() == ["monetary"]
    assert lego.filter(pl.col("person_id") == "lea")["value"].item() == 10.0


def test_matrix_has_one_row_per_customer_and_counts_add_up(market):
    m = value_influence_matrix(market, score="topic_influence", topic="lego")
    customers = market.people.filter(pl.col("customer_id").is_not_null())
    assert sorted(m["person_id"].to_list()) == sorted(customers["person_id"].to_list())
    counts = quadrant_counts(m)
    assert counts["quadrant"].to_list() == list(QUADRANTS)
    assert counts["customers"].sum() == m.height
    assert dict(counts.select("quadrant", "customers").iter_rows()) == {
        "champions": 1, "loyalists": 4, "hidden advocates": 1, "occasional": 4,
    }
    # non-customers (ivy, the cooking influencer) are not in a customer matrix
    assert "ivy" not in m["person_id"].to_list()


def test_thresholds_are_stated_and_settable(market):
    m = value_influence_matrix(market, score="topic_influence", topic="lego", influence_threshold=60.0, value_threshold=80.0)
    assert m["influence_threshold"].unique().to_list() == [60.0]
    assert m["value_threshold"].unique().to_list() == [80.0]
    # f1 (influence percentile 75) is now high influence; only the top 20% of spend is high value
    assert quadrant_of(m, "f1") == "hidden advocates"
    assert quadrant_of(m, "sam") == "hidden advocates" or quadrant_of(m, "sam") == "occasional"
    assert quadrant_of(m, "max") == "loyalists"
    for bad in (100.0, -1.0, "high"):
        with pytest.raises(GraphkitError, match="percentile in"):
            value_influence_matrix(market, score="topic_influence", topic="lego", value_threshold=bad)


def test_best_topic_aggregate_names_the_topic(market):
    m = value_influence_matrix(market, score="topic_influence")  # topic=None: best topic per customer
    row = m.filter(pl.col("person_id") == "lea").row(0, named=True)
    assert row["topic"] == "lego" and row["quadrant"] == "hidden advocates"
    mean = value_influence_matrix(market, score="topic_influence", aggregate="mean")
    assert mean["topic"].unique().to_list() == ["mean"]
    with pytest.raises(GraphkitError, match="aggregate"):
        value_influence_matrix(market, score="topic_influence", aggregate="median")


def test_value_falls_back_to_loyalty_score_when_prices_are_unknown(market):
    unpriced = market.replace(transactions=market.transactions.with_columns(amount=pl.lit(None, dtype=pl.Float64)))
    m = value_influence_matrix(unpriced, score="topic_influence", topic="lego")
    assert m["value_basis"].unique().to_list() == ["loyalty_score"]
    lo = loyalty(unpriced)
    expected = dict(lo.select("person_id", "loyalty_score").iter_rows())
    assert dict(m.select("person_id", "value").iter_rows()) == expected
    with pytest.raises(GraphkitError, match="no monetary value"):
        value_influence_matrix(unpriced, score="topic_influence", topic="lego", value="monetary")


def test_precomputed_scores_of_any_kind_are_accepted(market):
    # e.g. an "potential reach" score from the backtest helper: same columns, another ranking
    reach = pl.DataFrame({"person_id": ["tom"], "topic": ["lego"], "score": [0.9]})
    m = value_influence_matrix(market, score="topic_influence", topic="lego", influence=reach, loyalty=loyalty(market))
    assert quadrant_of(m, "tom") == "hidden advocates"
    assert quadrant_of(m, "lea") == "occasional"  # absent from the table: no influence


def test_bad_influence_and_loyalty_tables_are_refused(market):
    with pytest.raises(GraphkitError, match=r"lacks column\(s\) \['score'\]"):
        value_influence_matrix(market, score="topic_influence", topic="lego", influence=pl.DataFrame({"person_id": ["lea"], "topic": ["lego"]}))
    with pytest.raises(GraphkitError, match="not in the graph.*zed"):
        resolve_influence(market, pl.DataFrame({"person_id": ["zed"], "topic": ["lego"], "score": [1.0]}))
    with pytest.raises(GraphkitError, match="topic.*not in the graph"):
        resolve_influence(market, pl.DataFrame({"person_id": ["lea"], "topic": ["toads"], "score": [1.0]}))
    with pytest.raises(GraphkitError, match="no rows for topic"):
        value_influence_matrix(market, score="topic_influence", topic="cooking",
                               influence=pl.DataFrame({"person_id": ["lea"], "topic": ["lego"], "score": [1.0]}))
    with pytest.raises(GraphkitError, match="unknown topic 'toads'"):
        value_influence_matrix(market, score="topic_influence", topic="toads")
    with pytest.raises(GraphkitError, match="customer_id.*not in the people table"):
        resolve_loyalty(market, pl.DataFrame({"customer_id": ["c_zed"], "loyalty_score": [1.0]}))
    with pytest.raises(GraphkitError, match="lacks column"):
        resolve_loyalty(market, pl.DataFrame({"customer_id": ["c_lea"]}))


def test_people_without_influence_are_never_top_whatever_the_engine_percentile(market):
    # ties sit at their lowest percentile, in the engine's table and in influence_percentile alike
    table = topic_influence(market).table
    assert table.filter((pl.col("score") == 0) & (pl.col("percentile") > 60)).height == 0
    resolved = resolve_influence(market, table)
    zero = resolved.filter(pl.col("score") == 0)
    assert zero["influence_percentile"].max() < 50
    top = resolved.filter(pl.col("topic") == "lego").sort("influence_percentile", descending=True)
    assert sorted(top["person_id"].head(2).to_list()) == ["lea", "zoe"]


def test_customers_missing_from_the_loyalty_table_have_value_zero(market):
    lo = loyalty(market).filter(pl.col("customer_id") != "c_max")
    resolved = resolve_loyalty(market, lo)
    assert resolved.filter(pl.col("person_id") == "max").select("monetary", "loyalty_score").row(0) == (0.0, 0.0)
    assert quadrant_of(value_influence_matrix(market, score="topic_influence", topic="lego", loyalty=lo), "max") == "occasional"


# ----------------------------------------------------------------- segments
def test_advocate_segments_known_answers(market):
    # the example market's story is told by topic influence: by the default score nobody is new to lego any
    # more (tests/test_default_score.py tells that story on a market built for it)
    s = advocate_segments(market, influence=topic_influence(market))
    member = {r["person_id"]: {k for k in SEGMENTS if r[k]} for r in s.iter_rows(named=True)}
    assert member["fan"] == {"fan_follower", "community_member"}  # follows the brand, joined its club, never bought
    assert member["ivy"] == {"influencer", "reviewer"}  # no customer, top on cooking
    assert member["lea"] == {"influential_customer", "community_member", "reviewer"}
    assert member["zoe"] == {"influential_customer", "reviewer", "loyal_customer"}
    assert member["max"] == {"loyal_customer"}
    assert member["tom"] == set() and member["ghost"] == set()
    assert "brick" not in member  # the brand account is the brand, not an advocate
    assert s.filter(pl.col("person_id") == "lea")["combination"].item() == "influential_customer+community_member+reviewer"
    assert s.filter(pl.col("person_id") == "tom")["combination"].item() == "none"
    # nobody is both a customer segment and a non-customer segment
    assert s.filter((pl.col("fan_follower") | pl.col("influencer"))
                    & (pl.col("influential_customer") | pl.col("loyal_customer"))).height == 0


def test_segments_by_brand_and_topics(market):
    chef = advocate_segments(market, brand="Chef & Co")
    # fan follows Brick Co's account and community: no fan of Chef & Co; reviewers are of Chef & Co items
    assert not chef.filter(pl.col("person_id") == "fan")["fan_follower"].item()
    assert sorted(chef.filter("reviewer")["person_id"].to_list()) == ["cook1", "cook2", "ivy"]
    lego_only = advocate_segments(market, topics=["lego"])
    assert not lego_only.filter(pl.col("person_id") == "ivy")["influencer"].item()
    assert lego_only.filter(pl.col("person_id") == "lea")["influential_customer"].item()


def test_overlaps_count_every_person_once(market):
    s = advocate_segments(market)
    o = segment_overlaps(s)
    assert o["people"].sum() == s.height
    assert o["people"].to_list() == sorted(o["people"].to_list(), reverse=True)
    for seg in SEGMENTS:  # each segment's size is the sum of its combinations
        assert o.filter(pl.col(seg))["people"].sum() == s[seg].sum()
    assert o.filter(pl.col("combination") == "loyal_customer")["people"].item() == 4  # max, f2, f4, sam


# --------------------------------------------------------------- engagement
def test_engagement_kpis_known_values(market):
    k = engagement_kpis(market, influence=topic_influence(market))
    lea = k.filter(pl.col("person_id") == "lea").row(0, named=True)
    # days: Jan 5 (review + purchase), Jan 6 (referral), Feb 3 (mention); 2 contributions, one negative
    assert (lea["involvement"], lea["interaction"], lea["intimacy"]) == (3, 2, 0.5)
    assert lea["influence"] == 93.75 and lea["influence_topic"] == "lego"  # second to zoe, who also bought a train
    tom = k.filter(pl.col("person_id") == "tom").row(0, named=True)
    assert (tom["involvement"], tom["interaction"], tom["intimacy"]) == (1, 0, None)
    assert tom["intimacy_percentile"] is None
    assert k.height == market.people["customer_id"].is_not_null().sum()
    for kpi in KPIS:  # percentiles follow the values; ties share the lowest
        pairs = k.select(kpi, f"{kpi}_percentile").drop_nulls().sort(kpi)
        assert pairs[f"{kpi}_percentile"].is_sorted()
        assert pairs.group_by(kpi).agg(pl.col(f"{kpi}_percentile").n_unique())[f"{kpi}_percentile"].max() == 1
        assert pairs[f"{kpi}_percentile"].min() == pytest.approx(100.0 / pairs.height)


def test_engagement_window_limits_what_counts(market):
    k = engagement_kpis(market, window=("2024-01-06", "2024-02-01"))
    lea = k.filter(pl.col("person_id") == "lea").row(0, named=True)
    assert (lea["involvement"], lea["interaction"]) == (1, 0)  # only the referral on Jan 6
    with pytest.raises(GraphkitError, match="before its end"):
        engagement_kpis(market, window=("2024-02-01", "2024-01-01"))


# ------------------------------------------------------------ bundled data
def test_ciao_matrix_segments_and_kpis(ciao):
    infl = topic_influence(ciao, topics=["Books", "DVDs"])
    lo = loyalty(ciao)
    m = value_influence_matrix(ciao, topic="Books", influence=infl, loyalty=lo)
    # Ciao has no prices: value is the loyalty score, and every person is a customer
    assert m["value_basis"].unique().to_list() == ["loyalty_score"]
    assert m.height == ciao.people.height == 7375
    counts = dict(quadrant_counts(m).select("quadrant", "customers").iter_rows())
    assert sum(counts.values()) == 7375 and all(counts[q] > 0 for q in QUADRANTS)
    high = m.filter(pl.col("quadrant").is_in(["champions", "hidden advocates"]))
    assert high["influence_percentile"].min() > 90 and high["influence"].min() > 0
    s = advocate_segments(ciao, influence=infl, loyalty=lo)
    assert s.height == 7375 and s["reviewer"].all()
    assert not s["fan_follower"].any() and not s["influencer"].any()  # everybody is a customer; no brands
    # top on Books or DVDs: every high-influence customer of the Books matrix, and more
    influential = set(s.filter("influential_customer")["person_id"].to_list())
    assert set(high["person_id"].to_list()) < influential
    k = engagement_kpis(ciao, influence=infl)
    assert k.height == 7375 and k["interaction"].sum() == 284_086


def test_synthetic_brand_ecosystem_fills_every_segment_and_uses_money():
    from graphkit.io.synthetic import generate

    g = generate(n_people=2000, seed=3)
    infl = topic_influence(g)
    m = value_influence_matrix(g, score="topic_influence", topic=g.topics[0], influence=infl)
    assert m["value_basis"].unique().to_list() == ["monetary"]  # prices known: value is money
    spend = g.transactions.group_by("customer_id").agg(pl.col("amount").sum())
    joined = m.join(spend, on="customer_id", how="left").with_columns(pl.col("amount").fill_null(0.0))
    assert (joined["value"] - joined["amount"]).abs().max() < 1e-6
    s = advocate_segments(g, influence=infl)
    for seg in SEGMENTS:
        assert s[seg].any(), seg
    # fans and influencers are never customers; influential and loyal customers always are
    assert s.filter(pl.col("fan_follower") | pl.col("influencer"))["customer_id"].is_null().all()
    assert s.filter(pl.col("influential_customer") | pl.col("loyal_customer"))["customer_id"].is_not_null().all()


# ---------------------------------------------------------------- command line
def test_cli_commands_write_tables_and_figures(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from graphkit.cli import main
    from graphkit.io.files import write_dataset

    folder = write_dataset(example_market(), tmp_path / "market")
    out, png = tmp_path / "m.csv", tmp_path / "m.png"
    assert main(["matrix", str(folder), "--topic", "lego", "--score", "topic_influence", "--out", str(out),
                 "--png", str(png), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "value = monetary" in printed and "Lea" in printed
    m = pl.read_csv(out)
    assert m.filter(pl.col("person_id") == "lea")["quadrant"].item() == "hidden advocates"
    assert png.stat().st_size > 10_000
    assert main(["segments", str(folder), "--topics", "lego", "--quiet"]) == 0
    assert "fan_follower+community_member" in capsys.readouterr().out
    assert main(["experts", str(folder), "--topic", "lego", "--budget", "99.99", "--quiet", "--out",
                 str(tmp_path / "r.parquet")]) == 0
    assert str(pl.read_parquet(tmp_path / "r.parquet")["amount"].sum()) == "99.99"
    assert main(["acts", str(folder), "--topics", "lego", "--window-days", "30", "--quiet"]) == 0
    assert main(["explain", str(folder), "lea", "lego", "--quiet"]) == 0
    assert "follows+referred+shares" in capsys.readouterr().out


def test_cli_errors_are_one_line_with_exit_1(tmp_path, capsys):
    from graphkit.cli import main
    from graphkit.io.files import write_dataset

    folder = write_dataset(example_market(), tmp_path / "market")
    assert main(["experts", str(folder), "--topic", "lego", "--budget", "1.005", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "Error: budget '1.005' has fractions of a cent; round it to 2 decimals"
    assert main(["matrix", str(folder), "--topic", "toads", "--quiet"]) == 1
    assert "unknown topic 'toads'" in capsys.readouterr().err
    assert main(["explain", str(folder), "zed", "lego", "--quiet"]) == 1
    assert main(["matrix"]) == 2  # usage
