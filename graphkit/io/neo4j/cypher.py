"""All of graphkit's Cypher: every statement the Neo4j store sends, in one place.

Labels, relationship types and property names are fixed here; nothing that
comes from data (topic names, ids) ever becomes one. Data values travel only
as query parameters (``$rows``, ``$run_id``...), never formatted into text;
the few names that are formatted in (a label, a value column) pass
:func:`identifier` first.

>>> identifier("Person")
'Person'
>>> "DETACH DELETE" in delete_nodes_batch("Person")
True
"""

from __future__ import annotations

import re
from typing import Sequence

from graphkit.errors import GraphkitError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: Edge kind -> (relationship type, label of the target node, key property of the target).
EDGE_TYPES: dict[str, tuple[str, str, str]] = {
    "follows": ("FOLLOWS", "Person", "person_id"),
    "mentions": ("MENTIONS", "Person", "person_id"),
    "replies": ("REPLIES", "Person", "person_id"),
    "shares": ("SHARES", "Person", "person_id"),
    "referred": ("REFERRED", "Person", "person_id"),
    "reviews": ("REVIEWS", "Item", "item_id"),
    "member_of": ("MEMBER_OF", "Community", "community_id"),
}
STATE_NAME = "scores"
#: Name of the one writer lock of a database (a ``(:GraphkitLock)`` node).
LOCK_NAME = "writer"
#: URI schemes of the Bolt protocol (the driver's preview HTTP transport is not supported).


def identifier(name: str) -> str:
    """A label / type / property name for query text: only fixed, safe identifiers pass."""
    if not _IDENTIFIER.match(name):
        raise GraphkitError(f"{name!r} cannot be used as a Neo4j label or property name")
    return name


Q_PING = "RETURN 1 AS ok"


def delete_nodes_batch(label: str) -> str:
    """Delete up to ``$limit`` nodes of one of graphkit's labels, with their relationships."""
    return f"MATCH (n:{identifier(label)}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS n"


def epoch_us_cypher(var: str) -> str:
    """Cypher expression: microseconds since 1970 of the UTC datetime ``var``.

    Built from the date and time components (days-from-civil arithmetic) so it
    works on Neo4j 5 and on ArcadeDB, which lacks ``epochMillis`` and
    ``duration.inSeconds`` on stored values. ``var`` must be an identifier.

    >>> "146097" in epoch_us_cypher("x")
    True
    """
    v = identifier(var)
    y = f"({v}.year - CASE WHEN {v}.month <= 2 THEN 1 ELSE 0 END)"
    era = f"({y} / 400)"
    yoe = f"({y} - {era} * 400)"
    doy = f"((153 * (({v}.month + 9) % 12) + 2) / 5 + {v}.day - 1)"
    doe = f"({yoe} * 365 + {yoe} / 4 - {yoe} / 100 + {doy})"
    days = f"({era} * 146097 + {doe} - 719468)"
    return f"({days} * 86400000000 + (({v}.hour * 60 + {v}.minute) * 60 + {v}.second) * 1000000 + {v}.microsecond)"


# -------------------------------------------------------------------- Cypher
SCHEMA_STATEMENTS: tuple[str, ...] = (
    "CREATE CONSTRAINT graphkit_person IF NOT EXISTS FOR (n:Person) REQUIRE n.person_id IS UNIQUE",
    "CREATE CONSTRAINT graphkit_customer IF NOT EXISTS FOR (n:Customer) REQUIRE n.customer_id IS UNIQUE",
    "CREATE CONSTRAINT graphkit_item IF NOT EXISTS FOR (n:Item) REQUIRE n.item_id IS UNIQUE",
    "CREATE CONSTRAINT graphkit_community IF NOT EXISTS FOR (n:Community) REQUIRE n.community_id IS UNIQUE",
    "CREATE CONSTRAINT graphkit_topic IF NOT EXISTS FOR (n:Topic) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT graphkit_handle IF NOT EXISTS FOR (n:Handle) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT graphkit_run IF NOT EXISTS FOR (n:ScoreRun) REQUIRE n.run_id IS UNIQUE",
    "CREATE CONSTRAINT graphkit_state IF NOT EXISTS FOR (n:GraphkitState) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT graphkit_lock IF NOT EXISTS FOR (n:GraphkitLock) REQUIRE n.name IS UNIQUE",
    # one (:RunBatch) per batch of a run's rows written: a batch sent twice is written once (see RUN_GUARD)
    "CREATE CONSTRAINT graphkit_run_batch IF NOT EXISTS FOR (n:RunBatch) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX graphkit_item_topic IF NOT EXISTS FOR (n:Item) ON (n.topic)",
    # No index on a run's rows (see RUN_GUARD below). Databases written by earlier versions had one on
    # LoyaltyRow.person_id: it more than doubled the server's time per loyalty row written (23 vs 10 us on
    # ArcadeDB) and no query uses it any more (the flagship joins loyalty in Python, erasure scans the label).
    "DROP INDEX graphkit_loyalty_person IF EXISTS",
)

