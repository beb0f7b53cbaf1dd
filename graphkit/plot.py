"""Figures for the results a person would rather look at than read (matplotlib).

Every function takes the table a graphkit function returned, draws on ``ax``
(a new figure when None) and returns the Axes, so figures compose::

    fig, (left, right) = plt.subplots(1, 2)
    plot.value_influence(matrix, ax=left)
    plot.engagement(kpis, "lea", ax=right)

>>> from graphkit.marketing import example_market, value_influence_matrix
>>> ax = value_influence(value_influence_matrix(example_market(), score="topic_influence", topic="lego"))
>>> ax.get_title()
'Value x influence on lego (10 customers)'
>>> import matplotlib.pyplot as plt; plt.close("all")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.marketing.common import require_columns
from graphkit.marketing.engagement import KPIS
from graphkit.marketing.matrix import QUADRANTS, quadrant_counts
from graphkit.marketing.segments import SEGMENTS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: One colour per quadrant (colour-blind safe, from the Okabe-Ito palette).
QUADRANT_COLOURS = {
    "champions": "#009E73",
    "loyalists": "#0072B2",
    "hidden advocates": "#D55E00",
    "occasional": "#999999",
}


def _axes(ax: Any, size: tuple[float, float] = (6.4, 4.8)) -> "Axes":
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _marker(n: int) -> dict:
    """Marker size and opacity for a scatter of n points: big and solid when few, small and light when many."""
    if n <= 500:
        return {"s": 40, "alpha": 0.85}
    return {"s": 14, "alpha": 0.5} if n <= 2000 else {"s": 6, "alpha": 0.4}


def _label(row: dict) -> str:
    return str(row.get("name") or row.get("person_id"))


def _one_topic(table: pl.DataFrame, topic: str | None, what: str) -> tuple[str, pl.DataFrame]:
    """``topic`` (or the table's only topic) and the table's rows on it."""
    if topic is None:
        topics = table["topic"].unique().sort().to_list()
        if len(topics) != 1:
            raise GraphkitError(f"the {what} cover several topics {topics[:5]}; pass topic=")
        topic = topics[0]
    return topic, table.filter(pl.col("topic") == topic)


def _name_points(ax: "Axes", rows: pl.DataFrame, x: str, y: str) -> None:
    """Name a few points; labels fan out downwards so that points sharing a spot stay readable."""
    for i, row in enumerate(rows.iter_rows(named=True)):
        ax.annotate(_label(row), (row[x], row[y]), fontsize=7, xytext=(12, -4 - 11 * i), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#555555"})


# ------------------------------------------------------------------- matrix
def spread_ties(values: np.ndarray, threshold: float, *, seed: int = 0) -> np.ndarray:
    """Percentiles with each group of tied points spread evenly over the ranks the group occupies.

    Percentiles put ties at their lowest rank, so a score with few distinct
    values (loyalty without prices, many zero scores) draws as stripes of
    points on top of each other. Each tied group is spread (seeded, so
    figures are reproducible) from its value up to the next group's, but
    never across ``threshold``: a point stays on its side of the quadrant line.

    >>> spread_ties(np.array([10.0, 10.0, 10.0, 70.0]), 50.0).round(1).tolist()
    [43.3, 16.7, 30.0, 70.0]
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    levels, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    for k, (low, count) in enumerate(zip(levels, counts)):
        if count < 2:
            continue
        high = levels[k + 1] if k + 1 < len(levels) else 100.0
        if low <= threshold < high:
            high = threshold  # classified at or below the threshold: drawn there
        members = np.flatnonzero(inverse == k)
        out[members] = low + (high - low) * (rng.permutation(count) + 0.5) / count
    return out


def value_influence(matrix: pl.DataFrame, *, ax: Any = None, label_top: int = 5,
                    score_label: str | None = None) -> "Axes":
    """Scatter of a :func:`~graphkit.marketing.value_influence_matrix`: quadrant lines, counts, top names.

    x = value percentile among customers, y = influence percentile; one
    colour per quadrant with its count in the legend, dashed lines at the
    thresholds, and the ``label_top`` most influential customers named.
    Tied customers are spread over the ranks they share (:func:`spread_ties`),
    so a value with a few levels (Ciao's loyalty score) reads as blocks whose
    width is the number of customers, not as overplotted stripes.

    >>> from graphkit.marketing import example_market, value_influence_matrix
    >>> ax = value_influence(value_influence_matrix(example_market(), score="topic_influence", topic="lego"), label_top=2)
    >>> [t.get_text() for t in ax.texts], [t.get_text() for t in ax.get_legend().get_texts()][0]
    (['Zoe', 'Lea'], 'champions: 1')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(matrix, ("value_percentile", "influence_percentile", "quadrant", "value_threshold",
                      "influence_threshold", "value_basis", "topic"), "matrix",
             "Pass the table of value_influence_matrix(...).")
    if matrix.height == 0:
        raise GraphkitError("the matrix is empty: nothing to plot")
    ax = _axes(ax)
    vt, it = float(matrix["value_threshold"][0]), float(matrix["influence_threshold"][0])
    counts = dict(quadrant_counts(matrix).select("quadrant", "customers").iter_rows())
    drawn = matrix.with_columns(
        _x=pl.Series(spread_ties(matrix["value_percentile"].to_numpy(), vt)),
        _y=pl.Series(spread_ties(matrix["influence_percentile"].fill_null(0.0).to_numpy(), it)),
    )
    marker = _marker(matrix.height)
    for q in QUADRANTS:
        part = drawn.filter(pl.col("quadrant") == q)
        ax.scatter(part["_x"].to_numpy(), part["_y"].to_numpy(),
                   color=QUADRANT_COLOURS[q], label=f"{q}: {counts[q]:,}", edgecolors="none", **marker)
    ax.axvline(vt, color="black", lw=0.8, ls="--")
    ax.axhline(it, color="black", lw=0.8, ls="--")
    top = drawn.sort(["influence_percentile", "value_percentile"], descending=True).head(label_top)
    _name_points(ax, top, "_x", "_y")
    topics = matrix["topic"].drop_nulls().unique()
    topic = topics[0] if topics.len() == 1 else "best topic"
    ax.set_xlim(-2, 102)
    ax.set_ylim(-2, 102)
    spread = (drawn["_x"] != drawn["value_percentile"]).any() or (drawn["_y"] != drawn["influence_percentile"]).any()
    ax.set_xlabel(f"value percentile among customers ({matrix['value_basis'][0]})"
                  + ("\ntied customers spread over the ranks they share" if spread else ""))
    ax.set_ylabel("influence percentile (100 = top)" if score_label is None
                  else f"influence percentile (100 = top)\nby {score_label}")
    ax.set_title(f"Value x influence on {topic} ({matrix.height:,} customers)")
    ax.legend(loc="center left", fontsize=7, frameon=False, bbox_to_anchor=(1.0, 0.5))
    return ax


# ----------------------------------------------------------------- segments
def segment_upset(overlaps: pl.DataFrame, *, ax: Any = None, include_none: bool = False, max_bars: int = 15) -> "Axes":
    """UpSet-style chart of :func:`~graphkit.marketing.segment_overlaps`: bars of people per combination.

    Above the axis, one bar per combination of segments (largest first, at
    most ``max_bars``), its count on top; below, a dot matrix saying which
    segments each bar combines, with each segment's total size in its label.

    >>> from graphkit.marketing import example_market, advocate_segments, segment_overlaps
    >>> from graphkit.scoring.influence import topic_influence
    >>> g = example_market()
    >>> ax = segment_upset(segment_overlaps(advocate_segments(g, influence=topic_influence(g))))
    >>> len(ax.patches), ax.get_title()
    (6, 'Advocate segments and their overlaps (11 people)')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(overlaps, ("combination", "people", *SEGMENTS), "overlaps", "Pass the table of segment_overlaps(...).")
    data = overlaps if include_none else overlaps.filter(pl.col("combination") != "none")
    if data.height == 0:
        raise GraphkitError("nobody is in any segment: nothing to plot")
    total, combinations = int(data["people"].sum()), data.height
    data = data.sort(["people", "segments"], descending=[True, False]).head(max_bars)
    sizes = {s: int(overlaps.filter(pl.col(s))["people"].sum()) for s in SEGMENTS}
    ax = _axes(ax, (7.5, 5.0))
    x = np.arange(data.height)
    counts = data["people"].to_numpy()
    top = float(counts.max())
    bars = ax.bar(x, counts, color="#0072B2", width=0.6)
    for rect, c in zip(bars, counts):
        ax.text(rect.get_x() + rect.get_width() / 2, c + top * 0.01, f"{c:,}", ha="center", va="bottom", fontsize=7)
    step = top / 6.0  # the dot matrix lives below zero, one row per segment
    ys = [-(k + 1) * step for k in range(len(SEGMENTS))]
    for k, s in enumerate(SEGMENTS):
        on = data[s].to_numpy()
        ax.scatter(x, np.full(len(x), ys[k]), s=30, color=np.where(on, "black", "#dddddd"), zorder=3)
    for i, row in enumerate(data.select(SEGMENTS).iter_rows()):
        ys_on = [ys[k] for k, v in enumerate(row) if v]
        if len(ys_on) > 1:
            ax.plot([i, i], [min(ys_on), max(ys_on)], color="black", lw=1.5, zorder=2)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_yticks(ys + [0, top], [f"{s.replace('_', ' ')} ({sizes[s]:,})" for s in SEGMENTS] + ["0", f"{int(top):,}"],
                  fontsize=8)
    ax.set_xticks([])
    ax.set_xlim(-0.7, data.height - 0.3)
    ax.set_ylim(ys[-1] - step * 0.6, top * 1.12)
    ax.set_ylabel("people per combination")
    shown = f"; the {data.height} largest of {combinations} combinations" if data.height < combinations else ""
    ax.set_title(f"Advocate segments and their overlaps ({total:,} people{shown})", fontsize=10 if shown else None)
    return ax


# -------------------------------------------------------------- communities
def communities(summary: pl.DataFrame, topic: str | None = None, *, ax: Any = None, top: int = 10,
                modularity: float | None = None) -> "Axes":
    """The largest communities of a topic (:func:`~graphkit.scoring.community.topic_communities`' summary).

    One bar per community (the ``top`` largest) at its size, labelled with
    its top influencers, its size and (when it differs between communities)
    its share of customers; the title gives how many communities the topic
    has, the share of its people the bars hold and, when given, the
    partition's modularity.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.scoring.community import topic_communities
    >>> res = topic_communities(example_market(), topics=["lego"])
    >>> ax = communities(res.summary, modularity=res.modularity["lego"])
    >>> len(ax.patches) == res.summary.height, ax.get_title().startswith("Communities on lego")
    (True, True)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(summary, ("topic", "community", "size", "top_influencers", "customer_share"), "summary",
                    "Pass the summary of graphkit.scoring.community.topic_communities(...).")
    topic, every = _one_topic(summary, topic, "summary")
    if every.height == 0:
        raise GraphkitError(f"no communities on topic {topic!r}")
    data = every.sort(["size", "community"], descending=[True, False]).head(top)
    ax = _axes(ax, (7.0, 1.0 + 0.3 * data.height))
    y = np.arange(data.height)[::-1]
    ax.barh(y, data["size"].to_numpy(), color="#0072B2", height=0.7)
    varies = data["customer_share"].n_unique() > 1
    for yy, r in zip(y, data.iter_rows(named=True)):
        note = f" {r['size']:,}" + (f" ({r['customer_share']:.0%} customers)" if varies else "")
        ax.text(r["size"], yy, note, va="center", fontsize=7)
    labels = [f"#{r['community']}: {', '.join(r['top_influencers'][:3]) or '-'}" for r in data.iter_rows(named=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("people in the community")
    ax.set_ylabel("community: top influencers")
    ax.margins(x=0.15)
    held = data["size"].sum() / every["size"].sum()
    shown = (f"the {data.height} largest of {every.height:,} hold {held:.0%} of the people"
             if data.height < every.height else f"{every.height:,}")
    quality = f", modularity {modularity:.2f}" if modularity is not None else ""
    ax.set_title(f"Communities on {topic} ({shown}{quality})", fontsize=10)
    return ax


# --------------------------------------------------------------- engagement
def engagement(kpis: pl.DataFrame, person_id: str, *, ax: Any = None) -> "Axes":
    """One customer's four engagement KPIs against the population of customers.

    A bar per KPI at the customer's percentile among customers (the dashed
    line at 50 is the median customer); labels give the customer's value
    and the median value.

    >>> from graphkit.marketing import example_market, engagement_kpis
    >>> ax = engagement(engagement_kpis(example_market()), "lea")
    >>> len(ax.patches), ax.get_xlabel()
    (4, 'percentile among customers (100 = top)')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(kpis, ("person_id", *KPIS, *(f"{k}_percentile" for k in KPIS)), "kpis",
             "Pass the table of engagement_kpis(...).")
    row = kpis.filter(pl.col("person_id") == person_id)
    if row.height == 0:
        raise GraphkitError(f"{person_id!r} is not in the KPI table (KPIs are per customer)")
    r = row.row(0, named=True)
    ax = _axes(ax, (6.4, 3.6))
    y = np.arange(len(KPIS))[::-1]
    pcts = [r[f"{k}_percentile"] if r[f"{k}_percentile"] is not None else 0.0 for k in KPIS]
    ax.barh(y, pcts, color=["#0072B2", "#009E73", "#CC79A7", "#D55E00"], height=0.6)
    labels = []
    for k in KPIS:
        v, med = r[k], kpis[k].median()
        fmt = (lambda z: "n/a" if z is None else f"{z:.2f}") if k == "intimacy" else (
            (lambda z: "n/a" if z is None else f"{z:.0f}") if k == "influence" else (lambda z: f"{z:,.0f}"))
        labels.append(f"{k}\n{fmt(v)} (median {fmt(med)})")
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(50, color="black", lw=0.8, ls="--")
    ax.set_xlim(0, 100)
    ax.set_xlabel("percentile among customers (100 = top)")
    ax.set_title(f"Engagement of {_label(r)} vs {kpis.height:,} customers")
    return ax


