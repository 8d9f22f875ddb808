"""The journey use cases on a real store built from the synthetic generator (small)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from personae.app import journeys as ja
from personae.errors import InputError, NotFoundError
from personae.store import DuckDBStore, Store

KINDS = ("stores", "products", "customers", "orders", "events", "surveys", "consents")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, make_shop: Callable[..., Path]) -> Iterator[Store]:
    path = make_shop(tmp_path_factory.mktemp("journeys"), 300, seed=5, full_build=True, kinds=KINDS)
    store = DuckDBStore.open(path)
    try:
        yield store
    finally:
        store.close()


def test_only_customers_who_consent_to_analytics_count(built: Store) -> None:
    traits = built.table("traits")
    consenting = int(built.execute(traits.count(where=traits.consent_analytics)))
    assert consenting < int(built.execute(traits.count()))  # the generator has refusals
    life = ja.lifecycle_report(built)
    assert life["steps"][0]["customers"] == consenting
    data = ja.journey_data(built)
    ids = set(built.execute(data.touches.select("customer_id").distinct())["customer_id"])
    refused = set(built.execute(traits.filter(~traits.consent_analytics).customer_id))
    assert ids and not ids & refused
    total = int(built.execute(traits.count()))
    for report in (life, ja.touches_report(built), ja.paths_report(built)):
        assert report["left_out"]["total"] == total
        assert report["left_out"]["reasons"] == {"who objected to analytics": total - consenting}
        assert report["note"] is None  # the shop has events


def test_order_only_data_says_there_is_nothing_before_an_order(tmp_path: Path, write_text) -> None:
    """CDNOW-like data (orders, no events): the reports say why they are thin, not a table of zeros,
    and a known event type that is absent is not answered with "did you mean" itself."""
    from personae.app.build import run_build
    from personae.app.ingest.loader import ingest_file

    orders = write_text(
        "orders.csv", "customer_id,ordered_at,amount\nA,2024-01-05,10\nA,2024-03-01,12\nB,2024-02-01,9\n"
    )
    store = DuckDBStore.open(tmp_path / "o.duckdb")
    try:
        ingest_file(store, "orders", orders)
        run_build(store, quiet=True)
        assert ja.lifecycle_report(store)["note"].startswith("the data has no events")
        assert ja.touches_report(store)["note"] == ja.NO_EVENTS
        assert ja.paths_report(store)["note"] == ja.NO_EVENTS
        with pytest.raises(NotFoundError, match="no 'product_view' events in the data") as e:
            ja.dropoff_report(store)
        assert "did you mean" not in str(e.value) + (e.value.hint or "")
        assert "the data has no events" in (e.value.hint or "")
    finally:
        store.close()


def test_first_order_gap_matches_the_trait(built: Store) -> None:
    """Interactions before the first order are the ``interactions_before_first_purchase`` trait
    (same events, same cut) — one definition, two places."""
    from personae.journeys import touches

    data = ja.journey_data(built)
    g = touches.gaps(data.touches)
    first = built.execute(g.filter(g.order_number == 1).select("customer_id", "interactions"))
    t = built.execute(data.traits.select("customer_id", "interactions_before_first_purchase"))
    merged = first.merge(t, on="customer_id")
    assert len(merged) == len(first) > 0
    # the gap puts same-second events before the order; the trait needs them strictly earlier
    assert (merged.interactions >= merged.interactions_before_first_purchase).all()
    assert (merged.interactions == merged.interactions_before_first_purchase).mean() > 0.95


def test_funnel_report_shape_per_segment_and_channel(built: Store) -> None:
    steps = ["product_view", "add_to_cart", "checkout_started", "order"]
    r = ja.funnel_report(built, steps, within=timedelta(days=7), segments=["Champions", "Lost"], by="channel")
    counts = [s["customers"] for s in r["steps"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    assert {g["segment"] for g in r["groups"]} <= {"Champions", "Lost"}
    assert all({"step", "customers", "conversion", "median_time_to_next"} <= set(s) for s in r["steps"])
    by_seg: dict[str, int] = {}
    for g in r["groups"]:
        by_seg[g["segment"]] = by_seg.get(g["segment"], 0) + g["steps"][0]["customers"]
    members = {n: len(ja.segment_reports.members(built, n)[1]) for n in ("Champions", "Lost")}
    assert all(by_seg[n] <= members[n] for n in by_seg)


def test_errors_name_the_fix(built: Store) -> None:
    with pytest.raises(NotFoundError, match="add_to_crt") as e:
        ja.funnel_report(built, ["product_view", "add_to_crt"])
    assert "add_to_cart" in (e.value.hint or "")
    with pytest.raises(InputError, match="--by"):
        ja.funnel_report(built, ["product_view", "order"], by="chanel")
    with pytest.raises(NotFoundError, match="segment"):
        ja.funnel_report(built, ["product_view", "order"], segments=["Nope"])


def test_paths_touches_and_dropoffs_run(built: Store) -> None:
    p = ja.paths_report(built, "repeat", top=5)
    assert p["reached"] <= p["customers"] and len(p["paths"]) <= 5
    assert sum(x["customers"] for x in p["paths"]) <= p["reached"]
    t = ja.touches_report(built, by="channel")
    assert {r["kind"] for r in t["overall"]} == {"first", "repeat"}
    d = ja.dropoff_report(built, segments=["Champions"])
    assert {r["dimension"] for r in d["ranking"]} <= {"channel", "device", "segment"}
    values = [r["value_lost"] for r in d["ranking"]]
    assert values == sorted(values, reverse=True)


def test_a_standard_step_missing_from_the_data_is_named_not_suggested_to_itself(
    tmp_path: Path, make_shop: Callable[..., Path]
) -> None:
    """Regression: orders-only data said "no step 'product_view' (did you mean 'product_view'?)"."""
    path = make_shop(tmp_path, 100, seed=3, full_build=True, kinds=("customers", "orders"))
    store = DuckDBStore.open(path)
    try:
        with pytest.raises(NotFoundError) as e:
            ja.funnel_report(store, ["product_view", "order"])
        assert "no 'product_view' events in the data" in e.value.message
        assert "did you mean" not in str(e.value)
        assert "the data has no events" in (e.value.hint or "")
        with pytest.raises(NotFoundError) as e:
            ja.paths_report(store, "prodct_view")
        assert "did you mean 'product_view'" not in str(e.value)
    finally:
        store.close()
