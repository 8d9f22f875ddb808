"""Live segment changes become the library's webhook messages (one gate, one id scheme), and the
service's old webhook settings are refused rather than silently ignored."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from personae.app import webhooks as webhook_delivery
from personae.config import Settings
from personae.config.personalize import WebhookSettings

HOOKS = WebhookSettings(
    subscriptions=[
        {"name": "crm", "url": "http://127.0.0.1:9/h", "segments": ["Cart abandoners"]},
        {"name": "bi", "url": "http://127.0.0.1:9/b", "changes": ["entered"]},
    ]
)
AT = datetime(2026, 3, 2, 10, 0, 0)


def _traits(cid: str) -> dict[str, object]:
    return {"consent_personalization": cid == "yes"}


def test_consent_gate_filters_and_subscriptions_route() -> None:
    changes = [
        ("Cart abandoners", "yes", "entered", AT),
        ("Cart abandoners", "no", "entered", AT),  # no consent: no message at all
        ("VIP", "yes", "exited", AT),  # crm: other segment; bi: entries only
    ]
    t = webhook_delivery.live_messages(HOOKS, changes, _traits, AT).to_pylist()
    assert sorted((m["subscription"], m["customer_id"], m["segment"]) for m in t) == [
        ("bi", "yes", "Cart abandoners"),
        ("crm", "yes", "Cart abandoners"),
    ]
    body = json.loads(t[0]["payload"])
    assert (
        body["at"] == "2026-03-02T10:00:00"
        and body["as_of"] == "2026-03-02"
        and body["id"] == t[0]["message_id"]
    )
    assert {m["status"] for m in t} == {"pending"}


def test_reentering_on_the_same_day_is_a_new_message_but_a_retry_is_not() -> None:
    first = webhook_delivery.live_messages(HOOKS, [("Cart abandoners", "yes", "entered", AT)], _traits, AT)
    again = webhook_delivery.live_messages(HOOKS, [("Cart abandoners", "yes", "entered", AT)], _traits, AT)
    later = AT.replace(hour=15)
    back = webhook_delivery.live_messages(
        HOOKS, [("Cart abandoners", "yes", "entered", later)], _traits, later
    )
    ids = first.column("message_id").to_pylist()
    assert again.column("message_id").to_pylist() == ids
    assert not set(back.column("message_id").to_pylist()) & set(ids)


def test_no_subscriptions_no_messages() -> None:
    empty = webhook_delivery.live_messages(WebhookSettings(), [("S", "yes", "entered", AT)], _traits, AT)
    assert empty.num_rows == 0


def test_old_service_webhook_settings_are_refused_with_where_they_went() -> None:
    with pytest.raises(ValidationError, match=r"personalize\.webhooks"):
        Settings(service={"webhooks": [{"url": "http://x", "secret": "s"}]})
