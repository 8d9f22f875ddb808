"""``personae ingest texts``: free text customers wrote or said, on a real DuckDB store.

Good rows, every reason a row is refused, idempotency, and identity linking by email and handle.
"""

from __future__ import annotations

import pandas as pd
import pytest

from personae.app.customers import resolve_customer_id
from personae.app.ingest import ingest_file
from personae.config import IdentitySettings
from personae.errors import InputError, MissingColumnsError
from personae.schema import TEXT_SOURCES
from personae.store import Store


def texts(store: Store) -> list[dict[str, object]]:
    t = store.table("texts")
    return store.execute(t.order_by("_source_line")).to_dict("records")


def rejects(store: Store) -> dict[int, str]:
    rows = store.raw.execute("SELECT line, reason FROM rejects WHERE kind = 'texts' ORDER BY line").fetchall()
    return {int(line): str(reason) for line, reason in rows}


GOOD = [
    {
        "text_id": "T1",
        "text": "Love the new store, staff were lovely",
        "created_at": "2025-03-01T10:00:00",
        "source": "Review",
        "customer_id": "C1",
        "score": "5",
        "scale_max": "5",
        "subject": "store-12",
        "language": "EN",
    },
    {
        "text_id": "T2",
        "text": "@shop thanks… still waiting for my parcel",
        "created_at": "2025-03-02",
        "source": "twitter",  # a common name: read as social
        "handle": "@Jane_Q",
    },
    {
        "text_id": "",  # no id: keyed by content and occurrence
        "text": "Where is my refund?",
        "created_at": "2025-03-03",
        "source": "",  # empty: other
        "email": " Jane@Example.org ",
    },
]


def test_good_rows_are_stored_typed_and_normalised(store: Store, write_rows) -> None:
    summary = ingest_file(store, "texts", write_rows("texts.csv", GOOD))
    assert (summary.read, summary.accepted, summary.rejected, summary.duplicates) == (3, 3, 0, 0)
    rows = texts(store)
    assert [r["source"] for r in rows] == ["review", "social", "other"]
    assert rows[0]["score"] == 5.0 and rows[0]["scale_max"] == 5.0 and rows[0]["subject"] == "store-12"
    assert rows[1]["handle"] == "jane_q" and rows[1]["_identity"] == "handle:jane_q"
    assert rows[2]["email"] == "jane@example.org" and pd.isna(rows[2]["text_id"])
    assert str(rows[2]["_row_key"]).startswith("#")  # content hash and occurrence


def test_anonymous_texts_are_kept(store: Store, write_rows) -> None:
    """A review nobody signed (no id, email, phone or handle) is still a customer's words."""
    summary = ingest_file(
        store, "texts", write_rows("anon.csv", [{"text": "Runs small", "created_at": "2024-01-01"}])
    )
    assert summary.accepted == 1
    assert pd.isna(texts(store)[0]["_identity"])


def test_every_reject_reason(store: Store, write_rows) -> None:
    base = {"text": "fine", "created_at": "2025-01-01", "customer_id": "C1"}
    rows = [
        {**base, "text": "   "},  # line 2
        {**base, "created_at": ""},  # 3
        {**base, "created_at": "31/31/2025"},  # 4
        {**base, "source": "fax"},  # 5
        {**base, "score": "4"},  # 6: no scale
        {**base, "score": "9", "scale_max": "5"},  # 7
        {**base, "score": "-1", "scale_max": "5"},  # 8
        {**base, "score": "four", "scale_max": "5"},  # 9
        {**base, "score": "1", "scale_max": "0"},  # 10
        {**base, "customer_id": "", "email": "unknown@unknown.com"},  # 11: blocked placeholder only
        {**base, "created_at": "2999-01-01"},  # 12
        {**base, "text": "ok"},  # 13: a good one
    ]
    identity = IdentitySettings(blocked=["unknown@unknown.com"])
    summary = ingest_file(store, "texts", write_rows("bad.csv", rows), identity=identity)
    assert summary.read == 12 and summary.accepted == 1 and summary.rejected == 11
    why = rejects(store)
    assert why[2] == "text: required value is missing"
    assert why[3] == "created_at: required value is missing"
    assert why[4].startswith("created_at: cannot read '31/31/2025' as a date/time")
    assert why[5] == "source: unknown value 'fax' (allowed: " + ", ".join(TEXT_SOURCES) + ")"
    assert why[6].startswith("score: needs scale_max")
    assert why[7] == "score: 9 is above the top of the scale 5"
    assert why[8] == "score: must be at least 0, got -1"
    assert why[9] == "score: cannot read 'four' as a number"
    assert why[10].startswith("scale_max: must be at least 1, got 0")
    assert why[11] == "no usable identifier: only blocked placeholder values"
    assert why[12].startswith("created_at: 2999-01-01 is outside the plausible dates")


