"""``personae build``: every build step, as of a date."""

from __future__ import annotations

import typer

from personae.app.build import describe, left_out_line, run_build
from personae.app.reads import parse_as_of
from personae.cli.context import State, console, print_json, progress_bar


def build(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Build as of this date (default: last date in the data)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the build summary as JSON"),
    engine: str | None = typer.Option(None, "--engine", help="duckdb (default) or spark (docs/scaling.md)"),
    spark_master: str | None = typer.Option(None, "--spark-master", help="Spark master URL (--engine spark)"),
) -> None:
    """Compute traits, lifetime value, RFM and lifecycle for every customer."""
    State.engine = engine or State.engine
    State.spark_master = spark_master or State.spark_master
    if (server := State.server()) is not None:
        # `personae serve` holds the file: the build runs inside it, tracking goes on
        summary = server.call("build", {"as_of": as_of})
        if as_json:
            print_json(summary)
            return
        if not State.quiet:
            for name, step in summary["steps"].items():
                console.print(f"   {name}: {describe(step['result'])} ({step['seconds']:.1f}s)")
                if left_out_line(step["result"]):
                    console.print(f"      {left_out_line(step['result'])}")
        return
    with State.open_store() as store, progress_bar("build") as report:
        summary = run_build(
            store, as_of=parse_as_of(as_of), progress=report, quiet=as_json or State.quiet, console=console
        )
    if as_json:
        print_json(summary)
