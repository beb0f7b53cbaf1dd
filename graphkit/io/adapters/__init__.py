"""Adapters from public datasets (as laid out in ``shared/datasets/``) to a TopicGraph.

One module per dataset; each exposes ``load(folder) -> TopicGraph`` and
documents every transformation it makes.
"""
