"""Segment entry/exit webhooks: an outbox in the store, HTTP POST with retries, dead letters.

Application layer. ``enqueue`` turns new rows of ``segment_changes`` into messages in
``webhook_messages`` (one per subscription and change, idempotent: running it twice adds
nothing), keeping only customers whose consent allows it (:mod:`personae.consent`,
``personalization``: the receiver acts on the membership). ``deliver`` POSTs every pending
message — signed, with exponential backoff between attempts — marks it ``delivered`` on a 2xx,
and after ``max_attempts`` failures marks it ``dead`` and writes a dead letter. Messages are
stored before anything is sent, so a receiver that is down loses nothing: ``redrive`` puts
dead letters back in the queue.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from personae import consent
from personae.errors import InputError
from personae.personalize import webhooks as wh
from personae.personalize.settings import WebhookSettings, WebhookSubscription
from personae.store import Store

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
    known = {r["message_id"] for r in store.to_arrow(store.table(MESSAGES).select("message_id")).to_pylist()}
    ch = store.table("segment_changes")
    t = store.table("traits")
    ok = t.select("customer_id", allowed=consent.allowed(t, ["personalization"]))
    j = ch.left_join(ok, ch.customer_id == ok.customer_id)
    rows = store.to_arrow(
        j.select(
            ch.segment,
            customer_id=ch.customer_id,
            change=ch.change,
            as_of=ch.as_of,
            allowed=j.allowed.fill_null(False),
        )
    ).to_pylist()
    now = _now()
    new: list[dict[str, Any]] = []
    for sub in settings.subscriptions:
        for r in rows:
            if sub.segments and r["segment"] not in sub.segments:
                continue
            if r["change"] not in sub.changes:
                continue
            mid = wh.message_id(sub.name, r["segment"], r["customer_id"], r["change"], r["as_of"])
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
                    "payload": wh.payload(mid, r["segment"], r["customer_id"], r["change"], r["as_of"]),
                    "status": "pending",
                    "attempts": 0,
                    "last_error": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if new:
        with store.transaction():
            store.append(MESSAGES, pa.Table.from_pylist(new, schema=_SCHEMA))
        queued = len(new)
    return {"queued": queued, "skipped_no_consent": skipped}


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


def deliver(
    store: Store,
    settings: WebhookSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> dict[str, int]:
    """Send every pending message; retry with backoff; dead-letter after ``max_attempts``."""
    subs = {s.name: s for s in settings.subscriptions}
    m = store.table(MESSAGES)
    pending = store.to_arrow(
        m.filter(m.status == "pending").order_by(["created_at", "message_id"])
    ).to_pylist()
    counts = {"delivered": 0, "dead": 0}
    for msg in pending:
        sub = subs.get(msg["subscription"])
        secret = _secret(sub) if sub is not None else ""
        attempts, error, status = int(msg["attempts"] or 0), None, "pending"
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
                status, error = "delivered", None
                break
            error = f"HTTP {code}"
        if status != "delivered":
            status = "dead"
        _update(store, msg, status, attempts, error)
        counts[status] += 1
    return counts


def _update(store: Store, msg: dict[str, Any], status: str, attempts: int, error: str | None) -> None:
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
    dead = store.to_arrow(m.filter(m.status == "dead")).to_pylist()
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
    rows = store.to_arrow(m.group_by("status").aggregate(n=m.count())).to_pylist()
    return {"messages": {r["status"]: int(r["n"]) for r in rows}, "dead_letters": store.count(DEAD)}
