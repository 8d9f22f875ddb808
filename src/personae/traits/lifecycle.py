"""Lifecycle stage: prospect, new, active, at risk, lapsed — by each customer's own rhythm.

A customer who buys every week is at risk after a month's silence; one who buys twice a year is
not. So the stage compares ``recency_days`` with the customer's own average gap between
orders (or, for one-order customers, the shop's typical gap: the median gap of repeat buyers)
and with the probability that the customer is still active (``p_alive``, from whichever model
the clv step chose) when a model has been fitted:

1. **prospect** — no order yet;
2. **new** — first order within ``new_days`` (90);
3. **lapsed** — silent for more than ``lapsed_rhythm`` (3) × their gap, or longer than
   ``lapsed_max_days`` (540), or, with one order only, longer than ``one_time_lapsed_days``
   (365), or ``p_alive`` below ``lapsed_p_alive`` (0.2);
4. **active** — silent for at most ``active_rhythm`` (1.5) × their gap, and ``p_alive`` (when
   known) at least ``active_p_alive`` (0.5);
5. **at_risk** — everyone in between.

Why a separate limit for one-order customers: they have shown no rhythm, and the BG/NBD lets a
customer leave only after a *repeat* purchase, so its P(alive) is exactly 1 for every one of
them — on CDNOW, 12,054 people last seen 1.3–1.5 years ago. P(alive) can therefore lapse them
(the Pareto/NBD's does) but never keep them active on its own.
"""

from __future__ import annotations

import ibis

from personae.config.traits import LifecycleSettings

LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "lapsed")


def typical_gap(t: ibis.Table, default_days: float) -> ibis.Value:
    """The shop's typical days between orders: the median of repeat buyers' own average gaps
    (a window over ``t``), ``default_days`` when nobody has bought twice; at least one day."""
    return ibis.greatest(ibis.coalesce(t.avg_days_between_orders.median(), default_days), 1.0)


def lifecycle_stage(t: ibis.Table, s: LifecycleSettings) -> ibis.Value:
    """The stage expression; ``t`` needs frequency, recency_days, days_since_first_order,
    avg_days_between_orders and (optionally) p_alive."""
    gap = ibis.greatest(ibis.coalesce(t.avg_days_between_orders, typical_gap(t, s.default_gap_days)), 1.0)
    ratio = t.recency_days.cast("float64") / gap
    p_alive = t.p_alive if "p_alive" in t.columns else ibis.null("float64")
    one_order = t.frequency.fill_null(0) == 1
    lapsed = (
        (ratio > s.lapsed_rhythm)
        | (t.recency_days > s.lapsed_max_days)
        | (one_order & (t.recency_days > s.one_time_lapsed_days))
        | (p_alive.notnull() & (p_alive < s.lapsed_p_alive))
    )
    active = (ratio <= s.active_rhythm) & (p_alive.isnull() | (p_alive >= s.active_p_alive))
    return ibis.cases(
        (t.frequency.fill_null(0) == 0, "prospect"),
        (t.days_since_first_order <= s.new_days, "new"),
        (lapsed, "lapsed"),
        (active, "active"),
        else_="at_risk",
    )
