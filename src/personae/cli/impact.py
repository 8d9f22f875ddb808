"""``personae impact``: treated against held-out customers, with intervals."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from personae.app import impact as impact_report
from personae.cli.context import State, console, print_json
from personae.errors import InputError


def impact(
    playbook: str = typer.Argument(..., help="Playbook name"),
    window: int = typer.Option(30, "--window", min=1, help="Days after the activation to measure"),
    lift: float = typer.Option(
        0.20, "--lift", min=0.001, help="Relative conversion lift the holdout should detect (0.2 = +20%)"
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Chart of the effects (.png, .svg, .html)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Treated against held-out customers: conversion, revenue, NPS, CES and trust, with intervals."""
    with State.open_store() as store:
        report = impact_report.impact(
            store,
            playbook,
            window_days=window,
            confidence=State.settings().experience.confidence,
            lift=lift,
        )
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg", ".html", ".json", ".pdf"):
            raise InputError(f"--plot {plot}: use a .png, .svg, .pdf, .html or .json file")
        impact_report.impact_chart(report).save(str(plot))
        report["plot"] = str(plot)
    if as_json:
        print_json(report)
        return
    console.print(
        f"[bold]{playbook}[/bold]: {report['treated']:,} treated, "
        f"{report['held_out']:,} held out, {window} days"
    )
    table = Table(
        "metric", "treated", "control", "difference", f"{report['confidence']:.0%} interval", "n (t/c)"
    )
    f = lambda v: "–" if v is None else f"{v:,.3f}"  # noqa: E731
    for e in report["effects"]:
        table.add_row(
            e["metric"],
            f(e["treatment"]),
            f(e["control"]),
            f(e["difference"]),
            f"[{f(e['low'])}, {f(e['high'])}]",
            f"{e['n_treatment']}/{e['n_control']}",
        )
    console.print(table)
    answers = report["answers"]
    if answers["given"] > answers["used"]:
        console.print(
            f"experience: {answers['used']:,} answers used of {answers['given']:,} given in the window "
            "(one per customer and kind: the first)"
        )
    power = report["power"]
    if power.get("warning"):
        console.print(f"[yellow]warning[/yellow]: {power['warning']}")
    elif power["needed"] is not None:
        console.print(
            f"power: {power['needed']:,} held out are enough to detect a {power['lift']:.0%} lift "
            f"in conversion with {power['power']:.0%} power"
        )
    console.print(report["verdict"])
    if plot is not None:
        console.print(f"chart written to {plot}")
