"""Ingest throughput: 1M order lines through validation into DuckDB.

Prints the time of ``personae ingest`` (validate + de-duplicate + store, atomically) and, as a
yardstick measured in the same run, DuckDB's own ``read_csv`` of the same file into a table
(no validation, no reject tracking). Target: 1M order lines in under 30 s on 2 cores.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from personae.app.ingest import ingest_file
from personae.store import DuckDBStore


def make_orders(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    n_orders = rows // 3
    order = rng.integers(0, n_orders, rows)
    ts = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 3 * 365 * 86400, rows).astype(
        "timedelta64[s]"
    )
    table = pa.table(
        {
            "order_id": pa.array(np.char.add("O", order.astype(str))),
            "customer_id": pa.array(np.char.add("C", (order % (rows // 10 + 1)).astype(str))),
            "ordered_at": pa.array(np.datetime_as_string(ts, unit="s")),
            "channel": pa.array(rng.choice(["web", "app", "store"], rows)),
            "store_id": pa.array(np.char.add("S", rng.integers(0, 50, rows).astype(str))),
            "product_id": pa.array(np.char.add("P", rng.integers(0, 2000, rows).astype(str))),
            "category": pa.array(rng.choice(["shoes", "apparel", "home", "toys"], rows)),
            "quantity": pa.array(rng.integers(1, 4, rows)),
            "amount": pa.array(np.round(rng.lognormal(3, 0.8, rows), 2)),
            "discount": pa.array(np.round(rng.exponential(2, rows), 2)),
            "returned": pa.array(rng.random(rows) < 0.05),
        }
    )
    pacsv.write_csv(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "orders.csv"
        make_orders(csv, args.rows)
        start = time.perf_counter()
        con = duckdb.connect(str(Path(tmp) / "bare.duckdb"))
        con.execute(f"CREATE TABLE o AS SELECT * FROM read_csv('{csv}')")
        con.close()
        bare = time.perf_counter() - start

        store = DuckDBStore.open(Path(tmp) / "personae.duckdb")
        start = time.perf_counter()
        summary = ingest_file(store, "orders", csv)
        ours = time.perf_counter() - start
        store.close()
    print(f"ingest of {args.rows:,} order lines")
    print(
        f"  personae ingest (validated, atomic): {ours:6.1f} s  {args.rows / ours:>10,.0f} rows/s"
        f"  accepted {summary.accepted:,} rejected {summary.rejected:,} duplicates {summary.duplicates:,}"
    )
    print(f"  duckdb read_csv (no validation):     {bare:6.1f} s  {args.rows / bare:>10,.0f} rows/s")
    print(f"  ratio personae / bare duckdb:        {ours / bare:6.1f}x")
    verdict = "OK" if ours < 30 else "SLOWER THAN TARGET"
    print(f"  target: 1M lines < 30 s -> {verdict}")


if __name__ == "__main__":
    main()
