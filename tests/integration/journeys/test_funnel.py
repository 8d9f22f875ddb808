"""Funnels on hand-made streams: counts, windows, strict vs loose order, times."""

from __future__ import annotations

from datetime import timedelta

import pytest

from personae.errors import InputError
from personae.journeys.funnel import FunnelSpec, counts, progress, step_rows, time_to_convert

from .conftest import touches

STEPS = ("product_view", "add_to_cart", "order")

# A: view (0h) → cart (1h) → order (3h): completes in 3h.
# B: view (0h) → page_view (0.5h) → cart (2h): reaches cart; no order.
# C: cart (0h) → view (1h): cart before view does not count → only the view.
# D: view (0h) → cart (30h) → order (31h): 7-day window fine, 24h window stops at view.
# E: view (0h), view (100h) → cart (101h) → order (102h): a later attempt completes (24h window too).
# F: order only: never starts the funnel.
STREAM = [
    ("A", 0, "product_view"), ("A", 1, "add_to_cart"), ("A", 3, "order"),
    ("B", 0, "product_view", "app"), ("B", 0.5, "page_view"), ("B", 2, "add_to_cart"),
    ("C", 0, "add_to_cart"), ("C", 1, "product_view"),
    ("D", 0, "product_view"), ("D", 30, "add_to_cart"), ("D", 31, "order"),
    ("E", 0, "product_view"), ("E", 100, "product_view"), ("E", 101, "add_to_cart"), ("E", 102, "order"),
    ("F", 5, "order"),
]  # fmt: skip


def funnel(run, spec, group_by=()):  # type: ignore[no-untyped-def]
    return run(counts(progress(touches(STREAM), spec), len(spec.steps), group_by))


def test_loose_funnel_counts_and_times_by_hand(run) -> None:  # type: ignore[no-untyped-def]
    row = funnel(run, FunnelSpec(STEPS))[0]
    steps = step_rows(row, STEPS)
    assert [s["customers"] for s in steps] == [5, 4, 3]  # A B C D E; A B D E; A D E
    assert [s["dropped"] for s in steps] == [1, 1, None]
    assert steps[1]["conversion"] == 0.8 and steps[2]["conversion"] == 0.75
    assert steps[2]["conversion_from_start"] == 0.6
    # view→cart gaps: A 1h, B 2h, D 30h, E: earliest attempt (0h) → 101h. Median of 1, 2, 30, 101 = 16h
    assert steps[0]["median_time_to_next"] == 16.0
    # cart→order: A 2h, D 1h, E 1h → 1h
    assert steps[1]["median_time_to_next"] == 1.0
    # time to convert: A 3h, D 31h, E 102h → median 31h
    assert time_to_convert(row)["p50_hours"] == 31.0
    assert row["completed_value"] == 300.0


def test_window_limits_the_steps(run) -> None:  # type: ignore[no-untyped-def]
    row = funnel(run, FunnelSpec(STEPS, within=timedelta(hours=24)))[0]
    steps = step_rows(row, STEPS)
    # D's cart comes 30h after its view: stops at the view. E's second attempt (100h) completes in 2h.
    assert [s["customers"] for s in steps] == [5, 3, 2]
    # E's funnel is the attempt that got furthest: view at 100h → cart 101h (1h); A 1h; B 2h
    assert steps[0]["median_time_to_next"] == 1.0
    assert time_to_convert(row)["p50_hours"] == 2.5  # A 3h, E 2h


def test_strict_order_needs_the_next_touch(run) -> None:  # type: ignore[no-untyped-def]
    row = funnel(run, FunnelSpec(STEPS, order="strict"))[0]
    # B has a page_view between view and cart; E's first view is followed by another view, but its
    # second attempt is strictly view → cart → order
    assert [s["customers"] for s in step_rows(row, STEPS)] == [5, 3, 3]


def test_per_channel_of_the_first_step(run) -> None:  # type: ignore[no-untyped-def]
    rows = {r["channel"]: r for r in funnel(run, FunnelSpec(STEPS), ["channel"])}
    assert [s["customers"] for s in step_rows(rows["app"], STEPS)] == [1, 1, 0]
    assert [s["customers"] for s in step_rows(rows["web"], STEPS)] == [4, 3, 3]


def test_repeated_step_means_a_later_occurrence(run) -> None:  # type: ignore[no-untyped-def]
    rows = funnel(run, FunnelSpec(("order", "order")))
    # only E? no: A, D, E, F have one order each → nobody has a second
    assert [s["customers"] for s in step_rows(rows[0], ("order", "order"))] == [4, 0]


def test_ties_put_events_before_orders(run) -> None:  # type: ignore[no-untyped-def]
    t = touches([("X", 0, "order"), ("X", 0, "add_to_cart")])
    row = run(counts(progress(t, FunnelSpec(("add_to_cart", "order"))), 2))[0]
    assert row["reached2"] == 1


@pytest.mark.parametrize("steps", [("order",), ("a", "")])
def test_bad_specs_are_refused(steps: tuple[str, ...]) -> None:
    with pytest.raises(InputError):
        FunnelSpec(steps)
    with pytest.raises(InputError):
        FunnelSpec(("a", "b"), order="any")  # type: ignore[arg-type]
