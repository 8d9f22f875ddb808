"""``personae activate``: export a playbook's audience with personalised content."""

from __future__ import annotations

from pathlib import Path

import typer

from personae.app import actions
from personae.cli.context import State, console, print_json, say_left_out


def activate(
    playbook: str = typer.Argument(..., help="Playbook name"),
    out: Path = typer.Option(..., "--out", "-o", help="Audience file (.csv or .jsonl)"),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Export a playbook's audience with personalised content; record treated and held-out customers."""
    with State.open_store() as store:
        result = actions.activate(store, State.settings().personalize, playbook, out, fmt)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['playbook']}: {result['exported']:,} customers written to {out} ({result['format']}); "
        f"{result['held_out']:,} held out as the control group; {result['suppressed']:,} suppressed "
        f"(consent, caps, cooldown, quiet period); run {result['run_id']}"
    )
    say_left_out(result["left_out"])
