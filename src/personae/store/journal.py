"""The service's commit journal: an acknowledged group is on disk before DuckDB has it.

Storage layer (the journal is the store's write-ahead log in front of DuckDB): the file
format, and the replay that :meth:`personae.store.Store.open` runs, so that *anything* opening
the database after a crash — the server, or a CLI command run before the server restarts —
sees every acknowledged group.

Why: a tracking request is acknowledged only once its group is durable. Writing the group to
DuckDB and waiting for its commit made every acknowledgement wait for whatever DuckDB was
doing — and about once a minute DuckDB checkpoints, which blocks every commit for half a
second (measured: 0.44–0.61 s at 2,000 events/s), and with it every request queued behind.
Like any database's write-ahead log, the journal makes the group durable with one append and
one ``fdatasync`` (about 0.5 ms here); the group is applied to DuckDB right after by
:class:`~personae.live.applier.Applier`, on its own thread, and a checkpoint now only
delays that.

A record is one group: the rows it deletes by key and the rows it appends, per table, exactly
the arguments of :meth:`personae.store.Store.write_many`, as Arrow IPC streams. Its header
holds a magic number, the group's sequence number, the payload's length and its CRC-32, so a
record torn by a crash (never acknowledged: the acknowledgement follows the ``fdatasync``) is
recognised and dropped. DuckDB records the last sequence number applied in the same
transaction as the group's rows (table ``service_journal``), so replaying after a restart
applies each group exactly once.

The running server holds an exclusive ``flock`` on the journal: an opening that cannot get
it leaves the journal to its owner (no double replay of groups being applied).
"""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from personae.errors import JournalBusy, StoreError

if TYPE_CHECKING:
    from personae.store.base import Store

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock; one server per file anyway
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("personae.store")

_MAGIC = b"PJR1"
_HEADER = struct.Struct("<4sQII")  # magic, sequence number, payload length, payload CRC-32
_ITEM = struct.Struct("<BHI")  # kind (0 delete, 1 append), table name length, IPC length

Rows = Sequence[tuple[str, pa.Table]]

#: the data, not the file's times, must reach the disk (``fdatasync`` where there is one)
_datasync = getattr(os, "fdatasync", os.fsync)


@dataclass(frozen=True)
class Group:
    """One committed group: what :meth:`~personae.store.Store.write_many` is given."""

    seq: int
    deletes: list[tuple[str, pa.Table]]
    appends: list[tuple[str, pa.Table]]


def encode(deletes: Rows, appends: Rows) -> bytes:
    """The payload of a record: each (kind, table, rows) as an Arrow IPC stream."""
    out = io.BytesIO()
    for kind, items in ((0, deletes), (1, appends)):
        for name, rows in items:
            if not rows.num_rows:
                continue
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, rows.schema) as writer:
                writer.write_table(rows)
            ipc = sink.getvalue()
            encoded = name.encode()
            out.write(_ITEM.pack(kind, len(encoded), ipc.size))
            out.write(encoded)
            out.write(ipc)
    return out.getvalue()


def decode(seq: int, payload: bytes) -> Group:
    deletes: list[tuple[str, pa.Table]] = []
    appends: list[tuple[str, pa.Table]] = []
    view = memoryview(payload)
    at = 0
    while at < len(view):
        kind, name_len, ipc_len = _ITEM.unpack_from(view, at)
        at += _ITEM.size
        name = bytes(view[at : at + name_len]).decode()
        at += name_len
        table = pa.ipc.open_stream(pa.py_buffer(bytes(view[at : at + ipc_len]))).read_all()
        at += ipc_len
        (deletes if kind == 0 else appends).append((name, table))
    return Group(seq, deletes, appends)


def _records(data: bytes) -> tuple[list[Group], int]:
    """Every whole record in ``data``, and the length they fill."""
    groups: list[Group] = []
    at = 0
    while at + _HEADER.size <= len(data):
        magic, seq, length, crc = _HEADER.unpack_from(data, at)
        end = at + _HEADER.size + length
        if magic != _MAGIC or end > len(data):
            break
        payload = data[at + _HEADER.size : end]
        if zlib.crc32(payload) != crc:
            break
        groups.append(decode(seq, payload))
        at = end
    return groups, at


