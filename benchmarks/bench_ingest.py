"""Ingest throughput and memory: order lines through validation into DuckDB, streamed.

Prints the time of ``personae ingest`` (validate + de-duplicate + store, atomically) and, as a
yardstick measured in the same run, DuckDB's own
``CREATE TABLE … AS SELECT * FROM read_csv(…)`` of the same file (no validation, no reject
tracking), their ratio, and the peak memory (RSS) of each, each measured in a fresh process.
The yardstick runs just before and just after ``personae ingest`` and counts as the mean of
the two: on a shared machine the load drifts during a run.
Targets (issue 26): at most 5x the yardstick, peak memory under 2 GB whatever the file size.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 6000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

MAX_RATIO = 5.0
MAX_PEAK_GB = 2.0


def make_orders(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` order lines, written in slices of a million so the generator stays small too."""
    rng = np.random.default_rng(seed)
    n_orders = max(rows // 3, 1)
    with pacsv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            order = rng.integers(0, n_orders, n)
            ts = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 3 * 365 * 86400, n).astype(
                "timedelta64[s]"
            )
            writer.write_table(
                pa.table(
                    {
                        "order_id": pa.array(np.char.add("O", order.astype(str))),
                        "customer_id": pa.array(np.char.add("C", (order % (rows // 10 + 1)).astype(str))),
                        "ordered_at": pa.array(np.datetime_as_string(ts, unit="s")),
                        "channel": pa.array(rng.choice(["web", "app", "store"], n)),
                        "store_id": pa.array(np.char.add("S", rng.integers(0, 50, n).astype(str))),
                        "product_id": pa.array(np.char.add("P", rng.integers(0, 2000, n).astype(str))),
                        "category": pa.array(rng.choice(["shoes", "apparel", "home", "toys"], n)),
                        "quantity": pa.array(rng.integers(1, 4, n)),
                        "amount": pa.array(np.round(rng.lognormal(3, 0.8, n), 2)),
                        "discount": pa.array(np.round(rng.exponential(2, n), 2)),
                        "returned": pa.array(rng.random(n) < 0.05),
                    },
                    schema=_schema(),
                )
            )


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("ordered_at", pa.string()),
            ("channel", pa.string()),
            ("store_id", pa.string()),
            ("product_id", pa.string()),
            ("category", pa.string()),
            ("quantity", pa.int64()),
            ("amount", pa.float64()),
            ("discount", pa.float64()),
            ("returned", pa.bool_()),
        ]
    )


def _bare(csv: str, db: str) -> dict[str, object]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE o AS SELECT * FROM read_csv('{csv}')")
    con.close()
    return {"seconds": time.perf_counter() - start}


def _ours(csv: str, db: str) -> dict[str, object]:
    from personae.app.ingest import ingest_file
    from personae.config import Settings
    from personae.store import DuckDBStore

    # the store as `personae ingest` opens it: with the default memory_limit setting
    store = DuckDBStore.open(db, memory_limit=Settings().memory_limit)
    start = time.perf_counter()
    summary = ingest_file(store, "orders", csv)
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "summary": summary.as_dict()}


def _child(which: str, csv: str, db: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF)
    out = (_bare if which == "bare" else _ours)(csv, db)
    after = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_gb"] = after.ru_maxrss / 1024**2  # KiB on Linux
    # CPU seconds (all threads): on a shared machine wall time also measures the neighbours
    out["cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps(out))


def _run(which: str, csv: Path, db: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, str(csv), str(db)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "orders.csv"
        make_orders(csv, args.rows)
        size_mb = csv.stat().st_size / 1024**2
        # the yardstick before and after ours: on a shared machine the load drifts during a run
        before = _run("bare", csv, Path(tmp) / "bare1.duckdb")
        ours = _run("ours", csv, Path(tmp) / "personae.duckdb")
        after = _run("bare", csv, Path(tmp) / "bare2.duckdb")
    bare = {
        "seconds": (before["seconds"] + after["seconds"]) / 2,
        "cpu": (before["cpu"] + after["cpu"]) / 2,
        "peak_gb": max(before["peak_gb"], after["peak_gb"]),
    }
    s = ours["summary"]
    ratio = ours["seconds"] / bare["seconds"]
    print(f"ingest of {args.rows:,} order lines ({size_mb:,.0f} MB of CSV)")
    print(
        f"  personae ingest (validated, atomic): {ours['seconds']:6.1f} s  "
        f"{args.rows / ours['seconds']:>10,.0f} rows/s  peak RSS {ours['peak_gb']:.2f} GB"
        f"  accepted {s['accepted']:,} rejected {s['rejected']:,} duplicates {s['duplicates']:,}"
    )
    print(
        f"  duckdb CREATE TABLE AS read_csv:     {bare['seconds']:6.1f} s  "
        f"{args.rows / bare['seconds']:>10,.0f} rows/s  peak RSS {bare['peak_gb']:.2f} GB"
        f"  (mean of {before['seconds']:.1f} s before and {after['seconds']:.1f} s after)"
    )
    print(f"  ratio personae / bare duckdb:        {ratio:6.1f}x  (target <= {MAX_RATIO:g}x)")
    print(
        f"  CPU seconds: personae {ours['cpu']:.1f}, duckdb {bare['cpu']:.1f}, "
        f"ratio {ours['cpu'] / bare['cpu']:.1f}x (less sensitive to a busy machine)"
    )
    print(
        f"  verdict: time {'OK' if ratio <= MAX_RATIO else 'SLOWER THAN TARGET'}, "
        f"memory {'OK' if ours['peak_gb'] < MAX_PEAK_GB else 'ABOVE TARGET'} (< {MAX_PEAK_GB:g} GB)"
    )


if __name__ == "__main__":
    main()
