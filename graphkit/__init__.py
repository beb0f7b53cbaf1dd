"""graphkit: who really influences whom, on which subject, and which of them are your loyal customers.

``import graphkit as gk`` reaches the main functions; the heavy modules
(numba kernels, igraph, the Neo4j driver) load on first use.

>>> import graphkit as gk
>>> gk.__version__ >= "0.1"
True
>>> g = gk.example_market()
>>> gk.topic_influence(g, topics=["lego"]).top("lego", 2)["person_id"].to_list()
['zoe', 'lea']

The package tree is the table of contents: :mod:`graphkit.model` (the data
model), :mod:`graphkit.scoring`, :mod:`graphkit.marketing`,
:mod:`graphkit.evidence`, :mod:`graphkit.io`, :mod:`graphkit.plot` and
:mod:`graphkit.cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from graphkit.errors import GraphkitError, ValidationError
from graphkit.model.graph import TopicGraph
from graphkit.version import __version__

#: Public name -> module that defines it; loaded on first attribute access.
_LAZY: dict[str, str] = {
    # model
    "topic_layer": "graphkit.model.topics",
    "pseudonymise": "graphkit.model.pseudonyms",
    "pseudonym": "graphkit.model.pseudonyms",
    "pseudonym_table": "graphkit.model.pseudonyms",
    # io
    "read_dataset": "graphkit.io.files",
    "write_dataset": "graphkit.io.files",
    "read_table": "graphkit.io.files",
    "write_table": "graphkit.io.files",
    "load_ciao": "graphkit.io.datasets",
    "bundled_path": "graphkit.io.datasets",
    "generate": "graphkit.io.synthetic",
    "Neo4jStore": "graphkit.io.neo4j",
    "write_run": "graphkit.io.score_folder",
    "current_run": "graphkit.io.score_folder",
    "erase": "graphkit.io.erase",
    "erasure_log": "graphkit.io.erase",
    "to_networkx": "graphkit.io.interop",
    "to_igraph": "graphkit.io.interop",
    # scoring
    "topic_influence": "graphkit.scoring.influence",
    "potential_reach": "graphkit.scoring.reach",
    "adoption_influence": "graphkit.scoring.topical",
    "adopter_pagerank": "graphkit.scoring.adopters",
    "expected_conversions": "graphkit.scoring.exposure",
    "topic_communities": "graphkit.scoring.community",
    "score_table": "graphkit.scoring.registry",
    "ranking": "graphkit.scoring.registry",
    "SCORES": "graphkit.scoring.registry",
    "DEFAULT_SCORE": "graphkit.scoring.registry",
    "rank_uncertainty": "graphkit.scoring.registry",
    # marketing
    "loyalty": "graphkit.marketing.loyalty",
    "influential_loyal_customers": "graphkit.marketing.loyalty",
    "value_influence_matrix": "graphkit.marketing.matrix",
    "quadrant_counts": "graphkit.marketing.matrix",
    "advocate_segments": "graphkit.marketing.segments",
    "segment_overlaps": "graphkit.marketing.segments",
    "engagement_kpis": "graphkit.marketing.engagement",
    "experts": "graphkit.marketing.experts",
    "recognition_shares": "graphkit.marketing.experts",
    "behavioural_influence": "graphkit.marketing.behaviour",
    "referrals": "graphkit.marketing.behaviour",
    "audience": "graphkit.marketing.behaviour",
    "inactive_accounts": "graphkit.marketing.behaviour",
    "behaviour_vs_audience": "graphkit.marketing.behaviour",
    "behaviour_correlations": "graphkit.marketing.behaviour",
    "explain": "graphkit.marketing.explain",
    "explain_influence": "graphkit.marketing.explain",
    "example_market": "graphkit.marketing.common",
    # evidence
    "backtest": "graphkit.evidence.backtest",
    "builtin_scorer": "graphkit.evidence.backtest",
    "attributed_adoptions": "graphkit.model.adoption",
    # figures
    "plot": "graphkit.plot",
}

__all__ = ["GraphkitError", "TopicGraph", "ValidationError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphkit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name == module.rsplit(".", 1)[-1] and not hasattr(mod, name) else getattr(mod, name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from graphkit import plot
    from graphkit.evidence.backtest import backtest, builtin_scorer
    from graphkit.model.adoption import attributed_adoptions
    from graphkit.io.datasets import bundled_path, load_ciao
    from graphkit.io.erase import erase, erasure_log
    from graphkit.model.pseudonyms import pseudonym, pseudonym_table, pseudonymise
    from graphkit.io.files import read_dataset, read_table, write_dataset, write_table
    from graphkit.io.interop import to_igraph, to_networkx
    from graphkit.io.neo4j import Neo4jStore
    from graphkit.io.score_folder import current_run, write_run
    from graphkit.io.synthetic import generate
    from graphkit.marketing.behaviour import (
        audience,
        behaviour_correlations,
        behaviour_vs_audience,
        behavioural_influence,
        inactive_accounts,
        referrals,
    )
    from graphkit.marketing.common import example_market
    from graphkit.marketing.engagement import engagement_kpis
    from graphkit.marketing.experts import experts, recognition_shares
    from graphkit.marketing.explain import explain, explain_influence
    from graphkit.marketing.loyalty import influential_loyal_customers, loyalty
    from graphkit.marketing.matrix import quadrant_counts, value_influence_matrix
    from graphkit.marketing.segments import advocate_segments, segment_overlaps
    from graphkit.model.topics import topic_layer
    from graphkit.scoring.community import topic_communities
    from graphkit.scoring.influence import topic_influence
    from graphkit.scoring.reach import potential_reach
    from graphkit.scoring.topical import adoption_influence
    from graphkit.scoring.adopters import adopter_pagerank
    from graphkit.scoring.exposure import expected_conversions
    from graphkit.scoring.registry import DEFAULT_SCORE, SCORES, rank_uncertainty, ranking, score_table
