"""Places: what the location and nearest-store traits cost the traits step, and ``distance_km``
in real time — with the worked example of docs/segments.md ("Geographic — distance to a store").

1. The generated shop (``personae generate``: real US cities, synthetic postcodes), its first
   8 stores placed at their city's centre and a postcode table mapping each postcode to its city's
   centre (Omaha's left out on purpose): the coverage line, the nearest stores and a
   ``distance_km`` segment, in batch and in real time.
2. The traits step on synthetic rows (benchmarks/bench_traits.py's ``populate``) with 200 placed
   stores and a 30,000-postcode table, against the same step without places: the ratio is what
   matters on a noisy machine.

    .venv/bin/python benchmarks/bench_places.py [--customers 2000] [--lines 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from personae.app.build import left_out_line
from personae.app.ingest import ingest_file
from personae.app.segments.run import batch_sources
from personae.app.traits import build_affinities, build_traits, store_places
from personae.config.traits import TraitSettings
from personae.devtools.generate import generate_dataset
from personae.segments.batch import evaluate_rule
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from personae.store import DuckDBStore

#: City centres (WGS84) of the generator's cities.
CITY = {
    "Minneapolis": (44.9778, -93.2650),
    "Milwaukee": (43.0389, -87.9065),
    "Detroit": (42.3314, -83.0458),
    "Fargo": (46.8772, -96.7898),
    "Houston": (29.7604, -95.3698),
    "Atlanta": (33.7490, -84.3880),
    "Miami": (25.7617, -80.1918),
    "Nashville": (36.1627, -86.7816),
    "New Orleans": (29.9511, -90.0715),
    "New York": (40.7128, -74.0060),
    "Boston": (42.3601, -71.0589),
    "Philadelphia": (39.9526, -75.1652),
    "Baltimore": (39.2904, -76.6122),
    "Los Angeles": (34.0522, -118.2437),
    "Seattle": (47.6062, -122.3321),
    "San Francisco": (37.7749, -122.4194),
    "Portland": (45.5152, -122.6784),
    "Phoenix": (33.4484, -112.0740),
    "Chicago": (41.8781, -87.6298),
    "Denver": (39.7392, -104.9903),
    "Kansas City": (39.0997, -94.5786),
    "St. Louis": (38.6270, -90.1994),
    "Omaha": (41.2565, -95.9345),
}
AS_OF = date(2026, 6, 30)


def demo(folder: Path, customers: int) -> None:
    files = generate_dataset(customers, seed=3, out_dir=folder / "data")
    stores = pd.read_csv(files["stores"], dtype=str)
    # the first 8 stores have coordinates (their city's centre); the others none: no place
    placed = stores.index < 8
    stores["latitude"] = [CITY[c][0] if p else None for c, p in zip(stores.city, placed, strict=True)]
    stores["longitude"] = [CITY[c][1] if p else None for c, p in zip(stores.city, placed, strict=True)]
    stores.to_csv(folder / "stores.csv", index=False)
    people = pd.read_csv(files["customers"], dtype=str).dropna(subset=["postcode"])
    codes = people.drop_duplicates("postcode")
    codes = codes[codes.city != "Omaha"]
    pd.DataFrame(
        {
            "country": "US",
            "postcode": codes.postcode,
            "latitude": [CITY[c][0] for c in codes.city],
            "longitude": [CITY[c][1] for c in codes.city],
        }
    ).to_csv(folder / "postcodes.csv", index=False)
    with DuckDBStore.open(folder / "demo.duckdb") as store:
        for kind in ("products", "customers", "orders", "events", "consents"):
            ingest_file(store, kind, files[kind])
        for kind in ("stores", "postcodes", "postcodes"):
            s = ingest_file(store, kind, folder / f"{kind}.csv")
            print(f"ingest {kind}: read {s.read}, accepted {s.accepted}, duplicates {s.duplicates}")
        build_affinities(store, AS_OF, TraitSettings())
        built = build_traits(store, AS_OF, TraitSettings())
        print(f"traits: {built['customers']:,} customers; {left_out_line(built)}")
        t = store.execute(store.table("traits").select("nearest_store_id", "nearest_store_km", "city"))
        print("stores with a place:", sorted(store_places(store)))
        print(t.nearest_store_km.describe().round(1).to_dict())
        print("nearest store km by city:", t.groupby("city").nearest_store_km.max().round(0).to_dict())
        print("customers by nearest store:", t.nearest_store_id.value_counts().to_dict())
        rule = check_rule('distance_km("S001") <= 600 and frequency >= 2')
        batch = store.execute(evaluate_rule(rule, batch_sources(store, AS_OF)))
        traits = store.execute(store.table("traits")).to_dict("records")
        evaluator = ProfileEvaluator({"near": rule}, store_places(store))
        states = [CustomerState.of(r["customer_id"], r) for r in traits]
        live = {s.customer_id for s in states if evaluator.members(s, AS_OF)}
        print(f"{rule.text}: batch {int(batch.member.sum())}, real time {len(live)}")
        timings = []
        for s in states[:2000]:
            started = time.perf_counter()
            evaluator.is_member("near", s, AS_OF)
            timings.append(time.perf_counter() - started)
        print(f"real time: median {statistics.median(timings) * 1e6:.1f} µs per customer")


def cost(folder: Path, lines: int, customers: int) -> None:
    from bench_traits import populate  # type: ignore[import-not-found]

    seconds = {}
    for placed in (False, True):
        with DuckDBStore.open(folder / f"cost-{placed}.duckdb") as store:
            populate(store, lines, customers)
            if placed:
                con = store.raw
                con.execute("""
                    UPDATE customers SET
                      latitude = CASE WHEN hash(customer_id) % 3 = 0 THEN 30 + hash(customer_id) % 15 END,
                      longitude = CASE WHEN hash(customer_id) % 3 = 0 THEN -120 + hash(customer_id) % 45 END,
                      postcode = CASE WHEN hash(customer_id) % 3 = 1
                                 THEN (hash(customer_id) % 30000)::VARCHAR END,
                      country = 'US'""")
                con.execute("""
                    INSERT INTO stores (store_id, latitude, longitude, _row_key)
                    SELECT 'S' || i, 30 + i % 15, -120 + i % 45, 'S' || i FROM range(200) t(i)""")
                con.execute("""
                    INSERT INTO postcodes (country, postcode, latitude, longitude, _row_key)
                    SELECT 'US', i::VARCHAR, 30 + i % 15, -120 + i % 45, 'US|' || i FROM range(30000) t(i)""")
            build_affinities(store, AS_OF, TraitSettings())
            started = time.perf_counter()
            built = build_traits(store, AS_OF, TraitSettings())
            seconds[placed] = time.perf_counter() - started
            print(
                f"traits step, places {'on' if placed else 'off'}: {seconds[placed]:.1f}s",
                left_out_line(built),
            )
    ratio = seconds[True] / seconds[False]
    print(f"ratio with places / without: {ratio:.2f} ({customers:,} customers, {lines:,} lines)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000, help="customers of the generated demo shop")
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines of the cost run")
    parser.add_argument("--cost-customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo(Path(tmp), args.customers)
        cost(Path(tmp), args.lines, args.cost_customers)


if __name__ == "__main__":
    main()
