"""A real Bolt server for the Neo4j store tests.

By default the session starts an ArcadeDB server (``arcadedb-embedded``, test
extra) with its Bolt plugin on 127.0.0.1 and a free port, in a temporary
folder, and stops it by its own PID at the end. It holds two databases:
``graphkit`` (the Ciao sample, loaded once) and ``scratch`` (cleared by each
test that uses it).

When ``NEO4J_URI`` is set, the same tests run against that server instead
(``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``; optionally
``NEO4J_SCRATCH_DATABASE``, else the scratch tests share the database and the
sample is reloaded when they have cleared it). THE TESTS DELETE graphkit's
nodes in those databases: point them at a throw-away server only.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import polars as pl
import pytest

from graphkit import TopicGraph
from graphkit.io.neo4j import Neo4jSettings, Neo4jStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arcadedb import USER, ArcadeDBServer, arcadedb_home  # noqa: E402
from runs_support import TOPICS  # noqa: E402

from graphkit.scoring.influence import topic_influence  # noqa: E402

SAMPLE_MARK = "test-dataset:ciao-1-in-50"
EXTERNAL = bool(os.environ.get("NEO4J_URI"))


def pytest_collection_modifyitems(config, items):
    if EXTERNAL:
        return
    skip = pytest.mark.skip(reason="needs a real Neo4j: set NEO4J_URI (e.g. the neo4j:5 Docker image) to run it")
    for item in items:
        if "neo4j_only" in item.keywords:
            item.add_marker(skip)


def ciao_sample(graph: TopicGraph) -> TopicGraph:
    """A deterministic sample of Ciao: every 50th person (by id), everyone they follow,
    their reviews, the items reviewed and their purchases (147 customers with purchases)."""
    core = graph.people.filter(pl.col("person_id").cast(pl.Int64) % 50 == 0)
    edges = graph.edges.filter(pl.col("src").is_in(core["person_id"].implode()))
    followed = edges.filter(pl.col("kind") == "follows")["dst"].implode()
    people = graph.people.filter(pl.col("person_id").is_in(core["person_id"].implode()) | pl.col("person_id").is_in(followed))
    items = graph.items.filter(pl.col("item_id").is_in(edges["dst"].implode()))
    tx = graph.transactions.filter(pl.col("customer_id").is_in(core["customer_id"].implode()))
    return graph.replace(people=people, edges=edges, items=items, transactions=tx)


@pytest.fixture(scope="session")
def bolt_server():
    """(settings of the sample database, settings of the scratch database)."""
    if EXTERNAL:
        main = Neo4jSettings.from_env()
        scratch = Neo4jSettings.from_env(database=os.environ.get("NEO4J_SCRATCH_DATABASE") or main.database)
        yield main, scratch
        return
    if arcadedb_home() is None:
        pytest.skip("arcadedb-embedded is not installed (pip install 'graphkit[test]') and NEO4J_URI is not set")
    # a TERM (timeout, CI cancel) unwinds like ^C, so the finally below stops the server
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = ArcadeDBServer(databases=("graphkit", "scratch"))
    try:
        server.wait_ready()
        yield (Neo4jSettings(uri=server.uri, user=USER, password=server.password, database="graphkit"),
               Neo4jSettings(uri=server.uri, user=USER, password=server.password, database="scratch"))
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def sample(ciao) -> TopicGraph:
    return ciao_sample(ciao)


def _mark(store: Neo4jStore) -> str | None:
    recs = store._read("OPTIONAL MATCH (m:GraphkitState {name: 'test-dataset'}) RETURN m.value AS v")
    return recs[0]["v"] if recs else None


@pytest.fixture
def sample_store(bolt_server, sample):
    """A store whose database holds the Ciao sample (loaded once, reloaded if a scratch test cleared it)."""
    settings, _ = bolt_server
    with Neo4jStore(settings, batch_size=2000) as store:
        if _mark(store) != SAMPLE_MARK:
            store.clear()
            store.load(sample)
            store._write("MERGE (m:GraphkitState {name: 'test-dataset'}) SET m.value = $v RETURN 1 AS n",
                         {"v": SAMPLE_MARK})
        yield store


@pytest.fixture
def scratch_store(bolt_server):
    """A store on an empty scratch database."""
    _, settings = bolt_server
    with Neo4jStore(settings, batch_size=500) as store:
        store.clear()
        yield store


@pytest.fixture(scope="session")
def bolt_env(bolt_server) -> dict[str, str]:
    """Environment for a subprocess (the CLI) that talks to the sample database."""
    settings, _ = bolt_server
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(NEO4J_URI=settings.uri, NEO4J_USERNAME=settings.user, NEO4J_PASSWORD=settings.password or "")
    if settings.database:
        env["NEO4J_DATABASE"] = settings.database
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env

@pytest.fixture(scope="session")
def influence_a(sample) -> pl.DataFrame:
    return topic_influence(sample, topics=TOPICS).table


@pytest.fixture(scope="session")
def influence_b(influence_a) -> pl.DataFrame:
    """Another run's scores: every value differs from run A, so a mix would show."""
    return influence_a.with_columns(score=pl.col("score") * 0.5 + 1e-3, audience=pl.col("audience") + 1)
