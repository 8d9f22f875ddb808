"""Webhook messages: payload, idempotent id, HMAC signature and the retry schedule.

Pure parts of delivery (:mod:`personae.app.webhooks` does the HTTP). A receiver checks
``X-Personae-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(secret, ``"<t>." + body``) — the timestamp inside the signed text stops replays
of old messages — and de-duplicates on ``X-Personae-Message-Id`` (a retry after a lost reply
carries the same id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from typing import Any

SIGNATURE_HEADER = "X-Personae-Signature"
MESSAGE_ID_HEADER = "X-Personae-Message-Id"


def message_id(
    subscription: str, segment: str, customer_id: str, change: str, as_of: date, at: datetime | None = None
) -> str:
    """The same change to the same subscription always gets the same id (idempotent enqueue).

    A build's changes are daily (``as_of``); a live change (the real-time service) also has its
    moment ``at``, which is part of the id, so a customer who enters, leaves and enters again
    on one day gets three messages, not one.
    """
    parts = [subscription, segment, customer_id, change, as_of.isoformat()]
    if at is not None:
        parts.append(at.isoformat())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def payload(
    msg_id: str, segment: str, customer_id: str, change: str, as_of: date, at: datetime | None = None
) -> str:
    """The JSON body: ``{"id", "type": "segment.entered"|"segment.exited", "segment", ...}``
    (plus ``"at"``, the moment, for a live change)."""
    body = {
        "id": msg_id,
        "type": f"segment.{change}",
        "segment": segment,
        "customer_id": customer_id,
        "as_of": as_of.isoformat(),
    }
    if at is not None:
        body["at"] = at.isoformat()
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def sign(secret: str, body: str | bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and check the timestamp is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - t) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, t), header)


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base · 2^(n−1), capped."""
    return float(min(cap, base * (2 ** max(attempt - 1, 0))))


def describe(msg: dict[str, Any]) -> str:
    return f"{msg.get('segment')} {msg.get('change')} {msg.get('customer_id')}"
