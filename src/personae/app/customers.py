"""The unified profile of one customer: what ``personae customers show`` prints.

Application layer: reads through the store's Ibis expressions, returns plain data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import ibis
import pandas as pd

from personae.errors import NotFoundError
from personae.identity.normalize import normalize_emails, normalize_phones
from personae.privacy.keys import PII_IDENTIFIER_KINDS
from personae.schema import IDENTIFIER_KINDS
from personae.store import Store


def resolve_customer_id(
    store: Store, given: str, *, default_country_code: str = "1", pii: bool = True
) -> str:
    """Find the unified customer for an id, email, phone or other identifier.

    ``pii=False`` (a key that does not see personal data): only the identifiers that are not
    personal data are tried (customer id, anonymous/device id), so an email, phone or loyalty id
    misses whether or not it is known — the same 404, by the same path.
    """
    given = given.strip()
    candidates = [f"customer_id:{given}"]
    if ":" in given and (pii or given.split(":", 1)[0] not in PII_IDENTIFIER_KINDS):
        candidates.insert(0, given)
    if pii:
        email = normalize_emails(pd.Series([given]))[0]
        phone = normalize_phones(pd.Series([given]), default_country_code)[0]
        candidates += [f"email:{email}", f"phone:{phone}", f"loyalty_id:{given}"]
    candidates += [f"anonymous_id:{given}", f"device_id:{given}"]
    # the candidates come from whoever asks (a CLI argument, a URL): bound, never SQL text
    m = store.table("identity_map")
    hits = store.where_in(m.select("identifier", "customer_id"), "identifier", candidates).to_pandas()
    if len(hits):
        order = {c: i for i, c in enumerate(candidates)}
        hits = hits.assign(o=hits["identifier"].map(order)).sort_values("o")
        return str(hits["customer_id"].iloc[0])
    # not in the map: a customer id that absorbed nobody, or a prospect, whose resolved id is
    # its own identifier (e.g. ``anonymous_id:abc``, see Store.resolved)
    lookups = [given, *candidates]
    for name in ("customers", "orders", "events", "surveys", "texts"):
        t = store.resolved(name)
        found = set(store.where_in(t.select("customer_id"), "customer_id", lookups).column(0).to_pylist())
        if found:
            return next(c for c in lookups if c in found)
    raise NotFoundError(
        f"no customer with id or identifier {given!r}",
        hint="check the id, or ingest the customer's data first",
    )


def customer_profile(store: Store, given: str, *, default_country_code: str = "1") -> dict[str, Any]:
    """Attributes, identifiers, activity counts, consents and merges of one customer."""
    cid = resolve_customer_id(store, given, default_country_code=default_country_code)
    profiles = store.profiles()
    row = store.execute(profiles.filter(profiles.customer_id == cid))
    attributes: dict[str, Any] = {}
    if len(row):
        rec = row.iloc[0].to_dict()
        for key_, v in rec.items():
            k = str(key_)
            if k.startswith("_") or k in ("customer_id", "source_customer_id"):
                continue
            attributes[k] = _plain(v)
        for key in ("preferences", "properties_extra"):
            if isinstance(attributes.get(key), str):
                attributes[key] = json.loads(attributes[key])
    m = store.table("identity_map")
    own = cid if _is_prospect(cid) else f"customer_id:{cid}"
    idents = sorted(
        set(store.execute(m.filter(m.customer_id == cid).select("identifier"))["identifier"]) | {own}
    )
    counts = {}
    for name in ("orders", "events", "surveys"):
        t = store.resolved(name)
        counts[name] = int(store.scalar(t.filter(t.customer_id == cid).count()))
    orders = store.resolved("orders")
    mine = orders.filter(orders.customer_id == cid)
    spend = store.execute(
        mine.aggregate(
            n_orders=mine.order_id.nunique(),
            revenue=mine.amount.sum(),
            first=mine.ordered_at.min(),
            last=mine.ordered_at.max(),
        )
    )
    merges = store.table("identity_merges")
    merged = store.execute(
        merges.filter(merges.customer_id == cid).select(
            "merged_customer_id", "identifiers", "rule", "merged_at"
        )
    )
    return {
        "customer_id": cid,
        "attributes": attributes,
        "identifiers": idents,
        "counts": counts,
        "orders_summary": {k: _plain(v) for k, v in spend.iloc[0].to_dict().items()},
        "consents": latest_consents(store, cid),
        "merged_profiles": [{k: _plain(v) for k, v in r.items()} for r in merged.to_dict("records")],
    }


def _is_prospect(cid: str) -> bool:
    """A resolved id that is an identifier of its own (no customer id in its component)."""
    kind, sep, _ = cid.partition(":")
    return bool(sep) and kind in IDENTIFIER_KINDS and kind != "customer_id"


def latest_consents(store: Store, customer_id: str) -> dict[str, bool]:
    """The latest decision per purpose (the ledger's rule: latest wins)."""

    def query(cid: str) -> ibis.Table:
        c = store.resolved("consents")
        mine = c.filter(c.customer_id == cid)
        w = ibis.window(group_by=mine.purpose, order_by=[mine.recorded_at.desc(), mine._source_line.desc()])
        latest = mine.mutate(_r=ibis.row_number().over(w)).filter(lambda t: t._r == 0)
        return latest.select("purpose", "granted")

    # compiled once (the service reads a profile per request): see Store.cached_arrow
    rows = store.cached_arrow("latest_consents", query, customer_id)
    return {
        str(p): bool(g)
        for p, g in zip(rows.column("purpose").to_pylist(), rows.column("granted").to_pylist(), strict=True)
    }


def _plain(v: Any) -> Any:
    """JSON-friendly value."""
    if v is None:
        return None
    if isinstance(v, float) and pd.isna(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    if hasattr(v, "tolist"):
        return v.tolist()
    if hasattr(v, "item"):
        return v.item()
    return v
