"""Segment entry/exit webhooks: an outbox in the store, HTTP POST with retries, dead letters.

Application layer. ``enqueue`` turns new rows of ``segment_changes`` into messages in
``webhook_messages`` (one per subscription and change, idempotent: running it twice adds
nothing), keeping only customers whose consent allows it (:mod:`personae.privacy.consent`,
``personalization``: the receiver acts on the membership). ``deliver`` POSTs every pending
message — signed, with exponential backoff between attempts — marks it ``delivered`` on a 2xx,
and after ``max_attempts`` failures marks it ``dead`` and writes a dead letter. Messages are
stored before anything is sent, so a receiver that is down loses nothing: ``redrive`` puts
dead letters back in the queue.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from personae.config.personalize import WebhookSettings, WebhookSubscription
from personae.errors import InputError
from personae.personalize import webhooks as wh
from personae.privacy import consent
from personae.store import Store

log = logging.getLogger("personae.webhooks")

MESSAGES = "webhook_messages"
DEAD = "webhook_dead_letters"
_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("subscription", pa.string()),
        ("url", pa.string()),
        ("segment", pa.string()),
        ("customer_id", pa.string()),
        ("change", pa.string()),
        ("as_of", pa.date32()),
        ("payload", pa.string()),
        ("status", pa.string()),
        ("attempts", pa.int32()),
        ("last_error", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("updated_at", pa.timestamp("us")),
    ]
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _secret(sub: WebhookSubscription) -> str:
    secret = os.environ.get(sub.secret_env)
    if not secret:
        raise InputError(
            f"webhook {sub.name}: no secret in ${sub.secret_env}",
            hint="set it to the shared secret the receiver verifies signatures with",
        )
    return secret


def enqueue(store: Store, settings: WebhookSettings) -> dict[str, int]:
    """Queue a message per subscription for every recorded segment change not queued yet."""
    queued = skipped = 0
    if not settings.subscriptions or not store.has_table("traits"):
        return {"queued": 0, "skipped_no_consent": 0}
    known = {r["message_id"] for r in store.rows(store.table(MESSAGES).select("message_id"))}
    ch = store.table("segment_changes")
    t = store.table("traits")
    ok = t.select("customer_id", allowed=consent.allowed(t, ["personalization"]))
    j = ch.left_join(ok, ch.customer_id == ok.customer_id)
    rows = store.rows(
        j.select(
            ch.segment,
            customer_id=ch.customer_id,
            change=ch.change,
            as_of=ch.as_of,
            allowed=j.allowed.fill_null(False),
        )
    )
    new, skipped = _messages(settings, rows, known, _now())
    if new:
        with store.transaction():
            store.append(MESSAGES, pa.Table.from_pylist(new, schema=_SCHEMA))
        queued = len(new)
    return {"queued": queued, "skipped_no_consent": skipped}


def _messages(
    settings: WebhookSettings, changes: list[dict[str, Any]], known: set[str], now: datetime
) -> tuple[list[dict[str, Any]], int]:
    """One message per subscription and change (``segment, customer_id, change, as_of``, an
    ``allowed`` consent flag and, for a live change, ``at``); ids in ``known`` are skipped."""
    new: list[dict[str, Any]] = []
    skipped = 0
    for sub in settings.subscriptions:
        for r in changes:
            if sub.segments and r["segment"] not in sub.segments:
                continue
            if r["change"] not in sub.changes:
                continue
            at = r.get("at")
            mid = wh.message_id(sub.name, r["segment"], r["customer_id"], r["change"], r["as_of"], at)
            if mid in known:
                continue
            if not r["allowed"]:
                skipped += 1
                continue
            known.add(mid)
            new.append(
                {
                    "message_id": mid,
                    "subscription": sub.name,
                    "url": sub.url,
                    "segment": r["segment"],
                    "customer_id": r["customer_id"],
                    "change": r["change"],
                    "as_of": r["as_of"],
                    "payload": wh.payload(mid, r["segment"], r["customer_id"], r["change"], r["as_of"], at),
                    "status": "pending",
                    "attempts": 0,
                    "last_error": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return new, skipped


def live_messages(
    settings: WebhookSettings,
    changes: list[tuple[str, str, str, datetime]],
    traits_of: Callable[[str], Mapping[str, Any]],
    now: datetime,
) -> pa.Table:
    """Messages for changes made by live segments (the real-time service), as rows of the outbox.

    ``changes`` are ``(segment, customer_id, "entered"|"exited", at)``; ``traits_of`` gives a
    customer's current consent traits. The same consent gate as :func:`enqueue`
    (``personalization``, :mod:`personae.privacy.consent`), the same message ids (with the moment, see
    :func:`personae.personalize.webhooks.message_id`) and payloads. The caller appends the
    table in the transaction that records the changes, so a crash cannot lose a message; then
    :func:`send_one` / :class:`Courier` deliver it.
    """
    if not settings.subscriptions or not changes:
        return _SCHEMA.empty_table()
    rows = [
        {
            "segment": seg,
            "customer_id": cid,
            "change": change,
            "as_of": at.date(),
            "at": at,
            "allowed": consent.check(traits_of(cid), ["personalization"]).allowed,
        }
        for seg, cid, change, at in changes
    ]
    new, _ = _messages(settings, rows, set(), now)
    return pa.Table.from_pylist(new, schema=_SCHEMA)


def check_secrets(settings: WebhookSettings) -> None:
    """Fail early (``InputError``) when a subscription's secret is not set."""
    for sub in settings.subscriptions:
        _secret(sub)