# ---------------------------------------------------------------- behaviour
def behaviour_vs_audience(table: pl.DataFrame, *, topic: str | None = None, ax: Any = None, label_top: int = 5,
                          colorbar: bool = True) -> "Axes":
    """Acts against audience: followers who adopted after a person vs their audience size.

    One point per person of a :func:`~graphkit.marketing.behaviour.behaviour_vs_audience`
    table (on ``topic`` when given), x = audience (followers), y = adopters,
    colour = topic influence percentile; the Spearman correlations of acts
    with audience and with influence are in the title.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.behaviour import behaviour_vs_audience as table
    >>> ax = behaviour_vs_audience(table(example_market(), topics=["lego"], window_days=30), topic="lego")
    >>> ax.get_xlabel(), len(ax.collections[0].get_offsets())
    ('audience (followers)', 8)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(table, ("topic", "audience", "adopters", "influence_percentile", "person_id"), "table",
             "Pass the table of graphkit.marketing.behaviour.behaviour_vs_audience(...).")
    from graphkit.marketing.behaviour import behaviour_correlations

    data = table if topic is None else table.filter(pl.col("topic") == topic)
    if data.height == 0:
        raise GraphkitError(f"no rows to plot{' for topic ' + repr(topic) if topic else ''}")
    ax = _axes(ax)
    # Both axes are whole numbers: many people share a point. A seeded jitter of +-0.3 keeps them visible
    # without moving anyone to another count (the axes keep integer ticks).
    rng = np.random.default_rng(0)
    jitter = (lambda n: rng.uniform(-0.3, 0.3, n)) if data.height > 50 else (lambda n: np.zeros(n))
    pts = ax.scatter(np.maximum(data["audience"].to_numpy() + jitter(data.height), 0),
                     np.maximum(data["adopters"].to_numpy() + jitter(data.height), 0),
                     c=data["influence_percentile"].to_numpy(), cmap="viridis", vmin=0, vmax=100, **_marker(data.height))
    if colorbar:
        ax.figure.colorbar(pts, ax=ax, label="topic influence percentile")
    _name_points(ax, data.sort(["adopters", "audience"], descending=True).head(label_top), "audience", "adopters")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    corr = behaviour_correlations(data.with_columns(pl.lit("all").alias("topic")) if topic is None else data)
    rho = ""
    if corr.height == 1:
        c = corr.row(0, named=True)
        fmt = lambda z: "n/a" if z is None else f"{z:.2f}"  # noqa: E731
        rho = f"\nSpearman with adopters: audience {fmt(c['rho_audience'])}, influence {fmt(c['rho_influence'])}"
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("audience (followers)" + ("\nboth counts jittered by up to 0.3" if data.height > 50 else ""))
    ax.set_ylabel("followers who adopted after them")
    ax.set_title(f"Acts vs audience{' on ' + topic if topic else ''}{rho}", fontsize=10)
    return ax


def behaviour_by_topic(table: pl.DataFrame, *, topics: list[str] | None = None, max_panels: int = 9,
                       axes: Any = None) -> np.ndarray:
    """:func:`behaviour_vs_audience` for several topics side by side: one panel per topic, on a shared scale.

    ``topics`` picks the panels (default: every topic of the table, the
    busiest first, at most ``max_panels``; the figure title says when some
    are left out). Returns the array of Axes drawn on, one per topic.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.behaviour import behaviour_vs_audience as table
    >>> axes = behaviour_by_topic(table(example_market(), window_days=30))
    >>> [ax.get_title().split(chr(10))[0] for ax in axes]
    ['Acts vs audience on lego', 'Acts vs audience on cooking']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(table, ("topic", "audience", "adopters"), "table",
                    "Pass the table of graphkit.marketing.behaviour.behaviour_vs_audience(...).")
    if max_panels < 1:
        raise GraphkitError(f"max_panels must be at least 1, got {max_panels}")
    busiest = (table.group_by("topic").agg(pl.col("adopters").sum().alias("adopters"), pl.len().alias("people"))
               .sort(["adopters", "people", "topic"], descending=[True, True, False])["topic"].to_list())
    if topics is not None:
        missing = [t for t in topics if t not in busiest]
        if missing:
            raise GraphkitError(f"no rows for topic(s) {missing} in the table; it has {busiest[:10]}")
        busiest = list(topics)
    if not busiest:
        raise GraphkitError("the table is empty: nothing to plot")
    shown = busiest[:max_panels]
    if axes is None:
        import matplotlib.pyplot as plt

        cols = min(3, len(shown))
        rows = -(-len(shown) // cols)
        fig, grid = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.9 * rows), layout="constrained", squeeze=False)
        for extra in grid.ravel()[len(shown):]:
            extra.remove()
        axes = grid.ravel()[: len(shown)]
    else:
        axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if len(axes) < len(shown):
            raise GraphkitError(f"{len(shown)} topics to draw but only {len(axes)} axes given")
        axes = axes[: len(shown)]
    for ax, topic in zip(axes, shown):
        behaviour_vs_audience(table, topic=topic, ax=ax, label_top=3, colorbar=False)
        ax.title.set_fontsize(9)
    axes[0].figure.colorbar(axes[0].collections[0], ax=list(axes), label="topic influence percentile", shrink=0.8)
    if len(busiest) > len(shown):
        axes[0].figure.suptitle(f"{len(shown)} of {len(busiest)} topics (most adopters first; choose with topics=)",
                                fontsize=10)
    return np.asarray(axes, dtype=object)


