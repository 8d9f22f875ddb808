"""Paths, touches before buying, drop-off pain points and the lifecycle funnel, by hand."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pyarrow as pa

from personae.journeys import dropoffs, lifecycle, paths, touches
from personae.journeys.funnel import FunnelSpec, progress

from .conftest import T0
from .conftest import touches as stream

END = T0 + timedelta(days=10)

# A: view, view, cart, view → order (8h) → email (9h) → order (20h)
# B: email → view → cart (never orders)
# C: order at once, nothing before; a support contact after
LOG = [
    ("A", 0, "product_view"), ("A", 1, "product_view", "app"), ("A", 2, "add_to_cart"),
    ("A", 3, "product_view"),
    ("A", 8, "order"), ("A", 9, "email_open", "email"), ("A", 20, "order"),
    ("B", 0, "email_open", "email"), ("B", 1, "product_view"), ("B", 2, "add_to_cart"),
    ("C", 5, "order", "store"), ("C", 6, "support_contact", "phone"),
]  # fmt: skip


def test_gaps_count_interactions_and_touchpoints(run) -> None:  # type: ignore[no-untyped-def]
    g = {(r["customer_id"], r["order_number"]): r for r in run(touches.gaps(stream(LOG)))}
    assert set(g) == {("A", 1), ("A", 2), ("C", 1)}  # B never ordered; C's support contact closes no gap
    a1 = g[("A", 1)]
    assert (a1["kind"], a1["interactions"], a1["touchpoints"]) == (
        "first",
        4,
        3,
    )  # view@web, view@app, cart@web
    assert (g[("A", 2)]["kind"], g[("A", 2)]["interactions"]) == ("repeat", 1)
    assert g[("C", 1)]["interactions"] == 0 and g[("C", 1)]["channel"] == "store"


def test_distribution_has_quantiles_and_histogram(run) -> None:  # type: ignore[no-untyped-def]
    rows = {r["kind"]: touches.summary_row(r) for r in run(touches.distribution(touches.gaps(stream(LOG))))}
    first = rows["first"]
    assert first["orders"] == 2 and first["interactions"]["mean"] == 2.0  # A 4, C 0
    assert first["interactions"]["median"] == 2.0
    hist = {h["interactions"]: h["orders"] for h in first["histogram"]}
    assert hist["0"] == 1 and hist["4-5"] == 1 and sum(hist.values()) == 2
    assert rows["repeat"]["orders"] == 1


def test_paths_to_first_order_are_collapsed_and_cut(run) -> None:  # type: ignore[no-untyped-def]
    s = stream(LOG)
    w = paths.step_windows(s, "order", END, timedelta(days=30))
    got = {r["customer_id"]: (r["reached"], r["path"]) for r in run(paths.customer_paths(s, w, 3))}
    # A: view, view(app), cart, view → collapsed view → cart → view (3 steps, nothing cut)
    assert got["A"] == (True, "product_view → add_to_cart → product_view")
    assert got["B"] == (False, "email_open → product_view → add_to_cart")
    assert got["C"] == (True, paths.NO_TOUCHES)
    short = {r["customer_id"]: r["path"] for r in run(paths.customer_paths(s, w, 2))}
    assert short["A"] == "… → add_to_cart → product_view"


def test_paths_to_a_repeat_order_start_after_the_first(run) -> None:  # type: ignore[no-untyped-def]
    s = stream(LOG)
    got = {
        r["customer_id"]: (r["reached"], r["path"])
        for r in run(paths.customer_paths(s, paths.repeat_windows(s, END, timedelta(days=30)), 5))
    }
    assert got == {"A": (True, "email_open"), "C": (False, "support_contact")}


def test_top_paths_and_divergence() -> None:
    rows = [
        {"path": "view → cart → checkout", "reached": True, "customers": 30},
        {"path": "view → cart", "reached": False, "customers": 40},
        {"path": "view → cart → checkout", "reached": False, "customers": 10},
        {"path": "email", "reached": False, "customers": 20},
    ]
    top = paths.top_paths(rows, 2)
    assert top["customers"] == 100 and top["reached"] == 30 and top["rate"] == 0.3
    assert top["paths"][0] == {"path": "view → cart → checkout", "customers": 30, "share": 1.0, "steps": 3}
    assert top["common_paths"][0]["path"] == "view → cart" and top["common_paths"][1]["conversion"] == 0.75
    div = paths.divergence(rows, min_customers=10)
    # after view → cart: reached all go on to checkout (1.0); the rest: 10 of 50 do → TVD 0.8
    split = next(d for d in div if d["after"] == "view → cart")
    assert split["difference"] == 0.8
    assert split["reached_next"][0] == {"next": "checkout", "share": 1.0}
    assert split["not_reached_next"][0] == {"next": "(end)", "share": 0.8}


def test_pain_points_of_droppers(run) -> None:  # type: ignore[no-untyped-def]
    log = [
        ("A", 0, "add_to_cart"), ("A", 1, "remove_from_cart"),  # drops, removed an item
        ("B", 0, "add_to_cart"), ("B", 2, "support_contact", "chat"),  # drops, called support
        ("C", 0, "add_to_cart"), ("C", 1, "order"),  # goes on
        ("D", 0, "add_to_cart"), ("D", 1, "order"), ("D", 3, "support_contact", "chat"),  # goes on
    ]  # fmt: skip
    s = stream(log)
    prog = progress(s, FunnelSpec(("add_to_cart", "order")))
    no_lines = ibis.memtable(
        pa.table({"customer_id": pa.array([], pa.string()), "ordered_at": pa.array([], pa.timestamp("us")),
                  "returned": pa.array([], pa.bool_())})
    )  # fmt: skip
    answers = ibis.memtable(
        pa.table(
            {
                "customer_id": ["A", "C", "C"],
                "answered_at": [T0 + timedelta(hours=h) for h in (3, 2, 3)],
                "kind": ["csat", "csat", "ces"],
                "score": [2.0, 3.0, 6.0],
                "scale_max": [5.0, 5.0, 7.0],
            }
        )
    )  # fmt: skip  (A: CSAT 2 of 5 is low; C: CSAT 3 and CES 6 are not)
    sig = dropoffs.signals(s, no_lines, answers)
    rows = run(dropoffs.pain_counts(prog, sig, 2, timedelta(days=1)))
    overall = {"reached1": 4, "reached2": 2}
    got = {p["signal"]: p for p in dropoffs.pain_points(rows, overall, ("add_to_cart", "order"))}
    assert got["support_contact"]["dropped_share"] == 0.5 and got["support_contact"]["continued_share"] == 0.5
    assert got["support_contact"]["lift"] == 1.0
    assert got["removed_from_cart"]["dropped_share"] == 0.5
    assert got["low_csat"]["dropped_share"] == 0.5 and got["low_csat"]["continued_share"] == 0.0
    assert "low_ces" not in got
    assert got["removed_from_cart"]["continued_share"] == 0.0 and got["removed_from_cart"]["lift"] is None


def test_ranking_value_lost_and_growing_dropoffs() -> None:
    row = {"group": "web", "reached1": 10, "reached2": 4, "completed_value": 200.0, "completed_valued": 4}
    t = dropoffs.transitions(row, ("cart", "order"), fallback_value=99.0)
    assert t == [
        {"from": "cart", "to": "order", "reached": 10, "dropped": 6, "drop_rate": 0.6, "value_lost": 300.0}
    ]
    none_done = {**row, "reached2": 0, "completed_value": None, "completed_valued": 0}
    assert dropoffs.transitions(none_done, ("cart", "order"), 99.0)[0]["value_lost"] == 990.0
    weeks = [
        {"week": date(2025, 6, 2) + timedelta(weeks=i), "reached1": 100, "reached2": 100 - rate}
        for i, rate in enumerate((10, 12, 15, 20, 5))
    ]
    # as of 2025-07-06 with a 7-day window, the cohort of 30 June has not settled (its window ends 14 July);
    # the four settled ones rise 10 → 12 → 15 → 20 %
    flagged = dropoffs.growing(
        weeks, ("cart", "order"), date(2025, 7, 6), timedelta(days=7), min_customers=50
    )
    assert flagged[0]["growing"] is True
    assert [w["drop_rate"] for w in flagged[0]["weeks"]] == [0.1, 0.12, 0.15, 0.2]
    later = dropoffs.growing(weeks, ("cart", "order"), date(2025, 7, 20), timedelta(days=7), min_customers=50)
    assert later[0]["growing"] is False  # the last settled week fell to 5%


def test_lifecycle_funnel_is_the_journey_stage_ladder(run) -> None:  # type: ignore[no-untyped-def]
    stages = ["awareness", "consideration", "consideration", "purchase", "retention", "advocacy", "advocacy"]
    t = ibis.memtable(pa.table({"customer_id": [str(i) for i in range(7)], "journey_stage": stages}))
    row = run(lifecycle.lifecycle_counts(t))[0]
    assert [row[f"reached{k}"] for k in range(1, 6)] == [7, 6, 4, 3, 2]


def test_lapsed_and_detractor_windows(run) -> None:  # type: ignore[no-untyped-def]
    traits = ibis.memtable(
        pa.table({"customer_id": ["A", "C"],
                  "last_order_at": [T0 + timedelta(hours=20), T0 + timedelta(hours=5)],
                  "lifecycle_stage": ["active", "lapsed"]})
    )  # fmt: skip
    s = stream(LOG)
    got = {
        r["customer_id"]: (r["reached"], r["path"])
        for r in run(paths.customer_paths(s, paths.lapsed_windows(traits, END, timedelta(days=30)), 5))
    }
    assert got == {"A": (False, paths.NO_TOUCHES), "C": (True, "support_contact")}
    surveys = ibis.memtable(
        pa.table({"customer_id": ["A", "A", "B"], "kind": ["nps", "nps", "nps"], "score": [10.0, 3.0, 9.0],
                  "answered_at": [T0 + timedelta(hours=h) for h in (4, 21, 1.5)]})
    )  # fmt: skip
    det = {
        r["customer_id"]: (r["reached"], r["path"])
        for r in run(paths.customer_paths(s, paths.detractor_windows(surveys, timedelta(days=1)), 5))
    }
    # A's latest answer (3, a detractor) comes after everything up to the second order
    assert det["A"] == (True, "… → add_to_cart → product_view → order → email_open → order")
    assert det["B"] == (False, "email_open → product_view")