Q_TOPICS = "UNWIND $rows AS r MERGE (t:Topic {name: r.name}) RETURN count(*) AS n"
Q_PEOPLE = """
UNWIND $rows AS r
MERGE (p:Person {person_id: r.person_id})
SET p.seq = r.seq, p.customer_id = r.customer_id, p.name = r.name, p.brand = r.brand,
    p.joined = r.joined, p.last_active = r.last_active
RETURN count(*) AS n
"""
# A separate transaction from the one that created the node: ArcadeDB refuses
# (ConstraintError) to add a label to a node created in the same transaction.
Q_CUSTOMER_LABEL = """
UNWIND $rows AS r
MATCH (p:Person) WHERE p.person_id = r.person_id
FOREACH (_ IN CASE WHEN p:Customer THEN [] ELSE [1] END | SET p:Customer)
RETURN count(*) AS n
"""
# Lookups by a data value use WHERE, not an inline {key: value} map: ArcadeDB
# resolves a value such as "$rows" inside an inline map as the parameter of
# that name (the MATCH then finds nothing; write_rows would report it).
Q_HANDLES = """
UNWIND $rows AS r
MATCH (p:Person) WHERE p.person_id = r.person_id
MERGE (h:Handle {key: r.key})
SET h.seq = r.seq, h.channel = r.channel, h.handle = r.handle
MERGE (p)-[:HAS_HANDLE]->(h)
RETURN count(*) AS n
"""
Q_ITEMS = """
UNWIND $rows AS r
MERGE (i:Item {item_id: r.item_id})
SET i.seq = r.seq, i.topic = r.topic, i.brand = r.brand, i.name = r.name
RETURN count(*) AS n
"""
Q_COMMUNITIES = """
UNWIND $rows AS r
MERGE (c:Community {community_id: r.community_id})
SET c.seq = r.seq, c.topic = r.topic, c.brand = r.brand, c.name = r.name
RETURN count(*) AS n
"""
Q_EDGES = """
UNWIND $rows AS r
MATCH (a:Person) WHERE a.person_id = r.src
MATCH (b:{label}) WHERE b.{key} = r.dst
MERGE (a)-[e:{rtype} {{key: r.key}}]->(b)
SET e.seq = r.seq, e.topic = r.topic, e.weight = r.weight, e.sign = r.sign, e.ts = r.ts, e.channel = r.channel
RETURN count(*) AS n
"""
Q_PURCHASES = """
UNWIND $rows AS r
MATCH (c:Customer) WHERE c.customer_id = r.customer_id
MATCH (i:Item) WHERE i.item_id = r.item_id
MERGE (c)-[b:PURCHASED {key: r.key}]->(i)
SET b.seq = r.seq, b.amount = r.amount, b.ts = r.ts, b.order_id = r.order_id
RETURN count(*) AS n
"""

