"""Point-in-time features of the detractor model: each customer as they were *before* an answer.

A customer's NPS answer is an outcome at a moment. The model may only learn from what could
have been known the day before that moment: orders, returns, channels and events stamped
before the start of the answer's day. Traits built at the build date would let the model see
what happened *after* the answer (``recency_days`` would partly measure whether a detractor
stopped buying because of what they answered about), and traits derived from the answers
themselves (``journey_stage`` is "advocacy" for every promoter) would hand it the label.

:func:`features_as_of` computes every feature for many ``(key, customer_id, cutoff)`` rows in
one query (an as-of join: each row reads the customer's history strictly before its
``cutoff``), so training on 20,000 answers costs one pass over orders and events, not one
trait build per answer date. Scoring uses the same function with the end of the build date as
every customer's cutoff: the definitions a prediction uses are the ones the model learned on.

:data:`FEATURE_INPUTS` declares, for each feature, the canonical columns it reads; a test fails
when one of them is a label column (:data:`LABEL_COLUMNS`). The definitions follow the traits
of the same name (docs/traits.md), with the as-of date being the day before ``cutoff``.
"""

from __future__ import annotations

import ibis

from personae.config.traits import RfmRule
from personae.schema import ORDER_CHANNELS
from personae.traits.inputs import TraitInputs
from personae.traits.rfm import rfm_scores, rfm_segment

_ORDER = ("orders.customer_id", "orders.order_id", "orders.ordered_at")
_SPEND = ("orders.amount", "orders.quantity", "orders.returned", "orders.discount")
_EVENT = ("events.customer_id", "events.occurred_at", "events.type")

#: Each feature and the canonical columns (``table.column``) it is computed from.
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {
    "frequency": _ORDER,
    "monetary": (*_ORDER, *_SPEND),
    "gross_revenue": (*_ORDER, "orders.amount"),
    "recency_days": _ORDER,
    "aov": (*_ORDER, *_SPEND),
    "days_since_first_order": _ORDER,
    "tenure_days": (*_ORDER, "customers.created_at"),
    "avg_days_between_orders": _ORDER,
    "returns_ratio": (*_ORDER, "orders.returned", "orders.quantity", "orders.amount"),
    "discount_share": (*_ORDER, "orders.amount", "orders.discount"),
    **{f"orders_{c}": (*_ORDER, "orders.channel") for c in ORDER_CHANNELS},
    **{f"spend_{c}": (*_ORDER, *_SPEND, "orders.channel") for c in ORDER_CHANNELS},
    "n_channels": (*_ORDER, "orders.channel"),
    "single_channel": (*_ORDER, "orders.channel"),
    "preferred_channel": (*_ORDER, *_SPEND, "orders.channel"),
    "support_contacts_90d": _EVENT,
    "emails_sent_90d": _EVENT,
    "email_opens_90d": _EVENT,
    "email_clicks_90d": _EVENT,
    "email_open_rate_90d": _EVENT,
    "product_views_90d": _EVENT,
    "app_opens_90d": _EVENT,
    "store_visits_90d": _EVENT,
    "events_90d": _EVENT,
    "reviews": _EVENT,
    "referrals": _EVENT,
    "failed_deliveries": _EVENT,
}
#: Features used one-hot (the rest are numbers; booleans count as 0/1).
CATEGORICAL_FEATURES = ("preferred_channel",)
NUMERIC_FEATURES = tuple(f for f in FEATURE_INPUTS if f not in CATEGORICAL_FEATURES)

#: What the label is, or is derived from: every survey column, and every trait computed from
#: the answers (``journey_stage`` is "advocacy" for every promoter; voice traits read the
#: answers' comments; the model's own outputs). No feature may read one of these.
LABEL_COLUMNS = frozenset(
    {
        "surveys.*",
        *(
            f"traits.{t}"
            for t in (
                "latest_nps",
                "latest_ces",
                "latest_csat",
                "latest_trust",
                "nps_category",
                "survey_answers",
                "last_survey_at",
                "journey_stage",
                "detractor_risk",
                "predicted_nps_category",
                "voice_texts",
                "latest_sentiment",
                "avg_sentiment",
                "sentiment_90d",
                "negative_texts_90d",
                "top_complaint_theme",
            )
        ),
    }
)


