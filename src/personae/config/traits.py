"""Settings for traits, RFM and lifecycle rules (part of :class:`personae.config.Settings`).

Every threshold a marketer might argue about is here, documented, with a sensible default.
Override in ``personae.yaml`` under ``traits:``.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, Field, field_validator

ConsentDefault = Literal["opt-in", "opt-out"]


#: What no recorded decision means when the settings name no policy for a purpose: analytics,
#: profiling and personalization rest on legitimate interest (allowed until the person objects);
#: marketing contact (email, sms, push) needs a recorded yes. A historical export with no consent
#: ledger can then be analysed, while nobody is contacted without their word.
BUILT_IN_CONSENT_DEFAULTS: dict[str, ConsentDefault] = {
    "analytics": "opt-out",
    "personalization": "opt-out",
    "profiling": "opt-out",
    "email": "opt-in",
    "sms": "opt-in",
    "push": "opt-in",
}


def _no_overrides() -> dict[str, dict[str, ConsentDefault]]:
    return {"*": {}}


class HolidayPeriod(BaseModel):
    """A yearly period, inclusive, as month-day strings (``"11-20"`` … ``"12-31"``)."""

    name: str
    start: str
    end: str


class RfmRule(BaseModel):
    """A named RFM segment: recency score range and combined frequency-monetary score range.

    ``fm`` is ``round((F + M) / 2)``. Rules are tried in order; the first match wins.
    """

    name: str
    r: tuple[int, int]
    fm: tuple[int, int]


DEFAULT_RFM_RULES = [
    RfmRule(name="Champions", r=(5, 5), fm=(4, 5)),
    RfmRule(name="Champions", r=(4, 4), fm=(5, 5)),
    RfmRule(name="Loyal Customers", r=(3, 4), fm=(4, 5)),
    RfmRule(name="Potential Loyalist", r=(4, 5), fm=(2, 3)),
    RfmRule(name="New Customers", r=(5, 5), fm=(1, 1)),
    RfmRule(name="Promising", r=(4, 4), fm=(1, 1)),
    RfmRule(name="Need Attention", r=(3, 3), fm=(3, 3)),
    RfmRule(name="About To Sleep", r=(3, 3), fm=(1, 2)),
    RfmRule(name="Can't Lose Them", r=(1, 1), fm=(4, 5)),
    RfmRule(name="Can't Lose Them", r=(2, 2), fm=(5, 5)),
    RfmRule(name="At Risk", r=(1, 2), fm=(3, 4)),
    RfmRule(name="Hibernating", r=(2, 2), fm=(1, 2)),
    RfmRule(name="Lost", r=(1, 1), fm=(1, 2)),
]

RFM_SEGMENTS = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)


RfmScoring = Literal["quantile", "absolute"]


class RfmSettings(BaseModel):
    """How the R score is given (see docs/traits.md#rfm).

    ``quantile`` ranks customers against each other: the most recent fifth of buyers get R = 5
    however long ago that is. ``absolute`` measures recency against the shop's typical
    inter-purchase time *g* (the median of repeat buyers' average gap): R = 5 within
    ``recency_windows[0]`` × g, 4 within ``[1]`` × g, 3 within ``[2]`` × g, 2 within ``[3]`` × g,
    1 beyond. The default windows end R = 4 at the lifecycle's active rhythm (1.5) and R = 2 at
    its lapse rhythm (3), so a Champion (R ≥ 4) is never past the lapse threshold.
    """

    scoring: RfmScoring = Field(
        "quantile", description="quantile (rank among buyers) or absolute (windows of the typical gap)."
    )
    recency_windows: tuple[float, float, float, float] = Field(
        (1.0, 1.5, 2.0, 3.0),
        description="absolute scoring: R = 5, 4, 3, 2 up to these multiples of the shop's typical "
        "inter-purchase time; R = 1 beyond the last.",
    )

    @field_validator("recency_windows")
    @classmethod
    def _increasing(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if v[0] <= 0 or not all(a < b for a, b in pairwise(v)):
            raise ValueError(
                "recency_windows must be four increasing positive multiples, e.g. [1, 1.5, 2, 3]"
            )
        return v


class LifecycleSettings(BaseModel):
    """Thresholds of the lifecycle stages (see docs/traits.md#lifecycle)."""

    new_days: int = Field(90, description="A first order this recent makes a customer 'new'.")
    active_rhythm: float = Field(
        1.5, description="Active while days since last order ≤ this × the customer's own gap."
    )
    lapsed_rhythm: float = Field(
        3.0, description="Lapsed once days since last order > this × the customer's own gap."
    )
    active_p_alive: float = Field(0.5, description="Active also needs P(alive) at least this.")
    lapsed_p_alive: float = Field(0.2, description="P(alive) below this means lapsed.")
    lapsed_max_days: int = Field(540, description="No order for this long is lapsed, whatever the rhythm.")
    one_time_lapsed_days: int = Field(
        365,
        description="A one-order customer silent this long is lapsed, whatever the shop's rhythm: "
        "they have no rhythm of their own, and a BG/NBD P(alive) is 1 for them by construction.",
    )
    default_gap_days: float = Field(
        60.0,
        description="Gap assumed for one-order customers when the data cannot tell "
        "(the median gap of repeat customers is used when there is one).",
    )


class TraitSettings(BaseModel):
    """Windows and thresholds used when computing traits."""

    cart_abandonment_days: int = Field(7, description="Window for cart abandonment.")
    browse_abandonment_days: int = Field(14, description="Window for browse abandonment.")
    support_window_days: int = Field(90, description="Window for counting support contacts.")
    engagement_window_days: int = Field(90, description="Window for email/app engagement counts.")
    consideration_window_days: int = Field(
        90, description="Product views, searches or carts this recent make a prospect 'considering'."
    )
    affinity_recent_months: int = Field(6, description="Window for a consistent affinity.")
    affinity_strong_months: int = Field(3, description="Distinct months in the window for 'strong'.")
    holidays: list[HolidayPeriod] = Field(
        default_factory=lambda: [
            HolidayPeriod(name="black_friday_to_new_year", start="11-20", end="12-31"),
            HolidayPeriod(name="valentines", start="02-07", end="02-14"),
            HolidayPeriod(name="mothers_day", start="05-01", end="05-12"),
        ]
    )
    rfm_rules: list[RfmRule] = Field(default_factory=lambda: list(DEFAULT_RFM_RULES))
    rfm: RfmSettings = Field(default_factory=RfmSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    consent_defaults: dict[str, dict[str, ConsentDefault]] = Field(
        default_factory=_no_overrides,
        description="What a missing consent decision means, per purpose, by country or region: "
        "'opt-in' (no record = no consent) or 'opt-out' (no record = consent). Keys are a country "
        "code, a region name or '*'; the most specific match wins (country, then region, then "
        "'*'); a purpose named nowhere follows the built-in policy (analytics, profiling and "
        "personalization opt-out, email, sms and push opt-in). A recorded decision always wins.",
    )
