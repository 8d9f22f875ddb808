"""The event log being built: rows as integer codes, turned into the events table at the end.

Behaviour modules append blocks of events as NumPy arrays: who (a chunk-local person, or
an anonymous visitor), when, what type, which channel, which product, a property code and
an identity *mode*. The mode says which identifiers the row carries, which is how the log
plants the identity puzzles of real tracking data: anonymous cookies, app devices, logins
that tie a cookie to an e-mail, store visits known only by a loyalty card.

The property strings (``{"query": "running shoes"}``) come from one ``EventProperties``
vocabulary built per data set, so each row only stores an index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import pyarrow as pa

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate import vocabulary as voc
from personae.devtools.generate import voice as vt
from personae.devtools.generate.catalogue import Catalogue
from personae.devtools.generate.columns import SECONDS_PER_DAY, Vocabulary
from personae.devtools.generate.identities import COOKIE_SALT, DEVICE_SALT, Identities
from personae.devtools.generate.seasonality import Timeline

TYPE = {t: i for i, t in enumerate(schema.EVENT_TYPES)}
CHANNEL = {c: i for i, c in enumerate(schema.EVENT_CHANNELS)}
#: EVENT_CHANNELS code of each ORDER_CHANNELS code
ORDER_TO_EVENT_CHANNEL = np.array([CHANNEL[c] for c in schema.ORDER_CHANNELS])
SERVICE_REASONS = (*voc.SUPPORT_REASONS, *voc.RETURN_REASONS, *voc.DELIVERY_REASONS)


class Mode(IntEnum):
    """Which identifiers an event row carries."""

    KNOWN = 0  # customer_id
    KNOWN_EMAIL = 1  # customer_id + email (e-mail messaging, e-mail support)
    KNOWN_PHONE = 2  # customer_id + phone (sms, phone support)
    KNOWN_DEVICE = 3  # customer_id + device_id (logged-in app)
    KNOWN_LOYALTY = 4  # customer_id + loyalty_id (till with account lookup)
    ANON_COOKIE = 5  # anonymous_id only (web, not logged in)
    ANON_DEVICE = 6  # device_id only (app, not logged in)
    LOGIN = 7  # e-mail (or phone) + anonymous_id: the cookie logs in
    LOYALTY = 8  # loyalty_id only (card scanned in store)
    VISITOR = 9  # anonymous_id of someone who never became a customer


_WITH_CUSTOMER = (Mode.KNOWN, Mode.KNOWN_EMAIL, Mode.KNOWN_PHONE, Mode.KNOWN_DEVICE, Mode.KNOWN_LOYALTY)
ANONYMOUS_MODES = (Mode.ANON_COOKIE, Mode.ANON_DEVICE, Mode.VISITOR)


def cookie_keys(person_global: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Stable browser-cookie keys: up to 3 per person."""
    return col.hashed(person_global.astype(np.uint64) * np.uint64(4) + slot.astype(np.uint64), COOKIE_SALT)


