"""The default ranking score is topic-specific, one score ranks people everywhere, and it falls back out loud.

A hand-built market where the right answers are known (the texts of PRODUCT.md):

- ``frog`` reviews frog books all year; three followers who are active (on hats) and new to frogs. Eleven
  minor frog reviewers (``fp00`` ...) have one such follower each, so the top 10 on frogs is a real top 10.
- ``a_celeb`` (first by id, so a tie at zero would put her on top) has twenty active followers and posts only
  about fashion.
- ``mkt``, the marketing expert, posts about marketing to ten active followers and never about cooking;
  ``cook`` posts about cooking to two.
- ``lea``, the Lego fan, bought one cheap castle but posts about lego to five active followers new to it;
  ``max`` spends the most on lego and nobody follows him.
"""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import polars as pl
import pytest

from graphkit.cli import main
from graphkit.io.files import write_dataset
from graphkit.marketing import quadrant_counts, value_influence_matrix
from graphkit.marketing.common import resolve_influence
from graphkit.marketing.explain import explain
from graphkit.marketing.loyalty import influential_loyal_customers
from graphkit.marketing.segments import advocate_segments
from graphkit.model.graph import TopicGraph
from graphkit.scoring.registry import (
    DEFAULT_SCORE,
    FALLBACK_SCORE,
    SCORES,
    FallbackWarning,
    ranking,
    score_table,
)

matplotlib.use("Agg")

TOPICS = ["cooking", "fashion", "frogs", "hats", "lego", "marketing"]
ITEM = {"cooking": "pan", "fashion": "dress", "frogs": "frogbook", "hats": "hat", "lego": "castle",
        "marketing": "mbook"}


def market(*, dated: bool = True) -> TopicGraph:
    people, edges, buys = [], [], []

    def posts(who: str, topic: str, n: int, month: int = 1) -> None:
        for i in range(n):
            edges.append((who, ITEM[topic], "reviews", topic, f"2024-{month + i % 4:02d}-{1 + i:02d}"))

    def followed_by(leader: str, prefix: str, n: int) -> None:
        for i in range(n):
            f = f"{prefix}{i:02d}"
            people.append(f)
            edges.append((f, leader, "follows", None, None))
            posts(f, "hats", 1, month=2)  # active lately, on hats only: new to every other topic

    for p in ("frog", "a_celeb", "mkt", "cook", "lea", "max", "zoe", "tom", "sam"):
        people.append(p)
    posts("frog", "frogs", 5)
    followed_by("frog", "ff", 3)
    for i in range(11):
        people.append(f"fp{i:02d}")
        posts(f"fp{i:02d}", "frogs", 1, month=3)
        followed_by(f"fp{i:02d}", f"fp{i:02d}_f", 1)
    posts("a_celeb", "fashion", 10)
    followed_by("a_celeb", "c", 20)
    posts("mkt", "marketing", 10)
    followed_by("mkt", "m", 10)
    posts("cook", "cooking", 3)
    followed_by("cook", "k", 2)
    posts("lea", "lego", 3, month=4)
    followed_by("lea", "l", 5)
    buys += [("lea", "castle", 10.0, "2024-04-01"), ("max", "castle", 200.0, "2023-09-01"),
             ("max", "castle", 300.0, "2024-05-01"), ("zoe", "castle", 300.0, "2024-03-01"),
             ("tom", "pan", 5.0, "2024-02-01"), ("sam", "pan", 60.0, "2024-05-31")]
    customers = {"lea", "max", "zoe", "tom", "sam"}
    e = pl.DataFrame(edges, schema=["src", "dst", "kind", "topic", "ts"], orient="row")
    t = pl.DataFrame([(f"c_{c}", i, a, ts) for c, i, a, ts in buys],
                     schema=["customer_id", "item_id", "amount", "ts"], orient="row")
    if not dated:  # an extract without dates: undated edges, and no purchases (a purchase needs its time)
        e, t = e.with_columns(ts=pl.lit(None, dtype=pl.String)), t.clear()
    return TopicGraph.from_tables(
        pl.DataFrame({"person_id": people, "customer_id": [f"c_{p}" if p in customers else None for p in people]}),
        e, items=pl.DataFrame({"item_id": list(ITEM.values()), "topic": list(ITEM)}), transactions=t)


