"""Segment messages → canonical rows: names, clock skew, orders, profiles."""

from __future__ import annotations

from datetime import datetime

from personae.live.payloads import Batch, Identify, Track, split_batch
from personae.live.tracking import event_type, map_messages, occurred_at, profile_row

RECEIVED = datetime(2026, 3, 1, 12, 0, 0)


def test_standard_ecommerce_names_map_to_canonical_types() -> None:
    assert event_type("Product Added") == "add_to_cart"
    assert event_type("product viewed") == "product_view"
    assert event_type("Checkout Started") == "checkout_started"
    assert event_type("Order Completed") == "order_completed"
    assert event_type("Some Custom Thing!") == "some_custom_thing"


def test_clock_skew_is_corrected_from_sent_at() -> None:
    # the device clock is 1 hour fast: it says it sent at 13:00:10 what happened at 13:00:00
    m = Track.model_validate(
        {
            "anonymousId": "a",
            "event": "x",
            "originalTimestamp": "2026-03-01T13:00:00Z",
            "sentAt": "2026-03-01T13:00:10Z",
        }
    )
    assert occurred_at(m, RECEIVED) == datetime(2026, 3, 1, 11, 59, 50)


def test_server_timestamp_is_kept_and_missing_means_received() -> None:
    m = Track.model_validate({"userId": "u", "event": "x", "timestamp": "2026-02-01T08:00:00+02:00"})
    assert occurred_at(m, RECEIVED) == datetime(2026, 2, 1, 6, 0, 0)
    assert occurred_at(Track.model_validate({"userId": "u", "event": "x"}), RECEIVED) == RECEIVED


def test_order_completed_becomes_one_line_per_product() -> None:
    m = Track.model_validate(
        {
            "userId": "U1",
            "event": "Order Completed",
            "messageId": "m1",
            "properties": {
                "order_id": "O9",
                "products": [
                    {"product_id": "P1", "price": 10, "quantity": 3, "category": "shoes"},
                    {"sku": "P2", "price": 5.5},
                ],
            },
        }
    )
    out = map_messages([m], RECEIVED)
    assert [(o["order_id"], o["product_id"], o["amount"], o["quantity"]) for o in out.orders] == [
        ("O9", "P1", 30.0, 3.0),
        ("O9", "P2", 5.5, 1.0),
    ]
    assert out.events[0]["type"] == "order_completed" and out.events[0]["event_id"] == "m1"


def test_identify_maps_reserved_traits_and_keeps_the_rest() -> None:
    row = profile_row(
        "U1",
        {
            "email": "A@B.org",
            "name": "Ann Lee",
            "address": {"city": "Paris", "postalCode": "75001"},
            "tier": "gold",
        },
    )
    assert row == {
        "customer_id": "U1",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "A@B.org",
        "city": "Paris",
        "postcode": "75001",
        "tier": "gold",
    }
    m = Identify.model_validate({"userId": 42, "anonymousId": "dev-1", "traits": {"email": "a@b.org"}})
    out = map_messages([m], RECEIVED)
    assert out.customers[0]["customer_id"] == "42"  # numeric ids are stringified
    ev = out.events[0]
    assert (ev["customer_id"], ev["anonymous_id"], ev["email"], ev["type"]) == (
        "42",
        "dev-1",
        "a@b.org",
        "identify",
    )


def test_refund_and_alias() -> None:
    b = Batch.model_validate(
        {
            "batch": [
                {"type": "track", "userId": "U", "event": "Order Refunded", "properties": {"order_id": "O1"}},
                {"type": "alias", "previousId": "old", "userId": "new"},
            ]
        }
    )
    out = map_messages(split_batch(b.batch).messages, RECEIVED)
    assert [(r.order_id, r.product_ids) for r in out.refunds] == [("O1", ())]
    assert out.aliases == [(1, "old", "new")]
    assert out.events[1]["anonymous_id"] == "old" and out.events[1]["customer_id"] == "new"


def test_a_timestamp_without_an_offset_is_the_shops_local_time() -> None:
    naive = Track.model_validate({"userId": "u", "event": "x", "timestamp": "2024-03-01T23:30:00"})
    zulu = Track.model_validate({"userId": "u", "event": "x", "timestamp": "2024-03-01T23:30:00Z"})
    offset = Track.model_validate({"userId": "u", "event": "x", "timestamp": "2024-03-02T08:30:00+09:00"})
    assert occurred_at(naive, RECEIVED) == datetime(2024, 3, 1, 23, 30)  # UTC shop: as before
    assert occurred_at(naive, RECEIVED, timezone="Asia/Tokyo") == datetime(2024, 3, 1, 14, 30)
    assert occurred_at(zulu, RECEIVED, timezone="Asia/Tokyo") == datetime(2024, 3, 1, 23, 30)
    assert occurred_at(offset, RECEIVED, timezone="America/New_York") == datetime(2024, 3, 1, 23, 30)
    # a skewed device clock without offsets: the skew is the same in any zone
    skewed = Track.model_validate(
        {
            "anonymousId": "a",
            "event": "x",
            "originalTimestamp": "2026-03-01T13:00:00",
            "sentAt": "2026-03-01T13:00:10",
        }
    )
    assert occurred_at(skewed, RECEIVED, timezone="Asia/Tokyo") == occurred_at(skewed, RECEIVED)
    mapped = map_messages([naive], RECEIVED, timezone="Asia/Tokyo")
    assert mapped.events[0]["occurred_at"] == datetime(2024, 3, 1, 14, 30)


def test_a_batch_is_checked_message_by_message() -> None:
    """Issue 25.2: the envelope is the batch's only all-or-nothing check; each message stands alone."""
    b = Batch.model_validate(
        {
            "sentAt": "2026-03-01T12:00:00Z",
            "batch": [
                {"type": "track", "userId": "U", "event": "Product Viewed", "messageId": "ok"},
                {"type": "track", "userId": "U", "event": "X", "messageId": 12.5, "sentAt": "3001-01-01"},
                {"type": "identify", "userId": True, "messageId": "\ud800"},
                None,
                {"type": "page", "anonymousId": "d", "messageId": "p1"},
            ],
        }
    )
    out = split_batch(b.batch)
    assert out.positions == [0, 4] and [m.type for m in out.messages] == ["track", "page"]
    got = [(i.index, i.message_id, i.reason) for i in out.invalid]
    assert got[0] == (1, "12.5", "sentAt 3001-01-01T00:00:00 is not a plausible time (years 1900-2200)")
    # the id escaped so the answer can be sent (a lone surrogate is not UTF-8), not a crash
    assert got[1] == (2, "\\ud800", "text must be valid Unicode (it holds a lone surrogate escape)")
    assert got[2] == (3, None, "not a message (a JSON object)")
    assert [i.raw for i in out.invalid][2] == "null"
    for i in out.invalid:
        (i.reason + (i.message_id or "") + i.raw).encode("utf-8")
