"""The steps of ``personae build``: traits, lifetime value, RFM and lifecycle.

Application layer: reads the store, calls the domain (``personae.traits``, ``personae.clv``),
writes the derived tables back. Each step is a function of (store, as_of, settings).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import numpy as np
import pandas as pd

from personae.config import ClvSettings
from personae.config.traits import TraitSettings
from personae.errors import InputError, ModelError
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits import TraitInputs, prepare
from personae.traits.affinities import affinity_parts, affinity_sources
from personae.traits.build import base_traits
from personae.traits.inputs import EVENT_COLUMNS, ORDER_COLUMNS
from personae.traits.lifecycle import lifecycle_stage
from personae.traits.rfm import rfm_scores, rfm_segment


def parse_as_of(value: str | date | datetime | None) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"--as-of {value!r}: expected a date like 2025-06-30") from None


def last_data_date(store: Store) -> date:
    """The default as-of date: the last day with any order, event or survey answer."""
    latest: list[date] = []
    for name, col in (("orders", "ordered_at"), ("events", "occurred_at"), ("surveys", "answered_at")):
        t = store.table(name)
        v = store.execute(t[col].max())
        if v is not None and not pd.isna(v):
            latest.append(pd.Timestamp(v).date())
    if not latest:
        raise InputError("there is no data to build from", hint="ingest orders or events first")
    return max(latest)


def trait_inputs(store: Store, as_of: date, settings: TraitSettings) -> TraitInputs:
    return prepare(
        as_of,
        customers=store.profiles(),
        orders=store.resolved("orders", ORDER_COLUMNS),
        events=store.resolved("events", EVENT_COLUMNS),
        surveys=store.resolved("surveys"),
        consents=store.resolved("consents"),
        products=store.table("products"),
        settings=settings,
    )


def build_affinities(store: Store, as_of: date, settings: TraitSettings) -> dict[str, int]:
    """The long ``affinities`` table (customer × category/brand/tag, with strength)."""
    inputs = trait_inputs(store, as_of, settings)
    with store.staged(affinity_sources(inputs)) as sources:
        store.replace_in_parts("affinities", affinity_parts(inputs, sources))
    return {"rows": store.count("affinities")}


def build_traits(store: Store, as_of: date, settings: TraitSettings) -> int:
    """Every trait, joined with the model outputs (``clv`` when present), RFM and lifecycle.

    One ``CREATE TABLE traits AS …``: the engine plans the whole thing at once and nothing wide
    is materialised twice.
    """
    inputs = trait_inputs(store, as_of, settings)
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
    n = n.mutate(**rfm_scores(n))
    n = n.mutate(**rfm_segment(n, settings.rfm_rules))
    n = n.mutate(lifecycle_stage=lifecycle_stage(n, settings.lifecycle))
    scores = n.drop(*[c for c in n.columns if c != "customer_id" and c in t.columns])
    return join_on_customer(t, scores)


def customer_traits(store: Store, customer_id: str) -> dict[str, object] | None:
    """One customer's traits (JSON-ready) with the list of their affinities."""
    from personae.app.export import records

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


def clv_transactions(store: Store, exclude_returned: bool = True) -> ibis.Table:
    """Resolved order lines as BTYD transactions (returned lines left out by default)."""
    o = store.resolved("orders")
    if exclude_returned:
        o = o.filter(~o.returned.fill_null(False))
    return o.select("customer_id", "ordered_at", "amount")


def build_clv(store: Store, as_of: date, s: ClvSettings) -> dict[str, object]:
    """Fit BG/NBD + Gamma-Gamma on everything up to ``as_of``; write ``clv`` per customer."""
    from personae.clv import (
        GammaGammaModel,
        btyd_summary,
        customer_lifetime_value,
        value_tiers,
    )

    summary = store.execute(
        btyd_summary(
            clv_transactions(store, s.exclude_returned), observation_end=as_of, time_unit=s.time_unit
        ).order_by("customer_id")  # a fixed row order makes the fit reproducible to the last bit
    )
    if summary.empty:
        store.drop("clv")
        return {"skipped": "no orders"}
    f, r, T, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    try:
        bg, penalizer = fit_bgnbd(f, r, T, s.fallback_penalizer)
        repeat = (f > 0) & (m > 0)
        gg = GammaGammaModel().fit(f[repeat], m[repeat])
    except ModelError as exc:
        store.drop("clv")
        return {"skipped": str(exc)}
    unit_days = 7.0 if s.time_unit == "W" else 1.0
    horizon = s.horizon_months * 365.25 / 12 / unit_days
    values = customer_lifetime_value(
        bg,
        gg,
        f,
        r,
        T,
        m,
        horizon_months=s.horizon_months,
        discount_rate_annual=s.discount_rate_annual,
        time_unit=s.time_unit,
        interval=s.interval if s.interval_draws else None,
        n_draws=s.interval_draws,
        seed=s.seed,
    )
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].astype(str),
            "clv_frequency": f,
            "clv_recency": r * unit_days,
            "clv_T": T * unit_days,
            "p_alive": bg.p_alive(f, r, T),
            "expected_transactions_12m": bg.predict_transactions(horizon, f, r, T),
            "expected_spend": gg.expected_spend(f, m),
            "clv_12m": values["clv"].to_numpy(),
            # without interval draws (clv.interval_draws = 0) the interval is unknown
            "clv_12m_low": values.get("clv_low", pd.Series(np.nan, index=values.index)).to_numpy(),
            "clv_12m_high": values.get("clv_high", pd.Series(np.nan, index=values.index)).to_numpy(),
        }
    )
    out["value_tier"] = value_tiers(out["clv_12m"].to_numpy())
    store.replace("clv", out)
    params = {**bg.params_, **{f"gg_{k}": v for k, v in gg.params_.items()}, "penalizer": penalizer}
    store.replace("clv_params", pd.DataFrame([{**params, "as_of": as_of, "loglik": bg.loglik_}]))
    return {"customers": len(out), **{k: round(float(v), 4) for k, v in params.items()}}


def fit_bgnbd(f: np.ndarray, r: np.ndarray, T: np.ndarray, fallback_penalizer: float) -> tuple[Any, float]:
    """Plain maximum likelihood; if the data cannot identify the model, a lightly penalised fit.

    Real and synthetic bases sometimes put the optimum on the boundary (e.g. a, b → ∞: every
    customer has the same drop-out probability). The penalised fit keeps the parameters finite
    and barely changes the likelihood; which one was used is recorded in ``clv_params``.
    """
    from personae.clv import BetaGeoModel

    try:
        return BetaGeoModel().fit(f, r, T), 0.0
    except ModelError:
        if not fallback_penalizer:
            raise
        return BetaGeoModel(penalizer_coef=fallback_penalizer).fit(f, r, T), fallback_penalizer
