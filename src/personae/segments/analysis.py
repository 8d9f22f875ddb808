"""Overlap between segments and migration between snapshots — and the migration flow chart.

Domain functions: Ibis expressions over a snapshot table (``segment, as_of, customer_id``) and
plain-data summaries of their results. Segment names are passed as data (memtables), never
as SQL text.

* **Overlap**: for every pair of chosen segments, the members they share, and the Jaccard
  index ``shared / (|A| + |B| − shared)``.
* **Migration**: each customer's segment on one date and on another, among a family of
  segments (the RFM segments, the lifecycle stages, the value tiers, or names you give —
  when a customer is in several, the first in the given order counts); ``(none)`` stands for
  "in none of them" (e.g. not a customer yet on the earlier date).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import ibis
import pandas as pd
import pyarrow as pa

from personae.journeys.charts import sankey_layout

if TYPE_CHECKING:
    import altair as alt

NONE = "(none)"


def _names(names: Sequence[str], with_rank: bool = False) -> ibis.Table:
    data: dict[str, Any] = {"segment": pa.array(list(names), pa.string())}
    if with_rank:
        data["_rank"] = pa.array(range(len(names)), pa.int32())
    return ibis.memtable(pa.table(data))


def overlap_pairs(snapshot: ibis.Table, names: Sequence[str]) -> ibis.Table:
    """``a, b, shared`` for every ordered pair of ``names`` with shared members (a == b: size)."""
    chosen = snapshot.semi_join(_names(names), "segment").select("segment", "customer_id")
    left = chosen.rename(a="segment")
    right = chosen.rename(b="segment")
    j = left.join(right, "customer_id")
    return j.group_by(["a", "b"]).aggregate(shared=j.customer_id.count())


def overlap_report(pairs: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Sizes, the matrix of shared members, and every pair with its Jaccard index.

    Args:
        pairs: rows of :func:`overlap_pairs` (``a, b, shared``).
    """
    shared = {(r["a"], r["b"]): int(r["shared"]) for r in pairs}
    size = {n: shared.get((n, n), 0) for n in names}
    matrix = {a: {b: shared.get((a, b), 0) for b in names} for a in names}
    rows: list[dict[str, Any]] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            n = shared.get((a, b), 0)
            union = size[a] + size[b] - n
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "shared": n,
                    "jaccard": round(n / union, 4) if union else 0.0,
                    "share_of_a": round(n / size[a], 4) if size[a] else 0.0,
                    "share_of_b": round(n / size[b], 4) if size[b] else 0.0,
                }
            )
    rows.sort(key=lambda r: (-r["jaccard"], -r["shared"], r["a"], r["b"]))
    return {"segments": [{"name": n, "members": size[n]} for n in names], "matrix": matrix, "pairs": rows}


def assignments(snapshot: ibis.Table, names: Sequence[str]) -> ibis.Table:
    """``customer_id, segment``: each customer's first segment among ``names``."""
    ranks = _names(names, with_rank=True)
    j = snapshot.join(ranks, "segment")
    best = j.group_by("customer_id").aggregate(_rank=j._rank.min())
    return best.join(ranks, "_rank").select("customer_id", "segment")


def migration_flows(before: ibis.Table, after: ibis.Table, names: Sequence[str]) -> ibis.Table:
    """``from_segment, to_segment, customers`` between two snapshots (one date each)."""
    a = assignments(before, names).rename(from_segment="segment")
    b = assignments(after, names).rename(to_segment="segment", customer_id_b="customer_id")
    j = a.outer_join(b, a.customer_id == b.customer_id_b)
    j = j.select(from_segment=j.from_segment.fill_null(NONE), to_segment=j.to_segment.fill_null(NONE))
    return j.group_by(["from_segment", "to_segment"]).aggregate(customers=j.from_segment.count())


