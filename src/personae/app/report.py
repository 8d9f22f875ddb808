"""What the report shows, read from the store as plain data, one function per section.

Application layer: each ``*_data`` function reads through the store (Ibis expressions) and the
other features' public use-case functions, and returns JSON-ready rows that
:mod:`personae.app.charts` turns into pictures. A section whose inputs do not exist yet
(no surveys, no cluster model, one snapshot, no activations) comes back as
:class:`Absent` with one line saying what is missing and how to get it, never an exception:
a report that stops at the first missing feature would be no use on a young shop.

Consent: the report is an analytics use of customer data, so every per-customer figure counts
only customers whose ``consent_analytics`` trait is true (the same gate the experience and
journey analyses apply). Store sales per m² are the stores' own accounts (all sales).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from personae.app import clusters as clustering
from personae.app import experience as experience_service
from personae.app import impact as impact_report
from personae.app import journeys as journey_analytics
from personae.app import recommend
from personae.app import voice as voice_service
from personae.app.charts import STORE_COLUMNS
from personae.app.clv import clv_status
from personae.app.reads import built
from personae.app.segments.reports import snapshot_dates
from personae.clusters.features import Preprocessor
from personae.clusters.model import ClusterModel
from personae.clusters.projection import MAX_POINTS, project
from personae.clv.words import model_in_words
from personae.config import Settings
from personae.errors import PersonaeError
from personae.privacy import consent
from personae.segments import analysis
from personae.segments.builtin import family
from personae.store import Store
from personae.tables import net_amount
from personae.traits.rfm import contradictions

#: Value tiers, best first (``traits.value_tier``).
TIERS = ("top1", "top10", "top25", "rest")
#: Where a customer's region or home store is unknown.
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Absent:
    """A section with nothing to show: why, in one line a user can act on.

    ``parts`` holds each part's own reason where a section has several (the journeys' funnel
    and paths), so a page drawing the parts apart says under each why it is missing.
    """

    reason: str
    parts: dict[str, str] = field(default_factory=dict)


@dataclass
class Gathered:
    """The data of one section (``data``) or why it has none (``absent``)."""

    key: str
    data: dict[str, Any] = field(default_factory=dict)
    absent: str | None = None


# -- shared reads ----------------------------------------------------------------------------------
def population(store: Store) -> ibis.Table:
    """The traits of customers who consented to analytics (raises if there are no traits)."""
    return consent.consented(built(store, "traits"), ["analytics"])


def _snapshot_segments(store: Store) -> set[str]:
    if not store.has_table("segment_runs") or not store.count("segment_runs"):
        return set()
    runs = store.table("segment_runs")
    return set(store.execute(runs.select("segment").distinct())["segment"])


def rfm_order(settings: Settings) -> list[str]:
    """The RFM segments in their natural order (best first)."""
    return family("rfm", settings.traits.rfm_rules)


def overview(store: Store) -> dict[str, Any]:
    """Headline numbers for the report's header."""
    p = population(store)
    as_of = experience_service.traits_as_of(store)
    row = store.execute(
        p.aggregate(
            customers=p.count(),
            buyers=p.count(where=p.frequency > 0),
            revenue=p.monetary.sum(),
            clv=p.clv_12m.sum() if "clv_12m" in p.columns else ibis.literal(None, "float64"),
        )
    ).iloc[0]
    return {
        "as_of": as_of.isoformat(),
        "customers_total": store.count("traits"),
        "customers": int(row["customers"]),
        "buyers": int(row["buyers"]),
        "revenue": float(row["revenue"] or 0.0),
        "clv_12m": None if pd.isna(row["clv"]) else float(row["clv"]),
    }


# -- sections --------------------------------------------------------------------------------------
def segments_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """Customers and revenue (net of returns) per RFM segment."""
    p = population(store)
    p = p.filter(p.rfm_segment.notnull())
    rows = store.rows(
        p.group_by("rfm_segment").aggregate(customers=p.count(), revenue=p.monetary.sum().fill_null(0.0)),
    )
    if not rows:
        return Absent("No consenting customer has an RFM segment yet (customers need orders).")
    order = rfm_order(settings)
    rows = [
        {"segment": r["rfm_segment"], "customers": int(r["customers"]), "revenue": float(r["revenue"])}
        for r in rows
    ]
    rows.sort(key=lambda r: (order.index(r["segment"]) if r["segment"] in order else 99, r["segment"]))
    return {"rows": rows, "order": order}


