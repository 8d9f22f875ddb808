"""The report's charts: plain data in, an Altair chart and a one-line takeaway out.

Domain code (no I/O): every function takes the rows :mod:`personae.app.report` returns
(lists of dicts, as JSON would carry them) and returns a :class:`Figure`, so the HTML report,
the dashboard and a notebook draw the same picture and say the same sentence. The takeaway is
computed from the same numbers the chart shows, in words an analyst can paste into a slide;
it never claims more than the data holds (a difference whose interval spans zero is "unclear").
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from personae.journeys.charts import flow_chart, funnel_chart, sankey_layout
from personae.journeys.paths import NO_TOUCHES
from personae.voice.charts import segment_heatmap, sentiment_trend, themes_by_sentiment

Rows = Sequence[Mapping[str, Any]]

#: One palette for "share of customers" against "share of revenue/value" everywhere.
_SHARE_COLOURS = alt.Scale(domain=["customers", "revenue"], range=["#9ecae1", "#08519c"])
_WIDTH = 460


#: Node labels of the flow diagram: left of the earlier column, right of the later one.
_LABEL_SIDES: tuple[tuple[str, Literal["left", "center", "right"]], ...] = (
    ("left", "right"),
    ("right", "left"),
)


class Figure(NamedTuple):
    """A chart and the sentence that says what it shows (unpacks as ``chart, takeaway``)."""

    chart: alt.TopLevelMixin
    takeaway: str


# -- wording helpers -----------------------------------------------------------------------------
def pct(share: float | None, digits: int = 0) -> str:
    """``0.083`` → ``"8%"``; tiny non-zero shares read ``"<1%"`` rather than a misleading 0%."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n/a"
    if 0 < share < 0.5 * 10 ** (-2 - digits):
        return f"<{10**-digits:g}%"
    return f"{100 * share:.{digits}f}%"


def amount(value: float | None) -> str:
    """A money amount without a currency (the data does not say which): ``1,234`` or ``12.50``."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def signed(value: float | None, digits: int = 0) -> str:
    """NPS-style points with their sign: ``+12``, ``-3``."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:+.{digits}f}"


def _ordered(rows: Rows, key: str, order: Sequence[str] | None) -> list[str]:
    seen = list(dict.fromkeys(str(r[key]) for r in rows))
    if not order:
        return seen
    return [o for o in order if o in seen] + [s for s in seen if s not in order]


# -- 1. segment sizes and revenue share ----------------------------------------------------------
def segment_share(rows: Rows, order: Sequence[str] | None = None) -> Figure:
    """Share of customers and of revenue per segment (``segment, customers, revenue`` rows).

    The takeaway names the segment whose revenue share is largest: the classic "x% of
    customers, y% of revenue" sentence.
    """
    customers = sum(int(r["customers"]) for r in rows)
    revenue = sum(float(r["revenue"] or 0.0) for r in rows)
    long = []
    for r in rows:
        c_share = int(r["customers"]) / customers if customers else 0.0
        r_share = float(r["revenue"] or 0.0) / revenue if revenue else 0.0
        long.append({"segment": r["segment"], "measure": "customers", "share": c_share, "n": r["customers"]})
        long.append({"segment": r["segment"], "measure": "revenue", "share": r_share, "n": r["revenue"]})
    segments = _ordered(rows, "segment", order)
    chart = (
        alt.Chart(pd.DataFrame(long, columns=["segment", "measure", "share", "n"]))
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort=segments, title=None),
            yOffset=alt.YOffset("measure:N", sort=["customers", "revenue"]),
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of all"),
            color=alt.Color("measure:N", scale=_SHARE_COLOURS, title=None, legend=alt.Legend(orient="top")),
            tooltip=["segment:N", "measure:N", alt.Tooltip("share:Q", format=".1%"), "n:Q"],
        )
        .properties(width=_WIDTH, height=alt.Step(11), title="Segment sizes and revenue share")
    )
    if not customers:
        return Figure(chart, "No customers are in any segment yet.")
    if not revenue:
        top = max(rows, key=lambda r: int(r["customers"]))
        return Figure(
            chart,
            f"{top['segment']} is the largest segment ({pct(int(top['customers']) / customers)}); "
            "no revenue yet.",
        )
    top = max(rows, key=lambda r: (float(r["revenue"] or 0.0), str(r["segment"])))
    return Figure(
        chart,
        f"{top['segment']} are {pct(int(top['customers']) / customers)} of customers and "
        f"{pct(float(top['revenue']) / revenue)} of revenue.",
    )


