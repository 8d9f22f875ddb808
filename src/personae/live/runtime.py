"""The running service: one object that owns the store, the writer, the live state and the keys.

Application layer; the FastAPI routers call only this (no queries in route bodies). The write
connection belongs to the writer thread, and to the commit log's applier, which writes the
groups the writer acknowledged once they were journalled (:mod:`personae.live.commit_log`).
Reads use a second connection (a DuckDB cursor on the same database, so they see every
committed write) behind their own lock, after waiting until the store holds every acknowledged
group (read-your-writes). The in-memory live state (identities, memberships) is guarded by
``self.lock``, held by the writer while it changes it and by readers while they copy from it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from personae.app import actions, audit
from personae.app import keys as keystore
from personae.app import recommend as recommending
from personae.app import webhooks as webhook_delivery
from personae.app.customers import latest_consents, resolve_customer_id
from personae.app.privacy import access_report, erase_customer, find_subject
from personae.app.segments.library import add_segments, all_definitions
from personae.app.tombstones import Tombstones
from personae.app.traits import customer_traits
from personae.config import Settings
from personae.errors import InputError, NotFoundError
from personae.identity.normalize import normalize_emails, normalize_phones
from personae.live import rowcheck
from personae.live.commit import Committer, TrackJob, TrackResult, write_changes
from personae.live.commit_log import CommitLog
from personae.live.identity import knows
from personae.live.loading import load_identity, load_members, load_rules, load_seen, load_states
from personae.live.segments import Change, LiveSegments
from personae.live.writer import Writer
from personae.privacy.keys import PII_FIELDS, PII_IDENTIFIER_KINDS, ApiKey, KeyRing
from personae.schema import CONSENT_PURPOSES, TABLES
from personae.segments.definitions import SegmentDefinition
from personae.segments.realtime import CustomerState
from personae.store import DuckDBStore, Store
from personae.traits.consent import default_flags

log = logging.getLogger("personae.service")

#: what a recommendation model is fitted on: a change to any of them means a new fit
_RECOMMEND_INPUTS = ("traits", "orders", "events", "products", "identity_map", "affinities")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Runtime:
    """Everything ``personae serve`` keeps while it runs. Call :meth:`start` then :meth:`stop`."""

    def __init__(self, db: str | Path, settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = str(db)
        self.settings = settings
        self.service = settings.service
        self.clock = clock
        self.lock = threading.RLock()
        self._read_lock = threading.Lock()
        self.store: DuckDBStore | None = None
        self.reader: DuckDBStore | None = None
        self.keys = KeyRing([])
        self._recommend_cache: tuple[tuple[Any, ...], recommending.Context] | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.store = DuckDBStore.open(self.db)
        # replays what a crash left in the journal: the state below is loaded from a store
        # that holds every acknowledged group
        self.log = CommitLog.open(
            self.store, enabled=self.service.journal, backlog=self.service.journal_backlog
        )
        self.reader = DuckDBStore(ibis.duckdb.from_connection(self.store.raw.cursor()), self.db)
        self.keys = keystore.key_ring(self.store)
        self._load()
        self._tune_store()
        webhook_delivery.check_secrets(self.settings.personalize.webhooks)
        self.sender = webhook_delivery.Courier(self.settings.personalize.webhooks, self._delivered)
        self.writer = Writer(
            self._commit,
            self.service.queue_capacity,
            self.service.group_commit_max,
            self._tick,
            self.service.expiry_check_seconds,
            self._reload_after_failure,
            linger_seconds=self.service.group_commit_linger_ms / 1000,
            before_call=self.log.barrier,
            chore=_collect_and_freeze,
            chore_seconds=self.service.gc_freeze_seconds,
            step=self._refresh_step,
        )
        self.log.start()
        self.refresh(cause="startup", webhooks=False)
        self.writer.start()
        self.sender.start()
        self.sender.send(webhook_delivery.pending(self.store))

    def stop(self) -> None:
        self.writer.stop()
        self.log.close()  # applies what is queued
        self.sender.stop()
        if self.store is not None:
            self.store.close()

    def _load(self) -> None:
        assert self.store is not None
        now = self.clock()
        rules = load_rules(self.store, self.settings.traits)
        live = LiveSegments(
            rules,
            members=load_members(self.store),
            new_traits=default_flags(self.settings.traits.consent_defaults),
        )
        needs = live.needs
        traits = set(needs.traits) | {f"consent_{p}" for p in CONSENT_PURPOSES}
        live.states = load_states(self.store, type(needs)(frozenset(traits), *_rest(needs)), now.date())
        self.committer = Committer(
            self.store,
            load_identity(self.store),
            live,
            load_seen(self.store, now - timedelta(days=self.service.dedupe_days)),
            self.service,
            self.settings.identity,
            self.clock,
            webhooks=self.settings.personalize.webhooks,
            tombstones=Tombstones(self.store) if self.settings.privacy.tombstones else None,
            log=self.log,
            ingest_settings=self.settings.ingest,
            timezone=self.settings.timezone,
        )
        # the loaded state (every customer's identities, events, memberships) lives as long as
        # the server: keep it out of the collector's full passes, whose pause grew with it and
        # showed as the latency tail of whichever group it fell in
        gc.collect()
        gc.freeze()

    def _tune_store(self) -> None:
        """Settings for serving, applied after the load (bulk reads that do profit from every
        core): from here on the statements are tiny and many."""
        if self.store is None:
            return
        if self.service.duckdb_threads:
            self.store.set_threads(self.service.duckdb_threads)
        if self.service.checkpoint_wal_mb:
            self.store.set_checkpoint_threshold(self.service.checkpoint_wal_mb)

    def _reload_after_failure(self) -> None:
        with self.lock:
            try:
                self.log.barrier()  # the state is reloaded from a store with every acknowledged group
                self._load()
            except Exception:
                log.exception("could not reload the live state after a failed write")

    @property
    def live(self) -> LiveSegments:
        return self.committer.live

    # -- writing (all on the writer thread) ---------------------------------------------------------
    def track(self, job: TrackJob) -> Future[TrackResult]:
        return self.writer.submit(job)

    def _commit(self, jobs: list[TrackJob]) -> list[TrackResult]:
        with self.lock:
            results, _, hooks = self.committer.commit(jobs)
        self.sender.send(hooks)
        return results

    def refresh(self, cause: str = "schedule", webhooks: bool = True) -> int:
        """Re-evaluate everyone for today (time-window exits); forget old messageIds."""
        assert self.store is not None
        now = self.clock()
        with self.lock:
            changes = self.live.refresh(now, cause)
            hooks = self._record(changes, now, webhooks=webhooks)
            forget_before(self.committer.seen, now - timedelta(days=self.service.dedupe_days))
        self.sender.send(hooks.to_pylist())
        return len(changes)

    def _tick(self) -> None:
        """Every ``expiry_check_seconds``: forget expired messageIds; the writer then runs
        :meth:`_refresh_step` until everyone is evaluated for today (and its housekeeping chore,
        :func:`_collect_and_freeze`, keeps the collector tidy, also when no request comes)."""
        with self.lock:
            forget_before(self.committer.seen, self.clock() - timedelta(days=self.service.dedupe_days))

    def _refresh_step(self) -> bool:
        """A piece of the scheduled re-evaluation (the day change): ``True`` while more remains."""
        now = self.clock()
        with self.lock:
            changes, done = self.live.refresh_some(now, self.service.refresh_step_customers)
            if not changes:
                return not done
            hooks = self._record(changes, now)
        self.sender.send(hooks.to_pylist())
        return not done

    def _record(self, changes: list[Change], now: datetime, webhooks: bool = True) -> pa.Table:
        """Write membership changes and their webhook messages as one group (hold ``self.lock``);
        returns the messages, to send once the lock is released."""
        hooks = self.committer._webhooks(changes if webhooks else [], now)
        write_changes(self.log.write, self.live, changes, hooks)
        return hooks

    def run_on_writer(self, fn: Callable[[], Any], timeout: float = 60.0) -> Any:
        return self.writer.call(fn).result(timeout)

    def set_consent(
        self, given: str, purpose: str, granted: bool, source: str | None, actor: str = "api"
    ) -> dict[str, Any]:
        """Append a consent decision; the customer's live segments are re-evaluated at once.

        The audit entry is written in the same transaction as the decision: a consent change
        that is not in the log cannot have happened.
        """
        if purpose not in CONSENT_PURPOSES:
            raise InputError(f"unknown purpose {purpose!r}", hint=f"use one of {', '.join(CONSENT_PURPOSES)}")
        cid = self.resolve(given)

        def write() -> dict[str, Any]:
            assert self.store is not None
            now = self.clock()
            row = {
                "customer_id": cid,
                "purpose": purpose,
                "granted": granted,
                "recorded_at": now,  # an instant (naive UTC): the validator is told so
                "source": source or "api",
            }
            with self.lock:
                rows, bad = self.committer._validate(TABLES["consents"], [row], [0])
                if bad:
                    raise InputError(bad[0][1])
                rows = rowcheck.keyed(rows, TABLES["consents"], self.committer.blocked)

                state = self.live.states.get(cid) or CustomerState.of(cid, {})
                traits = {**state.traits, f"consent_{purpose}": granted}
                self.live.states[cid] = type(state)(
                    cid, traits, state.events, state.orders, state.affinities, state.segments
                )
                changes = self.live.reevaluate(cid, now, "consent")
                hooks = self.committer._webhooks(changes, now)
                with self.store.transaction():
                    self.store.append(
                        "consents",
                        rowcheck.to_arrow(rows, TABLES["consents"], "api:/v1/consents", now),
                    )
                    write_changes(self.store.write_many, self.live, changes, hooks)
                    audit.record(
                        self.store,
                        actor=actor,
                        channel="api",
                        action="change consent",
                        customer_id=cid,
                        detail=f"{purpose}={'granted' if granted else 'withdrawn'}",
                    )
            self.sender.send(hooks.to_pylist())
            return {
                "customer_id": cid,
                "purpose": purpose,
                "granted": granted,
                "recorded_at": now.isoformat(),
            }

        return dict(self.run_on_writer(write))

    def add_segment(self, name: str, rule: str, description: str) -> dict[str, Any]:
        """Define (or edit) a segment; live memberships follow at once."""

        def write() -> dict[str, Any]:
            assert self.store is not None
            report = add_segments(
                self.store,
                [SegmentDefinition(name, rule, description)],
                source="api",
                settings=self.settings.traits,
            )
            with self.lock:
                self.live.replace_rules(load_rules(self.store, self.settings.traits))
                # a new rule may read traits, events or orders the live states do not hold yet
                needs = self.live.needs
                traits = set(needs.traits) | {f"consent_{p}" for p in CONSENT_PURPOSES}
                self.live.states = load_states(
                    self.store, type(needs)(frozenset(traits), *_rest(needs)), self.clock().date()
                )
            self.refresh(cause="rules")
            return report[0]

        return dict(self.run_on_writer(write))

    def create_key(self, role: str, name: str | None) -> tuple[ApiKey, str]:
        def write() -> tuple[ApiKey, str]:
            assert self.store is not None
            made = keystore.create_key(self.store, role, name)
            self.keys = keystore.key_ring(self.store)
            return made

        result: tuple[ApiKey, str] = self.run_on_writer(write)
        return result

    def revoke_key(self, key_id: str) -> ApiKey:
        def write() -> ApiKey:
            assert self.store is not None
            key = keystore.revoke_key(self.store, key_id)
            self.keys = keystore.key_ring(self.store)
            return key

        result: ApiKey = self.run_on_writer(write)
        return result

    # -- audit and data rights (all on the writer thread: it owns the write connection) ------------
    def audit(
        self, actor: str, action: str, customer_id: str | None = None, detail: str | None = None
    ) -> None:
        """Record an API read of personal data, and wait until it is committed.

        Waiting makes the log trustworthy: the data is only returned once the entry exists, so
        a read that is not in the log did not happen (at the cost of one small write per read).
        """

        def write() -> None:
            assert self.store is not None
            audit.record(
                self.store, actor=actor, channel="api", action=action, customer_id=customer_id, detail=detail
            )

        self.run_on_writer(write)

    def export_customer(self, given: str, actor: str) -> dict[str, Any]:
        """Everything held on the person (right of access); audited by :func:`access_report`."""

        def work() -> dict[str, Any]:
            assert self.store is not None
            subject = find_subject(
                self.store, given, default_country_code=self.settings.identity.default_country_code
            )
            return access_report(self.store, subject, actor=actor, channel="api")

        return dict(self.run_on_writer(work, timeout=300.0))

    def erase(self, given: str, reason: str | None, actor: str) -> dict[str, Any]:
        """Erase the person (right to erasure) while the service keeps running.

        ``erase_customer`` rewrites the database file and reconnects the store in place, so
        nothing else may touch the file meanwhile: this runs on the writer thread (no tracking
        group commits in between) holding the live-state lock and the read lock (no reads), and
        the read connection — a cursor of the old connection — is closed before and opened anew
        on the new file after. The live state is then reloaded from the store, which drops the
        person's identities, traits and memberships from memory.
        """

        def work() -> dict[str, Any]:
            assert self.store is not None
            with self.lock, self._read_lock:
                subject = find_subject(
                    self.store, given, default_country_code=self.settings.identity.default_country_code
                )
                if self.reader is not None:
                    self.reader.close()
                try:
                    result = erase_customer(
                        self.store,
                        subject,
                        reason=reason,
                        actor=actor,
                        channel="api",
                        tombstones=self.settings.privacy.tombstones,
                    )
                finally:
                    self.reader = DuckDBStore(ibis.duckdb.from_connection(self.store.raw.cursor()), self.db)
                    self._load()
                    self._tune_store()  # the rewritten file is a new database: its own settings
            return {"customer_id": subject.customer_id, **result}

        return dict(self.run_on_writer(work, timeout=600.0))

    def _delivered(self, msg: dict[str, Any], status: str, attempts: int, error: str | None) -> None:
        """A webhook message was sent (or given up): recorded by the library, on the writer thread."""

        def write() -> None:
            assert self.store is not None
            webhook_delivery.record_outcome(self.store, msg, status, attempts, error)

        with contextlib.suppress(Exception):
            self.writer.call(write)

    # -- reading ---------------------------------------------------------------------------------
    def resolve(self, given: str, *, pii: bool = True) -> str:
        """The unified customer id for any known identifier (id, userId, email, phone, anonymousId);
        ``pii=False`` (a read key): not by email, phone or loyalty id (see resolve_customer_id)."""
        given = given.strip()
        if not given:
            raise InputError("an empty customer id")
        candidates = [f"customer_id:{given}"]
        if ":" in given and (pii or given.split(":", 1)[0] not in PII_IDENTIFIER_KINDS):
            candidates.insert(0, given)
        if pii:
            candidates.append(f"loyalty_id:{given}")
        candidates += [f"anonymous_id:{given}", f"device_id:{given}"]
        with self.lock:
            if found := self._linked(candidates):
                return found
            # a prospect never linked to anyone is known by its own identifier (its live state)
            for c in (given, *candidates):
                if c in self.live.states or c in self.live.members:
                    return c
        if not pii:
            return self._resolve_stored(given, pii=False)
        # an email or a phone number in any format: normalising costs more than the lookups
        # above (a profile read by id must not pay for it), so only when they found nothing
        email = normalize_emails(pd.Series([given]))[0]
        phone = normalize_phones(pd.Series([given]), self.settings.identity.default_country_code)[0]
        normalised = [f"email:{email}" if email else "", f"phone:{phone}" if phone else ""]
        with self.lock:
            if found := self._linked([c for c in normalised if c]):
                return found
        return self._resolve_stored(given, pii=True)

    def _resolve_stored(self, given: str, *, pii: bool) -> str:
        """The store's answer, once the in-memory indexes found nothing."""
        self.log.visible()
        with self._read_lock:
            assert self.reader is not None
            return resolve_customer_id(
                self.reader, given, default_country_code=self.settings.identity.default_country_code, pii=pii
            )

    def _linked(self, candidates: list[str]) -> str | None:
        """The unified id of the first candidate identifier the identity index knows (hold the lock)."""
        index = self.committer.identity
        return next((index.resolved(c) for c in candidates if knows(index, c)), None)

    def customer(self, given: str, *, pii: bool) -> dict[str, Any]:
        """Profile, traits, live segments and consents of one customer (PII only when ``pii``)."""
        cid = self.resolve(given, pii=pii)
        with self.lock:
            segments = self.live.memberships(cid)
            identifiers = self.committer.identity.identifiers_of(cid) or [
                cid if ":" in cid else f"customer_id:{cid}"
            ]
        self.log.visible()  # read-your-writes: every acknowledged event is in the store
        with self._read_lock:
            assert self.reader is not None
            rows = self.reader.cached_arrow("profile", self.reader.profiles, cid).to_pylist()

            traits = customer_traits(self.reader, cid) or {}
            consents = latest_consents(self.reader, cid)
        profile = {}
        if rows:
            profile = {
                k: _json(v) for k, v in rows[0].items() if not k.startswith("_") and k != "source_customer_id"
            }
        if not pii:
            profile = {k: v for k, v in profile.items() if k not in PII_FIELDS}
            traits = {k: v for k, v in traits.items() if k not in PII_FIELDS}
            identifiers = [
                i for i in identifiers if i.split(":", 1)[0] not in ("email", "phone", "loyalty_id")
            ]
        traits.pop("customer_id", None)
        return {
            "customer_id": cid,
            "profile": profile,
            "identifiers": identifiers,
            "traits": traits,
            "segments": [
                {"name": s, "entered_at": at.isoformat(), "source": "live"}
                for s, at in sorted(segments.items(), key=lambda kv: (kv[1], kv[0]))
            ],
            "consents": consents,
        }

    def recommendations(self, customer_id: str, limit: int) -> dict[str, Any]:
        """``personae recommend CUSTOMER_ID --json`` for a resolved customer id.

        The library fits its model on the store as of the traits' date; the fitted context is
        kept while what it was fitted on is unchanged (the traits' date and the row counts of
        the tables it reads), so an answer equals the CLI's without a fit per request.
        """
        settings = self.settings.personalize.recommend
        self.log.visible()
        with self._read_lock:
            assert self.reader is not None
            ctx = self._recommend_context(self.reader)
            recs = recommending.recommend_one(ctx, customer_id, limit)
        return {
            "customer_id": customer_id,
            "model": settings.model,
            "as_of": ctx.as_of.isoformat(),
            "recommendations": recs,
        }

    def _recommend_context(self, store: Store) -> recommending.Context:
        settings = self.settings.personalize.recommend
        key = (
            recommending.traits_as_of(store),
            *(store.count(t) if store.has_table(t) else -1 for t in _RECOMMEND_INPUTS),
            # `personae recommend tune` run while the server is up changes the parameters
            recommending.tuned(store, settings, settings.model),
        )
        cached = self._recommend_cache
        if cached is None or cached[0] != key:
            cached = (key, recommending.fit_context(store, self.settings.personalize.recommend))
            self._recommend_cache = cached
        return cached[1]

    def next_best_action(self, customer_id: str) -> dict[str, Any]:
        """``personae actions next CUSTOMER_ID --json`` for a resolved customer id."""
        self.log.visible()
        with self._read_lock:
            assert self.reader is not None
            return actions.next_action(self.reader, self.settings.personalize, customer_id)

    def segments(self) -> list[dict[str, Any]]:
        assert self.reader is not None
        with self._read_lock:
            defs = all_definitions(self.reader, self.settings.traits)
        with self.lock:
            counts = self.live.counts()
        return [
            {
                "name": n,
                "rule": d.rule,
                "description": d.description,
                "builtin": d.builtin,
                "version": d.version,
                "members": counts.get(n, 0),
                "live": n in counts,
            }
            for n, d in defs.items()
        ]

    def members(self, name: str, after: str | None, limit: int) -> dict[str, Any]:
        with self.lock:
            if name not in self.live.evaluator.names:
                raise NotFoundError(f"no live segment named {name!r}", hint="see GET /v1/segments")
            members = self.live.segment_members(name)
        ids = sorted(c for c in members if after is None or c > after)
        page = ids[:limit]
        return {
            "segment": name,
            "total": len(members),
            "members": [{"customer_id": c, "entered_at": members[c].isoformat()} for c in page],
            "next": page[-1] if len(ids) > limit else None,
        }


