"""``personae report``: gather every section, draw its charts and write one self-contained HTML file.

Charts are rendered to SVG by vl-convert (Vega-Lite compiled and drawn in-process, no browser
and no network) and inlined as ``data:`` images, so the file opens anywhere, offline, and
mails as one attachment. Inline images rather than inline ``<svg>`` elements: Vega's SVGs
reuse element ids (clip paths, gradients), which would clash with each other in one document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

import personae
from personae.app import charts
from personae.app.charts import Figure, svg_data_uri
from personae.app.report import Gathered, gather, overview
from personae.config import Settings
from personae.coverage import Coverage
from personae.errors import InputError
from personae.store import Store

#: The file the report is written to, inside ``--out``.
REPORT_FILE = "report.html"

#: A figure, or one line saying why a part of a section has none.
Panel = Figure | str


@dataclass(frozen=True)
class SectionSpec:
    """How one section reads: its title, what it shows, and how its data becomes figures."""

    title: str
    about: str
    figures: Callable[[Mapping[str, Any]], list[Panel]]


def _journeys(d: Mapping[str, Any]) -> list[Panel]:
    return [
        charts.journey_funnel(d["funnel"]) if "funnel" in d else d["funnel_absent"],
        charts.journey_paths(d["paths"]) if "paths" in d else d["paths_absent"],
    ]


def _regions(d: Mapping[str, Any]) -> list[Panel]:
    out: list[Panel] = []
    out.append(charts.segments_by_region(d["regions"], d["order"]) if d["regions"] else d["regions_absent"])
    out.append(charts.store_performance(d["stores"]) if "stores" in d else d["stores_absent"])
    return out


def _voice(d: Mapping[str, Any]) -> list[Panel]:
    out: list[Panel] = [charts.voice_themes(d["themes"]), charts.voice_trend(d["themes"])]
    out.append(
        charts.voice_by_segment(d["segments"]) if d["segments"] else "No segment snapshots to split texts by."
    )
    return out


def _with_model(figure: charts.Figure, d: Mapping[str, Any]) -> charts.Figure:
    """The CLV chart's takeaway followed by the fitted model's parameters in words, if any."""
    if not d.get("model"):
        return figure
    return figure._replace(takeaway=f"{figure.takeaway} The fitted model: {d['model']}.")


SECTIONS: dict[str, SectionSpec] = {
    "segments": SectionSpec(
        "Segment sizes and revenue share",
        "Each RFM segment's share of customers beside its share of revenue (net of returns).",
        lambda d: [charts.segment_share(d["rows"], d["order"])],
    ),
    "clv": SectionSpec(
        "Customer lifetime value",
        "Predicted 12-month value (BG/NBD + Gamma-Gamma) per RFM segment, and what each value tier holds.",
        lambda d: [_with_model(charts.clv_distribution(d["by_segment"], d["by_tier"], d["order"]), d)],
    ),
    "rfm": SectionSpec(
        "RFM grid",
        "Customers by recency and by combined frequency-monetary score; each cell names its usual segment.",
        lambda d: [charts.rfm_grid(d["cells"])],
    ),
    "funnels": SectionSpec(
        "Lifecycle funnel",
        "How far customers get along the journey stages (awareness → advocacy), with the drop-off at each.",
        lambda d: [charts.funnel_dropoffs(d["lifecycle"], "Lifecycle funnel (journey stage)")],
    ),
    "journeys": SectionSpec(
        "Customer journeys",
        "The browse-to-order funnel (each step within 7 days of the product view) and the most common "
        "paths of touches that lead to a first order, with how many of those who took each path bought.",
        _journeys,
    ),
    "experience": SectionSpec(
        "Experience by segment",
        "NPS, CSAT, CES and trust per RFM segment with confidence intervals; grey: too few answers to judge.",
        lambda d: [charts.experience_by_segment(d["groups"], d["overall"], d["confidence"])],
    ),
    "migration": SectionSpec(
        "Segment migration",
        "Where the customers of each RFM segment went between the two latest snapshots.",
        lambda d: [charts.migration_flow(d)],
    ),
    "clusters": SectionSpec(
        "Cluster map",
        "Customers on the two main directions of the clustering features, coloured by their cluster.",
        lambda d: [charts.cluster_map(d["points"], d["clusters"], (d["variance"][0], d["variance"][1]))],
    ),
    "regions": SectionSpec(
        "Regions and stores",
        "The segment mix of each region; each store's sales per m² beside the value of its home customers.",
        _regions,
    ),
    "recommendations": SectionSpec(
        "Recommendation evaluation",
        "Time-split offline evaluation: each customer's latest purchases are hidden and predicted.",
        lambda d: [charts.recommendation_evaluation(d)],
    ),
    "impact": SectionSpec(
        "Playbook impact",
        "Treated against held-out customers after each activation: conversion and revenue, with intervals.",
        lambda d: [charts.playbook_impact(d["reports"])],
    ),
    "voice": SectionSpec(
        "Voice of the customer",
        "What customers write about (reviews, survey comments, support notes): themes, trend and segments.",
        _voice,
    ),
}


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("personae.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2")


def _section_view(g: Gathered) -> dict[str, Any]:
    spec = SECTIONS[g.key]
    view: dict[str, Any] = {
        "key": g.key,
        "title": spec.title,
        "about": spec.about,
        "panels": [],
        "left_out": None,
        "warnings": [],
    }
    if g.absent is not None:
        view["absent"] = g.absent
        return view
    view["absent"] = None
    view["left_out"] = Coverage.from_json(g.data["left_out"]).sentence() if g.data.get("left_out") else None
    view["warnings"] = [str(w) for w in g.data.get("warnings", [])]
    for panel in spec.figures(g.data):
        if isinstance(panel, str):
            view["panels"].append({"takeaway": panel, "image": None})
        else:
            view["panels"].append({"takeaway": panel.takeaway, "image": svg_data_uri(panel)})
    return view


def write_report(
    store: Store,
    out_dir: Path,
    settings: Settings,
    *,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/report.html`` and return its path and every section's takeaways."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: is a file", hint="give a directory for the report")
    report = progress or (lambda step, fraction: None)
    started = time.perf_counter()
    head = overview(store)

    def gathering(step: str, fraction: float) -> None:
        report(f"reading {step}", 0.6 * fraction)

    gathered = gather(store, settings, gathering)
    views = []
    for i, g in enumerate(gathered):
        report(f"drawing {g.key}", 0.6 + 0.4 * i / len(gathered))
        views.append(_section_view(g))
    html = _template().render(
        overview=head,
        sections=views,
        version=personae.__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report
    report("done", 1.0)
    return {
        "report": str(path),
        "as_of": head["as_of"],
        "seconds": round(time.perf_counter() - started, 1),
        "sections": [
            {
                "key": v["key"],
                "title": v["title"],
                "absent": v["absent"],
                "left_out": v["left_out"],
                "warnings": v["warnings"],
                "takeaways": [p["takeaway"] for p in v["panels"]] if v["absent"] is None else [v["absent"]],
            }
            for v in views
        ],
    }
