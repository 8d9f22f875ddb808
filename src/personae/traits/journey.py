"""Journey traits: how far along each customer is, and what it took to get there.

``journey_stage`` rules (first that applies):

1. **advocacy** — has bought and speaks for the brand: latest NPS 9–10, a review or a referral;
2. **retention** — two or more orders;
3. **purchase** — exactly one order;
4. **consideration** — no order yet, but viewed products, searched, added to cart or started a
   checkout in the last 90 days (``consideration_window_days``);
5. **awareness** — known to us (profile, email, visit) without those signals.
"""

from __future__ import annotations

import ibis

from personae.traits.inputs import TraitInputs

CONSIDERATION_EVENTS = ("product_view", "search", "add_to_cart", "checkout_started")
JOURNEY_STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")


def event_aggregates(e: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    """Needs ``e.first_order_at`` (joined in by the builder)."""
    since = inputs.days_before(inputs.settings.consideration_window_days)
    before_first = e.first_order_at.isnull() | (e.occurred_at < e.first_order_at)
    return {
        "interactions_before_first_purchase": e.count(where=before_first),
        "consideration_signals": e.count(where=e.type.isin(CONSIDERATION_EVENTS) & (e.occurred_at >= since)),
    }


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    freq = t.frequency.fill_null(0)
    advocate = (freq > 0) & (
        (t.latest_nps >= 9) | (t.reviews.fill_null(0) > 0) | (t.referrals.fill_null(0) > 0)
    )
    stage = ibis.cases(
        (advocate, "advocacy"),
        (freq >= 2, "retention"),
        (freq == 1, "purchase"),
        (t.consideration_signals.fill_null(0) > 0, "consideration"),
        else_="awareness",
    )
    return {
        "journey_stage": stage,
        "interactions_before_first_purchase": t.interactions_before_first_purchase.fill_null(0),
    }
