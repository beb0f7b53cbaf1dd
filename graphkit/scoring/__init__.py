"""Scores over the model: solvers, topic influence, potential reach, communities, and the registry of scores.

- :mod:`~graphkit.scoring.linalg`: the batched personalised-PageRank solver (all topics at once).
- :mod:`~graphkit.scoring.influence`: topic influence (personalised PageRank per topic).
- :mod:`~graphkit.scoring.reach`: potential reach (a fitted adoption model).
- :mod:`~graphkit.scoring.learned`: what the learned adoption scores share (arguments, as-of moment, n x T counts).
- :mod:`~graphkit.scoring.community`: Leiden communities per topic.
- :mod:`~graphkit.scoring.registry`: scores by name; the one place that sets the default.
"""
