"""``personae webhooks``: segment entry/exit webhooks (send, status, redrive)."""

from __future__ import annotations

import typer

from personae.app import webhooks as webhook_delivery
from personae.cli.context import State, console, print_json

webhooks_app = typer.Typer(help="Segment entry/exit webhooks: send, status, redrive.", no_args_is_help=True)


@webhooks_app.command("send")
def webhooks_send(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Queue new segment entries/exits for each subscription and deliver everything pending."""
    settings = State.settings().personalize.webhooks
    with State.open_store() as store:
        queued = webhook_delivery.enqueue(store, settings)
        sent = webhook_delivery.deliver(store, settings)
    result = {**queued, **sent}
    if as_json:
        print_json(result)
        return
    console.print(", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.items()))


@webhooks_app.command("status")
def webhooks_status(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Messages by status and the number of dead letters."""
    with State.open_store() as store:
        result = webhook_delivery.status(store)
    if as_json:
        print_json(result)
        return
    console.print(result)


@webhooks_app.command("redrive")
def webhooks_redrive() -> None:
    """Put dead-lettered messages back in the queue (then run `webhooks send`)."""
    with State.open_store() as store:
        n = webhook_delivery.redrive(store)
    console.print(f"{n:,} messages queued again")
