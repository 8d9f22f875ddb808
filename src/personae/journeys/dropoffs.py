"""Drop-offs: where customers leave a funnel, who they are, what it costs, and what hurt.

* **Ranking.** For every step → next step and every value of a dimension (a segment, the
  channel or device of the first step, or a trait), the customers who reached the step but
  not the next (``dropped``), the drop-off rate, and the **value lost**: dropped customers ×
  the average value of a completed funnel in the same group (the completing order's net
  value when the last step is ``order``; otherwise, or when the group has no completions,
  the average order value of the period). Ranked by value lost, then customers.
* **Growing drop-offs.** Customers are put in weekly cohorts by when their funnel started;
  only cohorts whose window is over are used (a cohort that started yesterday may still
  convert). A transition is flagged when its drop-off rate rose week on week for the last
  ``weeks`` mature cohorts, each with at least ``min_customers``, by ``min_rise`` in all.
* **Pain points.** The signals of the Experience pain points (``personae experience
  pain-points``, same names and thresholds) — ``support_contact``, ``failed_delivery``,
  ``return``, ``low_ces``, ``low_csat`` — and ``removed_from_cart``, counted in the
  ``horizon`` after the step, for those who dropped and those who went on. ``lift`` is
  how many times more often the droppers met the signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import ibis

from personae.journeys.funnel import counts
from personae.traits.experience import normalised_score

#: Pain-point signals carried by events (names as in the Experience pain points,
#: ``personae experience pain-points``, plus items removed from the cart).
EVENT_SIGNALS = {
    "support_contact": "support_contact",
    "delivery_failed": "failed_delivery",
    "remove_from_cart": "removed_from_cart",
}
RETURN_SIGNAL = "return"
#: Low answers on the standard scales, with the Experience pain points' thresholds:
#: CES 1–3 of 7 (disagree it was easy), CSAT 1–2 of 5 (dissatisfied).
LOW_SCORE_SIGNALS = {"ces": ("low_ces", 3.0), "csat": ("low_csat", 2.0)}


def transitions(row: dict[str, Any], steps: Sequence[str], fallback_value: float) -> list[dict[str, Any]]:
    """Per step → next step for one group's :func:`~personae.journeys.funnel.counts` row."""
    valued = int(row.get("completed_valued") or 0)
    per = float(row["completed_value"]) / valued if valued else fallback_value
    out = []
    for k in range(1, len(steps)):
        here, nxt = int(row[f"reached{k}"]), int(row[f"reached{k + 1}"])
        dropped = here - nxt
        out.append(
            {
                "from": steps[k - 1],
                "to": steps[k],
                "reached": here,
                "dropped": dropped,
                "drop_rate": round(dropped / here, 4) if here else None,
                "value_lost": round(dropped * per, 2),
            }
        )
    return out


def ranking(
    groups: dict[str, list[dict[str, Any]]], steps: Sequence[str], fallback_value: float
) -> list[dict[str, Any]]:
    """Every (dimension, value, transition), most value lost first.

    Args:
        groups: dimension name → its :func:`counts` rows (each with a ``group`` key).
    """
    rows = []
    for dim, dim_rows in groups.items():
        for r in dim_rows:
            for t in transitions(r, steps, fallback_value):
                if t["reached"]:
                    rows.append({"dimension": dim, "value": r["group"], **t})
    rows.sort(key=lambda r: (-r["value_lost"], -r["dropped"], r["dimension"], str(r["value"])))
    return rows


def weekly(progress_: ibis.Table, n_steps: int) -> ibis.Table:
    """:func:`counts` per weekly cohort (``week``: the Monday the funnel started in)."""
    p = progress_.mutate(week=progress_.t1.truncate("W").date())
    return counts(p, n_steps, ["week"])


