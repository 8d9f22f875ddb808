"""``personae experience`` (report, detractors, pain-points), ``personae survey sample`` and
``personae segments validate``.

Thin shell over :mod:`personae.app.experience`. ``segments validate`` lives here (added to
the ``segments`` group) because it is an experience analysis of segments, not segment upkeep."""

from __future__ import annotations

from datetime import date

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import experience as svc
from personae.app.reads import parse_as_of
from personae.cli.context import State, console, fmt_ci, fmt_num, print_json, say_left_out, tidy
from personae.errors import InputError

experience_app = typer.Typer(
    help="Experience metrics (NPS, CSAT, CES, trust), detractor risk and pain points.",
    no_args_is_help=True,
)


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
    if data["note"]:
        console.print(escape(data["note"]))
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
            mark("nps", fmt_num(g["nps"], "{:.0f}") + (f" {fmt_ci(g['nps_ci'])}" if g["nps_ci"] else "")),
            mark("csat", fmt_num(g["csat"], "{:.0f}")),
            mark("ces", fmt_num(g["ces"], "{:.2f}")),
            mark("trust", fmt_num(g["trust"], "{:.0f}")),
            fmt_num(g["net_trust"], "{:.0f}"),
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
    say_left_out(data["left_out"])


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
    split, base = h.get("split") or {}, h.get("segment_baseline") or {}
    console.print(
        f"fitted on {data.get('answers', data['answerers']):,} NPS answers of {data['answerers']:,} "
        f"customers as of {data['as_of']}, each with the customer's behaviour the day before the answer"
    )
    console.print(
        f"time-based hold-out: learned from {h['n_train']:,} answers of {split.get('train_from')} to "
        f"{split.get('train_to')}, measured on the {h['n_test']:,} later ones of {split.get('test_from')} "
        f"to {split.get('test_to')} (detractors {h['detractor_share']:.0%})"
    )
    figures = Table("held out", "AUC (detractor vs rest)", "Brier", "calibration error")
    figures.add_row("model", fmt_num(h["auc"], "{:.3f}"), f"{h['brier']:.4f}", f"{h['ece']:.3f}")
    if base:
        figures.add_row(
            "RFM segment's detractor rate",
            fmt_num(base["auc"], "{:.3f}"),
            f"{base['brier']:.4f}",
            f"{base['ece']:.3f}",
        )
    figures.add_row("base rate", "0.500", f"{h['brier_baseline']:.4f}", "")
    console.print(figures)
    console.print(f"macro AUC (one category vs the rest, averaged) {fmt_num(h['auc_macro'], '{:.3f}')}")
    cal = Table("risk decile", "n", "predicted", "observed")
    for b in h["calibration"]:
        cal.add_row(str(b["bin"]), str(b["n"]), f"{b['predicted']:.2f}", f"{b['observed']:.2f}")
    console.print(cal)
    drivers = Table("driver", "effect (log-odds)", "odds ×", "")
    for d in data["drivers"]:
        drivers.add_row(escape(d["feature"]), f"{d['effect']:+.2f}", f"{d['odds_ratio']:.2f}", d["direction"])
    console.print(drivers)
    console.print(
        "numeric effects are per standard deviation; no feature reads a survey answer or a trait made "
        "from one; customers are scored with their behaviour as of the build date; use "
        "`detractor_risk` in segment rules"
    )


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
            fmt_num(None if r["rate"] is None else 100 * r["rate"], "{:.1f}%"),
            f"{r['value_at_stake']:,.0f}",
            fmt_num(r["nps_gap"], "{:+.0f}"),
            fmt_num(None if r["nps_gap_se"] is None else 1.96 * r["nps_gap_se"], "{:.0f}"),
        )
    console.print(table)
    console.print(
        f"last {data['window_days']} days to {data['as_of']}; value at stake = {data['value']} of the "
        "customers affected; NPS gap = NPS of affected answerers − NPS of the others (± 95%)"
    )
