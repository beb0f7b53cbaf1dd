"""``graphkit matrix | segments | experts | acts | explain``: the analyst's tables from the command line.

Thin wrappers over :mod:`graphkit.marketing`, :mod:`graphkit.marketing.experts`,
:mod:`graphkit.marketing.behaviour` and :mod:`graphkit.marketing.explain`. Each reads a dataset
folder (or ``bundled``, the bundled data), prints a short answer (one JSON
object with ``--json``), and with ``--out FILE`` (.parquet or .csv) writes the
full table, with ``--png FILE`` its figure (``--png FOLDER`` writes
``FOLDER/<command>.png``; the path written is reported).
"""

from __future__ import annotations

import argparse

import polars as pl

from graphkit.cli.common import (
    add_dataset,
    add_output,
    add_score,
    answer,
    figure_path,
    load_graph,
    rank,
    save_figure,
    use_agg,
)
from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.progress import step
from graphkit.scoring.registry import DEFAULT_SCORE, Ranking, label


def register(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser, *, figure: bool = True) -> None:
        add_dataset(p)
        p.add_argument("--out", metavar="FILE", help="write the full table (.parquet or .csv)")
        if figure:
            p.add_argument("--png", metavar="FILE", help="write the figure (PNG; a folder: FOLDER/<command>.png)")
        add_output(p)

    p = sub.add_parser("matrix", help="value x influence matrix of customers on a topic",
                       description="Place every customer by value (spend, or loyalty score when prices are "
                                   "unknown) and influence (--score): champions, loyalists, hidden advocates, "
                                   "occasional.")
    common(p)
    p.add_argument("--topic", help="topic (default: each customer's best topic)")
    p.add_argument("--value-threshold", type=float, default=50.0, help="high value above this percentile (default 50)")
    p.add_argument("--influence-threshold", type=float, default=90.0,
                   help="high influence above this percentile (default 90: the top 10%%)")
    add_score(p, "influence axis")
    p.set_defaults(handler=_matrix)

    p = sub.add_parser("segments", help="advocate segments and their overlaps",
                       description="Fans/followers, influencers, influential customers, community members, "
                                   "reviewers and loyal customers, with the people in each combination.")
    common(p)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics where influence counts (default: all)")
    p.add_argument("--brand", help="only this brand's accounts, communities and items")
    add_score(p, "influence that makes influencers")
    p.set_defaults(handler=_segments)

    p = sub.add_parser("experts", help="experts of a topic and a recognition budget split to the cent",
                       description="Rank the people whose contributions on a topic others found helpful; "
                                   "with --budget, split it in proportion to participation (sums exactly).")
    common(p)
    p.add_argument("--topic", required=True, help="topic")
    p.add_argument("--top", type=int, default=20, help="experts kept (default 20)")
    p.add_argument("--budget", help="recognition budget to split among the top experts, e.g. 5000 or 1234.50")
    p.set_defaults(handler=_experts)

    p = sub.add_parser("acts", help="behavioural influence vs audience and the influence ranking",
                       description="For each person and topic: followers who adopted the topic after them "
                                   "within a window, referral revenue, audience and influence (--score); and, per "
                                   "topic, which of audience or influence tracks acts (Spearman).")
    common(p)
    p.add_argument("--topics", nargs="+", metavar="TOPIC", help="topics (default: all)")
    p.add_argument("--window-days", type=float, default=90.0, help="days after the person's adoption (default 90)")
    add_score(p, "influence compared with acts")
    p.set_defaults(handler=_acts)

    p = sub.add_parser("explain", help="why a person is influential on a topic: the terms of the score",
                       description="The terms that make up a person's score on a topic (--score; default: the "
                                   "default ranking), largest first: the followers and attention givers that "
                                   "count, and the person's own activity; the shares sum to 1.")
    common(p)
    p.add_argument("person", help="person_id")
    p.add_argument("topic", help="topic")
    p.add_argument("--top", type=int, default=10, help="givers shown before the rest is summed (default 10)")
    add_score(p, "score to explain")
    p.set_defaults(handler=_explain)