def post(url: str, body: str, headers: dict[str, str], timeout: float) -> int:
    """One HTTP POST; the status code (raises ``OSError`` on connection problems)."""
    req = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def send_one(
    msg: Mapping[str, Any],
    settings: WebhookSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> tuple[str, int, str | None]:
    """POST one message, signed, retrying with backoff: ``(status, attempts, last error)``.

    ``status`` is ``delivered`` (a 2xx) or ``dead`` (``max_attempts`` used up). No store I/O,
    so a long-running process can send from another thread and record the outcome with
    :func:`record_outcome` on the thread that owns the store.
    """
    subs = {s.name: s for s in settings.subscriptions}
    sub = subs.get(msg["subscription"])
    secret = _secret(sub) if sub is not None else ""
    attempts, error = int(msg["attempts"] or 0), None
    while attempts < settings.max_attempts:
        if attempts:
            sleep(wh.backoff(attempts, settings.backoff_seconds, settings.max_backoff_seconds))
        attempts += 1
        headers = {
            wh.SIGNATURE_HEADER: wh.sign(secret, msg["payload"], int(clock())),
            wh.MESSAGE_ID_HEADER: msg["message_id"],
        }
        try:
            code = post(msg["url"], msg["payload"], headers, settings.timeout_seconds)
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        if 200 <= code < 300:
            return "delivered", attempts, None
        error = f"HTTP {code}"
    return "dead", attempts, error


def deliver(
    store: Store,
    settings: WebhookSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> dict[str, int]:
    """Send every pending message; retry with backoff; dead-letter after ``max_attempts``."""
    counts = {"delivered": 0, "dead": 0}
    for msg in pending(store):
        status, attempts, error = send_one(msg, settings, sleep=sleep, clock=clock)
        record_outcome(store, msg, status, attempts, error)
        counts[status] += 1
    return counts


def pending(store: Store) -> list[dict[str, Any]]:
    """Messages not delivered yet, oldest first."""
    m = store.table(MESSAGES)
    return list(store.rows(m.filter(m.status == "pending").order_by(["created_at", "message_id"])))


class Courier:
    """Delivers messages in the background for a long-running process (``personae serve``).

    ``send`` hands over messages already stored as pending; a thread POSTs them with
    :func:`send_one` and passes each outcome to ``record(msg, status, attempts, error)`` —
    the caller runs :func:`record_outcome` where it owns the store connection.
    """

    def __init__(
        self,
        settings: WebhookSettings,
        record: Callable[[dict[str, Any], str, int, str | None], None],
    ) -> None:
        self.settings = settings
        self._record = record
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="personae-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def send(self, messages: list[dict[str, Any]]) -> None:
        for msg in messages:
            self._queue.put(msg)

    def _run(self) -> None:
        while True:
            msg = self._queue.get()
            if msg is None:
                return
            try:
                status, attempts, error = send_one(msg, self.settings)
                self._record(msg, status, attempts, error)
            except Exception:
                log.exception("webhook message %s could not be sent or recorded", msg.get("message_id"))


def record_outcome(
    store: Store, msg: Mapping[str, Any], status: str, attempts: int, error: str | None
) -> None:
    """Store a message's new status (and a dead letter when it is dead), in one transaction."""
    now = _now()
    with store.transaction():
        store.delete_where_in(MESSAGES, "message_id", [msg["message_id"]])
        row = {**msg, "status": status, "attempts": attempts, "last_error": error, "updated_at": now}
        store.append(MESSAGES, pa.Table.from_pylist([row], schema=_SCHEMA))
        if status == "dead":
            store.append(
                DEAD,
                pa.Table.from_pylist(
                    [
                        {
                            "message_id": msg["message_id"],
                            "subscription": msg["subscription"],
                            "url": msg["url"],
                            "payload": msg["payload"],
                            "attempts": attempts,
                            "last_error": error,
                            "dead_at": now,
                        }
                    ]
                ),
            )


def redrive(store: Store) -> int:
    """Put every dead message back in the queue (their dead letters stay as a record)."""
    m = store.table(MESSAGES)
    dead = store.rows(m.filter(m.status == "dead"))
    if not dead:
        return 0
    now = _now()
    with store.transaction():
        store.delete_where_in(MESSAGES, "message_id", [d["message_id"] for d in dead])
        store.append(
            MESSAGES,
            pa.Table.from_pylist(
                [{**d, "status": "pending", "attempts": 0, "updated_at": now} for d in dead], schema=_SCHEMA
            ),
        )
    return len(dead)


def status(store: Store) -> dict[str, Any]:
    m = store.table(MESSAGES)
    rows = store.rows(m.group_by("status").aggregate(n=m.count()))
    return {"messages": {r["status"]: int(r["n"]) for r in rows}, "dead_letters": store.count(DEAD)}
