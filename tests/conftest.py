"""Shared fixtures: the bundled real data and small hand-built graphs."""

from __future__ import annotations

import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.io.datasets import load_ciao, shared_datasets_path


@pytest.fixture(scope="session")
def ciao() -> TopicGraph:
    """The bundled Ciao graph (loaded once per test session)."""
    return load_ciao()


@pytest.fixture(scope="session")
def shared_datasets():
    """Folder of the public datasets; tests that need it skip with the reason when absent."""
    path = shared_datasets_path()
    if path is None:
        pytest.skip("shared/datasets not found beside the repository; set GRAPHKIT_SHARED_DATASETS to run this")
    return path


@pytest.fixture
def tiny() -> TopicGraph:
    """Four people, two topics, every table filled: small enough to check by hand."""
    people = pl.DataFrame({
        "person_id": ["ann", "bob", "cat", "dan"],
        "customer_id": ["c1", "c2", None, "c4"],
    })
    items = pl.DataFrame({"item_id": ["frogbook", "pan"], "topic": ["frogs", "cooking"]})
    communities = pl.DataFrame({"community_id": ["frogclub"], "topic": ["frogs"]})
    edges = pl.DataFrame({
        "src": ["bob", "cat", "dan", "bob", "cat", "ann", "dan"],
        "dst": ["ann", "ann", "ann", "ann", "bob", "frogbook", "frogclub"],
        "kind": ["follows", "follows", "follows", "shares", "mentions", "reviews", "member_of"],
        "topic": [None, None, None, "frogs", "cooking", "frogs", None],
        "weight": [1.0, 1.0, 1.0, 2.0, 1.0, 5.0, 1.0],
        "sign": [1, 1, 1, 1, -1, 1, 1],
        "ts": [None, None, None, "2024-01-02", "2024-01-03", "2024-01-01", None],
    })
    transactions = pl.DataFrame({
        "customer_id": ["c1", "c1", "c2"],
        "item_id": ["frogbook", "pan", "pan"],
        "amount": [12.5, 30.0, 30.0],
        "ts": ["2024-01-01", "2024-02-01", "2024-02-03"],
        "order_id": ["o1", "o2", "o3"],
    })
    return TopicGraph.from_tables(people, edges, items=items, communities=communities, transactions=transactions)