R_PEOPLE = """
MATCH (p:Person)
RETURN p.person_id AS person_id, p.customer_id AS customer_id, p.name AS name, p.brand AS brand,
       p.joined AS joined, p.last_active AS last_active
ORDER BY p.seq, p.person_id
"""
R_HANDLES = """
MATCH (p:Person)-[:HAS_HANDLE]->(h:Handle)
RETURN p.person_id AS person_id, h.channel AS channel, h.handle AS handle
ORDER BY h.seq, h.key
"""
R_ITEMS = "MATCH (i:Item) RETURN i.item_id AS item_id, i.topic AS topic, i.brand AS brand, i.name AS name ORDER BY i.seq, i.item_id"
R_COMMUNITIES = """
MATCH (c:Community)
RETURN c.community_id AS community_id, c.topic AS topic, c.brand AS brand, c.name AS name
ORDER BY c.seq, c.community_id
"""
R_EDGES = """
MATCH (a:Person)-[e:{rtype}]->(b:{label})
RETURN e.seq AS seq, a.person_id AS src, b.{key} AS dst, e.topic AS topic, e.weight AS weight,
       e.sign AS sign, e.ts AS ts, e.channel AS channel
"""
R_PURCHASES = """
MATCH (c:Customer)-[b:PURCHASED]->(i:Item)
RETURN c.customer_id AS customer_id, i.item_id AS item_id, b.amount AS amount, b.ts AS ts, b.order_id AS order_id
ORDER BY b.seq, b.key
"""

# --- the writer lock: one node per database, an owner and a lease (server time, ms since 1970).
# Each statement first writes lock_seq: on Neo4j that takes the node's write lock BEFORE the owner is
# read, so two writers cannot both see it free (the documented way to avoid a lost update); ArcadeDB
# detects the concurrent change and the driver retries the loser. A lease that ran out is free.
Q_LOCK_TAKE = """
MERGE (l:GraphkitLock {name: $name})
SET l.lock_seq = coalesce(l.lock_seq, 0) + 1
WITH l, (l.owner IS NULL OR l.owner = $owner OR l.expires IS NULL OR l.expires < timestamp()) AS free
SET l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.holder = CASE WHEN free THEN $holder ELSE l.holder END,
    l.expires = CASE WHEN free THEN timestamp() + $lease_ms ELSE l.expires END
RETURN l.owner AS owner, l.holder AS holder, l.expires - timestamp() AS left_ms
"""
Q_LOCK_RENEW = """
MATCH (l:GraphkitLock) WHERE l.name = $name
SET l.lock_seq = coalesce(l.lock_seq, 0) + 1
WITH l WHERE l.owner = $owner
SET l.expires = timestamp() + $lease_ms
RETURN count(*) AS n
"""
Q_LOCK_RELEASE = """
MATCH (l:GraphkitLock) WHERE l.name = $name
SET l.lock_seq = coalesce(l.lock_seq, 0) + 1
WITH l WHERE l.owner = $owner
SET l.owner = null, l.holder = null, l.expires = null
RETURN count(*) AS n
"""