def growing(
    weekly_rows: Sequence[dict[str, Any]],
    steps: Sequence[str],
    as_of: date,
    within: timedelta | None,
    *,
    weeks: int = 3,
    min_customers: int = 30,
    min_rise: float = 0.02,
) -> list[dict[str, Any]]:
    """Per transition: the weekly drop-off rates of mature cohorts and whether it is growing."""
    settle = within or timedelta(days=7)
    mature = sorted(
        (r for r in weekly_rows if r["week"] + timedelta(days=7) + settle <= as_of + timedelta(days=1)),
        key=lambda r: r["week"],
    )
    out = []
    for k in range(1, len(steps)):
        series = []
        for r in mature:
            here, nxt = int(r[f"reached{k}"]), int(r[f"reached{k + 1}"])
            if here:
                series.append(
                    {
                        "week": r["week"].isoformat(),
                        "reached": here,
                        "drop_rate": round((here - nxt) / here, 4),
                    }
                )
        tail = series[-(weeks + 1) :]
        rising = (
            len(tail) == weeks + 1
            and all(p["reached"] >= min_customers for p in tail)
            and all(b["drop_rate"] > a["drop_rate"] for a, b in pairwise(tail))
            and tail[-1]["drop_rate"] - tail[0]["drop_rate"] >= min_rise
        )
        out.append({"from": steps[k - 1], "to": steps[k], "growing": rising, "weeks": series[-12:]})
    return out


def signals(touches: ibis.Table, order_lines: ibis.Table, surveys: ibis.Table) -> ibis.Table:
    """``customer_id, at, signal``: every pain-point signal."""
    e = touches.filter(touches.step.isin(list(EVENT_SIGNALS)))
    ev = e.select("customer_id", "at", signal=e.step.cases(*EVENT_SIGNALS.items(), else_="other"))
    r = order_lines.filter(order_lines.returned.fill_null(False))
    ret = r.select("customer_id", at=r.ordered_at, signal=ibis.literal(RETURN_SIGNAL))
    answers = surveys.filter(surveys.kind.isin(list(LOW_SCORE_SIGNALS)))
    s = answers.mutate(std=normalised_score(answers))
    out = ev.union(ret)
    for kind, (name, at_most) in LOW_SCORE_SIGNALS.items():
        low = s.filter((s.kind == kind) & (s.std <= at_most))
        out = out.union(low.select("customer_id", at=low.answered_at, signal=ibis.literal(name)))
    return out


def pain_counts(progress_: ibis.Table, sig: ibis.Table, n_steps: int, horizon: timedelta) -> ibis.Table:
    """``step, dropped, signal, customers``: customers at each step (before the last) who met
    each signal within ``horizon`` after it, split by whether they dropped there."""
    parts = []
    for k in range(1, n_steps):
        p = progress_.filter(progress_.level >= k)
        parts.append(p.select("customer_id", step=ibis.literal(k), at=p[f"t{k}"], dropped=p.level == k))
    at_step = parts[0]
    for part in parts[1:]:
        at_step = at_step.union(part)
    span = ibis.interval(seconds=int(horizon.total_seconds()))
    j = at_step.join(
        sig, [at_step.customer_id == sig.customer_id, sig.at >= at_step.at, sig.at < at_step.at + span]
    )
    met = j.select(j.customer_id, j.step, j.dropped, j.signal).distinct()
    return met.group_by(["step", "dropped", "signal"]).aggregate(customers=met.count())


def pain_points(
    rows: Sequence[dict[str, Any]], overall: dict[str, Any], steps: Sequence[str]
) -> list[dict[str, Any]]:
    """Per transition, each signal's share among droppers and among those who went on."""
    met = {(int(r["step"]), bool(r["dropped"]), r["signal"]): int(r["customers"]) for r in rows}
    names = sorted({r["signal"] for r in rows})
    out = []
    for k in range(1, len(steps)):
        here, nxt = int(overall[f"reached{k}"]), int(overall[f"reached{k + 1}"])
        dropped, went_on = here - nxt, nxt
        for name in names:
            d, c = met.get((k, True, name), 0), met.get((k, False, name), 0)
            if not d and not c:
                continue
            ds = d / dropped if dropped else None
            cs = c / went_on if went_on else None
            out.append(
                {
                    "from": steps[k - 1],
                    "to": steps[k],
                    "signal": name,
                    "dropped_with_signal": d,
                    "dropped_share": None if ds is None else round(ds, 4),
                    "continued_share": None if cs is None else round(cs, 4),
                    "lift": round(ds / cs, 2) if ds is not None and cs else None,
                }
            )
    out.sort(key=lambda r: (-r["dropped_with_signal"], r["from"], r["signal"]))
    return out