def audience_activity(audience: pl.DataFrame, *, ax: Any = None, summary: pl.DataFrame | None = None) -> "Axes":
    """Audience vs active audience: how much of each person's following posts at all.

    One point per person with followers (x = followers, y = active
    followers) and the diagonal where every follower is active; with the
    :func:`~graphkit.marketing.behaviour.inactive_accounts` ``summary``, the share of
    never-active accounts goes in the title.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.behaviour import audience, inactive_accounts
    >>> g = example_market()
    >>> ax = audience_activity(audience(g), summary=inactive_accounts(g))
    >>> ax.get_title()
    'Audience vs active audience (4 people with followers)\\n19% of accounts were not active in the window, 19% never were'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(audience, ("audience", "active_audience"), "audience", "Pass the table of graphkit.marketing.behaviour.audience(...).")
    data = audience.filter(pl.col("audience") > 0)
    if data.height == 0:
        raise GraphkitError("nobody has followers: nothing to plot")
    ax = _axes(ax)
    ax.scatter(data["audience"].to_numpy(), data["active_audience"].to_numpy(), color="#0072B2", **_marker(data.height))
    hi = float(data["audience"].max())
    ax.plot([0, hi], [0, hi], color="black", lw=0.8, ls="--", label="every follower active")
    ax.set_xlabel("audience (followers)")
    ax.set_ylabel("active audience (followers who posted or bought)")
    title = f"Audience vs active audience ({data.height:,} people with followers)"
    if summary is not None:
        require_columns(summary, ("people", "inactive", "share_never_active"), "summary",
                 "Pass graphkit.marketing.behaviour.inactive_accounts(...).")
        inactive = summary["inactive"][0] / summary["people"][0]
        title += (f"\n{inactive:.0%} of accounts were not active in the window, "
                  f"{summary['share_never_active'][0]:.0%} never were")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


# ------------------------------------------------------------------ experts
def experts(table: pl.DataFrame, topic: str, *, ax: Any = None, top: int = 10) -> "Axes":
    """The ``top`` experts of a topic: stacked bars of helpfulness and endorsements.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.experts import experts as table
    >>> ax = experts(table(example_market()), "lego", top=3)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['lea', 'zoe', 'f5']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(table, ("person_id", "topic", "helpfulness", "endorsements", "rank"), "table",
             "Pass the table of graphkit.marketing.experts.experts(...).")
    data = table.filter(pl.col("topic") == topic).sort("rank").head(top)
    if data.height == 0:
        raise GraphkitError(f"no experts on topic {topic!r}")
    ax = _axes(ax)
    y = np.arange(data.height)[::-1]
    h, e = data["helpfulness"].to_numpy(), data["endorsements"].to_numpy()
    ax.barh(y, h, color="#009E73", label="helpfulness of their reviews")
    ax.barh(y, e, left=h, color="#E69F00",
            label="positive mentions, replies, shares received" if e.any() else "_nolegend_")
    ax.set_yticks(y, data["person_id"].to_list(), fontsize=8)
    ax.set_xlim(0, float((h + e).max()) * 1.05 or 1.0)  # zero-width stacked bars would pin the edge to the longest
    ax.set_xlabel("expertise" if e.any() else "expertise (nobody here received mentions, replies or shares)")
    ax.set_title(f"Top {data.height} experts on {topic}")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return ax


