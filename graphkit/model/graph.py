"""The data model: a topic-labelled, typed, signed, timestamped multigraph.

:class:`TopicGraph` holds six validated polars tables (people, handles, items,
communities, edges, transactions; see :mod:`graphkit.model.schema`), maps person
ids to row indices once, keeps an ordered topic vocabulary, and builds the
sparse (scipy CSR) and igraph views that algorithms use. It is the only place
that builds matrices from the tables; views are cached per graph. A graph is
immutable: :meth:`TopicGraph.replace` returns a new one.

>>> import polars as pl
>>> from graphkit import TopicGraph
>>> g = TopicGraph.from_tables(
...     people=pl.DataFrame({"person_id": ["ann", "bob", "cat"]}),
...     edges=pl.DataFrame({
...         "src": ["bob", "cat", "cat"], "dst": ["ann", "ann", "bob"],
...         "kind": ["follows", "shares", "mentions"], "topic": [None, "frogs", "cooking"],
...     }),
... )
>>> g.topics
('cooking', 'frogs')
>>> g.adjacency(("shares",), topic="frogs").toarray().tolist()
[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphkit.errors import GraphkitError
from graphkit.model.schema import (
    EDGE_KINDS,
    EDGE_TARGET,
    REJECTS_SCHEMA,
    TABLE_ORDER,
    TABLES,
    row_numbers,
    validate_tables,
)

if TYPE_CHECKING:  # pragma: no cover
    import igraph

#: Edge kinds whose destination is a person (they can carry influence).
PERSON_KINDS: tuple[str, ...] = tuple(k for k, t in EDGE_TARGET.items() if t == "people")
#: Key of the edge index in a graph's view cache.
EDGE_INDEX = "edge_index"
#: Topic-labelled kinds that count as a person's own contributions on a topic (purchases of the topic's
#: items are activity too: :attr:`TopicGraph.purchase_acts`).
ACTIVITY_KINDS: tuple[str, ...] = ("mentions", "replies", "shares", "reviews")


@dataclass(frozen=True, eq=False)
class TopicGraph:
    """Validated tables of people, their accounts, items, communities, edges and purchases.

    Build one with :meth:`from_tables` (validates) or load one with
    :func:`graphkit.read_dataset` / :func:`graphkit.io.datasets.load_ciao`.
    Integer row indices are an internal detail: every public result is keyed
    by the caller's own ids.
    """

    people: pl.DataFrame
    edges: pl.DataFrame
    items: pl.DataFrame
    communities: pl.DataFrame
    transactions: pl.DataFrame
    handles: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTS_SCHEMA))
    source: str | None = None
    _views: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_tables(
        cls,
        people: pl.DataFrame,
        edges: pl.DataFrame,
        *,
        items: pl.DataFrame | None = None,
        communities: pl.DataFrame | None = None,
        transactions: pl.DataFrame | None = None,
        handles: pl.DataFrame | None = None,
        lenient: bool = False,
        files: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> TopicGraph:
        """Validate the tables and build a graph.

        Tables are polars DataFrames (or LazyFrames); pandas DataFrames are
        converted (anything else raises :class:`~graphkit.errors.ValidationError`).
        Strict by default: any bad row raises
        :class:`~graphkit.errors.ValidationError`. With ``lenient=True`` bad
        rows are removed and kept in :attr:`rejects` (see
        :func:`graphkit.model.schema.validate_tables`).
        """
        raw = {"people": people, "edges": edges, "items": items, "communities": communities,
               "transactions": transactions, "handles": handles}
        index: dict[str, pl.Series] = {}
        clean, rejects = validate_tables(raw, lenient=lenient, files=files, edge_index=index)
        graph = cls(**clean, rejects=rejects, source=source)
        graph._views[EDGE_INDEX] = pl.DataFrame(index)  # ids looked up once, while validating
        return graph

    def replace(self, **tables: pl.DataFrame) -> TopicGraph:
        """A new graph with some tables replaced (validated again, strictly).

        >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
        ...     pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
        >>> g.replace(edges=g.edges.with_columns(weight=pl.lit(2.0))).edges["weight"].to_list()
        [2.0]
        """
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise GraphkitError(f"replace() got unknown table(s) {sorted(unknown)}; tables are {list(TABLE_ORDER)}")
        current = {name: getattr(self, name) for name in TABLE_ORDER}
        current.update(tables)
        return TopicGraph.from_tables(**current, source=self.source)

    def without_people(self, person_ids: Iterable[str]) -> TopicGraph:
        """A new graph without ``person_ids`` and everything about them (the in-memory erasure).

        Gone: their ``people`` rows, their handles, every edge from or to them
        (a review or a membership is theirs when they wrote it), and the
        transactions of their customer ids. Everyone else's rows are kept as
        they are. Ids not in the graph are ignored; see :func:`graphkit.erase`
        to erase people from stored data and runs.

        >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b", "c"]}),
        ...     pl.DataFrame({"src": ["a", "b"], "dst": ["b", "c"], "kind": ["follows", "follows"]}))
        >>> g.without_people(["b"]).edges.height, g.without_people(["b"]).n_people
        (0, 2)
        """
        from graphkit.model.erasure import erase_tables

        tables, removed = erase_tables(self.tables(), person_ids)
        if not removed:
            return self
        graph = TopicGraph(**tables, rejects=self.rejects, source=self.source)
        if EDGE_INDEX in self._views and "edges" not in removed and "people" not in removed:
            graph._views[EDGE_INDEX] = self._views[EDGE_INDEX]
        return graph

    def tables(self) -> dict[str, pl.DataFrame]:
        """The six tables by name, in validation order."""
        return {name: getattr(self, name) for name in TABLE_ORDER}

    # --------------------------------------------------------------- indexing
    @property
    def n_people(self) -> int:
        return self.people.height

    @cached_property
    def topics(self) -> tuple[str, ...]:
        """Ordered topic vocabulary: every topic of items, communities and edges, sorted."""
        parts = [self.items["topic"], self.communities["topic"], self.edges["topic"]]
        return tuple(pl.concat(parts).drop_nulls().unique().sort().to_list())

    @cached_property
    def person_index(self) -> pl.DataFrame:
        """``person_id`` -> ``idx`` (row in :attr:`people`, UInt32)."""
        return self.people.select("person_id", pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"))

    @cached_property
    def topic_index(self) -> pl.DataFrame:
        """``topic`` -> ``topic_idx`` (position in :attr:`topics`, UInt32)."""
        return pl.DataFrame({"topic": list(self.topics)}, schema={"topic": pl.String}).with_row_index("topic_idx")

    def index_of(self, person_ids: Iterable[str]) -> np.ndarray:
        """Row indices of the given person ids; unknown ids raise.

        >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
        ...     pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
        >>> g.index_of(["b", "a"]).tolist()
        [1, 0]
        """
        ids = pl.DataFrame({"person_id": pl.Series(list(person_ids), dtype=pl.String)})
        hit = ids.join(self.person_index, on="person_id", how="left", maintain_order="left")
        missing = hit.filter(pl.col("idx").is_null())["person_id"]
        if missing.len():
            raise GraphkitError(f"unknown person_id(s): {missing.head(5).to_list()}; check the people table")
        return hit["idx"].to_numpy().astype(np.int64)

    def topic_of(self, topic: str) -> int:
        """Position of ``topic`` in :attr:`topics`; an unknown topic raises with the choices."""
        try:
            return self.topics.index(topic)
        except ValueError:
            shown = ", ".join(self.topics[:12]) + (" ..." if len(self.topics) > 12 else "")
            raise GraphkitError(f"unknown topic {topic!r}; topics are: {shown}") from None

    @cached_property
    def person_edges(self) -> pl.DataFrame:
        """Edges between people, with integer ``src_idx``, ``dst_idx`` and ``topic_idx``.

        Columns: src_idx, dst_idx (UInt32), kind (an Enum of the edge kinds), topic_idx
        (UInt32, position in :attr:`topics`; null when the edge has no topic), weight, sign, ts.
        """
        return self._indexed(pl.col("kind").is_in(PERSON_KINDS), dst=True)

    @cached_property
    def activity_edges(self) -> pl.DataFrame:
        """Topic-labelled contributions people made (mentions, replies, shares, reviews).

        Columns: src_idx, topic_idx, kind (Enum), weight, sign, ts, dst. This is each
        person's own activity on each topic, whatever the target.
        """
        e = self._indexed(pl.col("kind").is_in(ACTIVITY_KINDS) & pl.col("topic_idx").is_not_null(), dst=False)
        return e.select("src_idx", "topic_idx", "kind", "weight", "sign", "ts", "dst")

    @cached_property
    def purchase_acts(self) -> pl.DataFrame:
        """Purchases as activity: a purchase of an item of topic *t* is an act on *t*.

        Columns: src_idx (the buyer's row in :attr:`people`), topic_idx (the
        item's topic), ts. One row per purchase by a customer who is a person of
        an item that has a topic, except a purchase the buyer also reviewed at
        the same moment (same item, same ``ts``): that is one act, already
        counted as the review (on Ciao and CiaoDVD every review is also a
        transaction). Weight 1 per purchase, whatever the amount.
        """
        buyers = self.people.select("customer_id", pl.int_range(pl.len(), dtype=pl.UInt32).alias("src_idx")).filter(
            pl.col("customer_id").is_not_null())
        bought = (
            self.transactions.select("customer_id", "item_id", "ts")
            .join(buyers, on="customer_id", how="inner")
            .join(self.items.select("item_id", "topic").filter(pl.col("topic").is_not_null()), on="item_id",
                  how="inner")
        )
        # reviews by their author's row (the edge index: no id looked up again), as the purchases are
        reviewed = self.edges.select("kind", pl.col("dst").alias("item_id"), "ts").hstack(
            self.edge_index.select("src_idx")).filter(pl.col("kind") == "reviews").drop("kind")
        bought = bought.join(reviewed, on=["src_idx", "item_id", "ts"], how="anti", nulls_equal=True)
        return bought.select(
            "src_idx",
            pl.col("topic").cast(pl.Enum(list(self.topics))).to_physical().cast(pl.UInt32).alias("topic_idx"),
            "ts",
        )

    @property
    def edge_index(self) -> pl.DataFrame:
        """``src_idx``, ``dst_idx`` (UInt32) of every edge: the rows of its endpoints in :attr:`people`
        (``dst_idx`` null when the target is an item or a community). Found while validating;
        looked up here only for a graph built without validation.

        >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
        ...     pl.DataFrame({"src": ["b"], "dst": ["a"], "kind": ["follows"]}))
        >>> g.edge_index.rows()
        [(1, 0)]
        """
        if EDGE_INDEX not in self._views:
            people = self.people["person_id"]
            to_person = self.edges["kind"].is_in(PERSON_KINDS)
            self._views[EDGE_INDEX] = pl.DataFrame({
                "src_idx": row_numbers(self.edges["src"], people),
                "dst_idx": pl.select(pl.when(to_person).then(row_numbers(self.edges["dst"], people))).to_series(),
            })
        return self._views[EDGE_INDEX]

    def _indexed(self, keep: pl.Expr, *, dst: bool) -> pl.DataFrame:
        # Endpoints as people rows (the edge index), kinds as an Enum (one byte, not a 16-byte
        # string view per row) and topics as positions in self.topics, coded before filtering
        # so that no string column is ever copied.
        index = self.edge_index.select("src_idx", *(["dst_idx"] if dst else []))
        coded = self.edges.select(
            pl.col("kind").cast(pl.Enum(EDGE_KINDS)),
            pl.col("topic").cast(pl.Enum(list(self.topics))).to_physical().cast(pl.UInt32).alias("topic_idx"),
            "weight", "sign", "ts", *([] if dst else ["dst"]),
        ).hstack(index)
        return coded.filter(keep).select(*index.columns, "kind", "topic_idx", "weight", "sign", "ts",
                                         *([] if dst else ["dst"]))

    # ------------------------------------------------------------------ views
    def adjacency(
        self,
        kinds: tuple[str, ...] = ("follows",),
        *,
        topic: str | None = None,
        sign: int | None = None,
    ) -> sp.csr_array:
        """n x n CSR array of summed edge weights, row = src, column = dst.

        ``kinds`` selects edge kinds between people; ``topic`` keeps edges
        labelled with that topic (``None`` keeps all, whatever their topic);
        ``sign`` keeps only +1 or -1 edges. Cached per graph.
        """
        bad = [k for k in kinds if k not in PERSON_KINDS]
        if bad:
            raise GraphkitError(f"adjacency() takes kinds between people {PERSON_KINDS}; got {bad}")
        key = ("adjacency", tuple(kinds), topic, sign)
        if key not in self._views:
            e = self.person_edges.filter(pl.col("kind").is_in(kinds))
            if topic is not None:
                e = e.filter(pl.col("topic_idx") == self.topic_of(topic))
            if sign is not None:
                e = e.filter(pl.col("sign") == sign)
            n = self.n_people
            m = sp.csr_array(
                (e["weight"].to_numpy(), (e["src_idx"].to_numpy(), e["dst_idx"].to_numpy())), shape=(n, n)
            )
            m.sum_duplicates()
            self._views[key] = m
        return self._views[key]

    def activity(self, *, start=None, end=None) -> sp.csr_array:
        """n x T CSR array: count of each person's acts per topic.

        Counts the mentions, replies, shares and reviews a person authored on
        each topic (weight 1 per edge) and the purchases they made of the
        topic's items (:attr:`purchase_acts`; weight 1 per purchase),
        optionally within ``[start, end)`` on ``ts`` (undated acts count only
        when no window is given).
        """
        key = ("activity", start, end)
        if key not in self._views:
            e = pl.concat([self.activity_edges.select("src_idx", "topic_idx", "ts"), self.purchase_acts])
            if start is not None or end is not None:
                e = e.filter(dated_in(start, end))
            m = sp.csr_array(
                (np.ones(e.height), (e["src_idx"].to_numpy(), e["topic_idx"].to_numpy())),
                shape=(self.n_people, len(self.topics)),
            )
            m.sum_duplicates()
            self._views[key] = m
        return self._views[key]

    def igraph(self, kinds: tuple[str, ...] = ("follows",), *, topic: str | None = None, sign: int | None = None) -> "igraph.Graph":
        """Directed weighted igraph view of :meth:`adjacency` (vertex ``name`` = person_id)."""
        import igraph as ig

        key = ("igraph", tuple(kinds), topic, sign)
        if key not in self._views:
            a = self.adjacency(kinds, topic=topic, sign=sign).tocoo()
            g = ig.Graph(n=self.n_people, edges=np.column_stack([a.row, a.col]).tolist(), directed=True)
            g.es["weight"] = a.data.tolist()
            g.vs["name"] = self.people["person_id"].to_list()
            self._views[key] = g
        return self._views[key]

    def drop_views(self, *, keep: Iterable[str] = ()) -> None:
        """Forget the cached edge tables and views (rebuilt when asked again), except the views named in ``keep``.

        A view's name is its cache key's first part (``"topic_structure"``,
        ``"activity"``, ``"open_end"``, ...). The edge index and the id and
        topic indices are always kept. A batch job calls it between steps so
        that memory holds only what the next steps read (at 1M people the
        indexed edge tables alone are about 1 GB).

        >>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
        ...     pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
        >>> _ = g.person_edges, g.adjacency()
        >>> g.drop_views(keep=["topic_structure"])
        >>> "person_edges" in g.__dict__, g.adjacency().nnz
        (False, 1)
        """
        kept = set(keep) | {EDGE_INDEX}
        for key in list(self._views):
            if (key[0] if isinstance(key, tuple) else key) not in kept:
                del self._views[key]
        for name in ("person_edges", "activity_edges", "purchase_acts"):
            self.__dict__.pop(name, None)

    # ---------------------------------------------------------------- summary
    def summary(self) -> pl.DataFrame:
        """Row counts: people, customers, items, communities, topics, edges by kind, transactions."""
        counts = {
            "people": self.people.height,
            "customers": int(self.people["customer_id"].is_not_null().sum()),
            "handles": self.handles.height,
            "items": self.items.height,
            "communities": self.communities.height,
            "topics": len(self.topics),
            "edges": self.edges.height,
        }
        by_kind = self.edges.group_by("kind").len()
        for kind, n in sorted(by_kind.iter_rows()):
            counts[f"edges.{kind}"] = n
        counts["transactions"] = self.transactions.height
        counts["rejected rows"] = self.rejects.height
        return pl.DataFrame({"what": list(counts), "count": list(counts.values())})

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        return (
            f"TopicGraph(people={self.people.height}, edges={self.edges.height}, items={self.items.height}, "
            f"topics={len(self.topics)}, transactions={self.transactions.height}{src})"
        )

    def __getstate__(self) -> dict:  # views are caches: do not ship them to worker processes
        state = dict(self.__dict__)
        state["_views"] = {}
        for k in ("topics", "person_index", "topic_index", "person_edges", "activity_edges", "purchase_acts"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def dated_in(start: datetime | None, end: datetime | None, col: str = "ts") -> pl.Expr:
    """Filter expression ``start <= col < end`` (either bound may be None); undated rows pass
    only when there is no bound at all. The window rule for events and purchases.

    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"ts": [datetime(2024, 1, 1, tzinfo=timezone.utc), None]})
    >>> df.filter(dated_in(datetime(2023, 1, 1, tzinfo=timezone.utc), None)).height, df.filter(dated_in(None, None)).height
    (1, 2)
    """
    cond = pl.lit(True)
    if start is not None:
        cond = cond & (pl.col(col) >= start)
    if end is not None:
        cond = cond & (pl.col(col) < end)
    return cond.fill_null(False)


def counted_in(start: datetime | None, end: datetime | None) -> pl.Expr:
    """Which edges count in the window ``[start, end)``, as every analysis counts them.

    A follow counts once made: before ``end`` (undated follows always), whatever
    ``start`` -- a follow made before the window still stands in it. Any other
    edge is an event and counts when :func:`dated_in` the window.

    >>> from datetime import datetime, timezone
    >>> old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    >>> e = pl.DataFrame({"kind": ["follows", "shares"], "ts": [old, old]})
    >>> e.filter(counted_in(datetime(2024, 1, 1, tzinfo=timezone.utc), None))["kind"].to_list()
    ['follows']
    """
    made = pl.col("ts").is_null() | dated_in(None, end)
    return pl.when(pl.col("kind") == "follows").then(made).otherwise(dated_in(start, end))


def with_source(graph: TopicGraph, source: str) -> TopicGraph:
    """The same graph, labelled with where it came from."""
    views = {EDGE_INDEX: graph._views[EDGE_INDEX]} if EDGE_INDEX in graph._views else {}
    return dc_replace(graph, source=source, _views=views)
