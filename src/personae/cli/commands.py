"""Registers every command group on the app (import side effects only)."""

from personae.cli import (  # noqa: F401
    clusters,
    clv,
    data,
    experience,
    journeys,
    model,
    personalize,
    privacy,
    report,
    segments,
    service,
    voice,
    warehouse,
)
