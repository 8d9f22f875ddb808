"""The touch stream: every event and every order of a customer, as one time-ordered table.

Funnels, paths and touch counts all read the same stream, so a "step" means the same thing
everywhere: an event type (``product_view``, ``support_contact`` …) or ``order`` (one row per
order, lines summed, with its net value).

Columns: ``customer_id, at, step, channel, value, is_order`` and, when asked for, ``device``.
Ties (an event and an order stamped the same second, common in day-precision files) are
broken by putting events before orders — a customer browses, then buys — then by step and
channel, so positions are reproducible.
"""

from __future__ import annotations

import re
from datetime import timedelta

import ibis

from personae.errors import InputError

ORDER = "order"

#: Device when an event carries none in ``properties.device``: what its channel implies.
CHANNEL_DEVICE = {"app": "app", "web": "web", "store": "in_store", "in_store": "in_store"}


def device_of(events: ibis.Table) -> ibis.Value:
    """``properties.device`` when the tracking data has it (Segment's ``context.device.type``
    mapped by ingestion), else the device the channel implies, else ``other``."""
    given = events.properties.cast("json")["device"].str.lower()
    implied = events.channel.cases(*CHANNEL_DEVICE.items(), else_="other")
    return ibis.coalesce(given, implied)


def touch_stream(events: ibis.Table, orders_by_order: ibis.Table, *, with_device: bool = False) -> ibis.Table:
    """Events and orders as one stream (see the module docstring).

    Args:
        events: resolved events cut at the as-of date (``customer_id, occurred_at, type,
            channel`` and ``properties`` when ``with_device``).
        orders_by_order: one row per order (``customer_id, ordered_at, channel, net_amount``),
            e.g. :attr:`personae.traits.inputs.TraitInputs.orders_by_order`.
        with_device: add ``device`` (parses event properties: only when it is needed).
    """
    ev = {
        "customer_id": events.customer_id,
        "at": events.occurred_at,
        "step": events.type,
        "channel": events.channel,
        "value": ibis.null("float64"),
        "is_order": ibis.literal(0, "int8"),
    }
    o = orders_by_order
    od = {
        "customer_id": o.customer_id,
        "at": o.ordered_at,
        "step": ibis.literal(ORDER),
        "channel": o.channel,
        "value": o.net_amount.cast("float64"),
        "is_order": ibis.literal(1, "int8"),
    }
    if with_device:
        ev["device"] = device_of(events)
        od["device"] = o.channel.cases(*CHANNEL_DEVICE.items(), else_="other")
    return events.select(**ev).union(o.select(**od))


def ordered(touches: ibis.Table) -> ibis.Table:
    """Add ``pos``: the touch's 0-based position in its customer's history (ties broken as
    the module docstring says)."""
    w = ibis.window(
        group_by=touches.customer_id,
        order_by=[touches.at, touches.is_order, touches.step, touches.channel.fill_null("")],
    )
    return touches.mutate(pos=ibis.row_number().over(w))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(text: str, option: str = "--within") -> timedelta:
    """``"7d"`` → 7 days; hours (``h``), days (``d``) and weeks (``w``).

    Example:
        >>> parse_duration("48h"), parse_duration("2W"), parse_duration("1.5d")
        (datetime.timedelta(days=2), datetime.timedelta(days=14), datetime.timedelta(days=1, seconds=43200))
        >>> parse_duration("7 days")
        Traceback (most recent call last):
            ...
        personae.errors.InputError: --within '7 days': expected a positive duration like 48h, 7d or 2w \
(units: h (hours), d (days), w (weeks))
    """
    m = _DURATION.match(text or "")
    if not m or float(m.group(1)) <= 0:
        raise InputError(
            f"{option} {text!r}: expected a positive duration like 48h, 7d or 2w",
            hint="units: h (hours), d (days), w (weeks)",
        )
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def seconds_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """Seconds from ``earlier`` to ``later`` as a float (engine-neutral)."""
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast("float64")
