"""variant="gds" against the example tables printed in the Neo4j GDS PageRank documentation.

The tables come from the "PageRank" page of the GDS manual (stream, weighted,
tolerance, damping factor and personalised examples) on its 8-page web graph.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from graphkit import TopicGraph
from graphkit.scoring.influence import topic_influence
from graphkit.scoring.linalg import TopicSystem, solve_gds

PAGES = ["Home", "About", "Product", "Links", "Site A", "Site B", "Site C", "Site D"]
LINKS = [
    ("Home", "About", 0.2), ("Home", "Links", 0.2), ("Home", "Product", 0.6),
    ("About", "Home", 1.0), ("Product", "Home", 1.0),
    ("Site A", "Home", 1.0), ("Site B", "Home", 1.0), ("Site C", "Home", 1.0), ("Site D", "Home", 1.0),
    ("Links", "Home", 0.8), ("Links", "Site A", 0.05), ("Links", "Site B", 0.05),
    ("Links", "Site C", 0.05), ("Links", "Site D", 0.05),
]
# name -> score, as printed in the GDS documentation
UNWEIGHTED = {"Home": 3.215681999884452, "About": 1.0542700552146722, "Links": 1.0542700552146722,
              "Product": 1.0542700552146722, "Site A": 0.3278578964488539, "Site B": 0.3278578964488539,
              "Site C": 0.3278578964488539, "Site D": 0.3278578964488539}
WEIGHTED = {"Home": 3.53751028396339, "Product": 1.9357838291651097, "About": 0.7452612763883698,
            "Links": 0.7452612763883698, "Site A": 0.18152677135466103, "Site B": 0.18152677135466103,
            "Site C": 0.18152677135466103, "Site D": 0.18152677135466103}
TOLERANCE_01 = {"Home": 1.5812450669583336, "About": 0.5980194356381945, "Links": 0.5980194356381945,
                "Product": 0.5980194356381945, "Site A": 0.23374955154166668, "Site B": 0.23374955154166668,
                "Site C": 0.23374955154166668, "Site D": 0.23374955154166668}
DAMPING_005 = {"Home": 1.2487309425844906, "About": 0.9708121818724536, "Links": 0.9708121818724536,
               "Product": 0.9708121818724536, "Site A": 0.9597081216238426, "Site B": 0.9597081216238426,
               "Site C": 0.9597081216238426, "Site D": 0.9597081216238426}
PERSONALISED_SITE_A = {"Home": 0.39902290442518784, "Site A": 0.16890325301726694,
                       "About": 0.11220151747374331, "Links": 0.11220151747374331,
                       "Product": 0.11220151747374331, "Site B": 0.01890325301726691,
                       "Site C": 0.01890325301726691, "Site D": 0.01890325301726691}
PRINTED = 1e-14  # the tables print 16-17 significant digits; summation order moves the last one


def _system(weighted: bool) -> TopicSystem:
    idx = {p: i for i, p in enumerate(PAGES)}
    rows, cols, w = zip(*[(idx[a], idx[b], wt if weighted else 1.0) for a, b, wt in LINKS])
    m = sp.csr_array((w, (rows, cols)), shape=(8, 8))
    return TopicSystem.build(m, np.ones((8, 1)), restart=np.ones((8, 1)))


def _check(scores: np.ndarray, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        assert scores[PAGES.index(name)] == pytest.approx(value, rel=PRINTED, abs=0), name


@pytest.mark.parametrize(
    ("weighted", "damping", "tol", "expected"),
    [(False, 0.85, 1e-7, UNWEIGHTED), (True, 0.85, 1e-7, WEIGHTED),
     (False, 0.85, 0.1, TOLERANCE_01), (False, 0.05, 1e-7, DAMPING_005)],
    ids=["stream", "weighted", "tolerance", "damping"],
)
def test_gds_solver_reproduces_the_documented_tables(weighted, damping, tol, expected):
    sol = solve_gds(_system(weighted), damping_factor=damping, max_iter=20, tol=tol)
    _check(sol.scores[:, 0], expected)


def test_gds_solver_reproduces_personalised_pagerank_from_site_a():
    bias = np.zeros(8)
    bias[PAGES.index("Site A")] = 1.0  # sourceNodes: [siteA]
    sol = solve_gds(_system(False), damping_factor=0.85, max_iter=20, tol=1e-7, bias=bias)
    _check(sol.scores[:, 0], PERSONALISED_SITE_A)


def test_gds_stops_early_only_with_a_loose_tolerance():
    strict = solve_gds(_system(False), damping_factor=0.85, max_iter=20, tol=1e-7)
    loose = solve_gds(_system(False), damping_factor=0.85, max_iter=20, tol=0.1)
    assert strict.iterations[0] == 20 and not strict.converged[0]
    assert loose.iterations[0] < 20 and loose.converged[0]


def _web_graph(weighted: bool) -> TopicGraph:
    """The GDS example as a topic graph: every page authored one review on "web" (so
    each is an equal source, as in plain GDS), and links are mentions without a
    topic, which weigh on "web" by the linked page's activity there (1)."""
    src, dst, w = zip(*LINKS)
    edges = pl.DataFrame({
        "src": list(src) + PAGES,
        "dst": list(dst) + ["webpage"] * 8,
        "kind": ["mentions"] * len(LINKS) + ["reviews"] * 8,
        "topic": [None] * len(LINKS) + ["web"] * 8,
        "weight": [x if weighted else 1.0 for x in w] + [1.0] * 8,
    })
    return TopicGraph.from_tables(pl.DataFrame({"person_id": PAGES}), edges,
                                  items=pl.DataFrame({"item_id": ["webpage"], "topic": ["web"]}))


