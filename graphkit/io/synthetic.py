"""A seeded, vectorised generator of realistic topic graphs, for tests and scale.

:func:`generate` builds every table of a :class:`~graphkit.model.graph.TopicGraph`
with numpy (no Python loop over people or edges), so a million people and
twenty million edges take seconds. What it models, and how:

- **follows**: each person follows a lognormal number of accounts (mean
  ``follows_per_person``); whom they follow is drawn with probability
  proportional to a hidden popularity ``rank ** -0.75``, so in-degrees are
  heavy-tailed (a power law with exponent about 2.3). Self-follows and repeated
  follows are removed, so the count is slightly below ``n * follows_per_person``.
- **topics** have Zipf-like popularity (``p(topic k) ~ 1 / k ** topic_skew``).
  Every person has a primary topic drawn from it; a contribution is on the
  author's primary topic 70% of the time, else on a topic drawn from the
  popularity; a mention/reply/share is instead on the target's primary topic
  half of the time (people share experts on the experts' subject).
- **inactive accounts**: ``inactive_share`` of people (44% by default, as in
  the texts) never author anything; they still follow, buy and are followed
  (a purchase is activity, so the buyers among them are not inactive in the
  influence model).
  Every other person authors at least one contribution; the rest are spread
  with lognormal (heavy-tailed) activity.
- **interactions** (``interactions_per_person`` per person on average, all
  people counted): 25% mentions, 15% replies, 35% shares, 25% reviews. A
  mention/reply/share targets an account the author follows 60% of the time,
  else a popularity-weighted account. Signs are +1 except for 5% of accounts
  that are *controversial* (half the attention they receive is negative) and
  a 3% background of negative attention. Weight is 1 for people interactions
  and a helpfulness score 1..5 for reviews (as in Ciao).
- **items**: ``n_people // 20`` products (at least 5 per topic), spread over
  topics by popularity, each with a lognormal price and one of the brands.
- **communities**: one brand community for each of the
  ``min(n_topics, 8)`` most popular topics; a person whose primary topic has a
  community is a ``member_of`` it with probability 0.2.
- **customers**: ``customer_share`` of people have a ``customer_id``. Each
  buys a geometric number of lines (mean ``transactions_per_customer``), half
  of them in a topic of an account they follow (adoption after exposure), the
  rest in their own primary topic; ``amount`` = price x quantity; 20% of lines
  join the customer's previous line into one order (same order id and time).
- **referred**: up to 5% of customers were referred by an account they
  follow that is itself a customer and joined before them (edge referrer -> referred,
  dated at the referred person's sign-up).
- **time**: people join during the first 80% of 2023-01-01 .. 2025-01-01 UTC;
  follows, contributions and purchases fall between the actor's join date and
  the end. ``last_active`` is the time of the last contribution (null for
  inactive accounts).
- **handles**: every person has a ``social`` handle; 25% also a ``forum`` one.

The tables are built exactly in the declared schemas (column order and
types), so the generated graph is handed to :class:`TopicGraph` directly; a
test checks that :func:`graphkit.model.schema.validate_tables` accepts a generated
graph unchanged. Pass ``validate=True`` to run the full validation anyway.

>>> g = generate(n_people=500, seed=1)
>>> g.people.height, len(g.topics)
(500, 16)
>>> never_authored = np.bincount(g.activity_edges["src_idx"].to_numpy(), minlength=g.n_people) == 0
>>> float(never_authored.mean())
0.44
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import polars as pl

from graphkit.errors import GraphkitError
from graphkit.model.graph import TopicGraph
from graphkit.model.schema import TABLES

#: The generated time window, UTC.
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
END = datetime(2025, 1, 1, tzinfo=timezone.utc)

#: Readable names for the first topics (by popularity); further topics are ``topic-NNN``.
TOPIC_NAMES: tuple[str, ...] = (
    "music", "films", "books", "travel", "cooking", "fashion", "fitness", "gaming",
    "photography", "gardening", "cars", "beauty", "wine", "frogs", "hifi", "cycling",
    "coffee", "camping", "knitting", "astronomy", "chess", "pets", "diy", "skiing",
    "tea", "surfing", "comics", "watches", "running", "baking", "birding", "sailing",
)
#: Kinds of authored contributions and their shares of all interactions.
INTERACTION_MIX: dict[str, float] = {"mentions": 0.25, "replies": 0.15, "shares": 0.35, "reviews": 0.25}

_POPULARITY_EXPONENT = 0.75  # rank ** -a for whom people follow: in-degree tail ~ k ** -(1 + 1/a)
_US = 1_000_000


def topic_names(n_topics: int) -> list[str]:
    """Names of the first ``n_topics`` topics, most popular first.

    >>> topic_names(3), topic_names(34)[-1]
    (['music', 'films', 'books'], 'topic-034')
    """
    return [TOPIC_NAMES[i] if i < len(TOPIC_NAMES) else f"topic-{i + 1:03d}" for i in range(n_topics)]


def generate(
    *,
    n_people: int = 10_000,
    follows_per_person: float = 10.0,
    n_topics: int = 16,
    interactions_per_person: float = 10.0,
    transactions_per_customer: float = 5.0,
    inactive_share: float = 0.44,
    customer_share: float = 0.3,
    topic_skew: float = 1.0,
    seed: int = 0,
    validate: bool = False,
) -> TopicGraph:
    """A synthetic topic graph: power-law follows, skewed topics, inactive accounts, purchases.

    See the module docstring for everything it models. The same arguments
    and ``seed`` always give the same graph. With the defaults, 1M people give
    about 10M follows and 20M edges in all.

    >>> g = generate(n_people=1_000, n_topics=4, seed=7)
    >>> g.topics
    ('books', 'films', 'music', 'travel')
    >>> sorted(g.edges["kind"].unique())
    ['follows', 'member_of', 'mentions', 'referred', 'replies', 'reviews', 'shares']
    >>> generate(n_people=1_000, n_topics=4, seed=7).edges.equals(g.edges)
    True
    """
    _check_args(n_people, follows_per_person, n_topics, interactions_per_person,
                transactions_per_customer, inactive_share, customer_share, topic_skew)
    rng = np.random.default_rng(seed)
    n = int(n_people)
    t0, span = int(START.timestamp()) * _US, int((END - START).total_seconds()) * _US

    # --- people: hidden popularity, primary topic, join time, customers
    by_popularity = rng.permutation(n)  # by_popularity[r] is the person of popularity rank r
    topic_p = zipf_probabilities(n_topics, topic_skew)
    primary = _zipf(n_topics, topic_skew, n, rng)
    joined = t0 + (rng.random(n) * 0.8 * span).astype(np.int64)
    n_customers = int(round(customer_share * n))
    is_customer = np.zeros(n, dtype=bool)
    is_customer[rng.choice(n, n_customers, replace=False)] = True
    controversial = rng.random(n) < 0.05
    person_ids = _ids("p", n)

    # --- follows: lognormal out-degree, popularity-weighted targets
    out_deg = rng.poisson(rng.lognormal(np.log(follows_per_person) - 0.5, 1.0, n)) if follows_per_person else np.zeros(n, np.int64)
    out_deg = np.minimum(out_deg, n - 1)
    f_src = np.repeat(np.arange(n), out_deg)
    f_dst = by_popularity[_zipf(n, _POPULARITY_EXPONENT, f_src.size, rng)]
    f_dst = np.where(f_dst == f_src, (f_dst + 1) % n, f_dst)  # no self-follows
    pair = np.sort(f_src.astype(np.int64) * n + f_dst)  # sorted by src, then dst
    pair = pair[np.concatenate([[True], pair[1:] != pair[:-1]])] if pair.size else pair  # no repeats
    f_src, f_dst = pair // n, pair % n
    f_start = np.searchsorted(f_src, np.arange(n + 1))  # follows of person i: f_start[i]:f_start[i+1]
    f_count = np.diff(f_start)
    f_ts = np.maximum(joined[f_src], joined[f_dst])
    f_ts = f_ts + (rng.random(f_src.size) * (t0 + span - f_ts)).astype(np.int64)

    # --- interactions: active people author at least one, heavy-tailed beyond that
    n_inactive = int(round(inactive_share * n))
    active = np.sort(rng.permutation(n)[n_inactive:])
    n_inter = int(round(interactions_per_person * n))
    if n_inter < active.size:
        raise GraphkitError(
            f"interactions_per_person={interactions_per_person} gives {n_inter} interactions for {active.size} "
            "active people; every active person needs one: raise interactions_per_person or inactive_share"
        )
    activity = rng.lognormal(0.0, 1.2, active.size)
    authored = 1 + rng.multinomial(n_inter - active.size, activity / activity.sum()) if active.size else active
    i_src = np.repeat(active, authored)  # grouped by author
    kind_names = list(INTERACTION_MIX)
    u = rng.random(n_inter)  # kind k where u falls in the k-th slice of the mix (3 compares beat a search)
    i_kind = sum((u >= c).astype(np.int8) for c in np.cumsum(list(INTERACTION_MIX.values()))[:-1])
    own_topic = np.where(rng.random(n_inter) < 0.7, primary[i_src], _zipf(n_topics, topic_skew, n_inter, rng))
    is_review = i_kind == kind_names.index("reviews")
    # people interactions: a followed account 60% of the time, else a popular one
    followee = _followee(i_src, f_start, f_count, f_dst, rng)
    use_followee = (followee >= 0) & (rng.random(n_inter) < 0.6)
    i_dst = np.where(use_followee, followee, by_popularity[_zipf(n, _POPULARITY_EXPONENT, n_inter, rng)])
    i_dst = np.where(i_dst == i_src, (i_dst + 1) % n, i_dst)
    i_topic = np.where(~is_review & (rng.random(n_inter) < 0.5), primary[i_dst], own_topic)
    negative = rng.random(n_inter) < np.where(controversial[i_dst] & ~is_review, 0.5, 0.03)
    i_sign = np.where(negative, -1, 1).astype(np.int8)
    i_ts = joined[i_src] + (rng.random(n_inter) * (t0 + span - joined[i_src])).astype(np.int64)

    # --- items per topic (popular topics get more), reviews pick one in the topic
    n_items = max(5 * n_topics, n // 20)
    per_topic = np.maximum(5, np.floor(topic_p * n_items).astype(np.int64))
    item_start = np.concatenate([[0], np.cumsum(per_topic)])
    item_topic = np.repeat(np.arange(n_topics), per_topic)
    n_items = int(item_start[-1])
    price = np.round(rng.lognormal(3.0, 0.7, n_items), 2)
    n_brands = max(2, min(n_topics, 8))
    item_brand = rng.integers(0, n_brands, n_items)
    item_ids = _ids("i", n_items)
    review_item = _in_topic(i_topic, item_start, per_topic, rng)
    i_weight = np.where(is_review, rng.integers(1, 6, n_inter), 1).astype(np.float64)

    # --- communities: one per popular topic, members among that topic's fans
    n_comm = min(n_topics, 8)
    joins = (primary < n_comm) & (rng.random(n) < 0.2)
    m_src = np.flatnonzero(joins)
    m_dst = primary[m_src]
    m_ts = joined[m_src] + (rng.random(m_src.size) * (t0 + span - joined[m_src])).astype(np.int64)

    # --- transactions: half in a followed account's topic, half in the own topic
    cust = np.flatnonzero(is_customer)
    lines = rng.geometric(1.0 / transactions_per_customer, cust.size) if cust.size else np.zeros(0, np.int64)
    t_cust = np.repeat(cust, lines)
    t_followee = _followee(t_cust, f_start, f_count, f_dst, rng)
    exposed = (t_followee >= 0) & (rng.random(t_cust.size) < 0.5)
    t_topic = np.where(exposed, primary[np.maximum(t_followee, 0)], primary[t_cust])
    t_item = _in_topic(t_topic, item_start, per_topic, rng)
    quantity = rng.geometric(0.7, t_cust.size)
    t_amount = np.round(price[t_item] * quantity, 2)
    same_customer = np.concatenate([[False], t_cust[1:] == t_cust[:-1]])
    new_order = ~(same_customer & (rng.random(t_cust.size) < 0.2))
    order_no = np.cumsum(new_order) - 1
    order_start = np.flatnonzero(new_order)
    line_ts = joined[t_cust] + (rng.random(t_cust.size) * (t0 + span - joined[t_cust])).astype(np.int64)
    t_ts = line_ts[order_start][order_no]

    # --- referrals: a followed customer referred this customer, at sign-up
    ref_dst = cust[rng.random(cust.size) < 0.05]
    ref_src = np.full(ref_dst.size, -1)
    for _ in range(3):  # three tries at a followed customer who joined first (a loop over tries, not people)
        cand = _followee(ref_dst, f_start, f_count, f_dst, rng)
        good = (ref_src < 0) & (cand >= 0)
        good[good] = is_customer[cand[good]] & (joined[cand[good]] <= joined[ref_dst[good]])
        ref_src = np.where(good, cand, ref_src)
    ok = ref_src >= 0
    ref_src, ref_dst = ref_src[ok], ref_dst[ok]

    # --- last contribution per person
    last = np.full(n, np.iinfo(np.int64).min)
    if n_inter:  # i_src is grouped by author: the max of each group's reduceat segment
        starts = np.flatnonzero(np.concatenate([[True], i_src[1:] != i_src[:-1]]))
        last[i_src[starts]] = np.maximum.reduceat(i_ts, starts)

    # --- tables, exactly in the declared schemas
    topics = pl.Series("topic", topic_names(n_topics), dtype=pl.String)
    brands = pl.Series("brand", [f"brand-{b + 1}" for b in range(n_brands)], dtype=pl.String)
    customer_ids = pl.Series(np.where(is_customer, np.cumsum(is_customer), 0)).cast(pl.String).str.zfill(7)
    people = pl.DataFrame({
        "person_id": person_ids,
        "customer_id": _where(is_customer, "c" + customer_ids, None),
        "name": pl.Series([None] * n, dtype=pl.String),
        "brand": pl.Series([None] * n, dtype=pl.String),
        "joined": _ts(joined),
        "last_active": _where(last > np.iinfo(np.int64).min, _ts(last), None),
    })
    on_forum = rng.random(n) < 0.25
    handles = pl.concat([
        pl.DataFrame({"person_id": person_ids, "channel": "social", "handle": "@" + person_ids}),
        pl.DataFrame({"person_id": person_ids.filter(on_forum), "channel": "forum",
                      "handle": "forum/" + person_ids.filter(on_forum)}),
    ])
    items = pl.DataFrame({
        "item_id": item_ids,
        "topic": topics.gather(item_topic),
        "brand": brands.gather(item_brand),
        "name": pl.Series([None] * n_items, dtype=pl.String),
    })
    community_ids = pl.Series([f"club-{name}" for name in topic_names(n_comm)], dtype=pl.String)
    communities = pl.DataFrame({
        "community_id": community_ids,
        "topic": topics.head(n_comm),
        "brand": brands.head(n_comm),
        "name": pl.Series([f"{name} club" for name in topic_names(n_comm)], dtype=pl.String),
    })
    kind_series = pl.Series(kind_names, dtype=pl.String)
    edges = pl.concat([
        _edges(person_ids.gather(f_src), person_ids.gather(f_dst), "follows", None, 1.0, 1, f_ts, "social"),
        _edges(person_ids.gather(i_src),
               _where(is_review, item_ids.gather(review_item), person_ids.gather(i_dst)),
               kind_series.gather(i_kind), topics.gather(i_topic), i_weight, i_sign, i_ts,
               _where(is_review, "forum", "social")),
        _edges(person_ids.gather(m_src), community_ids.gather(m_dst), "member_of", None, 1.0, 1, m_ts, "forum"),
        _edges(person_ids.gather(ref_src), person_ids.gather(ref_dst), "referred", None, 1.0, 1,
               joined[ref_dst], None),
    ])
    transactions = pl.DataFrame({
        "customer_id": people["customer_id"].gather(t_cust),
        "item_id": item_ids.gather(t_item),
        "amount": t_amount,
        "ts": _ts(t_ts),
        "order_id": "o" + pl.Series(order_no).cast(pl.String).str.zfill(8),
    })
    tables = {"people": people, "handles": handles, "items": items, "communities": communities,
              "edges": edges, "transactions": transactions}
    tables = {name: conform(df, name) for name, df in tables.items()}
    source = (f"synthetic(n_people={n}, follows_per_person={follows_per_person}, n_topics={n_topics}, "
              f"interactions_per_person={interactions_per_person}, transactions_per_customer="
              f"{transactions_per_customer}, inactive_share={inactive_share}, customer_share={customer_share}, "
              f"topic_skew={topic_skew}, seed={seed})")
    if validate:
        return TopicGraph.from_tables(**tables, source=source)
    return TopicGraph(**tables, source=source)


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """``df`` with exactly the declared columns of ``table``, in order, cast to the declared types.

    Used for tables that are valid by construction; it checks shape, not
    content (use :func:`graphkit.model.schema.validate_tables` for that).

    >>> conform(pl.DataFrame({"person_id": ["a"]}), "people").columns
    ['person_id', 'customer_id', 'name', 'brand', 'joined', 'last_active']
    """
    schema = TABLES[table]
    cols = []
    for c in schema.columns:
        if c.name in df.columns:
            cols.append(pl.col(c.name).cast(c.dtype))
        else:
            cols.append(pl.lit(c.default, dtype=c.dtype).alias(c.name))
    return df.select(cols)


# ------------------------------------------------------------------ helpers
def _check_args(n_people, follows_per_person, n_topics, interactions_per_person,
                transactions_per_customer, inactive_share, customer_share, topic_skew) -> None:
    problems = []
    if not (isinstance(n_people, (int, np.integer)) and n_people >= 2):
        problems.append(f"n_people must be an integer >= 2, got {n_people!r}")
    if not (isinstance(n_topics, (int, np.integer)) and n_topics >= 1):
        problems.append(f"n_topics must be an integer >= 1, got {n_topics!r}")
    for name, value in (("follows_per_person", follows_per_person),
                        ("interactions_per_person", interactions_per_person), ("topic_skew", topic_skew)):
        if not (np.isfinite(value) and value >= 0):
            problems.append(f"{name} must be a finite number >= 0, got {value!r}")
    if not (np.isfinite(transactions_per_customer) and transactions_per_customer >= 1):
        problems.append(f"transactions_per_customer must be a number >= 1 (the mean lines per customer), "
                        f"got {transactions_per_customer!r}")
    if not (0 <= inactive_share < 1):
        problems.append(f"inactive_share must be in [0, 1), got {inactive_share!r}")
    if not (0 <= customer_share <= 1):
        problems.append(f"customer_share must be in [0, 1], got {customer_share!r}")
    if problems:
        raise GraphkitError("generate(): " + "; ".join(problems))


def _zipf_cdf(x: np.ndarray | float, n: int, exponent: float) -> np.ndarray:
    """CDF at ``x`` of the density ~ x ** -exponent on [1, n + 1)."""
    if exponent == 1.0:
        return np.log(x) / np.log(n + 1.0)
    b = 1.0 - exponent
    return (np.power(x, b) - 1.0) / ((n + 1.0) ** b - 1.0)


def zipf_probabilities(n: int, exponent: float) -> np.ndarray:
    """Probabilities of ranks 0..n-1 under :func:`_zipf`'s law: about ``(rank + 1) ** -exponent``.

    Rank r gets the mass of [r + 1, r + 2) under the density ~ x ** -exponent,
    which is what inverse-CDF sampling draws exactly.

    >>> p = zipf_probabilities(4, 1.0)
    >>> bool(abs(p.sum() - 1) < 1e-12 and (p[:-1] > p[1:]).all())
    True
    """
    return np.diff(_zipf_cdf(np.arange(1.0, n + 2.0), n, exponent))


def _zipf(n: int, exponent: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` ranks in [0, n) drawn with :func:`zipf_probabilities`.

    Inverse-CDF sampling of the continuous law: O(1) per draw, where a search
    in an n-long cumulative table costs a cache miss per level.
    """
    u = rng.random(size)
    if exponent == 1.0:
        x = np.power(n + 1.0, u)
    else:
        b = 1.0 - exponent
        x = np.power(1.0 + u * ((n + 1.0) ** b - 1.0), 1.0 / b)
    return np.minimum(x.astype(np.int64) - 1, n - 1)