def reads_label(inputs: tuple[str, ...]) -> list[str]:
    """The label columns among ``inputs`` (``surveys.anything`` matches ``surveys.*``)."""
    return [c for c in inputs if c in LABEL_COLUMNS or f"{c.split('.', 1)[0]}.*" in LABEL_COLUMNS]


def features_as_of(inputs: TraitInputs, at: ibis.Table) -> ibis.Table:
    """Every feature of :data:`FEATURE_INPUTS` for each row of ``at``, as of just before ``cutoff``.

    Args:
        inputs: the canonical tables cut at the build date (:func:`personae.traits.prepare`);
            only ``orders_by_order``, ``returns_by_order``, ``events`` and ``customers`` are read
            — never ``surveys``.
        at: ``key`` (unique), ``customer_id`` and ``cutoff`` (a timestamp): the row's features
            use what was stamped strictly before ``cutoff``, and day counts run to the day
            before it.

    Returns ``key``, ``as_of`` (the day before the cutoff) and one column per feature.
    """
    s = inputs.settings
    at = at.select("key", "customer_id", "cutoff")
    bought = inputs.orders_by_order
    o = bought.mutate(is_return=ibis.literal(False)).union(
        inputs.returns_by_order.select(*bought.columns).mutate(is_return=ibis.literal(True))
    )
    a = at.view()
    jo = a.join(o, [a.customer_id == o.customer_id, o.ordered_at < a.cutoff])
    buy = ~jo.is_return
    order_aggs: dict[str, ibis.Value] = {
        "frequency": jo.count(where=buy),
        "order_lines": jo.lines.sum(),
        "gross_revenue": jo.gross_amount.sum(),
        "monetary": jo.net_amount.sum(),
        "returned_lines": jo.returned_lines.sum(),
        "discount_total": jo.discount.sum(),
        "first_order_at": jo.ordered_at.min(where=buy),
        "last_order_at": jo.ordered_at.max(where=buy),
    }
    for ch in ORDER_CHANNELS:
        order_aggs[f"orders_{ch}"] = jo.count(where=(jo.channel == ch) & buy)
        order_aggs[f"spend_{ch}"] = jo.net_amount.sum(where=jo.channel == ch)
    per_orders = jo.group_by(jo.key).aggregate(**order_aggs)

    b = at.view()
    e = inputs.events
    je = b.join(e, [b.customer_id == e.customer_id, e.occurred_at < b.cutoff])
    support_from = je.cutoff - ibis.interval(days=s.support_window_days)
    engage_from = je.cutoff - ibis.interval(days=s.engagement_window_days)

    def n(kind: str, since: ibis.Value = engage_from) -> ibis.Value:
        return je.count(where=(je.type == kind) & (je.occurred_at >= since))

    per_events = je.group_by(je.key).aggregate(
        support_contacts_90d=n("support_contact", support_from),
        emails_sent_90d=n("email_sent"),
        email_opens_90d=n("email_open"),
        email_clicks_90d=n("email_click"),
        product_views_90d=n("product_view"),
        app_opens_90d=n("app_open"),
        store_visits_90d=n("store_visit"),
        events_90d=je.count(where=je.occurred_at >= engage_from),
        reviews=je.count(where=je.type == "review"),
        referrals=je.count(where=je.type == "referral"),
        failed_deliveries=je.count(where=je.type == "delivery_failed"),
    )

    c = inputs.customers.select("customer_id", "created_at")
    t = at.left_join(per_orders, "key").left_join(per_events, "key")
    t = t.left_join(c, [t.customer_id == c.customer_id, c.created_at < t.cutoff])
    t = t.select(
        *at.columns, *[x for x in (*per_orders.columns, *per_events.columns) if x != "key"], "created_at"
    )
    return _derived(t)


