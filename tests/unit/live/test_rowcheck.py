"""The service's row-wise validator against the file ingest's pandas validator, on random rows.

Both must accept and reject the same rows with the same reasons, give the same typed values,
and the same content hashes and row keys (``_row_hash``/``_row_key`` decide idempotency when a
file later re-ingests what the API stored).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from personae.app.ingest.keys import content_hash, identity_frame, links, primary_identity, row_keys
from personae.app.ingest.readers import RawBatch
from personae.app.ingest.validate import validate
from personae.config.ingest import IngestSettings
from personae.live import rowcheck
from personae.schema import TABLES, TableSpec

BLOCKED = {"unknown", "n/a", "test@example.com"}

texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=" \t0123456789+-().eE:TZ", max_size=14),
    st.sampled_from(["", "  ", "nan", "inf", "-0", "1e5", "1_000", "١٢٣", "İSTANBUL", "ΑΣ", "ǅ"]),
)
moments = st.datetimes(min_value=datetime(1600, 1, 1), max_value=datetime(2300, 1, 1))
offsets = st.sampled_from(["", "Z", "+00:00", "+05:30", "-08:00", "+23:59", "+24:00"])


@st.composite
def stamp(draw: st.DrawFn) -> str:
    at = draw(moments)
    text = at.isoformat(sep=draw(st.sampled_from(["T", " "])))
    if draw(st.booleans()):
        text = text[:10]
    return text + draw(offsets) if len(text) > 10 else text


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(min_value=-1e6, max_value=1e6).map(repr),
    st.integers(-5, 10**6).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
values = st.one_of(
    st.none(),
    texts,
    numbers,
    st.booleans(),
    stamp(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.text(max_size=4), max_size=3),
    st.sampled_from(
        [
            "female",
            "F",
            "nb",
            "Web",
            "APP",
            "nps",
            "csat",
            "email",
            "yes",
            "No",
            "1.0",
            "{}",
            '{"a": 1}',
            "[1]",
            "a;b; c",
            " Ann@Example.COM ",
            "(555) 123-4567",
            "0044 20 7946 0958",
            "+44 (0)20 7946 0958",
            "unknown",
            "N/A",
            "test@example.com",
            "１２３４５６７８９",
        ]
    ),
)


ALIASES = ["Customer-ID", "EMAIL", "Order ID"]  # extra keys that a file would map to canonical columns


def _row(spec: TableSpec, aliases: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    names = ["utm", "x y", "note", *(ALIASES if aliases else [])]
    extra = st.dictionaries(st.sampled_from(names), values, max_size=2)
    canonical = st.fixed_dictionaries({}, optional={c: values for c in spec.column_names})
    return st.tuples(canonical, extra).map(lambda t: {**t[0], **t[1]})


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _reference(spec: TableSpec, rows: list[dict[str, Any]], lines: list[int], timezone: str = "UTC") -> Any:
    """The service's former path: the rows as a typed RawBatch through the file validator."""
    names = rowcheck.source_names(spec, rows)
    columns = {n: pd.Series([_plain(r.get(n)) for r in rows], dtype=object) for n in names}
    raw = [json.dumps(r, default=str) for r in rows]
    batch = RawBatch(
        "api", "segment", "", columns, np.asarray(lines, dtype=np.int64), lambda i: raw[i], typed=True
    )
    return validate(batch, spec, timezone=timezone)