@pytest.fixture(scope="module")
def g() -> TopicGraph:
    return market()


@pytest.fixture(scope="module")
def table(g) -> pl.DataFrame:
    return score_table(g)


def score(table: pl.DataFrame, person: str, topic: str) -> float:
    return table.filter((pl.col("person_id") == person) & (pl.col("topic") == topic))["score"].item()


def top(table: pl.DataFrame, topic: str, k: int = 10) -> list[str]:
    return table.filter(pl.col("topic") == topic).sort("rank")["person_id"].head(k).to_list()


def test_the_default_is_a_registered_score_with_the_standard_columns(table, g):
    assert DEFAULT_SCORE in SCORES and FALLBACK_SCORE in SCORES and "potential_reach" in SCORES
    assert table.columns == ["person_id", "topic", "score", "rank", "percentile", "audience", "active_audience",
                             "credibility"]
    assert table.height == g.n_people * len(g.topics)
    r = ranking(g)
    assert (r.score, r.fallback, r.parameters["score"]) == (DEFAULT_SCORE, None, DEFAULT_SCORE)


def test_the_frog_expert_counts_on_frogs_only(table):
    assert top(table, "frogs", 1) == ["frog"]
    assert score(table, "frog", "frogs") == pytest.approx(3 * np.log1p(5))
    assert all(score(table, "frog", t) == 0.0 for t in TOPICS if t != "frogs")


def test_the_marketing_expert_gets_nothing_on_cooking(table):
    assert score(table, "mkt", "marketing") == pytest.approx(10 * np.log1p(10))
    assert score(table, "mkt", "cooking") == 0.0
    assert top(table, "cooking", 1) == ["cook"]


def test_a_celebrity_who_never_posts_on_a_topic_is_not_in_its_top_10(table):
    frogs = table.filter(pl.col("topic") == "frogs")
    assert (frogs.sort("rank").head(10)["score"] > 0).all()  # twelve people score on frogs
    assert "a_celeb" not in top(table, "frogs", 10)
    for topic in ("frogs", "cooking", "lego", "marketing"):
        celeb = table.filter((pl.col("person_id") == "a_celeb") & (pl.col("topic") == topic)).row(0, named=True)
        assert celeb["score"] == 0.0 and celeb["audience"] == 20
        assert celeb["percentile"] < 50, topic  # a tie at zero sits at the bottom, whatever the id
    assert top(table, "fashion", 1) == ["a_celeb"]  # where she does post, her audience counts


def test_the_lego_fan_is_a_hidden_advocate_by_the_default_score(g):
    m = value_influence_matrix(g, topic="lego")
    quadrant = dict(m.select("person_id", "quadrant").iter_rows())
    assert quadrant["lea"] == "hidden advocates" and quadrant["max"] == "loyalists"
    assert quadrant_counts(m).filter(pl.col("quadrant") == "hidden advocates")["customers"].item() == 1
    answer = influential_loyal_customers(g, topics="lego", min_loyalty=0.0)
    assert answer["person_id"].to_list() == ["lea"]


def test_every_view_reads_the_default_from_the_registry(g, table):
    resolved = resolve_influence(g).join(table, on=["person_id", "topic"])
    assert (resolved["score"] == resolved["score_right"]).all()
    segments = advocate_segments(g, topics=["lego"])
    assert segments.filter(pl.col("influential_customer"))["person_id"].to_list() == ["lea"]


def test_explain_explains_the_default_score(g, table):
    ex = explain(g, "frog", "frogs", top=2)
    assert set(ex["score_name"]) == {DEFAULT_SCORE}
    assert ex["term"].to_list() == ["new follower", "new follower", "other new followers", "own activity"]
    assert ex["contribution"].sum() == pytest.approx(score(table, "frog", "frogs"))
    assert ex["share"].sum() == pytest.approx(1.0)
    own = ex.filter(pl.col("term") == "own activity").row(0, named=True)
    assert own["weight"] == 5.0  # five frog reviews in the year before now
    nothing = explain(g, "mkt", "cooking")
    assert nothing["share"].is_null().all() and nothing["contribution"].sum() == 0.0


