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
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import ibis
import pandas as pd
import pyarrow as pa

from personae.app import actions, audit
from personae.app import keys as keystore
from personae.app import recommend as recommending
from personae.app import webhooks as webhook_delivery
from personae.app.build import run_build
from personae.app.customers import latest_consents, resolve_customer_id
from personae.app.privacy import access_report, erase_customer, find_subject
from personae.app.segments.library import add_segments, all_definitions
from personae.app.tombstones import Tombstones
from personae.app.traits import customer_traits, store_places
from personae.config import Settings
from personae.errors import InputError, NotFoundError, Overloaded
from personae.identity.normalize import normalize_emails, normalize_phones
from personae.live import rowcheck
from personae.live.commit import Committer, TrackJob, TrackResult, write_changes
from personae.live.commit_log import CommitLog
from personae.live.identity import knows
from personae.live.loading import load_identity, load_members, load_rules, load_seen, load_states
from personae.live.schedule import Schedule
from personae.live.segments import Change, LiveSegments
from personae.live.writer import Writer
from personae.privacy.keys import PII_FIELDS, PII_IDENTIFIER_KINDS, ApiKey, KeyRing
from personae.schema import CONSENT_PURPOSES, TABLES
from personae.segments.definitions import SegmentDefinition
from personae.segments.realtime import CustomerState
from personae.store import DuckDBStore, Store
from personae.traits.consent import default_flags

