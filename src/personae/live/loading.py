"""What the service reads from the store when it starts (or reloads after a failed write).

Application layer: Ibis expressions executed by the store. Only what the segment rules read
is loaded (:class:`~personae.live.segments.Needs`): the trait columns they name, the event
types and the look-back they aggregate over, affinities if a rule uses them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import ibis

from personae.app.segments.library import segment_library
from personae.config.traits import TraitSettings
from personae.live.identity import IdentityIndex
from personae.live.segments import ORDER_COLUMNS, Needs
from personae.segments.expr import CheckedRule
from personae.segments.realtime import CustomerState
from personae.store import Store


def load_rules(store: Store, settings: TraitSettings | None = None) -> dict[str, CheckedRule]:
    """Every segment whose rule checks, in dependency order (broken ones are skipped, as in a build)."""
    _, checked, _ = segment_library(store, settings)
    return dict(checked)


def load_identity(store: Store) -> IdentityIndex:
    links = store.to_arrow(store.table("identity_links").select("identifier_a", "identifier_b"))
    mapping = store.to_arrow(store.table("identity_map"))
    merges = store.to_arrow(store.table("identity_merges").select("customer_id", "merged_customer_id"))
    return IdentityIndex(
        zip(links.column(0).to_pylist(), links.column(1).to_pylist(), strict=True),
        dict(
            zip(
                mapping.column("identifier").to_pylist(),
                mapping.column("customer_id").to_pylist(),
                strict=True,
            )
        ),
        zip(merges.column(0).to_pylist(), merges.column(1).to_pylist(), strict=True),
    )


def load_states(store: Store, needs: Needs, today: date) -> dict[str, CustomerState]:
    """A state per customer: the needed traits, recent events/orders, affinities."""
    traits: dict[str, dict[str, Any]] = {}
    if store.has_table("traits"):
        t = store.table("traits")
        cols = [c for c in sorted(needs.traits) if c in t.columns and c != "customer_id"]
        for row in store.rows(t.select("customer_id", *cols)):
            traits[row.pop("customer_id")] = row
    events = _rows(
        store, "events", "occurred_at", needs.event_columns, needs.event_days, today, needs.event_types
    )
    orders = _rows(store, "orders", "ordered_at", ORDER_COLUMNS, needs.order_days, today, None)
    affinities: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if needs.affinities and store.has_table("affinities"):
        a = store.table("affinities")
        for row in store.rows(a.select("customer_id", "kind", "value", "strength")):
            affinities[row.pop("customer_id")].append(row)
    ids = traits.keys() | events.keys() | orders.keys() | affinities.keys()
    return {
        cid: CustomerState.of(
            cid,
            traits.get(cid, {}),
            events=events.get(cid, ()),
            orders=orders.get(cid, ()),
            affinities=affinities.get(cid, ()),
        )
        for cid in ids
    }


def _rows(
    store: Store,
    name: str,
    time_col: str,
    columns: tuple[str, ...],
    days: int | None,
    today: date,
    types: frozenset[str] | None,
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if days == 0:
        return out
    t = store.resolved(name)
    if days is not None:
        start = datetime.combine(today - timedelta(days=days + 1), datetime.min.time())
        t = t.filter(t[time_col] >= ibis.literal(start))
    if types is not None:
        t = t.filter(t["type"].isin(sorted(types)))
    for row in store.rows(t.select("customer_id", *columns)):
        out[row.pop("customer_id")].append(row)
    return out


def load_members(store: Store) -> dict[str, dict[str, datetime]]:
    out: dict[str, dict[str, datetime]] = defaultdict(dict)
    for row in store.rows(store.table("live_memberships")):
        out[row["customer_id"]][row["segment"]] = row["entered_at"]
    return dict(out)


def load_seen(store: Store, since: datetime) -> dict[str, datetime]:
    """messageIds received since ``since`` (the idempotency window), oldest first: the service
    forgets expired ones from the front (see ``Runtime.refresh``)."""
    t = store.table("tracked_messages")
    rows = store.to_arrow(
        t.filter(t.received_at >= ibis.literal(since))
        .order_by("received_at")
        .select("message_id", "received_at")
    )
    return dict(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True))
