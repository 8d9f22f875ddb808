"""DuckDB vs Spark (local) on the same data: the core build steps, timed in one run.

    python benchmarks/bench_spark.py [--customers 2000 5000] [--master local[2]]

For each size: generate a shop, ingest it into DuckDB, export it to a warehouse, then time
affinities + CLV + traits + segments on DuckDB and on Spark, and print the ratio. The Spark
session is started once (its start-up time is printed apart, not charged to any size).
On one small machine Spark is not expected to win: see docs/scaling.md for why and where the
crossover is.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from personae.app.clv import build_clv
from personae.app.demo import INGEST_ORDER
from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.app.segments.run import evaluate_segments
from personae.app.traits import build_affinities, build_traits
from personae.config import load_settings
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore, Store
from personae.store.export import export_to_warehouse
from personae.store.spark import SparkStore, spark_session


def core_build(store: Store, as_of: date) -> dict[str, float]:
    s = load_settings()
    steps = {
        "affinities": lambda: build_affinities(store, as_of, s.traits),
        "clv": lambda: build_clv(store, as_of, s.clv),
        "traits": lambda: build_traits(store, as_of, s.traits),
        "segments": lambda: evaluate_segments(store, as_of, s.traits),
    }
    seconds = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    started = time.perf_counter()
    session = spark_session(args.master)
    print(
        f"Spark {session.version} on {args.master}: session started in {time.perf_counter() - started:.1f}s"
    )
    identity = load_settings().identity
    print(
        f"{'customers':>9} {'orders':>8} {'events':>8} | {'duckdb s':>8} {'spark s':>8} {'spark/duckdb':>12}"
    )
    try:
        for n in args.customers:
            files = generate_dataset(n, 42, root / f"files-{n}", fmt="csv")
            db = root / f"shop-{n}.duckdb"
            with DuckDBStore.open(db) as duck:
                for kind in INGEST_ORDER:
                    ingest_file(duck, kind, files[kind], identity=identity)
                export_to_warehouse(duck, root / f"wh-{n}")
                as_of = last_data_date(duck)
                orders, events = duck.count("orders"), duck.count("events")
                d = core_build(duck, as_of)
            with SparkStore.open(root / f"wh-{n}", session=session) as sp:
                s = core_build(sp, as_of)
            dt, st = sum(d.values()), sum(s.values())
            print(f"{n:>9,} {orders:>8,} {events:>8,} | {dt:>8.1f} {st:>8.1f} {st / dt:>11.1f}x")
            print(
                "          per step (duckdb / spark): " + ", ".join(f"{k} {d[k]:.1f}/{s[k]:.1f}" for k in d)
            )
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
