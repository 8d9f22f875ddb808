"""``personae journey``: funnels, touches before buying, paths and drop-offs.

Thin shell over :mod:`personae.app.journeys`; charts come from
:mod:`personae.journeys.charts` and are saved where ``--plot`` says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import journeys as ja
from personae.app.reads import parse_as_of
from personae.cli.context import State, console, print_json, progress_bar, say_left_out
from personae.errors import InputError
from personae.journeys import charts
from personae.journeys.touchpoints import parse_duration

journey_app = typer.Typer(
    help="Customer journeys: funnels, touches before buying, paths, drop-offs.", no_args_is_help=True
)

PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".html", ".json")


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _save(chart: Any, plot: Path) -> None:
    if plot.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"--plot {plot}: use a .png, .svg, .pdf, .html or .json file")
    chart.save(str(plot))


def _duration(td: float | None) -> str:
    """Hours as a short human text."""
    if td is None:
        return "—"
    seconds = td * 3600
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{td:.1f} h"
    return f"{td / 24:.1f} d"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _said(data: dict[str, Any]) -> bool:
    """Print a report's note and who it left out; true when the note replaces the tables."""
    if data.get("note"):
        console.print(escape(data["note"]))
    say_left_out(data.get("left_out"))
    return bool(data.get("note")) and "steps" not in data


def _print_funnel(steps: list[dict[str, Any]], title: str) -> None:
    table = Table(
        "step", "customers", "conversion", "from start", "dropped", "median time to next", title=title
    )
    for s in steps:
        table.add_row(
            escape(s["step"]),
            f"{s['customers']:,}",
            _pct(s["conversion"]),
            _pct(s["conversion_from_start"]),
            "—" if s["dropped"] is None else f"{s['dropped']:,}",
            _duration(s["median_time_to_next"]),
        )
    console.print(table)


