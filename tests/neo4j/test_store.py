"""The Neo4j store against a real Bolt server (ArcadeDB started by conftest, or NEO4J_URI)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit import TopicGraph
from graphkit.errors import GraphkitError, StoreError
from graphkit.io.neo4j import Neo4jStore
from graphkit.io.neo4j.cypher import EDGE_TYPES, epoch_us_cypher
from graphkit.marketing.loyalty import influential_loyal_customers, loyalty
from graphkit.scoring.influence import topic_influence

UTC = dt.timezone.utc
SAMPLE_TOPICS = ["DVDs", "Beauty", "Books"]


def _counts(store: Neo4jStore) -> dict[str, int]:
    out = {}
    for label in ("Person", "Customer", "Item", "Community", "Topic", "Handle"):
        out[label] = store._read(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]
    for rtype in [t for t, _, _ in EDGE_TYPES.values()] + ["PURCHASED", "HAS_HANDLE"]:
        out[rtype] = store._read(f"MATCH ()-[r:{rtype}]->() RETURN count(r) AS n")[0]["n"]
    return out


# ------------------------------------------------------------ load and read
def test_round_trip_is_exact_on_the_ciao_sample(sample_store, sample):
    back = sample_store.read()
    for name, table in sample.tables().items():
        assert_frame_equal(back.tables()[name], table, check_exact=True), name
    assert back.topics == sample.topics


def test_schema_is_idempotent_and_enforced(sample_store):
    sample_store.setup_schema()
    sample_store.setup_schema()
    with pytest.raises(StoreError, match="Neo4j at .* failed"):
        sample_store._write("CREATE (p:Person {person_id: '50'}) RETURN 1 AS n")  # '50' is in the sample


def _loyalty_indexes(store: Neo4jStore) -> list[str]:
    return [r["name"] for r in store._read("SHOW INDEXES") if "LoyaltyRow" in (r.get("labelsOrTypes") or [])]


def test_schema_drops_the_loyalty_row_index_of_earlier_versions(sample_store):
    with sample_store.batch_session() as s:  # what an earlier graphkit created
        s.run("CREATE INDEX graphkit_loyalty_person IF NOT EXISTS FOR (n:LoyaltyRow) ON (n.person_id)").consume()
    assert _loyalty_indexes(sample_store) == ["graphkit_loyalty_person"]
    sample_store.setup_schema()
    assert _loyalty_indexes(sample_store) == []


def _shop() -> TopicGraph:
    """30 customers with amounts (exact in binary), shared and missing order ids, ties, hours, 3 topics."""
    rnd = random.Random(4)
    topics = ["kitchen", "frogs", "x'}) MATCH (n) DETACH DELETE n //"]
    ids = [f"p{i}" for i in range(34)]
    ids[33], ids[29] = "$rows", "$topics"  # values that look like query parameters
    people = pl.DataFrame({
        "person_id": ids,
        "customer_id": [f"c{i}" if i < 30 else None for i in range(34)],
        "name": [f"Name {i}" if i % 3 else None for i in range(34)],
        "joined": [dt.datetime(2020, 1, 1 + i % 28, tzinfo=UTC) for i in range(34)],
    })
    items = pl.DataFrame({"item_id": [f"i{k}" for k in range(9)], "topic": [topics[k % 3] for k in range(9)],
                          "brand": ["Brick Co" if k % 2 else None for k in range(9)]})
    communities = pl.DataFrame({"community_id": ["club"], "topic": [topics[1]]})
    handles = pl.DataFrame({"person_id": ["p1", "p1", "p2"], "channel": ["x", "y", "x"], "handle": ["@a", "@a", "@b"]})
    src, dst, kind, topic, ts, sign, weight = [], [], [], [], [], [], []
    for _ in range(160):
        a, b = rnd.randrange(34), rnd.randrange(34)
        k = rnd.choice(["follows", "mentions", "shares", "reviews", "member_of", "referred"])
        if k != "reviews" and k != "member_of" and a == b:
            continue
        src.append(ids[a])
        dst.append({"reviews": f"i{rnd.randrange(9)}", "member_of": "club"}.get(k, ids[b]))
        kind.append(k)
        topic.append(None if k in ("follows", "member_of", "referred") else rnd.choice(topics))
        ts.append(None if k == "follows" else dt.datetime(2023, 1, 1, tzinfo=UTC) + dt.timedelta(hours=rnd.randrange(9000)))
        sign.append(rnd.choice([1, 1, 1, -1]))
        weight.append(rnd.choice([1.0, 0.5, 2.25]))
    src += ["p1", "p1"]  # two identical rows: a multigraph keeps both
    dst += ["p2", "p2"]
    kind += ["mentions", "mentions"]
    topic += ["frogs", "frogs"]
    ts += [dt.datetime(2023, 5, 5, tzinfo=UTC)] * 2
    sign += [1, 1]
    weight += [1.0, 1.0]
    edges = pl.DataFrame({"src": src, "dst": dst, "kind": kind, "topic": topic, "ts": ts, "sign": sign,
                          "weight": weight, "channel": ["web"] * len(src)})
    tx = {"customer_id": [], "item_id": [], "amount": [], "ts": [], "order_id": []}
    for i in range(30):
        for j in range(rnd.randrange(1, 9)):
            tx["customer_id"].append(f"c{i}")
            tx["item_id"].append(f"i{rnd.randrange(9)}")
            tx["amount"].append(None if i % 7 == 0 else rnd.randrange(1, 400) * 0.25)
            day = rnd.choice([0, 10, 100, 200, 300, 364])  # few distinct days: ties in recency
            tx["ts"].append(dt.datetime(2023, 1, 1, rnd.choice([0, 13]), tzinfo=UTC) + dt.timedelta(days=day))
            tx["order_id"].append(rnd.choice([None, f"o{i}-{j // 2}"]))
    return TopicGraph.from_tables(people, edges, items=items, communities=communities, handles=handles,
                                  transactions=pl.DataFrame(tx))


def test_load_is_idempotent_and_round_trips_every_table(scratch_store):
    shop = _shop()
    first = scratch_store.load(shop)
    counts = _counts(scratch_store)
    assert first.rows["edges"] == shop.edges.height and first.rows["transactions"] == shop.transactions.height
    assert counts["Customer"] == 30 and counts["PURCHASED"] == shop.transactions.height
    assert sum(counts[t] for t, _, _ in EDGE_TYPES.values()) == shop.edges.height  # identical rows kept apart
    again = scratch_store.load(shop, batch_size=7)  # another batch size, same result
    assert again.rows == first.rows
    assert _counts(scratch_store) == counts
    back = scratch_store.read()
    for name, table in shop.tables().items():
        assert_frame_equal(back.tables()[name], table, check_exact=True), name


# ------------------------------------------------------------- the flagship
def _influence_for(graph: TopicGraph, topics: list[str]) -> pl.DataFrame:
    """A deterministic influence table in the topic_influence contract, for graphs too small for PageRank."""
    rows = []
    ids = graph.people["person_id"].to_list()
    n = len(ids)
    for t_i, topic in enumerate(topics):
        order = sorted(ids, key=lambda p: ((sum(map(ord, p)) * (t_i + 3)) % 97, p))
        for r, pid in enumerate(order, 1):
            rows.append({"person_id": pid, "topic": topic, "score": (n - r + 1) / (n * (n + 1) / 2), "rank": r,
                         "percentile": 100.0 * (1 - (r - 1) / n), "audience": r % 5, "active_audience": r % 3,
                         "credibility": None if r % 4 == 0 else 1.0 / r})
    return pl.DataFrame(rows, schema_overrides={"rank": pl.UInt32, "audience": pl.UInt32, "active_audience": pl.UInt32})


GRID = [
    dict(top_percentile=10.0, min_loyalty=0.5),
    dict(top_percentile=50.0, min_loyalty=0.25, limit=5),
    dict(top_percentile=100.0, min_loyalty=0.0),
    dict(top_percentile=30.0, min_loyalty=0.5, window_days=120),
    dict(top_percentile=100.0, min_loyalty=0.0, days_before_last=150.25, window_days=400.5),
]


def _options(graph: TopicGraph, options: dict) -> dict:
    """Grid options for a graph: ``days_before_last`` becomes an ``as_of`` inside its purchase history."""
    out = dict(options)
    if "days_before_last" in out:
        out["as_of"] = graph.transactions["ts"].max() - dt.timedelta(days=out.pop("days_before_last"))
    return out


@pytest.mark.parametrize("options", GRID, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_flagship_query_equals_embedded_on_the_ciao_sample(sample_store, sample, options):
    influence = topic_influence(sample, topics=SAMPLE_TOPICS).table
    if sample_store.current_run_id() != "ciao-sample-influence":
        sample_store.write_scores(influence=influence, run_id="ciao-sample-influence")
    options = _options(sample, options)
    expected = influential_loyal_customers(sample, topics=SAMPLE_TOPICS, influence=influence, **options)
    got = sample_store.influential_loyal_customers(topics=SAMPLE_TOPICS, run_id="ciao-sample-influence", **options)
    assert_frame_equal(got, expected, check_exact=True)
    assert expected.height > 5  # a real answer, not two empty tables


def test_flagship_query_equals_embedded_with_prices_orders_and_ties(scratch_store):
    shop = _shop()
    scratch_store.load(shop)
    topics = shop.topics
    influence = _influence_for(shop, list(topics))
    scratch_store.write_scores(influence=influence, run_id="shop")
    assert loyalty(shop)["monetary"].null_count() > 0  # some customers without any known price
    for options in GRID:
        options = _options(shop, options)
        expected = influential_loyal_customers(shop, topics=topics, influence=influence, **options)
        got = scratch_store.influential_loyal_customers(topics=topics, **options)
        assert_frame_equal(got, expected, check_exact=True)
        assert expected.height > 0, options
    assert influential_loyal_customers(shop, topics=topics, influence=influence, top_percentile=100,
                                       min_loyalty=0).height > 30


def test_epoch_arithmetic_matches_python(scratch_store):
    stamps = [dt.datetime(1900, 3, 1, tzinfo=UTC), dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
              dt.datetime(1970, 1, 1, tzinfo=UTC), dt.datetime(2000, 2, 29, 12, 30, 1, 5, tzinfo=UTC),
              dt.datetime(2011, 4, 12, 7, tzinfo=UTC), dt.datetime(2100, 12, 31, 0, 0, 0, 1, tzinfo=UTC),
              dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5)))]
    scratch_store._write("UNWIND $rows AS r CREATE (:Topic {name: r.name, ts: r.ts}) RETURN count(*) AS n",
                         {"rows": [{"name": f"t{i}", "ts": s} for i, s in enumerate(stamps)]})
    q = f"MATCH (t:Topic) WITH t.name AS name, t.ts AS v RETURN name, {epoch_us_cypher('v')} AS us ORDER BY name"
    got = [r["us"] for r in scratch_store._read(q)]
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert got == [(s - epoch) // dt.timedelta(microseconds=1) for s in stamps]


@pytest.mark.neo4j_only
def test_epoch_arithmetic_matches_neo4j_epoch_millis(scratch_store):
    """On real Neo4j the component arithmetic must agree with Neo4j's own epochMillis (ArcadeDB lacks it)."""
    stamps = [dt.datetime(1969, 7, 20, 20, 17, 40, 123456, tzinfo=UTC), dt.datetime(2011, 4, 12, 7, tzinfo=UTC)]
    scratch_store._write("UNWIND $rows AS r CREATE (:Topic {name: r.name, ts: r.ts}) RETURN count(*) AS n",
                         {"rows": [{"name": f"t{i}", "ts": s} for i, s in enumerate(stamps)]})
    q = (f"MATCH (t:Topic) WITH t.name AS name, t.ts AS v "
         f"RETURN {epoch_us_cypher('v')} AS ours, v.epochMillis * 1000 + v.microsecond % 1000 AS neo4j ORDER BY name")
    rows = scratch_store._read(q)
    assert [r["ours"] for r in rows] == [r["neo4j"] for r in rows]


