"""Orders: when each person buys, through which channel, what, at what price.

Repeat purchases follow the buy-till-you-die story of :mod:`.btyd` (the BG/NBD process),
with each group's own parameters, so the population is a mixture of stories: while alive a
person buys as a Poisson process at a personal rate (Gamma across the group's people) and
drops out after each purchase with a personal probability (Beta across them). Loyal,
omnichannel and bargain customers rarely leave; lapsed customers were regulars (no dropout
for their first repeat purchases) and then leave often — their whole story is drawn, then
placed so it ends 9-18 months back. A one-off customer orders once, long ago; a new customer
once or twice since joining. Purchases are placed in the calendar's operational time, so
they bunch up in sales and around Christmas. Lines come mostly from the person's favourite
categories (and team), at the price level their group prefers.

Everything is vectorised over all orders of a chunk of people; loops run over groups only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate import vocabulary as voc
from personae.devtools.generate.btyd import repeat_purchases
from personae.devtools.generate.catalogue import IS_TEAM_CATEGORY, Catalogue
from personae.devtools.generate.columns import SECONDS_PER_DAY
from personae.devtools.generate.groups import (
    GROUPS,
    LAPSED,
    MIX_CHANNELS,
    NEW,
    OMNI,
    ONE_OFF,
    ONE_OFF_MIN_AGO,
)
from personae.devtools.generate.identities import Identities
from personae.devtools.generate.population import JOIN_CHANNELS, Population
from personae.devtools.generate.seasonality import Timeline, time_of_day

assert MIX_CHANNELS == schema.ORDER_CHANNELS  # channel codes are shared
WEB, APP, STORE, PHONE, MARKETPLACE = range(len(MIX_CHANNELS))
#: chance a delivered (non-store) order fails delivery, by group
_DELIVERY_FAILURE = np.array([0.02, 0.035, 0.06, 0.03, 0.03, 0.08])
_RETURN_FACTOR = np.array([c[4] for c in voc.CATEGORIES])
_GROCERY = voc.CATEGORY_NAMES.index("grocery")


@dataclass(frozen=True)
class Purchases:
    """Order lines of a chunk (``table``) and the arrays later modules build on.

    Orders are sorted by person, then time; ``order_line_start``/``order_lines`` locate
    each order's lines. People are chunk-local indices.
    """

    table: pa.Table
    order_person: np.ndarray
    order_s: np.ndarray
    order_channel: np.ndarray
    order_store: np.ndarray
    order_failed: np.ndarray
    order_line_start: np.ndarray
    order_lines: np.ndarray
    line_product: np.ndarray
    line_category: np.ndarray
    line_returned: np.ndarray
    person_first: np.ndarray
    person_orders: np.ndarray

    @property
    def n_orders(self) -> int:
        return len(self.order_s)


def _per_group(name: str) -> np.ndarray:
    return np.array([getattr(g, name) for g in GROUPS], dtype=np.float64)


def _schedule(
    rng: np.random.Generator, pop: Population, timeline: Timeline
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First order (seconds), last order (day), number of orders, same-session flag."""
    n = len(pop)
    g = pop.group
    end_day = timeline.end_day
    join_day = pop.join_s / SECONDS_PER_DAY
    join_ago = end_day + 1 - join_day
    last_day = np.full(n, float(end_day))
    for k, profile in enumerate(GROUPS):
        sel = np.flatnonzero(g == k)
        # the story decides when the others stop; a lapsed customer's ends by a deadline
        if profile.last_order_ago is None or not len(sel) or (profile.story and k != LAPSED):
            continue
        lo, hi = profile.last_order_ago
        hi_i = np.maximum(np.minimum(hi, join_ago[sel] - 60), 1.0)
        lo_i = np.minimum(lo, hi_i)
        last_day[sel] = timeline.sample_days(rng, end_day - hi_i, end_day - lo_i, profile.promo_sensitivity)
    # many buy when they sign up; others sign up first (newsletter, app) and buy later
    same_session = rng.random(n) < 0.6
    delay = rng.exponential(40.0, n)
    cap = np.maximum(last_day - join_day, 0) * 0.5
    cap = np.where(g == NEW, np.maximum(end_day + 1 - join_day, 0) * 0.7, cap)
    cap = np.where(g == ONE_OFF, np.maximum(end_day - ONE_OFF_MIN_AGO - join_day, 0), cap)
    delay = np.minimum(delay, cap)
    session_delay = rng.uniform(120, 1800, n)
    first_s = pop.join_s + np.where(same_session, session_delay, delay * SECONDS_PER_DAY).astype(np.int64)
    first_s = np.minimum(first_s, timeline.end_s)
    last_day = np.maximum(last_day, np.floor(first_s / SECONDS_PER_DAY))
    # personal rhythm: a person-level inter-purchase time around the group's median
    span = last_day - first_s / SECONDS_PER_DAY
    ipt = np.maximum(_per_group("ipt_days")[g], 1.0) * rng.lognormal(0.0, 0.3, n)
    lo_n, hi_n = np.array([p.orders for p in GROUPS]).T
    count = np.clip(1 + np.round(span / ipt), lo_n[g], hi_n[g]).astype(np.int64)
    count = np.where(g == NEW, 1 + (rng.random(n) < 0.45), count)
    count = np.where(g == ONE_OFF, 1, count)
    return first_s, last_day, count, same_session