def recognition(shares: pl.DataFrame, *, ax: Any = None, top: int = 20) -> "Axes":
    """How a recognition budget is split: one bar per person (the ``top`` largest), amount labelled.

    The title gives the whole budget and how many people share it, and says
    so when only the ``top`` largest shares are drawn.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.experts import recognition_shares
    >>> ax = recognition(recognition_shares(example_market(), budget=100, topics=["lego"]))
    >>> len(ax.patches)
    6
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(shares, ("person_id", "amount", "share"), "shares", "Pass the table of recognition_shares(...).")
    if shares.height == 0:
        raise GraphkitError("no recognition shares to plot")
    data = shares.sort("amount", descending=True).head(top)
    total = shares["amount"].sum()
    ax = _axes(ax)
    y = np.arange(data.height)[::-1]
    amounts = [float(a) for a in data["amount"].to_list()]
    ax.barh(y, amounts, color="#56B4E9")
    for yy, a in zip(y, data["amount"].to_list()):
        ax.text(float(a), yy, f" {a}", va="center", fontsize=7)
    ax.set_yticks(y, [_label(r) for r in data.iter_rows(named=True)], fontsize=8)
    ax.set_xlabel("amount")
    shown = f"{shares.height:,} people" if data.height == shares.height else \
        f"largest {data.height} of {shares.height:,} shares shown"
    ax.set_title(f"Recognition: budget {total} split by participation ({shown})", fontsize=10)
    return ax


# ----------------------------------------------------------------- influence
def top_influencers(influence: Any, topic: str, *, ax: Any = None, k: int = 10,
                    score_label: str = "topic influence (PageRank)") -> "Axes":
    """The ``k`` most influential people on a topic: bars of score, audience in the labels.

    ``influence`` is a ranking table (:func:`graphkit.scoring.registry.score_table`,
    ``topic_influence(...)`` or its table); ``score_label`` names its score on
    the axis (:func:`graphkit.scoring.registry.label`).

    >>> from graphkit.marketing import example_market
    >>> from graphkit.scoring.influence import topic_influence
    >>> ax = top_influencers(topic_influence(example_market()), "lego", k=3)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['zoe (5 followers)', 'lea (6 followers)', 'f1 (0 followers)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    table = getattr(influence, "table", influence)
    require_columns(table, ("person_id", "topic", "score"), "influence", "Pass topic_influence(...) or its .table.")
    data = table.filter(pl.col("topic") == topic).sort(["score", "person_id"], descending=[True, False]).head(k)
    if data.height == 0:
        raise GraphkitError(f"no influence rows for topic {topic!r}")
    ax = _axes(ax)
    y = np.arange(data.height)[::-1]
    ax.barh(y, data["score"].to_numpy(), color="#0072B2")
    if "audience" in data.columns:
        labels = [f"{r['person_id']} ({r['audience']:,} followers)" for r in data.iter_rows(named=True)]
    else:
        labels = data["person_id"].to_list()
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"score: {score_label}")
    ax.set_title(f"Top {data.height} influencers on {topic}")
    return ax


