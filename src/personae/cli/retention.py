"""``personae retention``: purge raw events older than the retention period."""

from __future__ import annotations

import typer

from personae.app import audit as audit_log
from personae.app.privacy import apply_retention
from personae.cli.context import State, console, print_json
from personae.errors import InputError


def retention(
    days: int | None = typer.Option(
        None, "--days", help="Keep this many days of raw events (default: settings)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be purged"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Purge raw events older than the retention period; derived traits and segments stay."""
    settings = State.settings()
    days = days or settings.privacy.retention_days
    if days is None:
        raise InputError(
            "no retention period",
            hint="pass --days N or set privacy.retention_days (PERSONAE_PRIVACY__RETENTION_DAYS)",
        )
    with State.open_store() as store:
        result = apply_retention(store, days, actor=audit_log.cli_actor(), dry_run=dry_run)
    if as_json:
        print_json(result)
        return
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb} {result['events_purged']:,} events before {result['cutoff']}")
