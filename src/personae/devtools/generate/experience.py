"""Survey answers (NPS, CES, CSAT, trust) that reflect what each customer went through.

About a third of people answer at least one survey, some several. Most answers are tied to
a moment the customer lived (an order at checkout, a delivery, a store visit, the app or
website, a support contact) and asked shortly after it; a person's first answer is often the
welcome survey about their first order. The score comes from the person's latent satisfaction
(loyal customers are mostly promoters, lapsed ones detractors; a first order is judged more
on the shop's first impression), lowered by what went wrong for them *lately* — returns so
far, support contacts in the 90 days and failed deliveries in the half year before the answer,
what they remember and what anyone could have known the day before — and lowered further when
the very moment asked about went wrong. So experience analytics computed on the data find the
drivers that were planted.

Every half year the shop also e-mails a relationship NPS question to everyone it may e-mail
who has bought (touchpoint ``email``), whether or not they still buy, and that answer follows
the customer's own buy-till-you-die story: the longer since their last order, the lower. So
detractors who have dropped out speak in the later answers as much as in the earlier ones,
in every group, and a detractor model measured on the later answers finds them by what they
did (docs/clv.md §7).

CES is asked as "it was easy to ..." on 1-7 (CES 2.0): 7 is effortless, so problems
*lower* the CES score (raise the effort).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate import voice as vt
from personae.devtools.generate.behaviour import Behaviour
from personae.devtools.generate.consent import Consents
from personae.devtools.generate.groups import GROUPS, LOYAL, OMNI
from personae.devtools.generate.identities import Identities
from personae.devtools.generate.population import Population
from personae.devtools.generate.purchases import APP, STORE, WEB, Purchases
from personae.devtools.generate.seasonality import Timeline

TOUCHPOINTS = ("checkout", "delivery", "support", "store", "app", "website", "email")
CHECKOUT, DELIVERY, SUPPORT, IN_STORE, IN_APP, WEBSITE, EMAIL = range(len(TOUCHPOINTS))
KINDS = ("nps", "ces", "csat", "trust")
NPS, CES, CSAT, TRUST = range(len(KINDS))
_SCALE = np.array([schema.DEFAULT_SCALE_MAX[k] for k in KINDS])
_SCALE_MIN = np.array([0.0, 1.0, 1.0, 0.0])
_COMMENT_RATE = 0.2
HOUR = 3600


def _touchpoints(rng: np.random.Generator, channel: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Where an order-related question was asked, from the order's channel."""
    u = rng.random(len(channel))
    web = np.select([u < 0.45, u < 0.8], [CHECKOUT, DELIVERY], WEBSITE)
    app = np.select([u < 0.5, u < 0.75], [IN_APP, CHECKOUT], DELIVERY)
    other = np.where(u < 0.6, DELIVERY, CHECKOUT)
    tp = np.select([channel == STORE, channel == WEB, channel == APP], [IN_STORE, web, app], other)
    return np.where(failed & (channel != STORE) & (rng.random(len(u)) < 0.8), DELIVERY, tp)


def _delay(rng: np.random.Generator, touchpoint: np.ndarray) -> np.ndarray:
    """Seconds between the moment and the answer: minutes at checkout, days for delivery."""
    lo = np.array([300, 3 * 24, 1, 1, 1, 1, 1]) * np.array([1, HOUR, HOUR, HOUR, HOUR, HOUR, HOUR])
    hi = np.array([3600, 8 * 24 * HOUR, 48 * HOUR, 24 * HOUR, 12 * HOUR, 48 * HOUR, 10 * 24 * HOUR])
    return rng.integers(lo[touchpoint], hi[touchpoint])


#: theme of a comment by touchpoint (TOUCHPOINTS order): checkout and online moments are about
#: the website (checkout also about price), delivery about delivery, support and stores about staff;
#: (the e-mailed relationship question: see ``_RELATIONSHIP_THEMES``)
_TOUCHPOINT_THEME = np.array(
    [vt.WEBSITE, vt.DELIVERY, vt.STAFF, vt.STAFF, vt.WEBSITE, vt.WEBSITE, vt.QUALITY]
)