@pytest.mark.parametrize("window_days", [None, 120])
def test_flagship_over_the_runs_loyalty_equals_embedded_and_the_purchases_query(scratch_store, window_days):
    """A run written with its loyalty's date answers from its loyalty rows; other dates and windows
    recompute loyalty from PURCHASED; all equal the embedded query."""
    shop = _shop()
    scratch_store.load(shop)
    topics = list(shop.topics)
    influence = _influence_for(shop, topics)
    as_of = shop.transactions["ts"].max()
    scratch_store.write_scores(influence=influence, loyalty=loyalty(shop, window_days=window_days), run_id="with-loyalty",
                               loyalty_as_of=as_of, loyalty_window_days=window_days)
    scratch_store.write_scores(influence=influence, run_id="without-loyalty")
    assert scratch_store.runs()[0].parameters["loyalty_as_of"] == as_of.isoformat()
    for options in GRID:
        options = {**_options(shop, options), "window_days": options.get("window_days", window_days)}
        expected = influential_loyal_customers(shop, topics=topics, influence=influence, **options)
        from_run = scratch_store.influential_loyal_customers(topics=topics, run_id="with-loyalty", **options)
        from_purchases = scratch_store.influential_loyal_customers(topics=topics, run_id="without-loyalty", **options)
        assert_frame_equal(from_run, expected, check_exact=True)
        assert_frame_equal(from_purchases, expected, check_exact=True)
    # the run's date given explicitly is the run's loyalty too; the answer at defaults is a real one
    expected = influential_loyal_customers(shop, topics=topics, influence=influence, top_percentile=50, min_loyalty=0.25,
                                           window_days=window_days)
    assert expected.height > 3
    assert_frame_equal(scratch_store.influential_loyal_customers(
        topics=topics, run_id="with-loyalty", top_percentile=50, min_loyalty=0.25, as_of=as_of.isoformat(),
        window_days=window_days), expected, check_exact=True)