@pytest.mark.parametrize(("weighted", "expected"), [(False, UNWEIGHTED), (True, WEIGHTED)], ids=["stream", "weighted"])
def test_topic_influence_gds_variant_gives_the_documented_scores(weighted, expected):
    res = topic_influence(_web_graph(weighted), variant="gds")
    assert res.parameters["max_iter"] == 20 and res.parameters["tol"] == 1e-7
    scores = dict(res.table.select("person_id", "score").iter_rows())
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=PRINTED, abs=0), name
    assert res.table.sort("rank")["person_id"][0] == "Home"


def test_gds_variant_is_refused_by_the_igraph_engine():
    from graphkit import GraphkitError

    with pytest.raises(GraphkitError, match="batched engine only"):
        topic_influence(_web_graph(True), variant="gds", engine="igraph")


def test_gds_variant_equals_plain_gds_on_the_layer_plus_a_sink():
    """The documented recipe: each topic's layer, plus a sink node for the attention that
    passes nothing, run through plain GDS semantics with activity as source bias."""
    from graphkit.io.synthetic import generate
    from graphkit.model.topics import topic_layer, topic_structure

    g = generate(n_people=400, n_topics=3, seed=5)
    res = topic_influence(g, variant="gds")
    s = topic_structure(g)
    n = g.n_people
    for topic in res.parameters["topics"]:
        t = g.topic_of(topic)
        layer = topic_layer(g, topic).tocoo()
        unpassed = s.unpassed(t)
        leak = np.flatnonzero(unpassed)
        w = sp.csr_array((np.concatenate([layer.data, unpassed[leak]]),
                           (np.concatenate([layer.row, leak]), np.concatenate([layer.col, np.full(len(leak), n)]))),
                          shape=(n + 1, n + 1))
        bias = np.append(s.activity[:, t], 0.0)
        system = TopicSystem.build(w, np.ones((n + 1, 1)), restart=np.ones((n + 1, 1)))
        plain = solve_gds(system, damping_factor=0.85, max_iter=20, tol=1e-7, bias=bias).scores[:n, 0]
        mine = res.table.filter(pl.col("topic") == topic)["score"].to_numpy()
        assert np.abs(mine - plain).max() < 1e-12
