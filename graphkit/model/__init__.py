"""The data model at the centre: validated tables, the graph built from them, topics and windows.

- :mod:`~graphkit.model.schema`: declared table schemas; errors name table, column and rows.
- :mod:`~graphkit.model.graph`: :class:`~graphkit.model.graph.TopicGraph`, ids mapped to rows once.
- :mod:`~graphkit.model.topics`: activity, credibility, time windows, the per-topic structure.
"""

from graphkit.model.graph import TopicGraph

__all__ = ["TopicGraph"]