def clv_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """CLV quantiles per RFM segment and totals per value tier."""
    p = population(store)
    if "clv_12m" not in p.columns:
        reason = clv_status(store)
        if reason is not None:
            return Absent(f"No lifetime values: {reason}.")
        return Absent("No lifetime values yet: run `personae build`.")
    p = p.filter(p.clv_12m.notnull())
    seg = p.filter(p.rfm_segment.notnull())
    qs = {f"p{int(q * 100)}": seg.clv_12m.quantile(q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
    by_segment = store.rows(seg.group_by("rfm_segment").aggregate(customers=seg.count(), **qs))
    by_tier = store.rows(p.group_by("value_tier").aggregate(customers=p.count(), clv=p.clv_12m.sum()))
    if not by_segment and not by_tier:
        return Absent("No consenting customer has a predicted lifetime value yet.")
    order = rfm_order(settings)
    segs = [{"segment": r.pop("rfm_segment"), **r} for r in by_segment]
    segs.sort(key=lambda r: (order.index(r["segment"]) if r["segment"] in order else 99, r["segment"]))
    tiers = [
        {"tier": r["value_tier"] or UNKNOWN, "customers": int(r["customers"]), "clv": float(r["clv"] or 0)}
        for r in by_tier
    ]
    tiers.sort(key=lambda r: (TIERS.index(r["tier"]) if r["tier"] in TIERS else 99, r["tier"]))
    return {"by_segment": segs, "by_tier": tiers, "order": order, "model": _clv_model_words(store, settings)}


def _clv_model_words(store: Store, settings: Settings) -> str:
    """The fitted lifetime-value model's parameters said with their meaning ("" when none)."""
    if not store.has_table("clv_params"):
        return ""
    rows = store.rows(store.table("clv_params"))
    if not rows or rows[0].get("status", "fitted") != "fitted":
        return ""
    params = {k: v for k, v in rows[0].items() if isinstance(v, int | float) and v == v}
    return model_in_words(params, settings.clv.time_unit)[0]


def rfm_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """Customers per (R, FM) cell and the cell's most common RFM segment."""
    p = population(store)
    p = p.filter(p.r_score.notnull() & p.fm_score.notnull())
    counts = store.execute(p.group_by(["r_score", "fm_score", "rfm_segment"]).aggregate(customers=p.count()))
    if counts.empty:
        return Absent("No consenting customer has an RFM score yet (customers need orders).")
    counts["rfm_segment"] = counts["rfm_segment"].fillna(UNKNOWN)
    counts = counts.sort_values(
        ["r_score", "fm_score", "customers", "rfm_segment"], ascending=[True, True, False, True]
    )
    cells = []
    for (r, fm), g in counts.groupby(["r_score", "fm_score"], sort=True):
        cells.append(
            {
                "r_score": int(str(r)),
                "fm_score": int(str(fm)),
                "customers": int(g["customers"].sum()),
                "segment": str(g["rfm_segment"].iloc[0]),
            }
        )
    return {"cells": cells, "warnings": rfm_warnings(store, settings)}


def rfm_warnings(store: Store, settings: Settings) -> list[str]:
    """Sentences naming the RFM segments whose members contradict their name (see
    :func:`personae.traits.rfm.contradictions`): recency against the lifecycle's thresholds, for
    the shop's typical gap between orders, the one the lifecycle stage uses."""
    life = settings.traits.lifecycle
    t = built(store, "traits")
    gap = store.scalar(t.avg_days_between_orders.median())
    typical = max(float(gap) if gap is not None else life.default_gap_days, 1.0)
    p = population(store)
    p = p.filter(p.rfm_segment.notnull())
    rows = store.rows(
        p.group_by("rfm_segment").aggregate(
            customers=p.count(),
            median_recency=p.recency_days.median(),
            lapsed=(p.lifecycle_stage == "lapsed").sum(),
        )
    )
    order = rfm_order(settings)
    segs = [{"segment": r.pop("rfm_segment"), **r} for r in rows if r["median_recency"] is not None]
    segs.sort(key=lambda r: order.index(r["segment"]) if r["segment"] in order else 99)
    return contradictions(
        segs,
        typical_gap_days=typical,
        lapse_days=min(life.lapsed_rhythm * typical, life.lapsed_max_days),
        active_days=life.active_rhythm * typical,
        scoring=settings.traits.rfm.scoring,
    )


def funnels_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """The lifecycle (journey-stage) funnel: awareness → … → advocacy."""
    return {"lifecycle": journey_analytics.lifecycle_report(store, settings=settings.traits)["steps"]}


#: The report's journey funnel: browse to order, each step within 7 days of the product view.
JOURNEY_FUNNEL = journey_analytics.PURCHASE_FUNNEL
JOURNEY_WINDOW = timedelta(days=7)
#: The outcome of the report's path diagram, and how many of the most common paths it draws.
PATHS_TO = "order"
PATHS_TOP = 8


def journeys_data(
    store: Store,
    settings: Settings,
    *,
    within: timedelta | None = JOURNEY_WINDOW,
    to: str = PATHS_TO,
    top: int = PATHS_TOP,
) -> dict[str, Any] | Absent:
    """The purchase funnel (``journey funnel``) and the paths to an outcome (``journey paths``).

    The same two use cases as the CLI, so the report, the dashboard and ``personae journey``
    give the same numbers. Each part that cannot be computed (no ``add_to_cart`` events in the
    data, say) becomes a ``*_absent`` line and the other part is still shown.
    """
    out: dict[str, Any] = {}
    try:
        out["funnel"] = journey_analytics.funnel_report(
            store, JOURNEY_FUNNEL, within=within, settings=settings.traits
        )
    except PersonaeError as exc:
        out["funnel_absent"] = f"No purchase funnel: {exc}"
    try:
        out["paths"] = journey_analytics.paths_report(store, to, top=top, settings=settings.traits)
    except PersonaeError as exc:
        out["paths_absent"] = f"No paths to {to}: {exc}"
    if "funnel" not in out and "paths" not in out:
        return Absent(f"{out['funnel_absent']}; {out['paths_absent']}", parts=out)
    out["left_out"] = (out.get("funnel") or out["paths"])["left_out"]
    return out


def experience_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """NPS/CSAT/CES/trust per RFM segment with intervals (``experience_report``)."""
    names = [n for n in rfm_order(settings) if n in _snapshot_segments(store)]
    if not names:
        return Absent("No segment snapshots yet: run `personae build`.")
    if not store.count("surveys"):
        return Absent("No survey answers: `personae ingest surveys FILE` to see NPS, CSAT, CES and trust.")
    report = experience_service.experience_report(store, segments=names, settings=settings.experience)
    if not report["overall"].get("n"):
        return Absent("No survey answers from customers who consented to analytics.")
    return {
        "groups": report["groups"],
        "overall": report["overall"],
        "confidence": report["confidence"],
        "left_out": report["left_out"],
    }


def migration_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """RFM flows between the two latest snapshots, among consenting customers."""

    if not store.has_table("segment_runs") or not store.count("segment_runs"):
        return Absent("No segment snapshots yet: run `personae build`.")
    dates = snapshot_dates(store)
    if len(dates) < 2:
        return Absent(
            f"One snapshot so far ({dates[0].isoformat()}): a later `personae build` (or one with "
            "`--as-of` an earlier date) adds a second to compare."
        )
    start, end = dates[-2], dates[-1]
    names = rfm_order(settings)
    snap = store.table("segment_snapshots")
    snap = snap.semi_join(population(store).select("customer_id"), "customer_id")
    before = snap.filter(snap.as_of == ibis.date(start.isoformat()))
    after = snap.filter(snap.as_of == ibis.date(end.isoformat()))
    flows = store.rows(analysis.migration_flows(before, after, names))
    report = analysis.migration_report(flows, names)
    return {"from": start.isoformat(), "to": end.isoformat(), "segments": names, **report}


def clusters_data(store: Store, settings: Settings, seed: int = 0) -> dict[str, Any] | Absent:
    """The active cluster model's profiles and a 2-D projection of (a sample of) its customers."""

    active = clustering.active_model(store)
    if active is None:
        return Absent("No cluster model yet: `personae clusters build` finds and names the clusters.")
    summary = clustering.cluster_summary(store)
    pre = Preprocessor.from_dict(active["state"]["preprocessor"])
    model = ClusterModel.from_dict(active["state"]["model"])
    traits = clustering.clustered_traits(store, pre.features)
    allowed = set(store.execute(population(store).select("customer_id"))["customer_id"])
    traits = traits[traits["customer_id"].isin(allowed)].reset_index(drop=True)
    if traits.empty:
        return Absent("No consenting customer is clustered yet.")
    rng = np.random.default_rng(seed)
    idx = (
        np.sort(rng.choice(len(traits), MAX_POINTS, replace=False))
        if len(traits) > MAX_POINTS
        else np.arange(len(traits))
    )
    x = pre.transform(traits.iloc[idx])
    labels = model.predict(x)
    coords, variance = project(x, seed)
    names = {int(c["cluster"]): str(c["name"]) for c in summary["clusters"]}
    points = [
        {"pc1": float(a), "pc2": float(b), "cluster": f"{int(c)}: {names.get(int(c), str(int(c)))}"}
        for a, b, c in zip(coords[:, 0], coords[:, 1], labels, strict=True)
    ]
    return {
        "points": points,
        "variance": [float(variance[0]), float(variance[1])],
        "clusters": summary["clusters"],
        "model_id": summary["model_id"],
    }


def regions_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """Segments per region, and per store: sales per m² beside its home customers' value."""
    p = population(store)
    seg = p.filter(p.rfm_segment.notnull())
    region = seg.region.fill_null(UNKNOWN)
    by_region = store.rows(
        seg.group_by(region=region, segment=seg.rfm_segment).aggregate(customers=seg.count())
    )
    out: dict[str, Any] = {"regions": by_region, "order": rfm_order(settings)}
    if not by_region:
        out["regions_absent"] = "No consenting customer has both a region and an RFM segment."
    stores = store.table("stores")
    if not store.count("stores"):
        out["stores_absent"] = "No stores: `personae ingest stores FILE` to see sales per m²."
    else:
        o = store.resolved("orders")
        o = o.filter(o.store_id.notnull())
        net = net_amount(o)
        sales = o.group_by("store_id").aggregate(sales=net.sum())
        home = p.filter(p.home_store_id.notnull())
        clv = home.clv_12m.mean() if "clv_12m" in home.columns else ibis.literal(None, "float64")
        homes = home.group_by(store_id=home.home_store_id).aggregate(customers=home.count(), mean_clv=clv)
        j = stores.left_join(sales, "store_id")
        j = j.select(*stores.columns, sales=j.sales)
        j = j.left_join(homes, "store_id")
        j = j.select(*stores.columns, "sales", customers=j.customers.fill_null(0), mean_clv=j.mean_clv)
        area = j.floor_area_sqm
        j = j.mutate(
            sales=j.sales.fill_null(0.0),
            sales_per_sqm=ibis.ifelse(area > 0, j.sales.fill_null(0.0) / area, ibis.null("float64")),
            region=j.region.fill_null(UNKNOWN),
        )
        rows = store.rows(j.order_by("store_id"))
        out["stores"] = [{k: r[k] for k in STORE_COLUMNS} for r in rows]
    if "regions_absent" in out and "stores_absent" in out:
        return Absent(f"{out['regions_absent']} {out['stores_absent']}")
    return out


def recommendations_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """The time-split evaluation of every recommender against the popularity baseline."""
    try:
        report = recommend.evaluate(store, settings.personalize.recommend)
    except PersonaeError as exc:
        return Absent(f"Recommendations could not be evaluated: {exc}")
    if not report["customers_evaluated"]:
        return Absent(
            "Too few repeat purchases to evaluate recommendations (no customer has a later purchase)."
        )
    return report


def impact_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """Treated against held-out customers for every activated playbook."""

    if not store.has_table("activations") or not store.count("activations"):
        return Absent("No playbook has been activated yet: `personae activate PLAYBOOK --out FILE`.")
    a = store.table("activations")
    playbooks = sorted(store.execute(a.select("playbook").distinct())["playbook"])
    return {"reports": [impact_report.impact(store, pb) for pb in playbooks]}


def voice_data(store: Store, settings: Settings) -> dict[str, Any] | Absent:
    """Themes by sentiment, their monthly trend and sentiment per RFM segment."""

    if not store.has_table("voice_texts") or not store.count("voice_texts"):
        return Absent(
            "No customer texts analysed: reviews, survey comments or support notes feed this section."
        )
    names = [n for n in rfm_order(settings) if n in _snapshot_segments(store)]
    data = voice_service.voice_themes(store, settings.voice, names or None)
    if not data["overview"]["scored"]:
        return Absent("No customer text could be scored (none in a supported language).")
    return {"overview": data["overview"], "themes": data["themes"], "segments": data.get("segments", [])}


#: The sections in report order: key → the function that reads its data.
SECTIONS: tuple[tuple[str, Callable[[Store, Settings], dict[str, Any] | Absent]], ...] = (
    ("segments", segments_data),
    ("clv", clv_data),
    ("rfm", rfm_data),
    ("funnels", funnels_data),
    ("journeys", journeys_data),
    ("experience", experience_data),
    ("migration", migration_data),
    ("clusters", clusters_data),
    ("regions", regions_data),
    ("recommendations", recommendations_data),
    ("impact", impact_data),
    ("voice", voice_data),
)


def gather(
    store: Store,
    settings: Settings,
    progress: Callable[[str, float], None] | None = None,
    only: Sequence[str] | None = None,
) -> list[Gathered]:
    """Every section's data, in report order; a missing input is an :class:`Absent` line.

    Only :class:`PersonaeError` (a missing table, model or snapshot, said in words) becomes an
    absent section; anything else is a bug and propagates.
    """
    report = progress or (lambda step, fraction: None)
    out = []
    chosen = [(k, f) for k, f in SECTIONS if only is None or k in only]
    for i, (key, read) in enumerate(chosen):
        report(key, i / len(chosen))
        try:
            result = read(store, settings)
        except PersonaeError as exc:
            result = Absent(str(exc))  # the message and its hint
        if isinstance(result, Absent):
            out.append(Gathered(key, absent=result.reason))
        else:
            out.append(Gathered(key, data=result))
    report("done", 1.0)
    return out
