"""Segment-spec messages → canonical rows (events, order lines, customers). Pure, no I/O.

Every message becomes one ``events`` row whose ``event_id`` is the ``messageId`` (so the
file ingest's idempotency rules apply unchanged); some also become other rows:

* ``identify`` with a ``userId``: a ``customers`` row from the traits (the writer merges it
  with the stored profile: identify *updates* a profile, it does not blank missing fields);
* ``track "Order Completed"``: one ``orders`` line per product (or one line for the total);
* ``track "Order Refunded"`` / ``"Order Cancelled"``: the order's lines are marked returned;
* ``alias``: a link between the previous id and the user id.

The ``events`` row carries every identifier the message has (``userId`` as ``customer_id``,
``anonymousId``, the email/phone from identify traits), so identity resolution stitches the
anonymous browsing to the customer exactly as it does for files.

Timestamps follow Segment: ``timestamp = receivedAt - (sentAt - originalTimestamp)`` corrects
a client clock that is off; a message with only ``timestamp`` (server libraries) keeps it; a
message with neither happened when it was received. A timestamp with ``Z`` or an offset (what
the Segment libraries send) is that instant; one without is the shop's local time (the
``timezone`` setting), as in file ingest. Every time is stored as naive UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from personae.clock import DEFAULT_ZONE, to_utc
from personae.live.payloads import Alias, Group, Identify, Page, Screen, Track
from personae.schema import EVENT_CHANNELS

#: Segment's standard event names (e-commerce v2, email, mobile) → canonical event types.
EVENT_TYPES: dict[str, str] = {
    "products searched": "search",
    "product list viewed": "product_list_view",
    "product list filtered": "product_list_view",
    "product clicked": "product_click",
    "product viewed": "product_view",
    "product added": "add_to_cart",
    "product removed": "remove_from_cart",
    "cart viewed": "cart_view",
    "checkout started": "checkout_started",
    "checkout step viewed": "checkout_step",
    "checkout step completed": "checkout_step",
    "payment info entered": "payment_info",
    "order completed": "order_completed",
    "order updated": "order_updated",
    "order refunded": "order_refunded",
    "order cancelled": "order_cancelled",
    "coupon applied": "coupon_applied",
    "product added to wishlist": "wishlist_add",
    "product reviewed": "review",
    "product shared": "referral",
    "cart shared": "referral",
    "email delivered": "email_sent",
    "email opened": "email_open",
    "email link clicked": "email_click",
    "push notification received": "push_received",
    "push notification tapped": "push_open",
    "application opened": "app_open",
    "signed up": "signed_up",
}
#: Events whose order lines are marked returned (refunded or cancelled).
REFUND_EVENTS = frozenset({"order_refunded", "order_cancelled"})

Row = dict[str, Any]


@dataclass
class Mapped:
    """What a list of messages becomes. ``*_source[i]`` is the message index of row ``i``."""

    events: list[Row] = field(default_factory=list)
    events_source: list[int] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    orders_source: list[int] = field(default_factory=list)
    customers: list[Row] = field(default_factory=list)
    customers_source: list[int] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    aliases: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Refund:
    """Lines of ``order_id`` to mark returned (``product_ids`` empty: the whole order)."""

    index: int
    order_id: str
    product_ids: tuple[str, ...]


Message = Identify | Track | Page | Screen | Group | Alias


def event_type(name: str) -> str:
    """The canonical type of a track event name (unknown names become snake_case, kept).

    Example:
        >>> event_type("Order Completed"), event_type("product added")
        ('order_completed', 'add_to_cart')
        >>> event_type("Gift Card Redeemed!")
        'gift_card_redeemed'
    """
    known = EVENT_TYPES.get(name.strip().lower())
    if known:
        return known
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "event"


def occurred_at(
    message: Message,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    timezone: str = DEFAULT_ZONE,
) -> datetime:
    """When the message happened, in naive UTC (see the module docstring for the rule).

    Example:
        A client whose clock runs a minute behind stamps an event 11:59 and sends it at 12:00;
        the server receives it at 12:05, so it happened at 12:04:

        >>> m = Track(
        ...     event="Order Completed", userId="C1",
        ...     originalTimestamp="2024-05-01T11:59:00Z", sentAt="2024-05-01T12:00:00Z",
        ... )
        >>> occurred_at(m, received_at=datetime(2024, 5, 1, 12, 5, tzinfo=UTC))
        datetime.datetime(2024, 5, 1, 12, 4)

        A ``timestamp`` without an offset is the shop's local time:

        >>> m = Track(event="Order Completed", userId="C1", timestamp="2024-03-01T23:30:00")
        >>> occurred_at(m, datetime(2024, 3, 2, tzinfo=UTC), timezone="Asia/Tokyo")
        datetime.datetime(2024, 3, 1, 14, 30)
    """
    sent = message.sentAt or batch_sent_at
    original = message.originalTimestamp
    if original is not None and sent is not None:
        at = _utc(received_at) - (to_utc(sent, timezone) - to_utc(original, timezone))
    elif message.timestamp is not None:
        at = to_utc(message.timestamp, timezone)
    elif original is not None:
        at = to_utc(original, timezone)
    else:
        at = _utc(received_at)
    return at


def map_messages(
    messages: Sequence[Message],
    received_at: datetime,
    *,
    batch_sent_at: datetime | None = None,
    batch_context: Mapping[str, Any] | None = None,
    timezone: str = DEFAULT_ZONE,
) -> Mapped:
    """Map messages (already validated) to canonical rows, in order (``timezone``: the shop's,
    in which a time without an offset is read)."""
    out = Mapped()
    for i, m in enumerate(messages):
        context = {**(batch_context or {}), **m.context}
        at = occurred_at(m, received_at, batch_sent_at, timezone)
        base: Row = {
            "event_id": m.messageId,
            "customer_id": m.userId,
            "anonymous_id": m.anonymousId if not isinstance(m, Alias) else m.previousId,
            "occurred_at": at,
            "channel": _channel(m, context),
        }
        props: dict[str, Any] = {"segment_type": m.type, "received_at": _utc(received_at).isoformat()}
        if isinstance(m, Track):
            kind = event_type(m.event)
            props |= {"event": m.event, **m.properties}
            base |= {
                "type": kind,
                "product_id": _product_id(m.properties),
                "category": _text(m.properties.get("category")),
            }
            if kind == "order_completed":
                for line in order_lines(m, at, base["channel"]):
                    out.orders.append(line)
                    out.orders_source.append(i)
            elif kind in REFUND_EVENTS:
                order_id = _text(m.properties.get("order_id") or m.properties.get("orderId"))
                if order_id:
                    products = tuple(p for p in (_product_id(x) for x in _products(m.properties)) if p)
                    out.refunds.append(Refund(i, order_id, products))
        elif isinstance(m, Page | Screen):
            page = context.get("page") if isinstance(context.get("page"), dict) else {}
            props |= {"name": m.name, "page_category": m.category, **(page or {}), **m.properties}
            base |= {"type": "page_view", "category": None}
            if isinstance(m, Screen):
                base["channel"] = "app"
        elif isinstance(m, Identify):
            traits = m.traits
            base |= {
                "type": "identify",
                "email": _text(traits.get("email")),
                "phone": _text(traits.get("phone")),
            }
            props |= {"traits": traits}
            if m.userId is not None:
                out.customers.append(profile_row(m.userId, traits))
                out.customers_source.append(i)
        elif isinstance(m, Group):
            base |= {"type": "group"}
            props |= {"group_id": m.groupId, "traits": m.traits}
        elif isinstance(m, Alias):
            base |= {"type": "alias"}
            props |= {"previous_id": m.previousId}
            out.aliases.append((i, m.previousId, m.userId))
        extra = m.model_extra or {}
        if extra:
            props["extra"] = extra
        base["properties"] = json.dumps(props, default=str, separators=(",", ":"))
        out.events.append(base)
        out.events_source.append(i)
    return out


def order_lines(m: Track, at: datetime, channel: str | None) -> list[Row]:
    """Order lines of an ``Order Completed``: one per product, else one for the total."""
    p = m.properties
    order_id = _text(p.get("order_id") or p.get("orderId") or p.get("checkout_id"))
    base = {
        "order_id": order_id,
        "customer_id": m.userId,
        "anonymous_id": m.anonymousId,
        "ordered_at": at,
        "channel": channel if channel in ("web", "app", "store", "phone", "marketplace") else None,
        "store_id": _text(p.get("store_id") or p.get("affiliation")),
        "_event_id": m.messageId,
    }
    products = list(_products(p))
    if not products:
        total = _number(p.get("total") if p.get("total") is not None else p.get("revenue", p.get("value")))
        return [{**base, "amount": total, "quantity": None, "discount": _number(p.get("discount"))}]
    lines = []
    for prod in products:
        price, qty = _number(prod.get("price")), _number(prod.get("quantity"))
        amount = None if price is None else price * (qty if qty is not None else 1.0)
        lines.append(
            {
                **base,
                "product_id": _product_id(prod),
                "category": _text(prod.get("category")),
                "quantity": qty if qty is not None else 1.0,
                "amount": amount,
                "discount": _number(prod.get("discount")),
            }
        )
    return lines


def profile_row(user_id: str, traits: Mapping[str, Any]) -> Row:
    """A ``customers`` row from identify traits (Segment's reserved trait names understood).

    Example:
        >>> profile_row("C1", {"name": "Ann Lee", "address": {"city": "Leeds"}, "plan": "gold"})
        {'customer_id': 'C1', 'first_name': 'Ann', 'last_name': 'Lee', 'city': 'Leeds', 'plan': 'gold'}
    """
    given = traits.get("address")
    address: dict[str, Any] = given if isinstance(given, dict) else {}
    first, last = (
        traits.get("firstName", traits.get("first_name")),
        traits.get("lastName", traits.get("last_name")),
    )
    if first is None and last is None and isinstance(traits.get("name"), str):
        first, _, last = traits["name"].strip().partition(" ")
    row: Row = {
        "customer_id": user_id,
        "created_at": traits.get("createdAt", traits.get("created_at")),
        "first_name": first or None,
        "last_name": last or None,
        "email": traits.get("email"),
        "phone": traits.get("phone"),
        "loyalty_id": traits.get("loyaltyId", traits.get("loyalty_id")),
        "birth_date": traits.get("birthday", traits.get("birth_date")),
        "gender": traits.get("gender"),
        "occupation": traits.get("title", traits.get("occupation")),
        "country": address.get("country", traits.get("country")),
        "region": address.get("state", address.get("region", traits.get("region"))),
        "city": address.get("city", traits.get("city")),
        "postcode": address.get("postalCode", address.get("postal_code", traits.get("postcode"))),
        "interests": traits.get("interests"),
    }
    understood = {
        "firstName", "first_name", "lastName", "last_name", "name", "createdAt", "created_at", "email",
        "phone", "loyaltyId", "loyalty_id", "birthday", "birth_date", "gender", "title", "occupation",
        "address", "country", "region", "city", "postcode", "interests",
    }  # fmt: skip
    for key, value in traits.items():
        if key not in understood and key not in row:
            row[key] = value  # non-canonical: kept in properties_extra by validation
    return {k: v for k, v in row.items() if v is not None}


# -- helpers ------------------------------------------------------------------------------------
def _utc(at: datetime) -> datetime:
    """The server's own clock (aware, or naive UTC) as naive UTC."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _channel(m: Message, context: Mapping[str, Any]) -> str | None:
    props = getattr(m, "properties", None) or {}
    given = props.get("channel") if isinstance(props, dict) else None
    if isinstance(given, str) and given.lower() in EVENT_CHANNELS:
        return given.lower()
    if isinstance(m, Screen) or "app" in context or ("device" in context and "page" not in context):
        return "app"
    if isinstance(m, Page) or "page" in context or "userAgent" in context:
        return "web"
    return None


def _products(p: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    products = p.get("products")
    if isinstance(products, list):
        return [x for x in products if isinstance(x, dict)]
    return []


def _product_id(p: Mapping[str, Any]) -> str | None:
    return _text(p.get("product_id") or p.get("productId") or p.get("sku") or p.get("id"))


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, dict | list):
        return None
    text = str(v).strip()
    return text or None


def _number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
