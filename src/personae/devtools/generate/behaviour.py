"""Events: everything customers do besides ordering, derived from who they are and what
they bought.

* browsing sessions (``sessions``) before web/app orders and abandoned ones;
* messaging: e-mail campaigns sent only while e-mail consent holds, opened and clicked at
  the person's own rates (bargain hunters click, lapsed customers ignore), SMS, push opens,
  app opens for app users;
* store visits around store orders, some known only by the loyalty card scanned;
* service: failed deliveries, support contacts after returns and failed deliveries and
  at a group-specific base rate, reviews that reflect satisfaction and returns, referrals
  by happy customers;
* anonymous visitors who never become customers.

The support contacts and failed deliveries are also returned as arrays, because survey
answers depend on them (``experience``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate import voice as vt
from personae.devtools.generate.catalogue import Catalogue
from personae.devtools.generate.columns import SECONDS_PER_DAY, hashed
from personae.devtools.generate.consent import Consents
from personae.devtools.generate.eventlog import (
    CHANNEL,
    ORDER_TO_EVENT_CHANNEL,
    SERVICE_REASONS,
    TYPE,
    EventLog,
    EventProperties,
    Mode,
    device_keys,
)
from personae.devtools.generate.groups import BARGAIN, GROUPS, LAPSED, LOYAL, OMNI, ONE_OFF
from personae.devtools.generate.identities import VISITOR_SALT, Identities
from personae.devtools.generate.population import Population
from personae.devtools.generate.purchases import STORE, Purchases
from personae.devtools.generate.seasonality import Timeline, time_of_day
from personae.devtools.generate.sessions import browsing_sessions

DAY = SECONDS_PER_DAY
_REVIEW_RATE = np.array([0.08, 0.04, 0.04, 0.05, 0.07, 0.03])
_SERVICE_CHANNELS = np.array([CHANNEL[c] for c in schema.SERVICE_CHANNELS])
_SERVICE_WEIGHTS = np.array([0.3, 0.25, 0.25, 0.03, 0.07, 0.1])
_REASON = {r: i for i, r in enumerate(SERVICE_REASONS)}


@dataclass(frozen=True)
class Behaviour:
    """The events table of a chunk and the service history surveys react to."""

    table: pa.Table
    support_person: np.ndarray
    support_s: np.ndarray
    person_support: np.ndarray
    person_failed: np.ndarray
    posts: int = 0  # social posts at the end of ``table`` (numbered apart from other events)
    #: each failed delivery's person and when it was reported, sorted by person, then time
    failed_person: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    failed_s: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _active_end(rng: np.random.Generator, pop: Population, bought: Purchases, end_s: int) -> np.ndarray:
    """When each person stops interacting: lapsed and one-off customers fade out."""
    last = bought.order_s[np.cumsum(bought.person_orders) - 1]
    n = len(pop)
    fade_days = np.select(
        [pop.group == LAPSED, pop.group == ONE_OFF], [rng.uniform(10, 90, n), rng.uniform(0, 45, n)], -1.0
    )
    faded = np.minimum(last + (np.maximum(fade_days, 0) * DAY).astype(np.int64), end_s)
    return np.where(fade_days < 0, end_s, faded)


def _uniform_times(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (rng.random(len(lo)) * np.maximum(hi - lo, 0)).astype(np.int64)


def _email(
    rng: np.random.Generator, pop: Population, consents: Consents, props: EventProperties, log: EventLog
) -> None:
    """Campaign sends inside the consent window; opens and clicks at personal rates."""
    n = len(pop)
    base = props.campaign_days * DAY + 9 * 3600
    eligible = (
        (base[None, :] >= consents.email_from[:, None])
        & (base[None, :] < consents.email_until[:, None])
        & (base[None, :] >= pop.join_s[:, None])
    )
    # bargain hunters are targeted by more campaigns, and everyone by sale campaigns
    p = np.where(props.campaign_sale[None, :], 0.3, 0.07) * np.where(pop.group == BARGAIN, 1.4, 1.0)[:, None]
    sent = eligible & (rng.random((n, len(base)), dtype=np.float32) < p)
    person, campaign = np.nonzero(sent)
    send_s = base[campaign] + rng.integers(0, 7200, len(person))
    code = props.campaign[campaign]
    log.add(person, send_s, "email_sent", "email", Mode.KNOWN_EMAIL, props=code)
    opened = rng.random(len(person)) < pop.email_open[person]
    open_s = send_s[opened] + (rng.exponential(6.0, int(opened.sum())) * 3600).astype(np.int64)
    log.add(person[opened], open_s, "email_open", "email", Mode.KNOWN_EMAIL, props=code[opened])
    clicked = rng.random(len(open_s)) < pop.email_click[person[opened]]
    click_s = open_s[clicked] + (rng.exponential(20.0, int(clicked.sum())) * 60).astype(np.int64)
    log.add(
        person[opened][clicked],
        click_s,
        "email_click",
        "email",
        Mode.KNOWN_EMAIL,
        props=code[opened][clicked],
    )


def _sms_push_app(
    rng: np.random.Generator,
    pop: Population,
    consents: Consents,
    props: EventProperties,
    active_end: np.ndarray,
    person_global: np.ndarray,
    log: EventLog,
) -> None:
    """Monthly SMS campaigns, push notifications opened, and app opens of app users."""
    n = len(pop)
    base = props.sms_days * DAY + 12 * 3600
    eligible = (base[None, :] >= consents.sms_from[:, None]) & (base[None, :] < consents.sms_until[:, None])
    person, campaign = np.nonzero(eligible & (rng.random((n, len(base)), dtype=np.float32) < 0.25))
    log.add(
        person,
        base[campaign] + rng.integers(0, 3600, len(person)),
        "sms_sent",
        "sms",
        Mode.KNOWN_PHONE,
        props=props.sms[campaign],
    )
    device0 = device_keys(person_global, np.zeros(n, dtype=np.int64))
    lo = np.maximum(consents.push_from, pop.join_s)
    hi = np.minimum(consents.push_until, active_end)
    months = np.where(lo < hi, (hi - lo) / DAY / 30.44, 0.0)
    count = rng.poisson(0.2 * months)
    who = np.repeat(np.arange(n), count)
    log.add(
        who,
        _uniform_times(rng, lo[who], hi[who]),
        "push_open",
        "push",
        Mode.KNOWN_DEVICE,
        props=props.push[rng.integers(0, len(props.push), len(who))],
        key=device0[who],
    )
    months = np.where(pop.app_user, (active_end - pop.join_s) / DAY / 30.44, 0)
    count = rng.poisson(np.where(pop.group == OMNI, 0.15, 0.06) * np.maximum(months, 0))
    who = np.repeat(np.arange(n), count)
    mode = np.where(rng.random(len(who)) < 0.9, Mode.KNOWN_DEVICE, Mode.ANON_DEVICE)
    log.add(
        who, _uniform_times(rng, pop.join_s[who], active_end[who]), "app_open", "app", mode, key=device0[who]
    )


def _store_visits(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    cat: Catalogue,
    bought: Purchases,
    props: EventProperties,
    active_end: np.ndarray,
    log: EventLog,
) -> None:
    """A visit before every store order, and visits without a purchase."""
    at_store = np.flatnonzero(bought.order_channel == STORE)
    person = bought.order_person[at_store]
    visit_s = bought.order_s[at_store] - rng.integers(300, 2400, len(at_store))
    store = bought.order_store[at_store]
    months = (active_end - pop.join_s) / DAY / 30.44
    count = rng.poisson(
        0.3 * np.maximum(months, 0) * pop.channel_p[:, STORE] * (pop.channel_p[:, STORE] >= 0.1)
    )
    who = np.repeat(np.arange(len(pop)), count)
    day = np.floor(_uniform_times(rng, pop.join_s[who], active_end[who]) / DAY).astype(np.int64)
    extra_s = np.maximum(day * DAY + time_of_day(rng, np.ones(len(who), bool)), pop.join_s[who])
    extra_store = cat.stores.visited(rng.random((len(who), 2)), pop.home_store[who], pop.region[who])
    person = np.concatenate([person, who])
    card = ids.loyalty_id.is_valid().to_numpy(zero_copy_only=False)[person]
    u = rng.random(len(person))
    mode = np.where(
        card, np.select([u < 0.4, u < 0.6], [Mode.LOYALTY, Mode.KNOWN_LOYALTY], Mode.KNOWN), Mode.KNOWN
    )
    log.add(
        person,
        np.concatenate([visit_s, extra_s]),
        "store_visit",
        "store",
        mode,
        props=props.store[np.concatenate([store, extra_store])],
    )


def _service(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    bought: Purchases,
    props: EventProperties,
    active_end: np.ndarray,
    log: EventLog,
    voice: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Failed deliveries, support contacts, reviews and referrals.

    Returns (support person, support time, failed delivery person, failed delivery time).
    """
    n = len(pop)
    failed = np.flatnonzero(bought.order_failed)
    f_person = bought.order_person[failed]
    f_s = bought.order_s[failed] + rng.integers(2 * DAY, 5 * DAY, len(failed))
    log.add(
        f_person,
        f_s,
        "delivery_failed",
        ORDER_TO_EVENT_CHANNEL[bought.order_channel[failed]],
        Mode.KNOWN,
        props=props.delivery[rng.integers(0, len(props.delivery), len(failed))],
    )
    # support: after failed deliveries, after returns, and for everyday questions
    chase = rng.random(len(failed)) < 0.6
    d_person = f_person[chase]
    d_s = f_s[chase] + rng.integers(DAY // 10, 3 * DAY, int(chase.sum()))
    d_reason = np.where(rng.random(len(d_person)) < 0.6, _REASON["late_delivery"], _REASON["missing_parcel"])
    ret = np.flatnonzero(bought.line_returned & (rng.random(len(bought.line_returned)) < 0.45))
    line_order = np.searchsorted(bought.order_line_start, ret, side="right") - 1
    r_person = bought.order_person[line_order]
    r_s = bought.order_s[line_order] + rng.integers(3 * DAY, 20 * DAY, len(ret))
    r_reason = rng.choice(
        [_REASON["return"], _REASON["wrong_size"], _REASON["damaged_item"]],
        size=len(ret),
        p=[0.6, 0.25, 0.15],
    )
    years = np.maximum(active_end - pop.join_s, 0) / DAY / 365.25
    count = rng.poisson(np.array([g.support_per_year for g in GROUPS])[pop.group] * years)
    b_person = np.repeat(np.arange(n), count)
    b_s = _uniform_times(rng, pop.join_s[b_person], active_end[b_person])
    b_reason = rng.choice(5, size=len(b_person), p=[0.3, 0.3, 0.15, 0.1, 0.15])
    person = np.concatenate([d_person, r_person, b_person])
    support_s = np.concatenate([d_s, r_s, b_s])
    reason = np.concatenate([d_reason, r_reason, b_reason])
    channel = rng.choice(len(_SERVICE_CHANNELS), size=len(person), p=_SERVICE_WEIGHTS)
    no_store = (channel == 5) & (pop.home_store[person] < 0)
    channel = np.where(no_store, 0, channel)
    mode = np.select(
        [(channel == 0) & ids.has_phone[person], (channel == 1) & ids.has_email[person]],
        [Mode.KNOWN_PHONE, Mode.KNOWN_EMAIL],
        Mode.KNOWN,
    )
    p_resolved = np.where(
        reason == _REASON["complaint"], 0.55, np.where(reason >= _REASON["late_delivery"], 0.7, 0.85)
    )
    resolved = rng.random(len(person)) < p_resolved
    service_props = props.service[reason, (~resolved).astype(np.int64)]
    if voice is not None:
        service_props = _support_texts(voice, props, reason, resolved, channel, service_props)
    log.add(person, support_s, "support_contact", _SERVICE_CHANNELS[channel], mode, props=service_props)
    # reviews: satisfied people rate high, a returned item pulls the rating down
    line_person = np.repeat(bought.order_person, bought.order_lines)
    line_s = np.repeat(bought.order_s, bought.order_lines)
    reviewed = np.flatnonzero(rng.random(len(line_person)) < _REVIEW_RATE[pop.group[line_person]])
    rp = line_person[reviewed]
    rating = np.clip(
        np.round(
            1 + 4 * (pop.satisfaction[rp] + rng.normal(0, 0.12, len(rp))) - 2 * bought.line_returned[reviewed]
        ),
        1,
        5,
    ).astype(np.int64)
    in_app = pop.app_user[rp] & (rng.random(len(rp)) < 0.5)
    log.add(
        rp,
        line_s[reviewed] + rng.integers(5 * DAY, 25 * DAY, len(rp)),
        "review",
        np.where(in_app, CHANNEL["app"], CHANNEL["web"]),
        Mode.KNOWN,
        product=bought.line_product[reviewed],
        category=bought.line_category[reviewed],
        props=props.rating[rating]
        if voice is None
        else _review_texts(voice, props, rating, bought.line_returned[reviewed]),
    )
    # referrals by happy loyal and omnichannel customers
    fans = np.isin(pop.group, (LOYAL, OMNI)) & (pop.satisfaction > 0.75)
    count = rng.poisson(np.where(fans, 0.8, 0.02))
    who = np.repeat(np.arange(n), count)
    log.add(
        who,
        _uniform_times(rng, pop.join_s[who], active_end[who]),
        "referral",
        "web",
        Mode.KNOWN,
        props=props.referral[rng.integers(0, len(props.referral), len(who))],
    )
    return person, support_s, f_person, f_s


#: voice theme of each support reason (SERVICE_REASONS order)
_REASON_THEME = np.array(
    [
        vt.QUALITY,
        vt.DELIVERY,
        vt.WEBSITE,
        vt.PRICE,
        vt.STAFF,
        vt.RETURNS,
        vt.RETURNS,
        vt.QUALITY,
        vt.DELIVERY,
        vt.DELIVERY,
    ]
)
_WRITTEN = np.isin(_SERVICE_CHANNELS, [CHANNEL[c] for c in ("email", "chat", "letter", "social")])
_NETWORKS = ("twitter", "facebook", "instagram")


def _review_texts(
    voice: np.random.Generator, props: EventProperties, rating: np.ndarray, returned: np.ndarray
) -> np.ndarray:
    """Review properties: most reviews carry a text about the product (or its return, when it
    went back), as positive or negative as the rating."""
    n = len(rating)
    u = voice.random((n, 2))
    theme = np.where(
        returned,
        np.where(u[:, 0] < 0.5, vt.RETURNS, vt.QUALITY),
        np.select([u[:, 0] < 0.7, u[:, 0] < 0.85], [vt.QUALITY, vt.PRICE], vt.DELIVERY),
    )
    code = vt.pick(voice, theme, vt.sentiment_of((rating - 1) / 4))
    return np.where(u[:, 1] < 0.65, props.review_text[rating, code], props.rating[rating])


def _support_texts(
    voice: np.random.Generator,
    props: EventProperties,
    reason: np.ndarray,
    resolved: np.ndarray,
    channel: np.ndarray,
    plain: np.ndarray,
) -> np.ndarray:
    """Written contacts (e-mail, chat, letter, social) carry the customer's message: about what
    the reason is about; complaints and unresolved problems negative, questions neutral."""
    n = len(reason)
    u = voice.random((n, 2))
    problem = reason >= _REASON["complaint"]
    sentiment = np.where(
        problem & (~resolved | (u[:, 0] < 0.6)),
        vt.NEGATIVE,
        np.where(u[:, 0] < 0.85, vt.NEUTRAL, vt.POSITIVE),
    )
    code = vt.pick(voice, _REASON_THEME[reason], sentiment)
    with_text = _WRITTEN[channel] & (u[:, 1] < 0.7)
    return np.where(with_text, props.service_text[reason, (~resolved).astype(np.int64), code], plain)


def social_posts(
    voice: np.random.Generator,
    pop: Population,
    ids: Identities,
    cat: Catalogue,
    props: EventProperties,
    timeline: Timeline,
    active_end: np.ndarray,
    person_global: np.ndarray,
    failed: np.ndarray,
    returns: np.ndarray,
    first_number: int,
    width: int,
) -> pa.Table:
    """Social posts about the shop: people hit by failed deliveries or returns complain in
    public, fans praise; each person posts on one network with a stable audience size. Their
    own table (event ids ``E1…`` one digit longer than the others), so adding them renumbers
    no other event."""
    n = len(pop)
    rate = 0.04 + 0.25 * (failed > 0) + 0.08 * (returns > 0) + 0.1 * (pop.satisfaction > 0.85)
    count = voice.poisson(rate)
    who = np.repeat(np.arange(n), count)
    k = len(who)
    u = voice.random((k, 3))
    theme = np.where(
        failed[who] > 0,
        vt.DELIVERY,
        np.where(returns[who] > 0, vt.RETURNS, (u[:, 0] * len(vt.THEMES)).astype(np.int64)),
    )
    mood = pop.satisfaction[who] - 0.3 * (failed[who] > 0) - 0.15 * (returns[who] > 0)
    sentiment = vt.sentiment_of(np.clip(mood + voice.normal(0.0, 0.1, k), 0, 1))
    text = vt.pick(voice, theme, sentiment)
    network = (hashed(person_global, 11) % np.uint64(len(_NETWORKS))).astype(np.int64)
    followers = np.round(
        np.exp(
            4.5
            + 1.6 * ((hashed(person_global, 12) % np.uint64(10_000)).astype(np.float64) / 10_000 - 0.5) * 3
        )
    )
    log = EventLog()
    seconds = _uniform_times(voice, pop.join_s[who], active_end[who])
    log.add(who, seconds, "social_post", "social", Mode.KNOWN)
    table = log.table(ids, cat, props, timeline, first_number, width)
    order = np.lexsort((seconds, who))  # the log's own order: person, then time
    keep = (seconds[order] >= timeline.start_day * DAY) & (seconds[order] <= timeline.end_s)
    order = order[keep]
    body = [
        json.dumps({"network": _NETWORKS[network[w]], "followers": int(followers[w]), "text": vt.TEXTS[t]})
        for w, t in zip(who[order].tolist(), text[order].tolist(), strict=True)
    ]
    table = table.set_column(
        table.schema.get_field_index("properties"), "properties", pa.array(body, pa.string())
    )
    # one digit longer than other event ids, starting with 1: never equal to one of them
    ids_col = col.ids("E", 10**width + first_number + np.arange(table.num_rows), width + 1)
    return table.set_column(table.schema.get_field_index("event_id"), "event_id", ids_col)


def _visitors(
    rng: np.random.Generator,
    n_people: int,
    chunk: int,
    cat: Catalogue,
    timeline: Timeline,
    props: EventProperties,
    log: EventLog,
) -> None:
    """Anonymous visitors who browse a little and never sign up."""
    visitors = round(0.2 * n_people)
    sessions = 1 + rng.poisson(0.6, visitors)
    visitor = np.repeat(np.arange(visitors), sessions)
    s = len(visitor)
    day = timeline.sample_days(rng, np.full(s, timeline.start_day), np.full(s, timeline.end_day))
    start = day * DAY + time_of_day(rng, np.zeros(s, bool))
    views = 1 + np.minimum(rng.poisson(1.0, s), 4)
    sess = np.repeat(np.arange(s), views + 1)
    k = np.arange(len(sess)) - np.repeat(np.cumsum(views + 1) - (views + 1), views + 1)
    product = np.where(k > 0, rng.integers(0, len(cat.price), len(sess)), -1)
    key = hashed(np.uint64(chunk) << np.uint64(32) | visitor[sess].astype(np.uint64), VISITOR_SALT)
    log.add(
        n_people + visitor[sess],
        start[sess] + k * rng.integers(10, 90, len(sess)),
        np.where(k == 0, TYPE["page_view"], TYPE["product_view"]),
        "web",
        Mode.VISITOR,
        product=product,
        category=np.where(k > 0, cat.category[np.maximum(product, 0)], -1),
        props=np.where(k == 0, props.page[0], -1),
        key=key,
    )


def draw_behaviour(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    cat: Catalogue,
    timeline: Timeline,
    consents: Consents,
    bought: Purchases,
    props: EventProperties,
    person_offset: int,
    chunk: int,
    first_event_number: int,
    event_id_width: int,
    voice: np.random.Generator | None = None,
    first_post_number: int = 1,
) -> Behaviour:
    """All events of a chunk of people (people ``person_offset`` onwards).

    With ``voice`` (the voice module's generator), reviews and written support contacts carry
    texts and social posts are added (numbered from ``first_post_number``).
    """
    n = len(pop)
    log = EventLog()
    active_end = _active_end(rng, pop, bought, timeline.end_s)
    person_global = person_offset + np.arange(n)
    has_login_id = ids.has_email | ids.has_phone
    browsing_sessions(rng, pop, cat, timeline, bought, props, active_end, person_global, has_login_id, log)
    _email(rng, pop, consents, props, log)
    _sms_push_app(rng, pop, consents, props, active_end, person_global, log)
    _store_visits(rng, pop, ids, cat, bought, props, active_end, log)
    support_person, support_s, failed_person, failed_s = _service(
        rng, pop, ids, bought, props, active_end, log, voice
    )
    failed = np.bincount(failed_person, minlength=n)
    _visitors(rng, n, chunk, cat, timeline, props, log)
    table = log.table(ids, cat, props, timeline, first_event_number, event_id_width)
    if voice is not None:
        line_person = np.repeat(bought.order_person, bought.order_lines)
        returns = np.bincount(line_person[bought.line_returned], minlength=n)
        posts = social_posts(
            voice,
            pop,
            ids,
            cat,
            props,
            timeline,
            active_end,
            person_global,
            failed,
            returns,
            first_post_number,
            event_id_width,
        )
        table = pa.concat_tables([table, posts])
    in_window = support_s <= timeline.end_s
    support_person, support_s = support_person[in_window], support_s[in_window]
    order = np.lexsort((support_s, support_person))
    by_person = np.lexsort((failed_s, failed_person))
    return Behaviour(
        table,
        support_person[order],
        support_s[order],
        np.bincount(support_person, minlength=n),
        failed,
        posts.num_rows if voice is not None else 0,
        failed_person[by_person],
        failed_s[by_person],
    )
