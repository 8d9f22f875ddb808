"""``personae survey``: draw stratified samples to invite."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from personae.app import experience as svc
from personae.app.export import write_table
from personae.cli.context import State, console, err_console, print_json, tidy
from personae.errors import InputError

survey_app = typer.Typer(help="Survey operations: draw stratified samples to invite.", no_args_is_help=True)


def _pm(margin: float | None) -> str:
    """A margin in points (``None``: no answer expected, so no margin)."""
    return "–" if margin is None else f"{100 * margin:.1f}"


@survey_app.command("sample")
def sample(
    segments: str = typer.Option(..., "--segments", "-s", help="Segments (strata), comma-separated"),
    margin: float = typer.Option(0.05, "--margin", help="Margin of error, e.g. 0.05 for ±5 points"),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level"),
    channel: str = typer.Option("email", "--channel", help="email, sms or push (needs that consent)"),
    out: Path = typer.Option(..., "--out", "-o", help="CSV file of the customers to invite"),
    target: str = typer.Option("proportion", "--for", help="proportion (CSAT, shares) or nps"),
    allocation: str = typer.Option("segment", "--allocation", help="segment or proportional"),
    response_rate: float | None = typer.Option(
        None,
        "--response-rate",
        help="Expected share who answer (default: the store's past rate, else 0.2)",
    ),
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
    table = Table("segment", "members", "eligible", "wanted", "invited", "expected", "± pts", "if half")
    for p in plan["strata"]:
        table.add_row(
            escape(p["segment"]),
            f"{p['population']:,}",
            f"{p['eligible']:,}",
            f"{p['wanted']:,}",
            f"{p['contacts']:,}" + ("*" if p["short"] else ""),
            f"{p['expected_answers']:,.0f}",
            _pm(p["expected_margin"]),
            _pm(p["margin_if_half_answer"]),
        )
    console.print(table)
    console.print(
        "wanted = answers for the margin; invited = wanted / response rate (* short: fewer eligible, the "
        "margin is not met); ± = margin at the expected answers, and if only half as many answer; "
        "the weight of each invited customer (eligible / invited) is in the file"
    )
    past = plan["past_response"]
    source = {
        "given": "given",
        "past samples": f"the store's past rate: {past['answered']:,} of {past['contacts']:,} invited by "
        f"{past['samples']:,} samples answered within {past['window_days']} days",
        "default": "the default: no past sample with answers to measure it on",
    }[plan["response_rate_source"]]
    console.print(
        f"expected response rate {plan['response_rate']:.0%} ({source}); expected answers "
        f"{plan['expected_answers']:,.0f}: ±{_pm(plan['expected_margin'])} points over these segments, "
        f"±{_pm(plan['margin_if_half_answer'])} if only half as many answer "
        f"({plan['confidence']:.0%} confidence); sizes, correction and weights count the eligible"
    )
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
