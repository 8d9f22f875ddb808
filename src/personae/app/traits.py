"""The traits steps of ``personae build`` (affinities; traits with RFM and lifecycle), and one
customer's traits.

Application layer: reads the store, calls the domain (``personae.traits``, ``personae.clv``),
writes the derived tables back. Each step is a function of (store, as_of, settings).
"""

from __future__ import annotations

from datetime import date

import ibis

from personae.app.export import records
from personae.clock import DEFAULT_ZONE
from personae.config.traits import TraitSettings
from personae.schema import CONSENT_PURPOSES
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits import TraitInputs, prepare
from personae.traits import consent as consent_traits
from personae.traits.affinities import affinity_parts, affinity_sources
from personae.traits.build import base_traits
from personae.traits.inputs import EVENT_COLUMNS, ORDER_COLUMNS
from personae.traits.lifecycle import lifecycle_stage
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
        "customer_id", *(f"consent_{p}" for p in CONSENT_PURPOSES)
    )


def build_affinities(
    store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE
) -> dict[str, int]:
    """The long ``affinities`` table (customer × category/brand/tag, with strength)."""
    inputs = trait_inputs(store, as_of, settings, timezone)
    with store.staged(affinity_sources(inputs)) as sources:
        store.replace_in_parts("affinities", affinity_parts(inputs, sources))
    return {"rows": store.count("affinities")}


def build_traits(store: Store, as_of: date, settings: TraitSettings, timezone: str = DEFAULT_ZONE) -> int:
    """Every trait, joined with the model outputs (``clv`` when present), RFM and lifecycle.

    One ``CREATE TABLE traits AS …``: the engine plans the whole thing at once and nothing wide
    is materialised twice.
    """
    inputs = trait_inputs(store, as_of, settings, timezone)
    t = base_traits(inputs, store.table("affinities"))
    if store.has_table("clv"):
        t = join_on_customer(t, store.table("clv"))
    if store.has_table("voice_traits"):  # written by the voice step just before (docs/voice.md)
        t = join_on_customer(t, store.table("voice_traits"))
    store.replace("traits", with_scores(t, settings))
    return store.count("traits")


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
