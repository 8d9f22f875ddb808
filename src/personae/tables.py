"""Small Ibis table helpers shared by the domain and application code (no I/O)."""

from __future__ import annotations

from typing import Literal

import ibis


def join_on_customer(t: ibis.Table, other: ibis.Table, how: Literal["left", "inner"] = "left") -> ibis.Table:
    """``t`` with ``other``'s columns joined on ``customer_id``, keeping ``t``'s of any name both have.

    Ibis suffixes the right side's clashing columns with ``_right`` (the key among them on a left
    join); they are dropped, so the result has one ``customer_id`` and ``t``'s values win.
    """
    j = t.left_join(other, "customer_id") if how == "left" else t.join(other, "customer_id")
    return j.drop(*[c for c in j.columns if c.endswith("_right")])


def is_return_line(orders: ibis.Table) -> ibis.Value:
    """An order line that *is* a return: a negative quantity or amount (ingest stores both
    negative and sets ``returned``). Not a purchase: it never counts as an order, only its
    (negative) value nets in spend. :func:`personae.schema.line_is_return` for one row."""
    negative = orders.amount < 0
    if "quantity" in orders.columns:  # a narrow selection of order lines may lack it
        negative = negative | (orders.quantity.fill_null(0) < 0)
    return negative


def net_amount(orders: ibis.Table) -> ibis.Value:
    """A line's value net of returns: 0 for a purchase later refunded (``returned`` with a
    non-negative amount), the negative amount of a return line, else the amount.
    :func:`personae.schema.line_net` for one row."""
    refunded = orders.returned.fill_null(False) & ~is_return_line(orders)
    return ibis.ifelse(refunded, 0.0, orders.amount.cast("float64"))
