"""``personae experience`` (report, detractors, pain-points), ``personae survey sample`` and
``personae segments validate``.

Thin shell over :mod:`personae.app.experience`. ``segments validate`` lives here (added to
the ``segments`` group) because it is an experience analysis of segments, not segment upkeep.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from personae.app import experience as svc
from personae.app.export import write_table
from personae.app.reads import parse_as_of
from personae.cli.app import State, app, console, err_console, print_json
from personae.cli.segments import segments_app
from personae.errors import InputError

experience_app = typer.Typer(
    help="Experience metrics (NPS, CSAT, CES, trust), detractor risk and pain points.",
    no_args_is_help=True,
)
survey_app = typer.Typer(help="Survey operations: draw stratified samples to invite.", no_args_is_help=True)
app.add_typer(experience_app, name="experience")
app.add_typer(survey_app, name="survey")


def tidy(value: Any, digits: int = 4) -> Any:
    """JSON-ready: floats rounded, NaN/inf as null, tuples as lists."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: tidy(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tidy(v, digits) for v in value]
    return value


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def _ci(ci: list[float] | None) -> str:
    return "" if not ci else f"[{ci[0]:.0f}, {ci[1]:.0f}]"


def _p(p: float) -> str:
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def _since(value: str | None) -> date | None:
    try:
        return parse_as_of(value)
    except InputError:
        raise InputError(f"--since {value!r}: expected a date like 2025-06-30") from None