def device_keys(person_global: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Stable app-device keys: up to 2 per person (people change phones)."""
    return col.hashed(person_global.astype(np.uint64) * np.uint64(4) + slot.astype(np.uint64), DEVICE_SALT)


@dataclass(frozen=True)
class EventProperties:
    """Codes of the JSON property strings events use; ``vocab`` holds the strings."""

    vocab: pa.Array
    page: np.ndarray
    login: int
    query: np.ndarray  # (categories, queries) codes, -1 padded
    query_count: np.ndarray
    team_query: np.ndarray
    items: np.ndarray  # {"items": k}, index k
    campaign_days: np.ndarray  # e-mail campaign days
    campaign_sale: np.ndarray
    campaign: np.ndarray
    sms_days: np.ndarray
    sms: np.ndarray
    push: np.ndarray
    service: np.ndarray  # (SERVICE_REASONS, resolved) codes
    delivery: np.ndarray
    rating: np.ndarray  # index 1..5
    store: np.ndarray
    referral: np.ndarray
    review_text: np.ndarray  # (rating 0..5, voice text) codes of {"rating", "text"}
    service_text: np.ndarray  # (SERVICE_REASONS, resolved, voice text) codes with a "text"

    @classmethod
    def build(cls, timeline: Timeline, n_stores: int, store_ids: pa.Array) -> EventProperties:
        v = Vocabulary()

        def codes(objects: list[dict[str, object]]) -> np.ndarray:
            return v.add([json.dumps(o) for o in objects])

        page = codes([{"page": p} for p in voc.LANDING_PAGES])
        login = int(codes([{"page": "login"}])[0])
        width = max(len(q) for q in voc.SEARCH_QUERIES.values())
        query = np.full((len(voc.CATEGORY_NAMES), width), -1, dtype=np.int64)
        count = np.zeros(len(voc.CATEGORY_NAMES), dtype=np.int64)
        for c, name in enumerate(voc.CATEGORY_NAMES):
            qs = voc.SEARCH_QUERIES[name]
            query[c, : len(qs)] = codes([{"query": q} for q in qs])
            count[c] = len(qs)
        team_query = codes([{"query": f"{t.lower()} jersey"} for t in voc.TEAM_NAMES])
        items = codes([{"items": k} for k in range(9)])
        # weekly newsletter on Thursdays, plus a campaign on the first day of each sale
        days = np.arange(timeline.start_day, timeline.end_day + 1)
        promo = timeline.is_promo(days)
        sale_start = promo & ~np.concatenate([[False], promo[:-1]])
        thursday = (days + 3) % 7 == 3
        campaign_days = days[thursday | sale_start]
        campaign_sale = sale_start[thursday | sale_start]
        labels = col.date_text(campaign_days).to_pylist()
        campaign = codes(
            [
                {"campaign": f"{d}-{'sale' if s else 'newsletter'}"}
                for d, s in zip(labels, campaign_sale, strict=True)
            ]
        )
        sms_days = days[(days - timeline.start_day) % 30 == 12]
        sms = codes([{"campaign": f"{d[:7]}-sms"} for d in col.date_text(sms_days).to_pylist()])
        push = codes([{"message": m} for m in ("order_update", "back_in_stock", "sale", "recommendation")])
        service = np.stack(
            [
                codes([{"reason": r, "resolved": True} for r in SERVICE_REASONS]),
                codes([{"reason": r, "resolved": False} for r in SERVICE_REASONS]),
            ],
            axis=1,
        )
        delivery = codes([{"reason": r} for r in voc.DELIVERY_FAILURES])
        rating = codes([{"rating": r} for r in range(6)])
        store = codes([{"store_id": s} for s in store_ids.to_pylist()[:n_stores]])
        referral = codes([{"medium": m} for m in voc.REFERRAL_MEDIA])
        # texts last: the codes above stay what they were before texts existed
        review_text = np.stack([codes([{"rating": r, "text": t} for t in vt.TEXTS]) for r in range(6)])
        service_text = np.stack(
            [
                np.stack(
                    [
                        codes([{"reason": r, "resolved": ok, "text": t} for t in vt.TEXTS])
                        for ok in (True, False)
                    ]
                )
                for r in SERVICE_REASONS
            ]
        )
        return cls(
            v.array(),
            page,
            login,
            query,
            count,
            team_query,
            items,
            campaign_days,
            campaign_sale,
            campaign,
            sms_days,
            sms,
            push,
            service,
            delivery,
            rating,
            store,
            referral,
            review_text,
            service_text,
        )


@dataclass
class EventLog:
    """Blocks of events for one chunk of people, as parallel code arrays.

    ``person`` is chunk-local; anonymous visitors are numbered after the people.
    """

    blocks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(
        self,
        person: np.ndarray,
        seconds: np.ndarray,
        type_: str | np.ndarray,
        channel: str | np.ndarray,
        mode: Mode | np.ndarray,
        *,
        product: np.ndarray | None = None,
        category: np.ndarray | None = None,
        props: np.ndarray | int | None = None,
        key: np.ndarray | None = None,
    ) -> None:
        """Append events; scalars broadcast. ``key`` is the cookie/device/visitor key."""
        n = len(person)

        def arr(value: object, default: int, dtype: type = np.int64) -> np.ndarray:
            return np.broadcast_to(np.asarray(default if value is None else value, dtype=dtype), (n,))

        # compact dtypes: the log is sorted by a random-looking permutation at the end,
        # and gathering small integers is much cheaper than gathering int64s
        self.blocks.append(
            {
                "person": np.asarray(person, dtype=np.int64),
                "s": np.asarray(seconds, dtype=np.int64),
                "type": arr(TYPE[type_] if isinstance(type_, str) else type_, 0, np.int8),
                "channel": arr(CHANNEL[channel] if isinstance(channel, str) else channel, 0, np.int8),
                "mode": arr(mode, 0, np.int8),
                "product": arr(product, -1, np.int32),
                "category": arr(category, -1, np.int8),
                "props": arr(props, -1, np.int32),
                "key": arr(key, 0, np.uint64),
            }
        )

    def __len__(self) -> int:
        return sum(len(b["person"]) for b in self.blocks)

    def columns(self) -> dict[str, np.ndarray]:
        """All blocks concatenated."""
        return {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}

    def table(
        self,
        ids: Identities,
        cat: Catalogue,
        props: EventProperties,
        timeline: Timeline,
        first_number: int,
        width: int,
    ) -> pa.Table:
        """The events table: window-bounded, sorted by person then time, numbered."""
        c = self.columns()
        start_s = timeline.start_day * SECONDS_PER_DAY
        n_people = len(ids.has_dup)
        keep = np.flatnonzero((c["s"] >= start_s) & (c["s"] <= timeline.end_s))
        # one stable sort on (person, time): visitors (person >= n_people) come last
        sort_key = (c["person"][keep] << np.int64(32)) | (c["s"][keep] - start_s)
        order = keep[np.argsort(sort_key, kind="stable")]
        c = {k: v[order] for k, v in c.items()}
        person, mode = c["person"], c["mode"]
        known = np.minimum(person, n_people - 1)  # visitors index safely, never used

        def where(modes: tuple[Mode, ...]) -> np.ndarray:
            table = np.zeros(len(Mode), dtype=bool)
            table[list(modes)] = True
            return table[mode]

        login_email = (mode == Mode.LOGIN) & ids.has_email[known]
        login_phone = (mode == Mode.LOGIN) & ~login_email
        email = where((Mode.KNOWN_EMAIL,)) | login_email
        phone = where((Mode.KNOWN_PHONE,)) | login_phone
        anon = where((Mode.ANON_COOKIE, Mode.LOGIN, Mode.VISITOR))
        device = where((Mode.KNOWN_DEVICE, Mode.ANON_DEVICE))
        loyalty = where((Mode.KNOWN_LOYALTY, Mode.LOYALTY))
        return pa.table(
            {
                "event_id": col.ids("E", first_number + np.arange(len(person)), width),
                "customer_id": col.lookup(ids.customer_id, np.where(where(_WITH_CUSTOMER), person, -1)),
                "email": col.lookup(ids.email, np.where(email, person, -1)),
                "phone": col.lookup(ids.phone, np.where(phone, person, -1)),
                "anonymous_id": col.hex_ids("a-", c["key"], 16, anon),
                "device_id": col.hex_ids("dev-", c["key"], 12, device),
                "loyalty_id": col.lookup(ids.loyalty_id, np.where(loyalty, person, -1)),
                "occurred_at": col.timestamps(c["s"]),
                "type": col.lookup(schema.EVENT_TYPES, c["type"]),
                "channel": col.lookup(schema.EVENT_CHANNELS, c["channel"]),
                "product_id": col.lookup(cat.product_ids, c["product"]),
                "category": col.lookup(voc.CATEGORY_NAMES, c["category"]),
                "properties": col.lookup(props.vocab, c["props"]),
            }
        )