#: what a relationship answer's comment is about: quality 25 %, the staff met in stores and on
#: the phone 35 %, price and delivery 15 % each, the website the rest
_RELATIONSHIP_THEMES = [vt.QUALITY, vt.STAFF, vt.PRICE, vt.DELIVERY]


def _comments(
    rng: np.random.Generator, relative: np.ndarray, touchpoint: np.ndarray, returned: np.ndarray
) -> np.ndarray:
    """Codes into ``voice.TEXTS`` (-1 = no comment): the theme follows the moment asked about
    (a returned order is talked about as a return or its quality), the sentiment the score."""
    k = len(relative)
    has_comment = rng.random(k) < _COMMENT_RATE
    u = rng.random((k, 2))
    theme = _TOUCHPOINT_THEME[touchpoint]
    theme = np.where((touchpoint == CHECKOUT) & (u[:, 0] < 0.35), vt.PRICE, theme)
    theme = np.where((touchpoint == IN_STORE) & (u[:, 0] < 0.4), vt.QUALITY, theme)
    # the relationship question is about the shop as a whole: any of its sides
    theme = np.where(
        touchpoint == EMAIL,
        np.select(
            [u[:, 0] < 0.25, u[:, 0] < 0.6, u[:, 0] < 0.75, u[:, 0] < 0.9], _RELATIONSHIP_THEMES, vt.WEBSITE
        ),
        theme,
    )
    theme = np.where(
        returned & (touchpoint != SUPPORT), np.where(u[:, 1] < 0.6, vt.RETURNS, vt.QUALITY), theme
    )
    code = vt.pick(rng, theme, vt.sentiment_of(relative))
    return np.where(has_comment, code, -1)


#: how long a support contact / a failed delivery weighs on what a customer answers (seconds)
_SUPPORT_MEMORY = 90 * 24 * HOUR
_FAILURE_MEMORY = 180 * 24 * HOUR
#: a first order's answer: the shop's first impression, weighed against the person's own satisfaction
_FIRST_IMPRESSION = 0.8
_FIRST_IMPRESSION_WEIGHT = 0.3
#: the share of people whose first answer is the welcome survey about their first order
_WELCOME_SHARE = 0.5
#: the relationship NPS: asked every half year; the chance to answer a wave, per survey_rate
_WAVE_EVERY = 182
_RELATIONSHIP_RATE = 0.15
#: a customer silent for long answers up to this much lower, half of it after ~4 months
_LEFT_UNHAPPY = 0.3
_SILENCE_DAYS = 180.0


def _within(
    event_person: np.ndarray, event_s: np.ndarray, person: np.ndarray, at: np.ndarray, memory: int
) -> np.ndarray:
    """For each ``(person, at)``: how many of the person's events fall in ``[at - memory, at)``
    (events sorted by person, then time).

    >>> _within(np.array([0, 0, 1]), np.array([10, 50, 20]), np.array([0, 0, 1]), np.array([55, 30, 20]), 30)
    array([1, 1, 0])
    """
    key = (event_person.astype(np.int64) << 32) | event_s.astype(np.int64)
    hi = np.searchsorted(key, (person.astype(np.int64) << 32) | at, side="left")
    lo = np.searchsorted(key, (person.astype(np.int64) << 32) | np.maximum(at - memory, 0), side="left")
    return hi - lo