def test_topic_and_community_summaries_are_written_with_the_run(scratch_store):
    shop = _shop()
    scratch_store.load(shop)
    topics = list(shop.topics)
    influence = _influence_for(shop, topics).with_columns(
        score=pl.when(pl.col("rank") > 20).then(0.0).otherwise(pl.col("score")))
    communities = influence.select("person_id", "topic", (pl.col("rank") % 4).cast(pl.Int64).alias("community"))
    summary = communities.group_by("topic", "community").agg(size=pl.len()).with_columns(
        top_influencers=pl.lit(["p1", "p2"]), customers=pl.lit(1), customer_share=pl.lit(0.5),
        brand_community=pl.lit(None, dtype=pl.String), brand_overlap=pl.lit(0), brand_jaccard=pl.lit(0.0),
        brand_share=pl.lit(0.0), modularity_contribution=pl.col("community") / 10.0)
    report = scratch_store.write_scores(influence=influence, communities=communities, community_summary=summary,
                                        influence_rows="nonzero", run_id="summaries")
    kept = influence.filter(pl.col("score") > 0)
    assert report.rows == {"influence": kept.height, "communities": kept.height, "topic_summary": len(topics),
                           "community_summary": summary.height}
    per_topic = scratch_store.read_topic_summary()
    n = shop.people.height
    assert per_topic["topic"].to_list() == sorted(topics)
    assert per_topic["people"].to_list() == [n] * len(topics) and per_topic["written"].to_list() == [20] * len(topics)
    assert per_topic["nonzero"].to_list() == [20] * len(topics) and per_topic["members"].to_list() == [n] * len(topics)
    assert per_topic["members_written"].to_list() == [20] * len(topics)
    assert per_topic["communities"].to_list() == [4] * len(topics)
    assert per_topic["top_score"].to_list() == kept.group_by("topic").agg(pl.col("score").max()).sort("topic")["score"].to_list()
    back = scratch_store.read_community_summary()
    assert_frame_equal(back, summary.select(back.columns).cast(dict(back.schema)).sort("topic", "community"))
    # membership goes with the rows kept; with every row kept, a membership without its row is refused
    assert_frame_equal(scratch_store.read_communities(),
                       communities.join(kept.select("person_id", "topic"), on=["person_id", "topic"])
                       .sort("topic", "community", "person_id"))
    with pytest.raises(GraphkitError, match=r"1 community rows have no influence row \(e.g. \(.p\d+., "):
        scratch_store.write_scores(influence=influence.filter(pl.col("rank") > 1), communities=communities,
                                   run_id="lost")
    scratch_store.clear()  # clear() deletes every run's rows with the runs
    for label in ("InfluenceRow", "LoyaltyRow", "TopicSummary", "CommunitySummary"):
        assert scratch_store._read(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"] == 0, label


def test_a_batch_whose_commit_reply_is_lost_is_written_once(sample_store, influence_a, monkeypatch):
    """A batch committed whose reply is lost is sent again (by the driver's retry, or by graphkit after an
    IncompleteCommit); its key (:RunBatch) makes the second send write nothing, and the writer counts the
    batch as landed."""
    import neo4j

    import graphkit.io.neo4j.store as gneo4j
    from runs_support import run_rows, sorted_rows

    real = gneo4j._count_rows
    lost = {"n": 0}

    def commit_then_lose_the_reply(tx, query, params):
        key = params.get("batch_key", "")
        if "InfluenceRow" in query and lost["n"] < 2 and key.endswith(("\x1f1", "\x1f3")) and key not in lost:
            lost["n"], lost[key] = lost["n"] + 1, True
            sample_store._write(query, params)  # committed elsewhere ...
            kind = neo4j.exceptions.ServiceUnavailable if lost["n"] == 1 else neo4j.exceptions.IncompleteCommit
            raise kind("reply lost (injected by the test)")  # ... but not heard
        return real(tx, query, params)

    monkeypatch.setattr(gneo4j, "_count_rows", commit_then_lose_the_reply)
    report = sample_store.write_scores(influence=influence_a, run_id="lost-reply", batch_size=500)
    assert lost["n"] == 2
    assert report.rows["influence"] == influence_a.height == run_rows(sample_store, "lost-reply")
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)


