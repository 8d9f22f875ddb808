"""``ingest_file`` against a real DuckDB store: every kind, every format, every reject reason."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from personae.app.ingest import IngestSummary, ingest_file
from personae.config import IdentitySettings
from personae.errors import InputError, MissingColumnsError
from personae.schema import TABLES
from personae.store import Store

FORMATS = ("csv", "parquet", "jsonl")

#: A small valid file per kind (Python values; the writer turns them into each format) and
#: the values that must come back typed from the store for the first row.
VALID: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "customers": (
        [
            {
                "customer_id": "C1",
                "created_at": datetime(2024, 1, 5, 10, 30),
                "first_name": "Ann",
                "email": " Ann@Example.com",
                "phone": "(555) 123-4567",
                "birth_date": date(1990, 2, 3),
                "gender": "F",
                "join_channel": "web",
                "interests": ["running", "yoga"],
                "preferences": {"size": "M"},
            },
            {
                "customer_id": "C2",
                "created_at": datetime(2024, 2, 1),
                "first_name": "Bob",
                "email": "bob@example.com",
                "phone": None,
                "birth_date": None,
                "gender": "male",
                "join_channel": "store",
                "interests": ["golf"],
                "preferences": None,
            },
        ],
        {
            "customer_id": "C1",
            "created_at": datetime(2024, 1, 5, 10, 30),
            "email": "ann@example.com",
            "phone": "+15551234567",
            "birth_date": date(1990, 2, 3),
            "gender": "female",
            "interests": ["running", "yoga"],
            "preferences": {"size": "M"},
        },
    ),
    "orders": (
        [
            {
                "order_id": "O1",
                "customer_id": "C1",
                "ordered_at": datetime(2024, 3, 1, 9, 15),
                "channel": "web",
                "product_id": "P1",
                "quantity": 2.0,
                "amount": 39.98,
                "discount": 0.0,
                "returned": False,
            },
            {
                "order_id": "O1",
                "customer_id": "C1",
                "ordered_at": datetime(2024, 3, 1, 9, 15),
                "channel": "web",
                "product_id": "P2",
                "quantity": 1.0,
                "amount": 5.5,
                "discount": 1.0,
                "returned": True,
            },
            {
                "order_id": "O2",
                "customer_id": "C2",
                "ordered_at": datetime(2024, 3, 2),
                "channel": "store",
                "product_id": "P1",
                "quantity": 1.0,
                "amount": 19.99,
                "discount": None,
                "returned": None,
            },
        ],
        {
            "order_id": "O1",
            "ordered_at": datetime(2024, 3, 1, 9, 15),
            "quantity": 2.0,
            "amount": 39.98,
            "returned": False,
            "channel": "web",
        },
    ),
    "events": (
        [
            {
                "event_id": "E1",
                "customer_id": "C1",
                "anonymous_id": None,
                "occurred_at": datetime(2024, 3, 1, 8),
                "type": "product_view",
                "channel": "web",
                "product_id": "P1",
                "properties": {"page": "/p1"},
            },
            {
                "event_id": "E2",
                "customer_id": None,
                "anonymous_id": "dev-9",
                "occurred_at": datetime(2024, 3, 1, 8, 5),
                "type": "hologram_view",
                "channel": "app",
                "product_id": None,
                "properties": None,
            },
        ],
        {
            "event_id": "E1",
            "occurred_at": datetime(2024, 3, 1, 8),
            "type": "product_view",
            "properties": {"page": "/p1"},
        },
    ),
    "products": (
        [
            {
                "product_id": "P1",
                "name": "Runner",
                "category": "shoes",
                "brand": "Acme",
                "price": 39.99,
                "tags": ["team:Lakers", "sport:running"],
            },
            {
                "product_id": "P2",
                "name": "Sock",
                "category": "socks",
                "brand": "Acme",
                "price": 5.5,
                "tags": ["sport:running"],
            },
        ],
        {"product_id": "P1", "price": 39.99, "tags": ["team:Lakers", "sport:running"]},
    ),
    "stores": (
        [
            {
                "store_id": "S1",
                "name": "Main St",
                "region": "West",
                "city": "Portland",
                "floor_area_sqm": 850.0,
            },
            {"store_id": "S2", "name": "Mall", "region": "East", "city": "Boston", "floor_area_sqm": 1200.5},
        ],
        {"store_id": "S1", "floor_area_sqm": 850.0},
    ),
    "surveys": (
        [
            {
                "response_id": "R1",
                "customer_id": "C1",
                "answered_at": datetime(2024, 3, 5, 12),
                "kind": "nps",
                "score": 9.0,
                "comment": "great",
                "touchpoint": "checkout",
            },
            {
                "response_id": "R2",
                "customer_id": "C2",
                "answered_at": datetime(2024, 3, 6),
                "kind": "csat",
                "score": 4.0,
                "comment": None,
                "touchpoint": "delivery",
            },
        ],
        {"response_id": "R1", "answered_at": datetime(2024, 3, 5, 12), "score": 9.0, "scale_max": 10.0},
    ),
    "consents": (
        [
            {
                "customer_id": "C1",
                "purpose": "email",
                "granted": True,
                "recorded_at": datetime(2024, 1, 1),
                "source": "signup",
            },
            {
                "customer_id": "C1",
                "purpose": "sms",
                "granted": False,
                "recorded_at": datetime(2024, 1, 1),
                "source": "signup",
            },
            {
                "customer_id": "C2",
                "purpose": "analytics",
                "granted": True,
                "recorded_at": datetime(2024, 2, 1, 13, 0),
                "source": "cookie_banner",
            },
        ],
        {"customer_id": "C1", "purpose": "email", "granted": True, "recorded_at": datetime(2024, 1, 1)},
    ),
}


def stored_rows(store: Store, kind: str) -> list[dict[str, Any]]:
    return store.raw.execute(f'SELECT * FROM "{kind}" ORDER BY _source_line').df().to_dict("records")


def plain(v: Any) -> Any:
    """Store values as plain Python for comparison."""
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def assert_invariant(summary: IngestSummary) -> None:
    assert summary.read == summary.accepted + summary.rejected + summary.duplicates


# -- every kind, every format ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(VALID))
def test_valid_file_ingests_with_counts_and_types(store: Store, write_rows, kind: str, fmt: str) -> None:
    rows, expected = VALID[kind]
    path = write_rows(f"{kind}.{fmt}", rows)
    summary = ingest_file(store, kind, path)
    assert (summary.kind, summary.format) == (kind, fmt)
    assert (summary.read, summary.accepted, summary.rejected, summary.duplicates) == (
        len(rows),
        len(rows),
        0,
        0,
    )
    assert store.count(kind) == len(rows)
    assert store.count("rejects") == 0
    [run] = store.raw.execute('SELECT kind, file, format, "read", accepted FROM ingest_runs').fetchall()
    assert run == (kind, str(path), fmt, len(rows), len(rows))

    first = stored_rows(store, kind)[0]
    for column, value in expected.items():
        got = plain(first[column])
        if TABLES[kind].column(column).type == "json":
            got = json.loads(got)
        if isinstance(value, date) and not isinstance(value, datetime):
            got = got.date() if isinstance(got, datetime) else got
        assert got == value, column
    assert first["_source_file"] == str(path)
    assert first["_source_line"] == (2 if fmt == "csv" else 1)


def test_store_column_types_follow_the_schema(store: Store) -> None:
    types = dict(
        store.raw.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'"
        ).fetchall()
    )
    assert types["ordered_at"] == "TIMESTAMP"
    assert types["amount"] == "DOUBLE"
    assert types["returned"] == "BOOLEAN"
    assert types["properties_extra"] == "VARCHAR"
    customers = dict(
        store.raw.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customers'"
        ).fetchall()
    )
    assert customers["birth_date"] == "DATE"
    assert customers["interests"] == "VARCHAR[]"


def test_unknown_event_types_are_kept(store: Store, write_rows) -> None:
    path = write_rows(
        "events.csv",
        [
            {"customer_id": "C1", "occurred_at": "2024-01-01", "type": "hologram_view"},
            {"customer_id": "C1", "occurred_at": "2024-01-02", "type": "Page_View"},
        ],
    )
    summary = ingest_file(store, "events", path)
    assert (summary.accepted, summary.rejected) == (2, 0)
    types = [r[0] for r in store.raw.execute("SELECT type FROM events ORDER BY occurred_at").fetchall()]
    assert types == ["hologram_view", "Page_View"]  # kept as they came


# -- every reject reason ---------------------------------------------------------------------

ORDER = {
    "order_id": "O1",
    "customer_id": "C1",
    "ordered_at": "2024-01-01",
    "channel": "web",
    "quantity": "1",
    "amount": "10",
}
EVENT = {
    "event_id": "E1",
    "customer_id": "C1",
    "email": "",
    "phone": "",
    "anonymous_id": "",
    "occurred_at": "2024-01-01T10:00:00",
    "type": "page_view",
    "channel": "web",
    "properties": "",
}
SURVEY = {
    "response_id": "R1",
    "customer_id": "C1",
    "answered_at": "2024-01-01",
    "kind": "nps",
    "score": "8",
    "scale_max": "",
}
CONSENT = {"customer_id": "C1", "purpose": "email", "granted": "true", "recorded_at": "2024-01-01"}
CUSTOMER = {"customer_id": "C1", "email": "a@example.com", "preferences": "", "birth_date": ""}

#: (kind, a valid row, the same row broken, words the reason must contain)
REJECTS = {
    "unparseable date": (
        "orders",
        ORDER,
        {"ordered_at": "2024-13-45"},
        "ordered_at: cannot read '2024-13-45' as a date/time",
    ),
    "unparseable birth date": (
        "customers",
        CUSTOMER,
        {"customer_id": "C2", "birth_date": "3rd May"},
        "birth_date: cannot read '3rd May' as a date/time",
    ),
    "unparseable number": (
        "orders",
        ORDER,
        {"order_id": "O2", "amount": "ten"},
        "amount: cannot read 'ten' as a number",
    ),
    "missing required value": (
        "orders",
        ORDER,
        {"order_id": "O2", "customer_id": ""},
        "customer_id: required value is missing",
    ),
    "missing required survey score": (
        "surveys",
        SURVEY,
        {"response_id": "R2", "score": ""},
        "score: required value is missing",
    ),
    "unknown order channel": (
        "orders",
        ORDER,
        {"order_id": "O2", "channel": "fax"},
        "channel: unknown value 'fax' (allowed: web, app, store",
    ),
    "unknown event channel": (
        "events",
        EVENT,
        {"event_id": "E2", "channel": "carrier_pigeon"},
        "channel: unknown value 'carrier_pigeon'",
    ),
    "unknown survey kind": (
        "surveys",
        SURVEY,
        {"response_id": "R2", "kind": "vibes"},
        "kind: unknown value 'vibes' (allowed: nps, ces, csat, trust, custom)",
    ),
    "unknown consent purpose": (
        "consents",
        CONSENT,
        {"purpose": "telepathy"},
        "purpose: unknown value 'telepathy'",
    ),
    "negative discount": (
        "orders",
        ORDER,
        {"order_id": "O2", "discount": "-1"},
        "discount: must be at least 0, got -1",
    ),
    "rating above its scale": (
        "orders",
        ORDER,
        {"order_id": "O2", "rating": "7"},
        "rating: 7 is above the top of the scale 5",
    ),
    "implausible age": (
        "customers",
        CUSTOMER,
        {"customer_id": "C2", "age": "130"},
        "age: must be at most 120, got 130",
    ),
    "invalid json in properties": (
        "events",
        EVENT,
        {"event_id": "E2", "properties": "{oops"},
        "properties: not a valid JSON object",
    ),
    "invalid json in preferences": (
        "customers",
        CUSTOMER,
        {"customer_id": "C2", "preferences": "[1, 2]"},
        "preferences: not a valid JSON object",
    ),
    "score above scale": (
        "surveys",
        SURVEY,
        {"response_id": "R2", "score": "11"},
        "score: 11 is above the top of the scale 10",
    ),
    "score above explicit scale": (
        "surveys",
        SURVEY,
        {"response_id": "R2", "kind": "custom", "score": "6", "scale_max": "5"},
        "score: 6 is above the top of the scale 5",
    ),
    "event with no identifier": (
        "events",
        EVENT,
        {"event_id": "E2", "customer_id": ""},
        "no identifier: needs one of customer_id",
    ),
    "event with only a blocked email": (
        "events",
        EVENT,
        {"event_id": "E2", "customer_id": "", "email": "Unknown@Example.com"},
        "no usable identifier: only blocked placeholder values",
    ),
    "event with only a blocked phone": (
        "events",
        EVENT,
        {"event_id": "E2", "customer_id": "", "phone": "000-000-0000"},
        "no usable identifier",
    ),
    "event with only a blocked anonymous id": (
        "events",
        EVENT,
        {"event_id": "E2", "customer_id": "", "anonymous_id": "N/A"},
        "no usable identifier",
    ),
    "superseded entity row": (
        "customers",
        CUSTOMER,
        {"email": "other@example.com"},
        "customer_id C1 appears again on line 3 with different values; that later row was kept",
    ),
}


@pytest.mark.parametrize("case", list(REJECTS))
def test_every_reject_reason_is_recorded_with_file_line_and_reason(
    store: Store, write_rows, case: str
) -> None:
    kind, good, change, words = REJECTS[case]
    bad = {**good, **change}
    path = write_rows(f"{kind}.csv", [good, bad])
    summary = ingest_file(store, kind, path)
    assert_invariant(summary)
    assert (summary.read, summary.accepted, summary.rejected, summary.duplicates) == (2, 1, 1, 0)
    assert store.count(kind) == 1
    [(file, line, reason, raw, rkind)] = store.raw.execute(
        "SELECT file, line, reason, raw, kind FROM rejects"
    ).fetchall()
    assert (file, rkind) == (str(path), kind)
    # the superseded row is the first one (line 2); otherwise the broken row on line 3
    assert line == (2 if case == "superseded entity row" else 3)
    assert words in reason
    assert raw  # the raw text of the row is kept for the user


def test_wrong_number_of_fields_and_bad_encoding(store: Store, write_text) -> None:
    header = "order_id,customer_id,ordered_at,amount\n"
    content = (
        (header + "O1,C1,2024-01-01,10\n" + "O2,C1,2024-01-01\n" + "O3,C1,2024-01-01,10,extra\n").encode()
        + b"O4,C\xff\xfe1,2024-01-01,10\n"
        + b"O5,C1,2024-01-02,10\n"
    )
    path = write_text("orders.csv", content)
    summary = ingest_file(store, "orders", path)
    assert_invariant(summary)
    assert (summary.read, summary.accepted, summary.rejected) == (5, 2, 3)
    rejects = store.raw.execute("SELECT line, reason, raw FROM rejects ORDER BY line").fetchall()
    assert rejects[0] == (3, "wrong number of fields: expected 4, found 3", "O2,C1,2024-01-01")
    assert rejects[1] == (4, "wrong number of fields: expected 4, found 5", "O3,C1,2024-01-01,10,extra")
    assert rejects[2][:2] == (5, "bad encoding: the line is not valid UTF-8")


def test_line_numbers_survive_multiline_fields_and_blank_lines(store: Store, write_text) -> None:
    text = (
        "response_id,customer_id,answered_at,kind,score,comment\n"
        'R1,C1,2024-01-01,nps,9,"loved it\nreally\n"\n'
        "\n"
        "R2,C1,2024-01-01,nps,12,too high\n"
    )
    path = write_text("surveys.csv", text)
    ingest_file(store, "surveys", path)
    assert store.raw.execute("SELECT line FROM rejects").fetchall() == [(6,)]
    assert store.raw.execute("SELECT comment, _source_line FROM surveys").fetchall() == [
        ("loved it\nreally", 2)
    ]  # values are trimmed


@pytest.mark.parametrize(("fmt", "line"), [("csv", 3), ("jsonl", 2), ("parquet", 2)])
def test_reject_lines_in_each_format(store: Store, write_rows, fmt: str, line: int) -> None:
    rows = [
        {"customer_id": "C1", "ordered_at": "2024-01-01", "amount": 1.0},
        {"customer_id": "C1", "ordered_at": "2024-01-02", "amount": 1.0, "discount": -1.0},
    ]
    path = write_rows(f"orders.{fmt}", rows)
    summary = ingest_file(store, "orders", path)
    assert (summary.accepted, summary.rejected) == (1, 1)
    [(got_line, reason)] = store.raw.execute("SELECT line, reason FROM rejects").fetchall()
    assert got_line == line
    assert reason == "discount: must be at least 0, got -1"


def test_invalid_json_line_is_rejected_in_jsonl(store: Store, write_text) -> None:
    text = (
        '{"customer_id": "C1", "ordered_at": "2024-01-01", "amount": 1}\n'
        '{"customer_id": "C1", "ordered_at": "2024-01-01", "amount": }\n'
        '{"customer_id": "C2", "ordered_at": "2024-01-01", "amount": 2}\n'
    )
    summary = ingest_file(store, "orders", write_text("orders.jsonl", text))
    assert (summary.read, summary.accepted, summary.rejected) == (3, 2, 1)
    [(line, reason)] = store.raw.execute("SELECT line, reason FROM rejects").fetchall()
    assert line == 2
    assert reason.startswith("not valid JSON")


def test_all_reasons_in_one_file_keep_the_invariant(store: Store, write_rows) -> None:
    rows = [dict(ORDER, order_id=f"O{i}") for i in range(5)]
    rows[1]["ordered_at"] = "nope"
    rows[2]["amount"] = "abc"
    rows[3]["channel"] = "fax"
    rows.append(dict(rows[0]))  # exact duplicate of the first row
    summary = ingest_file(store, "orders", write_rows("orders.csv", rows))
    assert (summary.read, summary.accepted, summary.rejected, summary.duplicates) == (6, 2, 3, 1)
    assert_invariant(summary)
    assert [r[0] for r in store.raw.execute("SELECT line FROM rejects ORDER BY line").fetchall()] == [3, 4, 5]


# -- missing columns: nothing written ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_required_column_writes_nothing(store: Store, write_rows, take_snapshot, fmt: str) -> None:
    ingest_file(store, "orders", write_rows("first.csv", [ORDER]))
    before = take_snapshot(store)
    path = write_rows(f"orders.{fmt}", [{"cust": "C1", "ordered_at": "2024-01-01", "price": 3.0}])
    with pytest.raises(MissingColumnsError) as info:
        ingest_file(store, "orders", path)
    assert info.value.missing == ["customer_id", "amount (or quantity and unit_price)"]
    assert info.value.found == ["cust", "ordered_at", "price"]
    message = str(info.value)
    assert str(path) in message
    assert "customer_id, amount" in message and "cust, ordered_at, price" in message
    assert take_snapshot(store) == before
    assert store.count("ingest_runs") == 1


def test_unknown_kind_is_an_input_error(store: Store, write_rows) -> None:
    with pytest.raises(InputError, match=r"unknown kind 'order'.*customers, orders"):
        ingest_file(store, "order", write_rows("o.csv", [ORDER]))


# -- mapping, date format, extra columns -------------------------------------------------------


def test_map_and_date_format(store: Store, write_rows) -> None:
    path = write_rows("o.csv", [{"cust": "C1", "day": "20240131", "dollars": "12.5", "note": "gift"}])
    summary = ingest_file(
        store,
        "orders",
        path,
        mapping={"customer_id": "cust", "ordered_at": "day", "amount": "dollars"},
        date_format="%Y%m%d",
    )
    assert (summary.accepted, summary.rejected) == (1, 0)
    row = store.raw.execute("SELECT customer_id, ordered_at, amount, properties_extra FROM orders").fetchone()
    assert row[:3] == ("C1", datetime(2024, 1, 31), 12.5)
    assert json.loads(row[3]) == {"note": "gift"}


def test_date_format_rejects_other_spellings(store: Store, write_rows) -> None:
    path = write_rows(
        "o.csv",
        [
            {"customer_id": "C1", "ordered_at": "20240131", "amount": "1"},
            {"customer_id": "C1", "ordered_at": "2024-01-31", "amount": "1"},
        ],
    )
    ingest_file(store, "orders", path, date_format="%Y%m%d")
    [(line, reason)] = store.raw.execute("SELECT line, reason FROM rejects").fetchall()
    assert line == 3
    assert "cannot read '2024-01-31' as a date/time (expected %Y%m%d)" in reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_extra_columns_are_kept_in_properties_extra(store: Store, write_rows, fmt: str) -> None:
    path = write_rows(
        f"customers.{fmt}",
        [
            {"customer_id": "C1", "email": "a@x.com", "shoe_size": 42, "tier": "gold"},
            {"customer_id": "C2", "email": "b@x.com", "shoe_size": None, "tier": None},
        ],
    )
    ingest_file(store, "customers", path)
    extras = dict(store.raw.execute("SELECT customer_id, properties_extra FROM customers").fetchall())
    expected_size = "42" if fmt == "csv" else 42  # CSV has text only; typed formats keep types
    assert json.loads(extras["C1"]) == {"shoe_size": expected_size, "tier": "gold"}
    assert extras["C2"] is None


def test_parquet_integer_ids_with_nulls_match_csv_ids(store: Store, write_rows) -> None:
    # an int column with a null reads as float; id 1 must still be "1", the same as in CSV
    ingest_file(store, "customers", write_rows("c.csv", [{"customer_id": 1, "email": "a@x.com"}]))
    summary = ingest_file(
        store,
        "customers",
        write_rows(
            "c.parquet", [{"customer_id": 1, "email": "a@x.com"}, {"customer_id": None, "email": "b@x.com"}]
        ),
    )
    assert (summary.duplicates, summary.rejected) == (1, 1)
    assert store.raw.execute("SELECT customer_id FROM customers").fetchall() == [("1",)]
    assert store.count("identity_merges") == 0


def test_another_default_country_code(store: Store, write_rows) -> None:
    identity = IdentitySettings(default_country_code="44")
    path = write_rows("c.csv", [{"customer_id": "C1", "phone": "020 7946 0958"}])
    summary = ingest_file(store, "customers", path, identity=identity)
    assert summary.accepted == 1
    assert store.raw.execute("SELECT phone FROM customers").fetchall() == [("+442079460958",)]


def test_progress_is_reported(store: Store, write_rows, tmp_path: Path) -> None:
    steps: list[tuple[str, float]] = []
    ingest_file(store, "orders", write_rows("o.csv", [ORDER]), progress=lambda s, f: steps.append((s, f)))
    assert steps[-1] == ("done", 1.0)
    assert [f for _, f in steps] == sorted(f for _, f in steps)
