"""Affinities: which categories, brands and tags (e.g. ``team:Lakers``) each customer favours —
and their habits: price band, purchase channel and time of day (the preference profile, or
micro-segment, of ``personae preferences show``).

Kinds (the ``kind`` column):

* ``category``, ``brand``, ``tag`` — from the order line and its product;
* ``price_band`` — ``budget``, ``mid`` or ``premium``: the line's unit price against the
  thirds (approximate 1/3 and 2/3 quantiles) of unit prices bought in its category up to
  the as-of date, so "premium" means premium *for that category*; a category whose prices
  do not vary gives no price band at all (no price signal);
* ``channel`` — the channel of the order (web, app, store, phone, marketplace; an order whose
  lines name several channels counts under the first in alphabetical order, as in
  ``orders_<channel>``);
* ``daypart`` — ``morning`` (5–11 h), ``afternoon`` (12–16 h), ``evening`` (17–21 h) or
  ``night`` (22–4 h) of the order time (its first line's) on the shop's clock (the
  ``timezone`` setting); orders stamped exactly at local midnight are left out, because
  date-only sources put every order there.

One row per customer and affinity, with the evidence and a strength in [0, 1] that separates a
one-off purchase from a consistent habit:

* ``months_recent``: distinct calendar months (the shop's) with a purchase among the last 6
  (the as-of date's month and the 5 before it);
* ``consistency`` = min(months_recent, 3) / 3 — bought in 3+ distinct months of the last 6
  is fully consistent; older history counts at half weight (``min(months_total, 6) / 12``);
* ``share``: the share of the customer's orders that contain it;
* ``strength`` = consistency × (0.5 + 0.5 × share).
* ``signal``: ``strong`` (3+ of the last 6 months), ``medium`` (bought in 2+ months), ``weak``
  (bought once).

So diapers bought once score at most 0.33 (weak); every month for six months scores ≥ 0.5
and is strong.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from personae.traits.inputs import TraitInputs

AFFINITY_KINDS = ("category", "brand", "tag", "price_band", "channel", "daypart")
PRICE_BANDS = ("budget", "mid", "premium")
DAYPARTS = ("morning", "afternoon", "evening", "night")


def _lines_with_attributes(inputs: TraitInputs) -> ibis.Table:
    o, p = inputs.orders, inputs.products
    p = p.select(product_id="product_id", p_category="category", brand="brand", tags="tags")
    j = o.left_join(p, o.product_id == p.product_id)
    return j.select(
        "customer_id",
        "order_key",
        "ordered_at",
        "local_at",
        "net_amount",
        "channel",
        category=ibis.coalesce(j.category, j.p_category),
        brand=j.brand,
        tags=j.tags,
        unit_price=j.gross_amount.cast("float64") / ibis.greatest(j.quantity.fill_null(1), 1),
    )


def _price_band(lines: ibis.Table) -> ibis.Table:
    """Lines with a category and a price, each with its ``price_band`` within the category.

    Only categories whose prices vary have bands: where every line costs the same (a ratings
    file ingested with ``amount=0``, a one-price shop) there is no price signal, and calling
    everyone "premium" would invent one. When a third of the lines or more share the typical
    price (the two cuts meet), that price is ``mid`` and only dearer lines are ``premium``.
    """
    priced = lines.filter(lines.category.notnull() & lines.unit_price.notnull())
    cuts = priced.group_by("category").aggregate(
        _low=priced.unit_price.approx_quantile(1 / 3),
        _high=priced.unit_price.approx_quantile(2 / 3),
        _min=priced.unit_price.min(),
        _max=priced.unit_price.max(),
    )
    cuts = cuts.filter(cuts._max > cuts._min)
    j = priced.join(cuts, "category")
    premium = (j.unit_price > j._high) | ((j.unit_price >= j._high) & (j._high > j._low))
    band = ibis.cases((j.unit_price < j._low, "budget"), (premium, "premium"), else_="mid")
    return j.mutate(price_band=band)


def _daypart(at: ibis.Value) -> ibis.Value:
    """The daypart of a wall-clock time (pass the shop's local time, not the stored UTC)."""
    hour = at.hour()
    return ibis.cases(
        ((hour >= 5) & (hour < 12), "morning"),
        ((hour >= 12) & (hour < 17), "afternoon"),
        ((hour >= 17) & (hour < 22), "evening"),
        else_="night",
    )


def affinity_sources(inputs: TraitInputs) -> dict[str, ibis.Table]:
    """What every kind reads: order lines with product attributes, and one row per order.

    Worth computing once (``Store.staged``) when the kinds run one after another."""
    return {"lines": _lines_with_attributes(inputs), "orders": inputs.orders_by_order}


def affinity_parts(inputs: TraitInputs, sources: Mapping[str, ibis.Table] | None = None) -> list[ibis.Table]:
    """The long affinity table (``customer_id, kind, value, orders, spend, months_recent,
    months_total, last_at, share, strength, signal``) as one expression per kind, to be
    computed one at a time (``Store.replace_in_parts``): each kind is a group-by into millions
    of groups, and one kind's hash tables at a time fit in memory where all six at once spill
    to disk."""
    src = sources if sources is not None else affinity_sources(inputs)
    lines = src["lines"]
    base = ("customer_id", "order_key", "ordered_at", "local_at", "net_amount")
    tagged = lines.filter(lines.tags.notnull()).mutate(value=lines.tags.unnest())
    banded = _price_band(lines)
    per_line = {
        "category": lines.filter(lines.category.notnull()).select(*base, value=lines.category),
        "brand": lines.filter(lines.brand.notnull()).select(*base, value=lines.brand),
        "tag": tagged.select(*base, value=tagged.value),
        "price_band": banded.select(*base, value=banded.price_band),
    }
    # Three plain group-bys instead of COUNT(DISTINCT …): distinct aggregates are the slowest
    # thing an engine does, and orders and months nest (an order falls in one month).
    per_order: dict[str, ibis.Table] = {}
    for kind, u in per_line.items():
        per_order[kind] = u.group_by(["customer_id", "value", "order_key"]).aggregate(
            month=u.local_at.min().truncate("M"), spend=u.net_amount.sum(), last_at=u.ordered_at.max()
        )
    # channel and daypart belong to the order, not the line: they come straight from the
    # one-row-per-order table, without the first (largest) group-by
    o = src["orders"]
    sold = o.filter(o.channel.notnull())
    per_order["channel"] = _order_rows(sold, sold.channel)
    timed = o.filter(o.local_at != o.local_at.truncate("D"))
    per_order["daypart"] = _order_rows(timed, _daypart(timed.local_at))
    totals = o.group_by("customer_id").aggregate(total_orders=o.count())
    return [_summarise(kind, per_order[kind], totals, inputs) for kind in AFFINITY_KINDS]


def _order_rows(o: ibis.Table, value: ibis.Value) -> ibis.Table:
    """One row per order with the value of an order-level kind, shaped like a per-order row."""
    return o.select(
        "customer_id",
        "order_key",
        value=value,
        month=o.local_at.truncate("M"),
        spend=o.net_amount,
        last_at=o.ordered_at,
    )


def _summarise(kind: str, per_order: ibis.Table, totals: ibis.Table, inputs: TraitInputs) -> ibis.Table:
    """From one row per customer, value and order to one row per customer and value."""
    s = inputs.settings
    # the last N calendar months, counting the as-of date's own month
    months_back = inputs.as_of.year * 12 + inputs.as_of.month - 1 - (s.affinity_recent_months - 1)
    recent_from = ibis.timestamp(f"{months_back // 12:04d}-{months_back % 12 + 1:02d}-01 00:00:00")
    p = per_order
    m = p.group_by(["customer_id", "value", "month"]).aggregate(
        orders=p.count(), spend=p.spend.sum(), last_at=p.last_at.max()
    )
    per = m.group_by(["customer_id", "value"]).aggregate(
        # via float64: ibis drops a cast to int64 it believes is a no-op, DuckDB sums into HUGEINT
        orders=m.orders.cast("float64").sum().cast("int64"),
        spend=m.spend.sum(),
        months_recent=m.count(where=m.month >= recent_from),
        months_total=m.count(),
        last_at=m.last_at.max(),
    )
    j = per.join(totals, "customer_id")
    strong = s.affinity_strong_months
    consistency = ibis.greatest(
        ibis.least(j.months_recent, strong).cast("float64") / strong,
        ibis.least(j.months_total, 6).cast("float64") / 12.0,
    )
    share = j.orders.cast("float64") / j.total_orders
    return j.select(
        "customer_id",
        kind=ibis.literal(kind),
        value=j.value.cast("string"),
        orders=j.orders,
        spend=j.spend,
        months_recent=j.months_recent,
        months_total=j.months_total,
        last_at=j.last_at,
        share=share,
        strength=(consistency * (0.5 + 0.5 * share)).round(4),
        signal=ibis.cases(
            (j.months_recent >= strong, "strong"), (j.months_total >= 2, "medium"), else_="weak"
        ),
    )


def top_affinities(affinities: ibis.Table) -> ibis.Table:
    """Per customer, the strongest category, brand and tag with their strengths (wide).

    Ties on strength go to the larger spend, then to the first value in alphabetical order, so
    the answer does not depend on the engine's row order. One grouped pass with ordered
    aggregates: a window ranking every affinity row cost about twice as much.
    """
    a = affinities
    rank = ibis.struct({"strength": -a.strength, "spend": -a.spend, "value": a.value})
    aggs = {}
    for k in AFFINITY_KINDS:
        aggs[f"top_{k}"] = a.value.argmin(rank, where=a.kind == k)
        aggs[f"top_{k}_strength"] = a.strength.max(where=a.kind == k)
    return a.group_by("customer_id").aggregate(**aggs)
