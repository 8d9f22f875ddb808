"""Paths: the sequences of touchpoints that lead to an outcome, and where they diverge.

For every customer the outcome defines a **window** and whether the customer **reached** it:

============  ========================  ===============================  =====================
outcome       who                       reached                          window
============  ========================  ===============================  =====================
``order``     every customer            made a first order               up to the first order
(any step)    every customer            did the step                     up to its first time
``repeat``    buyers                    made a second order              first → second order
``lapsed``    buyers                    ``lifecycle_stage`` is lapsed    after the last order
``detractor`` NPS answerers             latest NPS answer is 0–6         up to that answer
============  ========================  ===============================  =====================

Windows that end at an outcome look back at most ``lookback`` (default 30 days); the
*lapsed* window looks ``lookback`` forward from the last order (what happened after it).
Customers who did not reach the outcome get the same kind of window, ending at the as-of
date (or starting at their last order), so both groups are described alike.

A **path** is the window's touches in order (after its start, before its end),
**collapsed**: consecutive repeats of a step become one (``product_view × 5`` is
``product_view``), and only the last ``length`` steps are kept, with a leading ``…`` when
earlier ones were cut. An empty window is ``(no touches)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import ibis

from personae.journeys.touchpoints import ORDER, ordered

SEP = " → "
NO_TOUCHES = "(no touches)"
CUT = "…"
END = "(end)"
#: Outcomes with their own definition (any other name is a step: event type or ``order``).
SPECIAL_OUTCOMES = ("repeat", "lapsed", "detractor")


def _ts(value: datetime) -> ibis.Value:
    return ibis.timestamp(value.isoformat(sep=" "))


def step_windows(touches: ibis.Table, step: str, end: datetime, lookback: timedelta) -> ibis.Table:
    """``customer_id, start, end, reached`` for "the first time a customer did ``step``"."""
    first = touches.group_by("customer_id").aggregate(
        _hit=touches.at.min(where=touches.step == step),
    )
    stop = ibis.coalesce(first._hit, _ts(end))
    return first.select(
        "customer_id",
        start=stop - ibis.interval(seconds=int(lookback.total_seconds())),
        end=stop,
        reached=first._hit.notnull(),
    )


def repeat_windows(touches: ibis.Table, end: datetime, lookback: timedelta) -> ibis.Table:
    """Buyers: from the first order to the second (or the as-of date)."""
    o = ordered(touches.filter(touches.step == ORDER))
    firsts = o.group_by("customer_id").aggregate(
        _first=o.at.min(where=o.pos == 0), _second=o.at.min(where=o.pos == 1)
    )
    stop = ibis.coalesce(firsts._second, _ts(end))
    back = stop - ibis.interval(seconds=int(lookback.total_seconds()))
    return firsts.select(
        "customer_id", start=ibis.greatest(firsts._first, back), end=stop, reached=firsts._second.notnull()
    )


def lapsed_windows(traits: ibis.Table, end: datetime, lookback: timedelta) -> ibis.Table:
    """Buyers: the ``lookback`` after their last order; reached = lapsed lifecycle stage."""
    b = traits.filter(traits.last_order_at.notnull())
    fwd = b.last_order_at + ibis.interval(seconds=int(lookback.total_seconds()))
    return b.select(
        "customer_id",
        start=b.last_order_at,
        end=ibis.least(fwd, _ts(end)),
        reached=b.lifecycle_stage == "lapsed",
    )


def detractor_windows(surveys: ibis.Table, lookback: timedelta) -> ibis.Table:
    """NPS answerers: up to their latest NPS answer; reached = that answer is 0–6."""
    s = surveys.filter(surveys.kind == "nps")
    latest = s.group_by("customer_id").aggregate(end=s.answered_at.max(), score=s.score.argmax(s.answered_at))
    return latest.select(
        "customer_id",
        start=latest.end - ibis.interval(seconds=int(lookback.total_seconds())),
        end=latest.end,
        reached=latest.score <= 6,
    )


def customer_paths(touches: ibis.Table, windows: ibis.Table, length: int) -> ibis.Table:
    """``customer_id, reached, path`` — each customer's collapsed path in their window."""
    w = windows
    t = touches.select("customer_id", "at", "step", "is_order", "channel")
    j = t.join(w, [t.customer_id == w.customer_id, t.at > w.start, t.at < w.end]).select(
        "customer_id", "at", "step", "is_order", "channel"
    )
    j = ordered(j)
    by = ibis.window(group_by=j.customer_id, order_by=j.pos)
    j = j.mutate(_prev=j.step.lag().over(by))
    c = j.filter(j._prev.isnull() | (j._prev != j.step))
    back = ibis.window(group_by=c.customer_id, order_by=c.pos.desc())
    c = c.mutate(_from_end=ibis.row_number().over(back))
    kept = c.filter(c._from_end < length)
    agg = kept.group_by("customer_id").aggregate(
        _path=kept.step.group_concat(SEP, order_by=kept.pos), _cut=kept._from_end.max()
    )
    total = c.group_by("customer_id").aggregate(_n=c.count())
    agg = agg.join(total, "customer_id")
    path = ibis.ifelse(agg._n > length, CUT + SEP + agg._path, agg._path)
    agg = agg.select("customer_id", path=path)
    out = w.left_join(agg, "customer_id")
    return out.select(out.customer_id, out.reached, path=out.path.fill_null(NO_TOUCHES))