def _followee(who: np.ndarray, f_start: np.ndarray, f_count: np.ndarray, f_dst: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """A random account each of ``who`` follows; -1 for people who follow nobody."""
    count = f_count[who]
    pick = f_start[who] + (rng.random(who.size) * count).astype(np.int64)
    return np.where(count > 0, f_dst[np.minimum(pick, max(f_dst.size - 1, 0))] if f_dst.size else -1, -1)


def _in_topic(topic: np.ndarray, item_start: np.ndarray, per_topic: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """An item of each given topic; within a topic, low item numbers sell more (u ** 2)."""
    return item_start[topic] + (rng.random(topic.size) ** 2 * per_topic[topic]).astype(np.int64)


def _where(mask: np.ndarray, yes, no) -> pl.Series:
    """Elementwise ``yes if mask else no``; ``yes`` / ``no`` are Series of len(mask) or scalars."""
    frame = pl.DataFrame({"m": mask})
    pick = pl.when("m").then(pl.lit(yes) if not isinstance(yes, pl.Series) else yes.alias("y"))
    pick = pick.otherwise(pl.lit(no) if not isinstance(no, pl.Series) else no.alias("n"))
    return frame.select(pick).to_series()


def _ids(prefix: str, n: int) -> pl.Series:
    width = max(7, len(str(n)))
    return prefix + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)


def _ts(us: np.ndarray) -> pl.Series:
    return pl.Series(us, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _edges(src: pl.Series, dst: pl.Series, kind, topic, weight, sign, ts: np.ndarray, channel) -> pl.DataFrame:
    n = src.len()

    def col(value, dtype):
        if isinstance(value, pl.Series):
            return value.cast(dtype)
        if isinstance(value, np.ndarray):
            return pl.Series(value).cast(dtype)
        return pl.repeat(value, n, dtype=dtype, eager=True)

    return pl.DataFrame({
        "src": src.cast(pl.String), "dst": dst.cast(pl.String),
        "kind": col(kind, pl.String), "topic": col(topic, pl.String),
        "weight": col(weight, pl.Float64), "sign": col(sign, pl.Int8),
        "ts": _ts(ts), "channel": col(channel, pl.String),
    })


__all__ = ["generate", "conform", "topic_names", "START", "END", "TOPIC_NAMES", "INTERACTION_MIX"]