# --- score runs
Q_RUN_START = """
MERGE (r:ScoreRun {run_id: $run_id})
SET r.status = 'writing', r.owner = $owner, r.parameters = $parameters, r.graphkit_version = $version,
    r.started = $started, r.finished = null, r.rows = null, r.topics = null
RETURN count(*) AS n
"""
Q_STATE = "OPTIONAL MATCH (s:GraphkitState) WHERE s.name = $state RETURN s.current_run AS current, s.previous_run AS previous"
# The switch, fenced by the lock: only the lock's owner can publish, and only a run it is writing.
Q_SWITCH = """
MATCH (l:GraphkitLock) WHERE l.name = $lock
SET l.lock_seq = coalesce(l.lock_seq, 0) + 1
WITH l WHERE l.owner = $owner
MATCH (r:ScoreRun) WHERE r.run_id = $run_id AND r.status = 'writing'
SET r.status = 'complete', r.finished = $finished, r.rows = $rows, r.topics = $topics
MERGE (s:GraphkitState {name: $state})
SET s.previous_run = CASE WHEN s.current_run = $run_id THEN s.previous_run ELSE s.current_run END,
    s.current_run = $run_id
RETURN count(*) AS n
"""
# Deleting a run: first un-publish it (status 'deleting', no longer the previous run) in one
# transaction, then delete its rows in batches, then the node: a kill half-way never leaves a run
# marked complete with part of its rows.
Q_RUN_UNPUBLISH = """
MATCH (r:ScoreRun) WHERE r.run_id = $run_id
SET r.status = 'deleting'
WITH r
OPTIONAL MATCH (s:GraphkitState) WHERE s.name = $state AND s.previous_run = $run_id
FOREACH (x IN CASE WHEN s IS NULL THEN [] ELSE [s] END | SET x.previous_run = null)
RETURN count(*) AS n
"""
Q_RUNS = """
MATCH (r:ScoreRun)
RETURN r.run_id AS run_id, r.status AS status, r.parameters AS parameters, r.graphkit_version AS version,
       r.started AS started, r.finished AS finished, r.rows AS rows, r.topics AS topics
ORDER BY r.started, r.run_id
"""
# --- a run's rows: one node per row, created (never merged) with no relationship, from a batch of columns.
# The layout is chosen for the write: a relationship costs two look-ups (and the MERGE of one a scan of
# the node's relationships), a map per row repeats its keys in every row, an index costs as much as the
# row itself; a node made from columns of values costs the values only. Rows join people on person_id
# and runs on run_id, by a scan of their label: a run's rows are read whole or by topic, a person's rows
# only to erase them.
#
# Each batch is guarded: it writes only while its run is being written by the lock's owner, and it
# creates its (:RunBatch {key}) -- the run id, the stream (a table and topic, or a Spark partition) and
# the batch's number -- in the same transaction as its rows. The key is unique: a batch sent again
# (a retry after a lost commit reply, a Spark task run twice) fails on it and writes nothing, so every
# batch is written once, whichever writer sends it and in whatever order. The batch also sets a property
# of its run node: the next writer un-publishes a run (a write to that node) before deleting its rows, so a
# batch of a writer paused past its lease either commits before that (its rows are then deleted with the
# run) or conflicts with it and writes nothing -- never rows left behind under a deleted run.
RUN_GUARD = """
MATCH (run:ScoreRun) WHERE run.run_id = $run_id AND run.owner = $owner AND run.status = 'writing'
SET run.last_batch = $batch_key
CREATE (:RunBatch {key: $batch_key, run_id: $run_id})
WITH run
"""
#: Properties of an (:InfluenceRow), in the order of a row's values (``topic`` and ``run_id`` are per batch).
INFLUENCE_ROW_PROPERTIES: tuple[str, ...] = (
    "person_id", "score", "rank", "percentile", "audience", "active_audience", "credibility", "community",
)
#: The bootstrap columns written after them when the run has them (see graphkit.scoring.uncertainty).
UNCERTAINTY_PROPERTIES: tuple[str, ...] = ("score_low", "score_high", "rank_low", "rank_high", "p_top_1", "p_top_10")
#: Properties of a (:LoyaltyRow), in order.
LOYALTY_ROW_PROPERTIES: tuple[str, ...] = (
    "customer_id", "person_id", "recency_days", "frequency", "monetary", "tenure_days", "r_score", "f_score",
    "m_score", "loyalty_score",
)
#: Properties of a (:TopicSummary): per topic of a run, what was scored and what was written.
TOPIC_SUMMARY_PROPERTIES: tuple[str, ...] = (
    "topic", "people", "nonzero", "written", "left_out_percentile", "top_score", "members", "members_written",
    "communities",
)
#: Properties of a (:CommunitySummary): one per community of a topic (graphkit.scoring.community's summary).
COMMUNITY_SUMMARY_PROPERTIES: tuple[str, ...] = (
    "topic", "community", "size", "top_influencers", "customers", "customer_share", "brand_community",
    "brand_overlap", "brand_jaccard", "brand_share", "modularity_contribution",
)
#: The labels of a run's rows (each row carries its run_id).
RUN_ROW_LABELS: tuple[str, ...] = ("InfluenceRow", "LoyaltyRow", "TopicSummary", "CommunitySummary", "RunBatch")