log = logging.getLogger("personae.service")
T = TypeVar("T")

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
        #: what local commands present to the admin API (written to ``<db>.serve.json``, 0600)
        self.admin_token = secrets.token_urlsafe(32)
        #: held by an operation (build, ingest, segment change) for its whole run: one at a time
        self._operation = threading.Lock()
        self.building: dict[str, Any] | None = None
        self.last_build: dict[str, Any] | None = None
        self.schedule: Schedule | None = None
        self.next_build: datetime | None = None
        self._stopping = threading.Event()
        self._scheduler: threading.Thread | None = None
        self._started = False
        #: called at the end of :meth:`stop` (``personae serve`` removes ``<db>.serve.json``:
        #: uvicorn ends the process by the signal it caught, right after the app's shutdown)
        self.on_stop: list[Callable[[], None]] = []

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the store, load the live state, start the threads. A second call does nothing
        (``personae serve`` starts the runtime before uvicorn, to report a held database in one
        line; the app's lifespan then finds it started)."""
        if self._started:
            return
        if self.service.build_schedule:  # a bad schedule stops the start, before the store opens
            self.schedule = Schedule.parse(self.service.build_schedule)
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
        self._started = True
        if self.schedule is not None:
            self._scheduler = threading.Thread(
                target=self._run_schedule, name="personae-schedule", daemon=True
            )
            self._scheduler.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.join(5)
        self.writer.stop()
        self.log.close()  # applies what is queued
        self.sender.stop()
        if self.store is not None:
            self.store.close()
        for hook in self.on_stop:
            with contextlib.suppress(Exception):
                hook()

    def _load(self) -> None:
        assert self.store is not None
        now = self.clock()
        rules = load_rules(self.store, self.settings.traits)
        live = LiveSegments(
            rules,
            members=load_members(self.store),
            new_traits=default_flags(self.settings.traits.consent_defaults),
            stores=store_places(self.store),
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
            self._rules_changed()
            return report[0]

        return dict(self.run_on_writer(write))

    def _rules_changed(self) -> None:
        """On the writer thread, after segment definitions changed: live memberships follow."""
        assert self.store is not None
        with self.lock:
            self.live.replace_rules(load_rules(self.store, self.settings.traits), store_places(self.store))
            # a new rule may read traits, events or orders the live states do not hold yet
            needs = self.live.needs
            traits = set(needs.traits) | {f"consent_{p}" for p in CONSENT_PURPOSES}
            self.live.states = load_states(
                self.store, type(needs)(frozenset(traits), *_rest(needs)), self.clock().date()
            )
        self.refresh(cause="rules")

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
            # a build reads through a cursor of the connection the erasure replaces
            with self._one_operation("erase a customer", wait=False), self.lock, self._read_lock:
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

    # -- operations while serving (docs/service.md, "Operations") ----------------------------------
    @contextlib.contextmanager
    def _one_operation(self, what: str, wait: bool = True, timeout: float = 3600.0) -> Iterator[None]:
        """Hold the operation lock: builds, ingests, segment changes and erasures run one at a
        time (each reloads the live state; an erasure replaces the connection a build reads)."""
        if not self._operation.acquire(timeout=timeout if wait else 0):
            doing = self.building
            running = (
                f"a build ({doing['cause']}, started {doing['started_at']}) is running"
                if doing
                else "another operation is running"
            )
            raise Overloaded(f"cannot {what} now: {running}", hint="run it again once that one has finished")
        try:
            yield
        finally:
            self._operation.release()

    def _cursor_store(self) -> DuckDBStore:
        """A store on a cursor of the write connection: its own transactions, alongside the
        writer and the applier (DuckDB's MVCC: it sees each commit of theirs or not at all)."""
        assert self.store is not None
        return DuckDBStore(ibis.duckdb.from_connection(self.store.raw.cursor()), self.db)

    def build(self, as_of: date | None = None, cause: str = "request") -> dict[str, Any]:
        """``personae build`` inside the server, while tracking goes on.

        The build runs on this (request or schedule) thread through a cursor of its own: the
        writer keeps committing tracked events and the applier keeps applying them meanwhile.
        The build is one transaction, so it reads a snapshot of the tables as of its start
        (events arriving during it count in the next build, as they would with the server
        stopped) and readers see every table it writes old or new, all at once. Then, on the
        writer thread, the live state is reloaded from the new traits and everyone is
        re-evaluated (cause ``build``): memberships and webhooks follow the new traits.
        One build at a time: a second one is refused (429), not queued.
        """
        with self._one_operation("start a build", wait=False):
            started, t0 = self.clock(), time.perf_counter()
            self.building = {"cause": cause, "started_at": started.isoformat()}
            record: dict[str, Any] = {**self.building, "ok": False}
            try:
                self.log.visible()  # every event acknowledged before the build is in it
                store = self._cursor_store()
                try:
                    # one transaction: the tables it replaces change for readers all at once
                    with store.transaction():
                        summary = run_build(store, as_of=as_of, settings=self.settings, quiet=True)
                finally:
                    store.close()
                changed = self.run_on_writer(lambda: self._reload_live("build"), timeout=3600.0)
                record.update(
                    ok=True,
                    as_of=summary["as_of"],
                    customers=summary["customers"],
                    live_changes=changed,
                )
                summary["live_changes"] = changed
                return summary
            except Exception as exc:
                record["error"] = str(exc)
                raise
            finally:
                record["seconds"] = round(time.perf_counter() - t0, 2)
                record["finished_at"] = self.clock().isoformat()
                self.last_build, self.building = record, None
                if record["ok"]:
                    log.info(
                        "build (%s) as of %s: %s customers, %s live membership changes, %.1f s",
                        cause,
                        record["as_of"],
                        record["customers"],
                        record["live_changes"],
                        record["seconds"],
                    )
                else:
                    log.error("build (%s) failed after %.1f s: %s", cause, record["seconds"], record["error"])

    def _reload_live(self, cause: str) -> int:
        """On the writer thread: load the live state anew from the store (new traits, rules,
        identities), then re-evaluate everyone; the number of membership changes.

        The old state keeps answering reads while the new one loads (readers copy from
        whichever ``self.committer`` is current, under ``self.lock``); nothing writes it
        meanwhile, as only the writer thread does.
        """
        self._load()
        return self.refresh(cause=cause)

    def write_operation(self, what: str, fn: Callable[[Store], T], reload: str = "all") -> T:
        """Run ``fn(store)`` on the writer thread with the write connection (an ingest, a
        segment change), then bring the live state up to date: ``"all"`` reloads it (new
        rows, identities), ``"rules"`` re-reads the segment rules.

        Tracking waits in the writer's queue meanwhile (beyond ``queue_capacity`` messages
        requests get 429 and are retried by the SDKs): the operation and the tracked events
        decide identities in one order, and nothing acknowledged is lost or doubled.
        """

        def work() -> T:
            assert self.store is not None
            result = fn(self.store)
            if reload == "all":
                self._reload_live(what)
            else:
                self._rules_changed()
            return result

        with self._one_operation(what):
            result: T = self.run_on_writer(work, timeout=24 * 3600.0)
            return result

    def read_operation(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` (``segments list``, ``report``…) on a cursor of its own: reads of
        the API do not wait for it, nor it for them. It sees every acknowledged event."""
        self.log.visible()
        store = self._cursor_store()
        try:
            return fn(store)
        finally:
            store.close()

    def status(self) -> dict[str, Any]:
        """What ``GET /v1/admin/status`` answers: the build running, the last one, the next."""
        return {
            "db": self.db,
            "queued": self.writer.pending,
            "build_schedule": self.schedule.text if self.schedule else None,
            "next_build": self.next_build.isoformat() if self.next_build else None,
            "building": self.building,
            "last_build": self.last_build,
        }

    def _run_schedule(self) -> None:
        """The scheduler thread: runs :meth:`build` whenever ``service.build_schedule`` is due.

        A run missed while the server was down is not caught up (the next one comes at its
        time); one due while a build is still running is skipped, and said so in the log.
        """
        assert self.schedule is not None
        started = self.clock()
        self.next_build = self.schedule.next_after(started, started)
        log.info("builds scheduled (%s): next at %s UTC", self.schedule.text, self.next_build.isoformat())
        while not self._stopping.is_set():
            now = self.clock()
            if now >= self.next_build:
                try:
                    self.build(cause="schedule")
                except Overloaded as exc:
                    log.warning("scheduled build skipped: %s", exc)
                except Exception:
                    log.exception("scheduled build failed")
                self.next_build = self.schedule.next_after(max(self.clock(), now), started)
                continue
            wait = (self.next_build - now).total_seconds()
            # re-read the clock at least every 30 s (a clock set forward, a test's clock)
            self._stopping.wait(min(max(wait, 0.01), 30.0))

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
        self.log.visible()
        with self._read_lock:
            assert self.reader is not None
            ctx = self._recommend_context(self.reader)
            recs = recommending.recommend_one(ctx, customer_id, limit)
        return {
            "customer_id": customer_id,
            "model": ctx.model.name,
            "as_of": ctx.as_of.isoformat(),
            "recommendations": recs,
        }

    def _recommend_context(self, store: Store) -> recommending.Context:
        settings = self.settings.personalize.recommend
        key = (
            recommending.traits_as_of(store),
            *(store.count(t) if store.has_table(t) else -1 for t in _RECOMMEND_INPUTS),
            # `personae recommend tune` run while the server is up changes the parameters
            recommending.tuned(store, settings, recommending.chosen_model(store, settings)),
            recommending.chosen_model(store, settings),
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
    return (needs.event_types, needs.event_days, needs.order_days, needs.affinities, needs.properties)


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
