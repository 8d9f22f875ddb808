"""Value traits: recency, frequency, monetary value and the purchase rhythm.

An *order* is an ``order_id``; in files without order ids, the purchases of one day count as
one order (the convention of the customer-base literature). ``monetary`` is net of returns.
"""

from __future__ import annotations

import ibis

from personae.traits.inputs import TraitInputs


def order_aggregates(o: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    """Per-customer aggregates over orders (one row per order, one scan shared with the other
    modules; rows with ``is_return`` are return lines: they net ``monetary`` and count as
    returned lines, but are no order: not in frequency, first or last order)."""
    bought = ~o.is_return
    return {
        "frequency": o.count(where=bought),
        "order_lines": o.lines.sum(),
        "gross_revenue": o.gross_amount.sum(),
        "monetary": o.net_amount.sum(),
        "returned_lines": o.returned_lines.sum(),
        "discount_total": o.discount.sum(),
        "first_order_at": o.ordered_at.min(where=bought),
        "last_order_at": o.ordered_at.max(where=bought),
    }


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    """Traits computed from the aggregates (and ``created_at``) of one customer."""
    as_of = inputs.as_of_date
    has_orders = t.frequency.fill_null(0) > 0
    first, last = inputs.local(t.first_order_at).date(), inputs.local(t.last_order_at).date()
    span = last.delta(first, unit="day")
    return {
        "frequency": t.frequency.fill_null(0),
        "monetary": t.monetary.fill_null(0.0),
        "gross_revenue": t.gross_revenue.fill_null(0.0),
        "recency_days": as_of.delta(last, unit="day"),
        "aov": ibis.ifelse(has_orders, t.monetary / t.frequency, None),
        "days_since_first_order": as_of.delta(first, unit="day"),
        "tenure_days": as_of.delta(
            inputs.local(ibis.coalesce(t.created_at, t.first_order_at)).date(), unit="day"
        ),
        "avg_days_between_orders": ibis.ifelse(
            t.frequency > 1, span.cast("float64") / (t.frequency - 1), None
        ),
        "returns_ratio": ibis.ifelse(
            # return lines of purchases made before the data began can outnumber the lines
            t.order_lines > 0,
            ibis.least(t.returned_lines.cast("float64") / t.order_lines, 1.0),
            None,
        ),
        "discount_share": ibis.ifelse(
            (t.gross_revenue + t.discount_total) > 0,
            t.discount_total / (t.gross_revenue + t.discount_total),
            None,
        ),
    }