def create_rows(label: str, properties: Sequence[str], *, per_batch: Sequence[str] = ()) -> str:
    """The guarded statement that creates one ``label`` node per row of ``$c``, a map of columns.

    ``$c.<property>`` holds the values of ``properties``, one list each, all
    of the same length; ``per_batch`` properties come from the parameter of
    the same name, and ``run_id`` from ``$run_id``.

    >>> q = create_rows("LoyaltyRow", ("customer_id", "frequency"))
    >>> "CREATE (:LoyaltyRow {run_id: $run_id, customer_id: $c.customer_id[i], frequency: $c.frequency[i]})" in q
    True
    """
    fields = ["run_id: $run_id", *(f"{identifier(p)}: ${identifier(p)}" for p in per_batch),
              *(f"{identifier(p)}: $c.{identifier(p)}[i]" for p in properties)]
    return RUN_GUARD + (f"UNWIND range(0, size($c.{identifier(properties[0])}) - 1) AS i\n"
                        f"CREATE (:{identifier(label)} {{{', '.join(fields)}}})\nRETURN count(*) AS n\n")


#: Person ids (``$ids``) that are in the database: rows are written only for people loaded before.
R_KNOWN_PEOPLE = "UNWIND $ids AS id MATCH (p:Person) WHERE p.person_id = id RETURN collect(id) AS found"

#: Who writes run ``$run_id`` and whether its batch ``$batch_key`` is written (null key: not asked).
R_RUN_OWNER = """MATCH (r:ScoreRun) WHERE r.run_id = $run_id
OPTIONAL MATCH (b:RunBatch) WHERE b.key = $batch_key
RETURN r.owner AS owner, r.status AS status, b IS NOT NULL AS written"""


def batch_key(run_id: str, stream: str, number: int) -> str:
    r"""The key of a run's batch: its run id, its stream and its number, apart by a unit separator (see
    ``RUN_GUARD``).

    >>> batch_key("nightly-1", "influence/books", 3)
    'nightly-1\x1finfluence/books\x1f3'
    """
    return f"{run_id}\x1f{stream}\x1f{number}"


# deletions of one run, a batch at a time (each its own transaction)
def purge_rows(label: str) -> str:
    """Delete up to ``$limit`` row nodes ``label`` of run ``$run_id``."""
    return f"MATCH (s:{identifier(label)}) WHERE s.run_id = $run_id WITH s LIMIT $limit DELETE s RETURN count(*) AS n"


#: The rows of runs written by graphkit's first layout (relationships), deleted with their run too.
Q_PURGE_LEGACY: tuple[str, ...] = (
    "MATCH (:Topic)<-[s:INFLUENCE]-() WHERE s.run_id = $run_id WITH s LIMIT $limit DELETE s RETURN count(*) AS n",
    "MATCH (:Topic)<-[s:IN_COMMUNITY]-() WHERE s.run_id = $run_id WITH s LIMIT $limit DELETE s RETURN count(*) AS n",
    "MATCH (r:ScoreRun)<-[s:LOYALTY]-() WHERE r.run_id = $run_id WITH s LIMIT $limit DELETE s RETURN count(*) AS n",
)
Q_DELETE_RUN = "MATCH (r:ScoreRun) WHERE r.run_id = $run_id DETACH DELETE r RETURN count(*) AS n"

R_INFLUENCE = """
MATCH (s:InfluenceRow)
WHERE s.run_id = $run_id AND ($topics IS NULL OR s.topic IN $topics)
RETURN s.person_id AS person_id, s.topic AS topic, s.score AS score, s.rank AS rank, s.percentile AS percentile,
       s.audience AS audience, s.active_audience AS active_audience, s.credibility AS credibility
"""
#: Read the bootstrap columns of a run's influence rows (null where the run has none).
R_INFLUENCE_UNCERTAINTY = """MATCH (s:InfluenceRow) WHERE s.run_id = $run_id
RETURN s.person_id AS person_id, s.topic AS topic, s.score_low AS score_low, s.score_high AS score_high,
       s.rank_low AS rank_low, s.rank_high AS rank_high, s.p_top_1 AS p_top_1, s.p_top_10 AS p_top_10
"""
R_COMMUNITIES_RUN = """
MATCH (s:InfluenceRow)
WHERE s.run_id = $run_id AND s.community IS NOT NULL
RETURN s.person_id AS person_id, s.topic AS topic, s.community AS community
"""
R_LOYALTY = """
MATCH (l:LoyaltyRow) WHERE l.run_id = $run_id
RETURN l.customer_id AS customer_id, l.person_id AS person_id, l.recency_days AS recency_days,
       l.frequency AS frequency, l.monetary AS monetary, l.tenure_days AS tenure_days, l.r_score AS r_score,
       l.f_score AS f_score, l.m_score AS m_score, l.loyalty_score AS loyalty_score
"""
R_TOPIC_SUMMARY = "MATCH (s:TopicSummary) WHERE s.run_id = $run_id RETURN " + ", ".join(
    f"s.{p} AS {p}" for p in TOPIC_SUMMARY_PROPERTIES)
