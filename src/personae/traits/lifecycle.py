"""Lifecycle stage: prospect, new, active, at risk, lapsed — by each customer's own rhythm.

A customer who buys every week is at risk after a month's silence; one who buys twice a year is
not. So the stage compares ``recency_days`` with the customer's own average gap between
orders (or, for one-order customers, the median gap of repeat buyers) and with the BG/NBD
probability that the customer is still active (``p_alive``) when the model has been fitted:

1. **prospect** — no order yet;
2. **new** — first order within ``new_days`` (90);
3. **lapsed** — silent for more than ``lapsed_rhythm`` (3) × their gap, or longer than
   ``lapsed_max_days`` (540), or ``p_alive`` below ``lapsed_p_alive`` (0.2);
4. **active** — silent for at most ``active_rhythm`` (1.5) × their gap, and ``p_alive`` (when
   known) at least ``active_p_alive`` (0.5);
5. **at_risk** — everyone in between.
"""

from __future__ import annotations

import ibis

from personae.config.traits import LifecycleSettings

LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "lapsed")


def lifecycle_stage(t: ibis.Table, s: LifecycleSettings) -> ibis.Value:
    """The stage expression; ``t`` needs frequency, recency_days, days_since_first_order,
    avg_days_between_orders and (optionally) p_alive."""
    typical_gap = t.avg_days_between_orders.median()  # over all repeat buyers (a window)
    gap = ibis.coalesce(t.avg_days_between_orders, typical_gap, s.default_gap_days)
    gap = ibis.greatest(gap, 1.0)
    ratio = t.recency_days.cast("float64") / gap
    p_alive = t.p_alive if "p_alive" in t.columns else ibis.null("float64")
    lapsed = (
        (ratio > s.lapsed_rhythm)
        | (t.recency_days > s.lapsed_max_days)
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
