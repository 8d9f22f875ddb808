"""Webhooks on segment entries: signed POSTs, retried with back-off, from a durable outbox.

Each delivery is first written to ``webhook_outbox`` in the same transaction as the membership
change that caused it (so a crash cannot lose it), then POSTed by this sender thread; pending
deliveries are re-sent after a restart. Receivers check the signature::

    X-Personae-Timestamp: 1767225600
    X-Personae-Signature: sha256=HEX(HMAC_SHA256(secret, timestamp + "." + body))

(the timestamp lets a receiver refuse replays older than a few minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from personae.service.settings import ServiceSettings

log = logging.getLogger("personae.service")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver runs (also used by the tests)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    """Sends outbox rows; reports each outcome through ``done(delivery_id, status, attempts, error)``."""

    def __init__(self, settings: ServiceSettings, done: Callable[[str, str, int, str | None], None]) -> None:
        self.settings = settings
        self._secrets = {t.url: t.secret for t in settings.webhooks}
        self._done = done
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="personae-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def send(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._queue.put(row)

    def _run(self) -> None:
        while True:
            row = self._queue.get()
            if row is None:
                return
            status, attempts, error = self._deliver(row)
            try:
                self._done(row["delivery_id"], status, attempts, error)
            except Exception:
                log.exception("could not record webhook delivery %s", row["delivery_id"])

    def _deliver(self, row: dict[str, Any]) -> tuple[str, int, str | None]:
        body = row["payload"].encode("utf-8")
        secret = self._secrets.get(row["url"], "")
        error: str | None = None
        attempts = 0
        for attempt in range(self.settings.webhook_retries + 1):
            attempts = attempt + 1
            stamp = str(int(time.time()))
            request = urllib.request.Request(
                row["url"],
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "personae-webhooks",
                    "X-Personae-Delivery": row["delivery_id"],
                    "X-Personae-Timestamp": stamp,
                    "X-Personae-Signature": signature(secret, stamp, body),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.settings.webhook_timeout_seconds) as resp:
                    if 200 <= resp.status < 300:
                        return "delivered", attempts, None
                    error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break  # the receiver refuses it: retrying will not help
            except (urllib.error.URLError, OSError) as exc:
                error = str(exc)
            time.sleep(min(0.2 * 2**attempt, 10.0))
        return "failed", attempts, error
