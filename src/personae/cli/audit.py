"""``personae audit``: who read or changed personal data, when, through what."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import audit as audit_log
from personae.app.export import plain
from personae.app.privacy import find_subject
from personae.cli.context import State, console, print_json


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
