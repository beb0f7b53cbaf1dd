"""Bitcoin OTC who-trusts-whom (SNAP; Kumar et al. 2016): signed ratings between traders.

Read from ``shared/datasets/bitcoin_otc/soc-sign-bitcoinotc.csv`` (no header:
``source,target,rating,unix_time``; see SOURCE.txt). Transformations:

- each rating is one ``mentions`` edge rater -> rated: a rating is a public
  statement one trader makes about another after a trade, which is what a
  mention is in graphkit (attention from the one who speaks to the one spoken
  of). Not ``follows``: a follow is unsigned, topic-less, standing attention;
  not ``reviews``: those point at items;
- ``weight`` = |rating| (1..10: how strongly), ``sign`` = sign(rating)
  (-10..-1 -> -1, 1..10 -> +1; the data hold no 0), so credibility is the
  share of positive weight a trader receives;
- ts = the rating time (UTC); topic ``bitcoin-otc`` (one subject: trading
  trust); channel ``bitcoin-otc``;
- people are every trader id seen as rater or rated, sorted by number; none
  is a customer (no purchases), ``last_active`` is their last rating given,
  ``joined`` is unknown (null). Traders who never rate anyone are the
  inactive accounts;
- nothing is dropped (the file has no self-ratings and no repeated pair).

>>> import polars as pl
>>> pl.select(sign=_sign(pl.lit(-7)), weight=_weight(pl.lit(-7))).row(0)
(-1, 7.0)
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.io.adapters._source import epoch_seconds, people_of, read_source, require
from graphkit.model.graph import TopicGraph

FILE = "soc-sign-bitcoinotc.csv"
TOPIC = "bitcoin-otc"


def _sign(rating: pl.Expr) -> pl.Expr:
    # a 0 rating (none in the file) gets the sign 0, refused by validation, not guessed
    # (a null sign would take the default, +1)
    return pl.when(rating > 0).then(1).when(rating < 0).then(-1).otherwise(0).cast(pl.Int8)


def _weight(rating: pl.Expr) -> pl.Expr:
    return rating.abs().cast(pl.Float64)


def load(folder: str | Path) -> TopicGraph:
    r"""Build a TopicGraph of signed ratings (see the module docstring for every step).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / FILE).write_text("6,2,4,1289241912\n2,6,-10,1289241942\n")
    >>> load(folder).edges.select("src", "dst", "weight", "sign").rows()
    [('6', '2', 4.0, 1), ('2', '6', 10.0, -1)]
    """
    (path,) = require(folder, FILE)
    r = read_source(path, has_header=False, new_columns=["src", "dst", "rating", "t"],
                    schema_overrides={"src": pl.Int64, "dst": pl.Int64, "rating": pl.Int64, "t": pl.Int64})
    edges = r.select(
        src=pl.col("src").cast(pl.String), dst=pl.col("dst").cast(pl.String), kind=pl.lit("mentions"),
        topic=pl.lit(TOPIC), weight=_weight(pl.col("rating")), sign=_sign(pl.col("rating")),
        ts=epoch_seconds("t"), channel=pl.lit("bitcoin-otc"),
    )
    people = people_of(pl.concat([r["src"], r["dst"]]), r.select(id="src", ts=epoch_seconds("t")),
                       customers=False, joined=False)
    return TopicGraph.from_tables(people, edges, files={"edges": str(path), "people": str(path)},
                                  source=str(Path(folder)))