def _order_times(
    rng: np.random.Generator,
    pop: Population,
    timeline: Timeline,
    owner: np.ndarray,
    nth: np.ndarray,
    first_s: np.ndarray,
    last_day: np.ndarray,
    count: np.ndarray,
) -> np.ndarray:
    """Order days from a regular rhythm between first and last order, warped by season."""
    gaps = np.where(nth == 0, 0.0, rng.gamma(3.0, 1.0, len(owner)))
    cum = np.cumsum(gaps)
    start = np.cumsum(count) - count
    cum -= np.repeat(cum[start] - gaps[start], count)
    total = np.repeat(cum[start + count - 1], count)
    frac = np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)
    g = pop.group[owner]
    new_second = (g == NEW) & (nth == 1)
    frac[new_second] = rng.uniform(0.05, 1.0, int(new_second.sum()))
    lo = first_s[owner] / SECONDS_PER_DAY
    hi = np.where(g == NEW, timeline.end_day + 0.999, last_day[owner] + 0.999)
    day = np.empty(len(owner))
    for k, profile in enumerate(GROUPS):
        sel = g == k
        day[sel] = timeline.warp(lo[sel], hi[sel], frac[sel], profile.promo_sensitivity)
    return np.floor(day).astype(np.int64)


def _btyd_orders(
    rng: np.random.Generator,
    pop: Population,
    timeline: Timeline,
    first_s: np.ndarray,
    last_day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The people whose purchases follow a group's story, their order counts and order days.

    A living group's story starts at the person's first order and runs to the end of the
    data. A lapsed customer's story is drawn whole (from sign-up to the group's deadline, by
    which it has nearly always ended by itself) and then placed so that its last purchase
    falls on the person's last-order day: a dead customer's silence has no length in the
    story, and the group keeps the recency that makes it "lapsed".

    Returns ``(people, count, days, first_day)``: ``days`` holds every order of those people
    (the first, then the repeats), by person then time, as fractional days on the seasonal
    calendar; ``first_day`` is each of those people's first order day.
    """
    people_parts, count_parts, day_parts, first_parts = [], [], [], []
    join_day = pop.join_s / SECONDS_PER_DAY
    for k, profile in enumerate(GROUPS):
        sel = np.flatnonzero(pop.group == k)
        if profile.story is None or not len(sel):
            continue
        lam, p = profile.story.draw(rng, len(sel))
        if k == LAPSED:
            hi = last_day[sel] + 0.999  # the end of the last order's day
            horizon = np.maximum(hi - join_day[sel], 0.0)
            owner, t = repeat_purchases(
                rng, lam, p, horizon, max_repeats=profile.orders[1] - 1, loyal_for=profile.story.loyal_for
            )
            life = np.zeros(len(sel))
            np.maximum.at(life, owner, t)
            lo = hi - life  # the first order: the story's length before the last
        else:
            lo = first_s[sel] / SECONDS_PER_DAY
            hi = np.maximum(last_day[sel] + 0.999, lo)  # the end of the data
            owner, t = repeat_purchases(
                rng, lam, p, hi - lo, max_repeats=profile.orders[1] - 1, loyal_for=profile.story.loyal_for
            )
        repeats = np.bincount(owner, minlength=len(sel))
        # the first order, then the repeats, in process time; then onto the seasonal calendar
        count = 1 + repeats
        start = np.cumsum(count) - count
        offset = np.zeros(int(count.sum()))
        offset[np.delete(np.arange(len(offset)), start)] = t
        who = np.repeat(np.arange(len(sel)), count)
        span = np.maximum(hi - lo, 1e-9)[who]
        days = timeline.warp(lo[who], hi[who], np.minimum(offset / span, 1.0), profile.promo_sensitivity)
        people_parts.append(sel)
        count_parts.append(count)
        day_parts.append(days)
        first_parts.append(lo)
    if not people_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0)
    people = np.concatenate(people_parts)
    count = np.concatenate(count_parts)
    days = np.concatenate(day_parts)
    first_day = np.concatenate(first_parts)
    # back to person order (each person's orders stay together, in time order)
    order = np.argsort(people, kind="stable")
    by_person = np.argsort(np.repeat(people, count), kind="stable")
    return people[order], count[order], days[by_person], first_day[order]


def _channels(rng: np.random.Generator, pop: Population, owner: np.ndarray, nth: np.ndarray) -> np.ndarray:
    """Order channels from each person's mix; enthusiasts try web, app and store early."""
    cum = np.cumsum(pop.channel_p, axis=1)[owner]
    channel = (rng.random(len(owner))[:, None] > cum).sum(axis=1)
    channel = np.minimum(channel, len(MIX_CHANNELS) - 1)
    omni = pop.group[owner] == OMNI
    trio = np.argsort(rng.random((len(pop), 3)), axis=1)  # per-person order of web/app/store
    early = omni & (nth < 3)
    channel[early] = trio[owner[early], nth[early]]
    return channel


