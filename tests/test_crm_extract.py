"""A CRM extract: customers who follow each other and buy, and not one topic-labelled post.

Buying an item of topic t is activity on t, so such a dataset is scored like any other: every analyst command runs
from the command line, and the people who bought on a topic are the ones who can be influential on it.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import polars as pl
import pytest

from graphkit.cli import main
from graphkit.io.files import write_dataset
from graphkit.model.graph import TopicGraph

matplotlib.use("Agg")


def crm_extract() -> TopicGraph:
    """ann sells lego to her followers: bob, cat and dan follow her; eve follows bob, who cooks."""
    ids = ["ann", "bob", "cat", "dan", "eve"]
    people = pl.DataFrame({"person_id": ids, "customer_id": [f"c_{p}" for p in ids]})
    edges = pl.DataFrame({"src": ["bob", "cat", "dan", "eve", "ann"], "dst": ["ann", "ann", "ann", "bob", "bob"],
                          "kind": ["follows"] * 5})
    items = pl.DataFrame({"item_id": ["castle", "train", "pan"], "topic": ["lego", "lego", "cooking"]})
    t = [("c_ann", "castle", 30.0, "2023-01-10"), ("c_ann", "train", 40.0, "2023-06-01"),
         ("c_bob", "pan", 20.0, "2023-03-01"), ("c_cat", "castle", 30.0, "2023-09-01"),
         ("c_dan", "train", 40.0, "2024-02-01"), ("c_ann", "castle", 30.0, "2024-03-01"),
         ("c_eve", "pan", 20.0, "2024-04-01"), ("c_bob", "pan", 25.0, "2024-05-01")]
    transactions = pl.DataFrame(t, schema=["customer_id", "item_id", "amount", "ts"], orient="row")
    return TopicGraph.from_tables(people, edges, items=items, transactions=transactions)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("crm")
    write_dataset(crm_extract(), path)
    return path


def test_purchases_make_people_active_on_the_items_topics():
    g = crm_extract()
    assert g.activity_edges.height == 0  # not one post
    act = g.activity().toarray()
    lego, cooking = g.topic_of("lego"), g.topic_of("cooking")
    assert act[:, lego].tolist() == [3.0, 0.0, 1.0, 1.0, 0.0]
    assert act[:, cooking].tolist() == [0.0, 2.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("argv", [
    ["influence", "{data}"],
    ["segments", "{data}"],
    ["acts", "{data}"],
    ["matrix", "{data}"],
    ["explain", "{data}", "ann", "lego"],
    ["loyal", "--source", "{data}", "--topic", "lego", "--min-loyalty", "0"],
    ["score", "--source", "{data}", "--write", "{tmp}/scores"],
    ["matrix", "{data}", "--score", "topic_influence"],
], ids=lambda a: "-".join(w for w in a if not w.startswith("{")))
def test_every_command_runs_on_a_crm_extract(argv, folder, tmp_path, capsys):
    args = [a.format(data=folder, tmp=tmp_path) for a in argv]
    assert main([*args, "--json", "--quiet"]) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "error" not in out
    assert "note:" not in captured.err  # dated purchases: the default score is computed, no fallback


def test_the_default_score_ranks_the_lego_seller_on_lego(folder, capsys):
    from graphkit.io.files import read_dataset
    from graphkit.scoring.registry import DEFAULT_SCORE, ranking

    r = ranking(read_dataset(folder), topics=["lego"])
    assert (r.score, r.fallback) == (DEFAULT_SCORE, None)
    # ann bought lego twice in the last year; of her followers only bob is new to lego and active lately
    assert r.table.sort("rank").row(0, named=True)["person_id"] == "ann"
    assert r.table.filter(pl.col("person_id") == "ann")["score"].item() == pytest.approx(np.log1p(2))


def test_the_lego_seller_leads_on_lego_only(folder, capsys):
    assert main(["influence", str(folder), "--top", "1", "--json", "--quiet"]) == 0
    top = {r["topic"]: r["person_id"] for r in json.loads(capsys.readouterr().out)["top"]}
    assert top == {"lego": "ann", "cooking": "bob"}


@pytest.mark.parametrize("command", ["influence", "matrix", "segments", "acts"])
def test_follows_without_any_topic_are_refused_in_one_line(command, tmp_path, capsys):
    people = pl.DataFrame({"person_id": ["a", "b"], "customer_id": ["ca", "cb"]})
    edges = pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"], "ts": ["2024-01-01"]})
    write_dataset(TopicGraph.from_tables(people, edges), tmp_path / "bare")
    assert main([command, str(tmp_path / "bare"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error:") and "\n" not in err and "internal error" not in err
    assert "topic" in err