R_COMMUNITY_SUMMARY = "MATCH (s:CommunitySummary) WHERE s.run_id = $run_id RETURN " + ", ".join(
    f"s.{p} AS {p}" for p in COMMUNITY_SUMMARY_PROPERTIES)
R_LAST_PURCHASE = "MATCH (:Customer)-[b:PURCHASED]->(:Item) RETURN max(b.ts) AS last"

# The flagship query: statements run in ONE read transaction. Loyalty follows
# graphkit.marketing.loyalty exactly: quantile score = 1 + number of quintile cut points
# strictly below the value, the cut points being the values at positions
# ceil(s*n/5) - 1 (s = 1..4) of the sorted values (n = customers with a
# value); that equals 1 + floor(5 * below / n) with ties sharing. The cut
# points of recency, frequency and monetary are computed first, one small
# statement each, then passed to the main statement: sorting three ways in one
# statement means carrying the customer list through a sort, which ArcadeDB
# charges to every buffered row (it ran out of query heap on Ciao).
Q_RFM = """
MATCH (c:Customer)-[b:PURCHASED]->()
WHERE b.ts <= $as_of AND ($start IS NULL OR b.ts > $start)
WITH c.customer_id AS cid, b.ts AS ts, b.amount AS amount,
     CASE WHEN b.order_id IS NULL THEN 'line:' + elementId(b) ELSE 'o:' + b.order_id END AS order_key
WITH cid, max(ts) AS last, count(DISTINCT order_key) AS frequency, sum(amount) AS amount_sum,
     count(amount) AS known
WITH cid, last, frequency, CASE WHEN known > 0 THEN amount_sum END AS monetary
"""
Q_CUTS = Q_RFM + """
WITH {value} AS v WHERE v IS NOT NULL
WITH v ORDER BY v
WITH collect(v) AS vs
RETURN [s IN range(1, 4) WHERE size(vs) > 0 | vs[(s * size(vs) + 4) / 5 - 1]] AS cuts
"""
Q_INFLUENTIAL_LOYAL = Q_RFM + """
WITH cid, last, frequency, monetary,
     1 + size([v IN $rcut WHERE v < last]) AS r_score,
     1 + size([v IN $fcut WHERE v < frequency]) AS f_score,
     CASE WHEN monetary IS NULL THEN null ELSE 1 + size([v IN $mcut WHERE v < monetary]) END AS m_score
WITH cid, last, frequency, monetary,
     CASE WHEN m_score IS NULL THEN toFloat(r_score + f_score - 2) / 8.0
          ELSE toFloat(r_score + f_score + m_score - 3) / 12.0 END AS loyalty_score
WHERE loyalty_score >= $min_loyalty
MATCH (c:Customer) WHERE c.customer_id = cid
RETURN c.person_id AS person_id, cid AS customer_id, frequency, monetary, loyalty_score,
       toFloat($as_of_us - {epoch_last}) / 86400000000.0 AS recency_days
""".replace("{epoch_last}", epoch_us_cypher("last"))