def _lines(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    timeline: Timeline,
    order_person: np.ndarray,
    order_s: np.ndarray,
    n_lines: np.ndarray,
) -> dict[str, np.ndarray]:
    """Products, quantities, prices, discounts and returns of every order line.

    A product drawn twice for one order is kept once (the line key is order + product).
    """
    line_order = np.repeat(np.arange(len(order_person)), n_lines)
    person = order_person[line_order]
    g = pop.group[person]
    k = len(line_order)
    favourite = (rng.random(k)[:, None] > pop.fav_cum[person]).sum(axis=1)
    fav_cat = pop.fav_cats[person, np.minimum(favourite, 2)]
    any_cat = rng.choice(len(cat.category_weight), size=k, p=cat.category_weight)
    category = np.where((rng.random(k) < pop.affinity[person]) & (fav_cat >= 0), fav_cat, any_cat)
    fan = (pop.team[person] >= 0) & IS_TEAM_CATEGORY[category] & (rng.random(k) < 0.75)
    team = np.where(fan, pop.team[person], -1)
    quantile = pop.price_pref[person] + rng.normal(0.0, 0.12, k)
    product = cat.pick(category, team, quantile)
    category = cat.category[product]
    qty_p = np.where((category == _GROCERY)[:, None], [[0.5, 0.8, 1.0]], [[0.82, 0.95, 1.0]])
    quantity = 1 + (rng.random(k)[:, None] > qty_p).sum(axis=1)
    gross = cat.price[product] * quantity
    day = order_s[line_order] // SECONDS_PER_DAY
    promo = timeline.is_promo(day)
    p_discount = np.minimum(_per_group("discount_prob")[g] * np.where(promo, 2.0, 1.0), 0.95)
    rates = np.array([np.resize(p.discount_rates, 4) for p in GROUPS])
    rate = rates[g, rng.integers(0, 4, k)]
    discount = np.where(rng.random(k) < p_discount, np.round(gross * rate, 2), 0.0)
    amount = np.maximum(np.round(gross - discount, 2), 0.0)
    p_return = _per_group("return_rate")[g] * _RETURN_FACTOR[category]
    returned = rng.random(k) < p_return
    lines = {
        "line_order": line_order,
        "product": product,
        "category": category,
        "quantity": quantity,
        "amount": amount,
        "discount": discount,
        "returned": returned,
    }
    # (order_id, product_id) is the natural key of an order line: one line per product
    order = np.lexsort((product, line_order))
    repeated = np.zeros(k, dtype=bool)
    repeated[order[1:]] = (line_order[order[1:]] == line_order[order[:-1]]) & (
        product[order[1:]] == product[order[:-1]]
    )
    return {name: values[~repeated] for name, values in lines.items()}


