"""The people: latent group, join date, geography, demographics and tastes.

A *person* is the human behind one (or, for duplicates, two) customer profiles. This
module draws everything about people that other modules need to act in their name: the
latent group that drives their behaviour, when they joined, where they live, their
favourite categories and team (affinities later traits should find, some strong, some
weak), how price-minded they are, their channel mix and how satisfied they tend to be.
Identifiers (names, e-mails, phones, profiles) are drawn separately in ``identities``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from personae.devtools.generate import vocabulary as voc
from personae.devtools.generate.catalogue import Catalogue
from personae.devtools.generate.columns import SECONDS_PER_DAY
from personae.devtools.generate.groups import GROUPS, OMNI, ONE_OFF
from personae.devtools.generate.seasonality import DAYS_PER_YEAR, Timeline, time_of_day

JOIN_CHANNELS = ("web", "app", "store", "phone", "marketplace", "social", "referral", "other")
#: join channel weights by group (rows follow ``GROUPS``)
_JOIN_WEIGHTS = np.array(
    [
        [0.35, 0.10, 0.40, 0.02, 0.00, 0.03, 0.08, 0.02],
        [0.45, 0.20, 0.05, 0.00, 0.08, 0.15, 0.05, 0.02],
        [0.45, 0.08, 0.35, 0.03, 0.02, 0.04, 0.02, 0.01],
        [0.40, 0.25, 0.15, 0.00, 0.03, 0.10, 0.06, 0.01],
        [0.30, 0.35, 0.25, 0.00, 0.00, 0.05, 0.04, 0.01],
        [0.50, 0.05, 0.30, 0.02, 0.05, 0.05, 0.02, 0.01],
    ]
)
_MEAN_AGE = np.array([47.0, 36.0, 44.0, 33.0, 35.0, 42.0])
_INCOME_SHIFT = np.array([0.8, -0.4, 0.0, -0.2, 0.3, 0.0])
#: "no date given" (birth days before 1970 are negative, so -1 cannot mean missing)
NO_DATE = -(10**6)
GENDER_WEIGHTS = (0.49, 0.46, 0.02, 0.005, 0.025)  # order of schema.GENDERS
#: how the non-primary share of orders spreads over web, app, store, phone, marketplace
_OTHER_CHANNELS = np.array([0.4, 0.25, 0.25, 0.04, 0.06])


@dataclass(frozen=True)
class Population:
    """Per-person arrays (index = person). See the module docstring for the meaning."""

    group: np.ndarray
    join_s: np.ndarray
    join_channel: np.ndarray
    city: np.ndarray
    region: np.ndarray
    home_store: np.ndarray
    gender: np.ndarray
    birth_day: np.ndarray
    income_band: np.ndarray
    occupation: np.ndarray
    fav_cats: np.ndarray
    fav_cum: np.ndarray
    affinity: np.ndarray
    team: np.ndarray
    price_pref: np.ndarray
    channel_p: np.ndarray
    app_user: np.ndarray
    satisfaction: np.ndarray
    email_open: np.ndarray
    email_click: np.ndarray

    def __len__(self) -> int:
        return len(self.group)

    def take(self, sel: slice | np.ndarray) -> Population:
        """The same arrays restricted to ``sel`` (a chunk of people)."""
        return Population(**{f.name: getattr(self, f.name)[sel] for f in fields(self)})


def _group_param(name: str) -> np.ndarray:
    return np.array([getattr(g, name) for g in GROUPS], dtype=np.float64)


def assign_groups(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exact group sizes (rounded shares), in random order: small data sets stay balanced."""
    shares = _group_param("share")
    counts = np.floor(shares * n).astype(int)
    counts[np.argsort(-(shares * n - counts), kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(GROUPS)), counts))


