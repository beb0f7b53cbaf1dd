"""Higgs Twitter (SNAP; De Domenico et al. 2013): the Higgs boson rumour, 1-7 July 2012.

Read from ``shared/datasets/higgs_twitter`` (see its SOURCE.txt). Transformations:

- the source of edges is ``higgs-activity_time.txt.gz``: one line per action
  ``userA userB unix_time RT|RE|MT``, where user A retweets / replies to /
  mentions user B. Each line becomes one edge A -> B (attention flows from the
  actor to the one retweeted, answered or mentioned): ``RT`` -> ``shares``,
  ``RE`` -> ``replies``, ``MT`` -> ``mentions``; ts = the action time (UTC);
  weight 1, sign +1 (the data carry no sentiment), channel ``twitter``;
- every edge has the one topic ``higgs`` (no hashtags in the data);
- nothing is aggregated or dropped: repeated actions stay separate edges
  (the weighted ``*_network.edgelist.gz`` files are exactly these actions
  counted per pair, which the tests check), and the 7,588 self-actions
  (7,081 self-mentions, 507 self-replies) are kept as self-loops;
- people are every user id in the activity file, sorted by number; none is a
  customer (no purchases); ``last_active`` is their last action, ``joined``
  is unknown (null). Users who never act (only retweeted, answered or
  mentioned) are the inactive accounts;
- there are no follows: the follower layer (``higgs-social_network``) is not
  in the collection.

>>> import polars as pl
>>> kinds = pl.Series(["RT", "RE", "MT"]).replace_strict(ACTIONS)
>>> kinds.to_list()
['shares', 'replies', 'mentions']
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.io.adapters._source import epoch_seconds, people_of, read_source, require
from graphkit.model.graph import TopicGraph

#: Activity code -> edge kind.
ACTIONS: dict[str, str] = {"RT": "shares", "RE": "replies", "MT": "mentions"}
TOPIC = "higgs"
ACTIVITY_FILE = "higgs-activity_time.txt.gz"


def load(folder: str | Path) -> TopicGraph:
    r"""Build a TopicGraph from the Higgs activity file (see the module docstring for every step).

    >>> import gzip, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with gzip.open(folder / ACTIVITY_FILE, "wt") as fh:
    ...     _ = fh.write("1 2 1341100972 RT\n3 1 1341100980 MT\n")
    >>> load(folder).edges.select("src", "dst", "kind").rows()
    [('1', '2', 'shares'), ('3', '1', 'mentions')]
    """
    (path,) = require(folder, ACTIVITY_FILE)
    act = read_source(path, separator=" ", has_header=False, new_columns=["a", "b", "t", "code"],
                      schema_overrides={"a": pl.Int64, "b": pl.Int64, "t": pl.Int64, "code": pl.String})
    edges = act.select(
        src=pl.col("a").cast(pl.String),
        dst=pl.col("b").cast(pl.String),
        kind=pl.col("code").replace_strict(ACTIONS, default=pl.col("code")),  # an unknown code fails validation
        topic=pl.lit(TOPIC),
        weight=pl.lit(1.0),
        sign=pl.lit(1, pl.Int8),
        ts=epoch_seconds("t"),
        channel=pl.lit("twitter"),
    )
    people = people_of(pl.concat([act["a"], act["b"]]), act.select(id="a", ts=epoch_seconds("t")),
                       customers=False, joined=False)
    return TopicGraph.from_tables(people, edges, files={"edges": str(path), "people": str(path)},
                                  source=str(Path(folder)))
