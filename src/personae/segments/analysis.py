"""Overlap between segments and migration between snapshots — and the migration chart.

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

from collections.abc import Sequence
from typing import Any

import altair as alt
import ibis
import pandas as pd
import pyarrow as pa

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
    """A from → to heatmap with the number of customers in each cell."""
    data = pd.DataFrame(report["flows"] or [{"from": NONE, "to": NONE, "customers": 0, "share_of_from": 0.0}])
    order = [*names, NONE]
    base = alt.Chart(data).encode(
        x=alt.X("to:N", sort=order, title="to (later snapshot)", axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("from:N", sort=order, title="from (earlier snapshot)"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color(
            "share_of_from:Q", title="share of 'from'", scale=alt.Scale(scheme="blues", domain=[0, 1])
        ),
        tooltip=["from:N", "to:N", "customers:Q", alt.Tooltip("share_of_from:Q", format=".1%")],
    )
    text = base.mark_text(fontSize=10).encode(
        text="customers:Q",
        color=alt.condition(alt.datum.share_of_from > 0.5, alt.value("white"), alt.value("black")),
    )
    return (heat + text).properties(
        title=title, width=max(240, 36 * len(order)), height=max(200, 28 * len(order))
    )
