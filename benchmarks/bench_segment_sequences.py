"""``did`` and ``returned`` on MovieLens ratings and tags: batch time, real-time time, counts.

The figures of "Sequences and rhythms" in docs/segments.md: every rating a ``movie_rated``
event, every tag a ``movie_tagged`` event, at their real second, as-of 2018-09-24. Prints each
rule's members and batch time alone (DuckDB, Ibis compilation included), the five in one query
(best of ``--rounds``), and the real-time median / 90th percentile per person for all five.
tests/integration/segments/test_segment_sequences_movielens.py pins the counts against pandas.

    .venv/bin/python benchmarks/bench_segment_sequences.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from personae.segments.batch import BatchSources, compile_segments
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator

AS_OF = date(2018, 9, 24)
RULES = [
    'did("movie_rated", then="movie_tagged", within="1d")',
    'events("movie_rated") >= 1 and not did("movie_rated", then="movie_tagged", within="1d")',
    'did("movie_rated", where=\'rating <= 1\', then="movie_rated", then_where=\'rating == 5\', within="1d")',
    'returned("movie_rated", after="1y", within="1y")',
    'returned("movie_rated", after="6m", within="6m")',
]
COLUMNS = ["customer_id", "occurred_at", "type", "category", "channel", "product_id", "properties"]


def events(folder: Path) -> pd.DataFrame:
    ratings = pd.read_csv(folder / "ratings.csv")
    tags = pd.read_csv(folder / "tags.csv")
    frames = [
        pd.DataFrame(
            {
                "customer_id": df.userId.astype(str),
                "occurred_at": pd.to_datetime(df.timestamp, unit="s"),
                "type": kind,
                "properties": props,
            }
        )
        for df, kind, props in (
            (
                ratings,
                "movie_rated",
                [
                    json.dumps({"rating": r, "movie_id": str(m)})
                    for r, m in zip(ratings.rating, ratings.movieId, strict=True)
                ],
            ),
            (tags, "movie_tagged", [json.dumps({"tag": t}) for t in tags.tag]),
        )
    ]
    out = pd.concat(frames)
    for column in ("category", "channel", "product_id"):
        out[column] = None
    return out[COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ev = events(args.datasets / "movielens-small")
    con = ibis.duckdb.connect()
    schema = pa.schema([(c, pa.timestamp("us") if c == "occurred_at" else pa.string()) for c in COLUMNS])
    con.create_table("events", pa.Table.from_pandas(ev, schema=schema, preserve_index=False))
    con.create_table("traits", pa.table({"customer_id": sorted(set(ev.customer_id))}))
    sources = BatchSources(AS_OF, con.table("traits"), con.table("events"))
    library = {f"r{i}": check_rule(rule) for i, rule in enumerate(RULES)}
    print(f"MovieLens: {len(ev):,} events of {ev.customer_id.nunique():,} people, as-of {AS_OF}")
    for name, rule in zip(library, RULES, strict=True):
        t0 = time.perf_counter()
        compiled = compile_segments([name], library, sources)
        rows = con.to_pyarrow(compiled.table).to_pylist()
        took = time.perf_counter() - t0
        members = sum(1 for r in rows if r[compiled.columns[name]])
        print(f"  {members:>5,} members, batch {took:.2f} s: {rule}")
    together = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        con.to_pyarrow(compile_segments(list(library), library, sources).table)
        together.append(time.perf_counter() - t0)
    print(f"  the five in one query: {min(together):.2f} s (best of {args.rounds})")
    evaluator = ProfileEvaluator(library)
    states = [CustomerState.of(str(c), {}, events=g.to_dict("records")) for c, g in ev.groupby("customer_id")]
    times = []
    for state in states:
        evaluator.members(state, AS_OF)  # warm: the type index is built once per state
        t0 = time.perf_counter()
        evaluator.members(state, AS_OF)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(
        f"  real time, the five rules, one person: median {statistics.median(times) * 1000:.3f} ms, "
        f"90th percentile {times[int(len(times) * 0.9)] * 1000:.3f} ms "
        f"(median {statistics.median(len(s.events) for s in states):.0f} events; target median < 1 ms)"
    )


if __name__ == "__main__":
    main()