def _join_seconds(
    rng: np.random.Generator, group: np.ndarray, timeline: Timeline, join_channel: np.ndarray
) -> np.ndarray:
    """Join times: group-specific age of the relationship, seasonal, in opening hours."""
    window = timeline.days - 1
    lo = np.array([g.join_ago[0] for g in GROUPS])
    hi = np.array([min(g.join_ago[1], window) for g in GROUPS])
    lo = np.minimum(lo, hi * 0.8)
    ago_lo, ago_hi = lo[group], hi[group]
    day = timeline.sample_days(rng, timeline.end_day - ago_hi, timeline.end_day - ago_lo)
    in_store = join_channel == JOIN_CHANNELS.index("store")
    return day * SECONDS_PER_DAY + time_of_day(rng, in_store)


def _favourites(
    rng: np.random.Generator, n: int, cat: Catalogue
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-3 favourite categories (Gumbel top-k by popularity), their weights, and affinity.

    Affinity is the chance a purchase is in a favourite category: a Beta spread gives some
    customers an unmistakable favourite and others only a weak lean.
    """
    keys = np.log(cat.category_weight)[None, :] + rng.gumbel(size=(n, len(cat.category_weight)))
    top = np.argsort(-keys, axis=1)[:, :3]
    k = rng.choice([1, 2, 3], size=n, p=[0.3, 0.45, 0.25])
    present = np.arange(3)[None, :] < k[:, None]
    fav = np.where(present, top, -1)
    weights = np.where(present, np.array([0.6, 0.3, 0.1])[None, :], 0.0)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    affinity = rng.beta(3.0, 1.3, size=n)
    return fav, cum, affinity


def _channel_mix(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """Each person's probabilities over ``groups.MIX_CHANNELS``."""
    n = len(group)
    primary_w = np.array([g.primary for g in GROUPS])
    u = rng.random(n)[:, None]
    cum = np.cumsum(primary_w / primary_w.sum(axis=1, keepdims=True), axis=1)[group]
    primary = (u > cum).sum(axis=1)
    focus_g = np.array([g.channel_focus if g.channel_focus is not None else 1.0 for g in GROUPS])
    focus = np.clip(focus_g[group] + rng.normal(0, 0.03, n), 0.6, 1.0)
    focus[group == ONE_OFF] = 1.0
    p = np.tile(_OTHER_CHANNELS, (n, 1))
    p[np.arange(n), primary] = 0.0
    p = p / p.sum(axis=1, keepdims=True) * (1 - focus)[:, None]
    p[np.arange(n), primary] = focus
    omni = group == OMNI
    mix = rng.dirichlet([8.0, 8.0, 8.0], size=int(omni.sum())) * 0.98
    p[omni] = np.column_stack([mix, np.full(len(mix), 0.005), np.full(len(mix), 0.015)])
    return p


def _demographics(
    rng: np.random.Generator, group: np.ndarray, join_s: np.ndarray, timeline: Timeline
) -> tuple[np.ndarray, ...]:
    """Gender, birth day (``NO_DATE`` if not given), income band and occupation codes (-1 =
    not given)."""
    n = len(group)
    gender = rng.choice(len(GENDER_WEIGHTS), size=n, p=GENDER_WEIGHTS)
    tenure_years = (timeline.end_s - join_s) / SECONDS_PER_DAY / DAYS_PER_YEAR
    youngest = np.ceil(18 + tenure_years)
    age = np.clip(np.round(rng.normal(_MEAN_AGE[group], 13.0)), youngest, 84)
    # a whole number of years plus a uniform fraction: birthdays fall evenly over the year
    birth_day = timeline.end_day - np.floor((age + rng.random(n)) * DAYS_PER_YEAR)
    birth_day = np.where(rng.random(n) < 0.08, NO_DATE, birth_day).astype(np.int64)
    z = rng.normal(_INCOME_SHIFT[group], 1.0)
    income = np.digitize(z, [-1.2, -0.4, 0.3, 0.9, 1.6])
    income = np.where(rng.random(n) < 0.25, -1, income)
    occupation = rng.integers(0, len(voc.OCCUPATIONS), n)
    student, retired = voc.OCCUPATIONS.index("student"), voc.OCCUPATIONS.index("retired")
    occupation = np.where((age < 24) & (rng.random(n) < 0.5), student, occupation)
    occupation = np.where((age > 66) & (rng.random(n) < 0.6), retired, occupation)
    occupation = np.where(rng.random(n) < 0.2, -1, occupation)
    return gender, birth_day, income, occupation


def _home_store(rng: np.random.Generator, city: np.ndarray, region: np.ndarray, cat: Catalogue) -> np.ndarray:
    """A store in the person's city if there is one, else one in their region (7% none)."""
    st = cat.stores
    n = len(city)
    u = rng.random(n)
    c_count = st.city_start[city + 1] - st.city_start[city]
    r_count = st.region_start[region + 1] - st.region_start[region]
    # indices are clipped so cities/regions without a store index safely (then unused)
    in_city = st.city_stores[
        np.minimum(
            st.city_start[city] + np.minimum((u * c_count).astype(np.int64), np.maximum(c_count - 1, 0)),
            len(st) - 1,
        )
    ]
    in_region = st.region_stores[
        np.minimum(
            st.region_start[region] + np.minimum((u * r_count).astype(np.int64), np.maximum(r_count - 1, 0)),
            len(st) - 1,
        )
    ]
    home = np.where(c_count > 0, in_city, np.where(r_count > 0, in_region, -1))
    return np.where(rng.random(n) < 0.07, -1, home)


def draw_population(rng: np.random.Generator, n: int, timeline: Timeline, cat: Catalogue) -> Population:
    """Draw ``n`` people and their latent traits, ordered by join time."""
    group = assign_groups(rng, n)
    channel_p = _channel_mix(rng, group)
    # most people sign up where they usually shop (channel codes share their first five)
    u = rng.random(n)[:, None]
    join_channel = (
        u > np.cumsum(_JOIN_WEIGHTS / _JOIN_WEIGHTS.sum(axis=1, keepdims=True), axis=1)[group]
    ).sum(axis=1)
    join_channel = np.minimum(join_channel, len(JOIN_CHANNELS) - 1)
    join_channel = np.where(rng.random(n) < 0.7, channel_p.argmax(axis=1), join_channel)
    join_s = _join_seconds(rng, group, timeline, join_channel)
    geo = cat.geography
    city = rng.choice(len(geo.city_names), size=n, p=geo.city_weight)
    region = geo.city_region[city]
    home_store = _home_store(rng, city, region, cat)
    gender, birth_day, income, occupation = _demographics(rng, group, join_s, timeline)
    fav, fav_cum, affinity = _favourites(rng, n, cat)
    team_categories = [voc.CATEGORY_NAMES.index(c) for c in voc.TEAM_CATEGORIES]
    sporty = np.isin(fav, team_categories).any(axis=1)
    team_w = np.array([t[2] for t in voc.TEAMS])
    team = rng.choice(len(team_w), size=n, p=team_w / team_w.sum())
    team = np.where(rng.random(n) < np.where(sporty, 0.5, 0.12), team, -1)
    a, b = np.array([g.price_pref for g in GROUPS]).T
    price_pref = rng.beta(a[group], b[group])
    app_user = (channel_p[:, 1] >= 0.05) | ((rng.random(n) < 0.25) & (group != ONE_OFF))
    satisfaction = np.clip(rng.normal(_group_param("satisfaction")[group], 0.08), 0.02, 0.99)
    concentration = 30.0  # engagement differs by group far more than within it
    m_open, m_click = _group_param("email_open")[group], _group_param("email_click")[group]
    email_open = rng.beta(m_open * concentration, (1 - m_open) * concentration)
    email_click = rng.beta(m_click * concentration, (1 - m_click) * concentration)
    people = Population(
        group=group,
        join_s=join_s,
        join_channel=join_channel,
        city=city,
        region=region,
        home_store=home_store,
        gender=gender,
        birth_day=birth_day,
        income_band=income,
        occupation=occupation,
        fav_cats=fav,
        fav_cum=fav_cum,
        affinity=affinity,
        team=team,
        price_pref=price_pref,
        channel_p=channel_p,
        app_user=app_user,
        satisfaction=satisfaction,
        email_open=email_open,
        email_click=email_click,
    )
    # people in order of joining: ids, chunks and files then follow creation order
    return people.take(np.argsort(join_s, kind="stable"))
