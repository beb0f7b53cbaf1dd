"""CDNOW customer purchases (Fader & Hardie's 1/10 sample): loyalty with real dollar amounts.

Read from ``shared/datasets/cdnow/raw/CDNOW_master.txt`` (whitespace-separated,
CRLF, header ``customer_id date number_of_cds dollar_value``; see SOURCE.txt).
The data are purchases only: no social edges, no products, no topics. What
graphkit builds from them, and what it does not pretend:

- every customer is a person and a customer (``person_id`` = ``customer_id``
  = the zero-padded id as written, e.g. ``00001``); ``joined`` / ``last_active``
  are their first / last purchase date;
- each line is one transaction: ``amount`` = dollar_value (80 lines are
  $0.00 and are kept), ts = the date at 00:00 UTC, ``order_id`` null (each
  line its own order: the data do not say whether two lines of one customer
  on one day were one order); ``number_of_cds`` is kept as an extra
  ``quantity`` column;
- CDNOW records no product: every line buys the one item ``cdnow-cds``
  (topic ``music``, brand ``CDNOW``). Item-level questions cannot be asked of
  these data;
- the model needs an edges table and CDNOW has no social edges, so the only
  edges are facts the data do state: every customer is ``member_of`` the
  community ``cdnow-1997q1`` (the customers whose first CDNOW purchase was in
  the first quarter of 1997, which is how the sample was drawn), dated at
  their first purchase. ``member_of`` edges point at a community, not a
  person: they carry no influence, so influence scores on this graph are
  undefined and loyalty (recency, frequency, monetary) is what it is for.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.errors import DataFileError
from graphkit.io.adapters._source import read_source, require
from graphkit.model.graph import TopicGraph

FILE = "raw/CDNOW_master.txt"
ITEM, TOPIC, BRAND = "cdnow-cds", "music", "CDNOW"
COHORT = "cdnow-1997q1"
_LINE = r"^\s*(\d+)\s+(\d{8})\s+(\d+)\s+(\d+(?:\.\d+)?)\s*$"


def load(folder: str | Path) -> TopicGraph:
    r"""Build a TopicGraph of CDNOW customers and purchases (see the module docstring for every step).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "raw").mkdir()
    >>> _ = (folder / FILE).write_text(
    ...     " customer_id  date number_of_cds  dollar_value\r\n"
    ...     " 00001 19970101  1   11.77\r\n 00002 19970112  5   77.00\r\n 00001 19970301  2   0.00\r\n")
    >>> g = load(folder)
    >>> g.transactions.select("customer_id", "amount", "quantity").rows()
    [('00001', 11.77, 1), ('00002', 77.0, 5), ('00001', 0.0, 2)]
    """
    (path,) = require(folder, FILE)
    lines = read_source(path, has_header=False, separator="\x1f", quote_char=None, new_columns=["line"],
                        infer_schema=False, skip_rows=1)
    parsed = lines.select(pl.col("line").str.extract_groups(_LINE).alias("f")).unnest("f")
    parsed.columns = ["customer", "date", "cds", "dollars"]
    bad = parsed.with_row_index("row", offset=1).filter(pl.col("customer").is_null())
    if bad.height:
        raise DataFileError(str(path), f"{bad.height} line(s) are not 'customer_id date number_of_cds dollar_value': "
                                       f"data rows {bad['row'].head(5).to_list()}")
    tx = parsed.select(
        customer_id="customer",
        item_id=pl.lit(ITEM),
        amount=pl.col("dollars").cast(pl.Float64),
        ts=pl.col("date").str.to_datetime("%Y%m%d", time_unit="us").dt.replace_time_zone("UTC"),
        order_id=pl.lit(None, pl.String),
        quantity=pl.col("cds").cast(pl.Int64),
    )
    people = (
        tx.group_by("customer_id").agg(joined=pl.col("ts").min(), last_active=pl.col("ts").max())
        .sort("customer_id")
        .select(person_id="customer_id", customer_id="customer_id", joined="joined", last_active="last_active")
    )
    edges = people.select(src="person_id", dst=pl.lit(COHORT), kind=pl.lit("member_of"), ts="joined",
                          channel=pl.lit("cdnow"))
    items = pl.DataFrame({"item_id": [ITEM], "topic": [TOPIC], "brand": [BRAND],
                          "name": ["CDs (CDNOW records no product)"]})
    communities = pl.DataFrame({"community_id": [COHORT], "topic": [TOPIC], "brand": [BRAND],
                                "name": ["customers whose first CDNOW purchase was in Q1 1997"]})
    return TopicGraph.from_tables(people, edges, items=items, communities=communities, transactions=tx,
                                  files={"transactions": str(path), "people": str(path)}, source=str(Path(folder)))
