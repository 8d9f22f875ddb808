"""A file read in many small chunks ingests exactly as when it is read in one piece.

The streaming path (``stream_file`` + chunked validation + SQL de-duplication) must keep every
guarantee of the whole-file path: the same stored rows, the same rejects with the same line
numbers and raw text, the same counts. Tiny chunks (2 rows) and tiny read blocks (60 bytes)
put chunk and block boundaries everywhere, including between duplicates and their winners.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import personae.app.ingest.readers as readers
from personae.app.ingest import ingest_file
from personae.app.ingest.readers import read_file, stream_file
from personae.store import DuckDBStore, Store

ORDERS = (
    "order_id,customer_id,ordered_at,product_id,quantity,amount,unit_price,rating,note\n"
    "O1,C1,2024-01-05T10:00:00,P1,1,10.5,,,first\n"
    "O1,C1,2024-01-05T10:00:00,P2,2,,4.25,4,\n"  # amount from quantity x unit_price
    ",C2,2024-01-06,P3,1,7,,,\n"  # no order id: keyed by content and occurrence
    ",C2,2024-01-06,P3,1,7,,,\n"  # the 2nd identical id-less line: a 2nd purchase
    "O2,C3,2024-13-45,P1,1,3,,,\n"  # bad date
    "O3,C4,2024-02-01,P1,-1,-9.99,,,\n"  # a return
    "O1,C1,2024-01-05T10:00:00,P1,1,10.5,,,first\n"  # exact duplicate of line 2
    "O4,,2024-02-02,P1,1,5,,,\n"  # no customer
    "O5,C5,2024-02-03,P1,1,5,,9,\n"  # rating above 5
    ",C2,2024-01-06,P3,1,7,,,\n"  # 3rd identical id-less line, in another chunk
    "O6,C6,2024-02-04,P9,1,12,,,\n"
)

CUSTOMERS = (
    "customer_id,email,phone,first_name\n"
    "C1,ann@example.com,555 123 4567,Ann\n"
    "C2,bob@example.com,,Bob\n"
    "C1,ann@example.com,555 123 4567,Ann\n"  # exact repeat of line 2: a duplicate
    "C3,cy@example.com,,Cy\n"
    "C2,bob@new.example.com,,Bob\n"  # supersedes line 3
    ",nobody@example.com,,\n"  # no customer id
    "C4,CY@example.com ,,Cyd\n"  # shares an email with C3: a merge
)


def _stored(store: Store, table: str) -> list[tuple]:
    df = store.execute(store.table(table))
    df = df.drop(columns=[c for c in ("_ingested_at", "seen_at") if c in df])
    df = df.sort_values(list(df.columns[:2]) if "_source_line" not in df else "_source_line")
    return [tuple(str(v) for v in row) for row in df.itertuples(index=False)]


def _rejects(store: Store) -> list[tuple]:
    df = store.execute(store.table("rejects").select("line", "reason", "raw").order_by("line"))
    return [tuple(r) for r in df.itertuples(index=False)]


def _ingest_twice(tmp_path: Path, kind: str, text: str, monkeypatch: pytest.MonkeyPatch, small: bool):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8", newline="")
    store = DuckDBStore.open(tmp_path / f"{kind}-{small}.duckdb")
    if small:
        monkeypatch.setattr(readers, "BLOCK_BYTES", 60)
    rows = 2 if small else 10**9
    first = ingest_file(store, kind, path, chunk_rows=rows)
    again = ingest_file(store, kind, path, chunk_rows=rows)
    monkeypatch.undo()
    out = (first, again, _stored(store, kind), _rejects(store), _stored(store, "identity_links"))
    store.close()
    return out


@pytest.mark.parametrize(("kind", "text"), [("orders", ORDERS), ("customers", CUSTOMERS)])
def test_small_chunks_give_the_same_rows_rejects_and_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, text: str
) -> None:
    one = _ingest_twice(tmp_path, kind, text, monkeypatch, small=False)
    many = _ingest_twice(tmp_path, kind, text, monkeypatch, small=True)
    for a, b in zip(one[:2], many[:2], strict=True):
        fields = ("read", "accepted", "rejected", "duplicates", "updated", "conflicts", "merges")
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert one[2:] == many[2:]


def test_chunked_orders_pin_the_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, again, rows, rejects, _ = _ingest_twice(tmp_path, "orders", ORDERS, monkeypatch, small=True)
    assert (first.read, first.accepted, first.rejected, first.duplicates) == (11, 7, 3, 1)
    # idempotent: the second run adds nothing and counts every valid line as a duplicate
    assert (again.read, again.accepted, again.rejected, again.duplicates) == (11, 0, 3, 8)
    assert [r[0] for r in rejects] == [6, 9, 10]
    assert rejects[0][2] == "O2,C3,2024-13-45,P1,1,3,,,"
    assert rejects[1][1] == "customer_id: required value is missing"
    # the three id-less lines are three purchases, whatever chunk each fell in
    assert sum(1 for r in rows if r[0] == "nan") == 3


def test_chunked_customers_pin_the_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, rows, rejects, links = _ingest_twice(tmp_path, "customers", CUSTOMERS, monkeypatch, small=True)
    assert (first.read, first.accepted, first.rejected, first.duplicates, first.merges) == (7, 4, 2, 1, 1)
    assert [(r[0], r[1]) for r in rejects] == [
        (3, "customer_id C2 appears again on line 6 with different values; that later row was kept"),
        (7, "customer_id: required value is missing"),
    ]
    assert rejects[0][2] == "C2,bob@example.com,,Bob"
    assert len(rows) == 4
    assert len(links) >= 4


def test_streamed_chunks_match_the_whole_file_reader(write_text) -> None:
    """Block boundaries everywhere; a multi-line record and bad UTF-8 force the exact reader
    from the middle of the file on, with the right line numbers."""
    lines = [b"id,comment"] + [f"{i},row {i}".encode() for i in range(1, 30)]
    lines[12] = b'12,"two\nlines"'
    lines[20] = b"20,bad \xff byte"
    lines[25] = b"25,x,extra"
    path = write_text("s.csv", b"\n".join(lines) + b"\n")
    whole = read_file(path)
    streamed = stream_file(path, chunk_rows=4, block_bytes=50)
    chunks = list(streamed.chunks())
    assert len(chunks) > 3
    got_lines = np.concatenate([c.lines for c in chunks])
    assert got_lines.tolist() == whole.lines.tolist()
    assert [v for c in chunks for v in c.columns["comment"].tolist()] == whole.columns["comment"].tolist()
    assert [(r.line, r.reason, r.raw) for c in chunks for r in c.rejects] == [
        (r.line, r.reason, r.raw) for r in whole.rejects
    ]
    assert [c.raw(i) for c in chunks for i in range(c.n_rows)] == [whole.raw(i) for i in range(whole.n_rows)]
    assert streamed.sha256 == whole.sha256
    assert streamed.raws(np.array([13, 2])) == {2: "1,row 1", 13: '12,"two\nlines"'}


def test_streamed_jsonl_matches_the_whole_file_reader(write_text, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON Lines file past the one-pass size is read in two passes: every chunk has the
    columns of the whole file (a key first met late still is a column of the first chunk)."""
    lines = [f'{{"id": {i}, "comment": "row {i}"}}'.encode() for i in range(1, 30)]
    lines[3] = b""  # blank: not a record
    lines[7] = b'{"id": 8, "comment": "x", "late_key": [1, 2]}'
    lines[11] = b'{"id": 12, "comment": '  # broken JSON
    lines[15] = b'{"id": 16, "comment": "bad \xff byte"}'
    lines[19] = b"[1, 2]"  # not an object
    lines[27] = b'{"id": 28, "only_late": true}'
    path = write_text("s.jsonl", b"\n".join(lines) + b"\n")
    whole = read_file(path)
    monkeypatch.setattr(readers, "JSONL_WHOLE_BYTES", 0)
    streamed = stream_file(path, chunk_rows=4)
    chunks = list(streamed.chunks())
    assert len(chunks) > 3
    assert all(list(c.columns) == list(whole.columns) for c in chunks)
    assert np.concatenate([c.lines for c in chunks]).tolist() == whole.lines.tolist()
    for name in whole.columns:
        assert [v for c in chunks for v in c.columns[name].tolist()] == whole.columns[name].tolist()
    assert [(r.line, r.reason, r.raw) for c in chunks for r in c.rejects] == [
        (r.line, r.reason, r.raw) for r in whole.rejects
    ]
    assert [c.raw(i) for c in chunks for i in range(c.n_rows)] == [whole.raw(i) for i in range(whole.n_rows)]
    assert streamed.raws(np.array([9, 2])) == {2: '{"id": 2, "comment": "row 2"}', 9: whole.raw(7)}


def test_streamed_exact_reader_keeps_crlf_records(write_text) -> None:
    """A Windows file that stops being simple (a quoted record over two lines) is streamed
    line-exactly from there on, with the same raw text and lines as the whole reader."""
    lines = [b"id,comment"] + [f"{i},row {i}".encode() for i in range(1, 20)]
    lines[5] = b'5,"a\r\nb"'
    lines[9] = b"9,only,too,many"
    path = write_text("w.csv", b"\r\n".join(lines) + b"\r\n")
    whole = read_file(path)
    chunks = list(stream_file(path, chunk_rows=3, block_bytes=40).chunks())
    assert np.concatenate([c.lines for c in chunks]).tolist() == whole.lines.tolist()
    assert [c.raw(i) for c in chunks for i in range(c.n_rows)] == [whole.raw(i) for i in range(whole.n_rows)]
    assert [(r.line, r.reason, r.raw) for c in chunks for r in c.rejects] == [
        (r.line, r.reason, r.raw) for r in whole.rejects
    ]
    assert [v for c in chunks for v in c.columns["comment"].tolist()] == whole.columns["comment"].tolist()
