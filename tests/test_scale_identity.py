"""The whole ``graphkit score`` job, however it is sped up, gives the answers a straightforward computation gives.

For Ciao and a synthetic graph, the job (CLI, folder in, score folder out) is
compared with references written plainly here, not with stored output:

- topic influence: igraph's PRPACK personalised PageRank, one topic at a
  time (``engine="igraph"``), ranked by a polars sort (score, then
  person_id): the job's top-100 per topic is the same people in the same order;
- the default score: the one-call :func:`graphkit.scoring.registry.score_table`
  on a freshly read graph: same top-100 per topic;
- the flagship (``graphkit loyal --scores``): the same rows as a plain polars
  join of the written influence with loyalty (percentile above the cut,
  loyalty at least the threshold, ranked by fit, score, person_id).
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from graphkit.cli import main
from graphkit.io.datasets import load_ciao
from graphkit.io.files import read_dataset, write_dataset
from graphkit.io.lineage import input_fingerprints, table_fingerprint
from graphkit.io.score_folder import current_run
from graphkit.io.synthetic import generate
from graphkit.marketing.loyalty import loyalty
from graphkit.model.topics import activity_events
from graphkit.scoring.baselines import RECENT, new_active_followers_matrix
from graphkit.scoring.community import topic_communities
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.reach import data_end
from graphkit.scoring.registry import DEFAULT_SCORE, score_table

TOP = 100


@pytest.fixture(scope="module", params=["ciao", "synthetic"])
def dataset(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param) / "data"
    graph = load_ciao() if request.param == "ciao" else generate(n_people=6_000, n_topics=5, seed=8)
    write_dataset(graph, folder)
    return folder


def run_job(folder, out, capsys, *extra) -> dict:
    assert main(["score", "--source", str(folder), "--write", str(out), "--json", "--quiet", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def top(table: pl.DataFrame, k: int = TOP) -> dict[str, list[str]]:
    """Each topic's k best people, from the table's own ranks."""
    rows = table.filter(pl.col("rank") <= k).sort("topic", "rank")
    return {t: g["person_id"].to_list() for (t,), g in rows.group_by("topic", maintain_order=True)}


def plain_top(scores: pl.DataFrame, k: int = TOP) -> dict[str, list[str]]:
    """Each topic's k best people by a plain sort: score (to 9 significant digits, below solver accuracy)
    descending, then person_id."""
    ranked = scores.with_columns(key=pl.col("score").round_sig_figs(9)).sort(
        ["topic", "key", "person_id"], descending=[False, True, False])
    return {t: g["person_id"].head(k).to_list() for (t,), g in ranked.group_by("topic", maintain_order=True)}


def plain_flagship(graph, influence: pl.DataFrame, topic: str, top_percentile: float, min_loyalty: float):
    customers = graph.people.filter(pl.col("customer_id").is_not_null()).select("person_id", "customer_id")
    rows = (
        influence.filter((pl.col("topic") == topic) & (pl.col("percentile") > 100.0 - top_percentile))
        .join(customers, on="person_id")
        .join(loyalty(graph).drop("person_id"), on="customer_id")
        .filter(pl.col("loyalty_score") >= min_loyalty)
    )
    # a true division (polars multiplies by the reciprocal, which may differ in the last bit)
    fit = np.divide(rows["percentile"].to_numpy(), 100.0) * rows["loyalty_score"].to_numpy()
    return (
        rows.with_columns(fit=pl.Series(fit))
        .sort(["fit", "score", "person_id"], descending=[True, True, False])
        .select("person_id", "customer_id", "fit", "loyalty_score")
    )


def test_topic_influence_top_100_and_flagship_match_the_plain_computation(dataset, tmp_path, capsys):
    out = tmp_path / "scores"
    summary = run_job(dataset, out, capsys, "--score", "topic_influence")
    written = pl.read_parquet(current_run(out) / "influence.parquet")
    graph = read_dataset(dataset)
    assert written.height == summary["rows"]["influence"] == graph.n_people * written["topic"].n_unique()

    reference = topic_influence(graph, engine="igraph").table.select("person_id", "topic", "score")
    assert top(written) == plain_top(reference)

    # The flagship on the written run, against a plain join of the influence with loyalty. People of
    # equal fit are ordered by score: the job's scores, as two engines' rounding noise (1e-12) may
    # order people of equal influence either way.
    ref = written.select("person_id", "topic", "score", "percentile")
    busiest = written.filter(pl.col("score") > 0).group_by("topic").len().sort("len", "topic", descending=True)
    for topic in busiest["topic"].head(3).to_list():
        target = tmp_path / f"loyal-{len(topic)}.parquet"
        assert main(["loyal", "--source", str(dataset), "--scores", str(out), "--topic", topic, "--top-percentile",
                     "20", "--min-loyalty", "0.3", "--out", str(target), "--quiet"]) == 0
        capsys.readouterr()
        rows = pl.read_parquet(target)
        expected = plain_flagship(graph, ref, topic, 20.0, 0.3)
        assert rows.height == expected.height > 0, topic
        assert rows["person_id"].to_list() == expected["person_id"].to_list()
        assert rows["loyal_rank"].to_list() == list(range(1, rows.height + 1))
        assert rows["fit"].to_list() == pytest.approx(expected["fit"].to_list(), rel=1e-9)


def test_default_score_top_100_matches_the_one_call_computation(dataset, tmp_path, capsys):
    out = tmp_path / "scores"
    run_job(dataset, out, capsys)
    written = pl.read_parquet(current_run(out) / "influence.parquet")
    direct = score_table(read_dataset(dataset), score=DEFAULT_SCORE, topics=sorted(written["topic"].unique()))
    assert top(written) == top(direct)
    assert top(written) == plain_top(direct)
    assert written.sort("topic", "person_id").select("person_id", "topic", "rank", "percentile").equals(
        direct.sort("topic", "person_id").select("person_id", "topic", "rank", "percentile"))


def plain_new_active_followers(graph, now) -> np.ndarray:
    """n x T active new followers, written on the id tables with polars: distinct follows made before now
    (undated ones always were), no self-follow; the follower active on anything in the year before now and
    with no dated act on the topic before now."""
    people = graph.people.select("person_id", pl.int_range(pl.len()).alias("i"))
    follows = (graph.edges.filter((pl.col("kind") == "follows") & (pl.col("ts").is_null() | (pl.col("ts") < now))
                                  & (pl.col("src") != pl.col("dst")))
               .select("src", "dst").unique())
    acts = activity_events(graph)
    recent = acts.filter((pl.col("ts") >= now - RECENT) & (pl.col("ts") < now))["person_id"].unique()
    adopted = acts.filter(pl.col("ts") < now).select("person_id", "topic").unique()
    counted = (
        follows.join(graph.topic_index.select("topic"), how="cross")
        .filter(pl.col("src").is_in(recent.implode()))
        .join(adopted, left_on=["src", "topic"], right_on=["person_id", "topic"], how="anti")
        .group_by("dst", "topic").len()
        .join(people, left_on="dst", right_on="person_id")
    )
    out = np.zeros((graph.n_people, len(graph.topics)))
    out[counted["i"].to_numpy(), [graph.topic_of(t) for t in counted["topic"]]] = counted["len"].to_numpy()
    return out


def test_active_new_followers_match_the_plain_polars_computation(dataset):
    graph = read_dataset(dataset)
    now = data_end(graph)
    assert np.array_equal(new_active_followers_matrix(graph, now=now), plain_new_active_followers(graph, now))


def test_purchase_acts_match_the_plain_polars_computation(dataset):
    """A purchase is an act on its item's topic, unless its buyer reviewed that item at that moment (on Ciao
    every purchase is such a review: no purchase act is left)."""
    graph = read_dataset(dataset)
    people = graph.people.select("person_id", "customer_id", pl.int_range(pl.len(), dtype=pl.UInt32).alias("src_idx"))
    reviews = graph.edges.filter(pl.col("kind") == "reviews").select(
        pl.col("src").alias("person_id"), pl.col("dst").alias("item_id"), "ts")
    plain = (
        graph.transactions.join(people.drop_nulls("customer_id"), on="customer_id")
        .join(graph.items.drop_nulls("topic").select("item_id", "topic"), on="item_id")
        .join(reviews, on=["person_id", "item_id", "ts"], how="anti", nulls_equal=True)
        .join(graph.topic_index.select("topic", pl.col("topic_idx").cast(pl.UInt32)), on="topic")
        .select("src_idx", "topic_idx", "ts")
    )
    acts = graph.purchase_acts
    assert graph.transactions.height > 0 and acts.height == plain.height
    assert acts.sort(acts.columns).equals(plain.sort(plain.columns))


def test_job_communities_and_lineage_match_the_direct_computation(dataset, tmp_path, capsys):
    out = tmp_path / "scores"
    run_job(dataset, out, capsys, "--seed", "3")
    run = current_run(out)
    graph = read_dataset(dataset)
    direct = topic_communities(graph, seed=3, topics=sorted(pl.read_parquet(run / "influence.parquet")["topic"]
                                                           .unique()))
    written = pl.read_parquet(run / "communities.parquet")
    assert written.equals(direct.membership.with_columns(pl.col("community").cast(pl.Int64)))
    # lineage: each table's fingerprint is that of the table read afresh, in any row order, and from CSV
    inputs = json.loads((run / "run.json").read_text())["parameters"]["inputs"]
    assert inputs == input_fingerprints(graph)
    as_csv = read_dataset(write_dataset(graph, tmp_path / "as-csv", format="csv"))
    for name, table in as_csv.tables().items():
        shuffled = table.sample(fraction=1.0, shuffle=True, seed=5) if table.height else table
        assert inputs[name] == table_fingerprint(shuffled), name