def read_groups(path: str | Path) -> list[Group]:
    """The whole records of a journal file, without taking its lock (for inspection)."""
    p = Path(path)
    return _records(p.read_bytes())[0] if p.exists() else []


def journal_path(db: str | Path) -> Path:
    """The journal of database ``db``: next to it, ``<db>.journal``."""
    return Path(f"{db}.journal")


class Journal:
    """An append-only file of groups; one writer (the service's writer thread).

    Opening it takes the journal's lock (:class:`~personae.errors.JournalBusy` if a running
    server has it), reads what is there (:attr:`pending`) and cuts a torn tail off, so new
    records follow the last whole one.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "a+b")  # noqa: SIM115 - held open for the server's life
        except OSError as exc:
            raise StoreError(
                f"cannot open the service journal {self.path}: {exc}",
                hint="the journal lives next to the database file; check that folder is writable",
            ) from exc
        if fcntl is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                self._file.close()
                raise JournalBusy(
                    f"the service journal {self.path} is in use by a running server",
                    hint="stop `personae serve` on this database first",
                ) from exc
        self.pending, good = self._read()
        if good < self.size:
            self._file.truncate(good)
            self._sync()
        self.last_seq = self.pending[-1].seq if self.pending else 0

    @property
    def size(self) -> int:
        """Bytes in the journal file."""
        return os.fstat(self._file.fileno()).st_size

    def _read(self) -> tuple[list[Group], int]:
        self._file.seek(0)
        return _records(self._file.read())

    def append(self, seq: int, deletes: Rows, appends: Rows) -> None:
        """Write one group and wait until it is on disk (then it may be acknowledged)."""
        if seq <= self.last_seq:
            raise StoreError(f"journal sequence {seq} after {self.last_seq}: the journal is out of order")
        payload = encode(deletes, appends)
        self._file.seek(0, os.SEEK_END)
        self._file.write(_HEADER.pack(_MAGIC, seq, len(payload), zlib.crc32(payload)) + payload)
        self._sync()
        self.last_seq = seq

    def truncate(self) -> None:
        """Empty the journal: call only once every group in it is applied to the store."""
        self._file.truncate(0)
        self._sync()
        self.pending = []

    def _sync(self) -> None:
        self._file.flush()
        _datasync(self._file.fileno())

    def close(self) -> None:
        self._file.close()  # releases the lock

    def __iter__(self) -> Iterator[Group]:
        return iter(self.pending)


# -- applying groups to the store ---------------------------------------------------------------
#: the one row of ``service_journal``
_KEY = "applied"


def applied_seq(store: Store) -> int:
    """The last journal sequence number applied to this database (0: none)."""
    row = store.raw.execute("SELECT max(applied_seq) FROM service_journal").fetchone()
    return int(row[0] or 0)


def seq_rows(seq: int) -> tuple[Rows, Rows]:
    """The ``service_journal`` delete and append that record ``seq`` as applied."""
    key = pa.table({"name": pa.array([_KEY], pa.string())})
    row = pa.table({"name": pa.array([_KEY], pa.string()), "applied_seq": pa.array([seq], pa.int64())})
    return [("service_journal", key)], [("service_journal", row)]


def apply_groups(store: Store, groups: Sequence[Group]) -> None:
    """Write ``groups`` (in order) and record the last one's sequence number: one transaction."""
    if not groups:
        return
    # its own transaction on its own cursor, whatever the main connection is doing
    store.write_groups([*((g.deletes, g.appends) for g in groups), seq_rows(groups[-1].seq)], join=False)


def replay(store: Store, journal: Journal) -> int:
    """Apply the journalled groups the store does not hold yet, then empty the journal.

    Returns how many groups were applied.
    """
    done = applied_seq(store)
    todo = [g for g in journal if g.seq > done]
    if todo:
        log.info("replaying %d acknowledged groups from %s", len(todo), journal.path)
    apply_groups(store, todo)
    journal.truncate()
    journal.last_seq = max(done, journal.last_seq)
    return len(todo)


def replay_at_open(store: Store) -> int:
    """What :meth:`Store.open` runs: replay a journal a crash left, unless a server holds it."""
    path = journal_path(store.path)
    if store.path == ":memory:" or not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        journal = Journal(path)
    except JournalBusy:
        return 0  # its server applies it
    try:
        return replay(store, journal)
    finally:
        journal.close()
