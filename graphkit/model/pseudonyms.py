"""Pseudonyms: a dataset whose person ids, customer ids, handles and order ids are keyed hashes.

:func:`pseudonymise` replaces every identifier of a person in a graph's
tables by its pseudonym, ``<k>-`` followed by 32 hex digits of the
HMAC-SHA256 of the identifier under a secret key (``$GRAPHKIT_PSEUDONYM_KEY``),
where ``<k>`` is ``p`` (person), ``c`` (customer), ``h`` (handle) or ``o``
(order). The same id always gets the same pseudonym, in every table, so joins
still hold and every result (influence, communities, loyalty...) is the same
up to the names. People's ``name`` is dropped (set to null); items,
communities, topics, channels, dates, amounts and brands stay as they are.

Without the key a pseudonym cannot be turned back into an id. The key's
holder re-identifies by computing the pseudonyms of the ids she knows
(:func:`pseudonym`, or :func:`pseudonym_table` for a whole dataset) and
joining them on the pseudonymised results.

>>> pseudonym("lea", "person", key="k")
'p-3f59cc843cfe92335b7efeda33585e0e'
>>> from graphkit.marketing.common import example_market
>>> g = pseudonymise(example_market(), key="k")
>>> pseudonym("lea", "person", key="k") in g.people["person_id"].to_list(), g.people["name"].null_count()
(True, 16)
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import PERSON_KINDS, TopicGraph

__all__ = ["KINDS", "PSEUDONYM_KEY_ENV", "pseudonym", "pseudonym_table", "pseudonymise"]

#: The environment variable that holds the pseudonyms' key.
PSEUDONYM_KEY_ENV = "GRAPHKIT_PSEUDONYM_KEY"
#: Kind of identifier -> the pseudonym's prefix.
KINDS: dict[str, str] = {"person": "p", "customer": "c", "handle": "h", "order": "o"}
_HEX = 32  # 128 bits of the HMAC: collisions are out of reach (about 1e-20 for 1e9 ids)


def pseudonym_key(key: str | None = None) -> str:
    """``key``, or ``$GRAPHKIT_PSEUDONYM_KEY``; refused with the variable's name when neither is set."""
    key = os.environ.get(PSEUDONYM_KEY_ENV) if key is None else key
    if not key:
        raise GraphkitError(f"set the environment variable {PSEUDONYM_KEY_ENV} to a secret key: pseudonyms are "
                            f"keyed hashes (HMAC-SHA256) of the ids, and only the key's holder can re-identify them")
    return key


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise GraphkitError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return KINDS[kind]


def pseudonym(value: str, kind: str, *, key: str | None = None) -> str:
    """The pseudonym of one identifier of ``kind`` (person, customer, handle, order)."""
    prefix = _check_kind(kind)
    secret = pseudonym_key(key).encode()
    return f"{prefix}-" + hmac.new(secret, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:_HEX]


def _column(col: pl.Expr, kind: str, key: str, df: pl.DataFrame, name: str) -> pl.Expr:
    """``col`` mapped to pseudonyms (nulls stay null); each distinct value hashed once."""
    values = df[name].drop_nulls().unique()
    mapping = {v: pseudonym(v, kind, key=key) for v in values.to_list()}
    return col.replace_strict(mapping, default=None, return_dtype=pl.String)


def pseudonymise(graph: TopicGraph, *, key: str | None = None) -> TopicGraph:
    """``graph`` with every person id, customer id, handle and order id replaced by its keyed pseudonym.

    ``key`` defaults to ``$GRAPHKIT_PSEUDONYM_KEY``. People's names are
    dropped. An edge's ``dst`` is a person's pseudonym when its kind points at
    a person (follows, mentions, replies, shares, referred); an item or a
    community keeps its id. The result is validated like any graph.
    """
    secret = pseudonym_key(key)
    people = graph.people.with_columns(
        _column(pl.col("person_id"), "person", secret, graph.people, "person_id"),
        _column(pl.col("customer_id"), "customer", secret, graph.people, "customer_id"),
        pl.lit(None, dtype=pl.String).alias("name"),
    )
    handles = graph.handles.with_columns(
        _column(pl.col("person_id"), "person", secret, graph.handles, "person_id"),
        _column(pl.col("handle"), "handle", secret, graph.handles, "handle"),
    )
    to_person = pl.col("kind").is_in(list(PERSON_KINDS))
    edges = graph.edges.with_columns(
        _column(pl.col("src"), "person", secret, graph.edges, "src"),
        pl.when(to_person).then(_column(pl.col("dst"), "person", secret,
                                        graph.edges.filter(to_person), "dst")).otherwise(pl.col("dst")),
    )
    transactions = graph.transactions.with_columns(
        _column(pl.col("customer_id"), "customer", secret, graph.transactions, "customer_id"),
        _column(pl.col("order_id"), "order", secret, graph.transactions, "order_id"),
    )
    return TopicGraph.from_tables(people, edges, items=graph.items, communities=graph.communities,
                                  transactions=transactions, handles=handles, source=graph.source)


def pseudonym_table(graph: TopicGraph, *, key: str | None = None,
                    kinds: Iterable[str] = ("person", "customer", "handle")) -> pl.DataFrame:
    """The key holder's lookup table: ``kind``, ``value`` (the id), ``pseudonym``, for every id of ``graph``.

    Join it on pseudonymised results to re-identify them. It holds the ids:
    keep it with the key, not with the pseudonymised data.

    >>> from graphkit.marketing.common import example_market
    >>> t = pseudonym_table(example_market(), key="k")
    >>> t.filter(pl.col("value") == "lea")["pseudonym"].to_list() == [pseudonym("lea", "person", key="k")]
    True
    """
    secret = pseudonym_key(key)
    sources = {"person": graph.people["person_id"], "customer": graph.people["customer_id"],
               "handle": graph.handles["handle"], "order": graph.transactions["order_id"]}
    frames = []
    for kind in kinds:
        _check_kind(kind)
        values = sources[kind].drop_nulls().unique(maintain_order=True).to_list()
        frames.append(pl.DataFrame({"kind": [kind] * len(values), "value": values,
                                    "pseudonym": [pseudonym(v, kind, key=secret) for v in values]},
                                   schema={"kind": pl.String, "value": pl.String, "pseudonym": pl.String}))
    return pl.concat(frames) if frames else pl.DataFrame(schema={"kind": pl.String, "value": pl.String,
                                                                  "pseudonym": pl.String})
