"""Interop: a topic layer in networkx and igraph reproduces graphkit's scores; tables go to pandas."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest

import graphkit as gk
from graphkit.model.topics import topic_layer, topic_structure

TOPIC = "books"


@pytest.fixture(scope="module")
def synth():
    """Synthetic data has negative attention and discounted follows: some attention passes nothing."""
    return gk.generate(n_people=2000, seed=1)


@pytest.fixture(scope="module")
def books(synth):
    return gk.topic_influence(synth, topics=[TOPIC]).table


def _scores(ids, values, sink_value=0.0) -> pl.DataFrame:
    return pl.DataFrame({"person_id": ids, "theirs": np.asarray(values) / (1.0 - sink_value)})


def test_networkx_layer_is_the_topic_layer_and_its_pagerank_is_ours(synth, books):
    layer = gk.to_networkx(synth, TOPIC)
    w = topic_layer(synth, TOPIC)
    assert layer.number_of_nodes() == synth.n_people and layer.number_of_edges() == w.nnz
    assert sum(d["weight"] for _, _, d in layer.edges(data=True)) == pytest.approx(float(w.sum()))
    ids = synth.people["person_id"].to_list()
    assert [layer.nodes[p]["person_id"] for p in ids[:5]] == ids[:5]
    unpassed = {p: a["unpassed"] for p, a in layer.nodes(data=True) if a["unpassed"] > 0}
    assert unpassed, "the test needs attention that passes nothing (the sink)"
    layer.add_weighted_edges_from((p, "sink", u) for p, u in unpassed.items())
    teleport = {p: a.get("activity", 0.0) for p, a in layer.nodes(data=True)}
    pr = nx.pagerank(layer, alpha=0.85, personalization=teleport, weight="weight", tol=1e-13, max_iter=1000)
    theirs = _scores(ids, [pr[p] for p in ids], pr["sink"])
    both = books.join(theirs, on="person_id")
    assert both.height == synth.n_people
    assert np.abs(both["score"] - both["theirs"]).max() < 1e-8


def test_igraph_layer_has_ids_and_weights_and_its_pagerank_is_ours(synth, books):
    layer = gk.to_igraph(synth, TOPIC)
    ids = synth.people["person_id"].to_list()
    assert layer.is_directed() and layer.vcount() == synth.n_people
    assert layer.vs["person_id"] == ids and layer.vs["name"] == ids
    s = topic_structure(synth)
    assert np.allclose(layer.vs["activity"], s.activity[:, synth.topic_of(TOPIC)])
    n = layer.vcount()
    leak = [v.index for v in layer.vs if v["unpassed"] > 0]
    layer.add_vertices(1)
    layer.add_edges([(i, n) for i in leak], attributes={"weight": [layer.vs[i]["unpassed"] for i in leak]})
    pr = np.asarray(layer.personalized_pagerank(damping=0.85, reset=[*layer.vs["activity"][:n], 0.0],
                                                weights="weight", directed=True))
    both = books.join(_scores(ids, pr[:n] / pr[:n].sum()), on="person_id")
    assert np.abs(both["score"] - both["theirs"]).max() < 1e-9


def test_windows_and_unknown_topics(ciao):
    early = gk.to_networkx(ciao, "Books", window=(None, "2005-01-01"))
    assert early.number_of_edges() < gk.to_networkx(ciao, "Books").number_of_edges()
    with pytest.raises(gk.GraphkitError, match="frogs"):
        gk.to_igraph(ciao, "frogs")


def test_tables_go_to_pandas(books):
    """The `pandas` extra (pandas + pyarrow) is what .to_pandas() needs."""
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {d.split(">")[0] for d in extras["pandas"]} == {"pandas", "pyarrow"}
    frame = books.to_pandas()
    assert list(frame.columns) == books.columns and len(frame) == books.height
    assert frame["score"].sum() == pytest.approx(1.0)