def path_counts(paths: ibis.Table) -> ibis.Table:
    """``path, reached, customers``."""
    return paths.group_by(["path", "reached"]).aggregate(customers=paths.count())


def top_paths(rows: Sequence[dict[str, Any]], top: int) -> dict[str, Any]:
    """The most common paths of those who reached the outcome, and overall with the share of
    each path's customers who reached it (``conversion``)."""
    reached: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for r in rows:
        total[r["path"]] += int(r["customers"])
        if r["reached"]:
            reached[r["path"]] += int(r["customers"])
    n_reached = sum(reached.values())
    n_all = sum(total.values())
    to = sorted(reached.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    common = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "customers": n_all,
        "reached": n_reached,
        "rate": round(n_reached / n_all, 4) if n_all else None,
        "paths": [
            {"path": p, "customers": n, "share": round(n / n_reached, 4), "steps": len(p.split(SEP))}
            for p, n in to
        ],
        "common_paths": [
            {
                "path": p,
                "customers": n,
                "reached": reached.get(p, 0),
                "conversion": round(reached.get(p, 0) / n, 4),
            }
            for p, n in common
        ],
    }


def divergence(rows: Sequence[dict[str, Any]], top: int = 5, min_customers: int = 10) -> list[dict[str, Any]]:
    """Where the paths of those who reached the outcome and those who did not part ways.

    For every shared beginning of a path (a prefix, from the start of the window), the next
    step of each group — a step, or ``(end)`` when the path stops there. The **difference**
    is the total variation distance between the two groups' next-step shares (0: they go the
    same way; 1: never the same way). Prefixes taken by at least ``min_customers`` of each
    group are ranked by difference × customers at that point, so the big, clear splits come
    first. A cut path (``…``) is read from its first kept step.
    """
    nxt: dict[tuple[str, ...], dict[bool, dict[str, int]]] = defaultdict(
        lambda: {True: defaultdict(int), False: defaultdict(int)}
    )
    for r in rows:
        steps = [] if r["path"] == NO_TOUCHES else [s for s in r["path"].split(SEP) if s != CUT]
        n, hit = int(r["customers"]), bool(r["reached"])
        for i in range(len(steps) + 1):
            nxt[tuple(steps[:i])][hit][steps[i] if i < len(steps) else END] += n
    out: list[tuple[float, dict[str, Any]]] = []
    for prefix, groups in nxt.items():
        a, b = groups[True], groups[False]
        na, nb = sum(a.values()), sum(b.values())
        if na < min_customers or nb < min_customers:
            continue
        keys = set(a) | set(b)
        tvd = 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in keys)

        def shares(d: dict[str, int], n: int) -> list[dict[str, Any]]:
            return [
                {"next": k, "share": round(v / n, 4)}
                for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            ]

        out.append(
            (
                tvd * (na + nb),
                {
                    "after": SEP.join(prefix) if prefix else "(start)",
                    "reached_customers": na,
                    "not_reached_customers": nb,
                    "difference": round(tvd, 4),
                    "reached_next": shares(a, na),
                    "not_reached_next": shares(b, nb),
                },
            )
        )
    out.sort(key=lambda r: (-r[0], r[1]["after"]))
    return [r for _, r in out[:top]]