def _derived(t: ibis.Table) -> ibis.Table:
    """The features from the per-row aggregates (as the traits of the same names)."""
    as_of = (t.cutoff - ibis.interval(days=1)).date()
    freq = t.frequency.fill_null(0)
    has_orders = freq > 0
    span = t.last_order_at.date().delta(t.first_order_at.date(), unit="day")
    gross = t.gross_revenue.fill_null(0.0)
    discount = t.discount_total.fill_null(0.0)
    lines = t.order_lines.fill_null(0)
    orders = {ch: t[f"orders_{ch}"].fill_null(0) for ch in ORDER_CHANNELS}
    spend = {ch: t[f"spend_{ch}"].fill_null(0.0) for ch in ORDER_CHANNELS}
    n_channels = sum((orders[ch] > 0).ifelse(1, 0) for ch in ORDER_CHANNELS)
    best: ibis.Value = ibis.null("string")
    best_orders: ibis.Value = ibis.literal(0)
    best_spend: ibis.Value = ibis.literal(-1.0)
    for ch in ORDER_CHANNELS:  # most orders, then most spend, then ORDER_CHANNELS order
        better = (orders[ch] > best_orders) | (
            (orders[ch] == best_orders) & (orders[ch] > 0) & (spend[ch] > best_spend)
        )
        best = ibis.ifelse(better, ch, best)
        best_spend = ibis.ifelse(better, spend[ch], best_spend)
        best_orders = ibis.ifelse(better, orders[ch], best_orders)
    counts = [f for f in FEATURE_INPUTS if f.endswith("_90d") and f != "email_open_rate_90d"]
    values: dict[str, ibis.Value] = {
        "frequency": freq,
        "monetary": t.monetary.fill_null(0.0),
        "gross_revenue": gross,
        "recency_days": as_of.delta(t.last_order_at.date(), unit="day"),
        "aov": ibis.ifelse(has_orders, t.monetary / freq, None),
        "days_since_first_order": as_of.delta(t.first_order_at.date(), unit="day"),
        "tenure_days": as_of.delta(ibis.coalesce(t.created_at, t.first_order_at).date(), unit="day"),
        "avg_days_between_orders": ibis.ifelse(freq > 1, span.cast("float64") / (freq - 1), None),
        "returns_ratio": ibis.ifelse(
            lines > 0, ibis.least(t.returned_lines.cast("float64") / lines, 1.0), None
        ),
        "discount_share": ibis.ifelse((gross + discount) > 0, discount / (gross + discount), None),
        **{f"orders_{ch}": orders[ch] for ch in ORDER_CHANNELS},
        **{f"spend_{ch}": spend[ch] for ch in ORDER_CHANNELS},
        "n_channels": n_channels,
        "single_channel": n_channels == 1,
        "preferred_channel": best,
        **{f: t[f].fill_null(0) for f in counts},
        "email_open_rate_90d": ibis.ifelse(
            t.emails_sent_90d.fill_null(0) > 0,
            t.email_opens_90d.cast("float64") / t.emails_sent_90d,
            None,
        ),
        "reviews": t.reviews.fill_null(0),
        "referrals": t.referrals.fill_null(0),
        "failed_deliveries": t.failed_deliveries.fill_null(0),
    }
    return t.select("key", as_of=as_of, **{f: values[f] for f in FEATURE_INPUTS})


def rfm_segments_of(t: ibis.Table, rules: list[RfmRule]) -> ibis.Table:
    """``key, rfm_segment`` of the rows of :func:`features_as_of`: the RFM segment each row's
    customer was in at its as-of date, R, F and M scored against the other rows (percent ranks
    among the rows with an order, as :mod:`personae.traits.rfm` does among customers).

    The baseline the detractor model is compared with: "predict each answer by its segment's
    detractor rate" needs the segment *before* the answer too, or the baseline would peek.
    """
    n = t.select("key", "frequency", "recency_days", "monetary")
    n = n.mutate(**rfm_scores(n))
    n = n.mutate(**rfm_segment(n, rules))
    return n.select("key", rfm_segment=n.rfm_segment.fill_null("(no order)"))
