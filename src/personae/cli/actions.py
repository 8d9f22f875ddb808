"""``personae actions``: next best actions, playbooks and message previews."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import actions
from personae.cli.context import State, console, print_json

actions_app = typer.Typer(
    help="Next best actions: playbooks, decisions, message previews.", no_args_is_help=True
)


@actions_app.command("playbooks")
def actions_playbooks(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """The configured playbooks, by priority."""
    book = actions.load_book(State.settings().personalize)
    if as_json:
        print_json(book.model_dump(mode="json"))
        return
    table = Table("priority", "playbook", "audience", "channels", "holdout", "cooldown")
    for p in book.playbooks:
        table.add_row(
            str(p.priority),
            p.name,
            escape(p.audience),
            ", ".join(p.channels),
            f"{p.holdout:.0%}",
            f"{p.cooldown_days}d",
        )
    console.print(table)


@actions_app.command("next")
def actions_next(
    customer_id: str = typer.Argument(..., help="Customer id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The next best action for a customer, and why the other playbooks did not apply."""
    with State.open_store() as store:
        d = actions.next_action(store, State.settings().personalize, customer_id)
    if as_json:
        print_json(d)
        return
    head = (
        f"next action: {d['action']} by {d['channel']}"
        if d["action"]
        else f"held out of {d['held_out_of']} (control group): no message"
        if d["held_out_of"]
        else "no action"
    )
    console.print(f"[bold]{customer_id}[/bold] as of {d['as_of']}: {head}")
    table = Table("playbook", "status", "reason")
    for s in d["playbooks"]:
        table.add_row(s["playbook"], s["status"], escape(s["reason"]))
    console.print(table)


@actions_app.command("preview")
def actions_preview(
    playbook: str = typer.Argument(..., help="Playbook name"),
    customer_id: str = typer.Argument(..., help="Customer id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Render the playbook's message for one customer (needs their consent)."""
    with State.open_store() as store:
        msg = actions.preview(store, State.settings().personalize, playbook, customer_id)
    if as_json:
        print_json(msg)
        return
    console.print(
        f"[bold]{playbook}[/bold] → {customer_id} by {msg['channel']} ({msg['status']}: {escape(msg['why'])})"
    )
    if msg["subject"]:
        console.print(f"subject: {escape(msg['subject'])}")
    console.print(escape(msg["body"]), highlight=False)
