"""`graphkit score` / `graphkit loyal` against the Bolt server, and the one-line errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_store import _counts, _shop

from graphkit import write_dataset
from graphkit.errors import StoreError
from graphkit.marketing.loyalty import INFLUENCE_COLUMNS
from graphkit.io.neo4j import Neo4jSettings, Neo4jStore, Neo4jUnavailableError


def _graphkit(args: list[str], env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphkit", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: nothing listens there


def test_score_to_neo4j_then_loyal_equals_the_embedded_job(sample_store, sample, bolt_env, tmp_path):
    folder = write_dataset(sample, tmp_path / "sample")
    topics = ["DVDs", "Beauty"]
    done = _graphkit(["score", "--source", str(folder), "--write", "neo4j", "--no-load", "--topics", *topics,
                      "--run-id", "cli-1", "--json"], bolt_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # only the nonzero influence rows go to Neo4j by default (--neo4j-rows)
    assert summary["run_id"] == "cli-1" and 0 < summary["rows"]["influence"] < 2 * sample.people.height
    assert summary["rows"]["loyalty"] == sample.transactions["customer_id"].n_unique()
    assert summary["rows_written"] == sum(summary["rows"].values()) and summary["seconds"] > 0
    assert "topic influence" in done.stderr  # progress on stderr, stdout is the JSON line only
    assert sample_store.current_run_id() == "cli-1"
    assert summary["communities"] is True  # graphkit.scoring.community is in the build: membership written too
    assert sample_store.read_communities().height == summary["rows"]["communities"]
    assert set(sample_store.read_communities()["topic"]) <= set(topics)

    files = _graphkit(["score", "--source", str(folder), "--write", str(tmp_path / "scores"), "--topics", *topics,
                       "--json", "--quiet"], bolt_env)
    assert files.returncode == 0, files.stderr
    assert json.loads(files.stdout)["rows"]["influence"] == 2 * sample.people.height  # a folder holds every row
    run_folder = tmp_path / "scores" / "runs" / (tmp_path / "scores" / "CURRENT").read_text().strip()
    assert {p.name for p in run_folder.iterdir()} >= {"influence.parquet", "loyalty.parquet", "run.json"}
    everything = pl.read_parquet(run_folder / "influence.parquet")
    nonzero = everything.filter(pl.col("score") > 0).select(pl.col(c).cast(t) for c, t in INFLUENCE_COLUMNS.items())
    assert summary["rows"]["influence"] == nonzero.height
    assert_frame_equal(sample_store.read_scores().sort("topic", "person_id"),
                       nonzero.sort("topic", "person_id"), check_exact=True)
    written = sample_store.runs()[-1].parameters["influence_rows"]
    assert written["keep"] == "nonzero" and written["topics"]["DVDs"]["people"] == sample.people.height

    query = ["loyal", "--topic", "DVDs", "--topic", "Beauty", "--top-percentile", "20", "--min-loyalty", "0.5",
             "--json", "--quiet"]
    in_neo4j = _graphkit([*query, "--source", "neo4j"], bolt_env)
    embedded = _graphkit([*query, "--source", str(folder), "--scores", str(tmp_path / "scores")], bolt_env)
    assert in_neo4j.returncode == 0 and embedded.returncode == 0, in_neo4j.stderr + embedded.stderr
    a, b = json.loads(in_neo4j.stdout), json.loads(embedded.stdout)
    assert a["run_id"] == "cli-1" and a["count"] == b["count"] > 0
    assert a["rows"] == b["rows"]

    # a query that would need the zero rows left out is refused, naming the way out
    everyone = _graphkit(["loyal", "--topic", "DVDs", "--top-percentile", "100", "--source", "neo4j", "--quiet"],
                         bolt_env)
    assert everyone.returncode == 1 and "--neo4j-rows all" in everyone.stderr
    assert everyone.stderr.count("\n") == 1 and "Traceback" not in everyone.stderr

    out = _graphkit(["loyal", "--topic", "DVDs", "--source", "neo4j", "--out", str(tmp_path / "r.parquet"), "--quiet"],
                    bolt_env)
    assert out.returncode == 0, out.stderr
    assert pl.read_parquet(tmp_path / "r.parquet").height == int(out.stdout.split()[0])


def test_score_from_a_folder_loads_it_into_neo4j(bolt_server, bolt_env, tmp_path):
    _, scratch = bolt_server
    shop = _shop()
    folder = write_dataset(shop, tmp_path / "shop")
    with Neo4jStore(scratch) as store:
        store.clear()
    env = {**bolt_env, "NEO4J_DATABASE": scratch.database or ""}
    done = _graphkit(["score", "--source", str(folder), "--write", "neo4j", "--topics", "kitchen", "frogs",
                      "--batch-size", "100", "--neo4j-rows", "all", "--json"], env)
    assert done.returncode == 0, done.stderr
    with Neo4jStore(scratch) as store:
        assert _counts(store)["PURCHASED"] == shop.transactions.height
        assert store.read_scores()["topic"].unique().sort().to_list() == ["frogs", "kitchen"]
        assert store.current_run_id() == json.loads(done.stdout)["run_id"]
    # by default only the nonzero rows are written; a topic without one is still a topic of the run
    again = _graphkit(["score", "--source", str(folder), "--write", "neo4j", "--no-load", "--topics", "kitchen",
                       "frogs", "--json", "--quiet"], env)
    assert again.returncode == 0, again.stderr
    with Neo4jStore(scratch) as store:
        run = store.runs()[-1]
        assert run.run_id == json.loads(again.stdout)["run_id"] and run.topics == ("frogs", "kitchen")
        kept = run.parameters["influence_rows"]
        assert kept["keep"] == "nonzero"
        assert store.read_scores().height == sum(t["written"] for t in kept["topics"].values())
        assert all(t["written"] == t["nonzero"] <= t["people"] for t in kept["topics"].values())


def test_unreachable_server_is_one_line_and_exit_3(bolt_env):
    port = _closed_port()
    with pytest.raises(Neo4jUnavailableError, match=f"cannot reach Neo4j at bolt://127.0.0.1:{port}"):
        Neo4jStore(Neo4jSettings(uri=f"bolt://127.0.0.1:{port}", password="x"), connection_timeout=3).verify()
    env = {**bolt_env, "NEO4J_URI": f"bolt://127.0.0.1:{port}"}
    for args in (["loyal", "--topic", "DVDs", "--source", "neo4j"], ["score", "--source", "neo4j", "--write", "neo4j"]):
        done = _graphkit(args, env, timeout=120)
        assert done.returncode == 3, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
        assert errors == [f"Error: cannot reach Neo4j at bolt://127.0.0.1:{port} (ServiceUnavailable); "
                          f"is the server running? Set NEO4J_URI to its bolt:// or neo4j:// address"]


def test_wrong_credentials_are_one_line_and_never_show_the_password(bolt_server, bolt_env):
    settings, _ = bolt_server
    wrong = "not-the-password-1234"
    with pytest.raises(StoreError, match="refused the credentials") as info:
        Neo4jStore(Neo4jSettings(uri=settings.uri, user=settings.user, password=wrong,
                                 database=settings.database)).verify()
    assert wrong not in str(info.value)
    done = _graphkit(["loyal", "--topic", "DVDs", "--source", "neo4j"], {**bolt_env, "NEO4J_PASSWORD": wrong})
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: Neo4j at {settings.uri} refused the credentials of user {settings.user!r}: "
        f"check NEO4J_USERNAME and NEO4J_PASSWORD"]
    assert wrong not in done.stderr + done.stdout and settings.password not in done.stderr + done.stdout


def test_hostile_topic_names_are_only_values(scratch_store):
    from test_store import _influence_for

    from graphkit.marketing.loyalty import influential_loyal_customers

    shop = _shop()
    hostile = "x'}) MATCH (n) DETACH DELETE n //"
    assert hostile in shop.topics
    scratch_store.load(shop)
    before = _counts(scratch_store)
    extra = ["`Topic`) DETACH DELETE t //", "$rows", "} RETURN 1 UNION MATCH (n) DETACH DELETE n RETURN 1 AS n //"]
    influence = _influence_for(shop, [hostile, *extra])
    scratch_store.write_scores(influence=influence, run_id="$run_id")  # a value that looks like a parameter
    assert scratch_store.current_run_id() == "$run_id"
    assert _counts(scratch_store) == {**before, "Topic": before["Topic"] + len(extra)}
    names = {r["n"] for r in scratch_store._read("MATCH (t:Topic) RETURN t.name AS n")}
    assert {hostile, *extra} <= names
    assert sorted(scratch_store.read_scores()["topic"].unique()) == sorted([hostile, *extra])
    got = scratch_store.influential_loyal_customers(topics=[hostile, *extra], top_percentile=100, min_loyalty=0)
    expected = influential_loyal_customers(shop, topics=[hostile, *extra], influence=influence, top_percentile=100,
                                           min_loyalty=0)
    assert got.equals(expected) and got.height > 0
    assert scratch_store.read().edges.equals(shop.edges)  # nothing deleted


@pytest.mark.parametrize("uri, message", [
    ("http://127.0.0.1:7474", "is not a Bolt address"),
    ("localhost:7687", "is not a Bolt address"),
    ("neo4j://admin:s3cret-pw@127.0.0.1:7687", "carries a user name or password"),
])
def test_bad_uris_are_refused_without_showing_secrets(uri, message):
    with pytest.raises(StoreError, match=message) as info:
        Neo4jStore(Neo4jSettings(uri=uri, password="other-secret"))
    assert "s3cret-pw" not in str(info.value) and "other-secret" not in str(info.value)
