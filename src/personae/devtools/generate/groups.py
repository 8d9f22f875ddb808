"""The latent behavioural groups: who the synthetic customers secretly are.

Every person belongs to exactly one group, written to ``truth.csv``. The group drives
everything observable (when they joined, how often and how much they buy, through which
channels, how much discount they use, how they answer surveys and react to e-mails), so a
clustering of customer features computed from the data can be checked against the truth.

The parameters are deliberately far apart on the features a segmentation looks at
(frequency, monetary value, recency, tenure, channel mix, discount share, returns, NPS,
e-mail engagement), with enough spread inside each group to look like real people.
All durations are in days; "ago" is measured back from the last day of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

from personae.devtools.generate.btyd import BtydStory

#: purchase channels a person's channel mix is over, in this order
MIX_CHANNELS = ("web", "app", "store", "phone", "marketplace")


@dataclass(frozen=True)
class GroupProfile:
    """How one latent group behaves.

    Attributes:
        name: the label written to the truth file.
        share: fraction of people in the group.
        join_ago: (min, max) days before the end the person joined; max is capped by the
            window length.
        last_order_ago: (min, max) days before the end of the last order; ``None`` when the
            group's timing is special (``new``, ``one_off``).
        ipt_days: median personal inter-purchase time (the mean of the group's story, if any).
        orders: (min, max) number of orders; a group with a story only has the max (a cap).
        extra_lines: mean number of order lines beyond the first.
        price_pref: Beta(a, b) of the price quantile chosen within a category.
        discount_prob: chance a line is discounted outside sales (doubled in sales).
        discount_rates: rates a discount is drawn from.
        return_rate: base chance a line is returned (scaled by category).
        channel_focus: share of orders in the primary channel (``None`` = all three).
        primary: weights of web, app, store, phone, marketplace as primary channel.
        promo_sensitivity: exponent on sale-day demand peaks.
        satisfaction: mean latent satisfaction in [0, 1] (drives surveys and reviews).
        email_open: mean chance an e-mail is opened.
        email_click: mean chance an opened e-mail is clicked.
        survey_rate: chance the person answers at least one survey.
        browse_per_month: non-purchase web/app sessions per active month.
        support_per_year: support contacts per active year besides returns and deliveries.
        email_opt_out: chance the person later unsubscribes from e-mail.
        story: the buy-till-you-die story of the group's repeat purchases (see ``btyd``):
            Gamma purchase rates around ``ipt_days`` and a Beta chance to drop out after each
            purchase; ``None`` for the groups whose timing is special (``new``, ``one_off``).
            Living groups buy often (a living customer's recency stays short, which keeps
            them apart from the lapsed) and rarely leave; the lapsed leave often.
    """

    name: str
    share: float
    join_ago: tuple[float, float]
    last_order_ago: tuple[float, float] | None
    ipt_days: float
    orders: tuple[int, int]
    extra_lines: float
    price_pref: tuple[float, float]
    discount_prob: float
    discount_rates: tuple[float, ...]
    return_rate: float
    channel_focus: float | None
    primary: tuple[float, float, float, float, float]
    promo_sensitivity: float
    satisfaction: float
    email_open: float
    email_click: float
    survey_rate: float
    browse_per_month: float
    support_per_year: float
    email_opt_out: float
    story: BtydStory | None = None


_REGULAR_RATES = (0.1, 0.15, 0.2, 0.25)
_DEEP_RATES = (0.2, 0.3, 0.4, 0.5)

GROUPS: tuple[GroupProfile, ...] = (
    GroupProfile(
        "loyal_high_value",
        0.15,
        join_ago=(420, 1e9),
        last_order_ago=(0, 25),
        ipt_days=40,
        orders=(6, 80),
        extra_lines=0.8,
        price_pref=(7.0, 2.0),
        discount_prob=0.06,
        discount_rates=_REGULAR_RATES,
        return_rate=0.03,
        channel_focus=0.99,
        primary=(0.45, 0.12, 0.43, 0.0, 0.0),
        promo_sensitivity=0.6,
        satisfaction=0.95,
        email_open=0.45,
        email_click=0.25,
        survey_rate=0.6,
        browse_per_month=0.12,
        support_per_year=0.15,
        email_opt_out=0.03,
        story=BtydStory.around(40, r=10.0, dropout=(1.0, 2000.0)),
    ),
    GroupProfile(
        "bargain_hunter",
        0.20,
        join_ago=(360, 1e9),
        last_order_ago=(0, 70),
        ipt_days=35,
        orders=(4, 80),
        extra_lines=0.35,
        price_pref=(1.2, 7.0),
        discount_prob=0.78,
        discount_rates=_DEEP_RATES,
        return_rate=0.07,
        channel_focus=0.85,
        primary=(0.58, 0.32, 0.0, 0.0, 0.10),
        promo_sensitivity=2.2,
        satisfaction=0.76,
        email_open=0.6,
        email_click=0.55,
        survey_rate=0.3,
        browse_per_month=0.2,
        support_per_year=0.3,
        email_opt_out=0.05,
        story=BtydStory.around(35, r=10.0, dropout=(1.0, 1000.0)),
    ),
    GroupProfile(
        "lapsed",
        0.20,
        join_ago=(480, 1e9),
        last_order_ago=(285, 540),
        ipt_days=20,
        orders=(6, 25),
        extra_lines=0.25,
        price_pref=(2.5, 2.5),
        discount_prob=0.15,
        discount_rates=_REGULAR_RATES,
        return_rate=0.1,
        channel_focus=0.88,
        primary=(0.5, 0.1, 0.4, 0.0, 0.0),
        promo_sensitivity=1.0,
        satisfaction=0.62,
        email_open=0.2,
        email_click=0.12,
        survey_rate=0.25,
        browse_per_month=0.1,
        support_per_year=0.5,
        email_opt_out=0.3,
        story=BtydStory.around(20, r=10.0, dropout=(1.0, 2.0), loyal_for=5),
    ),
    GroupProfile(
        "new",
        0.15,
        join_ago=(2, 115),
        last_order_ago=None,
        ipt_days=30,
        orders=(1, 2),
        extra_lines=0.5,
        price_pref=(2.5, 2.5),
        discount_prob=0.25,
        discount_rates=_REGULAR_RATES,
        return_rate=0.02,
        channel_focus=0.9,
        primary=(0.5, 0.3, 0.2, 0.0, 0.0),
        promo_sensitivity=1.0,
        satisfaction=0.8,
        email_open=0.25,
        email_click=0.15,
        survey_rate=0.3,
        browse_per_month=0.6,
        support_per_year=0.4,
        email_opt_out=0.03,
    ),
    GroupProfile(
        "omnichannel_enthusiast",
        0.15,
        join_ago=(400, 1e9),
        last_order_ago=(0, 20),
        ipt_days=30,
        orders=(8, 80),
        extra_lines=0.5,
        price_pref=(3.5, 3.0),
        discount_prob=0.12,
        discount_rates=_REGULAR_RATES,
        return_rate=0.06,
        channel_focus=None,
        primary=(1.0, 1.0, 1.0, 0.0, 0.0),
        promo_sensitivity=1.0,
        satisfaction=0.88,
        email_open=0.4,
        email_click=0.3,
        survey_rate=0.5,
        browse_per_month=0.2,
        support_per_year=0.25,
        email_opt_out=0.04,
        story=BtydStory.around(30, r=10.0, dropout=(1.0, 2000.0)),
    ),
    GroupProfile(
        "one_off",
        0.15,
        join_ago=(480, 1e9),
        last_order_ago=None,
        ipt_days=0,
        orders=(1, 1),
        extra_lines=0.3,
        price_pref=(1.6, 3.5),
        discount_prob=0.25,
        discount_rates=_REGULAR_RATES,
        return_rate=0.015,
        channel_focus=1.0,
        primary=(0.55, 0.1, 0.35, 0.0, 0.0),
        promo_sensitivity=1.4,
        satisfaction=0.4,
        email_open=0.08,
        email_click=0.1,
        survey_rate=0.12,
        browse_per_month=0.04,
        support_per_year=0.3,
        email_opt_out=0.25,
    ),
)

GROUP_NAMES: tuple[str, ...] = tuple(g.name for g in GROUPS)
GROUP_INDEX: dict[str, int] = {name: i for i, name in enumerate(GROUP_NAMES)}
LOYAL, BARGAIN, LAPSED, NEW, OMNI, ONE_OFF = range(len(GROUPS))
#: one-off customers ordered at least this long before the end
ONE_OFF_MIN_AGO = 450.0
