"""The traits step of ``personae build`` on 10M order lines, against the same traits written by hand in SQL.

Target (issue 26, point 3): the traits step (affinities, every trait, RFM, lifecycle) within
1.5x the time of the same traits as hand-written DuckDB SQL (``traits_sql.py``), with peak
memory under 4 GB. Both run in this process, on the same database file and under the same
memory cap, so the ratio is what matters on a noisy machine; ``--check`` verifies that the
hand-written SQL computes the same values. A bare group-by scan is printed for scale.

    .venv/bin/python benchmarks/bench_traits.py [--lines 10000000] [--customers 1000000]
        [--db PATH] [--check] [--no-clv]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from traits_sql import yardstick_sql

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


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (DuckDB's workers included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


#: approximate: the price bands cut each category at approximate terciles (DuckDB's
#: t-digest), whose value depends on the order rows reach it, so two queries may put a line
#: priced right at a cut in neighbouring bands. Those rows are compared to a tolerance.
APPROXIMATE_SHARE = 0.05


def compare(store: Store, notes: list[str] | None = None) -> list[str]:
    """Where the yardstick's values differ from the traits step's: one line per column that
    differs (numbers to 1e-9), empty when they agree row for row. Price bands (approximate
    quantiles) may differ on at most ``APPROXIMATE_SHARE`` of their rows; how many did is
    added to ``notes``."""
    notes = notes if notes is not None else []
    con = store.raw
    out = []

    def count(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    key = ("customer_id", "kind", "value")
    for mine, theirs, keys, exact, approximate in (
        ("affinities", "y_affinities", key, "kind != 'price_band'", "kind = 'price_band'"),
        ("traits", "y_traits", ("customer_id",), "customer_id IS NOT NULL", None),
    ):
        cols = {r[0]: r[1] for r in con.execute(f"DESCRIBE {mine}").fetchall()}
        ycols = {r[0] for r in con.execute(f"DESCRIBE {theirs}").fetchall()}
        missing = sorted(set(cols) - ycols)
        if missing:
            out.append(f"{theirs} lacks {', '.join(missing)}")
        on = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
        for where, tolerance in ((exact, 0.0), *([(approximate, APPROXIMATE_SHARE)] if approximate else [])):
            n_a = count(f"SELECT count(*) FROM {mine} WHERE {where}")
            n_b = count(f"SELECT count(*) FROM {theirs} WHERE {where}")
            n_j = count(f"SELECT count(*) FROM {mine} a JOIN {theirs} b ON {on} WHERE a.{where}")
            allowed = tolerance * n_a
            if max(n_a, n_b) - n_j > allowed:
                out.append(f"{mine} where {where}: {n_a:,} rows, {theirs}: {n_b:,} rows, matched {n_j:,}")
            for c in cols:
                if c in keys or c not in ycols:
                    continue
                if cols[c] in ("DOUBLE", "FLOAT") or cols[c].startswith("DECIMAL"):
                    differ = (
                        f"NOT (a.{c} IS NULL AND b.{c} IS NULL) AND coalesce(abs(a.{c} - b.{c}) > 1e-9, true)"
                    )
                else:
                    differ = f"a.{c} IS DISTINCT FROM b.{c}"
                n = count(
                    f"SELECT count(*) FROM {mine} a JOIN {theirs} b ON {on} WHERE a.{where} AND {differ}"
                )
                limit = APPROXIMATE_SHARE * n_a if c.startswith("top_price_band") else allowed
                if n > limit:
                    out.append(f"{mine}.{c}: {n:,} rows differ (where {where})")
                elif n:
                    notes.append(f"{mine}.{c}: {n:,} of {n_a:,} rows differ (approximate terciles)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--db", type=Path, help="database file to generate once and reuse (default: a temporary one)"
    )
    parser.add_argument("--check", action="store_true", help="compare the yardstick's values with personae's")
    parser.add_argument("--no-clv", action="store_true", help="skip the CLV step")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        fresh = not path.exists()
        # the product's default memory cap (Settings.memory_limit): the peak-memory target is
        # about what a user running `personae build` gets
        store = DuckDBStore.open(path, memory_limit=Settings().memory_limit)
        if fresh:
            populate(store, args.lines, args.customers)
            store.raw.execute("CHECKPOINT")
        lines = store.raw.execute("SELECT count(*) FROM orders").fetchone()[0]
        customers = store.raw.execute("SELECT count(*) FROM customers").fetchone()[0]
        as_of = date(2025, 12, 31)
        start = time.perf_counter()
        store.raw.execute("""CREATE OR REPLACE TEMP TABLE scan AS
            SELECT customer_id, count(*) n, sum(amount) s, max(ordered_at) m FROM orders GROUP BY 1""")
        bare = time.perf_counter() - start
        # personae first, so the peak memory printed is the traits step's own; the yardstick
        # then runs on the same (by now as warm) database
        cpu0 = _cpu()
        start = time.perf_counter()
        build_affinities(store, as_of, TraitSettings())
        affinities = time.perf_counter() - start
        build_traits(store, as_of, TraitSettings())
        traits = time.perf_counter() - start
        traits_cpu = _cpu() - cpu0
        peak_traits = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"traits step on {lines:,} order lines, {customers:,} customers")
        print(f"  bare DuckDB group-by scan: {bare:7.2f} s")
        print(
            f"  personae traits step:      {traits:7.2f} s   ({traits_cpu:.1f} CPU s;"
            f" {traits / bare:5.1f}x the bare scan)"
        )
        print(f"    of which affinities:     {affinities:7.2f} s")
        print(
            f"  peak memory (RSS) through the traits step: {peak_traits:5.2f} GB (target < 4 GB)", flush=True
        )
        # the yardstick: the same traits written by hand in SQL (benchmarks/traits_sql.py)
        cpu0 = _cpu()
        start = time.perf_counter()
        for sql in yardstick_sql(as_of, TraitSettings()):
            store.raw.execute(sql)
        yard = time.perf_counter() - start
        yard_cpu = _cpu() - cpu0
        print(f"  hand-written SQL traits:   {yard:7.2f} s   ({yard_cpu:.1f} CPU s; the yardstick)")
        print(
            f"  ratio: {traits / yard:5.2f}x the hand-written SQL in wall time (target <= 1.5x),"
            f" {traits_cpu / yard_cpu:5.2f}x in CPU seconds (all threads; steadier on a loaded machine)",
            flush=True,
        )
        notes: list[str] = []
        problems = compare(store, notes) if args.check else []
        clv = None
        if not args.no_clv:
            start = time.perf_counter()
            build_clv(store, as_of, ClvSettings())
            clv = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        store.close()
    if clv is not None:
        print(f"  personae CLV step:         {clv:7.2f} s   (BTYD summary + BG/NBD + Gamma-Gamma + CLV)")
    print(f"  peak memory (RSS) of the whole run: {peak_gb:5.2f} GB")
    if args.check:
        print(
            "  check: the yardstick's values equal the traits step's" if not problems else "  check FAILED:"
        )
        for p in (*problems, *notes):
            print(f"    {p}")
        if problems:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
