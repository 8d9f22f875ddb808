"""Places: haversine against known distances, postcode matching, and the location and
nearest-store expressions on small in-memory tables (DuckDB through Ibis)."""

from __future__ import annotations

import math

import ibis
import pyarrow as pa
import pytest

from personae.traits.places import (
    EARTH_RADIUS_KM,
    customer_places,
    haversine_expr,
    haversine_km,
    locate,
    normal_postcode,
    postcode_key,
)

LONDON, PARIS = (51.5074, -0.1278), (48.8566, 2.3522)
NEW_YORK, LOS_ANGELES = (40.7128, -74.0060), (34.0522, -118.2437)


def test_known_distances() -> None:
    assert haversine_km(*LONDON, *PARIS) == pytest.approx(343.5, abs=0.5)
    assert haversine_km(*NEW_YORK, *LOS_ANGELES) == pytest.approx(3936, abs=2)
    # symmetric, zero on the spot, and a quarter meridian is a quarter of the circumference
    assert haversine_km(*PARIS, *LONDON) == haversine_km(*LONDON, *PARIS)
    assert haversine_km(*PARIS, *PARIS) == 0.0
    assert haversine_km(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)
    # antipodes: rounding may push the haversine above 1; it is clamped, never NaN
    assert haversine_km(10, 20, -10, -160) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_the_sql_formula_is_the_python_one() -> None:
    points = [(*LONDON, *PARIS), (*NEW_YORK, *LOS_ANGELES), (10, 20, -10, -160), (0, 179.5, 0, -179.5)]
    t = ibis.memtable(pa.table({k: [p[i] for p in points] for i, k in enumerate(("a", "b", "c", "d"))}))
    got = ibis.duckdb.connect().to_pyarrow(haversine_expr(t.a, t.b, t.c, t.d).name("km")).to_pylist()
    assert got == pytest.approx([haversine_km(*p) for p in points], rel=1e-12)
    assert got[3] == pytest.approx(111.2, abs=0.1)  # across the antimeridian: one degree, not 359


def test_postcodes_match_without_case_spaces_or_hyphens() -> None:
    assert normal_postcode("sw1a 1aa") == normal_postcode("SW1A1AA") == "SW1A1AA"
    assert normal_postcode("94103-1234") == "941031234"
    assert postcode_key("fr ", "75 001") == "FR|75001"


CUSTOMERS = pa.table(
    {
        "customer_id": ["OWN", "PC", "NOCOUNTRY", "AMBIG", "HALF", "NONE"],
        "latitude": [50.0, None, None, None, 51.0, None],
        "longitude": [1.0, None, None, None, None, None],
        "postcode": ["75001", "75 001", "EH1 1YZ", "1000", "75001", None],
        "country": ["FR", " fr", None, None, "FR", None],
    },
    schema=pa.schema(
        [
            ("customer_id", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("postcode", pa.string()),
            ("country", pa.string()),
        ]
    ),
)
POSTCODES = pa.table(
    {
        "country": ["FR", "GB", "BE", "DK"],
        "postcode": ["75001", "EH1 1YZ", "1000", "1000"],
        "latitude": [48.8625, 55.9521, 50.8466, 55.6786],
        "longitude": [2.3363, -3.1899, 4.3528, 12.5635],
    }
)


def test_coordinates_first_then_the_postcode_of_the_same_country() -> None:
    con = ibis.duckdb.connect()
    out = con.to_pyarrow(
        locate(ibis.memtable(CUSTOMERS), "customer_id", ibis.memtable(POSTCODES)).order_by("customer_id")
    ).to_pylist()
    by = {r["customer_id"]: r for r in out}
    assert len(out) == 6  # a join never duplicates a customer
    assert (by["OWN"]["latitude"], by["OWN"]["location_source"]) == (50.0, "coordinates")
    assert (by["PC"]["latitude"], by["PC"]["location_source"]) == (48.8625, "postcode")
    # no country: matched when only one country has the postcode, not when two do
    assert by["NOCOUNTRY"]["latitude"] == 55.9521
    assert by["AMBIG"]["location_source"] is None and by["AMBIG"]["latitude"] is None
    # half a pair of coordinates is no place of its own: the postcode's centroid is used
    assert (by["HALF"]["latitude"], by["HALF"]["longitude"]) == (48.8625, 2.3363)
    assert by["NONE"]["location_source"] is None


def test_without_a_postcode_table_only_coordinates_locate() -> None:
    out = ibis.duckdb.connect().to_pyarrow(locate(ibis.memtable(CUSTOMERS), "customer_id", None)).to_pylist()
    assert {r["customer_id"] for r in out if r["location_source"]} == {"OWN"}


def test_nearest_store_breaks_ties_by_the_smallest_id() -> None:
    stores = pa.table(
        {
            "store_id": ["B", "A", "FAR", "NOWHERE"],
            "latitude": [48.8625, 48.8625, 40.0, None],
            "longitude": [2.3363, 2.3363, 0.0, None],
            "postcode": [None, None, None, "99999"],
            "country": [None, None, None, "FR"],
        },
        schema=pa.schema(
            [
                ("store_id", pa.string()),
                ("latitude", pa.float64()),
                ("longitude", pa.float64()),
                ("postcode", pa.string()),
                ("country", pa.string()),
            ]
        ),
    )
    t = customer_places(ibis.memtable(CUSTOMERS), ibis.memtable(stores), ibis.memtable(POSTCODES))
    by = {r["customer_id"]: r for r in ibis.duckdb.connect().to_pyarrow(t).to_pylist()}
    assert len(by) == 6
    assert (by["PC"]["nearest_store_id"], by["PC"]["nearest_store_km"]) == ("A", 0.0)
    assert by["OWN"]["nearest_store_id"] == "A"
    assert by["OWN"]["nearest_store_km"] == pytest.approx(haversine_km(50.0, 1.0, 48.8625, 2.3363))
    assert by["NONE"]["nearest_store_id"] is None and by["NONE"]["nearest_store_km"] is None


def test_no_stores_means_no_nearest_store() -> None:
    t = customer_places(ibis.memtable(CUSTOMERS), None, None)
    rows = ibis.duckdb.connect().to_pyarrow(t).to_pylist()
    assert {r["nearest_store_id"] for r in rows} == {None}
    assert [r["location_source"] for r in rows if r["customer_id"] == "OWN"] == ["coordinates"]
