"""``personae impact PLAYBOOK``: treated against held-out customers after an activation.

Application layer. For each customer recorded in ``activations`` for the playbook (their
first activation), outcomes are read from the day after the activation's as-of date for
``window_days``: conversion (any order), revenue per customer (net of returns, 0 for
non-buyers), and experience answers given in the window (NPS, CES, trust). Statistics and the
verdict are :mod:`personae.personalize.impact`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from personae.errors import NotFoundError
from personae.personalize.impact import Effect, mean_difference, nps_points, proportion_difference, verdict
from personae.store import Store
from personae.tables import is_return_line, net_amount

if TYPE_CHECKING:
    # altair is imported inside impact_chart: it takes ~0.4 s to import and the CLI imports this
    # module at start-up.
    import altair as alt


def impact(store: Store, playbook: str, *, window_days: int = 30, confidence: float = 0.95) -> dict[str, Any]:
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
    s = s.filter(s.customer_id.isin(ids))
    answers = store.execute(s.select("customer_id", "answered_at", "kind", "score"))
    answers = answers.merge(first[["customer_id", "group", "start", "end"]], on="customer_id")
    answers = answers[
        (answers["answered_at"] >= answers["start"]) & (answers["answered_at"] < answers["end"])
    ]
    t, c = first[first["group"] == "treatment"], first[first["group"] == "holdout"]
    effects: list[Effect] = [
        proportion_difference(
            int(t["converted"].sum()), len(t), int(c["converted"].sum()), len(c), "conversion", confidence
        ),
        mean_difference(
            t["revenue"].to_numpy(float), c["revenue"].to_numpy(float), "revenue_per_customer", confidence
        ),
    ]
    for kind, metric in (("nps", "nps"), ("ces", "ces"), ("trust", "trust")):
        sub = answers[answers["kind"] == kind]
        vals_t = sub[sub["group"] == "treatment"]["score"].to_numpy()
        vals_c = sub[sub["group"] == "holdout"]["score"].to_numpy()
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
        "verdict": verdict(effects),
    }


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
