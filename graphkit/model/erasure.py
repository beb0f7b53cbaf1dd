"""What names a person in a table, and the table without the people being erased.

A person is named by a ``person_id`` column (people, handles, and the score
tables of a run: influence, communities, loyalty), by ``src`` (an edge's
author is always a person), by ``dst`` when the edge's ``kind`` points at a
person (follows, mentions, replies, shares, referred; a review's ``dst`` is
an item and a membership's a community, which may carry the same text), by
``customer_id`` when it is the customer id of a person being erased (her
transactions, her loyalty), and inside list columns that list people
(:data:`PERSON_LIST_COLUMNS`, e.g. the community summaries'
``top_influencers``). A rejects table (``rejects.csv``) names people in the
JSON ``record`` of each rejected row; the same rules apply to it.

:func:`erase_rows` applies these rules to one table; :func:`erase_tables` to
a graph's six tables; :meth:`TopicGraph.without_people
<graphkit.model.graph.TopicGraph.without_people>` is the in-memory erasure.
Nothing else changes: other people's rows keep their values (ranks are not
recomputed, a community's ``size`` still counts the people it had).

>>> import polars as pl
>>> edges = pl.DataFrame({"src": ["ann", "bob", "cat"], "dst": ["bob", "i1", "bob"],
...                       "kind": ["follows", "reviews", "follows"]})
>>> out, n = erase_rows(edges, {"bob"}, set())
>>> out.rows(), n
([], 3)
>>> erase_rows(edges, {"i1"}, set())[1]  # an item named like a person is not a person
0
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.schema import EDGE_TARGET

__all__ = ["PERSON_LIST_COLUMNS", "check_person_ids", "customers_of", "erase_rows", "erase_tables"]

#: Edge kinds whose ``dst`` is a person.
PERSON_DST_KINDS: tuple[str, ...] = tuple(k for k, t in EDGE_TARGET.items() if t == "people")
#: List columns whose entries are person ids (removed entry by entry).
PERSON_LIST_COLUMNS: tuple[str, ...] = ("top_influencers",)
#: Columns that hold a person id in every row.
PERSON_COLUMNS: tuple[str, ...] = ("person_id", "src")
REJECTS_COLUMNS: tuple[str, ...] = ("table", "record")


def check_person_ids(person_ids: Iterable[str] | str) -> list[str]:
    """The ids to erase, sorted and without repeats; refused unless each is non-empty text.

    >>> check_person_ids(["b", "a", "b"])
    ['a', 'b']
    """
    if isinstance(person_ids, str):
        person_ids = [person_ids]
    try:
        ids = list(person_ids)
    except TypeError:
        raise GraphkitError(f"person_ids must be a list of ids (text), got {type(person_ids).__name__}") from None
    bad = [p for p in ids if not isinstance(p, str) or not p]
    if not ids or bad:
        raise GraphkitError(f"erasure needs one or more person ids, each non-empty text; got {bad or ids!r}")
    return sorted(set(ids))


def customers_of(people: pl.DataFrame, person_ids: Iterable[str]) -> set[str]:
    """The customer ids of ``person_ids`` in a ``people`` (or loyalty) table that has both columns."""
    if "person_id" not in people.columns or "customer_id" not in people.columns:
        return set()
    ids = pl.Series(list(person_ids), dtype=pl.String)
    found = people.filter(pl.col("person_id").cast(pl.String).is_in(ids.implode()))["customer_id"]
    return {str(c) for c in found.drop_nulls().to_list()}


def _named(df: pl.DataFrame, people: pl.Series, customers: pl.Series) -> pl.Expr | None:
    """True for the rows of ``df`` that name an erased person (None: no column can name one)."""
    terms = []
    for col in PERSON_COLUMNS:
        if col in df.columns:
            terms.append(pl.col(col).cast(pl.String).is_in(people.implode()))
    if "dst" in df.columns:
        about = pl.col("dst").cast(pl.String).is_in(people.implode())
        if "kind" in df.columns:  # a review's dst is an item, a membership's a community
            about = about & pl.col("kind").cast(pl.String).is_in(list(PERSON_DST_KINDS))
        terms.append(about)
    if "customer_id" in df.columns and customers.len():
        terms.append(pl.col("customer_id").cast(pl.String).is_in(customers.implode()))
    if not terms:
        return None
    return pl.any_horizontal(t.fill_null(False) for t in terms)


def _rejects_named(df: pl.DataFrame, people: set[str], customers: set[str]) -> pl.Series:
    """For a rejects table: True where the rejected row's ``record`` names an erased person."""
    flags = []
    for table, record in zip(df["table"].to_list(), df["record"].to_list()):
        try:
            row = json.loads(record) if record else {}
        except ValueError:
            row = {}
        if not isinstance(row, dict):
            row = {}
        values = {k: (None if v is None else str(v)) for k, v in row.items()}
        hit = any(values.get(c) in people for c in PERSON_COLUMNS)
        if values.get("dst") in people and (table != "edges" or values.get("kind") in PERSON_DST_KINDS
                                            or values.get("kind") is None):
            hit = True
        hit = hit or (values.get("customer_id") in customers)
        flags.append(hit)
    return pl.Series(flags, dtype=pl.Boolean)


def erase_rows(df: pl.DataFrame, people: set[str], customers: set[str]) -> tuple[pl.DataFrame, int]:
    """``df`` without the rows that name one of ``people`` (or one of their ``customers`` ids), and without
    their entries in person-list columns; with the number of rows and list entries removed.

    Rows that name nobody being erased are returned unchanged and in order.
    """
    people_s = pl.Series(sorted(people), dtype=pl.String)
    customers_s = pl.Series(sorted(customers), dtype=pl.String)
    if set(REJECTS_COLUMNS) <= set(df.columns) and df.schema["record"] == pl.String:
        named = _rejects_named(df, people, customers) if df.height else pl.Series([], dtype=pl.Boolean)
        out = df.filter(~named)
    else:
        mask = _named(df, people_s, customers_s)
        out = df if mask is None else df.filter(~mask)
    removed = df.height - out.height
    lists = [c for c in PERSON_LIST_COLUMNS if c in out.columns and isinstance(out.schema[c], pl.List)]
    for col in lists:
        before = out[col].list.len().fill_null(0).sum()
        out = out.with_columns(pl.col(col).list.eval(
            pl.element().filter(~pl.element().cast(pl.String).is_in(people_s.implode()))))
        removed += int(before - out[col].list.len().fill_null(0).sum())
    return out, removed


def erase_tables(
    tables: Mapping[str, pl.DataFrame], person_ids: Iterable[str] | str,
) -> tuple[dict[str, pl.DataFrame], dict[str, int]]:
    """A graph's tables without ``person_ids`` and everything about them; with the rows removed per table.

    Her customer id is read from ``tables["people"]``; counts list only the
    tables that lost rows.

    >>> from graphkit.marketing.common import example_market
    >>> tables, removed = erase_tables(example_market().tables(), ["lea"])
    >>> removed["people"], "lea" in tables["people"]["person_id"].to_list()
    (1, False)
    """
    people = set(check_person_ids(person_ids))
    customers = customers_of(tables["people"], people) if "people" in tables else set()
    out: dict[str, pl.DataFrame] = {}
    removed: dict[str, int] = {}
    for name, df in tables.items():
        out[name], n = erase_rows(df, people, customers)
        if n:
            removed[name] = n
    return out, removed
