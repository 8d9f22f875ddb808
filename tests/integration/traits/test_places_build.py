"""Places end to end on DuckDB: stores and postcode centroids ingested (rejects with line and
reason, idempotent re-ingest), the location and nearest-store traits with their coverage line,
``distance_km`` in a segment rule (batch and the service's real-time evaluator agree), and the
one-line error for a store without a place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from personae.app.build import left_out_line
from personae.app.ingest import ingest_file
from personae.app.segments.library import check
from personae.app.segments.run import batch_sources
from personae.app.traits import build_affinities, build_traits, store_places
from personae.config.traits import TraitSettings
from personae.errors import RuleError
from personae.segments.batch import evaluate_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from personae.store import DuckDBStore, Store

AS_OF = date(2025, 6, 30)
# Real places: the stores in central London (coordinates), Paris (postcode 75001 only) and
# Manchester (a postcode that is in no table: no place); a line with a latitude out of range.
STORES = """store_id,name,latitude,longitude,postcode,country
LON,London Oxford St,51.5154,-0.1410,,
PAR,Paris Louvre,,,75001,fr
MAN,Manchester,,,M1 1AA,GB
BAD,Nowhere,95.0,0.0,,
"""
POSTCODES = """country,postcode,latitude,longitude
FR,75001,48.8625,2.3363
GB,SW1A 1AA,51.5010,-0.1416
GB,sw1a1aa,51.5012,-0.1418
GB,EH1 1YZ,55.9521,-3.1899
US,10001,40.7506,-73.9972
GB,XX9,not-a-number,0
"""
# A: own coordinates (Brighton); B: postcode with country written in lower case and no space;
# C: postcode without a country (only GB has it); D: a postcode in no table; E: nothing.
CUSTOMERS = """customer_id,created_at,latitude,longitude,postcode,country
A,2024-01-01,50.8225,-0.1372,,
B,2024-01-01,,,sw1a1aa,gb
C,2024-01-01,,,EH1 1YZ,
D,2024-01-01,,,ZZ1 1ZZ,GB
E,2024-01-01,,,,
"""
ORDERS = """order_id,customer_id,ordered_at,amount
O1,A,2025-06-01,10
O2,B,2025-06-02,20
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    d: Path = tmp_path_factory.mktemp("places")
    for name, text in (
        ("stores", STORES),
        ("postcodes", POSTCODES),
        ("customers", CUSTOMERS),
        ("orders", ORDERS),
    ):
        (d / f"{name}.csv").write_text(text, encoding="utf-8")
    store = DuckDBStore.open(d / "p.duckdb")
    summaries = {
        k: ingest_file(store, k, d / f"{k}.csv") for k in ("stores", "postcodes", "customers", "orders")
    }
    store.summaries = summaries  # type: ignore[attr-defined]
    store.folder = d  # type: ignore[attr-defined]
    build_affinities(store, AS_OF, TraitSettings())
    store.built = build_traits(store, AS_OF, TraitSettings())  # type: ignore[attr-defined]
    yield store
    store.close()


def test_ingest_keeps_rejects_with_their_reason_and_is_idempotent(shop: Store) -> None:
    stores, postcodes = shop.summaries["stores"], shop.summaries["postcodes"]  # type: ignore[attr-defined]
    assert (stores.read, stores.accepted, stores.rejected) == (4, 3, 1)
    # the two spellings of SW1A 1AA are one postcode: the later row wins, the earlier is kept as
    # a reject (superseded), and the unreadable latitude is a reject too
    assert (postcodes.read, postcodes.accepted, postcodes.rejected) == (6, 4, 2)
    rejects = shop.execute(shop.table("rejects").order_by(["kind", "line"]))
    reasons = dict(zip(zip(rejects.kind, rejects.line, strict=True), rejects.reason, strict=True))
    assert "latitude: must be at most 90" in reasons[("stores", 5)]
    assert "latitude" in reasons[("postcodes", 7)]
    again = ingest_file(shop, "postcodes", shop.folder / "postcodes.csv")  # type: ignore[attr-defined]
    assert (again.accepted, again.updated) == (0, 0)
    assert shop.count("postcodes") == 4