def _same(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NaT:
        return b is None
    if isinstance(a, pd.Timestamp):
        return isinstance(b, datetime) and pd.Timestamp(b) == a
    if isinstance(a, np.integer):
        return type(b) is int and int(a) == b
    if isinstance(a, float):
        return isinstance(b, float) and (a == b)
    return bool(a == b) and type(a) is type(b)


def _check(spec: TableSpec, rows: list[dict[str, Any]], *, group: bool = True, timezone: str = "UTC") -> None:
    """Compare with the file validator on the whole group and on each row alone.

    ``group=False``: only row by row — for timestamp values where pandas' answer for one row
    depends on the others (one nanosecond-precise value switches the whole column to ns, whose
    range is 1677-2262, so a year-1677 row next to it is rejected but accepted alone), and for
    keys that alias a canonical column (a file maps a "Customer-ID" column for every row; the
    service maps each message's own keys).
    """
    lines = list(range(len(rows)))
    plain = [{k: _plain(v) for k, v in r.items()} for r in rows]
    mine = rowcheck.validate_rows(plain, spec, lines, timezone=timezone)
    for line, row in enumerate(rows):
        alone = rowcheck.validate_rows([plain[line]], spec, [line], timezone=timezone)
        _compare(spec, [row], [line], alone, timezone)
        assert alone.rejects == [r for r in mine.rejects if r[0] == line]
    if group and not _column_dependent(rows):
        _compare(spec, rows, lines, mine, timezone)


def _column_dependent(rows: list[dict[str, Any]]) -> bool:
    """Values whose pandas reading depends on the rest of the column (see ``_check``).

    Besides nanosecond timestamps: an integer "-0" is read as 0 in a column of integers but as
    -0.0 in a column that also holds a float ("-0" then prints "-0" in a minimum-value reason).
    """
    return any(
        isinstance(v, str) and (re.fullmatch(r"\s*[+-]?0+\s*", v) or re.search(r"\.\d{7}", v))
        for r in rows
        for v in r.values()
    )


def _compare(
    spec: TableSpec, rows: list[dict[str, Any]], lines: list[int], mine: Any, timezone: str = "UTC"
) -> None:
    ref = _reference(spec, rows, lines, timezone)
    assert [
        (int(a), str(b)) for a, b in zip(ref.rejects["line"], ref.rejects["reason"], strict=True)
    ] == mine.rejects
    assert len(ref.frame) == len(mine.rows)
    for i, row in enumerate(mine.rows):
        for c in [*spec.column_names, "properties_extra", "_source_line"]:
            assert _same(ref.frame[c].iloc[i], row[c]), (c, ref.frame[c].iloc[i], row[c])
    if ref.frame.empty:
        return
    hashes = content_hash(ref.frame, spec)
    assert hashes.tolist() == rowcheck.content_hashes(mine.rows, spec)
    assert row_keys(ref.frame, spec, hashes).tolist() == rowcheck.row_key_list(
        mine.rows, spec, hashes.tolist()
    )
    if spec.identifiers:
        ids = identity_frame(ref.frame, spec, BLOCKED)
        primary = primary_identity(ids)
        keyed = [{**r, "_identity": p} for r, p in zip(mine.rows, primary, strict=True)]
        assert [p for p in primary] == [
            (rowcheck.identities(r, spec, BLOCKED) or [(None, None)])[0][1] for r in mine.rows
        ]
        found = links(ids, primary)
        assert list(zip(found["identifier_a"], found["identifier_b"], strict=True)) == rowcheck.link_pairs(
            keyed, spec, BLOCKED
        )


RUN = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RUN
@given(st.data())
def test_row_validator_matches_file_validator_on_every_table(data: st.DataObject) -> None:
    spec = TABLES[data.draw(st.sampled_from(sorted(TABLES)))]
    aliases = data.draw(st.booleans())
    rows = data.draw(st.lists(_row(spec, aliases), min_size=1, max_size=6))
    _check(spec, rows, group=not aliases)


@RUN
@given(st.lists(st.one_of(stamp(), texts), min_size=1, max_size=5))
@example(["2024-03-31", "2024-13-45", "2024-03-31T14:05:00.1234567Z", "1677-09-21", "2262-04-12", "20240331"])
def test_timestamps_parse_like_pandas(stamps: list[str]) -> None:
    rows = [
        {"event_id": f"e{i}", "anonymous_id": "a", "type": "x", "occurred_at": s}
        for i, s in enumerate(stamps)
    ]
    _check(TABLES["events"], rows, group=False)


#: Shops far east and west of UTC, and ones whose clocks change (by an hour, by half an hour).
ZONES = ["Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"]
#: Local times on the nights clocks change, where a time is skipped or happens twice.
CLOCK_CHANGES = st.sampled_from(
    [
        "2024-03-31T02:30:00",
        "2024-10-27T02:30:00",
        "2024-03-10 02:15",
        "2024-11-03 01:45",
        "2024-04-07T01:45:00",
    ]
)


@RUN
@given(st.sampled_from(ZONES), st.lists(st.one_of(stamp(), texts, CLOCK_CHANGES), min_size=1, max_size=5))
@example("Asia/Tokyo", ["2024-03-01T23:30:00", "2024-03-01T23:30:00+02:00", "2024-03-01", "964982703"])
def test_timestamps_in_the_shops_zone_parse_alike_in_files_and_messages(zone: str, stamps: list[str]) -> None:
    events = [
        {"event_id": f"e{i}", "anonymous_id": "a", "type": "x", "occurred_at": s}
        for i, s in enumerate(stamps)
    ]
    _check(TABLES["events"], events, group=False, timezone=zone)
    people = [{"customer_id": f"c{i}", "birth_date": s, "created_at": s} for i, s in enumerate(stamps)]
    _check(TABLES["customers"], people, group=False, timezone=zone)


def test_a_naive_time_is_the_shops_local_time_and_an_offset_is_kept() -> None:
    rows = [
        {"event_id": "e1", "anonymous_id": "a", "type": "x", "occurred_at": "2024-03-01T23:30:00"},
        {"event_id": "e2", "anonymous_id": "a", "type": "x", "occurred_at": "2024-03-01T23:30:00+02:00"},
        {"event_id": "e3", "anonymous_id": "a", "type": "x", "occurred_at": "2024-03-01T23:30:00Z"},
    ]
    tokyo = rowcheck.validate_rows(rows, TABLES["events"], [1, 2, 3], timezone="Asia/Tokyo").rows
    assert [r["occurred_at"] for r in tokyo] == [
        datetime(2024, 3, 1, 14, 30),
        datetime(2024, 3, 1, 21, 30),
        datetime(2024, 3, 1, 23, 30),
    ]
    utc = rowcheck.validate_rows(rows, TABLES["events"], [1, 2, 3]).rows
    assert utc[0]["occurred_at"] == datetime(2024, 3, 1, 23, 30)
    # a birth date is the date written, whatever the zone
    person = rowcheck.validate_rows(
        [{"customer_id": "c", "birth_date": "1990-05-01"}], TABLES["customers"], [1], timezone="Asia/Tokyo"
    ).rows[0]
    assert person["birth_date"] == datetime(1990, 5, 1)


@RUN
@given(
    st.lists(
        st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2200, 1, 1)), min_size=1, max_size=5
    )
)
def test_timestamps_in_groups_parse_like_pandas(moments: list[datetime]) -> None:
    rows = [
        {"event_id": f"e{i}", "anonymous_id": "a", "type": "x", "occurred_at": m}
        for i, m in enumerate(moments)
    ]
    _check(TABLES["events"], rows)


