"""Marketing analytics over topic influence and loyalty: the tables a marketing analyst works with.

- :mod:`~graphkit.marketing.loyalty`: recency, frequency, monetary, tenure; the
  influential-loyal-customers query.
- :mod:`~graphkit.marketing.matrix`: the value x influence matrix.
- :mod:`~graphkit.marketing.segments`: advocate segments and their overlaps.
- :mod:`~graphkit.marketing.engagement`: the four engagement KPIs.
- :mod:`~graphkit.marketing.experts`: experts per topic and recognition shares.
- :mod:`~graphkit.marketing.behaviour`: behavioural influence, audience, referrals.
- :mod:`~graphkit.marketing.explain`: why a person scores what she scores.
- :mod:`~graphkit.marketing.common`: the example market and shared helpers.

>>> from graphkit.marketing import example_market, quadrant_counts, value_influence_matrix
>>> quadrant_counts(value_influence_matrix(example_market(), topic="lego", score="topic_influence"))["customers"].sum()
10
"""

from graphkit.marketing.common import (
    HIGH_VALUE_PERCENTILE,
    LOYAL_PERCENTILE,
    TOP_INFLUENCE_PERCENTILE,
    best_topic_influence,
    example_market,
    in_window,
    percentile,
    resolve_influence,
    resolve_loyalty,
)
from graphkit.marketing.engagement import KPIS, engagement_kpis
from graphkit.marketing.matrix import QUADRANTS, quadrant_counts, value_influence_matrix
from graphkit.marketing.segments import SEGMENTS, advocate_segments, segment_overlaps

__all__ = [
    "HIGH_VALUE_PERCENTILE", "KPIS", "LOYAL_PERCENTILE", "QUADRANTS", "SEGMENTS", "TOP_INFLUENCE_PERCENTILE",
    "advocate_segments", "best_topic_influence", "engagement_kpis", "example_market", "in_window", "percentile",
    "quadrant_counts", "resolve_influence", "resolve_loyalty", "segment_overlaps", "value_influence_matrix",
]
