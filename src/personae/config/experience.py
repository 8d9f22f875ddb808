"""Experience settings (part of :class:`personae.config.Settings`, under ``experience:``).

Every threshold a CX analyst might argue about lives here with its default and the reason for
it, so ``personae.yaml`` can change it without touching code.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class NetTrustWeights(BaseModel):
    """Weights of the Net Trust Score components (each a net score from −100 to 100).

    Default 0.4 / 0.3 / 0.3: NPS is the most widely benchmarked loyalty figure, so it carries
    the most weight; effort (CES) is the strongest single predictor of disloyalty after a service
    moment, and the trust question measures what NPS misses (would they rely on us, not just
    recommend us). Missing components are left out and the remaining weights rescaled, so a
    segment with only NPS answers gets its NPS, not a score pulled towards zero.
    """

    nps: float = Field(0.4, ge=0, description="Weight of NPS.")
    ces: float = Field(0.3, ge=0, description="Weight of net ease (CES agree − disagree).")
    trust: float = Field(0.3, ge=0, description="Weight of net trust (trust asked like NPS).")

    @model_validator(mode="after")
    def _some_weight(self) -> NetTrustWeights:
        if self.nps + self.ces + self.trust <= 0:
            raise ValueError("net_trust weights: at least one weight must be positive")
        return self


class ExperienceSettings(BaseModel):
    """Experience metrics, sampling, validation and detractor prediction."""

    min_group_size: int = Field(
        30,
        ge=1,
        description="Groups with fewer answers than this are flagged 'small' (their figures are "
        "shown but should not be compared). 30 keeps the NPS interval under about ±35 points.",
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Coverage of reported confidence intervals.")
    net_trust: NetTrustWeights = Field(default_factory=NetTrustWeights)
    recent_survey_days: int = Field(
        90,
        ge=0,
        description="Survey sampling skips customers who answered a survey or were drawn into a "
        "sample this many days before the as-of date (survey fatigue).",
    )
    default_response_rate: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Expected share of invited customers who answer, when the store has no past "
        "sample to measure it on (`survey sample` otherwise uses the store's own past rate).",
    )
    response_window_days: int = Field(
        30,
        ge=1,
        description="An invited customer counts as having answered a past sample when they answered "
        "a survey within this many days after the sample's as-of date.",
    )
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of segment validation tests.")
    detractor_min_answers: int = Field(
        60,
        ge=10,
        description="Detractor prediction is fitted only with at least this many NPS answers "
        "(and 10 per category); below it `detractor_risk` stays empty.",
    )
    detractor_test_share: float = Field(
        0.25,
        gt=0,
        lt=1,
        description="Share of NPS answers held out to measure AUC and calibration: the latest "
        "ones (a time-based split; a day is never split).",
    )
    seed: int = Field(
        0, description="Unused: the detractor model's hold-out is by time (kept so settings files load)."
    )
    pain_window_days: int = Field(
        365, ge=1, description="Pain points count what happened in this many days before the as-of date."
    )
    checkout_abandon_days: int = Field(
        2,
        ge=0,
        description="A started checkout with no order within this many days counts as abandoned.",
    )
