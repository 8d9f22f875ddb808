"""Ingesting is idempotent: the same data twice adds nothing; entities update in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.app.ingest import ingest_file
from personae.store import Store

ROWS = {
    "customers": [{"customer_id": "C1", "email": "a@x.com"}, {"customer_id": "C2", "email": "b@x.com"}],
    "orders": [
        {"order_id": "O1", "customer_id": "C1", "ordered_at": "2024-01-01", "amount": "3"},
        {"order_id": "", "customer_id": "C2", "ordered_at": "2024-01-02", "amount": "4"},
    ],
    "events": [
        {"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-01", "type": "page_view"},
        {
            "event_id": "",
            "anonymous_id": "dev1",
            "email": "a@x.com",
            "occurred_at": "2024-01-02",
            "type": "search",
        },
    ],
    "products": [{"product_id": "P1", "price": "3"}, {"product_id": "P2", "price": "4"}],
    "stores": [{"store_id": "S1", "name": "Main"}, {"store_id": "S2", "name": "Side"}],
    "surveys": [
        {"response_id": "R1", "customer_id": "C1", "answered_at": "2024-01-01", "kind": "nps", "score": "9"},
        {"response_id": "", "customer_id": "C2", "answered_at": "2024-01-01", "kind": "csat", "score": "4"},
    ],
    "consents": [
        {"customer_id": "C1", "purpose": "email", "granted": "yes", "recorded_at": "2024-01-01"},
        {"customer_id": "C1", "purpose": "email", "granted": "no", "recorded_at": "2024-02-01"},
    ],
}


#: one rejected row per kind
BAD = {
    "customers": {"customer_id": "", "email": "z@x.com"},
    "orders": {"order_id": "O9", "customer_id": "C1", "ordered_at": "2024-01-01", "amount": "abc"},
    "events": {"event_id": "E9", "occurred_at": "2024-01-01", "type": "page_view"},
    "products": {"product_id": "P9", "price": "cheap"},
    "stores": {"store_id": ""},
    "surveys": {
        "response_id": "R9",
        "customer_id": "C1",
        "answered_at": "2024-01-01",
        "kind": "nps",
        "score": "99",
    },
    "consents": {"customer_id": "C1", "purpose": "telepathy", "granted": "yes", "recorded_at": "2024-01-01"},
}


def with_a_bad_row(kind: str) -> list[dict[str, str]]:
    return [*ROWS[kind], BAD[kind]]


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [(kind, "csv") for kind in ROWS]
    + [(kind, fmt) for kind in ("customers", "events") for fmt in ("jsonl", "parquet")],
)
def test_same_file_twice_adds_nothing(store: Store, write_rows, table_counts, kind: str, fmt: str) -> None:
    path = write_rows(f"{kind}.{fmt}", with_a_bad_row(kind))
    first = ingest_file(store, kind, path)
    assert (first.read, first.accepted, first.rejected, first.duplicates) == (3, 2, 1, 0)
    before = table_counts(store)

    second = ingest_file(store, kind, path)
    assert (second.read, second.accepted, second.updated) == (3, 0, 0)
    assert (second.rejected, second.duplicates) == (1, 2)
    after = table_counts(store)
    assert after.pop("ingest_runs") == before.pop("ingest_runs") + 1  # the run itself is recorded
    assert after == before  # rejects are not written twice, nothing else changed


def test_the_same_rows_under_another_file_name_are_duplicates(store: Store, write_rows) -> None:
    ingest_file(store, "orders", write_rows("a.csv", ROWS["orders"]))
    again = ingest_file(store, "orders", write_rows("b.jsonl", ROWS["orders"]))
    assert (again.accepted, again.duplicates) == (0, 2)
    assert store.count("orders") == 2


@pytest.mark.parametrize(
    ("kind", "rows"),
    [
        ("orders", [ROWS["orders"][0], ROWS["orders"][1], ROWS["orders"][0]]),
        ("events", [ROWS["events"][0], ROWS["events"][1], ROWS["events"][0]]),
        ("consents", [ROWS["consents"][0], ROWS["consents"][0], ROWS["consents"][1]]),
        ("customers", [ROWS["customers"][0], ROWS["customers"][1], ROWS["customers"][0]]),
        ("products", [ROWS["products"][0], ROWS["products"][0]]),
    ],
)
def test_exact_duplicate_row_in_a_file_counts_as_duplicate(
    store: Store, write_rows, kind: str, rows: list[dict[str, str]]
) -> None:
    summary = ingest_file(store, kind, write_rows(f"{kind}.csv", rows))
    assert summary.duplicates == 1
    assert summary.rejected == 0
    assert summary.accepted == len(rows) - 1
    assert store.count(kind) == len(rows) - 1
    assert store.count("rejects") == 0


@pytest.mark.parametrize("kind", ["orders", "events"])
def test_identical_rows_without_an_id_are_separate_facts(store: Store, write_rows, kind: str) -> None:
    # keys.py policy: id-less facts are keyed by content and occurrence (two identical order
    # lines are two purchases), and re-ingesting the file still adds nothing
    row = ROWS[kind][1]
    path = write_rows(f"{kind}.csv", [row, row, ROWS[kind][0]])
    first = ingest_file(store, kind, path)
    assert (first.accepted, first.duplicates) == (3, 0)
    again = ingest_file(store, kind, write_rows(f"{kind}-again.csv", [row, row, row]))
    assert (again.accepted, again.duplicates) == (1, 2)  # only the third occurrence is new
    assert store.count(kind) == 4


def test_changed_entity_updates_in_place(store: Store, write_rows) -> None:
    ingest_file(store, "customers", write_rows("v1.csv", ROWS["customers"]))
    changed = [
        {"customer_id": "C1", "email": "new@x.com"},
        ROWS["customers"][1],
        {"customer_id": "C3", "email": "c@x.com"},
    ]
    summary = ingest_file(store, "customers", write_rows("v2.csv", changed))
    assert (summary.read, summary.accepted, summary.updated, summary.duplicates) == (3, 2, 1, 1)
    assert store.count("customers") == 3
    rows = dict(store.raw.execute("SELECT customer_id, email FROM customers").fetchall())
    assert rows == {"C1": "new@x.com", "C2": "b@x.com", "C3": "c@x.com"}
    [(updated,)] = store.raw.execute("SELECT updated FROM ingest_runs WHERE file LIKE '%v2.csv'").fetchall()
    assert updated == 1


def test_changed_product_price_updates(store: Store, write_rows) -> None:
    ingest_file(store, "products", write_rows("p1.csv", ROWS["products"]))
    summary = ingest_file(store, "products", write_rows("p2.csv", [{"product_id": "P1", "price": "2.5"}]))
    assert (summary.accepted, summary.updated) == (1, 1)
    assert store.raw.execute("SELECT price FROM products WHERE product_id = 'P1'").fetchall() == [(2.5,)]
    assert store.count("products") == 2


def test_superseded_row_then_same_file_again(store: Store, write_rows, tmp_path: Path) -> None:
    rows = [{"customer_id": "C1", "email": "old@x.com"}, {"customer_id": "C1", "email": "new@x.com"}]
    path = write_rows("c.csv", rows)
    first = ingest_file(store, "customers", path)
    assert (first.accepted, first.rejected) == (1, 1)
    second = ingest_file(store, "customers", path)
    assert (second.accepted, second.rejected, second.duplicates) == (0, 1, 1)
    assert store.count("rejects") == 1
    assert store.raw.execute("SELECT email FROM customers").fetchall() == [("new@x.com",)]
