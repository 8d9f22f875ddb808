"""Response models of the endpoints the dashboard reads, so the OpenAPI schema names every field.

Why: the dashboard's script reads keys out of these answers. With a free-form ``dict`` answer
the schema said nothing, and a key renamed on one side (``recommendations`` read as ``items``)
broke a page silently. Each model here is the answer's shape as the use case returns it;
``tests/unit/api/test_dashboard_contract.py`` checks every key ``dashboard.js`` declares it reads
(its ``READS`` map) against ``app.openapi()``, and the script refuses, in the browser, to read
a key it did not declare.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Figure(BaseModel):
    """A chart as the report draws it, or why there is none."""

    image: str | None = Field(description="A `data:image/svg+xml` URI; null when no chart can be drawn.")
    takeaway: str = Field(description="The chart's one-line finding, or why there is no chart.")


# -- /v1/customers ---------------------------------------------------------------------------------
class Recommendation(BaseModel):
    rank: int
    product_id: str
    name: str
    category: str
    score: float
    reason: str = Field(description="Why this product, in words.")
    because_product_ids: list[str] = Field(
        description='The products the reason cites ("because you liked X"): what the customer '
        "bought, rated or looked at; empty when the reason is an interest or popularity."
    )


class Recommendations(BaseModel):
    """What ``personae recommend CUSTOMER_ID --json`` prints."""

    customer_id: str
    model: str
    as_of: str
    recommendations: list[Recommendation]


class PlaybookStep(BaseModel):
    playbook: str
    status: str = Field(description="chosen, held_out, suppressed, not_eligible or outranked.")
    reason: str
    channel: str | None = None
    cause: str = Field(
        "", description="The reason without the customer's particulars (what audience summaries count)."
    )


class NextBestAction(BaseModel):
    """What ``personae actions next CUSTOMER_ID --json`` prints."""

    customer_id: str
    as_of: str
    action: str | None = Field(description="The chosen playbook; null when none (see held_out_of).")
    channel: str | None
    held_out_of: str | None = Field(description="The playbook whose control group the customer is in.")
    playbooks: list[PlaybookStep]


# -- /v1/segments ----------------------------------------------------------------------------------
class SegmentSummary(BaseModel):
    name: str
    rule: str
    description: str
    builtin: bool
    version: int
    members: int = Field(description="Live members now (0 when not evaluated live: see `live`).")
    live: bool


class SegmentSaved(BaseModel):
    name: str
    version: int
    action: str = Field(description="created, updated or unchanged.")


# -- /v1/dashboard ---------------------------------------------------------------------------------
class RuleProblem(BaseModel):
    message: str
    hint: str | None
    position: int | None = Field(description="0-based offset in the rule.")
    line: int | None
    column: int | None
    suggestions: list[str]


class RuleName(BaseModel):
    name: str
    kind: str = Field(description="trait, attribute or function.")
    type: str
    doc: str


class EventProperty(BaseModel):
    name: str = Field(description="The property as a rule writes it; nested keys joined by dots.")
    events: int = Field(description="Events carrying it, of the latest ones read.")
    types: list[str] = Field(description="JSON types seen: number, string, boolean, null, object, list.")


class RuleNames(BaseModel):
    """What the rule builder offers: every name a rule may use and the events' property names."""

    names: list[RuleName]
    properties: list[EventProperty] = Field(description="Of the latest 50,000 events with properties.")


class RuleCheck(BaseModel):
    rule: str
    valid: bool
    members: int | None = Field(description="Who matches on the current traits; null before a build.")
    as_of: str | None = None
    segments_used: list[str] = []
    function_calls: list[str] = []
    errors: list[RuleProblem]


class BuiltSegment(BaseModel):
    """A segment's definition and its members at the latest build."""

    name: str
    rule: str | None = None
    description: str | None = None
    version: int | None = None
    builtin: bool = False
    source: str | None = None
    created_at: str | None = None
    kind: str | None = None
    members: int | None = Field(None, description="Members at the latest build; null before any build.")
    as_of: str | None = None


class SegmentOverview(BaseModel):
    segments: list[BuiltSegment]
    chart: Figure


class SegmentRun(BaseModel):
    as_of: str
    version: int
    members: int
    entered: int
    exited: int


class SegmentDetail(BaseModel):
    name: str
    rule: str | None = None
    description: str | None = None
    version: int | None = None
    builtin: bool = False
    source: str | None = None
    created_at: str | None = None
    kind: str | None = None
    removed: bool = False
    versions: list[dict[str, Any]] = []
    history: list[SegmentRun] = []


class TimelineEntry(BaseModel):
    at: str | None
    kind: str | None
    channel: str | None
    detail: str | None
    value: float | None
    source: str = Field(description="event, order, survey or consent.")


class SegmentReason(BaseModel):
    segment: str
    as_of: str | None = None
    entered_at: str | None = None
    rule: str | None = None
    because: dict[str, Any] = Field({}, description="The trait values the rule read.")


class CustomerExtras(BaseModel):
    customer_id: str
    timeline: list[TimelineEntry]
    segments: list[SegmentReason]


class Effect(BaseModel):
    metric: str
    treatment: float | None
    control: float | None
    difference: float | None
    low: float | None
    high: float | None
    n_treatment: int
    n_control: int
    direction: str


class ImpactReport(BaseModel):
    playbook: str
    window_days: int
    confidence: float
    treated: int
    held_out: int
    effects: list[Effect]
    verdict: str


class Impact(BaseModel):
    reports: list[ImpactReport]
    absent: str | None = Field(description="Why there is no report (no activation yet); null otherwise.")
    chart: Figure | None


class Outcome(BaseModel):
    value: str = Field(description="What `to` takes.")
    label: str = Field(description="The outcome in words, for a menu.")


class FunnelStep(BaseModel):
    step: str
    customers: int
    conversion: float | None = None
    conversion_from_start: float | None = None
    dropped: int | None = None
    median_time_to_next: float | None = None


class Journeys(BaseModel):
    within_days: int
    to: str
    steps: list[str]
    outcomes: list[Outcome] = Field(
        description="Every outcome the paths can lead to here: order, repeat, lapsed, detractor and "
        "each event type in the data."
    )
    funnel: Figure
    paths: Figure
    funnel_steps: list[FunnelStep] | None = None
    customers: int | None = None
    reached: int | None = None
    left_out: str | None = Field(
        None, description="Who the charts leave out and why, in one sentence; null when nobody."
    )
