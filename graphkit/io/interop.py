"""A topic's attention layer as a networkx or igraph graph, for the algorithms graphkit does not have.

The layer is the weighted person -> person graph that topic influence walks
on (:func:`graphkit.model.topics.topic_layer`): an edge giver -> receiver
whose ``weight`` is the attention that passes influence on the topic. Every
person of ``graph.people`` is a node (in that order), with attributes

* ``person_id``: the caller's id;
* ``activity``: contributions on the topic in the window (the teleport
  weight of the topic's personalised PageRank; 0 = inactive);
* ``unpassed``: attention the person pays on the topic that passes no
  influence (negative attention, follows discounted by credibility); in
  graphkit's model it returns to the teleport vector.

With these, networkx's and igraph's own PageRank give graphkit's topic
influence (see :func:`to_networkx`). Names: graphkit's ``damping_factor`` is
networkx's ``alpha`` and igraph's ``damping``; ``activity`` is their
``personalization`` / ``reset``.

>>> from graphkit.marketing.common import example_market
>>> g = example_market()
>>> lego = to_networkx(g, "lego")
>>> lego.number_of_nodes() == g.n_people, lego.nodes["lea"]["person_id"]
(True, 'lea')
>>> to_igraph(g, "lego").vs.find(name="lea")["activity"] > 0
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.model.graph import TopicGraph
from graphkit.model.topics import Window, topic_structure

if TYPE_CHECKING:  # pragma: no cover
    import igraph
    import networkx


def _layer_parts(graph: TopicGraph, topic: str, window: Window | None) -> dict[str, Any]:
    """Edges (giver row, receiver row, weight) and per-person attributes of one topic layer."""
    t = graph.topic_of(topic)  # unknown topic: an error listing the topics
    structure = topic_structure(graph, window=window)
    layer = structure.layer(t).tocoo()
    return {
        "src": layer.row.astype(np.int64),
        "dst": layer.col.astype(np.int64),
        "weight": layer.data.astype(np.float64),
        "person_id": graph.people["person_id"].to_list(),
        "activity": structure.activity_t[t].astype(np.float64),
        "unpassed": structure.unpassed(t, structure.layer(t)),
    }


def to_networkx(graph: TopicGraph, topic: str, *, window: Window | None = None) -> "networkx.DiGraph":
    """Topic ``topic``'s attention layer as a networkx ``DiGraph`` keyed by person_id.

    Edges carry ``weight``; nodes carry ``person_id``, ``activity`` and
    ``unpassed`` (see the module notes). ``window`` is as in
    :func:`~graphkit.scoring.influence.topic_influence`. networkx's PageRank
    gives graphkit's score once the unpassed attention goes to a sink node
    that is then left out (here nobody's lego attention is unpassed):

    >>> import networkx as nx
    >>> from graphkit.marketing.common import example_market
    >>> from graphkit.scoring.influence import topic_influence
    >>> g = example_market()
    >>> layer = to_networkx(g, "lego")
    >>> layer.add_weighted_edges_from((p, "sink", a["unpassed"]) for p, a in layer.nodes(data=True) if a["unpassed"] > 0)
    >>> teleport = {p: a.get("activity", 0.0) for p, a in layer.nodes(data=True)}
    >>> pr = nx.pagerank(layer, alpha=0.85, personalization=teleport, weight="weight", tol=1e-12)
    >>> lea = pr["lea"] / (1 - pr.get("sink", 0.0))
    >>> ours = topic_influence(g, topics=["lego"]).table.filter(person_id="lea")["score"][0]
    >>> abs(lea - ours) < 1e-8
    True
    """
    import networkx as nx

    parts = _layer_parts(graph, topic, window)
    ids = parts["person_id"]
    layer = nx.DiGraph(topic=topic, window=tuple(window) if window is not None else None)
    layer.add_nodes_from(
        (pid, {"person_id": pid, "activity": float(a), "unpassed": float(u)})
        for pid, a, u in zip(ids, parts["activity"], parts["unpassed"])
    )
    layer.add_weighted_edges_from(
        (ids[s], ids[d], float(w)) for s, d, w in zip(parts["src"], parts["dst"], parts["weight"])
    )
    return layer


def to_igraph(graph: TopicGraph, topic: str, *, window: Window | None = None) -> "igraph.Graph":
    """Topic ``topic``'s attention layer as a directed igraph ``Graph``, vertices in ``graph.people`` order.

    Edges carry ``weight``; vertices carry ``name`` and ``person_id`` (both
    the person's id: igraph looks vertices up by ``name``), ``activity`` and
    ``unpassed`` (see the module notes).

    >>> from graphkit.marketing.common import example_market
    >>> layer = to_igraph(example_market(), "lego")
    >>> layer.is_directed(), min(layer.es["weight"]) > 0
    (True, True)
    """
    import igraph as ig

    parts = _layer_parts(graph, topic, window)
    layer = ig.Graph(n=len(parts["person_id"]), edges=np.column_stack([parts["src"], parts["dst"]]).tolist(),
                     directed=True)
    layer.es["weight"] = parts["weight"].tolist()
    layer.vs["name"] = parts["person_id"]
    layer.vs["person_id"] = parts["person_id"]
    layer.vs["activity"] = parts["activity"].tolist()
    layer.vs["unpassed"] = parts["unpassed"].tolist()
    layer["topic"] = topic
    return layer
