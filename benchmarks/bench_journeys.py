"""Journey analytics at 10M events: funnel, touches before buying, paths, drop-offs.

Target (issue 13): every ``personae journey`` report over 10M events runs in interactive time
on one machine. Data is made inside DuckDB: ``--customers`` customers (all consenting to
analytics), ``--events`` events spread over a year with a browsing funnel mix, and one order
per ~10 events; a minimal ``traits`` table stands in for ``personae build``.

    .venv/bin/python benchmarks/bench_journeys.py [--events 10000000] [--customers 500000] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from personae.app import journeys as ja
from personae.store import DuckDBStore, Store

TYPES = (
    "['page_view','product_view','product_view','product_view','add_to_cart','add_to_cart',"
    "'checkout_started','email_open','email_sent','support_contact','remove_from_cart','store_visit']"
)


def populate(store: Store, events: int, customers: int) -> None:
    con = store.raw
    con.execute(f"""
        INSERT INTO events (event_id, customer_id, occurred_at, type, channel, _row_key, _identity)
        SELECT 'E' || i, 'C' || (i % {customers}),
               TIMESTAMP '2025-07-01' + INTERVAL (hash(i) % 31536000) SECOND,
               {TYPES}[1 + (hash(i * 7) % 12)::INT], ['web','app'][1 + (hash(i * 3) % 2)::INT],
               'E' || i, 'customer_id:C' || (i % {customers})
        FROM range({events}) t(i)""")
    con.execute(f"""
        INSERT INTO orders (order_id, customer_id, ordered_at, channel, amount, returned, _row_key, _identity)
        SELECT 'O' || i, 'C' || (i % {customers}),
               TIMESTAMP '2025-07-01' + INTERVAL (hash(i * 11) % 31536000) SECOND,
               ['web','app','store'][1 + (hash(i) % 3)::INT], 5 + (hash(i) % 200), hash(i) % 20 = 0,
               'O' || i, 'customer_id:C' || (i % {customers})
        FROM range({events // 10}) t(i)""")
    con.execute(f"""
        CREATE TABLE traits AS
        SELECT 'C' || i AS customer_id, TRUE AS consent_analytics, DATE '2026-06-30' AS as_of,
               'purchase' AS journey_stage, 'active' AS lifecycle_stage,
               TIMESTAMP '2026-01-01' AS last_order_at
        FROM range({customers}) t(i)""")


def timed(name: str, fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    print(f"  {name:<44} {elapsed:6.1f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="1M events, 50k customers")
    args = parser.parse_args()
    events, customers = (1_000_000, 50_000) if args.quick else (args.events, args.customers)
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore.open(Path(tmp) / "bench.duckdb")
        store.raw.execute("SET enable_progress_bar = false")
        t0 = time.perf_counter()
        populate(store, events, customers)
        print(
            f"journeys: {events:,} events, {events // 10:,} orders, {customers:,} customers "
            f"(set-up {time.perf_counter() - t0:.1f} s)"
        )
        steps = ["product_view", "add_to_cart", "checkout_started", "order"]
        week = timedelta(days=7)
        timed("funnel, 4 steps, within 7d", lambda: ja.funnel_report(store, steps, within=week))
        timed(
            "funnel, 4 steps, within 7d, strict",
            lambda: ja.funnel_report(store, steps, within=week, order="strict"),
        )
        timed(
            "funnel, 4 steps, within 7d, by channel",
            lambda: ja.funnel_report(store, steps, within=week, by="channel"),
        )
        timed("touches before each order", lambda: ja.touches_report(store))
        timed("paths to first order (top 20)", lambda: ja.paths_report(store, "order"))
        timed("paths to repeat order (top 20)", lambda: ja.paths_report(store, "repeat"))
        timed("drop-offs (channel, device, trend, pain)", lambda: ja.dropoff_report(store, steps))
        store.close()


if __name__ == "__main__":
    main()