def test_store_places_come_from_coordinates_or_postcode(shop: Store) -> None:
    places = store_places(shop)
    assert set(places) == {"LON", "PAR"}  # MAN's postcode is in no table, BAD was rejected
    assert places["PAR"] == pytest.approx((48.8625, 2.3363))


def test_location_and_nearest_store_traits(shop: Store) -> None:
    t = shop.execute(shop.table("traits").order_by("customer_id")).set_index("customer_id")
    assert t.location_source.tolist()[:3] == ["coordinates", "postcode", "postcode"]
    assert t.location_source.isna().tolist() == [False, False, False, True, True]
    assert t.loc["B", "location_latitude"] == pytest.approx(51.5012)  # the later spelling won
    assert t.nearest_store_id.tolist()[:3] == ["LON", "LON", "LON"]
    # Brighton – Oxford Street and Edinburgh – Oxford Street, great-circle km (cross-checked
    # with the spherical law of cosines: 77.0475 and 532.4129)
    assert t.loc["A", "nearest_store_km"] == pytest.approx(77.0475, abs=1e-3)
    assert t.loc["C", "nearest_store_km"] == pytest.approx(532.4129, abs=1e-3)
    assert t.nearest_store_km.isna().tolist()[3:] == [True, True]


def test_the_build_says_who_has_no_place_and_why(shop: Store) -> None:
    built = shop.built  # type: ignore[attr-defined]
    assert built["customers"] == 5
    assert left_out_line(built) == (
        "location (nearest store, distance_km): 3 of 5 customers used; left out 2: "
        "1 without coordinates or a postcode, "
        "1 whose postcode is not in the postcodes table (personae ingest postcodes FILE)"
    )


def test_distance_in_a_rule_is_the_same_in_batch_and_real_time(shop: Store) -> None:
    rule = check(shop, 'distance_km("PAR") < 400')
    sources = batch_sources(shop, AS_OF)
    batch = shop.execute(evaluate_rule(rule, sources))
    # Brighton 281.0 km, Westminster 342.3 km, Edinburgh 872.3 km
    assert set(batch[batch.member].customer_id) == {"A", "B"}
    traits = shop.execute(shop.table("traits")).to_dict("records")
    evaluator = ProfileEvaluator({"near": rule}, store_places(shop))
    live = {
        r["customer_id"] for r in traits if evaluator.members(CustomerState.of(r["customer_id"], r), AS_OF)
    }
    assert live == {"A", "B"}
    unknown = check(shop, 'distance_km("PAR") is null')
    batch = shop.execute(evaluate_rule(unknown, sources))
    assert set(batch[batch.member].customer_id) == {"D", "E"}


def test_a_store_without_a_place_is_one_line_with_did_you_mean(shop: Store) -> None:
    with pytest.raises(RuleError) as err:
        check(shop, 'distance_km("LOM") <= 10')
    message = str(err.value)
    assert "\n" not in message.strip()
    assert message == (
        'no store "LOM" with a place (coordinates, or a known postcode) (column 13) (did you mean `LON`?)'
    )
    with pytest.raises(RuleError, match="stores with a place: LON, PAR"):
        check(shop, 'distance_km("MAN") <= 10')


def test_a_shop_with_no_customers_builds_without_place_coverage(store: Store) -> None:
    """Regression: the place coverage summed over an empty traits table (an only-texts shop)
    got NULL back and crashed ``build`` with a TypeError."""
    build_affinities(store, date(2025, 1, 31), TraitSettings())
    result = build_traits(store, date(2025, 1, 31), TraitSettings())
    assert "left_out" not in (result if isinstance(result, dict) else {})
