"""``personae survey``: draw stratified samples to invite."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from personae.app import experience as svc
from personae.app.export import write_table
from personae.cli.context import State, console, err_console, fmt_num, print_json, tidy
from personae.errors import InputError

survey_app = typer.Typer(help="Survey operations: draw stratified samples to invite.", no_args_is_help=True)


@survey_app.command("sample")
def sample(
    segments: str = typer.Option(..., "--segments", "-s", help="Segments (strata), comma-separated"),
    margin: float = typer.Option(0.05, "--margin", help="Margin of error, e.g. 0.05 for ±5 points"),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level"),
    channel: str = typer.Option("email", "--channel", help="email, sms or push (needs that consent)"),
    out: Path = typer.Option(..., "--out", "-o", help="CSV file of the customers to invite"),
    target: str = typer.Option("proportion", "--for", help="proportion (CSAT, shares) or nps"),
    allocation: str = typer.Option("segment", "--allocation", help="segment or proportional"),
    response_rate: float = typer.Option(1.0, "--response-rate", help="Expected share who answer"),
    recent_days: int | None = typer.Option(
        None, "--recent-days", help="Skip customers surveyed this many days before (default 90)"
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed + data = same sample)"),
    record: bool = typer.Option(True, "--record/--no-record", help="Remember the contacts"),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON"),
) -> None:
    """Draw a stratified random sample per segment, sized for the margin, within consent."""
    names = svc.parse_names(segments) or []
    if allocation not in ("segment", "proportional"):
        raise InputError(f"--allocation {allocation!r}: use segment or proportional")
    with State.open_store() as store:
        plan, drawn = svc.draw_survey_sample(
            store,
            names,
            margin=margin,
            confidence=confidence,
            channel=channel,
            target=target,  # type: ignore[arg-type]
            allocation=allocation,  # type: ignore[arg-type]
            response_rate=response_rate,
            recent_days=recent_days,
            seed=seed,
            record=record,
            settings=State.settings().experience,
        )
    write_table(pa.Table.from_pandas(drawn, preserve_index=False), "csv", out)
    plan["out"] = str(out)
    if as_json:
        print_json(tidy(plan))
        return
    table = Table("segment", "members", "eligible", "wanted", "contacts", "weight", "")
    for p in plan["strata"]:
        table.add_row(
            escape(p["segment"]),
            f"{p['population']:,}",
            f"{p['eligible']:,}",
            f"{p['wanted']:,}",
            f"{p['contacts']:,}",
            fmt_num(p["weight"], "{:.2f}"),
            "short: margin not met" if p["short"] else "",
        )
    console.print(table)
    ex = plan["excluded"]
    console.print(
        f"{plan['contacts']:,} customers written to {escape(str(out))}; left out: {ex['no_consent']:,} "
        f"without {channel} consent, {ex['no_address']:,} without an address, "
        f"{ex['answered_recently']:,} answered and {ex['sampled_recently']:,} sampled in the last "
        f"{plan['recent_days']} days"
    )
    if plan["sample_id"]:
        console.print(f"recorded as {plan['sample_id']}")
    else:
        err_console.print("not recorded (--no-record): these customers can be drawn again")