def test_a_file_without_text_or_date_is_refused_before_anything_is_written(store: Store, write_rows) -> None:
    with pytest.raises(MissingColumnsError) as info:
        ingest_file(store, "texts", write_rows("t.csv", [{"body": "hello", "when": "2025-01-01"}]))
    assert "text" in str(info.value) and "created_at" in str(info.value)
    assert store.count("texts") == 0 and store.count("ingest_runs") == 0


def test_map_set_and_date_format_work_as_for_every_kind(store: Store, write_rows) -> None:
    path = write_rows("reviews.csv", [{"Review Text": "Soft and warm", "Rating": "4", "day": "20190102"}])
    summary = ingest_file(
        store,
        "texts",
        path,
        mapping={"text": "Review Text", "score": "Rating", "created_at": "day"},
        constants={"scale_max": "5", "source": "review"},
        date_format="%Y%m%d",
    )
    assert summary.accepted == 1
    row = texts(store)[0]
    assert (row["text"], row["score"], row["scale_max"], row["source"]) == (
        "Soft and warm",
        4.0,
        5.0,
        "review",
    )
    assert str(row["created_at"]).startswith("2019-01-02")
    with pytest.raises(InputError, match="unknown texts column"):
        ingest_file(store, "texts", path, constants={"stars": "5"})


def test_reingesting_is_idempotent_with_and_without_ids(store: Store, write_rows) -> None:
    rows = [*GOOD, {"text": "Where is my refund?", "created_at": "2025-03-03", "email": "jane@example.org"}]
    path = write_rows("texts.csv", rows)
    first = ingest_file(store, "texts", path)
    # the same id-less text twice in one file is said twice: both kept
    assert first.accepted == 4
    again = ingest_file(store, "texts", path)
    assert (again.read, again.accepted, again.duplicates, again.rejected) == (4, 0, 4, 0)
    assert store.count("texts") == 4
    # the same text_id with another text: a conflict, kept as a reject, never a silent overwrite
    changed = write_rows("changed.csv", [{**GOOD[0], "text": "Actually, it was awful"}])
    clash = ingest_file(store, "texts", changed)
    assert (clash.accepted, clash.rejected, clash.conflicts) == (0, 1, 1)
    assert "same text_id as a row stored by an earlier ingest" in next(iter(rejects(store).values()))
    assert store.count("texts") == 4


def test_texts_link_to_customers_by_email_and_handle(store: Store, write_rows) -> None:
    ingest_file(
        store,
        "customers",
        write_rows("customers.csv", [{"customer_id": "C7", "email": "jane@example.org"}]),
    )
    ingest_file(
        store,
        "texts",
        write_rows(
            "texts.csv",
            [
                # a support email signed with both: links the handle to Jane
                {
                    "text": "Parcel lost",
                    "created_at": "2025-03-01",
                    "email": "JANE@example.org",
                    "handle": "@Jane_Q",
                },
                # a post with the handle alone: hers through the link
                {
                    "text": "@shop still nothing",
                    "created_at": "2025-03-02",
                    "handle": "jane_q",
                    "source": "social",
                },
                {"text": "All good", "created_at": "2025-03-02", "handle": "@someone_else"},
            ],
        ),
    )
    resolved = store.resolved("texts")
    owners = dict(store.execute(resolved.select("text", "customer_id")).itertuples(index=False))
    assert owners["Parcel lost"] == "C7"
    assert owners["@shop still nothing"] == "C7"
    assert owners["All good"] == "handle:someone_else"  # a prospect, known by the handle
    assert resolve_customer_id(store, "handle:jane_q") == "C7"
    assert resolve_customer_id(store, "handle:someone_else") == "handle:someone_else"
