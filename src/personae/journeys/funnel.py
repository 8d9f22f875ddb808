"""Funnels: how many customers take each step, in order, within a time window.

Definition (the one every number in ``personae journey funnel`` follows):

* A **step** is an event type or ``order``. The steps are taken in the given order.
* An **attempt** starts at any occurrence of the first step. From it, each next step is the
  customer's *earliest* occurrence of that step **after** the previous step (a later position
  in the touch stream) and no later than ``within`` after the attempt started.
  * ``loose`` order (the default): other touches may come in between.
  * ``strict`` order: the next step must be the customer's very next touch (of any kind).
* A customer **counts at step k** when some attempt reaches step k. Their funnel is the
  attempt that gets furthest (the earliest of those); its times give the time to the next
  step and the time to convert.

So counts never increase along the funnel, a strict funnel never counts more than the loose
one, and a longer window never counts fewer.

Functions here build Ibis expressions (run by the store) and turn their small results into
the report's plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import ibis

from personae.errors import InputError
from personae.journeys.touchpoints import ordered, seconds_between

Order = Literal["loose", "strict"]
ORDERS: tuple[str, ...] = ("loose", "strict")


@dataclass(frozen=True)
class FunnelSpec:
    """What to count: the steps, the window from the first step, and the step order."""

    steps: tuple[str, ...]
    within: timedelta | None = None
    order: Order = "loose"
    since: Any = field(default=None)  # a datetime: only attempts starting at or after it

    def __post_init__(self) -> None:
        if len(self.steps) < 2:
            raise InputError("a funnel needs at least two steps", hint="e.g. --steps product_view,order")
        if any(not s for s in self.steps):
            raise InputError("a funnel step is empty", hint="separate steps with commas, no blanks")
        if self.order not in ORDERS:
            raise InputError(f"--order {self.order!r}: use loose or strict")

    def col(self, kind: str, k: int) -> str:
        return f"{kind}{k}"


def progress(touches: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """One row per customer with at least one attempt: how far their best attempt got.

    Columns: ``customer_id, level`` (1 … number of steps), ``t1 … tN`` (time of each step,
    null past ``level``), ``v1 … vN`` (the value at each step: order value, null for events),
    and the attempt's ``channel`` (and ``device`` when the stream has it) at the first step.
    """
    n = len(spec.steps)
    t = touches if spec.order == "strict" else touches.filter(touches.step.isin(list(set(spec.steps))))
    t = ordered(t)
    extra = [c for c in ("channel", "device") if c in t.columns]
    first = t.filter(t.step == spec.steps[0])
    if spec.since is not None:
        first = first.filter(first.at >= ibis.timestamp(spec.since))
    chain = first.select("customer_id", *extra, attempt=first.pos, p1=first.pos, t1=first.at, v1=first.value)
    for k in range(2, n + 1):
        cand = t.filter(t.step == spec.steps[k - 1]).select(cid="customer_id", cp="pos", ct="at", cv="value")
        prev = chain[f"p{k - 1}"]
        cond = [chain.customer_id == cand.cid]
        cond.append(cand.cp == prev + 1 if spec.order == "strict" else cand.cp > prev)
        if spec.within is not None:
            cond.append(cand.ct <= chain.t1 + ibis.interval(seconds=int(spec.within.total_seconds())))
        # one left join and one grouping per step: the chain is read once (a join back onto
        # itself would make engines that inline subqueries evaluate it 2^steps times)
        j = chain.left_join(cand, cond)
        same = {c: j[c].min() for c in chain.columns if c not in ("customer_id", "attempt")}
        chain = j.group_by(["customer_id", "attempt"]).aggregate(
            **same, **{f"p{k}": j.cp.min(), f"t{k}": j.ct.min(), f"v{k}": j.cv.argmin(j.cp)}
        )
    level = sum((chain[f"p{k}"].notnull().cast("int64") for k in range(2, n + 1)), ibis.literal(1, "int64"))
    chain = chain.mutate(level=level)
    w = ibis.window(group_by=chain.customer_id, order_by=[chain.level.desc(), chain.t1, chain.attempt])
    best = chain.mutate(_r=ibis.row_number().over(w))
    best = best.filter(best._r == 0)
    keep = [f"{c}{k}" for k in range(1, n + 1) for c in ("t", "v")]
    return best.select("customer_id", "level", *keep, *extra)


def counts(progress_: ibis.Table, n_steps: int, group_by: Sequence[str] = ()) -> ibis.Table:
    """Per group: customers at each step (``reached1 … reachedN``), the median seconds to the
    next step among those who took it (``median_next1 …``), the time to convert (first to
    last step) quartiles, and the value of completed funnels."""
    p = progress_
    aggs: dict[str, ibis.Value] = {}
    for k in range(1, n_steps + 1):
        aggs[f"reached{k}"] = p.count(where=p.level >= k)
    for k in range(1, n_steps):
        gap = seconds_between(p[f"t{k + 1}"], p[f"t{k}"])
        aggs[f"median_next{k}"] = gap.median(where=p.level >= k + 1)
    total = seconds_between(p[f"t{n_steps}"], p.t1)
    done = p.level >= n_steps
    for q, name in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75"), (0.9, "p90")):
        aggs[f"convert_{name}"] = total.quantile(q, where=done)
    aggs["completed_value"] = p[f"v{n_steps}"].sum(where=done)
    aggs["completed_valued"] = p[f"v{n_steps}"].count(where=done)
    if group_by:
        return p.group_by(list(group_by)).aggregate(**aggs)
    return p.aggregate(**aggs)


def _hours(seconds: Any) -> float | None:
    return None if seconds is None or seconds != seconds else round(float(seconds) / 3600.0, 4)


def step_rows(row: dict[str, Any], steps: Sequence[str]) -> list[dict[str, Any]]:
    """The report's per-step rows from one row of :func:`counts`.

    ``conversion`` is the share of the previous step's customers who took this step (1.0 at
    the first step); ``conversion_from_start`` the share of the first step's; ``dropped`` how
    many reached this step and not the next; ``median_time_to_next`` is in hours.
    """
    out: list[dict[str, Any]] = []
    first = int(row["reached1"])
    for k, step in enumerate(steps, start=1):
        here = int(row[f"reached{k}"])
        prev = int(row[f"reached{k - 1}"]) if k > 1 else here
        nxt = int(row[f"reached{k + 1}"]) if k < len(steps) else None
        out.append(
            {
                "step": step,
                "customers": here,
                "conversion": round(here / prev, 4) if prev else None,
                "conversion_from_start": round(here / first, 4) if first else None,
                "dropped": None if nxt is None else here - nxt,
                "median_time_to_next": _hours(row.get(f"median_next{k}")) if k < len(steps) else None,
            }
        )
    return out


def time_to_convert(row: dict[str, Any]) -> dict[str, float | None]:
    """Quartiles (and the 90th percentile) of first-to-last-step time, in hours."""
    return {f"{q}_hours": _hours(row.get(f"convert_{q}")) for q in ("p25", "p50", "p75", "p90")}