def _collect_and_freeze() -> None:
    """Collect cyclic garbage, then move every object left out of the collector's passes.

    What the live state grows by (a state per new customer, identity entries, messageIds) lives
    as long as the server, as the start-up load does (frozen at start). Left in the collector's
    generations, every automatic full pass walked all of it — hundreds of thousands of customers
    after minutes at 2,000 events/s — and stalled whichever group it fell in (p99 over 300 s:
    301 ms; then, frozen once a minute, 50–120 ms stalls every ~5 s as a minute's growth was
    walked again and again). Run every few seconds, this collection walks only what appeared
    since the last one, and the collection before the freeze means no cyclic garbage is frozen.
    Frozen objects are still freed by reference counting when no longer referenced.
    """
    gc.collect()
    gc.freeze()


def _rest(needs: Any) -> tuple[Any, ...]:
    return (needs.event_types, needs.event_days, needs.order_days, needs.affinities)


def _json(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def forget_before(seen: dict[str, datetime], cut: datetime) -> None:
    """Forget the messageIds received before ``cut`` (the idempotency window has passed them).

    They are remembered in the order they arrived (loaded oldest first, then added as they
    come; a dict keeps insertion order), so the expired ones are at the front: this stops at
    the first one kept instead of scanning every remembered id on every tick.
    """
    expired = []
    for mid, at in seen.items():
        if at >= cut:
            break
        expired.append(mid)
    for mid in expired:
        del seen[mid]