# The flagship query over the loyalty the run wrote (its rows were computed by graphkit.marketing.loyalty
# from the same transactions, as of the date recorded on the run): used when the query asks for that date
# and window. No purchase is read: the run's loyalty rows at the threshold and its influence rows of the
# topics above the percentile cut (R_INFLUENCE_ABOVE), joined on person_id and ranked in Python. (A
# look-up of each influence row's loyalty row by its index cost 0.2 ms a row on ArcadeDB: 1-3 s on Ciao.)
R_LOYALTY_AT_LEAST = """
MATCH (l:LoyaltyRow) WHERE l.run_id = $run_id AND l.loyalty_score >= $min_loyalty
RETURN l.person_id AS person_id, l.customer_id AS customer_id, l.recency_days AS recency_days,
       l.frequency AS frequency, l.monetary AS monetary, l.loyalty_score AS loyalty_score
"""
#: The run's influence rows of the topics above the percentile cut, for the flagship to join with loyalty
#: (in Python: the rows have no index, so a look-up per customer would scan them once per customer).
R_INFLUENCE_ABOVE = """
MATCH (s:InfluenceRow) WHERE s.run_id = $run_id AND s.topic IN $topics AND s.percentile > $cut
RETURN s.topic AS topic, s.person_id AS person_id, s.score AS score, s.rank AS rank, s.percentile AS percentile,
       s.audience AS audience, s.active_audience AS active_audience, s.credibility AS credibility
"""

# --- erasure: a person and everything about her, in ONE write transaction (see Neo4jStore.erase_people).
# Ids travel only in $ids. First what will go, by relationship type and run (each relationship once, even
# between two people being erased; LOYALTY points at its ScoreRun), then her handles, then her node with
# every relationship (edges both ways, purchases, influence, communities, loyalty), then the runs' row
# counts, then the log entry, which holds keyed hashes of the ids, never the ids.
R_ERASE_COUNTS = """
MATCH (p:Person)-[r]-() WHERE p.person_id IN $ids
WITH DISTINCT r
RETURN type(r) AS type, coalesce(r.run_id, endNode(r).run_id) AS run_id, count(*) AS n
"""
Q_ERASE_HANDLES = """
MATCH (p:Person)-[:HAS_HANDLE]->(h:Handle) WHERE p.person_id IN $ids
DETACH DELETE h
RETURN count(*) AS n
"""
Q_ERASE_PEOPLE = "MATCH (p:Person) WHERE p.person_id IN $ids DETACH DELETE p RETURN count(*) AS n"
#: A person's rows in every run: (run, table, rows), then their deletion (one statement per label).
R_ERASE_RUN_ROWS: tuple[str, ...] = (
    "MATCH (s:InfluenceRow) WHERE s.person_id IN $ids "
    "RETURN s.run_id AS run_id, 'influence' AS table, count(*) AS n",
    "MATCH (s:InfluenceRow) WHERE s.person_id IN $ids AND s.community IS NOT NULL "
    "RETURN s.run_id AS run_id, 'communities' AS table, count(*) AS n",
    "MATCH (s:LoyaltyRow) WHERE s.person_id IN $ids RETURN s.run_id AS run_id, 'loyalty' AS table, count(*) AS n",
)
Q_ERASE_RUN_ROWS: tuple[str, ...] = (
    "MATCH (s:InfluenceRow) WHERE s.person_id IN $ids DELETE s RETURN count(*) AS n",
    "MATCH (s:LoyaltyRow) WHERE s.person_id IN $ids DELETE s RETURN count(*) AS n",
)
R_RUN_ROWS = "MATCH (r:ScoreRun) WHERE r.run_id IN $runs RETURN r.run_id AS run_id, r.rows AS rows"
Q_RUN_ROWS = """
UNWIND $rows AS x
MATCH (r:ScoreRun) WHERE r.run_id = x.run_id
SET r.rows = x.rows
RETURN count(*) AS n
"""
Q_ERASURE_LOG = """
CREATE (e:GraphkitErasure {at: $at, erased: $erased, removed: $removed, graphkit_version: $version})
RETURN count(*) AS n
"""
R_ERASURES = """
MATCH (e:GraphkitErasure)
RETURN e.at AS at, e.erased AS erased, e.removed AS removed, e.graphkit_version AS graphkit_version
ORDER BY e.at
"""
#: Relationship type -> the table its rows are in (run tables are prefixed with their run id).
ERASED_TABLES: dict[str, str] = {
    **{rtype: "edges" for rtype, _, _ in EDGE_TYPES.values()},
    "HAS_HANDLE": "handles",
    "PURCHASED": "transactions",
    "INFLUENCE": "influence",
    "IN_COMMUNITY": "communities",
    "LOYALTY": "loyalty",
}