def test_several_writers_write_the_rows_of_one_writer_and_a_batch_sent_twice_once(sample_store, influence_a):
    """Batches from 3 sessions at once land as one writer's do; a batch sent again (same key) writes nothing."""
    from graphkit.io.neo4j.cypher import batch_key, create_rows
    from graphkit.io.neo4j.store import RunNotWritingError, write_batch
    from runs_support import run_rows, sorted_rows

    report = sample_store.write_scores(influence=influence_a, run_id="three-writers", batch_size=300, writers=3)
    assert report.rows["influence"] == influence_a.height == run_rows(sample_store, "three-writers")
    assert_frame_equal(sample_store.read_scores(), sorted_rows(influence_a), check_exact=True)
    batches = sample_store._read("MATCH (b:RunBatch) WHERE b.run_id = 'three-writers' RETURN count(b) AS n")[0]["n"]
    assert batches > 3  # one key per batch, kept with the run

    query = create_rows("LoyaltyRow", ("customer_id", "person_id"))
    rows = {"customer_id": ["c1", "c2"], "person_id": ["p1", "p2"]}
    with sample_store.writing():
        sample_store.open_run("twice", "{}")
        params = {"run_id": "twice", "owner": sample_store._lock_owner, "c": rows}
        with sample_store._session() as s:
            for _ in range(2):  # the second send finds its key: written before
                assert write_batch(s, query, params, 2, batch_key("twice", "loyalty", 0), "loyalty") == 2
            with pytest.raises(RunNotWritingError):  # a writer that does not own the run writes nothing
                write_batch(s, query, {**params, "owner": "someone else"}, 2, batch_key("twice", "loyalty", 1), "x")
        sample_store.publish_run("twice", {"loyalty": 2}, [], keep_runs=3)
    assert sample_store.read_loyalty(run_id="twice")["customer_id"].to_list() == ["c1", "c2"]
