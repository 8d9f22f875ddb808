"""Recommendations and next best action behind the profile API — a small interface.

The personalization feature (``personae.personalize`` and its application modules) was being
built at the same time as this service; until its library is there, the API answers with
the baseline below, behind a :class:`Personalizer` protocol so swapping it is one line in
:func:`default_personalizer`.

Consent is checked through the consent traits, never ad hoc: without ``consent_personalization``
the customer gets non-personalised (popular) products and an action that uses no profiling;
an action on a channel (email, sms, push) needs that channel's consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import ibis

from personae.store import Store

#: Next-best-action playbook of the baseline, in priority order: (segment, action, channel).
PLAYBOOK: tuple[tuple[str, str, str | None], ...] = (
    ("Cart abandoners", "cart_reminder", "email"),
    ("High value at risk", "retention_call", "phone"),
    ("Lapsing regulars", "win_back_offer", "email"),
    ("Win-back", "win_back_offer", "email"),
    ("Birthday this fortnight", "birthday_offer", "email"),
    ("Promising newcomers", "second_purchase_offer", "email"),
)


class Personalizer(Protocol):
    def recommendations(
        self, store: Store, customer_id: str, consents: Mapping[str, bool], limit: int
    ) -> dict[str, Any]: ...

    def next_best_action(
        self, customer_id: str, segments: Mapping[str, datetime], consents: Mapping[str, bool]
    ) -> dict[str, Any]: ...


class BaselinePersonalizer:
    """Popular products in the customer's strongest categories, not yet bought; a playbook NBA."""

    def recommendations(
        self, store: Store, customer_id: str, consents: Mapping[str, bool], limit: int
    ) -> dict[str, Any]:
        personalized = consents.get("personalization") is True
        orders = store.resolved("orders")
        popular = (
            orders.filter(orders.product_id.notnull())
            .group_by(["product_id", "category"])
            .aggregate(buyers=orders.customer_id.nunique())
        )
        categories: list[str] = []
        if personalized:
            mine = orders.filter(orders.customer_id == customer_id)
            bought = mine.select("product_id").distinct()
            popular = popular.anti_join(bought, "product_id")
            if store.has_table("affinities"):
                a = store.table("affinities")
                top = a.filter((a.customer_id == customer_id) & (a.kind == "category"))
                categories = [str(v) for v in store.execute(top.order_by(top.strength.desc()).limit(3).value)]
        ranked = popular.mutate(
            in_category=popular.category.isin(categories or [""]).ifelse(1, 0)
            if categories
            else ibis.literal(0)
        ).order_by([ibis.desc("in_category"), ibis.desc("buyers"), "product_id"])
        rows = store.execute(ranked.limit(limit)).to_dict("records")
        return {
            "customer_id": customer_id,
            "personalized": personalized,
            "reason": "strongest categories, popular, not yet bought"
            if personalized
            else "no consent to personalization: popular products",
            "items": [
                {"product_id": r["product_id"], "category": r["category"], "buyers": int(r["buyers"])}
                for r in rows
            ],
            "engine": "baseline",
        }

    def next_best_action(
        self, customer_id: str, segments: Mapping[str, datetime], consents: Mapping[str, bool]
    ) -> dict[str, Any]:
        skipped = []
        for segment, action, channel in PLAYBOOK:
            if segment not in segments:
                continue
            if channel in ("email", "sms", "push") and consents.get(channel) is not True:
                skipped.append({"action": action, "reason": f"no consent to {channel}"})
                continue
            return {
                "customer_id": customer_id,
                "action": action,
                "channel": channel,
                "because": f"in segment {segment!r} since {segments[segment].isoformat()}",
                "skipped": skipped,
                "engine": "baseline",
            }
        return {
            "customer_id": customer_id,
            "action": "none",
            "channel": None,
            "because": "no playbook segment applies",
            "skipped": skipped,
            "engine": "baseline",
        }


def default_personalizer() -> Personalizer:
    return BaselinePersonalizer()
