"""CiaoDVD (Guo et al. 2014): a second review community, DVDs by genre, with trust and dates.

Read from ``shared/datasets/ciaodvd`` (``movie-ratings.txt``: ``userID,
movieID, genreID, reviewID, movieRating, date``; ``trusts.txt``: ``trustorID,
trusteeID, trustValue``; both without header; see SOURCE.md). A different
crawl and id space from Ciao (:mod:`graphkit.io.adapters.ciao`): the two cannot
be joined. Transformations, chosen to match the Ciao adapter:

- every user id seen in either file is a person and a customer
  (``customer_id`` = ``person_id``); ``joined`` / ``last_active`` are their
  first / last review date (null for users who only trust);
- trust ``trustor -> trustee`` is a ``follows`` edge (weight 1: trustValue is
  always 1; sign +1; undated: the file has no time);
- each rating row is a written review: a ``reviews`` edge user -> movie,
  topic = the movie's genre, sign = +1 for ratings 3..5 and -1 for 1..2,
  weight 1 (the review-helpfulness file that Ciao's weight comes from is not
  in the collection), ts = the review date at 00:00 UTC;
- genres are named ``genre-01`` .. ``genre-17`` by their id: the readme lists
  17 genre names, but nothing ties its order to the ids and the row counts
  suggest it does not (SOURCE.md), so no name is guessed;
- each review is also a transaction (no prices: ``amount`` null, each review
  its own order), as on Ciao;
- items are movies, each with its one genre as topic;
- nothing is dropped: the 320 repeated ratings of a (user, movie) pair
  (303 pairs; SOURCE.md calls them "320 pairs") stay separate reviews, each
  with its own reviewID.

>>> genre_topic(3)
'genre-03'
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.io.adapters._source import people_of, read_source, require
from graphkit.model.graph import TopicGraph

RATINGS, TRUSTS = "movie-ratings.txt", "trusts.txt"


def genre_topic(genre_id: int) -> str:
    """Topic label of a CiaoDVD genre id (1..17)."""
    return f"genre-{genre_id:02d}"


def load(folder: str | Path) -> TopicGraph:
    """Build a TopicGraph from CiaoDVD ratings and trust (see the module docstring for every step).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / TRUSTS).write_text("1,2,1")
    >>> _ = (folder / RATINGS).write_text("2,10,13,1,2,2001-01-02")
    >>> load(folder).edges.select("src", "dst", "kind", "topic", "sign").rows()
    [('1', '2', 'follows', None, 1), ('2', '10', 'reviews', 'genre-13', -1)]
    """
    ratings_path, trust_path = require(folder, RATINGS, TRUSTS)
    r = read_source(ratings_path, has_header=False,
                    new_columns=["user", "movie", "genre", "review", "rating", "date"],
                    schema_overrides={"user": pl.Int64, "movie": pl.Int64, "genre": pl.Int64, "review": pl.Int64,
                                      "rating": pl.Int64, "date": pl.String})
    t = read_source(trust_path, has_header=False, new_columns=["trustor", "trustee", "value"],
                    schema_overrides={"trustor": pl.Int64, "trustee": pl.Int64, "value": pl.Int64})
    r = r.with_columns(
        person=pl.col("user").cast(pl.String),
        item=pl.col("movie").cast(pl.String),
        topic=pl.format("genre-{}", pl.col("genre").cast(pl.String).str.zfill(2)),
        ts=pl.col("date"),  # ISO dates, parsed (or refused, naming the row) by validation
    )
    people = people_of(pl.concat([r["user"], t["trustor"], t["trustee"]]), r.select(id="user", ts="ts"),
                       customers=True, joined=True)
    items = (r.group_by("movie", "item", "topic").len().sort("movie")
             .select(item_id="item", topic="topic"))  # one genre per movie: a second one fails as a duplicate id
    follows = t.select(
        src=pl.col("trustor").cast(pl.String), dst=pl.col("trustee").cast(pl.String), kind=pl.lit("follows"),
        topic=pl.lit(None, pl.String), weight=pl.lit(1.0), sign=pl.lit(1, pl.Int8), ts=pl.lit(None, pl.String),
        channel=pl.lit("ciaodvd"),
    )
    reviews = r.select(
        src="person", dst="item", kind=pl.lit("reviews"), topic="topic", weight=pl.lit(1.0),
        sign=pl.when(pl.col("rating") >= 3).then(1).otherwise(-1).cast(pl.Int8), ts="ts", channel=pl.lit("ciaodvd"),
    )
    transactions = r.select(customer_id="person", item_id="item", amount=pl.lit(None, pl.Float64), ts="ts",
                            order_id=pl.lit(None, pl.String))
    return TopicGraph.from_tables(
        people, pl.concat([follows, reviews]), items=items, transactions=transactions,
        files={"people": str(ratings_path), "items": str(ratings_path), "edges": f"{trust_path} + {ratings_path}",
               "transactions": str(ratings_path)},
        source=str(Path(folder)),
    )
