"""Group commit: many tracking requests validated, stitched, evaluated and written as one.

Storage/application layer, run only by the writer thread (:mod:`personae.service.writer`).
For one group of requests it

1. drops messages whose ``messageId`` was seen before (idempotency; they are acknowledged);
2. maps messages to canonical rows (:mod:`personae.service.tracking`) and checks, keys and
   links them row by row (:mod:`personae.service.rowcheck`: the file ingest's rules from the
   same ``TableSpec``, without pandas' fixed cost per call) — a row a CSV would reject is
   rejected here too, with the same reason, and lands in ``rejects``;
3. stitches identities (:class:`~personae.service.identity.IdentityIndex`), updates each
   customer's live state and membership (:class:`~personae.service.live.LiveSegments`);
4. writes rows, rejects, links, identity map, memberships, changes and webhook deliveries in
   ONE transaction — only then are the requests acknowledged.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from personae.config import IdentitySettings
from personae.ingest.keys import content_hash, row_keys
from personae.ingest.loader import blocked_values
from personae.schema import TABLES, TableSpec
from personae.service import rowcheck
from personae.service.identity import IdentityIndex
from personae.service.live import Change, LiveSegments
from personae.service.payloads import Alias, Identify, Page, Screen, Track
from personae.service.settings import ServiceSettings
from personae.service.tracking import Mapped, map_messages
from personae.store import Store

Message = Identify | Track | Page | Screen | Alias | Any


@dataclass
class TrackJob:
    """One tracking request, as the writer receives it."""

    messages: Sequence[Any]
    received_at: datetime
    endpoint: str
    key_id: str
    sent_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrackResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Ref:
    job: int
    index: int
    message: Any


class Committer:
    """The writer's state: the store it writes, identities, live segments, seen messageIds."""

    def __init__(
        self,
        store: Store,
        identity: IdentityIndex,
        live: LiveSegments,
        seen: dict[str, datetime],
        settings: ServiceSettings,
        identity_settings: IdentitySettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.identity = identity
        self.live = live
        self.seen = seen
        self.settings = settings
        self.identity_settings = identity_settings
        self.blocked = blocked_values(identity_settings)
        self.clock = clock
        #: stored order lines to rewrite as returned in this group's transaction
        self._rewrites: list[tuple[list[str], pd.DataFrame]] = []

    # -- the group ---------------------------------------------------------------------------
    def commit(
        self, jobs: Sequence[TrackJob]
    ) -> tuple[list[TrackResult], list[Change], list[dict[str, Any]]]:
        """Process and write one group; returns per-job results, the changes, the webhook rows."""
        now = self.clock()
        results = [TrackResult() for _ in jobs]
        refs: list[_Ref] = []
        in_group: set[str] = set()
        for j, job in enumerate(jobs):
            for i, m in enumerate(job.messages):
                if m.messageId is None:
                    m.messageId = uuid.uuid4().hex
                if m.messageId in self.seen or m.messageId in in_group:
                    results[j].duplicates += 1
                    continue
                in_group.add(m.messageId)
                refs.append(_Ref(j, i, m))
        mapped, owners = self._map(jobs, refs)
        rejects: list[dict[str, Any]] = []
        rejected_refs: set[int] = set()
        frames: dict[str, list[dict[str, Any]]] = {}
        for table, rows, source in (
            ("customers", self._merge_profiles(mapped.customers), mapped.customers_source),
            ("events", mapped.events, mapped.events_source),
            ("orders", self._fill_order_customers(mapped.orders), mapped.orders_source),
        ):
            frame, bad = self._validate(TABLES[table], rows, [owners[s] for s in source])
            frames[table] = frame
            for line, reason in bad:
                rejected_refs.add(line)
                rejects.append({"table": table, "ref": line, "reason": reason})
        # a message with any rejected row is rejected whole (its other rows are not written)
        if rejected_refs:
            frames = {
                n: [r for r in rows if r["_source_line"] not in rejected_refs] for n, rows in frames.items()
            }
        for r in rejects:
            ref = refs[r["ref"]]
            results[ref.job].rejected.append(
                {
                    "index": ref.index,
                    "messageId": ref.message.messageId,
                    "reason": f"{r['table']}: {r['reason']}",
                }
            )
        for k, ref in enumerate(refs):
            if k not in rejected_refs:
                results[ref.job].accepted += 1

        frames = {n: rowcheck.keyed(rows, TABLES[n], self.blocked) for n, rows in frames.items()}
        frames["orders"] = self._new_orders(frames["orders"])
        relinked = self.identity.link(self._links(frames, mapped, rejected_refs, owners))
        changes = self._live(frames, relinked, mapped, rejected_refs, owners, refs, now)
        hooks = self._webhooks(changes, now)
        self._write(jobs, refs, rejected_refs, frames, rejects, relinked, changes, hooks, mapped, owners, now)
        for k, ref in enumerate(refs):
            if k not in rejected_refs:
                self.seen[ref.message.messageId] = now
        return results, changes, hooks

    # -- mapping and validation -----------------------------------------------------------------
    def _map(self, jobs: Sequence[TrackJob], refs: list[_Ref]) -> tuple[Mapped, list[int]]:
        """Map every message; ``owners[n]`` is the ref of the n-th mapped message."""
        out = Mapped()
        owners: list[int] = []
        start = 0
        by_job: dict[int, list[int]] = {}
        for k, ref in enumerate(refs):
            by_job.setdefault(ref.job, []).append(k)
        for j, ks in by_job.items():
            job = jobs[j]
            part = map_messages(
                [refs[k].message for k in ks],
                job.received_at,
                batch_sent_at=job.sent_at,
                batch_context=job.context,
            )
            for name in ("events", "orders", "customers"):
                getattr(out, name).extend(getattr(part, name))
                getattr(out, f"{name}_source").extend(start + s for s in getattr(part, f"{name}_source"))
            out.refunds.extend(type(r)(start + r.index, r.order_id, r.product_ids) for r in part.refunds)
            out.aliases.extend((start + i, a, b) for i, a, b in part.aliases)
            owners.extend(ks)
            start += len(ks)
        return out, owners

    def _merge_profiles(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """identify updates a profile: stored values stay unless the traits give new ones."""
        if not rows:
            return rows
        ids = sorted({r["customer_id"] for r in rows})
        t = self.store.table("customers")
        cols = list(TABLES["customers"].column_names)
        stored = {
            r["customer_id"]: r
            for r in self.store.to_arrow(
                t.filter(t.customer_id.isin(ids)).select(*cols, "properties_extra")
            ).to_pylist()
        }
        merged: dict[str, dict[str, Any]] = {}
        out = []
        for row in rows:
            base = merged.get(row["customer_id"]) or _profile_values(stored.get(row["customer_id"]))
            new = {**base, **row}
            merged[row["customer_id"]] = new
            out.append(new)
        return out

    def _fill_order_customers(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Order lines of an anonymous checkout belong to the customer the device resolves to."""
        out = []
        for row in rows:
            row = dict(row)
            anonymous = row.pop("anonymous_id", None)
            row.pop("_event_id", None)
            if row.get("customer_id") is None and anonymous:
                resolved = self.identity.resolved(f"anonymous_id:{anonymous}")
                if not resolved.startswith("anonymous_id:"):
                    row["customer_id"] = resolved
            out.append(row)
        return out

    def _validate(
        self, spec: TableSpec, rows: list[dict[str, Any]], lines: list[int]
    ) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
        """The file ingest's rules, row by row, on rows from messages (``line`` = the message ref)."""
        checked = rowcheck.validate_rows(
            [{k: _plain(v) for k, v in r.items()} for r in rows],
            spec,
            lines,
            default_country_code=self.identity_settings.default_country_code,
        )
        return checked.rows, checked.rejects

    def _new_orders(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Order lines already stored (the same order sent again with a new messageId) are skipped."""
        if not rows:
            return rows
        keys = [r["_row_key"] for r in rows]
        known = self.store.existing_keys("orders", "_row_key", pa.array(keys, pa.string()))
        if known.num_rows == 0:
            return rows
        stored = set(known.column("k").to_pylist())
        return [r for r in rows if r["_row_key"] not in stored]

    def _links(
        self,
        frames: dict[str, list[dict[str, Any]]],
        mapped: Mapped,
        rejected: set[int],
        owners: list[int],
    ) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name, rows in frames.items():
            pairs += rowcheck.link_pairs(rows, TABLES[name], self.blocked)
        for n, previous, user in mapped.aliases:
            if owners[n] in rejected:
                continue
            prev_customer = self.identity.resolved(f"customer_id:{previous}") != previous or bool(
                self.identity.identifiers_of(previous)
            )
            if prev_customer:  # an older user id: the two customer ids are one person
                pairs.append((f"customer_id:{user}", f"customer_id:{previous}"))
        return pairs

    # -- live segments ----------------------------------------------------------------------------
    def _live(
        self,
        frames: dict[str, list[dict[str, Any]]],
        relinked: Any,
        mapped: Mapped,
        rejected: set[int],
        owners: list[int],
        refs: list[_Ref],
        now: datetime,
    ) -> list[Change]:
        changes: list[Change] = []
        for old, new in {v for v in relinked.moved.values()}:
            changes += self.live.merge(old, new, now, "merge")
        touched: dict[str, str] = {}  # customer -> the messageId that changed them last
        by_customer: dict[str, list[dict[str, Any]]] = {}
        for row in frames["events"]:
            cid = self.identity.resolved(row["_identity"])
            by_customer.setdefault(cid, []).append(row)
            touched[cid] = row.get("event_id") or "event"
        orders_by: dict[str, list[dict[str, Any]]] = {}
        for row in frames["orders"]:
            cid = self.identity.resolved(row["_identity"])
            orders_by.setdefault(cid, []).append(row)
            touched.setdefault(cid, "order")
        for cid in by_customer.keys() | orders_by.keys():
            self.live.add(cid, by_customer.get(cid, ()), orders_by.get(cid, ()))
        for refund in mapped.refunds:
            if owners[refund.index] in rejected:
                continue
            for cid in self._refund(refund.order_id, refund.product_ids, frames):
                self.live.mark_returned(cid, refund.order_id, refund.product_ids)
                touched.setdefault(cid, "refund")
        for cid, cause in touched.items():
            changes += self.live.reevaluate(cid, now, cause)
        return changes

    def _refund(
        self, order_id: str, products: tuple[str, ...], frames: dict[str, list[dict[str, Any]]]
    ) -> list[str]:
        """Mark the order's lines returned (stored lines are rewritten in this transaction)."""
        o = self.store.table("orders")
        stored = self.store.execute(o.filter(o.order_id == order_id))
        pending = rowcheck.as_frame(frames["orders"], TABLES["orders"])
        mask = pending["order_id"] == order_id if len(pending) else pd.Series([], dtype=bool)
        lines = pd.concat([stored, pending[mask]], ignore_index=True) if mask.any() else stored
        if lines.empty:
            return []
        hit = lines["product_id"].isin(products) if products else pd.Series(True, index=lines.index)
        hit &= lines["returned"].ne(True)
        if not hit.any():
            return []
        old_keys = lines.loc[hit, "_row_key"].tolist()
        fixed = lines[hit].copy()
        fixed["returned"] = True
        spec = TABLES["orders"]
        fixed["_row_hash"] = content_hash(fixed, spec)
        fixed["_row_key"] = row_keys(fixed, spec, fixed["_row_hash"])
        self._rewrites.append((old_keys, fixed))
        return sorted({self.identity.resolved(i) for i in fixed["_identity"] if isinstance(i, str)})

    # -- webhooks ---------------------------------------------------------------------------------
    def _webhooks(self, changes: list[Change], now: datetime) -> list[dict[str, Any]]:
        rows = []
        for c in changes:
            for target in self.settings.webhooks:
                if target.segments and c.segment not in target.segments:
                    continue
                if c.change == "exited" and not target.exits:
                    continue
                payload = {
                    "type": f"segment.{c.change}",
                    "segment": c.segment,
                    "customer_id": c.customer_id,
                    "at": c.at.isoformat(),
                    "cause": c.cause,
                }
                rows.append(
                    {
                        "delivery_id": uuid.uuid4().hex,
                        "url": target.url,
                        "payload": json.dumps(payload, separators=(",", ":")),
                        "created_at": now,
                        "status": "pending",
                        "attempts": 0,
                        "last_error": None,
                        "updated_at": now,
                    }
                )
        return rows

    # -- the transaction ----------------------------------------------------------------------------
    def _write(
        self,
        jobs: Sequence[TrackJob],
        refs: list[_Ref],
        rejected: set[int],
        frames: dict[str, list[dict[str, Any]]],
        rejects: list[dict[str, Any]],
        relinked: Any,
        changes: list[Change],
        hooks: list[dict[str, Any]],
        mapped: Mapped,
        owners: list[int],
        now: datetime,
    ) -> None:
        store = self.store
        stamp = pd.Timestamp(now).floor("us")
        rewrites, self._rewrites = self._rewrites, []
        with store.transaction():
            customers = frames["customers"]
            if customers:
                store.delete_where_in("customers", "_row_key", [r["_row_key"] for r in customers])
            source = str(_endpoint_path(jobs))
            for name in ("customers", "events", "orders"):
                rows = frames[name]
                if rows:
                    store.append(name, rowcheck.to_arrow(rows, TABLES[name], source, stamp.to_pydatetime()))
            for old_keys, fixed in rewrites:
                store.delete_where_in("orders", "_row_key", old_keys)
                fixed = fixed.assign(_ingested_at=stamp)
                store.append("orders", pa.Table.from_pandas(fixed, preserve_index=False))
            if rejects:
                store.append("rejects", _rejects_table(rejects, refs, jobs, stamp))
            accepted = [r for k, r in enumerate(refs) if k not in rejected]
            if accepted:
                store.append(
                    "tracked_messages",
                    pa.table(
                        {
                            "message_id": pa.array([r.message.messageId for r in accepted], pa.string()),
                            "kind": pa.array([r.message.type for r in accepted], pa.string()),
                            "received_at": pa.array([now] * len(accepted), pa.timestamp("us")),
                            "key_id": pa.array([jobs[r.job].key_id for r in accepted], pa.string()),
                        }
                    ),
                )
            write_identity(store, relinked, now)
            write_changes(store, self.live, changes, hooks)


def write_identity(store: Store, relinked: Any, now: datetime) -> None:
    """New links, the rewritten map rows of the changed components, new merges."""
    if relinked.new_edges:
        a, b = zip(*relinked.new_edges, strict=True)
        store.append(
            "identity_links",
            pa.table(
                {
                    "identifier_a": pa.array(a, pa.string()),
                    "identifier_b": pa.array(b, pa.string()),
                    "source": pa.array(["api"] * len(a), pa.string()),
                    "seen_at": pa.array([now] * len(a), pa.timestamp("us")),
                }
            ),
        )
    if relinked.identifiers:
        store.delete_where_in("identity_map", "identifier", relinked.identifiers)
    if relinked.mapping:
        ident, cid = zip(*relinked.mapping, strict=True)
        store.append(
            "identity_map",
            pa.table({"identifier": pa.array(ident, pa.string()), "customer_id": pa.array(cid, pa.string())}),
        )
    merges = relinked.merges
    if merges is not None and len(merges):
        store.append(
            "identity_merges",
            pa.table(
                {
                    "merged_at": pa.array([now] * len(merges), pa.timestamp("us")),
                    "customer_id": pa.array(merges["customer_id"].tolist(), pa.string()),
                    "merged_customer_id": pa.array(merges["merged_customer_id"].tolist(), pa.string()),
                    "identifiers": pa.array(merges["identifiers"].tolist(), pa.string()),
                    "rule": pa.array(merges["rule"].tolist(), pa.string()),
                }
            ),
        )


def write_changes(
    store: Store, live: LiveSegments, changes: list[Change], hooks: list[dict[str, Any]]
) -> None:
    """Entries/exits, the changed customers' current memberships, and the webhook deliveries."""
    if changes:
        store.append(
            "live_segment_changes",
            pa.table(
                {
                    "segment": pa.array([c.segment for c in changes], pa.string()),
                    "customer_id": pa.array([c.customer_id for c in changes], pa.string()),
                    "change": pa.array([c.change for c in changes], pa.string()),
                    "changed_at": pa.array([c.at for c in changes], pa.timestamp("us")),
                    "cause": pa.array([c.cause for c in changes], pa.string()),
                }
            ),
        )
        customers = sorted({c.customer_id for c in changes})
        store.delete_where_in("live_memberships", "customer_id", customers)
        rows = [(s, cid, at) for cid in customers for s, at in live.memberships(cid).items()]
        if rows:
            seg, cid, at = zip(*rows, strict=True)
            store.append(
                "live_memberships",
                pa.table(
                    {
                        "segment": pa.array(seg, pa.string()),
                        "customer_id": pa.array(cid, pa.string()),
                        "entered_at": pa.array(at, pa.timestamp("us")),
                    }
                ),
            )
    if hooks:
        store.append("webhook_outbox", pa.Table.from_pylist(hooks, schema=OUTBOX_SCHEMA))


OUTBOX_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("url", pa.string()),
        ("payload", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("attempts", pa.int32()),
        ("last_error", pa.string()),
        ("updated_at", pa.timestamp("us")),
    ]
)


def _endpoint_path(jobs: Sequence[TrackJob]) -> Any:
    from pathlib import PurePosixPath

    return PurePosixPath(f"api:{jobs[0].endpoint}" if jobs else "api")


def _rejects_table(
    rejects: list[dict[str, Any]], refs: list[_Ref], jobs: Sequence[TrackJob], stamp: pd.Timestamp
) -> pa.Table:
    rows = []
    ingest_id = "api-" + uuid.uuid4().hex[:8]
    for r in rejects:
        ref = refs[r["ref"]]
        rows.append(
            {
                "ingest_id": ingest_id,
                "kind": r["table"],
                "file": f"api:{jobs[ref.job].endpoint}",
                "line": ref.index,
                "reason": r["reason"],
                "raw": ref.message.model_dump_json(),
                "rejected_at": stamp.to_pydatetime(),
            }
        )
    schema = pa.schema(
        [
            ("ingest_id", pa.string()),
            ("kind", pa.string()),
            ("file", pa.string()),
            ("line", pa.int64()),
            ("reason", pa.string()),
            ("raw", pa.string()),
            ("rejected_at", pa.timestamp("us")),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _profile_values(row: dict[str, Any] | None) -> dict[str, Any]:
    """A stored customers row as input values (extras unpacked back into their own keys)."""
    if not row:
        return {}
    out = {k: v for k, v in row.items() if v is not None and k != "properties_extra"}
    extra = row.get("properties_extra")
    if isinstance(extra, str) and extra:
        with contextlib.suppress(json.JSONDecodeError):
            out = {**json.loads(extra), **out}
    for k in ("created_at", "birth_date"):
        if k in out and hasattr(out[k], "isoformat"):
            out[k] = out[k].isoformat()
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    return v