def influential_loyal_customers(answers: pl.DataFrame, topic: str | None = None, *, ax: Any = None,
                                top: int = 15, score_label: str | None = None) -> "Axes":
    """The answer to the flagship query (:func:`~graphkit.marketing.loyalty.influential_loyal_customers`) as bars.

    One bar per customer (the ``top`` best of ``topic``, or of the only topic
    in the table), in the answer's order: the bar is the ranking ``score``
    itself (``score_label`` names it on the axis), its colour the loyalty
    score, and the label gives loyalty, influence rank and fit. The fit
    (influence percentile x loyalty) orders the answer, but among the very
    top it is nearly 1 for everyone; the score shows how far apart they are.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.loyalty import influential_loyal_customers as query
    >>> answers = query(example_market(), topics="lego", score="topic_influence", top_percentile=25, min_loyalty=0.5)
    >>> ax = influential_loyal_customers(answers, score_label="topic influence")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xlabel()
    (['zoe (loyalty 0.67, rank 1, fit 0.67)'], 'topic influence')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(answers, ("topic", "loyal_rank", "person_id", "fit", "score", "rank", "loyalty_score"), "answers",
             "Pass the table of graphkit.marketing.loyalty.influential_loyal_customers(...).")
    topic, everyone = _one_topic(answers, topic, "answers")
    data = everyone.sort("loyal_rank").head(top)
    if data.height == 0:
        raise GraphkitError(f"no influential loyal customers on {topic!r}: try a lower min_loyalty or a larger top_percentile")
    import matplotlib as mpl

    ax = _axes(ax, (7.0, 0.9 + 0.32 * data.height))
    y = np.arange(data.height)[::-1]
    cmap, norm = mpl.colormaps["viridis"], mpl.colors.Normalize(0.0, 1.0)
    ax.barh(y, data["score"].to_numpy(), color=cmap(norm(data["loyalty_score"].to_numpy())), height=0.7)
    labels = [f"{_label(r)} (loyalty {r['loyalty_score']:.2f}, rank {r['rank']:,}, fit {r['fit']:.2f})"
              for r in data.iter_rows(named=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="loyalty score", shrink=0.8)
    ax.set_xlabel(score_label or "ranking score")
    shown = f"top {data.height} of {everyone.height:,}" if data.height < everyone.height else f"{data.height}"
    ax.set_title(f"Influential loyal customers on {topic} ({shown}, by fit)", fontsize=10)
    return ax


def explanation(table: pl.DataFrame, *, ax: Any = None) -> "Axes":
    """The terms of a score (:func:`~graphkit.marketing.explain.explain`) as bars of their share.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.marketing.explain import explain_influence
    >>> ax = explanation(explain_influence(example_market(), "lea", "lego"))
    >>> len(ax.patches), ax.get_title()
    (6, 'What makes lea influential on lego')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    require_columns(table, ("person_id", "topic", "term", "giver", "via", "share"), "table",
             "Pass the table of explain(...).")
    if table.height == 0 or table["share"].is_null().all():
        raise GraphkitError("this person scores 0 on the topic: nothing to explain")
    table = table.filter(~pl.col("term").str.starts_with("feature: "))  # a model's inputs: values, not shares
    ax = _axes(ax)
    y = np.arange(table.height)[::-1]
    colours = {"attention": "#0072B2", "other attention": "#56B4E9", "own activity": "#E69F00",
               "new follower": "#0072B2", "other new followers": "#56B4E9", "credibility": "#E69F00"}
    ax.barh(y, table["share"].fill_null(0.0).to_numpy(), color=[colours.get(t, "#999999") for t in table["term"]])
    labels = [f"{r['giver']} via {r['via']}" if r["giver"] else r["term"] for r in table.iter_rows(named=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("share of the score")
    who, topic = table["person_id"][0], table["topic"][0]
    ax.set_title(f"What makes {who} influential on {topic}")
    return ax


def rank_intervals(uncertainty: Any, topic: str, *, ax: Any = None, top: int = 20, k: int | None = None) -> "Axes":
    """How sure the ranks of a topic's ``top`` people are: each person's rank interval, their rank, p(top k).

    ``uncertainty`` is :func:`graphkit.scoring.registry.rank_uncertainty`'s
    result or any table with ``person_id``, ``topic``, ``rank``, ``rank_low``,
    ``rank_high`` (e.g. ``topic_influence(..., uncertainty=100).table``). One
    row per person, best rank on top: a bar from ``rank_low`` to
    ``rank_high`` (the interval over bootstrap resamples), a dot at the
    published rank, and ``p_top_<k>`` in the label (``k`` defaults to the
    largest the table has). A dashed line marks rank ``k``: the bars that
    cross it are the places that are not settled.

    >>> from graphkit.marketing import example_market
    >>> from graphkit.scoring.influence import topic_influence
    >>> ax = rank_intervals(topic_influence(example_market(), uncertainty=30).table, "lego", top=3, k=1)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['zoe  p(top 1) 0.63', 'lea  p(top 1) 0.33', 'f1  p(top 1) 0.00']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    table = getattr(uncertainty, "table", uncertainty)
    require_columns(table, ("person_id", "topic", "rank", "rank_low", "rank_high"), "uncertainty",
                    "Pass rank_uncertainty(...) or a table computed with uncertainty=N.")
    have = sorted(int(c.removeprefix("p_top_")) for c in table.columns if c.startswith("p_top_"))
    if k is None:
        k = have[-1] if have else None
    elif k not in have:
        raise GraphkitError(f"the table has no p_top_{k} column; it has {[f'p_top_{h}' for h in have]}")
    data = table.filter(pl.col("topic") == topic).sort("rank").head(top)
    if data.height == 0:
        raise GraphkitError(f"no rows for topic {topic!r}")
    if data["rank_low"].null_count() == data.height:
        raise GraphkitError(f"no resample kept topic {topic!r}: it has no rank intervals")
    ax = _axes(ax, (6.4, max(3.0, 0.28 * data.height + 1.2)))
    y = np.arange(data.height)[::-1]
    low, high = data["rank_low"].to_numpy().astype(float), data["rank_high"].to_numpy().astype(float)
    rank = data["rank"].to_numpy().astype(float)
    p = data[f"p_top_{k}"].to_numpy() if k is not None else np.zeros(data.height)
    colours = np.where(p >= 0.9, "#009E73", np.where(p >= 0.5, "#E69F00", "#999999")) if k is not None \
        else np.full(data.height, "#0072B2")
    ax.hlines(y, low - 0.4, high + 0.4, colors=colours, linewidth=6, alpha=0.8)
    ax.scatter(rank, y, color="black", s=16, zorder=3, label="published rank")
    labels = [f"{pid}  p(top {k}) {pk:.2f}" if k is not None else str(pid)
              for pid, pk in zip(data["person_id"].to_list(), p)]
    ax.set_yticks(y, labels, fontsize=8)
    if k is not None:
        ax.axvline(k + 0.5, color="#555555", linestyle="--", linewidth=1)
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=c, linewidth=6, label=t) for c, t in
                   (("#009E73", f"in the top {k} in >= 90% of resamples"), ("#E69F00", "in 50-90%"),
                    ("#999999", "in < 50%"))]
        ax.legend(handles=[*handles, Line2D([], [], marker="o", color="black", linestyle="", label="published rank")],
                  fontsize=7, frameon=False, loc="upper right")
    ax.set_xlim(0.5, max(float(high.max()), k or 0) + 1.5)
    ax.set_xlabel("rank (1 = top); bar: the rank's interval over resamples of the evidence")
    ax.set_title(f"How sure are the top {data.height} ranks on {topic}?")
    return ax
