"""Settings of the real-time service (``personae serve``): limits, queues, schedules, webhooks.

Part of the one :class:`personae.config.Settings` object, so every value can be set in
``personae.yaml`` (``service:``) or as ``PERSONAE_SERVICE__…`` environment variables.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebhookTarget(BaseModel):
    """One receiver of segment entries/exits (signed POSTs, see docs/service.md)."""

    url: str = Field(description="Where to POST (http or https).")
    secret: str = Field(description="Shared secret for the X-Personae-Signature HMAC-SHA256 header.")
    segments: list[str] = Field(
        default_factory=list, description="Segments whose changes are sent (empty: every segment)."
    )
    exits: bool = Field(False, description="Also send exits (entries are always sent).")


class ServiceSettings(BaseModel):
    """How ``personae serve`` runs."""

    host: str = Field("127.0.0.1", description="Interface to listen on (loopback by default).")
    port: int = Field(8000, ge=1, le=65535, description="TCP port.")
    max_body_bytes: int = Field(
        512_000, ge=1024, description="Largest request body (after gzip), as Segment's 500 KB batch limit."
    )
    max_message_bytes: int = Field(32_000, ge=256, description="Largest single message, as Segment's 32 KB.")
    max_batch_messages: int = Field(2_500, ge=1, description="Most messages in one /v1/batch request.")
    queue_capacity: int = Field(
        20_000,
        ge=1,
        description="Messages waiting to be committed; beyond it requests get 429 instead of memory growing.",
    )
    group_commit_max: int = Field(
        5_000, ge=1, description="Most messages written in one transaction (group commit)."
    )
    rate_limit_per_second: float = Field(
        500.0, gt=0, description="Requests per second per key (token bucket refill rate)."
    )
    rate_limit_burst: int = Field(1_000, ge=1, description="Requests a key may send at once (bucket size).")
    dedupe_days: int = Field(
        30, ge=1, description="How long a messageId is remembered for idempotency (Segment uses 24 h)."
    )
    expiry_check_seconds: float = Field(
        60.0, gt=0, description="How often time-window rules are re-evaluated for exits."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty (the default) means CORS is off."
    )
    webhooks: list[WebhookTarget] = Field(default_factory=list, description="Receivers of segment entries.")
    webhook_retries: int = Field(
        5, ge=0, description="Retries of a failed webhook POST (exponential back-off)."
    )
    webhook_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of one webhook POST.")
