"""Privacy commands: ``customers erase``, ``customers export``, ``audit``, ``retention``.

Thin shell over :mod:`personae.app.privacy` and :mod:`personae.app.audit`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import audit as audit_log
from personae.app.export import plain
from personae.app.privacy import access_report, apply_retention, erase_customer, find_subject
from personae.cli.app import State, app, console, print_json
from personae.cli.data import customers_app
from personae.errors import InputError


@customers_app.command("erase")
def customers_erase(
    customer: str = typer.Argument(..., help="Customer id, email, phone or other identifier"),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the erasure ledger)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Right to erasure: remove the person's data from every table and from the file itself."""
    settings = State.settings()
    with State.open_store() as store:
        subject = find_subject(store, customer, default_country_code=settings.identity.default_country_code)
        if not yes and not typer.confirm(
            f"Erase customer {subject.customer_id} ({len(subject.identifiers)} identifiers)? "
            "This cannot be undone",
            err=True,
        ):
            raise typer.Exit(1)
        result = erase_customer(
            store,
            subject,
            reason=reason,
            actor=audit_log.cli_actor(),
            tombstones=settings.privacy.tombstones,
        )
    if as_json:
        print_json(result)
        return
    console.print(
        f"erased customer {escape(subject.customer_id)}: {sum(result['rows'].values()):,} rows "
        f"in {len(result['rows'])} tables; their orders are kept as {result['token']}; "
        f"{result['tombstones']} identifiers tombstoned; database file rewritten"
    )


@customers_app.command("export")
def customers_export(
    customer: str = typer.Argument(..., help="Customer id, email, phone or other identifier"),
    out: Path = typer.Option(..., "--out", "-o", help="JSON file to write"),
) -> None:
    """Right of access: everything held on the person, as one JSON file."""
    settings = State.settings()
    with State.open_store() as store:
        subject = find_subject(store, customer, default_country_code=settings.identity.default_country_code)
        report = access_report(store, subject, actor=audit_log.cli_actor())
    try:
        out.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    rows = sum(len(v) for v in report["data"].values())
    console.print(
        f"wrote everything held on {escape(subject.customer_id)} to {escape(str(out))}: "
        f"{rows:,} rows from {len(report['data'])} tables, {len(report['segments'])} segments"
    )


@app.command("audit")
def audit(
    customer: str | None = typer.Option(None, "--customer", help="Only entries about this customer"),
    limit: int = typer.Option(100, help="Show at most this many, newest first (0 = all)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Who read or changed personal data, when, through what."""
    settings = State.settings()
    with State.open_store() as store:
        cid = None
        if customer is not None:
            cid = find_subject(
                store, customer, default_country_code=settings.identity.default_country_code
            ).customer_id
        df = audit_log.entries(store, customer_id=cid, limit=limit or None)
    rows = [{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    if as_json:
        print_json(rows)
        return
    table = Table("when", "who", "via", "action", "customer", "detail")
    for r in rows:
        table.add_row(
            *(
                escape(str(r[k] or ""))
                for k in ("logged_at", "actor", "channel", "action", "customer_id", "detail")
            )
        )
    console.print(table)


@app.command("retention")
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
