"""Real exports go in with mapping alone: Unix times, constant columns, any delimiter or extension,
integer ids written as floats (docs/data-model.md, "Real files")."""

from __future__ import annotations

from datetime import datetime

import pytest

from personae.app.ingest import ingest_file
from personae.errors import FormatError, InputError
from personae.store import Store


def _events(store: Store) -> list[dict[str, object]]:
    t = store.table("events")
    return store.rows(
        t.select("customer_id", "occurred_at", "type", "product_id", "channel").order_by("occurred_at")
    )


def test_unix_seconds_are_read_without_a_format(store: Store, write_text) -> None:
    path = write_text(
        "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,60756,5.0,1445714994\n"
    )
    s = ingest_file(
        store,
        "events",
        path,
        mapping={"customer_id": "userId", "product_id": "movieId", "occurred_at": "timestamp"},
        constants={"type": "rating"},
    )
    assert (s.accepted, s.rejected) == (2, 0)
    rows = _events(store)
    assert rows[0]["occurred_at"] == datetime(2000, 7, 30, 18, 45, 3)
    assert rows[1]["occurred_at"] == datetime(2015, 10, 24, 19, 29, 54)
    assert {r["type"] for r in rows} == {"rating"} and rows[1]["product_id"] == "60756"


@pytest.mark.parametrize(
    ("date_format", "value"), [("epoch", "964982703"), ("epoch_ms", "964982703000"), ("%s", "964982703")]
)
def test_unix_times_by_name(store: Store, write_text, date_format: str, value: str) -> None:
    path = write_text("e.csv", f"customer_id,occurred_at,type\nC1,{value},page_view\n")
    s = ingest_file(store, "events", path, date_format=date_format)
    assert s.accepted == 1
    assert _events(store)[0]["occurred_at"] == datetime(2000, 7, 30, 18, 45, 3)


def test_a_date_format_that_is_no_format_is_one_input_error(store: Store, write_text) -> None:
    path = write_text("e.csv", "customer_id,occurred_at,type\nC1,2024-01-01,page_view\n")
    with pytest.raises(InputError, match="--date-format"):
        ingest_file(store, "events", path, date_format="%Q-%Y")


def test_constant_columns_fill_what_the_file_lacks(store: Store, write_text) -> None:
    path = write_text("e.csv", "customer_id,occurred_at\nC1,2024-01-01\nC2,2024-01-02\n")
    s = ingest_file(store, "events", path, constants={"type": "review", "channel": "web"})
    assert s.accepted == 2
    assert {(r["type"], r["channel"]) for r in _events(store)} == {("review", "web")}


def test_constants_are_checked_like_mappings(store: Store, write_text) -> None:
    path = write_text("e.csv", "customer_id,occurred_at,type\nC1,2024-01-01,x\n")
    with pytest.raises(InputError, match="--set names unknown events column"):
        ingest_file(store, "events", path, constants={"colour": "red"})
    with pytest.raises(InputError, match="--map and --set both give"):
        ingest_file(store, "events", path, mapping={"type": "type"}, constants={"type": "x"})


@pytest.mark.parametrize(
    ("name", "fmt", "delimiter"),
    [("export.dat", "tsv", None), ("export.dat", "csv", None), ("x.csv", None, "|")],
)
def test_tab_and_other_separators_with_any_extension(
    store: Store, write_text, name: str, fmt: str | None, delimiter: str | None
) -> None:
    sep = "|" if delimiter else "\t"
    path = write_text(name, f"customer_id{sep}occurred_at{sep}type\nC1{sep}2024-01-01{sep}page_view\n")
    s = ingest_file(store, "events", path, fmt=fmt, delimiter=delimiter)
    assert (s.accepted, s.rejected) == (1, 0)


def test_an_unknown_extension_without_format_says_how(store: Store, write_text) -> None:
    path = write_text("export.dat", "customer_id\tcreated_at\nC1\t2024-01-01\n")
    with pytest.raises(FormatError, match="--format"):
        ingest_file(store, "customers", path)


