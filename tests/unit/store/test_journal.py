"""The service's commit journal: records survive a reopen; a torn or corrupt tail is dropped."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import JournalBusy, StoreError
from personae.store.journal import Journal, decode, encode, read_groups


def _rows(n: int, tag: str = "x") -> pa.Table:
    return pa.table(
        {
            "id": pa.array([f"{tag}{i}" for i in range(n)], pa.string()),
            "at": pa.array([i * 1_000_000 for i in range(n)], pa.timestamp("us")),
            "amount": pa.array([i / 3 for i in range(n)], pa.float64()),
        }
    )


def test_a_group_round_trips_with_its_tables_kinds_and_order(tmp_path: Path) -> None:
    deletes = [("identity_map", pa.table({"identifier": ["email:a@x.org"]}))]
    appends = [("events", _rows(3)), ("live_memberships", _rows(2, "m")), ("events", _rows(1, "y"))]
    j = Journal(tmp_path / "db.journal")
    j.append(1, deletes, appends)
    j.append(2, [], [("events", _rows(5))])
    j.close()
    again = Journal(tmp_path / "db.journal")
    assert [g.seq for g in again] == [1, 2] and again.last_seq == 2
    again.close()
    first = again.pending[0]
    assert [(n, t.to_pylist()) for n, t in first.deletes] == [(n, t.to_pylist()) for n, t in deletes]
    assert [(n, t.to_pylist()) for n, t in first.appends] == [(n, t.to_pylist()) for n, t in appends]
    assert first.appends[0][1].schema == _rows(1).schema  # types kept (timestamps, doubles)


def test_empty_tables_are_not_written() -> None:
    payload = encode([("a", _rows(0))], [("b", _rows(0)), ("c", _rows(1))])
    group = decode(7, payload)
    assert group.deletes == [] and [n for n, _ in group.appends] == ["c"]


@pytest.mark.parametrize("cut", [1, 10, 21, -1])
def test_a_torn_last_record_is_dropped_and_the_file_cut_back(tmp_path: Path, cut: int) -> None:
    """A crash in the middle of an append leaves part of a record, never acknowledged (the
    acknowledgement follows the fdatasync): reopening drops it, and later appends follow the
    last whole record so they can be read back."""
    path = tmp_path / "db.journal"
    j = Journal(path)
    j.append(1, [], [("events", _rows(2))])
    whole = path.stat().st_size
    j.append(2, [], [("events", _rows(40))])
    j.close()
    data = path.read_bytes()
    path.write_bytes(data[: whole + (cut if cut > 0 else len(data) - whole - 1)])
    again = Journal(path)
    assert [g.seq for g in again] == [1]
    assert path.stat().st_size == whole
    again.append(2, [], [("events", _rows(1, "z"))])
    again.close()
    assert [(g.seq, g.appends[0][1].num_rows) for g in read_groups(path)] == [(1, 2), (2, 1)]


def test_a_corrupt_record_ends_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "db.journal"
    j = Journal(path)
    j.append(1, [], [("events", _rows(2))])
    whole = path.stat().st_size
    j.append(2, [], [("events", _rows(2))])
    j.close()
    data = bytearray(path.read_bytes())
    data[whole + 30] ^= 0xFF  # a flipped byte in the second record's payload
    path.write_bytes(bytes(data))
    assert [g.seq for g in read_groups(path)] == [1]


def test_one_journal_object_at_a_time_holds_the_file(tmp_path: Path) -> None:
    """The running server's journal is locked: another opening (a CLI command's replay, a second
    server) cannot take it, and reading it for inspection does not need to."""
    path = tmp_path / "db.journal"
    j = Journal(path)
    j.append(1, [], [("events", _rows(1))])
    with pytest.raises(JournalBusy, match="in use by a running server"):
        Journal(path)
    assert [g.seq for g in read_groups(path)] == [1]
    j.close()
    Journal(path).close()  # free again


def test_sequence_numbers_only_grow_and_truncate_empties(tmp_path: Path) -> None:
    j = Journal(tmp_path / "db.journal")
    j.append(3, [], [("events", _rows(1))])
    with pytest.raises(StoreError, match="out of order"):
        j.append(3, [], [("events", _rows(1))])
    j.truncate()
    assert j.size == 0 and list(j) == []
    j.append(4, [], [("events", _rows(1))])
    j.close()
    assert [g.seq for g in read_groups(tmp_path / "db.journal")] == [4]


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(["events", "orders", "identity_map"]), st.integers(0, 30)),
        max_size=8,
    )
)
def test_encode_decode_is_the_identity_for_non_empty_tables(items: list[tuple[bool, str, int]]) -> None:
    deletes = [(n, _rows(k)) for is_delete, n, k in items if is_delete]
    appends = [(n, _rows(k)) for is_delete, n, k in items if not is_delete]
    group = decode(1, encode(deletes, appends))
    assert [(n, t.to_pylist()) for n, t in group.deletes] == [
        (n, t.to_pylist()) for n, t in deletes if t.num_rows
    ]
    assert [(n, t.to_pylist()) for n, t in group.appends] == [
        (n, t.to_pylist()) for n, t in appends if t.num_rows
    ]
