"""The traits step of ``personae build`` on 10M order lines, against a bare DuckDB group-by.

Target (issue 3): the whole traits step within 5x the time of one bare group-by scan of the
order lines in DuckDB, with peak memory under 4 GB. Both are measured in this run, on the
same database file, so the ratio is what matters on a noisy machine.

    .venv/bin/python benchmarks/bench_traits.py [--lines 10000000] [--customers 1000000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from personae.app.clv import build_clv
from personae.app.traits import build_affinities, build_traits
from personae.config import ClvSettings, Settings
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore, Store


def populate(store: Store, lines: int, customers: int) -> None:
    """Fill the canonical tables with synthetic rows, generated inside DuckDB (fast setup)."""
    con = store.raw
    con.execute("""
        INSERT INTO products (product_id, category, brand, price, tags, _row_key, _identity)
        SELECT 'P' || i, ['shoes','apparel','home','toys','baby','sports'][1 + i % 6],
               'B' || (i % 40), 5 + (i % 200), CASE WHEN i % 7 = 0 THEN ['team:T' || (i % 30)] END,
               'P' || i, NULL
        FROM range(2000) t(i)""")
    con.execute(f"""
        INSERT INTO customers (customer_id, created_at, birth_date, region, _row_key, _identity)
        SELECT 'C' || i, TIMESTAMP '2022-01-01' + INTERVAL (i % 1000) DAY,
               DATE '1950-01-01' + INTERVAL (i % 18000) DAY, ['North','South','East','West'][1 + i % 4],
               'C' || i, 'customer_id:C' || i
        FROM range({customers}) t(i)""")
    con.execute(f"""
        INSERT INTO orders (order_id, customer_id, ordered_at, channel, product_id, category,
                            quantity, amount, discount, returned, _row_key, _identity)
        SELECT 'O' || (i // 3), 'C' || ((i // 3) % {customers}),
               TIMESTAMP '2023-01-01' + INTERVAL ((hash(i // 3) % 1095)) DAY,
               ['web','app','store'][1 + (hash(i) % 3)::INT], 'P' || (hash(i) % 2000),
               ['shoes','apparel','home','toys','baby','sports'][1 + (hash(i) % 6)::INT],
               1, 5 + (hash(i) % 200), 0, hash(i) % 20 = 0, 'O' || i,
               'customer_id:C' || ((i // 3) % {customers})
        FROM range({lines}) t(i)""")
    con.execute(f"""
        INSERT INTO events (event_id, customer_id, occurred_at, type, channel, category, _row_key, _identity)
        SELECT 'E' || i, 'C' || (i % {customers}),
               TIMESTAMP '2025-06-01' + INTERVAL (hash(i) % 30) DAY,
               ['product_view','add_to_cart','email_open','support_contact'][1 + (hash(i) % 4)::INT],
               'web', 'shoes', 'E' || i, 'customer_id:C' || (i % {customers})
        FROM range({lines // 2}) t(i)""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # the product's default memory cap (Settings.memory_limit): the peak-memory target is
        # about what a user running `personae build` gets
        store = DuckDBStore.open(Path(tmp) / "bench.duckdb", memory_limit=Settings().memory_limit)
        populate(store, args.lines, args.customers)
        as_of = date(2025, 12, 31)
        start = time.perf_counter()
        store.raw.execute("""CREATE OR REPLACE TEMP TABLE scan AS
            SELECT customer_id, count(*) n, sum(amount) s, max(ordered_at) m FROM orders GROUP BY 1""")
        bare = time.perf_counter() - start
        # two further yardsticks, for context: the least any affinity needs (one plain
        # group-by into customer x category groups) and the least an order count needs (one
        # group-by into customer x order groups)
        floors = {}
        for label, sql in (
            (
                "customer x category",
                "SELECT customer_id, category, count(*) n, sum(amount) s FROM orders GROUP BY 1, 2",
            ),
            (
                "customer x order",
                "SELECT customer_id, order_id, count(*) n, sum(amount) s FROM orders GROUP BY 1, 2",
            ),
        ):
            start = time.perf_counter()
            store.raw.execute(f"CREATE OR REPLACE TEMP TABLE floor AS {sql}")
            floors[label] = time.perf_counter() - start
        start = time.perf_counter()
        build_affinities(store, as_of, TraitSettings())
        affinities = time.perf_counter() - start
        build_traits(store, as_of, TraitSettings())
        traits = time.perf_counter() - start
        start = time.perf_counter()
        build_clv(store, as_of, ClvSettings())
        clv = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        store.close()
    print(f"traits step on {args.lines:,} order lines, {args.customers:,} customers")
    print(f"  bare DuckDB group-by scan: {bare:7.2f} s")
    for label, seconds in floors.items():
        print(f"  bare group-by {label + ':':21s}{seconds:5.2f} s   ({seconds / bare:4.1f}x the bare scan)")
    print(f"  personae traits step:      {traits:7.2f} s   ratio {traits / bare:5.1f}x (target <= 5x)")
    print(f"    of which affinities:     {affinities:7.2f} s   ({affinities / bare:5.1f}x)")
    print(f"  personae CLV step:         {clv:7.2f} s   (BTYD summary + BG/NBD + Gamma-Gamma + CLV)")
    print(f"  peak memory (RSS):         {peak_gb:7.2f} GB  (target < 4 GB)")


if __name__ == "__main__":
    main()