def test_ids_exported_as_whole_floats_become_integers(store: Store, write_text) -> None:
    path = write_text(
        "orders.csv",
        "order_id,customer_id,ordered_at,product_id,quantity,amount\n"
        "536365.0,17850.0,2010-12-01,85123,6,15.3\nA1,C-2.50,2010-12-01,85123.0,1,2\n",
    )
    s = ingest_file(store, "orders", path)
    assert s.accepted == 2
    o = store.table("orders")
    rows = store.rows(o.select("order_id", "customer_id", "product_id").order_by("order_id"))
    assert rows == [
        {"order_id": "536365", "customer_id": "17850", "product_id": "85123"},
        {"order_id": "A1", "customer_id": "C-2.50", "product_id": "85123"},
    ]


def _reasons(store: Store) -> dict[int, str]:
    r = store.table("rejects")
    return {int(x["line"]): str(x["reason"]) for x in store.rows(r.select("line", "reason"))}


def test_implausible_values_are_rejected_line_by_line(store: Store, write_text) -> None:
    """Values no shop produces go to rejects with a reason; the good lines go in."""
    path = write_text(
        "orders.csv",
        "order_id,customer_id,ordered_at,quantity,amount\n"
        "O1,C1,2024-01-05,1,10\n"  # line 2: fine
        "O2,C1,2024-01-05,1,inf\n"
        "O3,C1,2024-01-05,1,1e400\n"
        "O4,C1,2024-01-05,1e23,5\n"
        "O5,C1,0001-01-01,1,5\n"
        "O6,C1,1850-06-01,1,5\n"
        "O7,C1,2999-01-01,1,5\n"
        'O8,"{""id"": 7}",2024-01-05,1,5\n'
        "O9,C\x00X,2024-01-05,1,5\n",
    )
    s = ingest_file(store, "orders", path)
    assert (s.read, s.accepted, s.rejected) == (9, 1, 8)
    why = _reasons(store)
    assert "amount: inf is not a finite number" in why[3] and "not a finite number" in why[4]
    assert "quantity: 1e+23 is beyond any plausible value" in why[5]
    for line, day in ((6, "0001-01-01"), (7, "1850-06-01"), (8, "2999-01-01")):
        assert f"ordered_at: {day} is outside the plausible dates 1900-01-01 to" in why[line]
    assert "customer_id: a JSON object or array is not a single value" in why[9]
    assert "customer_id: contains a NUL byte" in why[10]


def test_a_line_nested_too_deep_is_rejected_alone(store: Store, write_text) -> None:
    deep = (
        '{"customer_id": "C2", "occurred_at": "2024-01-05", "type": "x", "properties": '
        + ('{"a": ' * 5000)
        + "1"
        + "}" * 5000
        + "}"
    )
    path = write_text(
        "events.jsonl",
        '{"customer_id": "C1", "occurred_at": "2024-01-05", "type": "page_view"}\n' + deep + "\n",
    )
    s = ingest_file(store, "events", path)
    assert (s.accepted, s.rejected) == (1, 1)
    assert "nested deeper than 32 levels" in _reasons(store)[2]


def test_rows_sharing_an_id_with_other_content_are_conflicts_not_duplicates(store: Store, write_text) -> None:
    """Real exports repeat ids with other content (a post edited, a row re-exported): the first is
    kept, the others are rejects naming it; only identical rows count as duplicates."""
    path = write_text(
        "posts.csv",
        "event_id,customer_id,occurred_at,type\n"
        "E1,C1,2024-01-05,social_post\n"
        "E1,C1,2024-01-05,social_post\n"  # identical: a duplicate
        "E1,C2,2024-01-06,social_post\n"  # same id, other content: a conflict
        "E2,C3,2024-01-07,social_post\n",
    )
    s = ingest_file(store, "events", path)
    assert (s.read, s.accepted, s.rejected, s.duplicates, s.conflicts) == (4, 2, 1, 1, 1)
    assert _reasons(store)[4] == "same event_id as line 2, different content (the first was kept)"
    again = write_text(
        "posts2.csv",
        "event_id,customer_id,occurred_at,type\nE1,C1,2024-01-05,social_post\nE2,C9,2024-02-01,review\n",
    )
    s = ingest_file(store, "events", again)
    assert (s.accepted, s.rejected, s.duplicates, s.conflicts) == (0, 1, 1, 1)
    r = store.table("rejects")
    latest = store.rows(r.filter(r.file == str(again)).select("line", "reason"))
    assert latest == [
        {"line": 3, "reason": "same event_id as a row stored by an earlier ingest, different content"}
    ]
