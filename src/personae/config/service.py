"""Settings of the real-time service (``personae serve``): limits, queues, schedules.

Part of the one :class:`personae.config.Settings` object, so every value can be set in
``personae.yaml`` (``service:``) or as ``PERSONAE_SERVICE__…`` environment variables.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator


class ServiceSettings(BaseModel):
    """How ``personae serve`` runs."""

    @model_validator(mode="before")
    @classmethod
    def _no_own_webhooks(cls, data: Any) -> Any:
        """The service once had its own ``service.webhooks``; silently ignoring them would lose
        deliveries, so say where they went."""
        if isinstance(data, dict) and ("webhooks" in data or "webhook_retries" in data):
            raise ValueError(
                "service.webhooks moved to personalize.webhooks (subscriptions with name, url, "
                "segments, changes and secret_env; max_attempts, backoff_seconds): see docs/service.md"
            )
        return data

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
        250,
        ge=1,
        description="Most messages written in one transaction (group commit). Bounded so a group "
        "stays short (~0.2 ms a message): a request waits for at most the group before it and its own.",
    )
    group_commit_linger_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="How long a group waits for more requests before it commits (PostgreSQL's "
        "commit_delay): a commit's fixed cost (statements, fsync) is then shared by more events, "
        "at the price of this much latency. 0: commit as soon as the writer is free.",
    )
    duckdb_threads: int = Field(
        0,
        ge=0,
        description="DuckDB worker threads while serving (0: DuckDB's default, one per core). 1 "
        "saved CPU on a group commit measured in-process, but over 90 s benchmark runs it made "
        "no difference to the server's CPU per event and made every checkpoint (which stalls "
        "the committing writer) single-threaded: p99 ~390 ms against ~105 ms with the default.",
    )
    checkpoint_wal_mb: int = Field(
        64,
        ge=0,
        description="WAL size (MB) at which DuckDB checkpoints while serving (0: DuckDB's default, "
        "16). A checkpoint blocks DuckDB's commits for 0.1-1 s, growing with the database rather "
        "than with the WAL; with the journal (the default) that delays only the applier, without "
        "it every request queued behind the commit. The price of a larger WAL is a longer replay "
        "after a crash.",
    )
    journal: bool = Field(
        True,
        description="Acknowledge a tracking group once it is in the service's journal "
        "(<db>.journal, one append and fdatasync) and apply it to DuckDB right after, on a thread "
        "of its own; a crash loses nothing acknowledged (the journal is replayed at start). "
        "false: acknowledge after DuckDB's own commit, which makes every request wait through "
        "DuckDB's checkpoints (about 0.5 s a minute at 2,000 events/s).",
    )
    journal_backlog: int = Field(
        256,
        ge=1,
        description="Most journalled groups waiting to be applied to DuckDB; beyond it the writer "
        "waits, its queue fills and requests get 429 (memory stays bounded).",
    )
    refresh_step_customers: int = Field(
        500,
        ge=1,
        description="Customers re-evaluated per step when the day moves on (time windows expire), "
        "between groups: about 10 ms a step, so the day change does not stall the writer.",
    )
    gc_freeze_seconds: float = Field(
        2.0,
        gt=0,
        description="How often the writer collects the garbage made since the last time and freezes "
        "what survives (gc.freeze), so Python's full collections never walk the live state.",
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
    build_schedule: str | None = Field(
        None,
        description="When the server runs `personae build` on its own: a cron expression in UTC "
        "(minute hour day month weekday, e.g. '0 3 * * *' for 03:00 UTC daily), @hourly, @daily, "
        "@weekly, @monthly, or '@every 6h'. None (the default): only when asked (`personae build` "
        "while serving hands the build to the server). See docs/service.md, Operations.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty (the default) means CORS is off."
    )
    # Webhooks of live segment entries/exits are the library's: ``personalize.webhooks``
    # (subscriptions, signing secret, retries, dead letters), the same as after a build.
