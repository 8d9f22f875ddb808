"""Group commit: many tracking requests validated, stitched, evaluated and written as one.

Storage/application layer, run only by the writer thread (:mod:`personae.live.writer`).
For one group of requests it

1. drops messages whose ``messageId`` was seen before (idempotency; they are acknowledged);
2. maps messages to canonical rows (:mod:`personae.live.tracking`) and checks, keys and
   links them row by row (:mod:`personae.live.rowcheck`: the file ingest's rules from the
   same ``TableSpec``, without pandas' fixed cost per call) — a row a CSV would reject is
   rejected here too, with the same reason, and lands in ``rejects``;
3. stitches identities (:class:`~personae.live.identity.IdentityIndex`), updates each
   customer's live state and membership (:class:`~personae.live.segments.LiveSegments`);
4. writes rows, rejects, links, identity map, memberships, changes and webhook deliveries as
   ONE group — durable in the service's journal (:mod:`personae.live.commit_log`), then
   applied to the store as one transaction — and only then are the requests acknowledged.

Reads of the store that a decision depends on see every acknowledged group: a stored profile
an ``identify`` merges into and order lines already stored are read from the store *and* the
groups not applied yet (:meth:`CommitLog.pending`); a refund (rare) waits for the barrier.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from personae.app import webhooks as webhook_delivery
from personae.app.ingest.keys import content_hash, row_keys
from personae.app.ingest.loader import blocked_values
from personae.app.tombstones import Tombstones, tombstoned_texts
from personae.clock import DEFAULT_ZONE
from personae.config import IdentitySettings
from personae.config.ingest import IngestSettings
from personae.config.personalize import WebhookSettings
from personae.config.service import ServiceSettings
from personae.live import rowcheck
from personae.live.commit_log import CommitLog
from personae.live.identity import IdentityIndex
from personae.live.payloads import Alias, Identify, Invalid, Page, Screen, Track
from personae.live.segments import Change, LiveSegments
from personae.live.tracking import Mapped, map_messages
from personae.schema import TABLES, TableSpec
from personae.store import DuckDBStore
from personae.store.journal import Rows

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
    #: where each message sits in the request's batch (``None``: ``messages`` is the batch)
    positions: Sequence[int] | None = None
    #: messages of the batch the message schema refused (:func:`~personae.live.payloads.split_batch`):
    #: rejected with their reason, kept in ``rejects``, while the batch's good messages are stored
    invalid: Sequence[Invalid] = ()


@dataclass
class TrackResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    #: messages about an erased person: acknowledged, not stored
    suppressed: int = 0


@dataclass
class _Ref:
    job: int
    index: int
    message: Any


class Committer:
    """The writer's state: the store it writes, identities, live segments, seen messageIds."""

    def __init__(
        self,
        store: DuckDBStore,
        identity: IdentityIndex,
        live: LiveSegments,
        seen: dict[str, datetime],
        settings: ServiceSettings,
        identity_settings: IdentitySettings,
        clock: Callable[[], datetime],
        webhooks: WebhookSettings | None = None,
        tombstones: Tombstones | None = None,
        log: CommitLog | None = None,
        ingest_settings: IngestSettings | None = None,
        timezone: str = DEFAULT_ZONE,
    ) -> None:
        self.store = store
        #: the plausible date window, the file ingest's (``ingest:`` in personae.yaml)
        self.ingest_settings = ingest_settings or IngestSettings()
        #: the shop's time zone: a tracked time without an offset is its local time
        self.timezone = timezone
        #: where groups go: the journal, then the store (or the store directly)
        self.log = log or CommitLog(store, None)
        self.webhooks = webhooks or WebhookSettings()
        self.tombstones = tombstones
        self.identity = identity
        self.live = live
        self.seen = seen
        self.settings = settings
        self.identity_settings = identity_settings
        self.blocked = blocked_values(identity_settings)
        self.clock = clock
        #: stored order lines to rewrite as returned in this group's transaction
        self._rewrites: list[tuple[list[str], pd.DataFrame]] = []
        self._no_hooks: pa.Table | None = None

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
                refs.append(_Ref(j, job.positions[i] if job.positions is not None else i, m))
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
        # a message about an erased person is acknowledged and dropped: nothing of it is stored,
        # not even as a reject (the loader's rule for files: "not ingested, content not kept")
        erased = self._erased(frames, refs, rejected_refs)
        erased |= self._erased_aliases(mapped, owners)
        if erased:
            rejects = [r for r in rejects if r["ref"] not in erased]
            for k in erased:
                results[refs[k].job].suppressed += 1
        # a message with any rejected row is rejected whole (its other rows are not written)
        dropped = rejected_refs | erased
        if dropped:
            frames = {n: [r for r in rows if r["_source_line"] not in dropped] for n, rows in frames.items()}
        rejected_refs = {r["ref"] for r in rejects}
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
            if k not in rejected_refs and k not in erased:
                results[ref.job].accepted += 1
        rejected_refs |= erased  # neither written nor remembered as seen
        invalid = self._invalid(jobs, results)
        for result in results:
            result.rejected.sort(key=lambda r: int(r["index"]))

        frames = {n: rowcheck.keyed(rows, TABLES[n], self.blocked) for n, rows in frames.items()}
        frames["orders"] = self._new_orders(frames["orders"])
        relinked = self.identity.link(self._links(frames, mapped, rejected_refs, owners))
        changes = self._live(frames, relinked, mapped, rejected_refs, owners, refs, now)
        hooks = self._webhooks(changes, now)
        self._write(jobs, refs, rejected_refs, frames, rejects, invalid, relinked, changes, hooks, now)
        for k, ref in enumerate(refs):
            if k not in rejected_refs:
                self.seen[ref.message.messageId] = now
        return results, changes, hooks.to_pylist() if hooks.num_rows else []

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
                timezone=self.timezone,
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
        pending = self.log.pending("customers")  # before the store: see CommitLog.pending
        cols = list(TABLES["customers"].column_names)
        stored = {
            r["customer_id"]: r
            for r in self.store.rows_where_in(
                "customers", "customer_id", ids, [*cols, "properties_extra"]
            ).to_pylist()
        }
        wanted = set(ids)
        for table in pending:  # newer than the store's, in the order they were written
            for r in table.select([*cols, "properties_extra"]).to_pylist():
                if r["customer_id"] in wanted:
                    stored[r["customer_id"]] = r
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
            settings=self.ingest_settings,
            timezone=self.timezone,
        )
        return checked.rows, checked.rejects

    def _new_orders(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Order lines already stored (the same order sent again with a new messageId) are skipped."""
        if not rows:
            return rows
        keys = [r["_row_key"] for r in rows]
        pending = self.log.pending("orders")  # before the store: see CommitLog.pending
        known = self.store.existing_keys("orders", "_row_key", pa.array(keys, pa.string()))
        stored = set(known.column("k").to_pylist())
        for table in pending:
            stored.update(table.column("_row_key").to_pylist())
        if not stored:
            return rows
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
        self.log.barrier()
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
    def _webhooks(self, changes: list[Change], now: datetime) -> pa.Table:
        """The library's webhook messages for these changes (its consent gate, ids, payloads)."""
        if not changes or not self.webhooks.subscriptions:
            # nothing to send: one empty outbox table for every group, not a new one each time
            if self._no_hooks is None:
                self._no_hooks = webhook_delivery.live_messages(self.webhooks, [], self._traits_of, now)
            return self._no_hooks
        return webhook_delivery.live_messages(
            self.webhooks,
            [(c.segment, c.customer_id, c.change, c.at) for c in changes],
            self._traits_of,
            now,
        )

    def _traits_of(self, customer_id: str) -> dict[str, Any]:
        state = self.live.states.get(customer_id)
        return dict(state.traits) if state is not None else {}

    # -- erased people ------------------------------------------------------------------------------
    def _erased(
        self, frames: dict[str, list[dict[str, Any]]], refs: list[_Ref], rejected: set[int]
    ) -> set[int]:
        """Refs of messages about an erased person (by any identifier, as the file loader checks)."""
        if not self.tombstones:
            return set()
        hit: set[int] = set()
        for name, rows in frames.items():
            spec = TABLES[name]
            for row in rows:
                ids = [i for _, i in rowcheck.identities(row, spec, self.blocked)]
                if row["_source_line"] not in hit and self.tombstones.any_erased(ids):
                    hit.add(row["_source_line"])
        # a rejected message never got typed identifiers: its text is searched, as for file rejects
        bad = sorted(rejected - hit)
        if bad:
            texts = [refs[k].message.model_dump_json() for k in bad]
            # erasures are written by admin calls, which wait for the barrier: the store has them
            found = tombstoned_texts(
                self.store, texts, default_country_code=self.identity_settings.default_country_code
            )
            hit.update(k for k, gone in zip(bad, found, strict=True) if gone)
        return hit

    def _invalid(self, jobs: Sequence[TrackJob], results: list[TrackResult]) -> list[tuple[int, Invalid]]:
        """Messages the schema refused: rejected (listed, kept in ``rejects``), or, when their text
        names an erased person, suppressed and not kept — the rule for every rejected message."""
        bad = [(j, b) for j, job in enumerate(jobs) for b in job.invalid]
        if not bad:
            return []
        gone = [False] * len(bad)
        if self.tombstones:
            found = tombstoned_texts(
                self.store,
                [b.raw for _, b in bad],
                default_country_code=self.identity_settings.default_country_code,
            )
            gone = [bool(x) for x in found]
        kept = []
        for (j, b), erased in zip(bad, gone, strict=True):
            if erased:
                results[j].suppressed += 1
                continue
            results[j].rejected.append(
                {"index": b.index, "messageId": b.message_id, "reason": f"message: {b.reason}"}
            )
            kept.append((j, b))
        return kept

    def _erased_aliases(self, mapped: Mapped, owners: list[int]) -> set[int]:
        """Refs of ``alias`` messages naming an erased user id (old or new): linking a new id to an
        erased person would bring them back."""
        if not self.tombstones:
            return set()
        return {
            owners[n]
            for n, previous, user in mapped.aliases
            if self.tombstones.any_erased([f"customer_id:{previous}", f"customer_id:{user}"])
        }

    # -- the transaction ----------------------------------------------------------------------------
    def _write(
        self,
        jobs: Sequence[TrackJob],
        refs: list[_Ref],
        rejected: set[int],
        frames: dict[str, list[dict[str, Any]]],
        rejects: list[dict[str, Any]],
        invalid: list[tuple[int, Invalid]],
        relinked: Any,
        changes: list[Change],
        hooks: pa.Table,
        now: datetime,
    ) -> None:
        """Everything the group changed, in ONE store call: one transaction, one round trip."""
        stamp = pd.Timestamp(now).floor("us")
        rewrites, self._rewrites = self._rewrites, []
        deletes: list[tuple[str, pa.Table]] = []
        appends: list[tuple[str, pa.Table]] = []
        customers = frames["customers"]
        if customers:
            deletes.append(("customers", _keys(_row_key=[r["_row_key"] for r in customers])))
        # order lines marked returned: the old lines go, the fixed ones come (a line of this very
        # group that is being fixed is written once, fixed)
        replaced = {k for old_keys, _ in rewrites for k in old_keys}
        if replaced:
            deletes.append(("orders", _keys(_row_key=sorted(replaced))))
        source = str(_endpoint_path(jobs))
        for name in ("customers", "events", "orders"):
            rows = frames[name]
            if name == "orders" and replaced:
                rows = [r for r in rows if r["_row_key"] not in replaced]
            if rows:
                appends.append((name, rowcheck.to_arrow(rows, TABLES[name], source, stamp.to_pydatetime())))
        for _, fixed in rewrites:
            fixed = fixed.assign(_ingested_at=stamp)
            appends.append(("orders", pa.Table.from_pandas(fixed, preserve_index=False)))
        if rejects or invalid:
            appends.append(("rejects", _rejects_table(rejects, invalid, refs, jobs, stamp)))
        accepted = [r for k, r in enumerate(refs) if k not in rejected]
        if accepted:
            appends.append(
                (
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
            )
        identity_rows(relinked, now, deletes, appends)
        change_rows(self.live, changes, hooks, deletes, appends)
        self.log.write(deletes, appends)


def _keys(**columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})


def identity_rows(
    relinked: Any, now: datetime, deletes: list[tuple[str, pa.Table]], appends: list[tuple[str, pa.Table]]
) -> None:
    """New links, the identity-map rows that changed (by key), new merges."""
    if relinked.new_edges:
        a, b = zip(*relinked.new_edges, strict=True)
        appends.append(
            (
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
        )
    if relinked.identifiers:
        deletes.append(("identity_map", _keys(identifier=list(relinked.identifiers))))
    if relinked.mapping:
        ident, cid = zip(*relinked.mapping, strict=True)
        appends.append(
            (
                "identity_map",
                pa.table(
                    {"identifier": pa.array(ident, pa.string()), "customer_id": pa.array(cid, pa.string())}
                ),
            )
        )
    merges = relinked.merges
    if merges is not None and len(merges):
        appends.append(
            (
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
        )


def change_rows(
    live: LiveSegments,
    changes: list[Change],
    hooks: pa.Table,
    deletes: list[tuple[str, pa.Table]],
    appends: list[tuple[str, pa.Table]],
) -> None:
    """Entries/exits, the membership rows that changed (by key), and the webhook messages.

    ``live_memberships`` mirrors the in-memory memberships, so a (segment, customer) pair whose
    first change in this group is an entry is not stored yet (only an insert), one whose first
    change is an exit is (a delete); the pair's row after the group is the in-memory one.
    """
    if changes:
        appends.append(
            (
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
        )
        first: dict[tuple[str, str], str] = {}
        for c in changes:
            first.setdefault((c.segment, c.customer_id), c.change)
        stored = [pair for pair, change in first.items() if change == "exited"]
        if stored:
            deletes.append(
                (
                    "live_memberships",
                    _keys(segment=[s for s, _ in stored], customer_id=[c for _, c in stored]),
                )
            )
        now_in = [(seg, cid, live.members.get(cid, {}).get(seg)) for seg, cid in first]
        rows = [r for r in now_in if r[2] is not None]
        if rows:
            appends.append(
                (
                    "live_memberships",
                    pa.table(
                        {
                            "segment": pa.array([r[0] for r in rows], pa.string()),
                            "customer_id": pa.array([r[1] for r in rows], pa.string()),
                            "entered_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
                        }
                    ),
                )
            )
    if hooks.num_rows:
        appends.append((webhook_delivery.MESSAGES, hooks))


def write_changes(
    write: Callable[[Rows, Rows], None], live: LiveSegments, changes: list[Change], hooks: pa.Table
) -> None:
    """Membership changes outside a tracking group (schedule, consent, new rules): one group."""
    deletes: list[tuple[str, pa.Table]] = []
    appends: list[tuple[str, pa.Table]] = []
    change_rows(live, changes, hooks, deletes, appends)
    write(deletes, appends)


def _endpoint_path(jobs: Sequence[TrackJob]) -> Any:
    from pathlib import PurePosixPath

    return PurePosixPath(f"api:{jobs[0].endpoint}" if jobs else "api")


def _rejects_table(
    rejects: list[dict[str, Any]],
    invalid: list[tuple[int, Invalid]],
    refs: list[_Ref],
    jobs: Sequence[TrackJob],
    stamp: pd.Timestamp,
) -> pa.Table:
    rows = []
    ingest_id = "api-" + uuid.uuid4().hex[:8]
    for j, bad in invalid:  # refused by the message schema: a message is an events row
        rows.append(
            {
                "ingest_id": ingest_id,
                "kind": "events",
                "file": f"api:{jobs[j].endpoint}",
                "line": bad.index,
                "reason": f"message: {bad.reason}",
                "raw": bad.raw,
                "rejected_at": stamp.to_pydatetime(),
            }
        )
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
            # a stored timestamp is a UTC instant: say so, or it would be read as local time
            # again; a stored date is the shop's calendar day and reads back as itself
            at = out[k]
            if k == "created_at" and isinstance(at, datetime) and at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            out[k] = at.isoformat()
    return out


def _plain(v: Any) -> Any:
    """A value for the row validator; a datetime here is an instant (naive = UTC), so it is
    written with its offset and not read as the shop's local time."""
    if isinstance(v, datetime):
        return (v if v.tzinfo is not None else v.replace(tzinfo=UTC)).isoformat()
    return v
