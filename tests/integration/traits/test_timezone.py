"""The shop's time zone: one purchase at 23:30 UTC is a Friday-night order in London and a
Saturday-morning one in Tokyo — and a file exported in Tokyo time says the same instant."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.app.traits import build_affinities, build_traits, trait_inputs
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore

AS_OF = date(2024, 12, 31)


def _shop(tmp_path: Path, orders: str, timezone: str) -> DuckDBStore:
    path = tmp_path / f"orders-{timezone.replace('/', '-')}.csv"
    path.write_text("order_id,customer_id,ordered_at,amount\n" + orders.strip() + "\n", encoding="utf-8")
    store = DuckDBStore.open(tmp_path / f"{timezone.replace('/', '-')}.duckdb")
    summary = ingest_file(store, "orders", path, timezone=timezone)
    assert summary.rejected == 0
    return store


def _daypart(store: DuckDBStore, customer: str) -> str:
    rows = store.rows(
        store.table("affinities").filter(lambda a: (a.kind == "daypart") & (a.customer_id == customer))
    )
    assert len(rows) == 1
    return str(rows[0]["value"])


# the same four instants: with Z, with Tokyo's offset, and as Tokyo wall-clock times
ORDERS = """
O1,A,2024-03-01T23:30:00Z,10
O2,B,2024-03-02T08:30:00+09:00,10
O3,C,2024-11-19T20:00:00Z,10
O4,C,2024-06-01T12:00:00Z,10
"""
TOKYO_LOCAL = """
O1,A,2024-03-02 08:30:00,10
O2,B,2024-03-02T08:30:00,10
O3,C,2024-11-20 05:00,10
O4,C,2024-06-01 21:00,10
"""


@pytest.mark.parametrize(
    ("timezone", "orders"), [("UTC", ORDERS), ("Asia/Tokyo", ORDERS), ("Asia/Tokyo", TOKYO_LOCAL)]
)
def test_an_offset_is_converted_and_a_naive_time_is_the_shops(
    tmp_path: Path, timezone: str, orders: str
) -> None:
    with _shop(tmp_path, orders, timezone) as store:
        stored = store.raw.execute("SELECT order_id, ordered_at FROM orders ORDER BY order_id").fetchall()
    assert stored == [
        ("O1", datetime(2024, 3, 1, 23, 30)),
        ("O2", datetime(2024, 3, 1, 23, 30)),
        ("O3", datetime(2024, 11, 19, 20, 0)),
        ("O4", datetime(2024, 6, 1, 12, 0)),
    ]


def test_a_naive_time_in_a_utc_shop_is_utc(tmp_path: Path) -> None:
    with _shop(tmp_path, "O1,A,2024-03-01 23:30:00,10", "UTC") as store:
        assert store.raw.execute("SELECT ordered_at FROM orders").fetchall() == [
            (datetime(2024, 3, 1, 23, 30),)
        ]


@pytest.mark.parametrize(
    ("timezone", "daypart", "day", "holiday_share"),
    [
        ("UTC", "night", date(2024, 3, 1), 0.0),  # Friday 23:30; 19 November is before the holidays
        ("Asia/Tokyo", "morning", date(2024, 3, 2), 0.5),  # Saturday 08:30; 20 November is in them
        ("America/Los_Angeles", "afternoon", date(2024, 3, 1), 0.0),  # Friday 15:30
    ],
)
def test_dayparts_days_and_holidays_follow_the_shops_clock(
    tmp_path: Path, timezone: str, daypart: str, day: date, holiday_share: float
) -> None:
    with _shop(tmp_path, ORDERS, "UTC") as store:  # the same instants whatever the shop's zone
        build_affinities(store, AS_OF, TraitSettings(), timezone)
        assert _daypart(store, "A") == daypart
        inputs = trait_inputs(store, AS_OF, TraitSettings(), timezone)
        days = store.rows(inputs.orders.filter(inputs.orders.order_id == "O1").select("day"))
        assert days == [{"day": day}]
        assert day.weekday() == (5 if timezone == "Asia/Tokyo" else 4)  # Saturday in Tokyo, else Friday
        build_traits(store, AS_OF, TraitSettings(), timezone)
        t = store.rows(store.table("traits").filter(lambda t: t.customer_id == "C"))[0]
        assert t["holiday_spend_share"] == holiday_share
        assert t["top_daypart"] == {"UTC": "evening", "Asia/Tokyo": "morning"}.get(timezone, t["top_daypart"])


def test_a_date_only_file_is_never_given_a_daypart_and_keeps_its_days(tmp_path: Path) -> None:
    # date-only exports (CDNOW) put every order at local midnight: no daypart, same day in any zone
    with _shop(tmp_path, "O1,A,2024-03-02,10\nO2,A,2024-03-05,10", "Asia/Tokyo") as store:
        assert last_data_date(store, "Asia/Tokyo") == date(2024, 3, 5)
        assert last_data_date(store) == date(2024, 3, 4)  # read in UTC the day would be wrong
        build_affinities(store, date(2024, 3, 5), TraitSettings(), "Asia/Tokyo")
        kinds = store.rows(store.table("affinities").select("kind").distinct())
        assert {"kind": "daypart"} not in kinds
        inputs = trait_inputs(store, date(2024, 3, 5), TraitSettings(), "Asia/Tokyo")
        got = store.rows(inputs.orders.select("order_id", "day").order_by("order_id"))
        assert got == [
            {"order_id": "O1", "day": date(2024, 3, 2)},
            {"order_id": "O2", "day": date(2024, 3, 5)},
        ]
        # the as-of day ends at Tokyo's midnight: an as-of of 4 March leaves the 5 March order out
        cut = trait_inputs(store, date(2024, 3, 4), TraitSettings(), "Asia/Tokyo")
        assert store.execute(cut.orders.count()) == 1