def _returned_share(bought: Purchases, person: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each ``(person, at)``: the share of the person's order lines bought before ``at``
    that were returned (0 with none)."""
    returned = np.add.reduceat(bought.line_returned.astype(np.int64), bought.order_line_start)
    key = (bought.order_person.astype(np.int64) << 32) | bought.order_s.astype(np.int64)
    cum_lines = np.concatenate([[0], np.cumsum(bought.order_lines)])
    cum_returned = np.concatenate([[0], np.cumsum(returned)])
    start = np.searchsorted(key, person.astype(np.int64) << 32, side="left")
    stop = np.searchsorted(key, (person.astype(np.int64) << 32) | at, side="left")
    lines = cum_lines[stop] - cum_lines[start]
    return np.divide(cum_returned[stop] - cum_returned[start], lines, out=np.zeros(len(at)), where=lines > 0)


def _relationship_waves(timeline: Timeline) -> np.ndarray:
    """The days the shop e-mails its relationship NPS question: every half year, the last
    one six weeks before the end of the data."""
    return np.arange(timeline.end_day - 42, timeline.start_day, -_WAVE_EVERY)[::-1]


def _relationship(
    rng: np.random.Generator, pop: Population, timeline: Timeline, bought: Purchases, consents: Consents
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The e-mailed relationship NPS ("how likely are you to recommend us?"), asked of everyone
    the shop may e-mail who has bought, whether or not they still buy.

    Its answer follows the customer's own buy-till-you-die story: the longer since their last
    order, the lower (a customer who has stopped buying has, by and large, left unhappy), so
    it is where detractors who have dropped out speak — the later answers as much as the
    earlier ones, in every group.

    Returns ``(person, answered, satisfaction)`` of each answer.
    """
    waves = _relationship_waves(timeline) * col.SECONDS_PER_DAY + 10 * HOUR
    may_email = (waves[None, :] >= consents.email_from[:, None]) & (
        waves[None, :] < consents.email_until[:, None]
    )
    bought_before = waves[None, :] > bought.person_first[:, None]
    rate = _RELATIONSHIP_RATE * np.array([g.survey_rate for g in GROUPS])[pop.group]
    person, wave = np.nonzero(may_email & bought_before & (rng.random(may_email.shape) < rate[:, None]))
    asked = waves[wave]
    answered = asked + (rng.exponential(1.5, len(person)) * 24 * HOUR).astype(np.int64)
    key = (bought.order_person.astype(np.int64) << 32) | bought.order_s.astype(np.int64)
    last = np.searchsorted(key, (person.astype(np.int64) << 32) | asked, side="left") - 1
    silent_days = (asked - bought.order_s[last]) / col.SECONDS_PER_DAY
    sat = pop.satisfaction[person] - _LEFT_UNHAPPY * (1 - np.exp(-silent_days / _SILENCE_DAYS))
    return person, answered, sat


def draw_surveys(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    timeline: Timeline,
    bought: Purchases,
    lived: Behaviour,
    first_number: int,
    width: int,
    consents: Consents | None = None,
) -> pa.Table:
    """Survey answers of a chunk of people; response ids start at ``first_number``.

    With ``consents``, the e-mailed relationship NPS (:func:`_relationship`) is added.
    """
    n = len(pop)
    rate = np.array([g.survey_rate for g in GROUPS])[pop.group]
    answers = np.where(
        rng.random(n) < rate,
        1 + np.minimum(rng.poisson(np.where(np.isin(pop.group, (LOYAL, OMNI)), 0.7, 0.35)), 3),
        0,
    )
    person = np.repeat(np.arange(n), answers)
    k = len(person)
    # the moment asked about: a support contact, or one of the person's orders
    s_start = np.searchsorted(lived.support_person, np.arange(n))
    s_count = lived.person_support
    about_support = (s_count[person] > 0) & (rng.random(k) < 0.4)
    s_idx = s_start[person] + (rng.random(k) * s_count[person]).astype(np.int64)
    o_start = np.cumsum(bought.person_orders) - bought.person_orders
    o_idx = o_start[person] + (rng.random(k) * bought.person_orders[person]).astype(np.int64)
    # the welcome survey: a person's first answer, unless about a support contact, is often
    # about their first order
    welcome = (np.arange(k) == np.searchsorted(person, person)) & (rng.random(k) < _WELCOME_SHARE)
    welcome &= ~about_support
    o_idx[welcome] = o_start[person[welcome]]
    channel = bought.order_channel[o_idx]
    order_failed = bought.order_failed[o_idx] & ~about_support
    touchpoint = np.where(about_support, SUPPORT, _touchpoints(rng, channel, bought.order_failed[o_idx]))
    moment = bought.order_s[o_idx].copy()
    moment[about_support] = lived.support_s[s_idx[about_support]]
    answered = moment + _delay(rng, touchpoint)
    # satisfaction: the person's, minus what went wrong for them lately (before the answer:
    # what they remember, and what anyone could have known the day before), minus this
    # moment's trouble
    order_returned = np.add.reduceat(bought.line_returned.astype(np.int64), bought.order_line_start) > 0
    # a first order is judged on the shop's first impression more than on who the person is
    first_order = ~about_support & (o_idx == o_start[person])
    own = np.where(first_order, _FIRST_IMPRESSION_WEIGHT, 1.0)
    sat = (
        own * pop.satisfaction[person]
        + (1 - own) * _FIRST_IMPRESSION
        - 0.1 * about_support
        - 0.25 * (order_failed & (touchpoint == DELIVERY))
        - 0.1 * (order_returned[o_idx] & ~about_support)
    )
    u = rng.random(k)
    kind = np.where(
        about_support,
        np.select([u < 0.45, u < 0.8, u < 0.9], [CES, CSAT, NPS], TRUST),
        np.select([u < 0.5, u < 0.7, u < 0.8], [NPS, CSAT, CES], TRUST),
    )
    returned = order_returned[o_idx] & ~about_support
    if consents is not None:
        r_person, r_answered, r_sat = _relationship(rng, pop, timeline, bought, consents)
        person = np.concatenate([person, r_person])
        answered = np.concatenate([answered, r_answered])
        sat = np.concatenate([sat, r_sat])
        kind = np.concatenate([kind, np.full(len(r_person), NPS)])
        touchpoint = np.concatenate([touchpoint, np.full(len(r_person), EMAIL)])
        returned = np.concatenate([returned, np.zeros(len(r_person), dtype=bool)])
        k = len(person)
    # what went wrong for them lately (before the answer: what they remember, and what anyone
    # could have known the day before)
    support_lately = _within(lived.support_person, lived.support_s, person, answered, _SUPPORT_MEMORY)
    failed_lately = _within(lived.failed_person, lived.failed_s, person, answered, _FAILURE_MEMORY)
    sat = (
        sat
        - 0.5 * _returned_share(bought, person, answered)
        - 0.05 * np.minimum(support_lately, 3)
        - 0.1 * np.minimum(failed_lately, 2)
        + rng.normal(0.0, 0.07, k)
    )
    noise = rng.normal(0.0, 1.0, k) * np.array([0.5, 0.4, 0.3, 0.7])[kind]
    raw = _SCALE_MIN[kind] + (_SCALE[kind] - _SCALE_MIN[kind]) * sat + noise
    raw = np.where(kind == TRUST, raw - 0.5, raw)
    score = np.clip(np.round(raw), _SCALE_MIN[kind], _SCALE[kind])
    relative = (score - _SCALE_MIN[kind]) / (_SCALE[kind] - _SCALE_MIN[kind])
    comment = _comments(rng, relative, touchpoint, returned)
    keep = answered <= timeline.end_s
    order = np.lexsort((answered, person))
    order = order[keep[order]]
    return pa.table(
        {
            "response_id": col.ids("R", first_number + np.arange(len(order)), width),
            "customer_id": ids.customer_id.take(pa.array(person[order])),
            "answered_at": col.timestamps(answered[order]),
            "kind": col.lookup(KINDS, kind[order]),
            "score": col.floats(score[order], 0),
            "scale_max": col.floats(_SCALE[kind[order]], 0),
            "comment": col.lookup(vt.TEXTS, comment[order]),
            "touchpoint": col.lookup(TOUCHPOINTS, touchpoint[order]),
        }
    )
