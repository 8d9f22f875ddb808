"""Web and app browsing sessions: the funnel before (and without) a purchase.

Every session follows one template: a landing event (``page_view`` on the web,
``app_open`` in the app), maybe a ``search``, maybe a login, some ``product_view``s,
``add_to_cart``s, maybe a ``remove_from_cart`` and maybe ``checkout_started``. A session
that ends in an order views and adds exactly the products bought and ends just before the
order time. Sessions without an order are browse abandonments (views only) or cart
abandonments (items added, sometimes checkout started, no order).

Web sessions are logged in, anonymous (a cookie only), or start anonymous and log in,
which writes one event carrying both the cookie and the e-mail: the link identity
resolution needs to attach anonymous browsing to a customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from personae.devtools.generate.catalogue import IS_TEAM_CATEGORY, Catalogue
from personae.devtools.generate.columns import SECONDS_PER_DAY, hashed
from personae.devtools.generate.eventlog import (
    CHANNEL,
    TYPE,
    EventLog,
    EventProperties,
    Mode,
    cookie_keys,
    device_keys,
)
from personae.devtools.generate.groups import GROUPS
from personae.devtools.generate.population import Population
from personae.devtools.generate.purchases import APP, WEB, Purchases
from personae.devtools.generate.seasonality import Timeline, time_of_day

_WEB_KNOWN, _WEB_ANON, _WEB_LOGIN, _APP_KNOWN, _APP_ANON = range(5)


def _browse_products(
    rng: np.random.Generator, pop: Population, cat: Catalogue, person: np.ndarray, anchor: np.ndarray
) -> np.ndarray:
    """Products browsed around each anchor category (one per element)."""
    k = len(person)
    fan = (pop.team[person] >= 0) & IS_TEAM_CATEGORY[anchor] & (rng.random(k) < 0.5)
    quantile = pop.price_pref[person] + rng.normal(0.0, 0.2, k)
    return cat.pick(anchor, np.where(fan, pop.team[person], -1), quantile)


def _anchor_categories(
    rng: np.random.Generator, pop: Population, cat: Catalogue, person: np.ndarray
) -> np.ndarray:
    """A category per session: a favourite with the person's affinity, else a popular one."""
    k = len(person)
    favourite = (rng.random(k)[:, None] > pop.fav_cum[person]).sum(axis=1)
    fav_cat = pop.fav_cats[person, np.minimum(favourite, 2)]
    any_cat = rng.choice(len(cat.category_weight), size=k, p=cat.category_weight)
    return np.where((rng.random(k) < pop.affinity[person]) & (fav_cat >= 0), fav_cat, any_cat)


@dataclass(frozen=True)
class _Plan:
    """Per-session arrays: purchase sessions (one per tracked web/app order) come first."""

    online: np.ndarray  # orders with a tracked session
    person: np.ndarray
    purchase: np.ndarray
    anchor: np.ndarray  # category the session is about
    lines: np.ndarray  # order lines viewed and added (0 without an order)
    in_app: np.ndarray
    search: np.ndarray  # funnel step counts
    login: np.ndarray
    views: np.ndarray
    adds: np.ndarray
    removes: np.ndarray
    checkout: np.ndarray
    mode: np.ndarray  # _WEB_KNOWN ... _APP_ANON

    @property
    def n_events(self) -> np.ndarray:
        return 1 + self.search + self.login + self.views + self.adds + self.removes + self.checkout


