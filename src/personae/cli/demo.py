"""``personae demo``: generate, load, build and report, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from personae.cli.context import State


def demo(
    customers: int = typer.Option(20_000, "--customers", "-n", help="Customers to generate"),
    seed: int = typer.Option(42, help="Random seed"),
    out: Path = typer.Option(Path("data/demo"), "--out", help="Where the generated files go"),
    report_out: Path = typer.Option(Path("report"), "--report-out", help="Where the HTML report goes"),
) -> None:
    """Generate a data set, load it and summarise it: the whole flow in one command."""
    from personae.app.demo import run_demo  # start-up: the whole build pipeline
    from personae.report import write_report  # start-up: Altair

    settings = State.settings()
    run_demo(
        State.open_store,
        customers=customers,
        seed=seed,
        out=out,
        quiet=State.quiet,
        write_report=lambda store: write_report(store, report_out, settings),
    )