def test_explain_potential_reach_adds_up_on_ciao(ciao):
    ex = explain(ciao, "8", "Books", score="potential_reach", top=3)
    assert set(ex["score_name"]) == {"potential_reach"}
    assert ex["term"].to_list()[-1] == "credibility"
    reach = score(score_table(ciao, score="potential_reach", topics=["Books"]), "8", "Books")
    assert ex["contribution"].sum() == pytest.approx(reach, rel=1e-9)


def test_explain_from_the_command_line_defaults_to_the_default_score(g, tmp_path, capsys):
    write_dataset(g, tmp_path / "m")
    assert main(["explain", str(tmp_path / "m"), "frog", "frogs", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score_name"] == DEFAULT_SCORE and out["score"] == pytest.approx(3 * np.log1p(5))


def test_undated_data_falls_back_to_a_stated_score(tmp_path, capsys):
    undated = market(dated=False)
    r = ranking(undated)
    assert r.score == FALLBACK_SCORE and "no dates" in r.fallback
    assert r.parameters["score_requested"] == DEFAULT_SCORE and r.parameters["score_fallback"] == r.fallback
    assert "--score topic_influence" in r.note and "\n" not in r.note
    with pytest.warns(FallbackWarning):
        score_table(undated)
    with pytest.raises(Exception, match="--score topic_influence"):  # asked for by name: no silent swap
        ranking(undated, score="potential_reach")

    folder = tmp_path / "undated"
    write_dataset(undated, folder)
    assert main(["segments", str(folder), "--topics", "lego", "--quiet"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("note:") and "--score topic_influence" in err[0]
    assert main(["score", "--source", str(folder), "--write", str(tmp_path / "runs"), "--json", "--quiet"]) == 0
    capsys.readouterr()
    meta = json.loads(next((tmp_path / "runs").rglob("run.json")).read_text())
    params = meta["parameters"]
    assert (params["score"], params["score_requested"]) == (FALLBACK_SCORE, DEFAULT_SCORE)
    assert "no dates" in params["score_fallback"]


def test_a_score_asked_for_by_name_says_why_it_cannot_be_computed_here():
    undated = market(dated=False)
    for score in ("potential_reach", "adoption_influence", "adopter_pagerank", "expected_conversions"):
        with pytest.raises(Exception, match="needs dated contributions or purchases.*; rank by --score "
                                            "topic_influence$") as caught:
            ranking(undated, score=score)
        assert type(caught.value).__name__ == "GraphkitError" and caught.value.__cause__ is None, score


def test_the_spark_ranking_notes_a_fallback_as_the_registry_does():
    from graphkit.scoring.registry import Ranking, fallback_note
    from graphkit.scoring.spark_ranking import SparkRanking

    made = {"score": FALLBACK_SCORE, "requested": DEFAULT_SCORE, "fallback": "the data has no dates"}
    note = fallback_note(DEFAULT_SCORE, FALLBACK_SCORE, "the data has no dates")
    assert SparkRanking(table=None, **made).note == Ranking(table=pl.DataFrame(), **made).note == note
    assert note.startswith(f"note: {DEFAULT_SCORE} cannot be computed here (the data has no dates)")
    assert note.endswith(f"(--score {FALLBACK_SCORE} to ask for it)") and "\n" not in note
    plain = {"score": DEFAULT_SCORE, "requested": DEFAULT_SCORE}
    assert SparkRanking(table=None, **plain).note is Ranking(table=pl.DataFrame(), **plain).note is None


def test_score_write_records_the_default_and_writes_it(g, table, tmp_path, capsys):
    folder = tmp_path / "m"
    write_dataset(g, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default is computed: no fallback, no warning
        assert main(["score", "--source", str(folder), "--write", str(tmp_path / "runs"), "--quiet"]) == 0
    assert "note:" not in capsys.readouterr().err
    run = next((tmp_path / "runs").rglob("run.json")).parent
    params = json.loads((run / "run.json").read_text())["parameters"]
    assert (params["score"], params["score_fallback"]) == (DEFAULT_SCORE, None)
    written = pl.read_parquet(run / "influence.parquet").join(table, on=["person_id", "topic"])
    assert written.height == table.height and (written["score"] == written["score_right"]).all()
