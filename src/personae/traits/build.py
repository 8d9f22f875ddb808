"""Compose every trait module into one row per customer, as a single Ibis expression.

Each module contributes aggregate expressions over a shared scan (orders once, events once,
surveys once, consents once) and derived columns; this module only wires them together so the
engine can run the whole thing as one query.
"""

from __future__ import annotations

import ibis

from personae.schema import IDENTIFIER_KINDS
from personae.tables import join_on_customer
from personae.traits import behaviour, channels, consent, experience, journey, occasions, value
from personae.traits.affinities import top_affinities
from personae.traits.inputs import TraitInputs
from personae.traits.places import customer_places

ORDER_MODULES = (value, channels, occasions)
EVENT_MODULES = (behaviour, journey)
PROFILE_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "created_at",
    "birth_date",
    "gender",
    "occupation",
    "income_band",
    "country",
    "region",
    "city",
    "postcode",
    "home_store_id",
    "join_channel",
    "interests",
    "preferences",
)
# prospects (no customer id yet) and the anonymous token of an erased person's kept orders
_PROSPECT_PREFIXES = (*(f"{k}:" for k in IDENTIFIER_KINDS if k != "customer_id"), "erased:")


def population(inputs: TraitInputs, *per_customer: ibis.Table) -> ibis.Table:
    """Every known customer: profiles, buyers, and identified (non-anonymous) event actors.

    Built from the per-customer aggregates (one row per customer each) rather than the raw
    order lines and events, which would mean a distinct over tens of millions of rows.
    """
    # .view(): these tables are joined back onto the population, and ibis needs distinct
    # references for a self-join (without them the joins silently match nothing)
    ids = [
        inputs.customers.view().select("customer_id"),
        *(t.view().select("customer_id") for t in per_customer),
    ]
    u = ibis.union(*ids, distinct=True)
    known = ibis.literal(True)
    for p in _PROSPECT_PREFIXES:
        known = known & ~u.customer_id.startswith(p)
    return u.filter(u.customer_id.notnull() & known)


def base_traits(inputs: TraitInputs, affinities: ibis.Table) -> ibis.Table:
    """All traits that do not need fitted models (CLV, P(alive)) — see pipeline for the rest."""
    # purchases and (flagged) returns: the order modules count orders where not is_return and
    # sum spend over both, so a return nets spend without being an order
    bought = inputs.orders_by_order
    o = bought.mutate(is_return=ibis.literal(False)).union(
        inputs.returns_by_order.select(*bought.columns).mutate(is_return=ibis.literal(True))
    )
    order_aggs: dict[str, ibis.Value] = {}
    for m in ORDER_MODULES:
        order_aggs.update(m.order_aggregates(o, inputs))
    per_orders = o.group_by("customer_id").aggregate(**order_aggs)

    firsts = per_orders.select("customer_id", first_order_at=per_orders.first_order_at)
    e = inputs.events.left_join(firsts, "customer_id")
    e = e.select(*inputs.events.columns, first_order_at=e.first_order_at)
    event_aggs: dict[str, ibis.Value] = {}
    for m in EVENT_MODULES:
        event_aggs.update(m.event_aggregates(e, inputs))
    per_events = e.group_by("customer_id").aggregate(**event_aggs)

    # birth_year (an approximate one, from an age column) only feeds the age trait
    profile = inputs.customers.select("customer_id", *PROFILE_COLUMNS, "birth_year")
    per_surveys = experience.survey_aggregates(inputs)
    t = population(inputs, per_orders, per_events, per_surveys)
    for part in (
        profile,
        per_orders,
        per_events,
        per_surveys,
        consent.latest_consents(inputs),
        channels.preferred_service_channel(inputs),
        behaviour.browse_abandonment(inputs),
        top_affinities(affinities),
        customer_places(inputs.customers, inputs.stores, inputs.postcodes),
    ):
        t = join_on_customer(t, part)

    derived: dict[str, ibis.Value] = {}
    for module in (value, channels, occasions, behaviour, experience, journey, consent):
        derived.update(module.derived(t, inputs))
    t = t.mutate(**derived)
    drop = [
        c
        for c in (
            "birth_year",
            "order_lines",
            "returned_lines",
            "discount_total",
            "holiday_spend",
            "last_add_to_cart_at",
            "consideration_signals",
        )
        if c in t.columns
    ]
    return t.drop(*drop).mutate(as_of=inputs.as_of_date)
