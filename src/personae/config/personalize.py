"""Settings for recommendations, next best actions and webhooks (``personalize:`` in
``personae.yaml``; part of :class:`personae.config.Settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class RecommendSettings(BaseModel):
    """How recommendations are learned and ranked (docs/personalization.md)."""

    model: Literal["ease", "item_knn", "als", "popularity"] = Field(
        "ease", description="Default model until `personae recommend tune` chooses one on the store's data."
    )
    ease_regularization: float = Field(200.0, gt=0, description="EASE's λ (larger = smoother).")
    self_weight: float = Field(
        3.0,
        ge=0,
        description="Weight of the customer's own history (items they looked at) in the item "
        "models, relative to a typical item-item weight.",
    )
    knn_neighbours: int = Field(100, ge=1, description="Neighbours each item keeps in item_knn.")
    purchase_weight: float = Field(1.0, ge=0, description="Weight of a purchased line.")
    cart_weight: float = Field(0.5, ge=0, description="Weight of an add to cart.")
    view_weight: float = Field(0.2, ge=0, description="Weight of a product view.")
    preference_weight: float = Field(
        0.3, ge=0, le=1, description="Share of the score from the customer's strong affinities."
    )
    preference_min_strength: float = Field(
        0.5, ge=0, le=1, description="Affinities from this strength up steer recommendations."
    )
    rebuy_threshold: float = Field(
        0.25,
        ge=0,
        le=1,
        description="A category is re-bought regularly (its bought items may be recommended again) "
        "when this share of customer-item pairs in it were bought in 2+ orders.",
    )
    group_min_buyers: int = Field(
        20, ge=1, description="A segment/region group needs this many buyers for its bestsellers."
    )
    holdout_share: float = Field(
        0.2, gt=0, lt=1, description="Share of each customer's latest purchases held out by `evaluate`."
    )
    evaluate_customers: int = Field(
        10_000,
        ge=100,
        description="`evaluate`, `tune` and the report judge models on at most this many customers "
        "with a held-out purchase, drawn at random (each is scored against every item; the "
        "bootstrap intervals say how sure the sample is). Models learn from every customer's "
        "training history, up to `evaluate_universe`.",
    )
    evaluate_universe: int = Field(
        500_000,
        ge=100,
        description="`evaluate` (and the report) fits every candidate model on the histories of at "
        "most this many customers, drawn at random (on millions the fits take hours); `tune` and "
        "serving use everyone.",
    )
    ease_min_support: int = Field(
        3,
        ge=1,
        description="EASE leaves out of its inversion the items fewer customers than this interacted "
        "with (faster; they carry no co-occurrence to learn from).",
    )
    star_centre: float = Field(
        3.0,
        gt=2.0,
        le=5.0,
        description="With ratings, a rated item weighs its stars minus this in what the item models "
        "learn from and score on; above 2 so a dislike (2 of 5 or less) always pulls its neighbours "
        "down. `tune` chooses it (2.5 or 3).",
    )
    repeat_weight: float = Field(
        1.0,
        ge=0,
        description="Where re-buying is common: weight of the repurchase score (recency and frequency "
        "of the customer's own purchases) against the model's; `tune` chooses it.",
    )
    sequence_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of what people turn to next after the customer's latest items (the "
        "transitions in everyone's time-ordered histories) against the model's scores; `tune` "
        "chooses it (0: the order of a history is ignored).",
    )
    sequence_window: int = Field(
        10, ge=1, description="Transitions count items up to this many steps after each other."
    )
    sequence_last: int = Field(
        5, ge=1, description="The transitions are scored from each customer's this many latest items."
    )
    sequence_decay: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Each step back in a customer's latest items weighs this times the one after it.",
    )
    sequence_other_weight: float = Field(
        0.3,
        ge=0,
        le=1,
        description="With ratings, a step to an item the person rated below 4 of 5 counts this much "
        "in the transitions (a step to a liked one, or an unrated purchase, counts 1).",
    )
    recency_decay: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Each step back in a customer's history multiplies an item's weight in what they "
        "are scored from by this, down to `recency_floor` (1: order ignored); `tune` chooses it.",
    )
    recency_floor: float = Field(
        0.5, ge=0, le=1, description="The oldest items of a history keep this share of their weight."
    )
    seed: int = Field(0, description="Seed of ALS.")
    use_tuned: bool = Field(
        True,
        description="Use the parameters `personae recommend tune` chose on this store's own data "
        "(when it has been run) instead of the values above.",
    )
    liked_weight: float = Field(
        2.0,
        ge=1,
        description="An item the customer rated 4 of 5 or more weighs at least this many times its "
        "purchase or view weight in what they are scored from (docs/personalization.md, ratings and "
        "reasons).",
    )


class WebhookSubscription(BaseModel):
    """One receiver of segment entry/exit notifications."""

    name: str
    url: str
    segments: list[str] = Field(default_factory=list, description="Segments to notify; empty = all.")
    changes: list[Literal["entered", "exited"]] = Field(
        default_factory=lambda: ["entered", "exited"]  # type: ignore[arg-type]
    )
    secret_env: str = Field(
        "PERSONAE_WEBHOOK_SECRET", description="Environment variable holding the HMAC secret."
    )


class WebhookSettings(BaseModel):
    """Delivery of webhooks: retries with exponential backoff, then a dead letter."""

    subscriptions: list[WebhookSubscription] = Field(default_factory=list)
    max_attempts: int = Field(5, ge=1, description="Attempts per message before it is dead-lettered.")
    backoff_seconds: float = Field(0.5, ge=0, description="Wait before the 2nd attempt; doubles each time.")
    max_backoff_seconds: float = Field(30.0, ge=0, description="Longest wait between attempts.")
    timeout_seconds: float = Field(10.0, gt=0, description="HTTP timeout per attempt.")


class PersonalizeSettings(BaseModel):
    """Recommendations, playbooks and webhooks."""

    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    playbooks_file: Path | None = Field(
        None, description="YAML playbooks; default: the playbooks shipped with personae."
    )
    holdout_seed: str = Field(
        "personae", description="Salt of the holdout hash: change it to redraw every control group."
    )
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
