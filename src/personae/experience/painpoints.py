"""Pain points along the journey: where experience drops, for how many, and what is at stake.

Every pain point is a *signal* at a *stage* of the journey, over the last ``window`` days:

=================  ==================  =====================================================
stage              signal              a customer is affected when …
=================  ==================  =====================================================
browse, checkout,  ``low_ces``         they disagreed it was easy (CES 1–3 of 7) there
delivery, store,   ``low_csat``        they were dissatisfied (CSAT 1–2 of 5) there
app, support …     ``detractor``       they gave NPS 0–6 about that touchpoint
checkout           ``abandoned_checkout``  a checkout they started had no order within N days
delivery           ``failed_delivery``     a delivery to them failed
after purchase     ``return``              they returned an order line
support            ``support_contact``     they contacted support
=================  ==================  =====================================================

The survey stages are the answers' touchpoints (any value the data has). For each signal:
customers affected, occurrences, the *rate* among the customers exposed (answerers at that
touchpoint, customers who started a checkout, buyers …), the **value at stake** (the affected
customers' 12-month CLV, or their spend where no CLV was fitted) and the **NPS gap**: NPS of
affected answerers minus NPS of everyone else who answered, with its standard error — how much
experience drops with the pain. Ranking is by value at stake (or customers affected).

The signal tables are Ibis expressions over the trait inputs (cut at the as-of date), so the
engine does the heavy lifting; :func:`rank_pain_points` is plain pandas on the small result.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd

from personae.experience.metrics import CES_DISAGREE_MAX, PASSIVE_MIN, nps
from personae.traits.experience import normalised_score
from personae.traits.inputs import TraitInputs

CSAT_BOTTOM_TWO_MAX = 2.0
#: Journey stage of each survey touchpoint the synthetic data and most shops use; others keep
#: their own name as the stage.
TOUCHPOINT_STAGES = {
    "website": "browse",
    "app": "browse",
    "checkout": "checkout",
    "delivery": "delivery",
    "store": "store",
    "support": "support",
}
#: Order of stages along the journey (for display); unknown stages go last.
STAGE_ORDER = ("browse", "checkout", "delivery", "store", "after purchase", "support")
SIGNAL_COLUMNS = ("customer_id", "stage", "signal", "occurrences")


def _stage(touchpoint: ibis.Value) -> ibis.Value:
    cases = [(touchpoint == tp, stage) for tp, stage in TOUCHPOINT_STAGES.items()]
    return ibis.cases(*cases, else_=touchpoint.fill_null("(unknown)"))


def survey_signals(inputs: TraitInputs, window_days: int) -> tuple[ibis.Table, ibis.Table]:
    """Low CES, low CSAT and detractor answers per customer and stage; and the exposed bases."""
    s = inputs.surveys
    s = s.filter(s.answered_at >= inputs.days_before(window_days))
    s = s.mutate(std=normalised_score(s), stage=_stage(s.touchpoint))
    bad = ibis.cases(
        ((s.kind == "ces") & (s.std <= CES_DISAGREE_MAX), "low_ces"),
        ((s.kind == "csat") & (s.std <= CSAT_BOTTOM_TWO_MAX), "low_csat"),
        ((s.kind == "nps") & (s.std < PASSIVE_MIN), "detractor"),
        else_=ibis.null("string"),
    )
    kind_signal = ibis.cases(
        (s.kind == "ces", "low_ces"),
        (s.kind == "csat", "low_csat"),
        (s.kind == "nps", "detractor"),
        else_=ibis.null("string"),
    )
    s = s.mutate(signal=bad, exposed_signal=kind_signal)
    bad_rows = s.filter(s.signal.notnull())
    hits = bad_rows.group_by(["customer_id", "stage", "signal"]).aggregate(occurrences=bad_rows.count())
    asked = s.filter(s.exposed_signal.notnull())
    bases = asked.group_by(["stage", asked.exposed_signal.name("signal")]).aggregate(
        exposed=asked.customer_id.nunique()
    )
    return hits, bases


def behaviour_signals(
    inputs: TraitInputs, window_days: int, abandon_days: int
) -> tuple[ibis.Table, ibis.Table]:
    """Abandoned checkouts, failed deliveries, returns and support contacts; and their bases."""
    start = inputs.days_before(window_days)
    e = inputs.events.filter(inputs.events.occurred_at >= start)
    o = inputs.orders.filter(inputs.orders.ordered_at >= start)

    def per_customer(t: ibis.Table, stage: str, signal: str) -> ibis.Table:
        return (
            t.group_by("customer_id")
            .aggregate(occurrences=t.count())
            .mutate(stage=ibis.literal(stage), signal=ibis.literal(signal))
        )

    started = e.filter(e.type == "checkout_started").select("customer_id", "occurred_at")
    placed = inputs.orders.select(o_customer="customer_id", o_at="ordered_at")
    abandoned = started.anti_join(
        placed,
        [
            started.customer_id == placed.o_customer,
            placed.o_at >= started.occurred_at,
            placed.o_at <= started.occurred_at + ibis.interval(days=abandon_days),
        ],
    )
    parts = [
        per_customer(abandoned, "checkout", "abandoned_checkout"),
        per_customer(e.filter(e.type == "delivery_failed"), "delivery", "failed_delivery"),
        per_customer(
            o.filter(o.returned.fill_null(False)).union(
                inputs.returns.filter(inputs.returns.ordered_at >= start)
            ),
            "after purchase",
            "return",
        ),
        per_customer(e.filter(e.type == "support_contact"), "support", "support_contact"),
    ]
    hits = ibis.union(*[p.select(*SIGNAL_COLUMNS) for p in parts])
    buyers = o.customer_id.nunique()
    active = ibis.union(e.select("customer_id"), o.select("customer_id")).distinct().count()
    online_buyers = o.filter(o.channel.fill_null("web") != "store").customer_id.nunique()
    bases = ibis.memtable(
        {
            "stage": ["checkout", "delivery", "after purchase", "support"],
            "signal": ["abandoned_checkout", "failed_delivery", "return", "support_contact"],
        }
    )
    exposed = ibis.cases(
        (bases.signal == "abandoned_checkout", started.customer_id.nunique().as_scalar()),
        (bases.signal == "failed_delivery", online_buyers.as_scalar()),
        (bases.signal == "return", buyers.as_scalar()),
        else_=active.as_scalar(),
    )
    return hits, bases.mutate(exposed=exposed)


def pain_signals(
    inputs: TraitInputs, *, window_days: int = 365, abandon_days: int = 2
) -> tuple[ibis.Table, ibis.Table]:
    """Every signal: ``customer_id, stage, signal, occurrences`` and ``stage, signal, exposed``."""
    sh, sb = survey_signals(inputs, window_days)
    bh, bb = behaviour_signals(inputs, window_days, abandon_days)
    hits = ibis.union(sh.select(*SIGNAL_COLUMNS), bh.select(*SIGNAL_COLUMNS))
    return hits, ibis.union(sb.select("stage", "signal", "exposed"), bb.select("stage", "signal", "exposed"))


def rank_pain_points(
    hits: pd.DataFrame,
    bases: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    by: Literal["value", "customers"] = "value",
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """One row per (stage, signal), ranked.

    Args:
        hits: ``customer_id, stage, signal, occurrences`` (from :func:`pain_signals`).
        bases: ``stage, signal, exposed``.
        customers: ``customer_id, value, latest_nps`` — the value at stake per customer
            (CLV or spend) and the latest NPS answer (for the gap).
    """
    value = customers.set_index("customer_id")["value"].astype(float)
    answers = customers.dropna(subset=["latest_nps"]).set_index("customer_id")["latest_nps"].astype(float)
    exposed = {
        (str(st), str(sg)): int(ex)
        for st, sg, ex in zip(bases["stage"], bases["signal"], bases["exposed"], strict=True)
    }
    rows: list[dict[str, Any]] = []
    for keys, g in hits.groupby(["stage", "signal"], sort=True):
        stage, signal = str(keys[0]), str(keys[1])
        affected = pd.Index(g["customer_id"].unique())
        inside = answers[answers.index.isin(affected)]
        outside = answers[~answers.index.isin(affected)]
        a, b = nps(inside.to_numpy(), confidence), nps(outside.to_numpy(), confidence)
        gap = se = None
        if a.score is not None and b.score is not None and a.se is not None and b.se is not None:
            gap, se = a.score - b.score, math.sqrt(a.se**2 + b.se**2)
        base = exposed.get((stage, signal))
        rows.append(
            {
                "stage": stage,
                "signal": signal,
                "customers": len(affected),
                "occurrences": int(g["occurrences"].sum()),
                "exposed": base,
                "rate": len(affected) / base if base else None,
                "value_at_stake": float(np.nansum(value.reindex(affected).to_numpy())),
                "nps_affected": a.score,
                "nps_affected_n": a.n,
                "nps_others": b.score,
                "nps_gap": gap,
                "nps_gap_se": se,
            }
        )
    key = "value_at_stake" if by == "value" else "customers"
    other = "customers" if by == "value" else "value_at_stake"
    rows.sort(key=lambda r: (-r[key], -r[other], _stage_rank(r["stage"]), r["signal"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def _stage_rank(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
