"""Behaviour traits from events: abandonment, engagement, support load.

* ``cart_abandoned``: added something to the cart in the last N days (default 7) and has not
  ordered since the latest add.
* ``browse_abandoned_category``: the category viewed most in the last N days (default 14)
  that the customer did not buy in that window; ``browse_abandoned`` when there is one.
* ``support_contacts_90d``: support contacts over the support window.
"""

from __future__ import annotations

import ibis

from personae.traits.inputs import TraitInputs


def event_aggregates(e: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    s = inputs.settings
    cart_from = inputs.days_before(s.cart_abandonment_days)
    support_from = inputs.days_before(s.support_window_days)
    engage_from = inputs.days_before(s.engagement_window_days)
    recent = e.occurred_at >= engage_from

    def n(kind: str, since: ibis.Value = engage_from) -> ibis.Value:
        return e.count(where=(e.type == kind) & (e.occurred_at >= since))

    return {
        "last_add_to_cart_at": e.occurred_at.max(
            where=(e.type == "add_to_cart") & (e.occurred_at >= cart_from)
        ),
        "support_contacts_90d": n("support_contact", support_from),
        "emails_sent_90d": n("email_sent"),
        "email_opens_90d": n("email_open"),
        "email_clicks_90d": n("email_click"),
        "product_views_90d": n("product_view"),
        "app_opens_90d": n("app_open"),
        "store_visits_90d": n("store_visit"),
        "events_90d": e.count(where=recent),
        "last_event_at": e.occurred_at.max(),
        "reviews": e.count(where=e.type == "review"),
        "referrals": e.count(where=e.type == "referral"),
        "failed_deliveries": e.count(where=e.type == "delivery_failed"),
    }


COUNTS = (
    "support_contacts_90d",
    "emails_sent_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "product_views_90d",
    "app_opens_90d",
    "store_visits_90d",
    "events_90d",
    "reviews",
    "referrals",
    "failed_deliveries",
)


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    after_cart = t.last_order_at.isnull() | (t.last_order_at < t.last_add_to_cart_at)
    return {
        **{c: t[c].fill_null(0) for c in COUNTS},
        "cart_abandoned": t.last_add_to_cart_at.notnull() & after_cart,
        "email_open_rate_90d": ibis.ifelse(
            t.emails_sent_90d > 0, t.email_opens_90d.cast("float64") / t.emails_sent_90d, None
        ),
        "browse_abandoned": t.browse_abandoned_category.notnull(),
    }


def browse_abandonment(inputs: TraitInputs) -> ibis.Table:
    """Per customer, the most-viewed category of the window that was not bought in it."""
    since = inputs.days_before(inputs.settings.browse_abandonment_days)
    e, o = inputs.events, inputs.orders
    views = e.filter((e.type == "product_view") & e.category.notnull() & (e.occurred_at >= since))
    viewed = views.group_by(["customer_id", "category"]).aggregate(
        views=views.count(), last=views.occurred_at.max()
    )
    bought = (
        o.filter(o.category.notnull() & (o.ordered_at >= since)).select("customer_id", "category").distinct()
    )
    unbought = viewed.anti_join(bought, ["customer_id", "category"])
    w = ibis.window(
        group_by=unbought.customer_id,
        order_by=[unbought.views.desc(), unbought.last.desc(), unbought.category],
    )
    ranked = unbought.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select("customer_id", browse_abandoned_category=ranked.category)
