"""Store side of identity resolution: keep the links, re-resolve, record merges.

The pure algorithm is :func:`personae.identity.resolve`; this module feeds it every link
ever stored and writes back the identity map and the merges it has not recorded yet.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa

from personae.identity.resolve import resolve
from personae.store import Store


def add_links_and_resolve(store: Store, new_links: pd.DataFrame, *, source: str, now: pd.Timestamp) -> int:
    """Store new links (ignoring known ones) and re-resolve; return how many merges are new."""
    if new_links.empty:
        return 0
    table = pa.table(
        {
            "identifier_a": pa.array(new_links["identifier_a"].tolist(), pa.string()),
            "identifier_b": pa.array(new_links["identifier_b"].tolist(), pa.string()),
        }
    )
    # through the store interface (not SQL), so ingest runs on either engine
    known = store.table("identity_links")
    new = ibis.memtable(table)
    fresh = store.to_arrow(
        new.anti_join(
            known, [new.identifier_a == known.identifier_a, new.identifier_b == known.identifier_b]
        ).select("identifier_a", "identifier_b")
    )
    store.append(
        "identity_links",
        fresh.append_column("source", pa.array([source] * fresh.num_rows, pa.string())).append_column(
            "seen_at", pa.array([now.to_pydatetime()] * fresh.num_rows, pa.timestamp("us"))
        ),
    )
    return resolve_all(store, now=now)


def resolve_all(store: Store, *, now: pd.Timestamp) -> int:
    """Recompute the identity map from every stored link; record merges not yet recorded."""
    edges = store.to_arrow(store.table("identity_links").select("identifier_a", "identifier_b"))
    result = resolve(
        edges.column("identifier_a").to_numpy(zero_copy_only=False),
        edges.column("identifier_b").to_numpy(zero_copy_only=False),
    )
    store.replace(
        "identity_map",
        pa.table(
            {
                "identifier": pa.array(result.mapping["identifier"].tolist(), pa.string()),
                "customer_id": pa.array(result.mapping["customer_id"].tolist(), pa.string()),
            }
        ),
    )
    merges = result.merges
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
