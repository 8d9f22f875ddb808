"""The 100M-line shop: files a retailer exports, through ingest, build, segments and report.

Issue 26, point 4. Generates (or reuses, ``--data DIR``) N customers, 10·N order lines, 5·N
events and the consents, surveys, products and stores that go with them, as the CSV files a
retailer would export, then runs the product as a user would — the ``personae`` CLI, one
process per command:

    ingest (each file) → segments templates --all → build → segments list → report

timing each command (wall clock, CPU seconds of the process and every thread, and its peak
RSS, all from ``wait4``). Beside each step it runs the bare engine's time for the same work,
measured in the same run, in a process of its own, and prints the ratio:

* ingest: DuckDB's ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` of the same file (no
  validation, no rejects, no identity);
* build: the same traits written by hand in DuckDB SQL (``traits_sql.py``, the yardstick of
  ``bench_traits.py``) against the build's affinities + traits steps, and one bare
  ``GROUP BY customer_id`` scan of the orders for scale against the whole build;
* segments (evaluated by the build's last step; ``segments list`` reads them back): one bare
  group-by scan of the orders and one of the events, the two source tables the templates read;
* report: ``SUMMARIZE traits``, one scan of every column of the traits table.

Why CSV: it is what shops export (from their ERP, e-commerce platform or till system), and it
is the harder case for ingest: every value is parsed and validated from text. ``--format
parquet`` writes Parquet instead.

Goal (issue 26): 10M customers / 100M order lines under 20 minutes at under 12 GB peak, on 2
cores / 24 GB. Figures and where the time goes: docs/scaling.md, "The 100M-line shop".

    .venv/bin/python benchmarks/bench_scale.py [--customers 10000000] [--data /tmp/scale/data]
        [--work /tmp/scale/run] [--format csv] [--no-bare]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LINES_PER_CUSTOMER = 10  # order lines: about 4 orders of 2.5 lines each
EVENTS_PER_CUSTOMER = 5
GENERATOR_VERSION = 1  # bump when the data below changes: a cached folder is then regenerated

#: the order the files are loaded in: reference data first, then people, then what they did
KINDS = ("products", "stores", "customers", "consents", "orders", "events", "surveys")

CATEGORIES = "['shoes','apparel','home','toys','baby','sports','beauty','electronics']"
FIRST = (
    "['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Sarah','Wei','Aisha']"
)
LAST = "['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Chen','Khan','Lopez','Kim']"
REGIONS = "['North','South','East','West']"
CITIES = "['Boston','Miami','Chicago','Seattle','Denver','Atlanta','Austin','Portland']"
EVENT_TYPES = (
    "['product_view','product_view','product_view','page_view','page_view','add_to_cart','add_to_cart',"
    "'search','email_open','email_open','email_click','checkout_started','app_open','store_visit',"
    "'remove_from_cart','support_contact']"
)


def _generation_sql(n: int, out: Path, fmt: str) -> list[tuple[str, str]]:
    """One ``COPY`` per file, each a single scan of ``range()``: values are hashes of the row
    number (deterministic, no random state), skewed where shops are skewed (a few customers
    buy most orders, a few products sell most lines)."""
    # u(k, salt): a uniform number in [0, 1) from the hash of a row number and a salt
    opts = "(FORMAT csv, HEADER)" if fmt == "csv" else "(FORMAT parquet, COMPRESSION zstd)"
    price = "round(4.99 + 195 * pow(u(p, 7), 2), 2)"  # the product's price, a function of its number
    ts = "TIMESTAMP '2022-01-01' + to_seconds((u({k}, {s}) * 4 * 365 * 86400)::BIGINT)"
    sql = {
        "products": f"""
            SELECT printf('P%05d', p) AS product_id, 'Product ' || p AS name,
                   {CATEGORIES}[1 + p % 8] AS category, 'Brand ' || (p % 60) AS brand,
                   {price} AS price,
                   CASE WHEN p % 7 = 0 THEN 'premium' WHEN p % 11 = 0 THEN 'eco' END AS tags
            FROM range(5000) t(p)""",
        "stores": f"""
            SELECT printf('S%03d', s) AS store_id, 'Store ' || s AS name,
                   {REGIONS}[1 + s % 4] AS region, {CITIES}[1 + s % 8] AS city,
                   500 + s * 37 % 3000 AS floor_area_sqm
            FROM range(50) t(s)""",
        "customers": f"""
            SELECT printf('C%09d', i) AS customer_id,
                   (TIMESTAMP '2021-01-01' + to_seconds((u(i, 1) * 5 * 365 * 86400)::BIGINT)) AS created_at,
                   {FIRST}[1 + h(i, 2, 12)] AS first_name, {LAST}[1 + h(i, 3, 12)] AS last_name,
                   'c' || i || '@example.com' AS email,
                   DATE '1945-01-01' + (u(i, 4) * 60 * 365)::INT AS birth_date,
                   ['female','male','female','male','non_binary','unknown'][1 + h(i, 5, 6)] AS gender,
                   'US' AS country, {REGIONS}[1 + h(i, 6, 4)] AS region, {CITIES}[1 + h(i, 7, 8)] AS city,
                   printf('S%03d', h(i, 8, 50)) AS home_store_id,
                   ['web','app','store','social','referral'][1 + h(i, 9, 5)] AS join_channel,
                   ['running','home','music','fitness','baby'][1 + h(i, 10, 5)] || ';'
                       || ['travel','cooking','gaming'][1 + h(i, 11, 3)] AS interests
            FROM range({n}) t(i)""",
        "consents": f"""
            SELECT printf('C%09d', i) AS customer_id, purpose,
                   u(i, 12 + (purpose = 'sms')::INT) < CASE purpose WHEN 'email' THEN 0.7 ELSE 0.4 END
                       AS granted,
                   (TIMESTAMP '2021-01-01' + to_seconds((u(i, 1) * 5 * 365 * 86400)::BIGINT)) AS recorded_at,
                   'signup' AS source
            FROM range({n}) t(i), (VALUES ('email'), ('sms')) p(purpose)""",
        # about 4·N orders of 1-4 lines (2.5 on average), each for a customer drawn with a
        # skew (customer k gets orders in proportion to 1/sqrt(k): repeat buyers and one-offs)
        "orders": f"""
            WITH o AS (
                SELECT o, unnest(range(1 + h(o, 4, 4))) AS k FROM range({4 * n}) t(o)
            ), l AS (
                SELECT o, k, (5000 * pow(u(o * 8 + k, 5), 1.6))::BIGINT AS p,
                       ['web','web','web','app','app','store','store','marketplace','phone'][1 + h(o, 3, 9)]
                           AS channel,
                       1 + (u(o * 8 + k, 6) < 0.12)::INT AS quantity
                FROM o
            )
            SELECT printf('O%010d', o) AS order_id,
                   printf('C%09d', least((pow(u(o, 1), 2) * {n})::BIGINT, {n - 1})) AS customer_id,
                   {ts.format(k="o", s=2)} AS ordered_at,
                   channel,
                   CASE WHEN channel = 'store' THEN printf('S%03d', h(o, 8, 50)) END AS store_id,
                   printf('P%05d', p) AS product_id, {CATEGORIES}[1 + p % 8] AS category,
                   quantity,
                   round({price} * quantity * CASE WHEN u(o, 9) < 0.2 THEN 0.9 ELSE 1 END, 2) AS amount,
                   CASE WHEN u(o, 9) < 0.2 THEN round({price} * quantity * 0.1, 2) ELSE 0 END AS discount,
                   u(o * 8 + k, 10) < 0.05 AS returned
            FROM l""",
        "events": f"""
            SELECT printf('E%011d', e) AS event_id,
                   printf('C%09d', least((pow(u(e, 1), 2) * {n})::BIGINT, {n - 1})) AS customer_id,
                   {ts.format(k="e", s=2)} AS occurred_at,
                   {EVENT_TYPES}[1 + h(e, 3, 16)] AS type,
                   ['web','web','app','app','email','store'][1 + h(e, 4, 6)] AS channel,
                   CASE WHEN type IN ('product_view','add_to_cart','remove_from_cart')
                        THEN printf('P%05d', (5000 * pow(u(e, 5), 1.6))::BIGINT) END AS product_id,
                   CASE WHEN product_id IS NOT NULL
                        THEN {CATEGORIES}[1 + (5000 * pow(u(e, 5), 1.6))::BIGINT % 8] END AS category
            FROM range({EVENTS_PER_CUSTOMER * n}) t(e)""",
        "surveys": f"""
            SELECT printf('R%09d', r) AS response_id,
                   printf('C%09d', h(r, 1, {n})) AS customer_id,
                   {ts.format(k="r", s=2)} AS answered_at,
                   ['nps','csat'][1 + h(r, 3, 2)] AS kind,
                   CASE WHEN kind = 'nps' THEN h(r, 4, 11) ELSE 1 + h(r, 4, 5) END AS score,
                   ['delivery','checkout','support','store'][1 + h(r, 5, 4)] AS touchpoint
            FROM range({max(n // 10, 1)}) t(r)""",
    }
    ext = "csv" if fmt == "csv" else "parquet"
    return [(kind, f"COPY ({sql[kind]}) TO '{out / f'{kind}.{ext}'}' {opts}") for kind in KINDS]


def generate(n: int, out: Path, fmt: str) -> dict[str, Path]:
    """The files for ``n`` customers in ``out``, generated once: a manifest says what a folder
    holds, so a second run with the same size and format reuses it."""
    import duckdb

    ext = "csv" if fmt == "csv" else "parquet"
    files = {kind: out / f"{kind}.{ext}" for kind in KINDS}
    manifest = out / "manifest.json"
    wanted = {"customers": n, "format": fmt, "version": GENERATOR_VERSION}
    if (
        manifest.exists()
        and json.loads(manifest.read_text()) == wanted
        and all(f.exists() for f in files.values())
    ):
        print(f"reusing the files in {out}", flush=True)
        return files
    out.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE MACRO u(k, s) AS hash(k, s) / 18446744073709551616.0")
    con.execute("CREATE MACRO h(k, s, m) AS (hash(k, s) % m)::BIGINT")
    for kind, sql in _generation_sql(n, out, fmt):
        start = time.perf_counter()
        con.execute(sql)
        size = files[kind].stat().st_size / 1024**2
        print(f"  generated {kind:<9} {size:>9,.0f} MB in {time.perf_counter() - start:6.1f} s", flush=True)
    con.close()
    manifest.write_text(json.dumps(wanted))
    return files


@dataclass
class Run:
    """One measured process: wall and CPU seconds, peak RSS (GB), and what it printed."""

    wall: float
    cpu: float
    peak_gb: float
    stdout: str = ""
    extra: dict = field(default_factory=dict)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end; ``wait4`` gives its own CPU time (every thread) and peak RSS,
    not the benchmark's."""
    start = time.perf_counter()
    # stderr to a file, not a pipe (a full pipe would block the child), read only on failure
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if proc.returncode:
            err.seek(0)
            raise SystemExit(
                f"failed ({proc.returncode}): {' '.join(cmd)}\n{out[-2000:]}\nstderr:\n{err.read()[-4000:]}"
            )
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2, out)


def personae(db: Path, *args: str) -> Run:
    # what the `personae` script runs (personae.cli:main), from this interpreter
    cli = [sys.executable, "-c", "from personae.cli import main; main()"]
    return measure([*cli, "--db", str(db), "--quiet", *args])


def parsed(out: str, key: str) -> Any:
    """The JSON document a ``--json`` command printed: the whole of ``out``, or else the first
    object in it holding ``key`` (a line a step prints on stdout must not break the run)."""
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        decoder = json.JSONDecoder()
        for at in (i for i, c in enumerate(out) if c in "{[" and (i == 0 or out[i - 1] == "\n")):
            try:
                doc, _ = decoder.raw_decode(out, at)
            except json.JSONDecodeError:
                continue
            if key in doc or (isinstance(doc, list) and doc and key in doc[0]):
                return doc
        raise SystemExit(f"no JSON with {key!r} in the output:\n{out[-2000:]}") from None


def bare(job: str, *args: str) -> Run:
    """A yardstick query, in a process of its own (see :func:`_child`)."""
    run = measure([sys.executable, __file__, "--child", job, *args])
    run.extra = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    return run


def _child(job: str, args: list[str]) -> None:
    """The bare engine's side of a step: plain DuckDB, no personae code (bar the traits
    yardstick's SQL text and the product's memory cap, so both sides run under the same)."""
    import duckdb

    out: dict[str, object] = {}
    if job == "read":  # ingest yardstick: DuckDB's own reader into a table
        src, db = args
        con = duckdb.connect(db)
        reader = "read_csv" if src.endswith(".csv") else "read_parquet"
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{src}')")
        out["rows"] = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.close()
        return print(json.dumps(out))
    from personae.config import Settings

    con = duckdb.connect(args[0], read_only=job != "traits")
    con.execute(f"SET memory_limit = '{Settings().memory_limit}'")
    if job == "scan":  # one group-by scan of each named table
        for table in args[1:]:
            start = time.perf_counter()
            ts = "ordered_at" if table == "orders" else "occurred_at"
            con.execute(
                f"CREATE TEMP TABLE s_{table} AS SELECT customer_id, count(*) n, max({ts}) m "
                f"FROM {table} GROUP BY 1"
            )
            out[table] = time.perf_counter() - start
    elif job == "summarize":
        con.execute("SUMMARIZE traits").fetchall()
    elif job == "traits":  # the hand-written traits SQL of bench_traits.py, then its tables dropped
        from datetime import date

        sys.path.insert(0, str(HERE))
        from traits_sql import yardstick_sql

        from personae.config.traits import TraitSettings

        start = time.perf_counter()
        for sql in yardstick_sql(date.fromisoformat(args[1]), TraitSettings()):
            con.execute(sql)
        out["seconds"] = time.perf_counter() - start
        con.execute("DROP TABLE y_affinities")
        con.execute("DROP TABLE y_traits")
    con.close()
    print(json.dumps(out))


def load() -> str:
    """The load average (1, 5, 15 min): the machine is shared, and this says how much."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument(
        "--data", type=Path, help="folder of generated files to reuse (default: under --work)"
    )
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/scale/run"), help="database and report go here"
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-engine yardsticks")
    parser.add_argument(
        "--generate-only", action="store_true", help="write the files (or find them) and stop"
    )
    parser.add_argument(
        "--from",
        dest="start",
        choices=("ingest", "build", "report"),
        default="ingest",
        help="start at this step, on the database an earlier run left in --work",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child[0], args.child[1:])

    n = args.customers
    data = args.data or args.work / "data"
    print(
        f"the {LINES_PER_CUSTOMER * n / 1e6:,.1f}M-line shop: {n:,} customers, {args.format}; "
        f"{os.cpu_count()} cores, load average {load()}",
        flush=True,
    )
    started = time.perf_counter()
    files = generate(n, data, args.format)
    generated = time.perf_counter() - started
    if args.generate_only:
        return
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "shop.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal"), args.work / "bare.duckdb"):
        if args.start == "ingest" or stale.name == "bare.duckdb":
            stale.unlink(missing_ok=True)
    ingest, build_too = args.start == "ingest", args.start in ("ingest", "build")

    rows: list[tuple[str, Run, Run | None, str]] = []

    def show(step: str, ours: Run, yard: Run | None, what: str = "") -> None:
        rows.append((step, ours, yard, what))
        line = f"  {step:<22} {ours.wall:8.1f} s {ours.cpu:8.1f} CPU s  peak {ours.peak_gb:5.2f} GB"
        if yard is not None:
            line += (
                f"  | bare {yard.wall:7.1f} s {yard.cpu:7.1f} CPU s  "
                f"ratio {ours.wall / yard.wall:5.1f}x wall {ours.cpu / max(yard.cpu, 1e-9):5.1f}x CPU"
            )
        print(line + (f"  {what}" if what else ""), flush=True)

    print(
        f"{'step':<24} {'personae (wall, CPU, peak RSS)':<44} | bare engine, same work, same run", flush=True
    )
    for kind in KINDS if ingest else ():
        ours = personae(db, "ingest", kind, str(files[kind]), "--json")
        s = parsed(ours.stdout, "accepted")
        what = (
            f"read {s.get('read', 0):,} accepted {s.get('accepted', 0):,} rejected {s.get('rejected', 0):,}"
            f" duplicates {s.get('duplicates', 0):,}"
        )
        yard = None
        if not args.no_bare:
            bare_db = args.work / "bare.duckdb"
            yard = bare("read", str(files[kind]), str(bare_db))
            bare_db.unlink(missing_ok=True)
        show(f"ingest {kind}", ours, yard, what)
    if ingest:
        ingest_all(rows, args.no_bare, show)
        show("install templates", personae(db, "segments", "templates", "--all"), None)
    if build_too:
        build_and_segments(db, args.no_bare, show)
    report = personae(db, "report", "--out", str(args.work / "report"), "--json")
    summarize = None if args.no_bare else bare("summarize", str(db))
    show("report", report, summarize, "(bare: SUMMARIZE traits)")

    ours = [r[1] for r in rows if r[0] != "ingest (all files)"]
    total_wall = sum(r.wall for r in ours)
    total_cpu = sum(r.cpu for r in ours)
    peak = max(r.peak_gb for r in ours)
    print(
        f"total ({args.start} → report, personae only): {total_wall:,.1f} s ({total_wall / 60:.1f} min), "
        f"{total_cpu:,.1f} CPU s, peak RSS {peak:.2f} GB; goal at 10M customers: < 20 min, < 12 GB"
    )
    print(
        f"generation {generated:,.1f} s (not counted); database {db.stat().st_size / 1024**3:.2f} GB;"
        f" load average now {load()}",
        flush=True,
    )


def ingest_all(rows: list, no_bare: bool, show: Callable[..., None]) -> None:
    """The line summing every file's ingest, and the bare reads of the same files."""
    ingest_total = Run(
        *(sum(getattr(r[1], a) for r in rows) for a in ("wall", "cpu")), max(r[1].peak_gb for r in rows)
    )
    ingest_bare = (
        None
        if no_bare
        else Run(
            *(sum(getattr(r[2], a) for r in rows if r[2]) for a in ("wall", "cpu")),
            max(r[2].peak_gb for r in rows if r[2]),
        )
    )
    show("ingest (all files)", ingest_total, ingest_bare)


def build_and_segments(db: Path, no_bare: bool, show: Callable[..., None]) -> None:
    """``personae build`` (its steps' seconds from ``--json``), the traits yardstick, and the
    segments the build evaluated, read back by ``segments list``."""
    build = personae(db, "build", "--json")
    summary = parsed(build.stdout, "steps")
    steps = {name: s["seconds"] for name, s in summary["steps"].items()}
    scan = None if no_bare else bare("scan", str(db), "orders")
    show("build", build, scan, "(bare: one GROUP BY customer_id over the orders, its own process)")
    for name, seconds in steps.items():
        print(f"      {name:<28} {seconds:8.1f} s  ({seconds / build.wall:4.0%} of the build)")
    print(f"      customers in traits: {summary.get('customers', 0):,}; as of {summary['as_of']}")
    traits_wall = steps.get("affinities", 0) + steps.get("traits, rfm and lifecycle", 0)
    if not no_bare:
        yard = bare("traits", str(db), summary["as_of"])
        inner = yard.extra["seconds"]
        print(
            f"      affinities + traits {traits_wall:8.1f} s  | hand-written traits SQL {inner:7.1f} s"
            f" ({yard.cpu:.1f} CPU s for its process, peak {yard.peak_gb:.2f} GB)"
            f"  ratio {traits_wall / inner:4.2f}x wall",
            flush=True,
        )
    listed = personae(db, "segments", "list", "--json")
    seg_wall = steps.get("segments", 0.0)
    seg_note = f"{len(parsed(listed.stdout, 'name'))} segments; evaluated in the build: {seg_wall:.1f} s"
    if not no_bare:
        seg_bare = bare("scan", str(db), "orders", "events")
        inner = seg_bare.extra["orders"] + seg_bare.extra["events"]
        seg_note += (
            f" against {inner:.1f} s for one bare group-by scan of orders and one of events"
            f" ({seg_wall / inner:.1f}x)"
        )
    show("segments list", listed, None, seg_note)


if __name__ == "__main__":
    main()