def _plan(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    bought: Purchases,
    active_end_s: np.ndarray,
    has_login_id: np.ndarray,
) -> _Plan:
    """Which sessions happen, their channel, funnel depth and identity mode."""
    online = np.flatnonzero((bought.order_channel == WEB) | (bought.order_channel == APP))
    online = online[rng.random(len(online)) < np.where(bought.order_channel[online] == APP, 0.85, 0.75)]
    months = np.maximum(active_end_s - pop.join_s, 0) / SECONDS_PER_DAY / 30.44
    rate = np.array([g.browse_per_month for g in GROUPS])[pop.group]
    b_person = np.repeat(np.arange(len(pop)), rng.poisson(rate * months))
    person = np.concatenate([bought.order_person[online], b_person])
    s = len(person)
    purchase = np.arange(s) < len(online)
    anchor = np.concatenate(
        [bought.line_category[bought.order_line_start[online]], _anchor_categories(rng, pop, cat, b_person)]
    )
    lines = np.concatenate(
        [np.minimum(bought.order_lines[online], 4), np.zeros(len(b_person), dtype=np.int64)]
    )
    # orders keep their channel; other sessions use the app half the time if people have it
    in_app = np.concatenate(
        [bought.order_channel[online] == APP, pop.app_user[b_person] & (rng.random(len(b_person)) < 0.5)]
    )
    cart = ~purchase & (rng.random(s) < 0.4)
    views = np.where(
        purchase, lines + np.minimum(rng.poisson(0.5, s), 2), 1 + np.minimum(rng.poisson(0.8, s), 3)
    )
    adds = np.where(purchase, lines, np.where(cart, np.minimum(1 + (rng.random(s) < 0.25), views), 0))
    u = rng.random(s)
    web_mode = np.where(
        purchase,
        np.where(u < 0.7, _WEB_KNOWN, _WEB_LOGIN),
        np.select([u < 0.45, u < 0.57], [_WEB_KNOWN, _WEB_LOGIN], _WEB_ANON),
    )
    web_mode = np.where((web_mode == _WEB_LOGIN) & ~has_login_id[person], _WEB_KNOWN, web_mode)
    app_mode = np.where(purchase | (u < 0.85), _APP_KNOWN, _APP_ANON)
    mode = np.where(in_app, app_mode, web_mode)
    return _Plan(
        online=online,
        person=person,
        purchase=purchase,
        anchor=anchor,
        lines=lines,
        in_app=in_app,
        search=(rng.random(s) < 0.35).astype(np.int64),
        login=(mode == _WEB_LOGIN).astype(np.int64),
        views=views,
        adds=adds,
        removes=(cart & (rng.random(s) < 0.3)).astype(np.int64),
        checkout=(purchase | (cart & (rng.random(s) < 0.25))).astype(np.int64),
        mode=mode,
    )


def _viewed_products(
    rng: np.random.Generator, pop: Population, cat: Catalogue, bought: Purchases, plan: _Plan
) -> tuple[np.ndarray, np.ndarray]:
    """(first slot of each session, product of each view slot); bought items come first."""
    slot_start = np.cumsum(plan.views) - plan.views
    slot_sess = np.repeat(np.arange(len(plan.person)), plan.views)
    slot_k = np.arange(len(slot_sess)) - slot_start[slot_sess]
    products = _browse_products(rng, pop, cat, plan.person[slot_sess], plan.anchor[slot_sess])
    bought_slot = plan.purchase[slot_sess] & (slot_k < plan.lines[slot_sess])
    first_line = bought.order_line_start[plan.online]
    products[bought_slot] = bought.line_product[first_line[slot_sess[bought_slot]] + slot_k[bought_slot]]
    return slot_start, products


def _session_starts(
    rng: np.random.Generator,
    pop: Population,
    timeline: Timeline,
    bought: Purchases,
    plan: _Plan,
    duration: np.ndarray,
    active_end_s: np.ndarray,
) -> np.ndarray:
    """Purchase sessions end just before their order; others fall in the active period."""
    n_bought = len(plan.online)
    order_start = bought.order_s[plan.online] - duration[:n_bought] - rng.integers(10, 120, n_bought)
    people = plan.person[n_bought:]
    lo = pop.join_s[people] / SECONDS_PER_DAY
    hi = np.maximum(active_end_s[people] / SECONDS_PER_DAY - 1, lo)
    day = np.empty(len(people), dtype=np.int64)
    for k, profile in enumerate(GROUPS):
        sel = pop.group[people] == k
        day[sel] = timeline.sample_days(rng, lo[sel], hi[sel], profile.promo_sensitivity)
    browse_start = np.maximum(
        day * SECONDS_PER_DAY + time_of_day(rng, np.zeros(len(day), bool)), pop.join_s[people]
    )
    return np.concatenate([order_start, browse_start])