def _load(args: argparse.Namespace) -> TopicGraph:
    return load_graph(args.path, quiet=args.quiet, lenient=args.lenient, rejects=args.rejects)


def _show(df: pl.DataFrame, rows: int = 15) -> str:
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=rows, tbl_cols=-1,
                   tbl_width_chars=160, fmt_str_lengths=60):
        return str(df.head(rows))


def _write(args: argparse.Namespace, table: pl.DataFrame, draw) -> dict[str, str]:
    """Write --out and --png when asked; return what was written (table, figure) by its real path."""
    written: dict[str, str] = {}
    if args.out:
        from graphkit.io.files import write_table

        written["table"] = str(write_table(table, args.out))
    if getattr(args, "png", None):
        target = figure_path(args.png, f"{args.command}.png")  # a bad name fails before the drawing
        use_agg()
        drawn = draw()
        written["figure"] = str(save_figure(getattr(drawn, "figure", drawn), target))
    return written


def _with_written(text: str, written: dict[str, str]) -> str:
    return "\n".join([text, *(f"written: {path}" for path in written.values())])


def _matrix(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing import quadrant_counts, value_influence_matrix

    g = _load(args)
    r = rank(g, args.score, topics=[args.topic] if args.topic else None, quiet=args.quiet)
    m = value_influence_matrix(g, topic=args.topic, influence=r.table, value_threshold=args.value_threshold,
                               influence_threshold=args.influence_threshold)
    counts = quadrant_counts(m).with_columns(pl.col("share").round(3))
    hidden = m.filter(pl.col("quadrant") == "hidden advocates").select(
        "person_id", "name", "topic", "value", "value_percentile", "influence_percentile")
    written = _write(args, m, lambda: plot.value_influence(m, score_label=label(r.score)))
    text = "\n".join([
        f"value x {label(r.score)} on {args.topic or 'each customer best topic'}: {m.height:,} "
        f"customers, value = {m['value_basis'][0]}, high value > p{args.value_threshold:g}, "
        f"high influence > p{args.influence_threshold:g}",
        _show(counts),
        f"hidden advocates (top {min(hidden.height, 10)} of {hidden.height:,}):",
        _show(hidden, 10),
    ])
    answer(args, {"topic": args.topic, "score": r.score, "score_fallback": r.fallback, "customers": m.height,
                  "value_basis": m["value_basis"][0], "value_threshold": args.value_threshold,
                  "influence_threshold": args.influence_threshold, "quadrants": counts,
                  "hidden_advocates": hidden.height, "top_hidden_advocates": hidden.head(10), "written": written},
           _with_written(text, written))
    return 0


def _segments(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing import advocate_segments, segment_overlaps

    g = _load(args)
    r = rank(g, args.score, topics=args.topics, quiet=args.quiet)
    s = advocate_segments(g, influence=r.table, brand=args.brand, topics=args.topics)
    o = segment_overlaps(s)
    written = _write(args, s, lambda: plot.segment_upset(o))
    text = (f"advocate segments of {s.height:,} people" + (f" (brand {args.brand})" if args.brand else "")
            + f", influencers by {label(r.score)}\n" + _show(o.select("combination", "people")))
    answer(args, {"people": s.height, "brand": args.brand, "topics": args.topics, "score": r.score,
                  "score_fallback": r.fallback,
                  "combinations": o.select("combination", "people"), "written": written},
           _with_written(text, written))
    return 0


def _experts(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.errors import GraphkitError
    from graphkit.marketing.experts import budget_cents, experts, recognition_shares

    if args.top < 1:
        raise GraphkitError(f"--top must be at least 1, got {args.top}")
    if args.budget is not None:
        budget_cents(args.budget)  # a bad budget fails before any work
    g = _load(args)
    e = experts(g, topics=[args.topic])
    table = e.filter(pl.col("rank") <= args.top)
    lines = [f"experts on {args.topic}: {e.height:,} contributors", _show(e.drop("topic"), min(args.top, 20))]
    payload: dict = {"topic": args.topic, "contributors": e.height, "experts": table.drop("topic")}
    if args.budget is not None:
        shares = recognition_shares(g, budget=args.budget, experts_table=e, top=args.top)
        lines += [f"recognition: {shares['amount'].sum()} split among {shares.height} people by participation",
                  _show(shares.select("person_id", "participation", "share", "amount"), min(args.top, 20))]
        # amounts as text: they are exact cents that sum to the budget, which floats would not keep
        payload["recognition"] = shares.with_columns(pl.col("amount").cast(pl.String))
        payload["budget"] = str(shares["amount"].sum())
        written = _write(args, shares, lambda: plot.recognition(shares, top=args.top))
    else:
        written = _write(args, table, lambda: plot.experts(e, args.topic, top=args.top))
    answer(args, {**payload, "written": written}, _with_written("\n".join(lines), written))
    return 0


def _acts(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing.behaviour import (
        behaviour_correlations,
        behaviour_vs_audience,
    )

    g = _load(args)
    r = rank(g, args.score, topics=args.topics, quiet=args.quiet)
    with step("adoption after exposure", enabled=not args.quiet):
        t = behaviour_vs_audience(g, topics=args.topics, influence=r.table, window_days=args.window_days)
    c = behaviour_correlations(t).with_columns(pl.col("^rho_.*$").round(3))
    written = _write(args, t, lambda: plot.behaviour_by_topic(t, topics=args.topics)[0].figure)
    text = (f"acts within {args.window_days:g} days vs audience and {label(r.score)} (Spearman with adopters):\n"
            + _show(c, 50))
    answer(args, {"window_days": args.window_days, "score": r.score, "score_fallback": r.fallback,
                  "correlations": c, "written": written},
           _with_written(text, written))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from graphkit import plot
    from graphkit.marketing.explain import explain

    g = _load(args)
    g.index_of([args.person])  # an unknown person fails before any work
    if args.score in ("adoption_influence", "expected_conversions") and args.score != DEFAULT_SCORE:
        # explain fits the model itself (ranking first would fit it twice); a score asked for by name never falls back
        with step(label(args.score), enabled=not args.quiet):
            ex = explain(g, args.person, args.topic, score=args.score, top=args.top)
        r = Ranking(table=ex, score=args.score, requested=args.score)
    else:
        r = rank(g, args.score, topics=[args.topic], quiet=args.quiet)
        ex = explain(g, args.person, args.topic, score=r.score, top=args.top)
    score = float(ex["contribution"].sum())
    if score == 0:  # the same answer with or without --png: nothing to explain is an error, not an empty table
        if r.score == "topic_influence":
            why = "no attention on that topic reaches them"
        elif r.score == "posts_x_active_new_followers" and not ex.filter(pl.col("term") == "own activity")["weight"].sum():
            why = "they did not act on that topic in the year before the data's end"
        elif r.score == "adoption_influence" and not ex.filter(pl.col("term") == "feature: acts_ever")["weight"].sum():
            why = "they never acted on that topic before the data's end"
        elif r.score == "expected_conversions" and ex.is_empty():
            why = "they never acted on that topic before the data's end, or no follower of theirs is new to it"
        elif r.score == "adopter_pagerank" and ex.height and not ex["weight"].sum():
            why = "they did not act on that topic in the year before the data's end"
        else:
            why = "no follower of theirs who could still take the topic up counts"
        raise GraphkitError(f"{args.person!r} has no influence on {args.topic!r} (score 0 by {r.score}): {why}, so "
                            f"there is nothing to explain; 'graphkit score --source {args.path} --write DIR --score "
                            f"{r.score}' writes everybody's score")
    terms = ex.select("term", "giver", "via", "weight", "contribution", "share")
    written = _write(args, ex, lambda: plot.explanation(ex))
    text = (f"{label(r.score)} of {args.person} on {args.topic}: score {score:.6g}, made of:\n"
            + _show(terms.with_columns(pl.col("share").round(4)), max(args.top + 2, terms.height)))
    answer(args, {"person_id": args.person, "topic": args.topic, "score_name": r.score,
                  "score_fallback": r.fallback, "score": score, "terms": terms, "written": written},
           _with_written(text, written))
    return 0
