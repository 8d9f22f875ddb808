"""The traits steps of ``personae build`` (affinities; traits with RFM and lifecycle), and one
customer's traits.

Application layer: reads the store, calls the domain (``personae.traits``, ``personae.clv``),
writes the derived tables back. Each step is a function of (store, as_of, settings).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd

from personae.app.export import records
from personae.clock import DEFAULT_ZONE
from personae.config.traits import TraitSettings
from personae.coverage import Coverage
from personae.privacy import consent
from personae.schema import CONSENT_PURPOSES
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits import TraitInputs, prepare
from personae.traits import consent as consent_traits
from personae.traits.affinities import affinity_parts, affinity_sources
from personae.traits.build import base_traits
from personae.traits.inputs import EVENT_COLUMNS, ORDER_COLUMNS
from personae.traits.lifecycle import lifecycle_stage
from personae.traits.places import located_stores, location_reasons
from personae.traits.rfm import rfm_scores, rfm_segment


def trait_inputs(
    store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE
) -> TraitInputs:
    """The canonical tables cut at the end of the shop's day ``as_of`` (``timezone``: its zone)."""
    return prepare(
        as_of,
        customers=store.profiles(),
        orders=store.resolved("orders", ORDER_COLUMNS),
        events=store.resolved("events", EVENT_COLUMNS),
        surveys=store.resolved("surveys"),
        consents=store.resolved("consents"),
        products=store.table("products"),
        settings=settings,
        timezone=timezone,
        stores=store.table("stores") if store.has_table("stores") else None,
        postcodes=store.table("postcodes") if store.has_table("postcodes") else None,
    )


def consent_flags(
    store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE
) -> ibis.Table:
    """Each profile's ``consent_<purpose>`` flags as of ``as_of``, exactly as the traits compute
    them (ledger first, then the default policy by country and region).

    For the steps of a build that run *before* the traits (the voice step feeds the traits, so it
    cannot read ``traits.consent_*``) but must still go through the consent gate.
    """
    inputs = trait_inputs(store, as_of, settings, timezone)
    t = join_on_customer(
        inputs.customers.select("customer_id", "country", "region"), consent_traits.latest_consents(inputs)
    )
    return t.mutate(**consent_traits.derived(t, inputs)).select(
        "customer_id", *consent.required_columns(CONSENT_PURPOSES)
    )


def build_affinities(
    store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE
) -> dict[str, int]:
    """The long ``affinities`` table (customer × category/brand/tag, with strength)."""
    inputs = trait_inputs(store, as_of, settings, timezone)
    with store.staged(affinity_sources(inputs)) as sources:
        store.replace_in_parts("affinities", affinity_parts(inputs, sources))
    return {"rows": store.count("affinities")}


def store_places(store: Store) -> dict[str, tuple[float, float]]:
    """Store id → (latitude, longitude) of every store with a place: its own coordinates, else
    its postcode's centroid. What ``distance_km`` reads in batch and in real time (a few
    hundred rows: read once per build or rule change)."""
    placed = located_stores(
        store.table("stores") if store.has_table("stores") else None,
        store.table("postcodes") if store.has_table("postcodes") else None,
    )
    if placed is None:
        return {}
    rows = store.to_arrow(placed).to_pylist()
    return {str(r["store_id"]): (float(r["latitude"]), float(r["longitude"])) for r in rows}


def build_traits(
    store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE
) -> dict[str, Any]:
    """Every trait, joined with the model outputs (``clv`` when present), RFM and lifecycle.

    One ``CREATE TABLE traits AS …``: the engine plans the whole thing at once and nothing wide
    is materialised twice. Returns ``{"customers": N}``, with ``left_out`` (a
    :class:`~personae.coverage.Coverage`) when the data has places and some customers have none.
    """
    inputs = trait_inputs(store, as_of, settings, timezone)
    t = base_traits(inputs, store.table("affinities"))
    if store.has_table("clv"):
        t = join_on_customer(t, store.table("clv"))
    if store.has_table("voice_traits"):  # written by the voice step just before (docs/voice.md)
        t = join_on_customer(t, store.table("voice_traits"))
    store.replace("traits", with_scores(t, settings))
    result: dict[str, Any] = {"customers": store.count("traits")}
    places = place_coverage(store)
    if places is not None and places.left_out:
        result["left_out"] = places.as_json()
        result["left_out_of"] = "location (nearest store, distance_km)"
    return result


def place_coverage(store: Store) -> Coverage | None:
    """Who the place traits (``location_*``, ``nearest_store_*``) and ``distance_km`` could not
    place, by reason; ``None`` when the data has no place at all (no store or customer
    coordinates, no postcode table): then nobody is "left out" of a feature the shop does not use.
    """
    t = store.table("traits")
    row = store.execute(
        t.aggregate(total=t.count(), located=t.location_source.notnull().sum(), **location_reasons(t))
    ).iloc[0]
    counts = {k: 0 if pd.isna(v) else int(v) for k, v in row.items()}  # a sum over no traits is NULL
    postcodes = store.count("postcodes") if store.has_table("postcodes") else 0
    if not (counts["located"] or postcodes or store_places(store)):
        return None
    return Coverage.of(counts["total"], {r: counts[r] for r in location_reasons(t)})


#: What the RFM scores and the lifecycle stage read.
SCORE_INPUTS = ("frequency", "recency_days", "monetary", "days_since_first_order", "avg_days_between_orders")


def with_scores(t: ibis.Table, settings: TraitSettings) -> ibis.Table:
    """``t`` with RFM scores, RFM segment and lifecycle stage joined on.

    The window functions (percent ranks, the median gap) run over a narrow projection and are
    joined back by customer: an engine's window operator sorts and copies whole rows, and on
    the wide traits row (about a hundred columns, lists among them) that copy cost several
    times more than the ranking itself.
    """
    n = t.view().select("customer_id", *SCORE_INPUTS, *(["p_alive"] if "p_alive" in t.columns else []))
    n = n.mutate(**rfm_scores(n, settings.rfm, settings.lifecycle.default_gap_days))
    n = n.mutate(**rfm_segment(n, settings.rfm_rules))
    n = n.mutate(lifecycle_stage=lifecycle_stage(n, settings.lifecycle))
    scores = n.drop(*[c for c in n.columns if c != "customer_id" and c in t.columns])
    return join_on_customer(t, scores)


def customer_traits(store: Store, customer_id: str) -> dict[str, object] | None:
    """One customer's traits (JSON-ready) with the list of their affinities."""

    if not store.has_table("traits"):
        return None

    def traits(cid: str) -> ibis.Table:
        t = store.table("traits")
        return t.filter(t.customer_id == cid)

    def affinities(cid: str) -> ibis.Table:
        a = store.table("affinities")
        return a.filter(a.customer_id == cid).order_by([a.strength.desc(), a.spend.desc(), a.value])

    # compiled once (the service reads a profile per request): see Store.cached_arrow
    # dates as timestamps, as Ibis hands them over (the JSON keeps its "T00:00:00")
    df = store.cached_arrow("customer_traits", traits, customer_id).to_pandas(date_as_object=False)
    if df.empty:
        return None
    data = records(df)[0]
    aff = store.cached_arrow("customer_affinities", affinities, customer_id).to_pandas(date_as_object=False)
    data["affinities"] = records(aff.drop(columns=["customer_id"]))
    return data