@RUN
@given(st.lists(numbers, min_size=1, max_size=5))
def test_numbers_parse_like_pandas(amounts: list[Any]) -> None:
    rows = [
        {"customer_id": "C1", "ordered_at": "2024-01-01", "amount": a, "quantity": a, "order_id": "O"}
        for a in amounts
    ]
    _check(TABLES["orders"], rows)


@RUN
@given(
    st.lists(
        st.one_of(texts, st.sampled_from(["(555) 123-4567", "+44 (0)20 7946 0958", "0044 20", "0123456789"])),
        min_size=1,
        max_size=5,
    )
)
def test_identifiers_normalise_like_pandas(phones: list[str]) -> None:
    rows = [{"customer_id": f"C{i}", "phone": p, "email": p} for i, p in enumerate(phones)]
    _check(TABLES["customers"], rows)


def test_service_shaped_rows_agree() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    rows = [
        {
            "event_id": "m1",
            "anonymous_id": "dev-1",
            "type": "add_to_cart",
            "occurred_at": now,
            "product_id": "P1",
            "properties": {"product_id": "P1", "price": 9.5},
            "channel": "web",
        },
        {
            "event_id": "m2",
            "customer_id": "C1",
            "email": " Ann@Example.COM ",
            "type": "identify",
            "occurred_at": now.astimezone(timezone(timedelta(hours=2))).replace(tzinfo=None).isoformat()
            + "+02:00",
        },
        {"event_id": "m3", "type": "x", "occurred_at": "yesterday"},
    ]
    _check(TABLES["events"], rows)
    mine = rowcheck.validate_rows(rows, TABLES["events"], [0, 1, 2])
    assert mine.rejects == [
        (
            2,
            "occurred_at: cannot read 'yesterday' as a date/time (expected e.g. 2024-03-31 "
            "or 2024-03-31T14:05:00); no identifier: needs one of customer_id, email, phone, "
            "anonymous_id, device_id, loyalty_id",
        )
    ]
    assert mine.rows[1]["email"] == "ann@example.com"
    assert mine.rows[1]["occurred_at"] == datetime(2026, 3, 2, 10, 0)


