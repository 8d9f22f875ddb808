"""``personae impact PLAYBOOK``: treated against held-out customers after an activation.

Application layer. For each customer recorded in ``activations`` for the playbook (their
first activation), outcomes are read from the day after the activation's as-of date for
``window_days``: conversion (any order), revenue per customer (net of returns, 0 for
non-buyers), and experience answers given in the window (NPS, CES, trust): **one answer per
customer and kind** (their first in the window — several answers of one customer are not
independent observations), each put on its kind's standard scale first (an NPS asked 0–5
counts as its 0–10 equivalent). Statistics, the power calculation and the verdict are
:mod:`personae.personalize.impact`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from personae.errors import NotFoundError
from personae.personalize.impact import (
    Effect,
    bootstrap_mean_difference,
    detectable_lift,
    holdout_needed,
    mean_difference,
    nps_points,
    proportion_difference,
    skewed,
    verdict,
)
from personae.store import Store
from personae.tables import is_return_line, net_amount
from personae.traits.experience import normalised_score

if TYPE_CHECKING:
    # altair is imported inside impact_chart: it takes ~0.4 s to import and the CLI imports this
    # module at start-up.
    import altair as alt


def impact(
    store: Store, playbook: str, *, window_days: int = 30, confidence: float = 0.95, lift: float = 0.20
) -> dict[str, Any]:
    """Treated against held out, with intervals, the answers used and a power check for a
    relative ``lift`` in conversion (0.20 = a fifth more conversions than the control's)."""
    a = store.table("activations")
    a = a.filter(a.playbook == ibis.literal(playbook))
    first = store.execute(a.group_by(["customer_id"]).aggregate(group=a.group.min(), as_of=a.as_of.min()))
    if first.empty:
        raise NotFoundError(
            f"no activations of playbook {playbook!r}",
            hint=f"run `personae activate {playbook} --out FILE`; an activation that reached "
            "nobody (everyone left out, e.g. for consent) records none",
        )
    first["start"] = pd.to_datetime(first["as_of"]) + timedelta(days=1)
    first["end"] = first["start"] + timedelta(days=window_days)
    ids = first["customer_id"].tolist()
    o = store.resolved("orders")
    o = o.filter(o.customer_id.isin(ids))
    orders = store.execute(
        o.select("customer_id", "ordered_at", "amount", net=net_amount(o), bought=~is_return_line(o))
    )
    orders = orders.merge(first[["customer_id", "start", "end"]], on="customer_id")
    orders = orders[(orders["ordered_at"] >= orders["start"]) & (orders["ordered_at"] < orders["end"])]
    revenue = orders.groupby("customer_id")["net"].sum()
    first["revenue"] = first["customer_id"].map(revenue).fillna(0.0)
    # a return is no conversion: only a purchase in the window converts
    first["converted"] = first["customer_id"].isin(
        set(orders.loc[orders["bought"].astype(bool), "customer_id"])
    )
    s = store.resolved("surveys")
    s = s.filter(s.customer_id.isin(ids) & s.kind.isin(["nps", "ces", "trust"]))
    answers = store.execute(s.select("customer_id", "answered_at", "kind", score=normalised_score(s)))
    answers = answers.merge(first[["customer_id", "group", "start", "end"]], on="customer_id")
    answers = answers[
        (answers["answered_at"] >= answers["start"]) & (answers["answered_at"] < answers["end"])
    ]
    given = len(answers)
    answers = answers.sort_values(["customer_id", "kind", "answered_at"]).drop_duplicates(
        ["customer_id", "kind"], keep="first"
    )
    t, c = first[first["group"] == "treatment"], first[first["group"] == "holdout"]
    revenue_t, revenue_c = t["revenue"].to_numpy(float), c["revenue"].to_numpy(float)
    revenue_effect = (
        bootstrap_mean_difference(revenue_t, revenue_c, "revenue_per_customer", confidence)
        if skewed(revenue_t) or skewed(revenue_c)
        else mean_difference(revenue_t, revenue_c, "revenue_per_customer", confidence)
    )
    effects: list[Effect] = [
        proportion_difference(
            int(t["converted"].sum()), len(t), int(c["converted"].sum()), len(c), "conversion", confidence
        ),
        revenue_effect,
    ]
    for kind, metric in (("nps", "nps"), ("ces", "ces"), ("trust", "trust")):
        sub = answers[answers["kind"] == kind]
        vals_t = sub[sub["group"] == "treatment"]["score"].to_numpy(float)
        vals_c = sub[sub["group"] == "holdout"]["score"].to_numpy(float)
        if kind == "nps":
            vals_t, vals_c = nps_points(vals_t), nps_points(vals_c)
        effects.append(mean_difference(vals_t, vals_c, metric, confidence))
    return {
        "playbook": playbook,
        "window_days": window_days,
        "confidence": confidence,
        "treated": len(t),
        "held_out": len(c),
        "effects": [e.as_dict() for e in effects],
        "answers": {"given": given, "used": len(answers), "per_customer": "first answer of each kind"},
        "power": power_check(
            len(t), len(c), float(c["converted"].mean()) if len(c) else None, lift, confidence
        ),
        "verdict": verdict(effects),
    }


def power_check(
    treated: int, held_out: int, p0: float | None, lift: float, confidence: float, power: float = 0.80
) -> dict[str, Any]:
    """How big the holdout must be to detect a relative ``lift`` in conversion, and a warning
    when it is smaller (the baseline is the control group's conversion rate)."""
    out: dict[str, Any] = {"lift": lift, "power": power, "baseline": p0, "needed": None, "detectable": None}
    if p0 is None or not 0 < p0 < 1:
        out["warning"] = "no power calculation: the control group's conversion is " + (
            "unknown (nobody held out)" if p0 is None else f"{p0:.0%}"
        )
        return out
    needed = holdout_needed(p0, p0 * lift, treated, confidence=confidence, power=power)
    out["needed"] = needed
    out["detectable"] = detectable_lift(p0, treated, held_out, confidence=confidence, power=power)
    if needed is None:
        out["warning"] = (
            f"no holdout, however large, detects a {lift:.0%} lift on {p0:.1%} conversion with "
            f"{treated:,} treated: treat more customers"
        )
    elif held_out < needed:
        seen = out["detectable"]
        tail = f"; these groups detect a rise of {seen * 100:.1f} points or more" if seen is not None else ""
        out["warning"] = (
            f"the holdout ({held_out:,}) is smaller than the {needed:,} needed to detect a "
            f"{lift:.0%} lift on {p0:.1%} conversion with {power:.0%} power{tail}: "
            "a 'no detectable effect' says little"
        )
    return out


def impact_chart(report: dict[str, Any]) -> alt.FacetChart:
    """Each effect (treatment − control) with its interval, one panel per metric (each on its
    own scale: dollars, shares and points do not share an axis), zero dashed."""
    rows = [e for e in report["effects"] if e["difference"] is not None]
    df = pd.DataFrame(rows, columns=["metric", "difference", "low", "high", "direction"])
    df["low"] = df["low"].fillna(df["difference"])
    df["high"] = df["high"].fillna(df["difference"])
    df["zero"] = 0.0
    import altair as alt

    base = alt.Chart().encode()
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title="treatment − control"), x2="high:Q")
    points = base.mark_point(filled=True, size=80).encode(
        x="difference:Q",
        color=alt.Color(
            "direction:N",
            scale=alt.Scale(domain=["up", "down", "unclear"], range=["#2a9d8f", "#e76f51", "#888888"]),
        ),
    )
    zero = base.mark_rule(strokeDash=[4, 4]).encode(x="zero:Q")
    return (
        alt.layer(bars, points, zero, data=df)
        .properties(width=420, height=30)
        .facet(
            row=alt.Row("metric:N", title=None, sort=None),
            title=f"{report['playbook']}: effect over {report['window_days']} days",
        )
        .resolve_scale(x="independent")
    )