def draw_purchases(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    cat: Catalogue,
    timeline: Timeline,
    first_order_number: int,
    order_id_width: int,
) -> Purchases:
    """All orders of a chunk of people; order ids start at ``first_order_number``."""
    first_s, last_day, count, same_session = _schedule(rng, pop, timeline)
    storied, storied_count, storied_days, storied_first = _btyd_orders(rng, pop, timeline, first_s, last_day)
    count[storied] = storied_count
    # a lapsed customer's story is placed back from the last order: it starts later than sign-up
    moved = storied[pop.group[storied] == LAPSED]
    first_s[moved] = np.maximum(
        (storied_first[pop.group[storied] == LAPSED] * SECONDS_PER_DAY).astype(np.int64), pop.join_s[moved]
    )
    same_session[moved] &= first_s[moved] - pop.join_s[moved] < SECONDS_PER_DAY
    owner = np.repeat(np.arange(len(pop)), count)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    day = _order_times(rng, pop, timeline, owner, nth, first_s, last_day, count)
    in_story = np.zeros(len(pop), dtype=bool)
    in_story[storied] = True
    day[in_story[owner]] = np.floor(storied_days).astype(np.int64)
    channel = _channels(rng, pop, owner, nth)
    # an order placed while signing up uses the sign-up channel
    join_ch = np.array([MIX_CHANNELS.index(c) if c in MIX_CHANNELS else -1 for c in JOIN_CHANNELS])[
        pop.join_channel[owner]
    ]
    primary = pop.channel_p.argmax(axis=1)[owner]
    at_signup = (nth == 0) & same_session[owner] & (join_ch == primary)
    channel = np.where(at_signup, join_ch, channel)
    seconds = day * SECONDS_PER_DAY + time_of_day(rng, channel == STORE)
    # the first order: at sign-up time if bought while signing up, else on its day
    first_day_start = (first_s[owner] // SECONDS_PER_DAY) * SECONDS_PER_DAY
    seconds = np.where(
        at_signup, first_s[owner], np.where(nth == 0, first_day_start + seconds % SECONDS_PER_DAY, seconds)
    )
    # an order drawn on the first order's day but before it moves to the next day
    # (keeps its channel's time of day: no store orders at night)
    seconds = np.where(seconds < first_s[owner], seconds + SECONDS_PER_DAY, seconds)
    seconds = np.clip(seconds, first_s[owner], timeline.end_s)
    order = np.lexsort((seconds, owner))
    owner, seconds, channel = owner[order], seconds[order], channel[order]
    store = cat.stores.visited(rng.random((len(owner), 2)), pop.home_store[owner], pop.region[owner])
    store = np.where(channel == STORE, store, -1)
    n_lines = 1 + np.minimum(rng.poisson(_per_group("extra_lines")[pop.group[owner]]), 3)
    lines = _lines(rng, pop, cat, timeline, owner, seconds, n_lines)
    n_lines = np.bincount(lines["line_order"], minlength=len(owner))
    failed = (channel != STORE) & (rng.random(len(owner)) < _DELIVERY_FAILURE[pop.group[owner]])
    # a person with a second profile sometimes buys under it (often at a till)
    to_dup = (
        ids.has_dup[owner]
        & (seconds >= ids.dup_created_s[owner])
        & (rng.random(len(owner)) < np.where(channel == STORE, 0.6, 0.3))
    )
    lo = lines["line_order"]
    person_index = pa.array(owner[lo])
    customer = pc.if_else(
        to_dup[lo], ids.dup_customer_id.take(person_index), ids.customer_id.take(person_index)
    )
    table = pa.table(
        {
            "order_id": col.ids("O", first_order_number + lo, order_id_width),
            "customer_id": customer,
            "ordered_at": col.timestamps(seconds[lo]),
            "channel": col.lookup(schema.ORDER_CHANNELS, channel[lo]),
            "store_id": col.lookup(cat.stores.ids, store[lo]),
            "product_id": col.lookup(cat.product_ids, lines["product"]),
            "category": col.lookup(voc.CATEGORY_NAMES, lines["category"]),
            "quantity": col.floats(lines["quantity"], 0),
            "amount": col.floats(lines["amount"]),
            "discount": col.floats(lines["discount"]),
            "returned": pa.array(lines["returned"]),
        }
    )
    line_start = np.cumsum(n_lines) - n_lines
    return Purchases(
        table=table,
        order_person=owner,
        order_s=seconds,
        order_channel=channel,
        order_store=store,
        order_failed=failed,
        order_line_start=line_start,
        order_lines=n_lines,
        line_product=lines["product"],
        line_category=lines["category"],
        line_returned=lines["returned"],
        person_first=first_s,
        person_orders=count,
    )
