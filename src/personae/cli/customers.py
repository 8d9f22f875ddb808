"""``personae customers``: unified profiles, access exports and erasure."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import audit
from personae.app import audit as audit_log
from personae.app.customers import customer_profile
from personae.app.privacy import access_report, erase_customer, find_subject
from personae.cli.context import State, console, print_json
from personae.errors import InputError

customers_app = typer.Typer(help="Unified customer profiles.", no_args_is_help=True)


@customers_app.command("show")
def customers_show(
    customer: str = typer.Argument(..., help="Customer id, email, phone or other identifier"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """The unified profile: attributes, identifiers, activity, consents, merges."""
    with State.open_store() as store:
        profile = customer_profile(
            store, customer, default_country_code=State.settings().identity.default_country_code
        )
        audit.record(
            store, actor=audit.cli_actor(), action="read profile", customer_id=profile["customer_id"]
        )
    if as_json:
        print_json(profile)
        return
    console.print(f"[bold]customer {escape(profile['customer_id'])}[/bold]")
    attrs = Table("attribute", "value", show_header=False)
    for k, v in profile["attributes"].items():
        if v not in (None, [], {}):
            attrs.add_row(k, escape(str(v)))
    if attrs.row_count:
        console.print(attrs)
    else:
        console.print(
            "attributes: none (known from orders, events or surveys only: "
            "`personae ingest customers FILE` adds names, addresses, birth dates)"
        )
    console.print("identifiers: " + escape(", ".join(profile["identifiers"])))
    console.print("activity: " + ", ".join(f"{k} {v:,}" for k, v in profile["counts"].items()))
    console.print(
        "consents: "
        + (
            ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in profile["consents"].items())
            or "none recorded (the consent policy's defaults apply: see docs/privacy.md)"
        )
    )
    for m in profile["merged_profiles"]:
        console.print(
            escape(f"merged {m['merged_customer_id']} ({m['rule']}: {m['identifiers']}) at {m['merged_at']}")
        )


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
        f"{sum(result['masked'].values()):,} mentions in others' data masked "
        f"in {len(result['masked'])} tables; "
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
