"""Readers: every row comes back with the line it is on; broken rows come back as rejects."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from personae.app.ingest.readers import detect_format, read_file
from personae.errors import FormatError


def values(batch, column: str) -> list:
    return batch.columns[column].tolist()


# -- CSV -------------------------------------------------------------------------------------


def test_csv_header_is_line_1_and_rows_follow(write_text) -> None:
    batch = read_file(write_text("a.csv", "id,name\n1,Ann\n2,Bob\n"))
    assert batch.format == "csv"
    assert list(batch.columns) == ["id", "name"]
    assert batch.lines.tolist() == [2, 3]
    assert values(batch, "name") == ["Ann", "Bob"]
    assert batch.read == 2
    assert batch.rejects == []
    assert batch.typed is False


def test_csv_quoted_field_with_embedded_newlines_keeps_line_numbers(write_text) -> None:
    text = 'id,comment\n1,"first\nsecond\nthird"\n2,plain\n3,"a ""quoted"" word"\n4,x,extra\n'
    batch = read_file(write_text("c.csv", text))
    # row 1 starts on line 2 and spans 2-4, so row 2 is on line 5
    assert batch.lines.tolist() == [2, 5, 6]
    assert values(batch, "comment") == ["first\nsecond\nthird", "plain", 'a "quoted" word']
    assert batch.raw(0) == '1,"first\nsecond\nthird"'
    [reject] = batch.rejects
    assert reject.line == 7
    assert reject.reason == "wrong number of fields: expected 2, found 3"
    assert reject.raw == "4,x,extra"


def test_csv_multiline_record_rejected_with_its_first_line_and_full_raw_text(write_text) -> None:
    batch = read_file(write_text("m.csv", 'id,comment\n1,ok\n2,"two\nlines",oops\n3,ok\n'))
    assert batch.lines.tolist() == [2, 5]
    [reject] = batch.rejects
    assert (reject.line, reject.raw) == (3, '2,"two\nlines",oops')


def test_csv_byte_order_mark_is_not_part_of_the_first_column(write_text) -> None:
    batch = read_file(write_text("bom.csv", b"\xef\xbb\xbfid,name\n1,Ann\n"))
    assert list(batch.columns) == ["id", "name"]
    assert batch.lines.tolist() == [2]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semi.csv"), ("\t", "tabs.tsv"), ("|", "pipe.txt")])
def test_csv_delimiters(write_text, delimiter: str, name: str) -> None:
    text = delimiter.join(["id", "name", "city"]) + "\n" + delimiter.join(["1", "Ann", "Paris, FR"]) + "\n"
    batch = read_file(write_text(name, text))
    assert list(batch.columns) == ["id", "name", "city"]
    assert values(batch, "city") == ["Paris, FR"]


def test_csv_blank_lines_are_skipped_but_counted_for_line_numbers(write_text) -> None:
    batch = read_file(write_text("b.csv", "id,name\n\n1,Ann\n\n\n2,Bob\n\n"))
    assert batch.lines.tolist() == [3, 6]
    assert batch.read == 2
    assert batch.rejects == []


def test_csv_windows_line_endings(write_text) -> None:
    batch = read_file(write_text("w.csv", "id,name\r\n1,Ann\r\n2,Bob\r\n"))
    assert values(batch, "name") == ["Ann", "Bob"]
    assert batch.lines.tolist() == [2, 3]


def test_csv_header_names_are_stripped(write_text) -> None:
    batch = read_file(write_text("h.csv", " id , name \n1,Ann\n"))
    assert list(batch.columns) == ["id", "name"]


def test_csv_invalid_utf8_rejects_only_that_line(write_text) -> None:
    path = write_text("enc.csv", b"id,name\n1,Ann\n2,B\xff\xfeob\n3,Cy\xc3\xa9\n")
    batch = read_file(path)
    assert batch.lines.tolist() == [2, 4]
    assert values(batch, "name") == ["Ann", "Cyé"]
    [reject] = batch.rejects
    assert reject.line == 3
    assert "not valid UTF-8" in reject.reason
    assert reject.raw.startswith("2,B")
    assert batch.read == 3


def test_csv_header_only_gives_no_rows(write_text) -> None:
    batch = read_file(write_text("e.csv", "id,name\n"))
    assert batch.n_rows == 0
    assert list(batch.columns) == ["id", "name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("\n1,2\n", "header line is empty"),
    ],
)
def test_csv_unusable_header_is_a_format_error(write_text, content: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_file(write_text("bad.csv", content))


@pytest.mark.parametrize("blank_line", [False, True])  # the fast reader, and the line-exact one
def test_empty_and_repeated_header_names_get_names(write_text, blank_line: bool) -> None:
    # the clothing reviews' first column is an unnamed row index; a repeated name is suffixed
    text = ",Clothing ID,Rating,Rating\n0,767,4,5\n" + ("\n" if blank_line else "") + "1,1080,5,4\n"
    batch = read_file(write_text("reviews.csv", text))
    assert list(batch.columns) == ["column_1", "Clothing ID", "Rating", "Rating_2"]
    assert batch.columns["column_1"].tolist() == ["0", "1"]
    assert batch.columns["Rating_2"].tolist() == ["5", "4"]


def test_sha256_is_of_the_file_bytes(write_text) -> None:
    data = b"id\n1\n"
    batch = read_file(write_text("s.csv", data))
    assert batch.sha256 == hashlib.sha256(data).hexdigest()


# -- JSON Lines ------------------------------------------------------------------------------


def test_jsonl_rows_are_typed_and_numbered_from_line_1(write_text) -> None:
    text = '{"id": 1, "tags": ["a", "b"], "props": {"k": 1}, "ok": true}\n\n{"id": 2, "extra": "x"}\n'
    batch = read_file(write_text("r.jsonl", text))
    assert batch.typed is True
    assert batch.lines.tolist() == [1, 3]
    assert values(batch, "id") == [1, 2]
    assert values(batch, "tags") == [["a", "b"], None]
    assert values(batch, "props") == [{"k": 1}, None]
    assert values(batch, "extra") == [None, "x"]
    assert json.loads(batch.raw(1)) == {"id": 2, "extra": "x"}


def test_jsonl_bad_lines_are_rejected_with_their_line(write_text) -> None:
    text = '{"id": 1}\n{"id": 2,,}\n[1, 2]\n{"id": 4}\n'
    batch = read_file(write_text("bad.jsonl", text))
    assert batch.lines.tolist() == [1, 4]
    assert [(r.line, r.raw) for r in batch.rejects] == [(2, '{"id": 2,,}'), (3, "[1, 2]")]
    assert batch.rejects[0].reason.startswith("not valid JSON")
    assert "not a JSON object" in batch.rejects[1].reason
    assert batch.read == 4


def test_jsonl_invalid_utf8_line_is_rejected(write_text) -> None:
    batch = read_file(write_text("enc.jsonl", b'{"id": 1}\n{"id": "\xff"}\n'))
    assert batch.lines.tolist() == [1]
    [reject] = batch.rejects
    assert reject.line == 2
    assert "UTF-8" in reject.reason


# -- Parquet ---------------------------------------------------------------------------------


def test_parquet_keeps_types_and_lists(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array(["a", "b"]),
            "n": pa.array([1, None], pa.int64()),
            "amount": pa.array([1.5, 2.0]),
            "at": pa.array([datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2024, 1, 2), date(2024, 2, 3)]),
            "flag": pa.array([True, False]),
            "tags": pa.array([["x", "y"], []], pa.list_(pa.string())),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    batch = read_file(path)
    assert batch.format == "parquet"
    assert batch.typed is True
    assert batch.lines.tolist() == [1, 2]  # the row number is the "line"
    assert values(batch, "amount") == [1.5, 2.0]
    assert str(batch.columns["at"].dtype).startswith("datetime64")
    assert batch.columns["flag"].dtype == bool
    assert values(batch, "tags") == [["x", "y"], []]
    assert json.loads(batch.raw(0))["tags"] == ["x", "y"]


def test_unreadable_parquet_is_a_format_error(write_text) -> None:
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        read_file(write_text("broken.parquet", b"PAR1 this is not parquet"))


# -- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("a.TSV", "csv"),
        ("a.txt", "csv"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "jsonl"),
        ("orders.2024.csv", "csv"),
    ],
)
def test_format_from_extension(name: str, expected: str) -> None:
    assert detect_format(Path(name), None) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("csv", "csv"),
        ("CSV", "csv"),
        ("parquet", "parquet"),
        ("jsonl", "jsonl"),
        ("ndjson", "jsonl"),
        ("json-lines", "jsonl"),
    ],
)
def test_explicit_format_wins_over_extension(given: str, expected: str) -> None:
    assert detect_format(Path("data.csv"), given) == expected


def test_format_override_reads_a_file_whatever_its_name(write_text) -> None:
    path = write_text("export.dat", '{"id": 1}\n')
    with pytest.raises(FormatError, match="cannot tell the format"):
        read_file(path)
    assert read_file(path, "jsonl").lines.tolist() == [1]


def test_unknown_format_is_an_error_naming_the_choices(write_text) -> None:
    path = write_text("a.csv", "id\n1\n")
    with pytest.raises(FormatError, match="unknown format 'xlsx'") as info:
        read_file(path, "xlsx")
    assert "csv, tsv, parquet, jsonl" in str(info.value)


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file"):
        read_file(tmp_path / "nope.csv")
