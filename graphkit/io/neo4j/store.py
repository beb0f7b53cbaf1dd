"""Neo4j as the store of record for batch jobs (its Cypher is in :mod:`graphkit.io.neo4j.cypher`).

A :class:`Neo4jStore` talks to a Neo4j 5 server (or anything that speaks Bolt
and openCypher, such as ArcadeDB) through the official ``neo4j`` driver:

- :meth:`~Neo4jStore.setup_schema`: uniqueness constraints and indexes
  (idempotent: ``IF NOT EXISTS``).
- :meth:`~Neo4jStore.load`: a dataset folder or a :class:`~graphkit.model.graph.TopicGraph`
  into the database, in batched ``UNWIND $rows ... MERGE`` transactions.
  Loading twice leaves one copy: every node has its key, every relationship a
  ``key`` derived from its content (and its position among identical rows).
- :meth:`~Neo4jStore.read`: the same ``TopicGraph`` back (round trip exact).
- :meth:`~Neo4jStore.write_scores`: influence, communities and loyalty under a
  run id, with the parameters and the graphkit version; readers only see a
  run once it is complete (see "Runs" below).
- :meth:`~Neo4jStore.influential_loyal_customers`: the flagship query in
  Cypher over ``PURCHASED`` edges; it returns the same rows as
  :func:`graphkit.marketing.loyalty.influential_loyal_customers`.

Graph model
-----------
``(:Person {person_id, customer_id, name, brand, joined, last_active})``, with
the extra label ``:Customer`` when ``customer_id`` is set;
``(:Item {item_id, topic, brand, name})``; ``(:Community {community_id, topic,
brand, name})``; ``(:Topic {name})``; ``(:Person)-[:HAS_HANDLE]->(:Handle
{key, channel, handle})``. Edges of kind *k* are relationships of type
``K`` (``FOLLOWS``, ``MENTIONS``, ``REPLIES``, ``SHARES``, ``REVIEWS`` to an
Item, ``MEMBER_OF`` to a Community, ``REFERRED``) with ``{topic, weight, sign,
ts, channel}``; purchases are ``(:Customer)-[:PURCHASED {amount, ts,
order_id}]->(:Item)``. Nodes and relationships also carry ``seq`` (their row
in the source table) so :meth:`read` returns rows in the original order.

Scores: ``(:Person)-[:INFLUENCE {run_id, score, rank, percentile, audience,
active_audience, credibility}]->(:Topic)``, ``(:Person)-[:IN_COMMUNITY
{run_id, community}]->(:Topic)`` and ``(:Customer)-[:LOYALTY {recency_days,
...}]->(:ScoreRun)``.

Safety
------
Labels, relationship types and property names are fixed in this module;
nothing that comes from data (topic names, ids) ever becomes one. Data
values travel only as query parameters, so a topic named
``x'}) DETACH DELETE n //`` is just a string.

Runs
----
One writer at a time: :meth:`~Neo4jStore.writing` (taken by
:meth:`~Neo4jStore.write_scores`, :meth:`~Neo4jStore.load` and
:meth:`~Neo4jStore.clear`) holds the database's ``(:GraphkitLock)`` node: an
owner and a lease, taken in a write transaction and renewed by a heartbeat
while the writer lives. Another writer waits up to ``wait`` seconds, then
raises :class:`~graphkit.errors.WriterBusyError` (``graphkit`` exits with 4);
a lease left by a killed writer runs out after ``lease`` seconds and the next
writer takes it over.

:meth:`~Neo4jStore.write_scores` first removes what killed writers left (runs
not complete: their rows, then their node), then writes every row under the
new run id while the ``(:GraphkitState {name: 'scores'})`` pointer still names
the previous run, then in ONE transaction (which checks it still owns the
lock) marks the run complete and moves the pointer. Readers resolve the
pointer first, so they see the old run or the new one, never a mix; a run
read by its id must be complete. The previous run is kept (``keep_runs``) so
a reader that resolved the pointer just before the switch still finds its
rows; older runs are deleted afterwards, un-published first (status
``deleting``) so a kill during the deletion never leaves a complete-looking
run with part of its rows. A run id names one complete write: writing a run
id that is already complete is refused (a run killed before it completed
is rewritten from scratch).

Connection
----------
Settings come from ``NEO4J_URI`` (default ``bolt://localhost:7687``),
``NEO4J_USERNAME`` (default ``neo4j``), ``NEO4J_PASSWORD`` and
``NEO4J_DATABASE`` (default: the server's default database). The password
is never printed or logged. Writes and reads use the driver's managed
transactions, which retry transient errors and dropped connections with
exponential backoff (up to ``max_retry_time`` seconds). An unreachable
server raises :class:`Neo4jUnavailableError` (``graphkit`` exits with 3);
refused credentials raise :class:`~graphkit.errors.StoreError`.

>>> s = Neo4jSettings.from_env({"NEO4J_URI": "bolt://db:7687", "NEO4J_PASSWORD": "s3cret"})
>>> (s.uri, s.user, s.database), "s3cret" in repr(s)
(('bolt://db:7687', 'neo4j', None), False)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError, MissingDependencyError, StoreError, WriterBusyError
from graphkit.io.neo4j.cypher import (
    COMMUNITY_SUMMARY_PROPERTIES,
    EDGE_TYPES,
    ERASED_TABLES,
    INFLUENCE_ROW_PROPERTIES,
    LOCK_NAME,
    LOYALTY_ROW_PROPERTIES,
    Q_COMMUNITIES,
    Q_CUSTOMER_LABEL,
    Q_CUTS,
    Q_DELETE_RUN,
    Q_EDGES,
    Q_ERASE_HANDLES,
    Q_ERASE_PEOPLE,
    Q_ERASE_RUN_ROWS,
    Q_ERASURE_LOG,
    Q_HANDLES,
    Q_INFLUENTIAL_LOYAL,
    Q_ITEMS,
    Q_LOCK_RELEASE,
    Q_LOCK_RENEW,
    Q_LOCK_TAKE,
    Q_PEOPLE,
    Q_PING,
    Q_PURCHASES,
    Q_PURGE_LEGACY,
    Q_RUN_ROWS,
    Q_RUN_START,
    Q_RUN_UNPUBLISH,
    Q_RUNS,
    Q_STATE,
    Q_SWITCH,
    Q_TOPICS,
    R_COMMUNITIES,
    R_COMMUNITIES_RUN,
    R_COMMUNITY_SUMMARY,
    R_EDGES,
    R_ERASE_COUNTS,
    R_ERASE_RUN_ROWS,
    R_ERASURES,
    R_HANDLES,
    R_INFLUENCE,
    R_INFLUENCE_ABOVE,
    R_INFLUENCE_UNCERTAINTY,
    R_ITEMS,
    R_KNOWN_PEOPLE,
    R_LAST_PURCHASE,
    R_LOYALTY,
    R_LOYALTY_AT_LEAST,
    R_PEOPLE,
    R_PURCHASES,
    R_RUN_OWNER,
    R_RUN_ROWS,
    R_TOPIC_SUMMARY,
    RUN_ROW_LABELS,
    SCHEMA_STATEMENTS,
    STATE_NAME,
    TOPIC_SUMMARY_PROPERTIES,
    UNCERTAINTY_PROPERTIES,
    batch_key,
    create_rows,
    delete_nodes_batch,
    identifier,
    purge_rows,
)
from graphkit.io.ownership import BUSY_HINT, DEFAULT_WAIT, check_wait, holder_text
from graphkit.marketing.loyalty import (
    INFLUENCE_COLUMNS,
    LOYALTY_COLUMNS,
    RESULT_COLUMNS,
    check_window,
    resolve_as_of,
)
from graphkit.model.graph import TopicGraph
from graphkit.model.schema import TABLES, TIMESTAMP
from graphkit.progress import track

if TYPE_CHECKING:  # pragma: no cover
    import neo4j

__all__ = ["Neo4jStore", "Neo4jSettings", "Neo4jUnavailableError", "LoadReport", "WriteReport", "RunInfo"]

BOLT_SCHEMES: tuple[str, ...] = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
#: Seconds a writer's lease on the database lasts without renewal (its heartbeat renews it 4 times as often).
DEFAULT_LEASE = 60.0
#: An old run's rows are deleted this many batches (``batch_size`` rows each) per transaction: each
#: transaction scans the label for the run's rows, so few large ones (100k rows at the default batch size;
#: a delete costs ArcadeDB ~10 us a row and such a transaction stays well inside its heap).
PURGE_BATCHES = 5
_US_PER_DAY = 86_400_000_000


class Neo4jUnavailableError(StoreError):
    """The Neo4j server cannot be reached (down, wrong address, network): retry later."""

    unavailable = True


def _driver_module():
    try:
        import neo4j
    except ImportError:  # pragma: no cover - neo4j is a declared dependency
        raise MissingDependencyError("neo4j", purpose="the Neo4j store") from None
    return neo4j


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class Neo4jSettings:
    """Where and how to connect; the password is kept out of ``repr``."""

    uri: str = "bolt://localhost:7687"
    user: str = "neo4j"
    password: str | None = field(default=None, repr=False)
    database: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Neo4jSettings:
        """Settings from ``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``.

        Keyword overrides (``uri=``, ``user=``, ``password=``, ``database=``)
        win when not None.
        """
        env = os.environ if environ is None else environ
        values = {
            "uri": env.get("NEO4J_URI") or cls.uri,
            "user": env.get("NEO4J_USERNAME") or cls.user,
            "password": env.get("NEO4J_PASSWORD"),
            "database": env.get("NEO4J_DATABASE") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def shown_uri(self) -> str:
        """The URI safe to print (see :func:`mask_uri`)."""
        return mask_uri(self.uri)


def mask_uri(uri: str) -> str:
    """``uri`` safe to print: no user name or password, whatever characters they hold, and no query or fragment.

    Everything up to the last ``@`` is user information (a password may hold
    ``@``, ``/``, ``?`` or ``#``); query parameters may carry credentials too.

    >>> mask_uri("bolt://neo4j:p@ss/w?rd#1@db.example:7687?password=s3cret")
    'bolt://db.example:7687'
    >>> mask_uri("neo4j+s://db:7687")
    'neo4j+s://db:7687'
    """
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*://)?(.*)", uri, re.S)
    scheme, rest = m.group(1) or "", m.group(2)
    if "@" in rest:
        rest = rest[rest.rfind("@") + 1:]
    return scheme + re.split(r"[?#]", rest, maxsplit=1)[0]


def uri_secrets(uri: str) -> list[str]:
    """The parts of ``uri`` that :func:`mask_uri` hides: user information, query, fragment and each value.

    >>> uri_secrets("bolt://u:pw@db:7687?token=abc")
    ['u:pw', 'pw', '?token=abc', 'abc']
    """
    rest = uri.split("://", 1)[-1]
    out: list[str] = []
    if "@" in rest:
        info, rest = rest[: rest.rfind("@")], rest[rest.rfind("@") + 1:]
        out += [info, *info.split(":", 1)[1:]]
    tail = re.search(r"[?#].*", rest, re.S)
    if tail:
        out.append(tail.group(0))
        out += [v for part in re.split(r"[?#&;]", tail.group(0)) if "=" in part for v in [part.split("=", 1)[1]] if v]
    return out


# ------------------------------------------------------------------- reports
@dataclass(frozen=True)
class LoadReport:
    """What :meth:`Neo4jStore.load` wrote: rows per table, batch size, seconds (in all and per table)."""

    rows: dict[str, int]
    batch_size: int
    seconds: float
    seconds_by_table: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class WriteReport:
    """What :meth:`Neo4jStore.write_scores` wrote under ``run_id``."""

    run_id: str
    rows: dict[str, int]
    parameters: dict
    version: str
    seconds: float
    batch_size: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class RunInfo:
    """A score run as recorded in the database."""

    run_id: str
    status: str
    parameters: dict
    version: str
    started: dt.datetime | None
    finished: dt.datetime | None
    rows: dict[str, int]
    topics: tuple[str, ...] = ()


# ------------------------------------------------------------ value helpers
def _utc(value: Any) -> dt.datetime | None:
    """A driver temporal value as an aware UTC datetime (ArcadeDB returns stored ones without zone)."""
    if value is None:
        return None
    if hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    raise StoreError(f"expected a datetime from Neo4j, got {type(value).__name__} {value!r}")


def _records(df: pl.DataFrame) -> list[dict]:
    """Rows as dicts for ``$rows``; datetimes as aware UTC datetimes (stored as Neo4j DateTime)."""
    out = df.to_dicts()
    dt_cols = [c for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
    if dt_cols:
        for row in out:
            for c in dt_cols:
                v = row[c]
                if v is not None:
                    row[c] = v.replace(tzinfo=dt.timezone.utc)
    return out


def _chunks(rows: list, size: int) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _occurrence_key(df: pl.DataFrame, parts: Sequence[str], group: Sequence[str]) -> pl.Expr:
    """A key naming a row by its content plus its position among identical rows (for idempotent MERGE)."""
    texts = []
    for c in parts:
        col = pl.col(c)
        if isinstance(df.schema[c], pl.Datetime):
            col = col.dt.epoch("us")
        texts.append(pl.concat_str(pl.lit("="), col.cast(pl.String)).fill_null("~"))
    n = pl.int_range(pl.len()).over(list(group)).cast(pl.String)
    return pl.concat_str([*texts, pl.concat_str(pl.lit("#"), n)], separator="|")


_RESULT_SCHEMA: dict[str, pl.DataType] = {
    "topic": pl.String(), "loyal_rank": pl.UInt32(), "person_id": pl.String(), "customer_id": pl.String(),
    "fit": pl.Float64(), **{c: t for c, t in INFLUENCE_COLUMNS.items() if c not in ("person_id", "topic")},
    "recency_days": pl.Float64(), "frequency": pl.Int64(), "monetary": pl.Float64(), "loyalty_score": pl.Float64(),
}
_LOYALTY_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(), "person_id": pl.String(), "recency_days": pl.Float64(), "frequency": pl.Int64(),
    "monetary": pl.Float64(), "tenure_days": pl.Float64(), "r_score": pl.Int8(), "f_score": pl.Int8(),
    "m_score": pl.Int8(), "loyalty_score": pl.Float64(),
}
_COMMUNITY_SCHEMA: dict[str, pl.DataType] = {"person_id": pl.String(), "topic": pl.String(), "community": pl.Int64()}
COMMUNITY_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "topic": pl.String(), "community": pl.Int64(), "size": pl.Int64(), "top_influencers": pl.List(pl.String()),
    "customers": pl.Int64(), "customer_share": pl.Float64(), "brand_community": pl.String(),
    "brand_overlap": pl.Int64(), "brand_jaccard": pl.Float64(), "brand_share": pl.Float64(),
    "modularity_contribution": pl.Float64(),
}
TOPIC_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "topic": pl.String(), "people": pl.Int64(), "nonzero": pl.Int64(), "written": pl.Int64(),
    "left_out_percentile": pl.Float64(), "top_score": pl.Float64(), "members": pl.Int64(),
    "members_written": pl.Int64(), "communities": pl.Int64(),
}


# ------------------------------------------------------------------- store
class Neo4jStore:
    """A graphkit dataset and its score runs in a Neo4j database.

    Create one with keyword settings or from the environment
    (:meth:`Neo4jSettings.from_env`); ``driver=`` reuses an open driver. Use
    it as a context manager, or call :meth:`close`. ``batch_size`` rows go in
    each write transaction; ``progress`` prints batch progress on stderr.
    ``wait`` is how long a writer waits for another writer's lock (seconds),
    ``lease`` how long a lock outlives a writer that stopped renewing it.
    Opening a store does not connect; the first query (or :meth:`verify`) does.

    With a server (see ``docs/neo4j.md``)::

        with Neo4jStore(batch_size=20_000) as store:   # NEO4J_URI, NEO4J_USERNAME, ...
            store.load(graph)
            store.write_scores(influence=topic_influence(graph).table, run_id="nightly-1")
            store.influential_loyal_customers(topics=["DVDs"], top_percentile=10, min_loyalty=0.5)

    Without one, errors are one line and say what to do:

    >>> store = Neo4jStore(Neo4jSettings(uri="bolt://127.0.0.1:1", password="secret"), connection_timeout=2)
    >>> try:
    ...     store.verify()
    ... except Neo4jUnavailableError as exc:
    ...     print(exc)
    cannot reach Neo4j at bolt://127.0.0.1:1 (ServiceUnavailable); is the server running? Set NEO4J_URI to its bolt:// or neo4j:// address
    >>> store.close()
    """

    def __init__(
        self,
        settings: Neo4jSettings | None = None,
        *,
        driver: "neo4j.Driver | None" = None,
        batch_size: int = 20_000,
        progress: bool = False,
        max_retry_time: float = 30.0,
        connection_timeout: float = 10.0,
        wait: float = DEFAULT_WAIT,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise GraphkitError(f"batch_size must be a positive integer, got {batch_size!r}")
        if check_wait(lease) < 1:
            raise GraphkitError(f"lease must be at least 1 second, got {lease!r}")
        self.settings = settings or Neo4jSettings.from_env()
        self.batch_size = batch_size
        self.progress = progress
        self.wait = check_wait(wait)
        self.lease = float(lease)
        self._lock_owner: str | None = None  # this store's token while it holds the writer lock
        self._lock_depth = 0
        self._lock_lost = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._heartbeat_stop = threading.Event()
        self._own_driver = driver is None
        if driver is None:
            scheme = self.settings.uri.split("://", 1)[0] if "://" in self.settings.uri else ""
            if "@" in self.settings.uri.split("://", 1)[-1]:
                raise StoreError(f"NEO4J_URI {self.settings.shown_uri!r} carries a user name or password: put them "
                                 f"in NEO4J_USERNAME and NEO4J_PASSWORD instead")
            if scheme not in BOLT_SCHEMES:
                raise StoreError(f"NEO4J_URI {self.settings.shown_uri!r} is not a Bolt address: use "
                                 f"bolt://host:7687 or neo4j://host:7687 (schemes: {', '.join(BOLT_SCHEMES)})")
            nj = _driver_module()
            auth = (self.settings.user, self.settings.password) if self.settings.password is not None else None
            with self._errors():
                driver = nj.GraphDatabase.driver(
                    self.settings.uri, auth=auth, max_transaction_retry_time=max_retry_time,
                    connection_timeout=connection_timeout, connection_acquisition_timeout=connection_timeout,
                )
        self._driver = driver

    # -------------------------------------------------------------- plumbing
    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the driver (when this store opened it)."""
        if self._own_driver and self._driver is not None:
            self._driver.close()
        self._driver = None

    def __repr__(self) -> str:
        db = f", database={self.settings.database!r}" if self.settings.database else ""
        return f"Neo4jStore({self.settings.shown_uri!r}{db})"

    def _errors(self):
        return _translate_errors(self.settings)

    def verify(self) -> None:
        """Check the server answers and accepts the credentials; raise a one-line StoreError if not."""
        with self._errors():
            self._driver.verify_connectivity()
            with self._session() as s:
                s.run(Q_PING).consume()

    @contextmanager
    def batch_session(self) -> Iterator["neo4j.Session"]:
        """A session for :func:`write_batch`, with driver errors turned into one-line store errors."""
        with self._errors(), self._session() as session:
            yield session

    def _session(self):
        return self._driver.session(database=self.settings.database) if self.settings.database else self._driver.session()

    def _write(self, query: str, params: dict | None = None) -> int:
        """One managed write transaction (retried on transient errors); returns column ``n`` of the single row."""
        with self._errors(), self._session() as s:
            return s.execute_write(_count_rows, query, params or {})

    def _read(self, query: str, params: dict | None = None) -> list[dict]:
        with self._errors(), self._session() as s:
            return s.execute_read(_fetch, query, params or {})

    def _write_rows(self, query: str, rows: list[dict], label: str, params: dict | None = None,
                    *, batch_size: int | None = None) -> int:
        """``rows`` in batches of ``batch_size``, each batch one managed transaction; every row must land."""
        size = batch_size or self.batch_size
        written = 0
        batches = list(_chunks(rows, size))
        with self._errors(), self._session() as s:
            for batch in track(batches, label, total=len(batches), enabled=self.progress and len(batches) > 1):
                n = s.execute_write(_count_rows, query, {**(params or {}), "rows": batch})
                if n != len(batch):
                    raise StoreError(
                        f"{label}: {len(batch) - n} of {len(batch)} rows found no matching node (an id that is not "
                        f"in the database); load the graph first with graphkit score --source PATH --write neo4j "
                        f"or Neo4jStore.load"
                    )
                written += n
        return written

    # ---------------------------------------------------------------- schema
    def setup_schema(self) -> None:
        """Create graphkit's uniqueness constraints and indexes if they are not there, and drop the index of
        earlier versions that no query uses (idempotent)."""
        for statement in SCHEMA_STATEMENTS:
            with self._errors(), self._session() as s:
                s.run(statement).consume()

    # ---------------------------------------------------------- the lock
    @contextmanager
    def writing(self, *, wait: float | None = None) -> Iterator[None]:
        """Hold the database's writer lock for the block (re-entrant within this store).

        Waits up to ``wait`` seconds (default: the store's ``wait``) for
        another writer, then raises :class:`~graphkit.errors.WriterBusyError`.
        While held, a heartbeat thread renews the lease every ``lease / 4`` s.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self._take_lock(self.wait if wait is None else check_wait(wait))
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            self._release_lock()

    def _take_lock(self, wait: float) -> None:
        self.setup_schema()
        owner = uuid.uuid4().hex
        params = {"name": LOCK_NAME, "owner": owner, "holder": holder_text(), "lease_ms": int(self.lease * 1000)}
        start, delay = time.monotonic(), 0.05
        while True:
            try:
                with self._errors(), self._session() as s:
                    rec = s.execute_write(_fetch, Q_LOCK_TAKE, params)[0]
            except StoreError as exc:
                # two writers creating the lock node at once: the loser hits the uniqueness constraint; retry
                if "ConstraintValidationFailed" not in str(exc):
                    raise
                rec = {"owner": None, "holder": None, "left_ms": None}
            if rec["owner"] == owner:
                break
            left = wait - (time.monotonic() - start)
            if left <= 0:
                holder = rec["holder"] or "holder unknown"
                if rec["left_ms"] is not None:
                    holder += f"; its lease ends in {max(0, rec['left_ms']) / 1000:.0f} s unless it renews it"
                raise WriterBusyError(f"Neo4j at {self.settings.shown_uri}", holder, wait, BUSY_HINT)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.5)
        self._lock_owner = owner
        self._lock_lost.clear()
        self._heartbeat_stop.clear()
        self._heartbeat = threading.Thread(target=self._renew, name="graphkit-neo4j-lease", daemon=True)
        self._heartbeat.start()

    def _renew(self) -> None:
        """Heartbeat: renew the lease until told to stop; flag the lock as lost if another writer took it."""
        params = {"name": LOCK_NAME, "owner": self._lock_owner, "lease_ms": int(self.lease * 1000)}
        while not self._heartbeat_stop.wait(self.lease / 4) and self._driver is not None:
            try:
                if self._write(Q_LOCK_RENEW, params) == 0:
                    self._lock_lost.set()
                    return
            except Exception:  # unreachable for a moment (or closing): try again; the lease covers 3 more beats
                continue

    def _release_lock(self) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=30)
            self._heartbeat = None
        owner, self._lock_owner = self._lock_owner, None
        with suppress(GraphkitError):  # the server went away: the lease runs out by itself
            self._write(Q_LOCK_RELEASE, {"name": LOCK_NAME, "owner": owner})

    def _lost_lock_error(self, what: str) -> StoreError:
        return StoreError(f"another graphkit job took over the writer lock of Neo4j at {self.settings.shown_uri} "
                          f"(this job did not renew its {self.lease:g} s lease: paused or cut off?); {what}")

    # ------------------------------------------------------------------ load
    def load(self, source: TopicGraph | str | os.PathLike, *, batch_size: int | None = None) -> LoadReport:
        """Load a graph (or a dataset folder) into the database, idempotently.

        Nodes are merged on their ids; relationships on a key made of their
        content and their position among identical rows, so loading the same
        data again changes nothing. Data already in the database that is not
        in ``source`` is left alone (use :meth:`clear` to start afresh).
        """
        if not isinstance(source, TopicGraph):
            from graphkit.io.files import read_dataset

            source = read_dataset(source)
        with self.writing():
            return self._load(source, batch_size=batch_size)

    def _load(self, g: TopicGraph, *, batch_size: int | None) -> LoadReport:
        start = time.perf_counter()
        self.setup_schema()
        rows: dict[str, int] = {}
        seconds: dict[str, float] = {}

        def put(name: str, query: str, records: list[dict]) -> None:
            t0 = time.perf_counter()
            rows[name] = rows.get(name, 0) + self._write_rows(query, records, name, batch_size=batch_size)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0

        seq = pl.int_range(pl.len(), dtype=pl.Int64).alias("seq")
        put("topics", Q_TOPICS, [{"name": t} for t in g.topics])
        put("people", Q_PEOPLE, _records(g.people.select(*_columns("people"), seq)))
        put("customer labels", Q_CUSTOMER_LABEL,
            _records(g.people.filter(pl.col("customer_id").is_not_null()).select("person_id")))
        put("items", Q_ITEMS, _records(g.items.select(*_columns("items"), seq)))
        put("communities", Q_COMMUNITIES, _records(g.communities.select(*_columns("communities"), seq)))
        handles = g.handles.select(*_columns("handles"), seq).with_columns(
            key=pl.concat_str(pl.col("channel"), pl.lit("\u241f"), pl.col("handle")))
        put("handles", Q_HANDLES, _records(handles))
        identity = ["src", "dst", "kind", "topic", "ts", "channel"]
        edges = g.edges.select(*_columns("edges"), seq).with_columns(
            key=_occurrence_key(g.edges, ["topic", "ts", "channel"], identity))
        rows["edges"], seconds["edges"] = 0, 0.0
        for kind, (rtype, label, key) in EDGE_TYPES.items():
            part = edges.filter(pl.col("kind") == kind).drop("kind")
            if part.height:
                q = Q_EDGES.format(label=identifier(label), key=identifier(key), rtype=identifier(rtype))
                put("edges", q, _records(part))
        tx = g.transactions.select(*_columns("transactions"), seq).with_columns(
            key=_occurrence_key(g.transactions, ["item_id", "ts", "order_id", "amount"],
                                ["customer_id", "item_id", "ts", "order_id", "amount"]))
        put("transactions", Q_PURCHASES, _records(tx))
        rows.pop("customer labels")  # a second pass over people, not rows of its own (its time is kept)
        return LoadReport(rows=rows, batch_size=batch_size or self.batch_size, seconds=time.perf_counter() - start,
                          seconds_by_table=seconds)

    def clear(self, *, batch_size: int | None = None) -> int:
        """Delete every node graphkit wrote (dataset, scores, runs), in batches, under the writer lock.

        Returns the nodes deleted. The lock node itself stays (released).
        """
        labels = ("Person", "Item", "Community", "Topic", "Handle", *RUN_ROW_LABELS, "ScoreRun", "GraphkitState")
        deleted = 0
        with self.writing():
            for label in labels:
                q = delete_nodes_batch(label)
                while True:
                    n = self._write(q, {"limit": batch_size or self.batch_size})
                    deleted += n
                    if n == 0:
                        break
        return deleted

    # --------------------------------------------------------------- erasure
    def erase_people(self, person_ids: Sequence[str], *, note: Mapping[str, Any],
                     wait: float | None = None) -> dict[str, int]:
        """Delete people and everything about them in ONE write transaction, under the writer lock.

        Gone: their ``Person`` nodes, their ``Handle`` nodes, every
        relationship from or to them (edges both ways, purchases, and the
        influence, community and loyalty rows of every score run). The runs'
        row counts are lowered and, when anything was removed, a
        ``(:GraphkitErasure)`` node records ``note`` (keyed hashes of the ids,
        the time; see :func:`graphkit.erase`) and the rows removed per table,
        in the same transaction. Returns the rows removed per table (a run's
        tables as ``<run id>/<table>``); ids not in the database remove nothing.
        Use :func:`graphkit.erase`, which builds ``note`` and checks the key.
        """
        from graphkit.model.erasure import check_person_ids

        ids = check_person_ids(person_ids)
        with self.writing(wait=wait), self._errors(), self._session() as s:
            return s.execute_write(_erase, {"ids": ids}, dict(note))

    def erasures(self) -> list[dict[str, Any]]:
        """The erasure log kept in the database, oldest first (see :func:`graphkit.io.erase.erasure_log`)."""
        return [{**r, "erased": list(r["erased"] or []), "removed": json.loads(r["removed"] or "{}")}
                for r in self._read(R_ERASURES)]

    # ------------------------------------------------------------------ read
    def read(self, *, lenient: bool = False) -> TopicGraph:
        """Build the :class:`TopicGraph` stored in the database (validated like a file dataset)."""
        tables: dict[str, pl.DataFrame] = {
            "people": _frame(self._read(R_PEOPLE), "people"),
            "handles": _frame(self._read(R_HANDLES), "handles"),
            "items": _frame(self._read(R_ITEMS), "items"),
            "communities": _frame(self._read(R_COMMUNITIES), "communities"),
        }
        parts = []
        for kind, (rtype, label, key) in EDGE_TYPES.items():
            q = R_EDGES.format(rtype=identifier(rtype), label=identifier(label), key=identifier(key))
            recs = self._read(q)
            if recs:
                parts.append(_frame(recs, "edges", extra={"seq": pl.Int64()}).with_columns(kind=pl.lit(kind)))
        if not parts:
            raise StoreError(f"no graphkit edges in the Neo4j database at {self.settings.shown_uri}; load a dataset first")
        edges = pl.concat(parts, how="diagonal").sort("seq", nulls_last=True, maintain_order=True)
        tables["edges"] = edges.select(TABLES["edges"].names)
        tables["transactions"] = _frame(self._read(R_PURCHASES), "transactions")
        return TopicGraph.from_tables(**tables, lenient=lenient, source=f"neo4j:{self.settings.shown_uri}")

    # ---------------------------------------------------------------- scores
    def write_scores(
        self,
        *,
        influence: pl.DataFrame,
        communities: pl.DataFrame | None = None,
        loyalty: pl.DataFrame | None = None,
        run_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        keep_runs: int = 2,
        batch_size: int | None = None,
        influence_rows: str | float = "all",
        community_summary: pl.DataFrame | None = None,
        loyalty_as_of: dt.datetime | dt.date | str | None = None,
        loyalty_window_days: float | None = None,
        check_people: bool = True,
        writers: int = 1,
    ) -> WriteReport:
        """Write a score run; switch readers to it only once it is complete.

        ``influence`` has the columns of ``topic_influence(...).table``;
        ``communities`` has ``person_id, topic, community``; ``loyalty`` the
        columns of :func:`graphkit.marketing.loyalty.loyalty`;
        ``community_summary`` the summary of
        :func:`graphkit.scoring.community.topic_communities`. ``parameters``
        (how the scores were made) are stored as JSON on the run with the
        graphkit version. ``keep_runs`` complete runs are kept (the current one
        and the ones before it); older runs are deleted after the switch, and
        runs left incomplete by killed writers before the write. The whole
        write holds the writer lock (see :meth:`writing`). A ``run_id`` that
        is already complete is refused: a run id names one write.

        What is written (see ``docs/neo4j.md``): one ``(:InfluenceRow)`` per
        influence row kept, carrying the person's ``community`` on that topic;
        one ``(:LoyaltyRow)`` per customer; one ``(:TopicSummary)`` per topic
        (people scored, nonzero, written, the highest percentile left out, the
        top score, community members); one ``(:CommunitySummary)`` per
        community. ``influence_rows`` says which influence rows are kept:
        ``"all"`` (the default), ``"nonzero"`` (score > 0: on a large graph
        most people score 0 on most topics), or a number *P*: the top *P*
        percent of each topic (percentile above ``100 - P``). Community
        membership is written for the people whose row is kept. When rows are
        left out the run also records, per topic, what was left out
        (``parameters["influence_rows"]``); :meth:`influential_loyal_customers`
        refuses a ``top_percentile`` that would need rows left out.

        ``loyalty_as_of`` (and ``loyalty_window_days``) say which date (and
        window) ``loyalty`` was computed for: the flagship query then reads
        that loyalty instead of recomputing it from every purchase when asked
        for the same date and window. ``check_people`` checks first that every
        person of the rows is in the database (skip it only right after
        loading the same graph under the same lock, as ``graphkit score`` does).
        ``writers`` sessions write batches at once (on ArcadeDB one is fastest;
        each batch is written once whichever writer sends it).
        """
        from graphkit.version import __version__

        if isinstance(keep_runs, bool) or not isinstance(keep_runs, int) or keep_runs < 1:
            raise GraphkitError(f"keep_runs must be a positive integer, got {keep_runs!r}")
        if isinstance(writers, bool) or not isinstance(writers, int) or writers < 1:
            raise GraphkitError(f"writers must be a positive integer, got {writers!r}")
        run_id = run_id or new_run_id()
        if not isinstance(run_id, str) or not run_id.strip():
            raise GraphkitError(f"run_id must be non-empty text, got {run_id!r}")
        infl = check_columns(influence, INFLUENCE_COLUMNS, "influence")
        if all(c in influence.columns for c in UNCERTAINTY_PROPERTIES):  # how sure each rank is: written too
            infl = infl.hstack(influence.select(pl.col(c).cast(pl.Float64) if c.startswith(("score", "p_"))
                                                else pl.col(c).cast(pl.Int64) for c in UNCERTAINTY_PROPERTIES))
        comm = check_columns(communities, _COMMUNITY_SCHEMA, "communities") if communities is not None else None
        loyal = check_columns(loyalty, _LOYALTY_SCHEMA, "loyalty") if loyalty is not None else None
        summary = (check_columns(community_summary, COMMUNITY_SUMMARY_SCHEMA, "community summary")
                   if community_summary is not None else None)
        scored = infl["topic"].unique().sort().to_list()  # the run's topics, whether or not a row of each is written
        infl, written = select_influence_rows(infl, influence_rows)
        infl, topic_rows = _with_communities(infl, comm, written)
        params_json = run_parameters(parameters, written, with_loyalty=loyal is not None, loyalty_as_of=loyalty_as_of,
                                     loyalty_window_days=loyalty_window_days)
        start = time.perf_counter()
        with self.writing():
            if check_people:
                self.check_people(*(part["person_id"] for part in infl.values()),
                                   loyal["person_id"] if loyal is not None else None)
            rows = self._write_run(run_id, infl, comm is not None, loyal, summary, topic_rows, params_json,
                                   keep_runs, batch_size, scored, writers)
        return WriteReport(run_id=run_id, rows=rows, parameters=json.loads(params_json), version=__version__,
                           seconds=time.perf_counter() - start, batch_size=batch_size or self.batch_size)

    def check_people(self, *columns: pl.Series | None) -> None:
        """Refuse rows of people who are not in the database (one look-up per distinct person)."""
        ids = pl.concat([c.drop_nulls() for c in columns if c is not None]).unique().sort()
        missing: list[str] = []
        with self._errors(), self._session() as s:
            for part in _chunks(ids.to_list(), 20_000):
                found = set(s.execute_read(_fetch, R_KNOWN_PEOPLE, {"ids": part})[0]["found"] or [])
                missing += [i for i in part if i not in found]
        if missing:
            raise StoreError(
                f"score rows of {len(missing)} of {ids.len()} people found no matching node (e.g. {missing[:3]}: an "
                f"id that is not in the database); load the graph first with graphkit score --source PATH "
                f"--write neo4j or Neo4jStore.load"
            )

    def _write_run(self, run_id: str, infl: dict[str, pl.DataFrame], with_communities: bool, loyal: pl.DataFrame | None,
                   summary: pl.DataFrame | None, topic_rows: pl.DataFrame, params_json: str, keep_runs: int,
                   batch_size: int | None, scored: list[str], writers: int = 1) -> dict[str, int]:
        """The run protocol, under the lock: clean up, refuse a complete run id, write, switch (fenced), prune."""
        self.open_run(run_id, params_json)
        scored = sorted(set(scored) | set(topic_rows["topic"].to_list()))
        writer = _RunWriter(self, run_id, batch_size or self.batch_size, writers)
        self._write_rows(Q_TOPICS, [{"name": t} for t in scored], "topics")
        writer.write("TopicSummary", TOPIC_SUMMARY_PROPERTIES, topic_rows, "topic summaries", "topic_summary")
        rows = {"influence": 0}
        for topic, part in infl.items():
            properties = INFLUENCE_ROW_PROPERTIES + tuple(c for c in UNCERTAINTY_PROPERTIES if c in part.columns)
            rows["influence"] += writer.write("InfluenceRow", properties, part, f"influence {topic}",
                                              f"influence/{topic}", per_batch={"topic": topic})
        if with_communities:
            rows["communities"] = int(topic_rows["members_written"].sum())
        if loyal is not None:
            rows["loyalty"] = writer.write("LoyaltyRow", LOYALTY_ROW_PROPERTIES, loyal, "loyalty", "loyalty")
        if summary is not None:
            rows["community_summary"] = writer.write("CommunitySummary", COMMUNITY_SUMMARY_PROPERTIES, summary,
                                                     "community summaries", "community_summary")
        rows["topic_summary"] = topic_rows.height
        self.publish_run(run_id, rows, scored, keep_runs=keep_runs)
        return rows

    @property
    def lock_owner(self) -> str | None:
        """This store's token while it holds the writer lock (batches of its runs carry it), else None."""
        return self._lock_owner

    def write_run_rows(self, run_id: str, label: str, properties: Sequence[str], table: pl.DataFrame, *,
                       stream: str, per_batch: Mapping[str, Any] | None = None, batch_size: int | None = None) -> int:
        """Rows of ``table`` as ``label`` nodes of run ``run_id`` (opened by :meth:`open_run`), in guarded batches
        keyed by ``stream`` and number; returns the rows written."""
        writer = _RunWriter(self, run_id, batch_size or self.batch_size)
        return writer.write(label, properties, table, label, stream, per_batch=per_batch)

    def merge_topics(self, topics: Sequence[str]) -> None:
        """The ``(:Topic)`` nodes of ``topics`` (merged: there once)."""
        self._write_rows(Q_TOPICS, [{"name": t} for t in topics], "topics")

    def discard_run(self, run_id: str) -> None:
        """Delete a run that was not published (its rows, then its node), under the lock; a complete run is
        refused (old runs go by ``keep_runs``)."""
        with self.writing():
            runs = {r.run_id: r for r in self.runs()}
            if run_id in runs and runs[run_id].status == "complete":
                raise GraphkitError(f"score run {run_id!r} is complete: it is deleted when keep_runs newer runs exist")
            if run_id in runs:
                self._purge_run(run_id)

    def open_run(self, run_id: str, params_json: str) -> None:
        """Start writing run ``run_id`` (status ``writing``, owned by this store's lock), under the lock: runs
        left incomplete by killed writers are deleted first; a complete ``run_id`` is refused."""
        from graphkit.version import __version__

        if not self._lock_owner:
            raise GraphkitError("open_run needs the writer lock: call it inside Neo4jStore.writing()")
        runs = {r.run_id: r for r in self.runs()}
        if run_id in runs and runs[run_id].status == "complete":
            which = "the current run" if run_id == self.current_run_id() else "a complete run"
            raise GraphkitError(f"score run {run_id!r} already exists in Neo4j ({which}); a run id names one "
                                f"write: choose another --run-id, or leave it out for a fresh one")
        for r in runs.values():  # runs killed before they completed (no writer holds them: we hold the lock)
            if r.status != "complete":
                self._purge_run(r.run_id)
        self._write(Q_RUN_START, {"run_id": run_id, "owner": self._lock_owner, "parameters": params_json,
                                  "version": __version__, "started": dt.datetime.now(dt.timezone.utc)})

    def publish_run(self, run_id: str, rows: Mapping[str, int], topics: Sequence[str], *, keep_runs: int = 2) -> None:
        """Mark run ``run_id`` complete and point readers at it, in one transaction fenced by the lock (raises
        if another job took the lock over), then delete all but the ``keep_runs`` latest complete runs."""
        switched = self._write(Q_SWITCH, {"run_id": run_id, "state": STATE_NAME, "lock": LOCK_NAME,
                                          "owner": self._lock_owner, "finished": dt.datetime.now(dt.timezone.utc),
                                          "rows": json.dumps(dict(rows), sort_keys=True),
                                          "topics": sorted(topics)})
        if not switched:
            raise self._lost_lock_error(f"run {run_id!r} was not published; the next writer deletes its rows")
        self._prune(keep_runs)

    def _purge_run(self, run_id: str) -> None:
        """Un-publish a run (status ``deleting``), then delete its rows in batches, then its node."""
        self._write(Q_RUN_UNPUBLISH, {"run_id": run_id, "state": STATE_NAME})
        for query in (*map(purge_rows, RUN_ROW_LABELS), *Q_PURGE_LEGACY):  # in batches until none is left
            deleted = True
            while deleted:
                deleted = self._write(query, {"run_id": run_id, "limit": PURGE_BATCHES * self.batch_size})
        self._write(Q_DELETE_RUN, {"run_id": run_id})

    def _prune(self, keep_runs: int) -> None:
        """Delete all but the ``keep_runs`` latest complete runs (never the current one), and every incomplete run."""
        current = self.current_run_id()
        runs = self.runs()
        complete = [r for r in runs if r.status == "complete" and r.run_id != current]
        complete.sort(key=lambda r: (r.finished or dt.datetime.min.replace(tzinfo=dt.timezone.utc), r.run_id))
        keep = {current} | {r.run_id for r in complete[len(complete) - (keep_runs - 1):]} if keep_runs > 1 else {current}
        for r in runs:
            if r.run_id not in keep:
                self._purge_run(r.run_id)

    def current_run_id(self) -> str | None:
        """The run readers see now (None before the first complete write)."""
        recs = self._read(Q_STATE, {"state": STATE_NAME})
        return recs[0]["current"] if recs else None

    def runs(self) -> list[RunInfo]:
        """Every score run in the database, oldest first."""
        out = []
        for r in self._read(Q_RUNS):
            out.append(RunInfo(
                run_id=r["run_id"], status=r["status"], parameters=json.loads(r["parameters"] or "{}"),
                version=r["version"], started=_utc(r["started"]), finished=_utc(r["finished"]),
                rows=json.loads(r["rows"]) if r["rows"] else {}, topics=tuple(r["topics"] or ()),
            ))
        return out

    def _resolve_run(self, run_id: str | None, runs: Mapping[str, RunInfo] | None = None) -> str:
        """``run_id`` if it names a complete run (readers never see a partial one), else the current run
        (``runs``: the runs already read, by id)."""
        runs = {r.run_id: r for r in self.runs()} if runs is None else runs
        if run_id is None:
            run_id = self.current_run_id()
            if run_id is None:
                raise StoreError("no complete score run in Neo4j yet; write one with graphkit score --write neo4j")
        status = runs[run_id].status if run_id in runs else None
        if status != "complete":
            state = "there is no such run" if status is None else f"it is {status}"
            raise StoreError(f"no complete score run {run_id!r} in Neo4j ({state}); complete runs: "
                             f"{[r.run_id for r in runs.values() if r.status == 'complete']}")
        return run_id

    def read_scores(self, *, run_id: str | None = None, topics: Sequence[str] | None = None) -> pl.DataFrame:
        """Influence rows of a run (default: the current run), sorted by topic then rank."""
        run = self._resolve_run(run_id)
        recs = self._read(R_INFLUENCE, {"run_id": run, "topics": list(topics) if topics is not None else None})
        return pl.DataFrame(recs, schema=INFLUENCE_COLUMNS, orient="row").sort("topic", "rank", "person_id") \
            if recs else pl.DataFrame(schema=INFLUENCE_COLUMNS)

    def read_uncertainty(self, *, run_id: str | None = None) -> pl.DataFrame | None:
        """How sure each influence rank of a run is (``person_id``, ``topic`` and the bootstrap columns
        :data:`~graphkit.io.neo4j.cypher.UNCERTAINTY_PROPERTIES`); None when the run was written without them."""
        recs = self._read(R_INFLUENCE_UNCERTAINTY, {"run_id": self._resolve_run(run_id)})
        schema = {"person_id": pl.String(), "topic": pl.String(), "score_low": pl.Float64(),
                  "score_high": pl.Float64(), "rank_low": pl.UInt32(), "rank_high": pl.UInt32(),
                  "p_top_1": pl.Float64(), "p_top_10": pl.Float64()}
        table = pl.DataFrame(recs, schema=schema, orient="row") if recs else pl.DataFrame(schema=schema)
        if table.height == 0 or table["p_top_1"].null_count() == table.height:
            return None
        return table.sort("topic", "person_id")

    def read_communities(self, *, run_id: str | None = None) -> pl.DataFrame:
        """Community membership rows of a run (default: the current run)."""
        recs = self._read(R_COMMUNITIES_RUN, {"run_id": self._resolve_run(run_id)})
        return pl.DataFrame(recs, schema=_COMMUNITY_SCHEMA, orient="row").sort("topic", "community", "person_id") \
            if recs else pl.DataFrame(schema=_COMMUNITY_SCHEMA)

    def read_topic_summary(self, *, run_id: str | None = None) -> pl.DataFrame:
        """Per topic of a run (default: the current run): people scored, nonzero, rows written, the highest
        percentile left out, the top score, community members and those written, communities."""
        recs = self._read(R_TOPIC_SUMMARY, {"run_id": self._resolve_run(run_id)})
        return (pl.DataFrame(recs, schema=TOPIC_SUMMARY_SCHEMA, orient="row") if recs
                else pl.DataFrame(schema=TOPIC_SUMMARY_SCHEMA)).sort("topic")

    def read_community_summary(self, *, run_id: str | None = None) -> pl.DataFrame:
        """The communities of a run (default: the current run), like ``topic_communities(...).summary``."""
        recs = self._read(R_COMMUNITY_SUMMARY, {"run_id": self._resolve_run(run_id)})
        return (pl.DataFrame(recs, schema=COMMUNITY_SUMMARY_SCHEMA, orient="row") if recs
                else pl.DataFrame(schema=COMMUNITY_SUMMARY_SCHEMA)).sort("topic", "community")

    def read_loyalty(self, *, run_id: str | None = None) -> pl.DataFrame:
        """Loyalty rows of a run (default: the current run), like :func:`graphkit.marketing.loyalty.loyalty`."""
        recs = self._read(R_LOYALTY, {"run_id": self._resolve_run(run_id)})
        df = pl.DataFrame(recs, schema=_LOYALTY_SCHEMA, orient="row") if recs else pl.DataFrame(schema=_LOYALTY_SCHEMA)
        return df.select(LOYALTY_COLUMNS).sort("customer_id")

    # --------------------------------------------------------- the flagship
    def influential_loyal_customers(
        self,
        *,
        topics: str | Sequence[str],
        top_percentile: float = 10.0,
        min_loyalty: float = 0.5,
        as_of: dt.datetime | dt.date | str | None = None,
        window_days: float | None = None,
        limit: int | None = None,
        run_id: str | None = None,
    ) -> pl.DataFrame:
        """The influential-loyal-customers query, run inside Neo4j over ``PURCHASED`` edges.

        Same arguments, definitions and columns as
        :func:`graphkit.marketing.loyalty.influential_loyal_customers`, with the
        influence of score run ``run_id`` (default: the current run) and
        ``as_of`` defaulting to the latest purchase in the database.
        """
        from graphkit.marketing.loyalty import check_query_arguments, check_window

        topic_list = check_query_arguments(topics, top_percentile, min_loyalty, limit)
        check_window(window_days)
        runs = {r.run_id: r for r in self.runs()}
        run = self._resolve_run(run_id, runs)
        info = runs[run]
        absent = [t for t in topic_list if t not in info.topics]
        if absent:
            raise GraphkitError(f"score run {run!r} has no rows for topic(s) {absent}; compute influence on them "
                                f"first (graphkit score --topics ...); its topics: {list(info.topics)}")
        written = info.parameters.get("influence_rows") or {}
        for t in topic_list:
            floor = (written.get("topics") or {}).get(t, {}).get("left_out_percentile")
            if floor is not None and 100.0 - top_percentile < floor:
                raise GraphkitError(
                    f"score run {run!r} wrote only the {written.get('keep')} influence rows of {t!r} (the rows it left "
                    f"out reach percentile {floor:.6g}); top_percentile {top_percentile:g} needs some of them: use "
                    f"top_percentile <= {100.0 - floor:.6g}, or rerun graphkit score --write neo4j --neo4j-rows all")
        recorded = info.parameters.get("loyalty_as_of")
        if recorded is not None and window_days == info.parameters.get("loyalty_window_days") and (
                as_of is None or resolve_as_of(None, as_of) == dt.datetime.fromisoformat(recorded)):
            # the loyalty the run wrote, computed for this date and window: no purchase needs reading
            params = {"run_id": run, "topics": topic_list, "cut": 100.0 - top_percentile,
                      "min_loyalty": float(min_loyalty)}
            with self._errors(), self._session() as session:
                loyal, rows = session.execute_read(_run_loyal, params)
            return _joined(loyal, rows, limit)
        if as_of is None:
            last = self._read(R_LAST_PURCHASE)
            if not last or last[0]["last"] is None:
                raise StoreError("no PURCHASED relationships in Neo4j: load transactions first, or pass as_of")
            as_of = _utc(last[0]["last"])
        when = resolve_as_of(None, as_of)
        start = when - dt.timedelta(days=window_days) if window_days is not None else None
        as_of_us = (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
        params = {
            "as_of": when, "start": start, "as_of_us": as_of_us, "min_loyalty": float(min_loyalty),
            "cut": 100.0 - top_percentile, "topics": topic_list, "limit": limit, "run_id": run,
        }
        with self._errors(), self._session() as session:
            loyal, rows = session.execute_read(_influential_loyal, params)
        return _joined(loyal, rows, limit)


# ----------------------------------------------------------------- helpers
def select_influence_rows(influence: pl.DataFrame, keep: str | float) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The influence rows to write (``keep``: ``"all"``, ``"nonzero"`` or a top percent per topic) and,
    per topic, what was scored, written and left out.

    >>> t = pl.DataFrame({"person_id": ["a", "b", "c"], "topic": ["x"] * 3, "score": [0.7, 0.3, 0.0],
    ...                   "percentile": [100.0, 66.7, 33.3]})
    >>> rows, info = select_influence_rows(t, "nonzero")
    >>> rows["person_id"].to_list(), info["topics"]["x"]
    (['a', 'b'], {'people': 3, 'nonzero': 2, 'written': 2, 'left_out_percentile': 33.3})
    """
    if isinstance(keep, str) and keep in ("all", "nonzero"):
        label = keep
        chosen = pl.lit(True) if keep == "all" else pl.col("score") > 0
    elif isinstance(keep, (int, float)) and not isinstance(keep, bool) and 0 < keep <= 100:
        label = f"top {keep:g}%"
        chosen = pl.col("percentile") > 100.0 - float(keep)
    else:
        raise GraphkitError(f"influence rows to write must be 'all', 'nonzero' or a top percent in (0, 100]; got {keep!r}")
    flagged = influence.with_columns(__keep=chosen)
    per_topic = flagged.group_by("topic").agg(
        people=pl.len(), nonzero=(pl.col("score") > 0).sum(), written=pl.col("__keep").sum(),
        left_out_percentile=pl.col("percentile").filter(~pl.col("__keep")).max(),
    ).sort("topic")
    topics = {r.pop("topic"): r for r in per_topic.to_dicts()}
    rows = influence if label == "all" else flagged.filter("__keep").drop("__keep")
    return rows, {"keep": label, "topics": topics}



def run_parameters(parameters: Mapping[str, Any] | None, written: Mapping[str, Any], *, with_loyalty: bool,
                   loyalty_as_of: dt.datetime | dt.date | str | None, loyalty_window_days: float | None) -> str:
    """The JSON recorded on a run: ``parameters``, what was left out of its influence rows (``written`` from
    :func:`select_influence_rows`, for the flagship query's check) and the date of its loyalty.

    >>> run_parameters({"seed": 0}, {"keep": "all"}, with_loyalty=False, loyalty_as_of=None, loyalty_window_days=None)
    '{"seed": 0}'
    """
    recorded = dict(parameters or {})
    if written["keep"] != "all":
        recorded["influence_rows"] = dict(written)
    if with_loyalty and loyalty_as_of is not None:
        check_window(loyalty_window_days)
        recorded["loyalty_as_of"] = resolve_as_of(None, loyalty_as_of).isoformat()
        recorded["loyalty_window_days"] = loyalty_window_days
    return json.dumps(recorded, sort_keys=True, default=str)


def _with_communities(infl: pl.DataFrame, comm: pl.DataFrame | None,
                      written: dict[str, Any]) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The kept influence rows of each topic with each person's ``community`` (null without one), sorted by
    rank, and one summary row per topic (:data:`~graphkit.io.neo4j.cypher.TOPIC_SUMMARY_PROPERTIES`).

    Membership goes with the kept rows: with every row kept, a membership without an influence row is refused
    (it would be lost). Topic by topic, joined on person_id (a join of all rows on two text keys cost 8 s and
    2 GB at 1M people).

    >>> infl = pl.DataFrame({"person_id": ["a", "b"], "topic": ["x", "x"], "score": [0.6, 0.0], "rank": [1, 2]})
    >>> comm = pl.DataFrame({"person_id": ["a", "b"], "topic": ["x", "x"], "community": [0, 1]})
    >>> rows, topics = _with_communities(infl.head(1), comm, {"keep": "nonzero", "topics": {"x": {
    ...     "people": 2, "nonzero": 1, "written": 1, "left_out_percentile": 50.0}}})
    >>> rows["x"]["community"].to_list(), topics.select("members", "members_written", "communities").row(0)
    ([0], (2, 1, 2))
    """
    keep_all = written["keep"] == "all"
    kept = {t: part for (t,), part in infl.partition_by("topic", as_dict=True).items()}
    members = {t: part for (t,), part in comm.partition_by("topic", as_dict=True).items()} if comm is not None else {}
    parts: dict[str, pl.DataFrame] = {}
    summary = []
    for topic in sorted(set(kept) | set(members) | set(written["topics"])):
        part = kept.get(topic, infl.clear())
        of_topic = members.get(topic)
        if of_topic is None:
            part = part.with_columns(community=pl.lit(None, dtype=pl.Int64))
        else:
            joined = part.join(of_topic.select("person_id", "community"), on="person_id", how="left")
            if joined.height != part.height:
                raise GraphkitError(f"the communities table has rows that repeat a (person_id, topic) on topic "
                                    f"{topic!r}: one community per person and topic")
            if keep_all:
                lost = of_topic.join(part, on="person_id", how="anti")
                if lost.height:
                    raise GraphkitError(f"{lost.height} community rows have no influence row (e.g. "
                                        f"{lost.select('person_id', 'topic').row(0)}): communities must be of the "
                                        f"people and topics scored")
            part = joined
        part = part.sort("rank", "person_id")
        if part.height:
            parts[topic] = part
        info = written["topics"].get(topic, {})
        summary.append({"topic": topic, **{k: info.get(k) for k in ("people", "nonzero", "written",
                                                                      "left_out_percentile")},
                        "top_score": part["score"].max(),
                        "members": None if comm is None else (0 if of_topic is None else of_topic.height),
                        "members_written": None if comm is None else int(part["community"].is_not_null().sum()),
                        "communities": None if comm is None else (0 if of_topic is None
                                                                  else of_topic["community"].n_unique())})
    return parts, pl.DataFrame(summary, schema=TOPIC_SUMMARY_SCHEMA)


class _RunWriter:
    """Creates a run's row nodes in guarded, keyed batches of columns (see ``cypher.RUN_GUARD``), from
    ``writers`` sessions at once."""

    def __init__(self, store: Neo4jStore, run_id: str, size: int, writers: int = 1) -> None:
        self.store, self.run_id, self.size, self.writers = store, run_id, size, writers

    def write(self, label: str, properties: Sequence[str], table: pl.DataFrame, what: str, stream: str,
              per_batch: Mapping[str, Any] | None = None) -> int:
        """Every row of ``table`` as a ``label`` node, in batches keyed by ``stream`` and number; returns the
        rows written."""
        store = self.store
        query = create_rows(label, properties, per_batch=tuple(per_batch or ()))
        table = table.select(properties)
        params = {"run_id": self.run_id, "owner": store._lock_owner, **(per_batch or {})}
        starts = range(0, table.height, self.size)

        def one(number: int) -> int:
            part = table.slice(starts[number], self.size)
            columns = {c: part[c].to_list() for c in properties}
            with store._session() as s:
                return write_batch(s, query, {**params, "c": columns}, part.height,
                                   batch_key(self.run_id, stream, number), what)

        shown = store.progress and len(starts) > 1
        with store._errors():
            try:
                if self.writers == 1 or len(starts) == 1:
                    return sum(track(map(one, range(len(starts))), what, total=len(starts), enabled=shown))
                with ThreadPoolExecutor(self.writers, thread_name_prefix="graphkit-neo4j-writer") as pool:
                    return sum(track(pool.map(one, range(len(starts))), what, total=len(starts), enabled=shown))
            except RunNotWritingError:
                raise store._lost_lock_error(f"run {self.run_id!r} was not published") from None


class RunNotWritingError(StoreError):
    """A batch found its run no longer being written by its writer (another job took the lock over)."""


def write_batch(session: "neo4j.Session", query: str, params: dict, rows: int, key: str, what: str) -> int:
    """One guarded batch of a run's rows (``query`` from :func:`~graphkit.io.neo4j.cypher.create_rows`) in one
    managed transaction, keyed ``key``; returns ``rows`` once they are in the database.

    A batch whose key is already there was written before (a retry after a lost commit reply, or a Spark
    task run again) and writes nothing; a lost commit reply is followed by the batch sent again, which the
    key makes safe. ``params`` holds ``run_id`` and ``owner``: a batch of a run that is not being written
    by ``owner`` raises :class:`RunNotWritingError`.
    """
    nj = _driver_module()
    params = {**params, "batch_key": key}
    n = 0
    for attempt in range(3):
        try:
            n = session.execute_write(_count_rows, query, params)
            break
        except nj.exceptions.IncompleteCommit:  # written or not: unknown; sent again, the key tells
            if attempt == 2:
                raise
        except nj.exceptions.Neo4jError as exc:
            if "ConstraintValidationFailed" not in str(getattr(exc, "code", "")) + str(exc):
                raise
            break  # the key is there: written before
    if n == rows:
        return n
    state = session.execute_read(_fetch, R_RUN_OWNER, {"run_id": params["run_id"], "batch_key": key})
    if not state or state[0]["owner"] != params["owner"] or state[0]["status"] != "writing":
        raise RunNotWritingError(f"{what}: run {params['run_id']!r} is not being written by this job")
    if n == 0 and state[0]["written"]:
        return rows
    raise StoreError(f"{what}: {n} of {rows} rows of batch {key!r} were written")


def new_run_id() -> str:
    """A fresh run id: UTC time plus a short unique suffix, e.g. ``20240101T120000Z-1a2b3c4d``.

    >>> len(new_run_id().split("-")[1])
    8
    """
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _count_rows(tx: "neo4j.ManagedTransaction", query: str, params: dict) -> int:
    record = tx.run(query, params).single()
    return int(record["n"]) if record is not None else 0


def _fetch(tx: "neo4j.ManagedTransaction", query: str, params: dict) -> list[dict]:
    return [r.data() for r in tx.run(query, params)]


def _erase(tx: "neo4j.ManagedTransaction", params: dict, note: dict) -> dict[str, int]:
    """The erasure's statements, in the caller's one transaction: count, delete, fix run rows, log."""
    counts: dict[str, int] = {}
    per_run: dict[str, dict[str, int]] = {}
    for r in tx.run(R_ERASE_COUNTS, params):
        table = ERASED_TABLES.get(r["type"], r["type"].lower())
        if r["run_id"] is not None and table in ("influence", "communities", "loyalty"):
            per_run.setdefault(r["run_id"], {})[table] = per_run.get(r["run_id"], {}).get(table, 0) + int(r["n"])
            table = f"{r['run_id']}/{table}"
        elif table == "handles":
            continue  # counted as the Handle nodes deleted
        counts[table] = counts.get(table, 0) + int(r["n"])
    for query in R_ERASE_RUN_ROWS:  # the person's rows in every score run
        for r in tx.run(query, params):
            if r["run_id"] is not None and r["n"]:
                per_run.setdefault(r["run_id"], {})[r["table"]] = per_run.get(r["run_id"], {}).get(r["table"], 0) + \
                    int(r["n"])
                key = f"{r['run_id']}/{r['table']}"
                counts[key] = counts.get(key, 0) + int(r["n"])
    for query in Q_ERASE_RUN_ROWS:
        tx.run(query, params).consume()
    handles = _count_rows(tx, Q_ERASE_HANDLES, params)
    people = _count_rows(tx, Q_ERASE_PEOPLE, params)
    if people:
        counts["people"] = people
    if handles:
        counts["handles"] = handles
    if per_run:
        rows = []
        for rec in tx.run(R_RUN_ROWS, {"runs": sorted(per_run)}):
            try:
                before = json.loads(rec["rows"]) if rec["rows"] else {}
            except ValueError:
                before = {}
            after = {k: max(0, int(v) - per_run[rec["run_id"]].get(k, 0)) for k, v in before.items()}
            rows.append({"run_id": rec["run_id"], "rows": json.dumps(after, sort_keys=True)})
        if rows:
            tx.run(Q_RUN_ROWS, {"rows": rows}).consume()
    if counts:
        tx.run(Q_ERASURE_LOG, {"at": note["at"], "erased": list(note["erased"]),
                               "removed": json.dumps(counts, sort_keys=True),
                               "version": note.get("graphkit_version")}).consume()
    return dict(sorted(counts.items()))


def _joined(loyal: list[dict], rows: list[dict], limit: int | None) -> pl.DataFrame:
    """The flagship's answer from the customers at the loyalty threshold and the influence rows above the
    percentile cut: joined on person_id, ``fit`` computed, ranked."""
    schema = {k: v for k, v in _RESULT_SCHEMA.items() if k in INFLUENCE_COLUMNS}
    influence = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    schema = {k: v for k, v in _RESULT_SCHEMA.items()
              if k in ("person_id", "customer_id", "recency_days", "frequency", "monetary", "loyalty_score")}
    customers = pl.DataFrame(loyal, schema=schema, orient="row") if loyal else pl.DataFrame(schema=schema)
    joined = influence.join(customers, on="person_id", how="inner")
    # a true division, as the embedded query does (polars would multiply by the reciprocal)
    fit = np.divide(joined["percentile"].to_numpy(), 100.0) * joined["loyalty_score"].to_numpy()
    return _ranked(joined.with_columns(fit=pl.Series(fit, dtype=pl.Float64)), limit)


def _run_loyal(tx: "neo4j.ManagedTransaction", params: dict) -> tuple[list[dict], list[dict]]:
    """In one read transaction: the run's loyalty rows at the threshold and its influence rows above the cut."""
    return [r.data() for r in tx.run(R_LOYALTY_AT_LEAST, params)], [r.data() for r in tx.run(R_INFLUENCE_ABOVE, params)]


def _ranked(table: pl.DataFrame, limit: int | None) -> pl.DataFrame:
    """Flagship rows ranked within each topic by fit, then score, then person_id (``loyal_rank``), as
    :func:`graphkit.marketing.loyalty.influential_loyal_customers` ranks them."""
    out = table.sort(["topic", "fit", "score", "person_id"], descending=[False, True, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("topic").alias("loyal_rank"))
    if limit is not None:
        out = out.filter(pl.col("loyal_rank") <= limit)
    return out.select(RESULT_COLUMNS)


def _influential_loyal(tx: "neo4j.ManagedTransaction", params: dict) -> tuple[list[dict], list[dict]]:
    """In one read transaction (a consistent view where the server gives one): the quintile cut points,
    the loyalty of the customers at the threshold, and the run's influence rows above the percentile cut."""
    cuts = {}
    for name, value in (("rcut", "last"), ("fcut", "frequency"), ("mcut", "monetary")):
        record = tx.run(Q_CUTS.format(value=identifier(value)), params).single()
        cuts[name] = list(record["cuts"]) if record is not None else []
    cuts["rcut"] = [_utc(v) for v in cuts["rcut"]]  # ArcadeDB returns stored datetimes without their zone
    loyal = [r.data() for r in tx.run(Q_INFLUENTIAL_LOYAL, {**params, **cuts})]
    return loyal, [r.data() for r in tx.run(R_INFLUENCE_ABOVE, params)]


def _columns(table: str) -> list[str]:
    return TABLES[table].names


def _frame(records: list[dict], table: str, extra: Mapping[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Records from Neo4j as a table with the declared columns; datetimes made aware UTC."""
    schema = {c.name: c.dtype for c in TABLES[table].columns}
    schema.update(extra or {})
    if not records:
        return pl.DataFrame(schema=schema)
    cols = {}
    for name, dtype in schema.items():
        values = [r.get(name) for r in records]
        if dtype == TIMESTAMP:
            values = [_utc(v) for v in values]
        cols[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(cols)


def check_columns(df: pl.DataFrame, schema: Mapping[str, pl.DataType], what: str) -> pl.DataFrame:
    if not isinstance(df, pl.DataFrame):
        raise GraphkitError(f"{what} must be a polars DataFrame, got {type(df).__name__}")
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise GraphkitError(f"the {what} table lacks column(s) {missing}; expected {list(schema)}")
    try:
        return df.select(pl.col(c).cast(t) for c, t in schema.items())
    except Exception as exc:  # polars raises several types for impossible casts
        raise GraphkitError(f"the {what} table has a column of the wrong type ({str(exc).splitlines()[0]})") from None


class _translate_errors:
    """Turn driver exceptions into one-line graphkit errors that say what to do (never the password)."""

    def __init__(self, settings: Neo4jSettings) -> None:
        self.settings = settings

    def __enter__(self) -> None:
        return None

    def _scrub(self, text: str) -> str:
        """Server and driver messages without the password, should one of them quote it."""
        text = text.replace(self.settings.uri, self.settings.shown_uri)
        secrets = [self.settings.password, *uri_secrets(self.settings.uri)]
        for secret in sorted(filter(None, secrets), key=len, reverse=True):  # longest first: no partial leftovers
            text = text.replace(secret, "***")
        return text

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, GraphkitError) or not isinstance(exc, Exception):
            return False
        nj = _driver_module()
        where = self.settings.shown_uri
        first = (self._scrub(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, nj.exceptions.AuthError):
            raise StoreError(
                f"Neo4j at {where} refused the credentials of user {self.settings.user!r}: "
                f"check NEO4J_USERNAME and NEO4J_PASSWORD"
            ) from None
        if isinstance(exc, (nj.exceptions.ServiceUnavailable, nj.exceptions.SessionExpired, OSError)):
            raise Neo4jUnavailableError(
                f"cannot reach Neo4j at {where} ({type(exc).__name__}); is the server running? "
                f"Set NEO4J_URI to its bolt:// or neo4j:// address"
            ) from None
        if isinstance(exc, (nj.exceptions.ConfigurationError, ValueError)) and "uri" in first.lower():
            raise StoreError(f"NEO4J_URI {where!r} is not a Neo4j address ({first})") from None
        if isinstance(exc, nj.exceptions.Neo4jError):
            code = getattr(exc, "code", None) or type(exc).__name__
            message = " ".join(self._scrub(getattr(exc, "message", None) or first).split())[:500]
            raise StoreError(f"Neo4j at {where} failed: {code}: {message}") from None
        if isinstance(exc, nj.exceptions.DriverError):
            raise StoreError(f"Neo4j driver error talking to {where}: {first}") from None
        return False
