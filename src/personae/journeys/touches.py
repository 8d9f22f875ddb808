"""How many touches before buying: interactions and distinct touchpoints before each order.

Every order closes a **gap**: the touches since the previous order (for the first order:
since the start of the history). For each gap we count

* ``interactions`` — events in the gap (every event, brand-sent messages included, as the
  ``interactions_before_first_purchase`` trait does), and
* ``touchpoints`` — distinct *(event type, channel)* pairs in it (``product_view`` on the web
  and in the app are two touchpoints).

Gaps with no event count as 0. ``kind`` is ``first`` for the gap before the first order and
``repeat`` for the gaps between orders. Touches after the last order close no gap and are
left out (they are in the paths to churn instead).

Distributions, not only means: quartiles, the 90th percentile and a histogram in the
buckets of :data:`BUCKETS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from personae.journeys.touchpoints import ordered

#: Histogram buckets (inclusive lower, inclusive upper; ``None`` = no upper bound).
BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 0), (1, 1), (2, 3), (4, 5), (6, 10), (11, 20), (21, None))


def bucket_label(lo: int, hi: int | None) -> str:
    """How a histogram bucket is labelled.

    Example:
        >>> [bucket_label(lo, hi) for lo, hi in BUCKETS]
        ['0', '1', '2-3', '4-5', '6-10', '11-20', '21+']
    """
    return f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


def gaps(touches: ibis.Table) -> ibis.Table:
    """One row per order: ``customer_id, order_number`` (1 = first), ``kind``, the order's
    ``channel`` and ``value``, ``at``, ``interactions`` and ``touchpoints`` in its gap."""
    t = ordered(touches)
    w = ibis.cumulative_window(group_by=t.customer_id, order_by=t.pos)
    t = t.mutate(orders_before=(t.is_order.cast("int64").sum().over(w) - t.is_order.cast("int64")))
    ev = t.filter(t.is_order == 0)
    per_gap = ev.group_by(["customer_id", "orders_before"]).aggregate(
        interactions=ev.count(),
        touchpoints=(ev.step + "@" + ev.channel.fill_null("")).nunique(),
    )
    o = t.filter(t.is_order == 1).select("customer_id", "orders_before", "channel", "value", "at")
    j = o.left_join(per_gap, ["customer_id", "orders_before"])
    n = j.orders_before + 1
    return j.select(
        customer_id=j.customer_id,
        order_number=n,
        kind=ibis.ifelse(n == 1, "first", "repeat"),
        channel=j.channel,
        value=j.value,
        at=j.at,
        interactions=j.interactions.fill_null(0),
        touchpoints=j.touchpoints.fill_null(0),
    )


def distribution(g: ibis.Table, group_by: Sequence[str] = ()) -> ibis.Table:
    """Per ``kind`` (and group): orders, customers, mean/quartiles/p90 of interactions and
    touchpoints, and ``h0 … h6`` — how many gaps fall in each bucket of interactions."""
    aggs: dict[str, ibis.Value] = {"orders": g.count(), "customers": g.customer_id.nunique()}
    for col in ("interactions", "touchpoints"):
        x = g[col].cast("float64")
        aggs[f"{col}_mean"] = x.mean()
        for q, name in ((0.25, "p25"), (0.5, "median"), (0.75, "p75"), (0.9, "p90")):
            aggs[f"{col}_{name}"] = x.quantile(q)
    for i, (lo, hi) in enumerate(BUCKETS):
        inside = g.interactions >= lo if hi is None else g.interactions.between(lo, hi)
        aggs[f"h{i}"] = g.count(where=inside)
    return g.group_by(["kind", *group_by]).aggregate(**aggs)


def summary_row(row: dict[str, Any], group_by: Sequence[str] = ()) -> dict[str, Any]:
    """One result row as the report's plain data."""

    def num(v: Any) -> float | None:
        return None if v is None or v != v else round(float(v), 2)

    out: dict[str, Any] = {k: row[k] for k in ("kind", *group_by)}
    out |= {"orders": int(row["orders"]), "customers": int(row["customers"])}
    for col in ("interactions", "touchpoints"):
        out[col] = {q: num(row[f"{col}_{q}"]) for q in ("mean", "p25", "median", "p75", "p90")}
    out["histogram"] = [
        {"interactions": bucket_label(lo, hi), "orders": int(row[f"h{i}"])}
        for i, (lo, hi) in enumerate(BUCKETS)
    ]
    return out