def browsing_sessions(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    timeline: Timeline,
    bought: Purchases,
    props: EventProperties,
    active_end_s: np.ndarray,
    person_global: np.ndarray,
    has_login_id: np.ndarray,
    log: EventLog,
) -> None:
    """Append purchase sessions (before web/app orders) and abandoned sessions to ``log``."""
    plan = _plan(rng, pop, cat, bought, active_end_s, has_login_id)
    slot_start, slot_product = _viewed_products(rng, pop, cat, bought, plan)
    s = len(plan.person)
    # expand sessions into events; k is the position in the session's template
    n_events = plan.n_events
    sess = np.repeat(np.arange(s), n_events)
    start = np.cumsum(n_events) - n_events
    k = np.arange(len(sess)) - start[sess]
    b2 = 1 + plan.search[sess]  # after landing and search
    b3 = b2 + plan.login[sess]  # after login
    b4 = b3 + plan.views[sess]  # after product views
    b5 = b4 + plan.adds[sess]  # after adds to cart
    b6 = b5 + plan.removes[sess]  # after removals; checkout follows
    landing = np.where(plan.in_app[sess], TYPE["app_open"], TYPE["page_view"])
    etype = np.select(
        [k < 1, k < b2, k < b3, k < b4, k < b5, k < b6],
        [
            landing,
            TYPE["search"],
            TYPE["page_view"],
            TYPE["product_view"],
            TYPE["add_to_cart"],
            TYPE["remove_from_cart"],
        ],
        TYPE["checkout_started"],
    )
    slot = np.select([k < b4, k < b5], [k - b3, k - b4], 0)  # removals drop the first item
    with_product = (k >= b3) & (k < b6)
    product = np.where(
        with_product, slot_product[np.clip(slot_start[sess] + slot, 0, len(slot_product) - 1)], -1
    )
    category = np.where(
        with_product,
        cat.category[np.maximum(product, 0)],
        np.where((k >= 1) & (k < b2), plan.anchor[sess], -1),
    )
    # properties: landing page, search query, login, items at checkout
    team = pop.team[plan.person]
    team_search = (team >= 0) & IS_TEAM_CATEGORY[plan.anchor] & (rng.random(s) < 0.3)
    q = (rng.random(s) * props.query_count[plan.anchor]).astype(np.int64)
    query = np.where(team_search, props.team_query[np.maximum(team, 0)], props.query[plan.anchor, q])
    page = props.page[rng.integers(0, len(props.page), s)]
    prop = np.select(
        [k < 1, k < b2, k < b3, k >= b6],
        [
            np.where(plan.in_app[sess], -1, page[sess]),
            query[sess],
            props.login,
            props.items[np.minimum(plan.adds[sess], 8)],
        ],
        -1,
    )
    # identity: logins are anonymous until the login event, which carries both ids
    m = plan.mode[sess]
    ev_mode = np.select(
        [
            m == _WEB_KNOWN,
            m == _WEB_ANON,
            (m == _WEB_LOGIN) & (k < b2),
            (m == _WEB_LOGIN) & (k < b3),
            m == _WEB_LOGIN,
            m == _APP_KNOWN,
        ],
        [Mode.KNOWN, Mode.ANON_COOKIE, Mode.ANON_COOKIE, Mode.LOGIN, Mode.KNOWN, Mode.KNOWN_DEVICE],
        Mode.ANON_DEVICE,
    )
    who = person_global[plan.person]
    n_cookies = 1 + (hashed(who, 7) % np.uint64(3)).astype(np.int64)
    n_devices = 1 + (hashed(who, 8) % np.uint64(2)).astype(np.int64)
    cookie = cookie_keys(who, (rng.random(s) * n_cookies).astype(np.int64))
    device = device_keys(who, (rng.random(s) * n_devices).astype(np.int64))
    key = np.where(plan.in_app, device, cookie)[sess]
    key = np.where(ev_mode == Mode.KNOWN, np.uint64(0), key)
    # timing: seconds between events within a session
    gaps = np.where(k == 0, 0, 5 + rng.exponential(40.0, len(sess))).astype(np.int64)
    offset = np.cumsum(gaps)
    offset -= np.repeat(offset[start], n_events)
    duration = offset[start + n_events - 1]
    session_start = _session_starts(rng, pop, timeline, bought, plan, duration, active_end_s)
    channel = np.where(plan.in_app, CHANNEL["app"], CHANNEL["web"])
    log.add(
        plan.person[sess],
        session_start[sess] + offset,
        etype,
        channel[sess],
        ev_mode,
        product=product,
        category=category,
        props=prop,
        key=key,
    )