@journey_app.command("funnel")
def funnel(
    steps: str | None = typer.Option(
        None,
        "--steps",
        "-s",
        help="Comma-separated steps (event types or `order`); none: the lifecycle funnel",
    ),
    within: str | None = typer.Option(
        None, "--within", "-w", help="Window from the first step, e.g. 7d, 48h, 2w"
    ),
    order: str = typer.Option("loose", "--order", help="loose (other touches may come between) or strict"),
    since: str | None = typer.Option(None, "--since", help="Only funnels starting on or after this date"),
    segments: str | None = typer.Option(None, "--segments", help="Comma-separated segments: one funnel each"),
    by: str | None = typer.Option(None, "--by", help="channel, device (of the first step) or a trait"),
    plot: Path | None = typer.Option(None, "--plot", help="Write the funnel chart (.png, .svg, .html …)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """A funnel: customers at each step, conversion and time to the next step."""
    settings = State.settings().traits
    with progress_bar("funnel") as report, State.open_store() as store:
        report("counting", 0.1)
        if steps:
            data = ja.funnel_report(
                store,
                _names(steps),
                within=parse_duration(within) if within else None,
                order=order,
                since=parse_as_of(since),
                segments=_names(segments),
                by=by,
                settings=settings,
            )
        else:
            if within or since or order != "loose":
                raise InputError(
                    "--within, --since and --order need --steps (the lifecycle funnel has no window)"
                )
            data = ja.lifecycle_report(store, segments=_names(segments), by=by, settings=settings)
        report("done", 1.0)
    if plot is not None:
        chart_data = {**data, "groups": data["groups"] or [{"group": "all", "steps": data["steps"]}]}
        _save(charts.funnel_chart(chart_data, title=" → ".join(data["funnel"])), plot)
        data["plot"] = str(plot)
    if as_json:
        print_json(data)
        return
    _print_funnel(data["steps"], f"as of {data['as_of']}: " + " → ".join(data["funnel"]))
    if "time_to_convert" in data:
        t = data["time_to_convert"]
        console.print(
            f"time to convert: median {_duration(t['p50_hours'])}, "
            f"quartiles {_duration(t['p25_hours'])} – {_duration(t['p75_hours'])}, "
            f"90% within {_duration(t['p90_hours'])}"
        )
    for g in data["groups"]:
        _print_funnel(g["steps"], escape(str(g["group"])))
    _said(data)
    if plot is not None:
        console.print(f"chart written to {plot}")


@journey_app.command("touches")
def touches_(
    segments: str | None = typer.Option(None, "--segments", help="Comma-separated segments"),
    by: str | None = typer.Option(None, "--by", help="channel (of the order) or a trait"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """How many interactions and touchpoints come before the first order and between orders."""
    with progress_bar("touches") as report, State.open_store() as store:
        report("counting", 0.1)
        data = ja.touches_report(store, segments=_names(segments), by=by, settings=State.settings().traits)
    if as_json:
        print_json(data)
        return
    if _said(data):
        return
    table = Table(
        "group",
        "before",
        "orders",
        "mean",
        "p25",
        "median",
        "p75",
        "p90",
        "touchpoints (median)",
        title=f"interactions before an order, as of {data['as_of']}",
    )
    for r in [*({**o, "group": "all"} for o in data["overall"]), *data["groups"]]:
        i = r["interactions"]
        table.add_row(
            escape(str(r["group"])),
            "first order" if r["kind"] == "first" else "repeat order",
            f"{r['orders']:,}",
            *(f"{i[q]:g}" if i[q] is not None else "—" for q in ("mean", "p25", "median", "p75", "p90")),
            f"{r['touchpoints']['median']:g}" if r["touchpoints"]["median"] is not None else "—",
        )
    console.print(table)


@journey_app.command("paths")
def paths_(
    to: str = typer.Option("order", "--to", help="order, repeat, lapsed, detractor, or an event type"),
    top: int = typer.Option(20, "--top", help="How many paths to show"),
    length: int = typer.Option(5, "--length", help="Keep the last N (collapsed) steps of a path"),
    lookback: str = typer.Option("30d", "--lookback", help="How far a window reaches, e.g. 30d"),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a flow (Sankey) diagram (.png, .svg, .html …)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """The most common paths to an outcome, and where converters and the rest part ways."""
    with progress_bar("paths") as report, State.open_store() as store:
        report("tracing paths", 0.1)
        data = ja.paths_report(
            store,
            to,
            top=top,
            length=length,
            lookback=parse_duration(lookback, "--lookback"),
            settings=State.settings().traits,
        )
    if plot is not None:
        _save(charts.flow_chart(data, top=min(top, 12)), plot)
        data["plot"] = str(plot)
    if as_json:
        print_json(data)
        return
    if _said(data):
        return
    console.print(
        f"as of {data['as_of']}: {data['reached']:,} of {data['customers']:,} customers reached "
        f"{escape(to)} ({_pct(data['rate'])})"
    )
    table = Table("path", "customers", "share", title=f"top paths to {escape(to)}")
    for p in data["paths"]:
        table.add_row(escape(p["path"]), f"{p['customers']:,}", _pct(p["share"]))
    console.print(table)
    common = Table("path", "customers", "reached", "conversion", title="most common paths (everyone)")
    for p in data["common_paths"]:
        common.add_row(escape(p["path"]), f"{p['customers']:,}", f"{p['reached']:,}", _pct(p["conversion"]))
    console.print(common)
    div = Table(
        "after", "difference", f"reached {escape(to)}: next", "did not: next", title="where paths diverge"
    )
    for d in data["divergence"]:

        def fmt(items: list[dict[str, Any]]) -> str:
            return ", ".join(f"{escape(i['next'])} {i['share']:.0%}" for i in items)

        div.add_row(
            escape(d["after"]), f"{d['difference']:.2f}", fmt(d["reached_next"]), fmt(d["not_reached_next"])
        )
    if data["divergence"]:
        console.print(div)
    else:
        console.print(
            "where paths diverge: nothing to compare (no step is on the paths of both those who "
            f"reached {escape(to)} and those who did not)"
        )
    if plot is not None:
        console.print(f"chart written to {plot}")


@journey_app.command("dropoffs")
def dropoffs_(
    steps: str | None = typer.Option(
        None, "--steps", "-s", help="Funnel steps (default: the purchase funnel)"
    ),
    within: str = typer.Option("7d", "--within", "-w", help="Window from the first step"),
    segments: str | None = typer.Option(None, "--segments", help="Comma-separated segments to rank too"),
    by: str = typer.Option("channel,device", "--by", help="Dimensions to rank: channel, device, traits"),
    weeks: int = typer.Option(3, "--weeks", help="Flag a drop-off that grew this many weeks in a row"),
    top: int = typer.Option(20, "--top", help="How many ranked drop-offs to show"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Where customers leave a funnel: ranked by value lost, growing drop-offs, pain points."""
    chosen = _names(steps) or list(ja.PURCHASE_FUNNEL)
    with progress_bar("drop-offs") as report, State.open_store() as store:
        report("counting", 0.1)
        data = ja.dropoff_report(
            store,
            chosen,
            within=parse_duration(within),
            segments=_names(segments),
            dimensions=_names(by),
            weeks=weeks,
            top=top,
            settings=State.settings().traits,
        )
    if as_json:
        print_json(data)
        return
    table = Table(
        "dimension",
        "value",
        "step → next",
        "reached",
        "dropped",
        "rate",
        "value lost",
        title=f"drop-offs as of {data['as_of']}, most value lost first",
    )
    for r in data["ranking"]:
        table.add_row(
            r["dimension"],
            escape(str(r["value"])),
            f"{escape(r['from'])} → {escape(r['to'])}",
            f"{r['reached']:,}",
            f"{r['dropped']:,}",
            _pct(r["drop_rate"]),
            f"{r['value_lost']:,.0f}",
        )
    console.print(table)
    for t in data["trend"]:
        if t["growing"]:
            rates = ", ".join(_pct(w["drop_rate"]) for w in t["weeks"][-(weeks + 1) :])
            console.print(
                f"[yellow]growing:[/yellow] {escape(t['from'])} → {escape(t['to'])} drop-off {rates}"
            )
    if not any(t["growing"] for t in data["trend"]):
        console.print("no drop-off grew week on week")
    pains = Table(
        "step → next",
        "signal",
        "droppers with it",
        "share of droppers",
        "share of the rest",
        "lift",
        title="pain points met after the step",
    )
    for p in data["pain_points"][:15]:
        pains.add_row(
            f"{escape(p['from'])} → {escape(p['to'])}",
            p["signal"],
            f"{p['dropped_with_signal']:,}",
            _pct(p["dropped_share"]),
            _pct(p["continued_share"]),
            "—" if p["lift"] is None else f"{p['lift']:.1f}×",
        )
    console.print(pains)
    _said(data)
