"""``personae report``: one self-contained HTML file with every section's charts and takeaways.

Thin shell over :func:`personae.report.write_report`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from personae.cli.context import State, console, print_json, progress_bar


def report(
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Directory to write report.html into"),
    as_json: bool = typer.Option(False, "--json", help="Print the path and every takeaway as JSON"),
) -> None:
    """Write an HTML report (no network needed to view it): segments, value, experience, voice…"""
    from personae.report import write_report  # start-up: Altair

    settings = State.settings()
    if (server := State.server()) is not None:
        # `personae serve` holds the file: the server writes the report (on this machine)
        result = server.call("report", {"out": str(out.expanduser().resolve())})
    else:
        with State.open_store() as store, progress_bar("report") as progress:
            result = write_report(store, out, settings, progress=progress)
    if as_json:
        print_json(result)
        return
    for s in result["sections"]:
        mark = "[yellow]–[/yellow]" if s["absent"] else "[green]✓[/green]"
        console.print(f"{mark} [bold]{escape(s['title'])}[/bold]")
        for line in s["takeaways"]:
            console.print(f"    {escape(line)}", highlight=False)
        for line in s.get("warnings", []):
            console.print(f"    [red]![/red] {escape(line)}", highlight=False)
    # never wrapped: the path is meant to be copied (or clicked)
    console.print(
        f"report: {escape(result['report'])} ({result['seconds']}s)", soft_wrap=True, highlight=False
    )
