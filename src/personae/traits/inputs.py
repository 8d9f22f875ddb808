"""What every trait computation reads: the canonical tables as of a date, as Ibis tables.

Building the traits never looks past ``as_of``: rows stamped later are filtered out here,
once, so a build for a past date is reproducible.

Days are the shop's (the ``timezone`` setting, :mod:`personae.clock`): ``as_of`` is a day of
its calendar, its end and the start of every window are the instants its days begin, and the
order lines carry ``local_at``, their time on its wall clock, for everything that reads a
calendar or a clock (the day, the month, the daypart, holiday periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
from ibis import _

from personae.clock import DEFAULT_ZONE, day_start, local_clock
from personae.config.traits import TraitSettings
from personae.tables import is_return_line, net_amount


@dataclass(frozen=True)
class TraitInputs:
    """Resolved canonical tables (``customer_id`` is the unified id), cut at ``as_of``.

    Attributes:
        as_of: the last day included (a date).
        customers: one row per unified customer (attributes).
        orders: purchase lines with ``local_at`` (the shop's wall clock at ``ordered_at``),
            ``order_key`` (order id, or the local day when a file has none), ``day`` (local)
            and ``net_amount`` (0 for lines later refunded) added. Return lines (negative
            quantity or amount) are not purchases and are left out.
        orders_by_order: one row per order (lines summed), so per-customer order counts
            are plain counts rather than slow ``COUNT(DISTINCT …)``. Purchases only.
        returns_by_order: the return lines summed per customer and order key, shaped like
            ``orders_by_order`` (``lines`` 0, ``gross_amount`` 0, ``net_amount`` negative,
            ``returned_lines`` their count): what nets spend without counting as an order.
        events, surveys, consents, products: the canonical tables.
        stores, postcodes: the ``stores`` and ``postcodes`` tables (``None``: none loaded), for
            the place traits (:mod:`personae.traits.places`).
    """

    as_of: date
    customers: ibis.Table
    orders: ibis.Table
    orders_by_order: ibis.Table
    returns_by_order: ibis.Table
    #: the return lines themselves (columns of ``orders``)
    returns: ibis.Table
    events: ibis.Table
    surveys: ibis.Table
    consents: ibis.Table
    products: ibis.Table
    settings: TraitSettings
    timezone: str = DEFAULT_ZONE
    stores: ibis.Table | None = None
    postcodes: ibis.Table | None = None

    @property
    def as_of_date(self) -> ibis.Value:
        return ibis.date(self.as_of.isoformat())

    def days_before(self, days: int) -> ibis.Value:
        """Start (inclusive, an instant) of a window of ``days`` shop days ending on ``as_of``."""
        start = day_start(self.as_of - timedelta(days=days - 1), self.timezone)
        return ibis.timestamp(start.isoformat(sep=" "))

    def local(self, ts: ibis.Value) -> ibis.Value:
        """``ts`` (a stored instant) on the shop's wall clock: for ``.date()``, ``.hour()``, …."""
        return local_clock(ts, self.timezone)


ORDER_COLUMNS = (
    "customer_id",
    "order_id",
    "ordered_at",
    "channel",
    "store_id",
    "product_id",
    "category",
    "quantity",
    "amount",
    "discount",
    "returned",
)
EVENT_COLUMNS = ("customer_id", "occurred_at", "type", "channel", "product_id", "category")


def end_of(as_of: date, timezone: str = DEFAULT_ZONE) -> datetime:
    """The exclusive end of the shop's day ``as_of``: the instant (naive UTC) the next begins."""
    return day_start(as_of + timedelta(days=1), timezone)


def prepare(
    as_of: date,
    *,
    customers: ibis.Table,
    orders: ibis.Table,
    events: ibis.Table,
    surveys: ibis.Table,
    consents: ibis.Table,
    products: ibis.Table,
    settings: TraitSettings | None = None,
    timezone: str = DEFAULT_ZONE,
    stores: ibis.Table | None = None,
    postcodes: ibis.Table | None = None,
) -> TraitInputs:
    """Cut every table at the end of the shop's day ``as_of`` and add the derived order columns."""
    end = ibis.timestamp(end_of(as_of, timezone).isoformat(sep=" "))
    # narrow first: the engine may materialise these as shared CTEs, so carry only what
    # the trait modules read
    o = orders.select(*ORDER_COLUMNS).filter(_.ordered_at < end)
    o = o.mutate(local_at=local_clock(o.ordered_at, timezone))
    o = o.mutate(
        day=_.local_at.date(),
        order_key=ibis.coalesce(_.order_id, "day:" + _.local_at.date().cast("string")),
        net_amount=net_amount(o),
        gross_amount=_.amount,
    )
    back = is_return_line(o)
    r = o.filter(back)
    o = o.filter(~back)
    c = customers.filter(_.created_at.isnull() | (_.created_at < end))
    by_order = o.group_by(["customer_id", "order_key"]).aggregate(
        ordered_at=o.ordered_at.min(),
        local_at=o.local_at.min(),
        channel=o.channel.min(),
        lines=o.count(),
        returned_lines=o.returned.fill_null(False).ifelse(1, 0).sum(),
        gross_amount=o.gross_amount.sum(),
        net_amount=o.net_amount.sum(),
        discount=o.discount.fill_null(0.0).sum(),
    )
    returns_by_order = r.group_by(["customer_id", "order_key"]).aggregate(
        ordered_at=r.ordered_at.min(),
        local_at=r.local_at.min(),
        channel=r.channel.min(),
        lines=ibis.literal(0).cast("int64"),
        returned_lines=r.count(),
        gross_amount=ibis.literal(0.0),
        net_amount=r.net_amount.sum(),
        discount=ibis.literal(0.0),
    )
    return TraitInputs(
        as_of=as_of,
        customers=c,
        orders=o,
        orders_by_order=by_order,
        returns_by_order=returns_by_order,
        returns=r,
        events=events.select(*EVENT_COLUMNS).filter(_.occurred_at < end),
        surveys=surveys.filter(_.answered_at < end),
        consents=consents.filter(_.recorded_at < end),
        products=products,
        settings=settings or TraitSettings(),
        timezone=timezone,
        stores=stores,
        postcodes=postcodes,
    )