def test_unix_times_and_float_ids_read_the_same_in_files_and_messages() -> None:
    """Real exports: Unix times (seconds, ms) and integer ids written as floats (17850.0)."""
    rows: list[dict[str, Any]] = [
        {"customer_id": "17850.0", "occurred_at": "964982703", "type": "rating", "product_id": "60756.0"},
        {"customer_id": "C2", "occurred_at": "1445714994123", "type": "rating", "product_id": "1"},
        {"customer_id": "C3", "occurred_at": "2024-03-31T14:05:00Z", "type": "page_view"},
    ]
    _check(TABLES["events"], rows)
    checked = rowcheck.validate_rows(rows, TABLES["events"], [0, 1, 2])
    assert checked.rows[0]["customer_id"] == "17850" and checked.rows[0]["product_id"] == "60756"
    assert checked.rows[0]["occurred_at"] == datetime(2000, 7, 30, 18, 45, 3)
    assert checked.rows[1]["occurred_at"] == datetime(2015, 10, 24, 19, 29, 54, 123000)


@RUN
@given(
    st.dates(min_value=date(1700, 1, 1), max_value=date(2100, 1, 1)),
    st.floats(min_value=0, max_value=36_500),
    st.lists(st.one_of(stamp(), texts), min_size=1, max_size=4),
)
def test_both_validators_use_the_same_configured_date_window(
    earliest: date, ahead: float, stamps: list[str]
) -> None:
    # ingest.earliest_date / latest_days_ahead: one window for files and tracked messages
    settings = IngestSettings(earliest_date=earliest, latest_days_ahead=ahead)
    spec = TABLES["orders"]
    rows = [{"customer_id": "C1", "ordered_at": s, "amount": "1"} for s in stamps]
    lines = list(range(len(rows)))
    for line, row in enumerate(rows):
        mine = rowcheck.validate_rows([row], spec, [line], settings=settings)
        names = rowcheck.source_names(spec, [row])
        batch = RawBatch(
            "api",
            "segment",
            "",
            {n: pd.Series([row.get(n)], dtype=object) for n in names},
            np.asarray([line], dtype=np.int64),
            lambda i, r=row: json.dumps(r),
            typed=True,
        )
        ref = validate(batch, spec, settings=settings)
        assert [
            (int(a), str(b)) for a, b in zip(ref.rejects["line"], ref.rejects["reason"], strict=True)
        ] == (mine.rejects)
    assert lines
