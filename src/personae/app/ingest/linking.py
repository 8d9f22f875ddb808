"""Store side of identity resolution: keep the links, re-resolve, record merges.

The algorithm is :func:`personae.identity.resolve` (union-find as connected components).
Here it runs over every link ever stored, which at ten million customers is tens of millions
of identifiers: too many to hold as Python strings (11 GB at 10M customers). So the store
numbers the identifiers, only the two integer codes of each link come to Python for
:func:`~personae.identity.resolve.components`, and the identity map is computed back in the
store from the component of each code — the same map :func:`~personae.identity.resolve.resolve`
gives (a property test holds the two equal). Merges are rare: :func:`resolve` itself explains
them, on the links of the components that hold two customer ids or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from personae.identity.resolve import CUSTOMER_PREFIX, components, resolve
from personae.store import Store

#: derived tables that live only inside :func:`resolve_all` (dropped before it returns)
CODES = "identity_codes"
COMPONENTS = "identity_components"


@dataclass(frozen=True)
class StagedLinks:
    """New links held in a relation of a DuckDB database file (ingest's scratch database):
    a file's links, too many to hold in memory, go from there to the store in one statement."""

    database: Path
    relation: str


def add_links_and_resolve(
    store: Store, new_links: pd.DataFrame | StagedLinks, *, source: str, now: pd.Timestamp
) -> int:
    """Store new links (ignoring known ones) and re-resolve; return how many merges are new."""
    keys = ("identifier_a", "identifier_b")
    values = {"source": source, "seen_at": now.to_pydatetime()}
    if isinstance(new_links, StagedLinks):
        added = store.append_from(
            "identity_links", new_links.database, new_links.relation, skip_existing=keys, values=values
        )
    else:
        if new_links.empty:
            return 0
        table = pa.table({k: pa.array(new_links[k].tolist(), pa.string()) for k in keys})
        # through the store interface (not SQL), so ingest runs on either engine
        added = store.append_new("identity_links", table, keys, values)
    # no new link: the components, and so the identity map, are what they were
    return resolve_all(store, now=now) if added else 0


def resolve_all(store: Store, *, now: pd.Timestamp) -> int:
    """Recompute the identity map from every stored link; record merges not yet recorded."""
    links = store.table("identity_links")
    ids = links.select(identifier=links.identifier_a).union(
        links.select(identifier=links.identifier_b), distinct=True
    )
    # numbered in string order, so the smallest code of a component is its smallest identifier
    # and every aggregate below is over integers (a string min() held 2 GB at 10M customers)
    store.replace(
        CODES,
        ids.mutate(
            code=ibis.row_number().over(order_by=ids.identifier).cast("int32"),
            customer=ids.identifier.startswith(CUSTOMER_PREFIX),
        ),
    )
    try:
        return _resolve_coded(store, links, now)
    finally:
        for table in (CODES, COMPONENTS):
            store.drop(table)


def _own(identifier: ibis.StringValue) -> ibis.StringValue:
    """A customer id's own value (``customer_id:C1`` → ``C1``); any other identifier as it is."""
    return ibis.ifelse(
        identifier.startswith(CUSTOMER_PREFIX), identifier.substr(len(CUSTOMER_PREFIX)), identifier
    )


def _resolve_coded(store: Store, links: ibis.Table, now: pd.Timestamp) -> int:
    codes = store.table(CODES)
    n = store.count(CODES)
    a = codes.rename(identifier_a="identifier", code_a="code")
    b = codes.rename(identifier_b="identifier", code_b="code")
    edges = store.to_arrow(links.join(a, "identifier_a").join(b, "identifier_b").select("code_a", "code_b"))
    # two int32 codes a link: ten million customers' 20M links take 160 MB
    label = components(n, edges.column("code_a").to_numpy(), edges.column("code_b").to_numpy())
    del edges
    coded = pa.table({"code": np.arange(n, dtype=np.int32), "component": label.astype(np.int32)})
    store.replace(COMPONENTS, coded)
    labelled = codes.join(store.table(COMPONENTS), "code")
    # the smallest customer id of a component owns it; a component without one (a prospect)
    # keeps its smallest identifier: the first of the component in (customer first, code)
    # order — one sort, which spills gracefully, where joining the owner's identifier back
    # filled 28 GB of temporary files at 10M customers under ingest's memory cap
    first = ibis.window(group_by=labelled.component, order_by=[ibis.desc(labelled.customer), labelled.code])
    mapping = labelled.mutate(
        customer_id=_own(labelled.identifier.first().over(first)), own=_own(labelled.identifier)
    )
    store.replace(
        "identity_map",
        mapping.filter(mapping.customer_id != mapping.own).select(
            identifier=mapping.identifier.cast("string"), customer_id=mapping.customer_id.cast("string")
        ),
    )
    counted = labelled.group_by("component").aggregate(customers=labelled.customer.cast("int64").sum())
    # merges happen only where a component holds two customer ids or more: explain those alone
    merged = counted.filter(counted.customers >= 2).select("component")
    members = labelled.semi_join(merged, "component").select("identifier")
    sub = store.to_arrow(
        links.semi_join(members, links.identifier_a == members.identifier).select(
            "identifier_a", "identifier_b"
        )
    )
    if sub.num_rows == 0:
        return 0
    merges = resolve(
        sub.column("identifier_a").to_numpy(zero_copy_only=False),
        sub.column("identifier_b").to_numpy(zero_copy_only=False),
    ).merges
    if merges.empty:
        return 0
    known = store.execute(store.table("identity_merges").select("customer_id", "merged_customer_id"))
    known_pairs = set(zip(known["customer_id"], known["merged_customer_id"], strict=True))
    fresh = merges[
        [
            (a, b) not in known_pairs
            for a, b in zip(merges["customer_id"], merges["merged_customer_id"], strict=True)
        ]
    ]
    if fresh.empty:
        return 0
    store.append(
        "identity_merges",
        pa.table(
            {
                "merged_at": pa.array([now] * len(fresh), pa.timestamp("us")),
                "customer_id": pa.array(fresh["customer_id"].tolist(), pa.string()),
                "merged_customer_id": pa.array(fresh["merged_customer_id"].tolist(), pa.string()),
                "identifiers": pa.array(fresh["identifiers"].tolist(), pa.string()),
                "rule": pa.array(fresh["rule"].tolist(), pa.string()),
            }
        ),
    )
    return len(fresh)