# -- 2. CLV distribution ---------------------------------------------------------------------------
def clv_distribution(by_segment: Rows, by_tier: Rows, order: Sequence[str] | None = None) -> Figure:
    """12-month CLV spread per segment (p10–p90 whisker, p25–p75 box, median tick) beside each
    value tier's share of customers and of total predicted value.

    Args:
        by_segment: ``segment, customers, p10, p25, p50, p75, p90`` rows.
        by_tier: ``tier, customers, clv`` rows (``clv`` = the tier's summed ``clv_12m``), best first.
    """
    segs = _ordered(by_segment, "segment", order)
    df = pd.DataFrame(list(by_segment), columns=["segment", "customers", "p10", "p25", "p50", "p75", "p90"])
    base = alt.Chart(df).encode(y=alt.Y("segment:N", sort=segs, title=None))
    x = alt.X("p10:Q", title="predicted 12-month CLV (p10, p25–p75, median, p90)")
    spread = (
        base.mark_rule(color="#6b6b6b").encode(x=x, x2="p90:Q")
        + base.mark_bar(color="#6baed6", size=12).encode(x="p25:Q", x2="p75:Q")
        + base.mark_tick(color="#08306b", thickness=2, size=14).encode(
            x="p50:Q", tooltip=["segment:N", "customers:Q", "p25:Q", "p50:Q", "p75:Q"]
        )
    ).properties(width=320, height=alt.Step(20), title="CLV by segment")
    customers = sum(int(r["customers"]) for r in by_tier)
    value = sum(float(r["clv"] or 0.0) for r in by_tier)
    tiers = [str(r["tier"]) for r in by_tier]
    long = [
        {"tier": r["tier"], "measure": m, "share": s}
        for r in by_tier
        for m, s in (
            ("customers", int(r["customers"]) / customers if customers else 0.0),
            ("revenue", float(r["clv"] or 0.0) / value if value else 0.0),
        )
    ]
    tier_chart = (
        alt.Chart(pd.DataFrame(long, columns=["tier", "measure", "share"]))
        .mark_bar()
        .encode(
            y=alt.Y("tier:N", sort=tiers, title="value tier"),
            yOffset=alt.YOffset("measure:N", sort=["customers", "revenue"]),
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share (revenue = predicted CLV)"),
            color=alt.Color("measure:N", scale=_SHARE_COLOURS, title=None, legend=alt.Legend(orient="top")),
            tooltip=["tier:N", "measure:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(width=220, height=alt.Step(12), title="Value tiers")
    )
    chart = alt.hconcat(spread, tier_chart).resolve_scale(color="independent")
    if not by_segment or not customers:
        return Figure(chart, "No customer has a predicted lifetime value yet.")
    best = max(by_segment, key=lambda r: (float(r["p50"] or 0.0), str(r["segment"])))
    if value > 0 and by_tier:
        top_tiers = [r for r in by_tier if str(r["tier"]) in ("top1", "top10")] or [by_tier[0]]
        share_c = sum(int(r["customers"]) for r in top_tiers) / customers
        share_v = sum(float(r["clv"] or 0.0) for r in top_tiers) / value
        lead = f"The top {pct(share_c)} of customers by CLV hold {pct(share_v)} of predicted 12-month value"
    else:
        lead = "No customer is predicted to spend in the next 12 months"
    return Figure(
        chart, f"{lead}; the median CLV is highest among {best['segment']} ({amount(best['p50'])})."
    )


# -- 3. RFM grid -----------------------------------------------------------------------------------
def rfm_grid(cells: Rows) -> Figure:
    """Customers in each recency × frequency-monetary cell (``r_score, fm_score, customers,
    segment`` rows; ``segment`` is the cell's most common RFM segment)."""
    df = pd.DataFrame(list(cells), columns=["r_score", "fm_score", "customers", "segment"])
    total = int(df["customers"].sum()) if len(df) else 0
    df["share"] = df["customers"] / total if total else 0.0
    base = alt.Chart(df).encode(
        x=alt.X(
            "r_score:O",
            title="recency score (5 = bought most recently)",
            scale=alt.Scale(domain=[1, 2, 3, 4, 5]),
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y("fm_score:O", title="frequency + monetary score", scale=alt.Scale(domain=[5, 4, 3, 2, 1])),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues"), title="customers"),
        tooltip=["r_score:O", "fm_score:O", "customers:Q", "segment:N", alt.Tooltip("share:Q", format=".1%")],
    )
    text = (
        base.mark_text(fontSize=9, lineBreak="|")
        .encode(
            text=alt.Text("label:N"),
            color=alt.condition(
                alt.datum.share > 0.6 * float(df["share"].max() or 1), alt.value("white"), alt.value("black")
            ),
        )
        .transform_calculate(label="datum.customers + '|' + datum.segment")
    )
    chart = (heat + text).properties(width=420, height=340, title="RFM grid")
    if not total:
        return Figure(chart, "No customer has an RFM score yet.")
    big = df.sort_values(["customers", "r_score", "fm_score"], ascending=False).iloc[0]
    recent = float(df.loc[df["r_score"] >= 4, "customers"].sum()) / total
    cold = float(df.loc[df["r_score"] <= 2, "customers"].sum()) / total
    return Figure(
        chart,
        f"{pct(recent)} of customers bought recently (R 4–5) and {pct(cold)} have gone quiet (R 1–2); "
        f"the biggest cell is R{int(big['r_score'])}/FM{int(big['fm_score'])} ({big['segment']}, "
        f"{pct(float(big['share']))}).",
    )


# -- 4. funnels ------------------------------------------------------------------------------------
def funnel_dropoffs(steps: Rows, title: str) -> Figure:
    """Customers reaching each step, with the share who did not go on beside each bar.

    Args:
        steps: ``step, customers, conversion, dropped`` rows in funnel order (the journeys
            reports' ``steps``).
    """
    rows = []
    for i, s in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        here = int(s["customers"])
        lost = (here - int(nxt["customers"])) / here if nxt is not None and here else None
        rows.append(
            {
                "order": i,
                "step": f"{i + 1}. {s['step']}",
                "customers": here,
                "label": f"{here:,}" + ("" if lost is None else f"  ↓ {pct(lost)} leave"),
            }
        )
    df = pd.DataFrame(rows, columns=["order", "step", "customers", "label"])
    base = alt.Chart(df).encode(
        y=alt.Y("step:N", sort=alt.SortField("order"), title=None), x=alt.X("customers:Q", title="customers")
    )
    chart = (
        base.mark_bar(color="#4c78a8") + base.mark_text(align="left", dx=3).encode(text="label:N")
    ).properties(width=_WIDTH - 80, height=alt.Step(26), title=title)
    return Figure(chart, funnel_takeaway(steps))


def funnel_takeaway(steps: Rows) -> str:
    """Where most of a funnel's customers leave (relative to the step before) and how many finish.

    The largest *relative* drop, not the largest count: the first steps always lose the most
    people, but a step that loses most of the few who reach it is the one to look at.
    """
    if not steps or not int(steps[0]["customers"]):
        return "No customer entered this funnel."
    worst: tuple[float, int] | None = None
    for i in range(len(steps) - 1):
        here = int(steps[i]["customers"])
        if here:
            lost = (here - int(steps[i + 1]["customers"])) / here
            if worst is None or lost > worst[0]:
                worst = (lost, i)
    end = int(steps[-1]["customers"]) / int(steps[0]["customers"])
    if worst is None:
        return "A single-step funnel: nothing to drop off from."
    lost, i = worst
    return (
        f"The biggest drop-off is {steps[i]['step']} → {steps[i + 1]['step']}: {pct(lost)} of customers "
        f"do not go on ({int(steps[i]['customers']) - int(steps[i + 1]['customers']):,}); "
        f"{pct(end)} reach {steps[-1]['step']}."
    )


# -- 4b. journeys: the purchase funnel and paths (the journeys package's own charts) ---------------
#: How reaching a paths report's outcome reads in a sentence ("120 of 300 customers …").
_OUTCOME_WORDS = {
    "order": "made a first order",
    "repeat": "made a second order",
    "lapsed": "lapsed after their last order",
    "detractor": "answered NPS as detractors",
}
#: A path must be taken by this many customers before its conversion is quoted as best/worst.
MIN_PATH_CUSTOMERS = 10


def duration(hours: float | None) -> str:
    """``0.05`` → ``"3 min"``, ``30`` → ``"30 h"``, ``100`` → ``"4.2 days"``: the unit a person would use."""
    if hours is None or math.isnan(hours):
        return "n/a"
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _window(within_hours: float | None) -> str:
    if within_hours is None:
        return "no time limit"
    if within_hours % 24 == 0:
        days = int(within_hours // 24)
        return f"within {days} day{'s' if days != 1 else ''}"
    return f"within {within_hours:g} h"


def journey_funnel(report: Mapping[str, Any]) -> Figure:
    """A step funnel drawn by :func:`personae.journeys.charts.funnel_chart` (the chart
    ``personae journey funnel --plot`` writes), with the drop-off takeaway and the median time
    to convert.

    Args:
        report: a :func:`personae.app.journeys.funnel_report` output (``funnel, steps,
            within_hours, time_to_convert``); its per-group rows are not drawn here.
    """
    steps = list(report["steps"])
    title = f"{' → '.join(report['funnel'])} ({_window(report.get('within_hours'))})"
    chart = funnel_chart({"groups": [{"group": "all", "steps": steps}]}, title=title)
    text = funnel_takeaway(steps)
    median = (report.get("time_to_convert") or {}).get("p50_hours")
    if steps and int(steps[-1]["customers"]) and median is not None and text.endswith("."):
        text = f"{text[:-1]}, half of them within {duration(median)} of their {steps[0]['step']}."
    return Figure(chart, text)


def _path_words(path: str, lookback_days: float) -> str:
    if path == NO_TOUCHES:
        return f"no tracked touch in the {lookback_days:g} days before"
    return path


#: What the data must hold for a paths outcome to have anyone on the way to it.
_OUTCOME_NEEDS = {
    "order": "orders",
    "repeat": "customers with a first order",
    "lapsed": "customers whose last order is long enough ago",
    "detractor": "NPS answers",
}


def journey_paths(report: Mapping[str, Any], top: int = 8) -> Figure:
    """The flow (Sankey) diagram of the most common paths to an outcome, drawn by
    :func:`personae.journeys.charts.flow_chart`, and what they say.

    The takeaway quotes how many reached the outcome, the most common path of those who did,
    and — when some did not — which common path (taken by at least
    :data:`MIN_PATH_CUSTOMERS`) converts best and worst: the beginning of "where do paths part".

    Args:
        report: a :func:`personae.app.journeys.paths_report` output.
    """
    outcome = str(report["outcome"])
    shown = min(top, len(report["common_paths"]))
    title = f"Paths to {outcome}: the {shown} most common (last {report['lookback_days']:g} days before)"
    customers, reached = int(report["customers"]), int(report["reached"])
    words = _OUTCOME_WORDS.get(outcome, f"did {outcome}")
    if not customers or not report["common_paths"]:
        # flow_chart needs at least one path to lay out: say so in the picture as in the sentence
        empty = pd.DataFrame({"text": [f"no paths to {outcome} yet"]})
        chart = alt.Chart(empty).mark_text(fontSize=14, color="#57606a").encode(text="text:N")
        chart = chart.properties(width=300, height=60, title=title)
        needs = _OUTCOME_NEEDS.get(outcome, f"{outcome} events")
        if not customers:
            why = f"nobody in the data has a path that could lead there ({needs} are needed)"
        else:
            why = "no customer has a touch before it in the window"
        return Figure(chart, f"No paths to {outcome}: {why}.")
    chart = flow_chart(dict(report), top=top, title=title)
    lead = "All" if reached == customers else f"{reached:,} of"
    text = f"{lead} {customers:,} customers ({pct(reached / customers)}) {words}"
    if report["paths"]:
        first = report["paths"][0]
        lookback = float(report["lookback_days"])
        text += (
            f"; the most common path there is {_path_words(str(first['path']), lookback)} "
            f"({pct(float(first['share']))} of them)"
        )
    judged = [p for p in report["common_paths"] if int(p["customers"]) >= MIN_PATH_CUSTOMERS]
    if reached < customers and len(judged) >= 2:
        best = max(judged, key=lambda p: (float(p["conversion"]), int(p["customers"])))
        worst = min(judged, key=lambda p: (float(p["conversion"]), -int(p["customers"])))
        if float(best["conversion"]) > float(worst["conversion"]):
            lookback = float(report["lookback_days"])
            text += (
                f". Of the common paths, {_path_words(str(best['path']), lookback)} converts best "
                f"({pct(float(best['conversion']))}) and {_path_words(str(worst['path']), lookback)} "
                f"worst ({pct(float(worst['conversion']))})"
            )
    return Figure(chart, text + ".")


# -- 5. experience ---------------------------------------------------------------------------------
EXPERIENCE_METRICS = (
    ("nps", "NPS (−100…100)"),
    ("csat", "CSAT (% satisfied)"),
    ("ces", "CES (mean effort, lower is better)"),
    ("trust", "Trust (−100…100)"),
)


def experience_by_segment(groups: Rows, overall: Mapping[str, Any], confidence: float = 0.95) -> Figure:
    """NPS, CSAT, CES and trust per segment with their confidence intervals (one panel each).

    Args:
        groups: the experience report's ``groups`` (``segment, nps, nps_ci, csat, csat_ci, …, small``).
        overall: its ``overall`` row (same figures for everyone).
    """
    panels = []
    segs = [str(g["segment"]) for g in groups]
    for key, title in EXPERIENCE_METRICS:
        rows = []
        for g in groups:
            if g.get(key) is None:
                continue
            ci = g.get(f"{key}_ci") or [g[key], g[key]]
            rows.append(
                {
                    "segment": g["segment"],
                    "value": float(g[key]),
                    "low": float(ci[0]),
                    "high": float(ci[1]),
                    "n": int(g.get(f"{key}_n") or 0),
                    "reliable": "ok" if not g.get("small") else "small group",
                }
            )
        df = pd.DataFrame(rows, columns=["segment", "value", "low", "high", "n", "reliable"])
        base = alt.Chart(df).encode(y=alt.Y("segment:N", sort=segs, title=None))
        colour = alt.Color(
            "reliable:N",
            scale=alt.Scale(domain=["ok", "small group"], range=["#08519c", "#bdbdbd"]),
            title="respondents",
        )
        panel = (
            base.mark_rule().encode(x=alt.X("low:Q", title=None), x2="high:Q", color=colour)
            + base.mark_point(filled=True, size=50).encode(
                x="value:Q", color=colour, tooltip=["segment:N", alt.Tooltip("value:Q", format=".1f"), "n:Q"]
            )
        ).properties(width=170, height=alt.Step(18), title=title)
        panels.append(panel)
    chart = alt.vconcat(alt.hconcat(*panels[:2]), alt.hconcat(*panels[2:])).properties(
        title=f"Experience by segment ({pct(confidence)} confidence intervals)"
    )
    if overall.get("nps") is None:
        return Figure(chart, "No NPS answers from consenting customers yet.")
    ci = overall.get("nps_ci")
    half = f" ± {(ci[1] - ci[0]) / 2:.0f}" if ci else ""
    whole = f"overall NPS {signed(overall['nps'])}{half} from {int(overall.get('nps_n') or 0):,} respondents"
    answered = [g for g in groups if g.get("nps") is not None]
    sized = [g for g in answered if not g.get("small")]
    if len(sized) >= 2:
        lo = min(sized, key=lambda g: (float(g["nps"]), str(g["segment"])))
        hi = max(sized, key=lambda g: (float(g["nps"]), str(g["segment"])))
        return Figure(
            chart,
            f"NPS runs from {signed(lo['nps'])} ({lo['segment']}) to {signed(hi['nps'])} ({hi['segment']}) "
            f"among segments with enough answers; {whole}.",
        )
    if len(sized) == 1:
        g = sized[0]
        return Figure(
            chart,
            f"Only {g['segment']} has enough answers to judge (NPS {signed(g['nps'])}); {whole}.",
        )
    return Figure(chart, f"Every segment has too few answers to compare; {whole}.")


# -- 6. segment migration --------------------------------------------------------------------------
def migration_flow(report: Mapping[str, Any]) -> Figure:
    """A flow (Sankey) diagram of customers between the segments of two snapshots.

    Args:
        report: ``segments.reports.migration`` output: ``from, to, flows`` (``from, to,
            customers`` rows; ``(none)`` = in no segment of the family on that date).
    """
    flows = [((str(f["from"]), str(f["to"])), int(f["customers"])) for f in report["flows"] if f["customers"]]
    layout = sankey_layout(flows, gap=0.015)
    width = 0.06
    pts = []
    for i, link in enumerate(layout["links"]):
        x0, x1 = width, 1.0
        for j in range(17):
            u = j / 16
            s = (1 - math.cos(math.pi * u)) / 2
            y = link["y0"] + (link["y1"] - link["y0"]) * s
            pts.append(
                {
                    "link": i,
                    "x": x0 + (x1 - x0) * u,
                    "y": y,
                    "y2": y + link["size"],
                    "from": link["source"],
                    "to": link["target"],
                    "share": link["size"],
                }
            )
    nodes = pd.DataFrame(
        [
            {
                "label": n["label"],
                "x": float(n["col"]) * (1 - width) if n["col"] else 0.0,
                "x2": (float(n["col"]) * (1 - width) if n["col"] else 0.0) + width,
                "y": n["y"],
                "y2": n["y"] + n["size"],
                "mid": n["y"] + n["size"] / 2,
                "tx": -0.01 if n["col"] == 0 else 1.01,
                "side": "left" if n["col"] == 0 else "right",
                "share": n["size"],
            }
            for n in layout["nodes"]
        ],
        columns=["label", "x", "x2", "y", "y2", "mid", "tx", "side", "share"],
    )
    top = max(float(nodes["y2"].max()) if len(nodes) else 1.0, 1.0)
    ys = alt.Scale(reverse=True, domain=[0, top])
    xs = alt.Scale(domain=[-0.45, 1.45])
    bands = (
        alt.Chart(pd.DataFrame(pts, columns=["link", "x", "y", "y2", "from", "to", "share"]))
        .mark_area(opacity=0.4)
        .encode(
            x=alt.X("x:Q", axis=None, scale=xs),
            y=alt.Y("y:Q", axis=None, scale=ys),
            y2="y2:Q",
            detail="link:N",
            color=alt.Color("from:N", legend=None),
            tooltip=["from:N", "to:N", alt.Tooltip("share:Q", format=".1%")],
        )
    )
    boxes = (
        alt.Chart(nodes)
        .mark_rect(color="#1f3b57")
        .encode(x=alt.X("x:Q", scale=xs), x2="x2:Q", y=alt.Y("y:Q", scale=ys), y2="y2:Q")
    )
    labels = alt.layer(
        *[
            alt.Chart(nodes[nodes["side"] == side])
            .mark_text(align=align, fontSize=10)
            .encode(
                x=alt.X("tx:Q", scale=xs),
                y=alt.Y("mid:Q", scale=ys),
                text=alt.Text("caption:N"),
            )
            .transform_calculate(caption="datum.label + ' ' + format(datum.share, '.0%')")
            for side, align in _LABEL_SIDES
        ]
    )
    title = f"Segment migration {report['from']} → {report['to']}"
    chart = alt.layer(bands, boxes, labels).properties(width=560, height=380, title=title)
    total = sum(n for _, n in flows)
    if not total:
        return Figure(chart, f"No customer was in a segment on {report['from']} or {report['to']}.")
    stayed = sum(n for (a, b), n in flows if a == b)
    moves = [(n, a, b) for (a, b), n in flows if a != b]
    text = (
        f"{pct(stayed / total)} of customers stayed in their segment from {report['from']} to {report['to']}"
    )
    if moves:
        n, a, b = max(moves, key=lambda m: (m[0], m[1], m[2]))
        text += f"; the largest move was {a} → {b} ({n:,} customers)"
    return Figure(chart, text + ".")


# -- 7. clusters -----------------------------------------------------------------------------------
def cluster_map(points: Rows, clusters: Rows, variance: tuple[float, float]) -> Figure:
    """Customers on the first two principal components of the clustering features.

    Args:
        points: ``pc1, pc2, cluster`` rows (``cluster`` the label shown, e.g. ``"2: Weekend shoppers"``).
        clusters: the cluster profiles (``name, share, revenue_share``).
        variance: the share of the spread each axis keeps.
    """
    df = pd.DataFrame(list(points), columns=["pc1", "pc2", "cluster"])
    chart = (
        alt.Chart(df)
        .mark_circle(size=12, opacity=0.5)
        .encode(
            x=alt.X("pc1:Q", title=f"PC1 ({pct(variance[0])} of spread)"),
            y=alt.Y("pc2:Q", title=f"PC2 ({pct(variance[1])} of spread)"),
            color=alt.Color("cluster:N", legend=alt.Legend(orient="bottom", columns=2, labelLimit=320)),
            tooltip=["cluster:N"],
        )
        .properties(width=_WIDTH, height=360, title="Cluster map")
    )
    live = [c for c in clusters if c.get("share")]
    if not live:
        return Figure(chart, "The cluster model has no members yet.")
    big = max(live, key=lambda c: (float(c["share"]), str(c["name"])))
    rich = max(live, key=lambda c: (float(c.get("revenue_share") or 0.0), str(c["name"])))
    text = (
        f"{len(clusters)} clusters; the largest, {big['name']}, holds {pct(float(big['share']))} of customers"
    )
    if rich is not big and rich.get("revenue_share") is not None:
        text += f", while {rich['name']} brings the most revenue ({pct(float(rich['revenue_share']))})"
    elif big.get("revenue_share") is not None:
        text += f" and {pct(float(big['revenue_share']))} of revenue"
    return Figure(chart, text + ".")


# -- 8. regions and stores -------------------------------------------------------------------------
def segments_by_region(rows: Rows, order: Sequence[str] | None = None, focus: str | None = None) -> Figure:
    """Each region's customers split by segment (``region, segment, customers`` rows).

    ``focus`` is the segment the takeaway follows (default: the first in ``order``).
    """
    df = pd.DataFrame(list(rows), columns=["region", "segment", "customers"])
    segs = _ordered(rows, "segment", order)
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("region:N", title=None, sort="-x"),
            x=alt.X(
                "customers:Q",
                stack="normalize",
                axis=alt.Axis(format="%"),
                title="share of the region's customers",
            ),
            color=alt.Color(
                "segment:N",
                sort=segs,
                scale=alt.Scale(scheme="tableau20"),
                legend=alt.Legend(columns=3, orient="bottom"),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["region:N", "segment:N", "customers:Q"],
        )
        .transform_calculate(rank=f"indexof({json.dumps(segs)}, datum.segment)")
        .properties(width=_WIDTH, height=alt.Step(20), title="Segments by region")
    )
    total = int(df["customers"].sum()) if len(df) else 0
    focus = focus or (segs[0] if segs else None)
    if not total or focus is None:
        return Figure(chart, "No customer has a region.")
    per_region = df.groupby("region")["customers"].sum()
    mine = (
        df[df["segment"] == focus]
        .groupby("region")["customers"]
        .sum()
        .reindex(per_region.index, fill_value=0)
    )
    share = (mine / per_region).sort_index()
    overall = float(mine.sum()) / total
    if share.empty:
        return Figure(chart, f"No region has {focus}.")
    best = str(share.idxmax())
    return Figure(
        chart,
        f"{focus} are most common in {best} ({pct(float(share[best]))} of its customers, "
        f"against {pct(overall)} overall) across {len(per_region)} regions.",
    )


#: The columns of one row of the stores chart (see :func:`personae.app.report`).
STORE_COLUMNS = (
    "store_id",
    "name",
    "region",
    "floor_area_sqm",
    "sales",
    "sales_per_sqm",
    "customers",
    "mean_clv",
)


def store_performance(rows: Rows) -> Figure:
    """Sales per square metre of each store against the predicted value of its customers.

    Args:
        rows: ``store_id, name, region, floor_area_sqm, sales, sales_per_sqm, customers, mean_clv``
            (``customers`` = consenting customers whose home store it is; ``mean_clv`` theirs).
    """
    df = pd.DataFrame(list(rows), columns=list(STORE_COLUMNS))
    chart = (
        alt.Chart(df)
        .mark_circle(opacity=0.75)
        .encode(
            x=alt.X("sales_per_sqm:Q", title="sales per m²"),
            y=alt.Y("mean_clv:Q", title="mean 12-month CLV of its home customers"),
            size=alt.Size("customers:Q", title="home customers"),
            color=alt.Color("region:N"),
            tooltip=[
                "store_id:N",
                "name:N",
                "region:N",
                alt.Tooltip("sales_per_sqm:Q", format=",.0f"),
                alt.Tooltip("sales:Q", format=",.0f"),
                "floor_area_sqm:Q",
                "customers:Q",
                alt.Tooltip("mean_clv:Q", format=",.0f"),
            ],
        )
        .properties(width=_WIDTH, height=300, title="Stores: sales per m² and customer value")
    )
    sized = df.dropna(subset=["sales_per_sqm"])
    if sized.empty:
        return Figure(chart, "No store has both sales and a floor area.")
    best = sized.sort_values(["sales_per_sqm", "store_id"], ascending=[False, True]).iloc[0]
    text = (
        f"{best['name'] or best['store_id']} sells the most per m² ({amount(float(best['sales_per_sqm']))}, "
        f"{len(sized)} stores)"
    )
    both = sized.dropna(subset=["mean_clv"])
    if len(both) >= 3 and both["sales_per_sqm"].std() > 0 and both["mean_clv"].std() > 0:
        r = float(np.corrcoef(both["sales_per_sqm"], both["mean_clv"])[0, 1])
        if abs(r) < 0.3:
            text += f"; sales per m² barely follow the value of a store's customers (r = {r:.2f})"
        else:
            way = "more" if r > 0 else "less"
            text += f"; stores whose customers are worth more sell {way} per m² (r = {r:.2f})"
    return Figure(chart, text + ".")


# -- 9. recommendations ----------------------------------------------------------------------------
def recommendation_evaluation(report: Mapping[str, Any]) -> Figure:
    """Precision, recall and NDCG at k of every model (``recommending.evaluate`` output)."""
    default = report.get("default_model")
    rows = [
        {
            "model": m["model"],
            "metric": metric,
            "value": float(m[metric] or 0.0),
            "default": m["model"] == default,
        }
        for m in report["models"]
        for metric in ("precision", "recall", "ndcg")
    ]
    models = [m["model"] for m in report["models"]]
    chart = (
        alt.Chart(pd.DataFrame(rows, columns=["model", "metric", "value", "default"]))
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort=models, title=None),
            x=alt.X("value:Q", title=None),
            color=alt.Color(
                "default:N",
                scale=alt.Scale(domain=[True, False], range=["#08519c", "#9ecae1"]),
                title="default model",
            ),
            tooltip=["model:N", "metric:N", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=150, height=alt.Step(18))
        .facet(column=alt.Column("metric:N", title=None, sort=["precision", "recall", "ndcg"]))
        .resolve_scale(x="independent")
        .properties(title=f"Recommendations: time-split evaluation at k = {report['k']}")
    )
    by = {m["model"]: m for m in report["models"]}
    best = by.get(str(default)) or (report["models"][0] if report["models"] else None)
    if best is None:
        return Figure(chart, "No model could be evaluated.")
    text = (
        f"{best['model']} (the default) finds {pct(float(best['recall'] or 0.0))} of held-out purchases "
        f"in its top {report['k']} for {int(report['customers_evaluated']):,} customers"
    )
    ratio = best.get("ndcg_vs_popularity")
    if ratio is not None and best["model"] != "popularity":
        text += f", {ratio:.1f}× the popularity baseline's NDCG"
    return Figure(chart, text + ".")


# -- 10. playbook impact ---------------------------------------------------------------------------
IMPACT_METRICS = (
    ("conversion", "conversion (share points)"),
    ("revenue_per_customer", "revenue per customer"),
)


def playbook_impact(reports: Rows) -> Figure:
    """Treatment − holdout for conversion and revenue per customer, with intervals, per playbook.

    Args:
        reports: ``impact_report.impact`` outputs (one per activated playbook).
    """
    panels = []
    playbooks = [str(r["playbook"]) for r in reports]
    for metric, title in IMPACT_METRICS:
        rows = []
        for r in reports:
            e = next((e for e in r["effects"] if e["metric"] == metric), None)
            if e is None or e["difference"] is None:
                continue
            scale = 100.0 if metric == "conversion" else 1.0
            low = e["low"] if e["low"] is not None else e["difference"]
            high = e["high"] if e["high"] is not None else e["difference"]
            rows.append(
                {
                    "playbook": r["playbook"],
                    "difference": scale * e["difference"],
                    "low": scale * low,
                    "high": scale * high,
                    "direction": e["direction"],
                }
            )
        df = pd.DataFrame(rows, columns=["playbook", "difference", "low", "high", "direction"])
        base = alt.Chart(df).encode(y=alt.Y("playbook:N", sort=playbooks, title=None))
        colour = alt.Color(
            "direction:N",
            scale=alt.Scale(domain=["up", "down", "unclear"], range=["#2a9d8f", "#e76f51", "#888888"]),
            title="effect",
        )
        zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="zero:Q")
        panels.append(
            (
                base.mark_rule(strokeWidth=2).encode(
                    x=alt.X("low:Q", title="treatment − holdout"), x2="high:Q", color=colour
                )
                + base.mark_point(filled=True, size=70).encode(
                    x="difference:Q", color=colour, tooltip=["playbook:N", "difference:Q", "low:Q", "high:Q"]
                )
                + zero
            ).properties(width=240, height=alt.Step(24), title=title)
        )
    chart = alt.hconcat(*panels).properties(title="Playbook impact (treated against held out)")
    if not reports:
        return Figure(chart, "No playbook has been activated yet.")
    earning = [
        r["playbook"]
        for r in reports
        if any(e["metric"] == "revenue_per_customer" and e["direction"] == "up" for e in r["effects"])
    ]
    first = reports[0]
    text = f"{len(reports)} playbook{'s' if len(reports) != 1 else ''} measured"
    text += (
        f"; {', '.join(earning)} measurably raise{'s' if len(earning) == 1 else ''} revenue"
        if earning
        else ("; none measurably raises revenue yet")
    )
    return Figure(chart, f"{text}. {first['playbook']}: {first['verdict']}")


# -- 11. voice -------------------------------------------------------------------------------------
def voice_themes(themes: Rows) -> Figure:
    """Texts per theme split by sentiment (the voice report's ``themes``)."""

    chart = themes_by_sentiment([dict(t) for t in themes])
    named = [t for t in themes if t["n"]]
    if not named:
        return Figure(chart, "No scored customer texts yet.")
    top = named[0] if named[0]["theme"] != "other" or len(named) == 1 else named[1]
    worst = max(named, key=lambda t: (float(t.get("negative") or 0.0), str(t["theme"])))
    text = (
        f"The most discussed theme is {top['theme']} ({pct(float(top['share']))} of texts, "
        f"{pct(float(top.get('negative') or 0.0))} negative)"
    )
    if worst is not top:
        text += f"; {worst['theme']} is the most negative ({pct(float(worst.get('negative') or 0.0))})"
    return Figure(chart, text + ".")


def voice_trend(themes: Rows) -> Figure:
    """Mean sentiment per month and theme, from each theme's ``trend``."""

    rows = [
        {"month": p["month"], "theme": t["theme"], "n": p["n"], "sentiment": p["sentiment"]}
        for t in themes
        for p in t.get("trend") or []
    ]
    df = pd.DataFrame(rows, columns=["month", "theme", "n", "sentiment"])
    chart = sentiment_trend(df)
    if df.empty:
        return Figure(chart, "No dated customer texts yet.")
    monthly = df.assign(w=df["n"] * df["sentiment"]).groupby("month", sort=True)[["w", "n"]].sum()
    monthly = monthly[monthly["n"] > 0]
    mean = monthly["w"] / monthly["n"]
    if len(mean) < 2:
        return Figure(
            chart, f"One month of texts so far ({mean.index[0]}: mean sentiment {mean.iloc[0]:+.2f})."
        )
    # the first and last three months (weighted by texts): one month alone is too noisy to quote
    span = min(3, len(monthly) // 2)
    early, late = monthly.iloc[:span], monthly.iloc[-span:]
    a, b = float(early["w"].sum() / early["n"].sum()), float(late["w"].sum() / late["n"].sum())
    way = "rose" if b - a > 0.05 else "fell" if b - a < -0.05 else "held steady"
    return Figure(
        chart,
        f"Mean sentiment {way} from {a:+.2f} ({_months(early.index)}) to {b:+.2f} ({_months(late.index)}), "
        f"on a −1…+1 scale.",
    )


def _months(index: pd.Index) -> str:
    return str(index[0]) if len(index) == 1 else f"{index[0]}…{index[-1]}"


def voice_by_segment(by_segment: Rows) -> Figure:
    """Mean sentiment of each theme in each segment (the voice report's ``segments``)."""

    chart = segment_heatmap([dict(s) for s in by_segment])
    scored = [s for s in by_segment if s.get("sentiment") is not None and s.get("texts")]
    if not scored:
        return Figure(chart, "No segment has scored texts yet.")
    worst = min(scored, key=lambda s: (float(s["sentiment"]), str(s["segment"])))
    best = max(scored, key=lambda s: (float(s["sentiment"]), str(s["segment"])))
    themes = [t for t in worst["themes"] if t["n"]]
    about = f", most often about {themes[0]['theme']}" if themes else ""
    return Figure(
        chart,
        f"{worst['segment']} write the most negatively (mean {float(worst['sentiment']):+.2f}{about}); "
        f"{best['segment']} the most positively ({float(best['sentiment']):+.2f}).",
    )


def svg_data_uri(figure: Figure) -> str:
    """The figure drawn as SVG, as a ``data:`` URI (no network, no browser)."""
    svg = vlc.vegalite_to_svg(figure.chart.to_dict())
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
