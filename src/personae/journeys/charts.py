"""Funnel and flow (Sankey) charts, as Altair specifications.

Domain code: the charts are data, saved by the caller (``.png`` through vl-convert, ``.svg``,
``.html``…), so the report and the dashboard draw the same pictures as the CLI. Vega-Lite has
no Sankey mark, so :func:`sankey_layout` places nodes and links in plain Python and the links
are drawn as areas along a smooth curve.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from personae.journeys.paths import NO_TOUCHES, SEP

if TYPE_CHECKING:
    # altair is imported inside the chart functions: it takes ~0.4 s to import and the CLI
    # imports this module at start-up.
    import altair as alt


def funnel_chart(report: dict[str, Any], title: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Horizontal bars per step (one panel per group), labelled with customers and conversion."""
    rows = []
    for g in report["groups"]:
        for i, s in enumerate(g["steps"]):
            conv = s["conversion_from_start"]
            rows.append(
                {
                    "group": g["group"],
                    "order": i,
                    "step": f"{i + 1}. {s['step']}",
                    "customers": s["customers"],
                    "label": f"{s['customers']:,}" + ("" if conv is None else f" ({conv:.0%})"),
                }
            )
    data = pd.DataFrame(rows)
    import altair as alt

    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=alt.SortField("order"), title=None),
        x=alt.X("customers:Q", title="customers"),
    )
    bars = base.mark_bar(color="#4c78a8")
    text = base.mark_text(align="left", dx=3).encode(text="label:N")
    chart = (bars + text).properties(width=420, height=alt.Step(28))
    many = len(report["groups"]) > 1
    layered = chart.facet(row=alt.Row("group:N", title=None)) if many else chart
    return layered.properties(title=title or report.get("title", "funnel"))


def sankey_layout(
    flows: Sequence[tuple[Sequence[str], int]], gap: float = 0.02
) -> dict[str, list[dict[str, Any]]]:
    """Nodes and links of a flow diagram from weighted sequences.

    Each sequence is a list of labels (one column per position); a node is (position,
    label), its height the customers passing through it. Heights are shares of all customers
    (the columns are stacked from the top, biggest node first, ``gap`` apart). Links leave a
    node and enter the next in the order of their targets/sources, so bands do not cross
    inside a node.
    """
    total = sum(n for _, n in flows) or 1
    node_size: dict[tuple[int, str], float] = defaultdict(float)
    link_size: dict[tuple[int, str, str], float] = defaultdict(float)
    for seq, n in flows:
        for i, label in enumerate(seq):
            node_size[(i, label)] += n / total
            if i + 1 < len(seq):
                link_size[(i, label, seq[i + 1])] += n / total
    top: dict[tuple[int, str], float] = {}
    columns: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for key in node_size:
        columns[key[0]].append(key)
    for keys in columns.values():
        y = 0.0
        for key in sorted(keys, key=lambda k: (-node_size[k], k[1])):
            top[key] = y
            y += node_size[key] + gap
    out_y = dict(top)
    in_y = dict(top)
    links = []
    order = sorted(link_size, key=lambda k: (k[0], top[(k[0], k[1])], top[(k[0] + 1, k[2])]))
    for col, src, dst in order:
        w = link_size[(col, src, dst)]
        s0, d0 = out_y[(col, src)], in_y[(col + 1, dst)]
        out_y[(col, src)] += w
        in_y[(col + 1, dst)] += w
        links.append({"col": col, "source": src, "target": dst, "size": w, "y0": s0, "y1": d0})
    nodes = [{"col": k[0], "label": k[1], "y": top[k], "size": v} for k, v in node_size.items()]
    return {"nodes": nodes, "links": links}


def flow_chart(
    report: dict[str, Any], top: int = 10, title: str | None = None
) -> alt.LayerChart | alt.FacetChart:
    """A Sankey diagram of the top paths of a paths report, each ending in its outcome."""
    import altair as alt

    outcome = report["outcome"]
    flows: list[tuple[list[str], int]] = []
    for p in report["common_paths"][:top]:
        steps = [] if p["path"] == NO_TOUCHES else p["path"].split(SEP)
        if p["reached"]:
            flows.append(([*steps, f"✓ {outcome}"], p["reached"]))
        if p["customers"] - p["reached"]:
            flows.append(([*steps, f"✗ no {outcome}"], p["customers"] - p["reached"]))
    if not flows:  # nobody on any path: say so rather than draw an empty diagram
        empty = pd.DataFrame({"text": [f"No paths to {outcome} in this period"]})
        return alt.layer(
            alt.Chart(empty).mark_text(size=14).encode(text="text:N"),
        ).properties(title=title or f"Paths to {outcome}", width=400, height=60)
    layout = sankey_layout(flows)
    width = 0.25
    pts = []
    for i, link in enumerate(layout["links"]):
        x0, x1 = link["col"] + width, link["col"] + 1
        for j in range(21):
            u = j / 20
            s = (1 - math.cos(math.pi * u)) / 2  # smooth step from source to target
            y = link["y0"] + (link["y1"] - link["y0"]) * s
            pts.append(
                {"link": i, "x": x0 + (x1 - x0) * u, "y": y, "y2": y + link["size"], "target": link["target"]}
            )
    nodes = pd.DataFrame(
        [
            {
                **n,
                "x": n["col"],
                "x2": n["col"] + width,
                "y2": n["y"] + n["size"],
                "mid": n["y"] + n["size"] / 2,
            }
            for n in layout["nodes"]
        ]
    )
    y_scale = alt.Scale(reverse=True, domain=[0, max(float(nodes["y2"].max()), 1.0)])
    x_axis = alt.X("x:Q", axis=None)
    bands = (
        alt.Chart(pd.DataFrame(pts))
        .mark_area(opacity=0.35, color="#4c78a8")
        .encode(x=x_axis, y=alt.Y("y:Q", axis=None, scale=y_scale), y2="y2:Q", detail="link:N")
    )
    boxes = (
        alt.Chart(nodes)
        .mark_rect(color="#1f3b57")
        .encode(x=x_axis, x2="x2:Q", y=alt.Y("y:Q", axis=None, scale=y_scale), y2="y2:Q")
    )
    labels = (
        alt.Chart(nodes)
        .mark_text(align="left", dx=4, fontSize=10)
        .encode(x="x2:Q", y=alt.Y("mid:Q", axis=None, scale=y_scale), text="label:N")
    )
    chart = alt.layer(bands, boxes, labels).properties(width=900, height=480)
    return chart.properties(
        title=title or f"paths to {outcome} (top {min(top, len(report['common_paths']))})"
    )
