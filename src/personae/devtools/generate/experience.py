"""Survey answers (NPS, CES, CSAT, trust) that reflect what each customer went through.

About a third of people answer at least one survey, some several. Each answer is tied to
a moment the customer lived (an order at checkout, a delivery, a store visit, the app or
website, a support contact) and asked shortly after it. The score comes from the person's
latent satisfaction (loyal customers are mostly promoters, lapsed ones detractors), lowered
by their returns, support contacts and failed deliveries, and lowered further when the
very moment asked about went wrong. So experience analytics computed on the data find
the drivers that were planted.

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
from personae.devtools.generate.groups import GROUPS, LOYAL, OMNI
from personae.devtools.generate.identities import Identities
from personae.devtools.generate.population import Population
from personae.devtools.generate.purchases import APP, STORE, WEB, Purchases
from personae.devtools.generate.seasonality import Timeline

TOUCHPOINTS = ("checkout", "delivery", "support", "store", "app", "website")
CHECKOUT, DELIVERY, SUPPORT, IN_STORE, IN_APP, WEBSITE = range(len(TOUCHPOINTS))
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
    lo = np.array([300, 3 * 24, 1, 1, 1, 1]) * np.array([1, HOUR, HOUR, HOUR, HOUR, HOUR])
    hi = np.array([3600, 8 * 24 * HOUR, 48 * HOUR, 24 * HOUR, 12 * HOUR, 48 * HOUR])
    return rng.integers(lo[touchpoint], hi[touchpoint])


#: theme of a comment by touchpoint (TOUCHPOINTS order): checkout and online moments are about
#: the website (checkout also about price), delivery about delivery, support and stores about staff
_TOUCHPOINT_THEME = np.array([vt.WEBSITE, vt.DELIVERY, vt.STAFF, vt.STAFF, vt.WEBSITE, vt.WEBSITE])


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
    theme = np.where(
        returned & (touchpoint != SUPPORT), np.where(u[:, 1] < 0.6, vt.RETURNS, vt.QUALITY), theme
    )
    code = vt.pick(rng, theme, vt.sentiment_of(relative))
    return np.where(has_comment, code, -1)


def draw_surveys(
    rng: np.random.Generator,
    pop: Population,
    ids: Identities,
    timeline: Timeline,
    bought: Purchases,
    lived: Behaviour,
    first_number: int,
    width: int,
) -> pa.Table:
    """Survey answers of a chunk of people; response ids start at ``first_number``."""
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
    channel = bought.order_channel[o_idx]
    order_failed = bought.order_failed[o_idx] & ~about_support
    touchpoint = np.where(about_support, SUPPORT, _touchpoints(rng, channel, bought.order_failed[o_idx]))
    moment = bought.order_s[o_idx].copy()
    moment[about_support] = lived.support_s[s_idx[about_support]]
    answered = moment + _delay(rng, touchpoint)
    # satisfaction: the person's, minus what went wrong for them, minus this moment's trouble
    line_person = np.repeat(bought.order_person, bought.order_lines)
    returns = np.bincount(line_person[bought.line_returned], minlength=n)
    order_returned = np.add.reduceat(bought.line_returned.astype(np.int64), bought.order_line_start) > 0
    base = (
        pop.satisfaction
        - 0.03 * np.minimum(returns, 3)
        - 0.04 * np.minimum(lived.person_support, 3)
        - 0.08 * np.minimum(lived.person_failed, 2)
    )
    sat = (
        base[person]
        + rng.normal(0.0, 0.07, k)
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
    noise = rng.normal(0.0, 1.0, k) * np.array([0.5, 0.4, 0.3, 0.7])[kind]
    raw = _SCALE_MIN[kind] + (_SCALE[kind] - _SCALE_MIN[kind]) * sat + noise
    raw = np.where(kind == TRUST, raw - 0.5, raw)
    score = np.clip(np.round(raw), _SCALE_MIN[kind], _SCALE[kind])
    relative = (score - _SCALE_MIN[kind]) / (_SCALE[kind] - _SCALE_MIN[kind])
    comment = _comments(rng, relative, touchpoint, order_returned[o_idx] & ~about_support)
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
