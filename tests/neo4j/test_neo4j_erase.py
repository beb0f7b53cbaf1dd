"""Erasing a person from Neo4j (the Bolt server the suite starts): the graph and every score run, in one
transaction, under the writer lock; her id nowhere afterwards; everyone else unchanged; twice a no-op."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit.errors import WriterBusyError
from graphkit.io.erase import ERASURE_KEY_ENV, erase, erasure_log, keyed_hash
from graphkit.marketing.common import example_market
from graphkit.marketing.loyalty import loyalty
from graphkit.scoring.community import topic_communities
from graphkit.scoring.influence import topic_influence

KEY = "neo4j-erasure-key"
HOSTILE = ["lea' OR 1=1 //", "x`}) MATCH (n) DETACH DELETE n //", "$ids", "../lea", "lea\\", "*"]


@pytest.fixture
def market_store(scratch_store):
    """The example market in the scratch database with two complete score runs."""
    g = example_market()
    scratch_store._write("MATCH (e:GraphkitErasure) DELETE e RETURN count(*) AS n")  # clear() keeps the log
    scratch_store.load(g)
    influence = topic_influence(g).table
    communities = topic_communities(g, influence=topic_influence(g)).membership.select(
        "person_id", "topic", pl.col("community").cast(pl.Int64))
    loyal = loyalty(g)
    scratch_store.write_scores(influence=influence, communities=communities, loyalty=loyal, run_id="erase-1")
    scratch_store.write_scores(influence=influence, communities=communities, loyalty=loyal, run_id="erase-2")
    return scratch_store, g


def _snapshot(store) -> dict[str, pl.DataFrame]:
    """Every table of the graph and of every run, read back from the database."""
    out = {name: df for name, df in store.read().tables().items()}
    for run in ("erase-1", "erase-2"):
        out[f"{run}/influence"] = store.read_scores(run_id=run)
        out[f"{run}/communities"] = store.read_communities(run_id=run)
        out[f"{run}/loyalty"] = store.read_loyalty(run_id=run)
    return out


def _names(store, value: str) -> int:
    """Nodes and relationships with any property equal to ``value`` (lists included)."""
    nodes = store._read("MATCH (n) UNWIND keys(n) AS k WITH n, k WHERE n[k] = $v RETURN count(DISTINCT n) AS n",
                        {"v": value})[0]["n"]
    rels = store._read("MATCH ()-[r]->() UNWIND keys(r) AS k WITH r, k WHERE r[k] = $v RETURN count(DISTINCT r) AS n",
                       {"v": value})[0]["n"]
    return nodes + rels


def _without_lea(name: str, df: pl.DataFrame) -> pl.DataFrame:
    keep = pl.lit(True)
    if "person_id" in df.columns:
        keep &= pl.col("person_id") != "lea"
    if name == "edges":
        keep &= ~((pl.col("src") == "lea") | ((pl.col("dst") == "lea") & (pl.col("kind") != "reviews")))
    if "customer_id" in df.columns:
        keep &= pl.col("customer_id").fill_null("") != "c_lea"
    return df.filter(keep.fill_null(True))


def test_erase_from_neo4j_leaves_her_nowhere_and_the_others_unchanged(market_store):
    store, g = market_store
    before = _snapshot(store)
    assert _names(store, "lea") > 0 and _names(store, "c_lea") > 0
    runs_before = {r.run_id: r.rows for r in store.runs()}
    report = erase(["lea"], store, key=KEY)
    removed = report.removed[f"neo4j:{store.settings.shown_uri}"]
    assert removed["people"] == 1 and removed["transactions"] == 1
    assert removed["edges"] == g.edges.filter((pl.col("src") == "lea") | (pl.col("dst") == "lea")).height
    assert {k for k in removed if "/" in k} == {f"{r}/{t}" for r in ("erase-1", "erase-2")
                                               for t in ("influence", "communities", "loyalty")}
    assert _names(store, "lea") == 0 and _names(store, "c_lea") == 0
    after = _snapshot(store)
    for name, df in after.items():
        assert "lea" not in df["person_id" if "person_id" in df.columns else df.columns[0]].to_list()
        assert_frame_equal(df, _without_lea(name.split("/")[-1], before[name]), check_exact=True)
    # the runs' row counts follow; the log holds hashes only
    for r in store.runs():
        assert r.rows["influence"] == runs_before[r.run_id]["influence"] - removed[f"{r.run_id}/influence"]
    (entry,) = erasure_log(store)
    assert entry["erased"] == [keyed_hash("lea", key=KEY)] and entry["removed"] == removed
    assert "lea" not in json.dumps(entry)


def test_erasing_twice_and_hostile_ids_change_nothing(market_store):
    store, _ = market_store
    erase(["lea"], store, key=KEY)
    before = _snapshot(store)
    nodes = store._read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    assert erase(["lea"], store, key=KEY).total == 0
    assert erase(HOSTILE, store, key=KEY).total == 0
    assert store._read("MATCH (n) RETURN count(n) AS n")[0]["n"] == nodes
    for name, df in _snapshot(store).items():
        assert_frame_equal(df, before[name], check_exact=True)
    assert len(erasure_log(store)) == 1


def test_a_person_whose_id_is_cypher_is_erased_exactly(scratch_store):
    odd = "x'}) MATCH (n) DETACH DELETE n //`"
    g = example_market()
    swap = {c: pl.when(pl.col(c) == "zoe").then(pl.lit(odd)).otherwise(pl.col(c)) for c in ("src", "dst")}
    g = g.replace(people=g.people.with_columns(person_id=pl.when(pl.col("person_id") == "zoe").then(pl.lit(odd))
                                                .otherwise(pl.col("person_id"))),
                  edges=g.edges.with_columns(**swap))
    scratch_store.load(g)
    report = erase([odd], scratch_store, key=KEY)
    assert report.removed[f"neo4j:{scratch_store.settings.shown_uri}"]["people"] == 1
    left = scratch_store.read()
    assert left.people.height == g.people.height - 1 and odd not in left.edges["src"].to_list()


def test_erase_waits_for_the_writer_lock(market_store):
    store, _ = market_store
    from graphkit.io.neo4j import Neo4jStore

    with Neo4jStore(store.settings) as other, other.writing():
        with pytest.raises(WriterBusyError):
            erase(["lea"], store, key=KEY, wait=0.5)
    assert store.read().people.filter(pl.col("person_id") == "lea").height == 1


def test_cli_erase_on_neo4j_with_hostile_ids(sample_store, bolt_env):
    """On the shared sample database: ids that name nobody (hostile ones) change nothing, exit 0."""
    count = sample_store._read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    env = {**bolt_env, ERASURE_KEY_ENV: KEY}
    done = subprocess.run([sys.executable, "-m", "graphkit", "erase", *HOSTILE, "--source", "neo4j", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 0
    assert sample_store._read("MATCH (n) RETURN count(n) AS n")[0]["n"] == count
    env.pop(ERASURE_KEY_ENV)
    done = subprocess.run([sys.executable, "-m", "graphkit", "erase", "1", "--source", "neo4j"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and ERASURE_KEY_ENV in done.stderr and "Traceback" not in done.stderr