@experience_app.command("report")
def report(
    segments: str | None = typer.Option(
        None, "--segments", "-s", help="Segments, comma-separated (default: every segment)"
    ),
    by: str = typer.Option("segment", "--by", help="segment, touchpoint, stage, channel or month"),
    since: str | None = typer.Option(None, "--since", help="Only answers from this date on"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """NPS, CSAT, CES, trust and Net Trust Score per group, with confidence intervals."""
    settings = State.settings().experience
    with State.open_store() as store:
        data = svc.experience_report(
            store, segments=svc.parse_names(segments), by=by, since=_since(since), settings=settings
        )
    if as_json:
        print_json(tidy(data))
        return
    level = f"{data['confidence']:.0%}"
    table = Table(by, "n", f"NPS [{level} CI]", "CSAT %", "CES", "trust", "net trust")
    for g in [*data["groups"], {by: "all", **data["overall"]}]:
        thin = set(g["thin"])

        def mark(kind: str, text: str, thin: set[str] = thin) -> str:
            return text + ("*" if kind in thin else "")

        table.add_row(
            escape(str(g[by])) + (" (small)" if g["small"] else ""),
            f"{g['n']:,}",
            mark("nps", _num(g["nps"], "{:.0f}") + (f" {_ci(g['nps_ci'])}" if g["nps_ci"] else "")),
            mark("csat", _num(g["csat"], "{:.0f}")),
            mark("ces", _num(g["ces"], "{:.2f}")),
            mark("trust", _num(g["trust"], "{:.0f}")),
            _num(g["net_trust"], "{:.0f}"),
        )
    console.print(table)
    w = data["net_trust_weights"]
    console.print(
        f"one answer per customer and question per group (their latest); small = fewer than "
        f"{data['min_group_size']} respondents, * = fewer than {data['min_group_size']} answers to "
        f"that question; CES = mean on 1–7; net trust = {w['nps']}·NPS + {w['ces']}·net ease "
        f"+ {w['trust']}·trust (weights rescaled over what was answered)"
    )
    if data["rescaled_answers"]:
        shown = ", ".join(f"{k} {v:,}" for k, v in data["rescaled_answers"].items())
        console.print(f"answers rescaled from other scales: {shown}")


@experience_app.command("detractors")
def detractors(
    top: int = typer.Option(10, "--top", help="Drivers to show"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """The detractor model of the last build: held-out AUC, calibration and top drivers."""
    with State.open_store() as store:
        data = svc.detractor_summary(store)
    data["drivers"] = data["drivers"][:top]
    if as_json:
        print_json(tidy(data))
        return
    h = data["holdout"]
    console.print(
        f"fitted on {data['answerers']:,} NPS answerers as of {data['as_of']}; "
        f"held out {h['n_test']:,} (detractors {h['detractor_share']:.0%})"
    )
    console.print(
        f"held-out AUC (detractor vs rest) {_num(h['auc'], '{:.3f}')}, "
        f"macro AUC {_num(h['auc_macro'], '{:.3f}')}; "
        f"Brier {h['brier']:.4f} vs {h['brier_baseline']:.4f} for the base rate; "
        f"expected calibration error {h['ece']:.3f}"
    )
    cal = Table("risk decile", "n", "predicted", "observed")
    for b in h["calibration"]:
        cal.add_row(str(b["bin"]), str(b["n"]), f"{b['predicted']:.2f}", f"{b['observed']:.2f}")
    console.print(cal)
    drivers = Table("driver", "effect (log-odds)", "odds ×", "")
    for d in data["drivers"]:
        drivers.add_row(escape(d["feature"]), f"{d['effect']:+.2f}", f"{d['odds_ratio']:.2f}", d["direction"])
    console.print(drivers)
    console.print("numeric effects are per standard deviation; use `detractor_risk` in segment rules")


@experience_app.command("pain-points")
def pain_points_cmd(
    by: str = typer.Option("value", "--by", help="Rank by value (at stake) or customers (affected)"),
    window_days: int | None = typer.Option(None, "--window-days", help="Days before the as-of date"),
    top: int = typer.Option(20, "--top", help="Rows to show"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Where experience drops along the journey, ranked by value at stake or customers affected."""
    settings = State.settings()
    with State.open_store() as store:
        data = svc.pain_points(store, settings, by=by, window_days=window_days)  # type: ignore[arg-type]
    data["pain_points"] = data["pain_points"][:top]
    if as_json:
        print_json(tidy(data))
        return
    table = Table("#", "stage", "signal", "customers", "rate", "value at stake", "NPS gap", "±")
    for r in data["pain_points"]:
        table.add_row(
            str(r["rank"]),
            escape(r["stage"]),
            r["signal"],
            f"{r['customers']:,}",
            _num(None if r["rate"] is None else 100 * r["rate"], "{:.1f}%"),
            f"{r['value_at_stake']:,.0f}",
            _num(r["nps_gap"], "{:+.0f}"),
            _num(None if r["nps_gap_se"] is None else 1.96 * r["nps_gap_se"], "{:.0f}"),
        )
    console.print(table)
    console.print(
        f"last {data['window_days']} days to {data['as_of']}; value at stake = {data['value']} of the "
        "customers affected; NPS gap = NPS of affected answerers − NPS of the others (± 95%)"
    )


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
            _num(p["weight"], "{:.2f}"),
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


@segments_app.command("validate")
def validate(
    segments: str = typer.Option(..., "--segments", "-s", help="Segments to compare, comma-separated"),
    on: str = typer.Option(
        ..., "--on", help="Survey questions (nps, ces, csat, trust, nps_category) or traits"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Test whether segments really differ (chi-square / Kruskal-Wallis, post hoc, verdict)."""
    with State.open_store() as store:
        data = svc.validate_segments(
            store,
            svc.parse_names(segments) or [],
            svc.parse_names(on) or [],
            settings=State.settings().experience,
        )
    if as_json:
        print_json(tidy(data))
        return
    for r in data["results"]:
        console.print(f"[bold]{escape(r['verdict'])}[/bold]")
        sizes = ", ".join(f"{escape(k)} {v:,}" for k, v in r["groups"].items())
        console.print(f"  {r['test']} on {r['n']:,} customers ({sizes})")
        if r["pairs"]:
            table = Table("pair", "statistic", "p", "p (Holm)", box=None, padding=(0, 2))
            for p in r["pairs"]:
                table.add_row(
                    f"{escape(p['a'])} vs {escape(p['b'])}",
                    f"{p['statistic']:.2f}",
                    _p(p["p"]),
                    _p(p["p_adjusted"]),
                )
            console.print(table)
        for note in r["notes"]:
            console.print(f"  note: {escape(note)}")
    if data["left_out_in_several_segments"]:
        console.print(
            f"{data['left_out_in_several_segments']:,} customers in more than one of these segments "
            "were left out (the tests need separate groups)"
        )