def migration_report(flows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Flows with their share of the starting segment, and totals of who stayed and moved.

    Args:
        flows: rows of :func:`migration_flows` (``from_segment, to_segment, customers``).
    """
    order = {n: i for i, n in enumerate([*names, NONE])}
    rows: list[dict[str, Any]] = sorted(
        ({"from": r["from_segment"], "to": r["to_segment"], "customers": int(r["customers"])} for r in flows),
        key=lambda r: (order.get(r["from"], 99), order.get(r["to"], 99)),
    )
    out_of: dict[str, int] = {}
    for r in rows:
        out_of[r["from"]] = out_of.get(r["from"], 0) + r["customers"]
    for r in rows:
        r["share_of_from"] = round(r["customers"] / out_of[r["from"]], 4)
    stayed = sum(r["customers"] for r in rows if r["from"] == r["to"])
    return {"flows": rows, "stayed": stayed, "moved": sum(r["customers"] for r in rows) - stayed}


def migration_chart(report: dict[str, Any], names: Sequence[str], title: str) -> alt.LayerChart:
    """A flow (Sankey) diagram: the earlier snapshot's segments on the left, the later one's on
    the right, one band per ``from → to`` move whose thickness is its number of customers.

    A flow answers "where did my Champions go?" at a glance, which a matrix of numbers does
    not. Vega-Lite has no Sankey mark, so the nodes and bands are placed by
    :func:`personae.journeys.charts.sankey_layout` (shared with the journey flows) and each
    band is drawn as an area along a smooth curve. Every node is labelled with its customers
    and every band carries ``from, to, customers`` (tooltip; the count is also written where
    the band starts when it is wide enough to hold it), so the saved file states the flows,
    not just their shapes.

    Args:
        report: :func:`migration_report` output (``flows``: ``from, to, customers`` rows).
        names: the family's segments, in order (colours follow it; ``(none)`` comes last).
        title: the chart title.
    """
    import altair as alt  # lazy: charts are drawn by a few commands, the import costs ~0.4 s

    flows = [((str(f["from"]), str(f["to"])), int(f["customers"])) for f in report["flows"] if f["customers"]]
    if not flows:  # nobody in the family on either date: say so rather than draw nothing
        empty = pd.DataFrame({"text": ["No customer was in these segments on either date"]})
        return alt.LayerChart(
            layer=[alt.Chart(empty).mark_text(size=14).encode(text="text:N")],
            title=title,
            width=400,
            height=60,
        )
    total = sum(n for _, n in flows)
    layout = sankey_layout(flows, gap=0.02)
    box = 0.05  # node width, in the x units where the left column starts at 0 and the right ends at 1
    bands: list[dict[str, Any]] = []
    for i, link in enumerate(layout["links"]):
        customers = round(link["size"] * total)
        for j in range(_CURVE_POINTS + 1):
            u = j / _CURVE_POINTS
            y = link["y0"] + (link["y1"] - link["y0"]) * (1 - math.cos(math.pi * u)) / 2
            bands.append(
                {
                    "band": i,
                    "x": box + (1 - 2 * box) * u,
                    "y": y,
                    "y2": y + link["size"],
                    "from": link["source"],
                    "to": link["target"],
                    "customers": customers,
                }
            )
    band_labels = [  # where the band leaves its segment, so labels of one node stack, never cross
        {"x": box + 0.01, "y": link["y0"] + link["size"] / 2, "text": f"{round(link['size'] * total):,}"}
        for link in layout["links"]
        if link["size"] >= _LABELLED_BAND
    ]
    nodes = pd.DataFrame(
        [
            {
                "x": 0.0 if n["col"] == 0 else 1 - box,
                "x2": box if n["col"] == 0 else 1.0,
                "y": n["y"],
                "y2": n["y"] + n["size"],
                "mid": n["y"] + n["size"] / 2,
                "tx": -0.01 if n["col"] == 0 else 1.01,
                "side": "before" if n["col"] == 0 else "after",
                "segment": n["label"],
                "customers": round(n["size"] * total),
                "caption": f"{n['label']} ({round(n['size'] * total):,})",
            }
            for n in layout["nodes"]
        ]
    )
    order = [*names, NONE]
    colour = alt.Color("from:N", legend=None, scale=alt.Scale(domain=order, scheme="tableau20"))
    ys = alt.Scale(reverse=True, domain=[0, max(float(nodes["y2"].max()), 1.0)])
    xs = alt.Scale(domain=[-0.55, 1.55])
    x = alt.X("x:Q", axis=None, scale=xs)
    drawn_bands = (
        alt.Chart(pd.DataFrame(bands))
        .mark_area(opacity=0.45)
        .encode(
            x=x,
            y=alt.Y("y:Q", axis=None, scale=ys),
            y2="y2:Q",
            detail="band:N",
            color=colour,
            tooltip=["from:N", "to:N", alt.Tooltip("customers:Q", format=",")],
        )
    )
    boxes = (
        alt.Chart(nodes)
        .mark_rect(color="#1f3b57")
        .encode(
            x=x,
            x2="x2:Q",
            y=alt.Y("y:Q", axis=None, scale=ys),
            y2="y2:Q",
            tooltip=["segment:N", alt.Tooltip("customers:Q", format=",")],
        )
    )
    captions = [
        alt.Chart(nodes[nodes["side"] == side])
        .mark_text(align=align, fontSize=11)
        .encode(x=alt.X("tx:Q", scale=xs), y=alt.Y("mid:Q", scale=ys), text="caption:N")
        for side, align in _CAPTION_SIDES
    ]
    layers: list[alt.Chart] = [drawn_bands, boxes, *captions]
    if band_labels:
        layers.append(
            alt.Chart(pd.DataFrame(band_labels))
            .mark_text(fontSize=10, color="#333333", align="left")
            .encode(x=alt.X("x:Q", scale=xs), y=alt.Y("y:Q", scale=ys), text="text:N")
        )
    height = max(260, 30 * max(sum(1 for n in layout["nodes"] if n["col"] == c) for c in (0, 1)))
    return alt.LayerChart(layer=layers, title=title, width=640, height=height)


#: Node captions: right-aligned left of the earlier column, left-aligned right of the later one.
_CAPTION_SIDES: tuple[tuple[str, Literal["left", "right"]], ...] = (("before", "right"), ("after", "left"))


#: Points along each band's curve (more: smoother, bigger file).
_CURVE_POINTS = 24

#: Bands at least this share of all customers have their count written on them.
_LABELLED_BAND = 0.04
