"""Reads every use case shares: the as-of date, "not built yet", the latest traits' date.

Written once here so that a command missing its inputs says the same thing, with the same
hint, whichever feature it belongs to.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pandas as pd

from personae.clock import DEFAULT_ZONE, to_local
from personae.errors import InputError, NotFoundError
from personae.store import Store

#: The tables of cluster models (written by the clusters use cases, read by segments too).
MODELS, PROFILES, ASSIGNMENTS = "cluster_models", "cluster_profiles", "cluster_assignments"

#: What to do when a table ``personae build`` writes is missing.
NOT_BUILT_HINT = "run `personae build` first"


def parse_as_of(value: str | date | datetime | None) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"--as-of {value!r}: expected a date like 2025-06-30") from None


def last_data_date(store: Store, timezone: str = DEFAULT_ZONE) -> date:
    """The default as-of date: the last day with any order, event, survey answer or text — or, when
    there are only customer profiles, the day the last one was created (their traits are then
    demographics and consents, with no behaviour yet). A day of the shop's calendar."""
    for sources in (
        (
            ("orders", "ordered_at"),
            ("events", "occurred_at"),
            ("surveys", "answered_at"),
            ("texts", "created_at"),
        ),
        (("customers", "created_at"),),
    ):
        latest: list[date] = []
        for name, col in sources:
            if not store.has_table(name):  # texts: a store not yet migrated by this personae
                continue
            v = store.execute(store.table(name)[col].max())
            if v is not None and not pd.isna(v):
                latest.append(to_local(pd.Timestamp(v).to_pydatetime(), timezone).date())
        if latest:
            return max(latest)
    raise InputError(
        "there is no data to build from",
        hint="ingest customers, orders, events or surveys first (`personae ingest KIND FILE`)",
    )


def built(store: Store, name: str, what: str | None = None) -> ibis.Table:
    """The table ``name`` that ``personae build`` writes, or a :class:`NotFoundError` saying it is
    not built yet (``what`` names it for people: "detractor model" for ``detractor_model``)."""
    if not store.has_table(name):
        raise NotFoundError(f"no {what or name} yet", hint=NOT_BUILT_HINT)
    return store.table(name)


def latest_traits_as_of(store: Store) -> date | None:
    """The as-of date of the current traits, or ``None`` when there are none (not built, empty)."""
    if not store.has_table("traits"):
        return None
    t = store.table("traits")
    if "as_of" not in t.columns:
        return None
    value = store.execute(t.as_of.max())
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def traits_as_of(store: Store) -> date:
    """The as-of date of the current traits; reports that read traits never look past it."""
    built(store, "traits")
    as_of = latest_traits_as_of(store)
    if as_of is None:
        raise NotFoundError("the traits have no as-of date", hint="ingest data and run `personae build`")
    return as_of


def cluster_names(store: Store) -> dict[int, str]:
    """Cluster number → name in the active model ({} when there is none)."""
    if not store.has_table(PROFILES) or not store.has_table(MODELS):
        return {}
    m = store.table(MODELS)
    p = store.table(PROFILES)
    active = m.filter(m.active).select("model_id")
    rows = store.rows(p.semi_join(active, "model_id").select("cluster", "name"))
    return {int(r["cluster"]): str(r["name"]) for r in rows}
