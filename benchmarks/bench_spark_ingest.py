"""Ingest on Spark against ingest on DuckDB, and each against its engine's bare load, same run.

One order-line CSV (``bench_ingest.make_orders``) is loaded four ways, each in a fresh process:

* ``personae ingest`` on DuckDB (streamed, validated, atomic);
* ``personae --engine spark ingest`` into a fresh warehouse on ``local[N]`` (read, THE validator
  in ``mapInArrow``, de-duplication and the write as Spark jobs), timed after the session is up;
* DuckDB's ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` (the DuckDB yardstick);
* Spark's ``spark.read.csv(…).write.parquet(…)`` (the Spark yardstick: no validation).

Prints the wall times, their ratios and each process's peak RSS (the Spark JVM's memory is
not in it: it is a child process of the driver, capped by ``spark.driver.memory``).

    .venv/bin/python benchmarks/bench_spark_ingest.py [--rows 1000000] [--cores 2]
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

sys.path.insert(0, str(Path(__file__).parent))

from bench_ingest import make_orders


def _child(which: str, csv: str, out: str, cores: int) -> None:
    result: dict[str, object] = {}
    if which == "duckdb":
        from personae.app.ingest import ingest_file
        from personae.store import DuckDBStore

        with DuckDBStore.open(out) as store:
            started = time.perf_counter()
            s = ingest_file(store, "orders", csv)
            result = {"seconds": time.perf_counter() - started, "accepted": s.accepted, "read": s.read}
    elif which == "duckdb-bare":
        import duckdb

        con = duckdb.connect(out)
        started = time.perf_counter()
        con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [csv])
        result = {"seconds": time.perf_counter() - started}
    else:
        from personae.store.spark import SparkStore, spark_session

        t0 = time.perf_counter()
        session = spark_session(f"local[{cores}]", conf={"spark.driver.memory": "4g"})
        result["session_seconds"] = time.perf_counter() - t0
        if which == "spark":
            from personae.app.ingest import ingest_file

            with SparkStore.open(out, session=session) as store:
                started = time.perf_counter()
                s = ingest_file(store, "orders", csv)
                result.update(seconds=time.perf_counter() - started, accepted=s.accepted, read=s.read)
        else:
            started = time.perf_counter()
            session.read.csv(csv, header=True).write.parquet(out)
            result["seconds"] = time.perf_counter() - started
        session.stop()
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(result))


def _run(which: str, csv: Path, out: Path, cores: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", which, str(csv), str(out), "--cores", str(cores)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "CSV", "OUT"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child, args.cores)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        csv = root / "orders.csv"
        make_orders(csv, args.rows)
        mb = csv.stat().st_size / 2**20
        print(f"ingest of {args.rows:,} order lines ({mb:,.0f} MB of CSV), Spark on local[{args.cores}]")
        runs = {
            "duckdb": _run("duckdb", csv, root / "d.duckdb", args.cores),
            "duckdb-bare": _run("duckdb-bare", csv, root / "bare.duckdb", args.cores),
            "spark": _run("spark", csv, root / "wh", args.cores),
            "spark-bare": _run("spark-bare", csv, root / "bare.parquet", args.cores),
        }
    labels = {
        "duckdb": "personae ingest, DuckDB",
        "duckdb-bare": "DuckDB read_csv (yardstick)",
        "spark": "personae ingest, Spark",
        "spark-bare": "Spark read.csv -> parquet (yardstick)",
    }
    for key, r in runs.items():
        extra = f"  session start {r['session_seconds']:.1f} s" if "session_seconds" in r else ""
        rows = f"  accepted {r['accepted']:,}" if "accepted" in r else ""
        print(f"  {labels[key]:<40} {r['seconds']:7.1f} s  peak RSS {r['peak_rss_gb']:.2f} GB{rows}{extra}")
    ratios = [
        ("Spark ingest / DuckDB ingest", "spark", "duckdb"),
        ("Spark ingest / Spark bare load", "spark", "spark-bare"),
        ("DuckDB ingest / DuckDB bare load", "duckdb", "duckdb-bare"),
    ]
    for label, a, b in ratios:
        print(f"  {label + ':':<40} {runs[a]['seconds'] / runs[b]['seconds']:7.2f}x")


if __name__ == "__main__":
    main()
