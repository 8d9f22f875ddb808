"""An ingest is all or nothing: Ctrl-C or a killed process leaves the store as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import personae.app.ingest.loader as loader
from personae.app.ingest import ingest_file
from personae.store import DuckDBStore, Store


@pytest.fixture
def store(file_store: Store) -> Store:
    """Atomicity is about what reaches the disk: a file-backed store here."""
    return file_store


FIRST = [
    {"customer_id": "C1", "email": "ann@example.com", "phone": "555 123 4567"},
    {"customer_id": "C2", "email": "bob@example.com"},
]
#: updates C1 (a delete + append), adds C3 and C4 sharing an email (a merge), and a reject
SECOND = [
    {"customer_id": "C1", "email": "ann@new.example.com", "phone": "555 123 4567"},
    {"customer_id": "C3", "email": "Cy@Example.com "},
    {"customer_id": "C4", "email": "cy@example.com"},
    {"customer_id": "", "email": "nobody@example.com"},
]


def interrupt_in_links(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = loader.add_links_and_resolve

    def links_then_interrupt(store: Store, *args, **kwargs) -> int:
        real(store, *args, **kwargs)  # links, identity map and merges are written…
        calls.append("links")
        raise KeyboardInterrupt  # …then Ctrl-C

    monkeypatch.setattr(loader, "add_links_and_resolve", links_then_interrupt)
    return calls


def interrupt_at_run_record(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = DuckDBStore.append

    def append(self: Store, name: str, data, **kwargs) -> int:
        calls.append(name)
        if name == "ingest_runs":
            raise KeyboardInterrupt  # every data row, reject and link is already written
        return real(self, name, data, **kwargs)

    monkeypatch.setattr(DuckDBStore, "append", append)
    return calls


@pytest.mark.parametrize("interrupt", [interrupt_in_links, interrupt_at_run_record])
def test_interrupted_ingest_changes_nothing(
    store: Store, write_rows, take_snapshot, monkeypatch: pytest.MonkeyPatch, interrupt
) -> None:
    ingest_file(store, "customers", write_rows("first.csv", FIRST))
    before = take_snapshot(store)
    calls = interrupt(monkeypatch)
    path = write_rows("second.csv", SECOND)

    with pytest.raises(KeyboardInterrupt):
        ingest_file(store, "customers", path)

    assert calls  # the interruption really happened inside the write
    assert take_snapshot(store) == before
    monkeypatch.undo()
    # the store is still usable, and the interrupted file ingests in full afterwards
    summary = ingest_file(store, "customers", path)
    assert (summary.accepted, summary.updated, summary.rejected, summary.merges) == (3, 1, 1, 1)
    assert store.count("customers") == 4
    assert store.count("identity_merges") == 1
    assert store.count("rejects") == 1  # written now, as the interrupted run left no trace


def test_interrupted_fact_ingest_changes_nothing(
    store: Store, write_rows, take_snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = [{"customer_id": "C1", "ordered_at": "2024-01-01", "amount": "1"}]
    ingest_file(store, "orders", write_rows("o1.csv", orders))
    before = take_snapshot(store)
    interrupt_at_run_record(monkeypatch)
    more = [
        {"customer_id": "C2", "ordered_at": "2024-01-02", "amount": "2"},
        {"customer_id": "C2", "ordered_at": "bad", "amount": "2"},
    ]
    with pytest.raises(KeyboardInterrupt):
        ingest_file(store, "orders", write_rows("o2.csv", more))
    assert take_snapshot(store) == before


def test_store_errors_inside_the_transaction_roll_back(
    store: Store, write_rows, take_snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_file(store, "customers", write_rows("first.csv", FIRST))
    before = take_snapshot(store)

    def broken(*args, **kwargs) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "add_links_and_resolve", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(store, "customers", write_rows("second.csv", SECOND))
    assert take_snapshot(store) == before


@pytest.mark.parametrize("fail_at", [1, 3])
def test_a_staging_error_in_its_own_thread_surfaces_and_changes_nothing(
    store: Store, write_rows, take_snapshot, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    # chunks are staged in a thread of their own while the next one is validated: its error
    # must reach the caller (at the next chunk, or at the end), never vanish in the thread
    ingest_file(store, "customers", write_rows("first.csv", FIRST))
    before = take_snapshot(store)
    rows = [{"customer_id": f"C{i}", "email": f"p{i}@example.com"} for i in range(10, 60)]
    real, calls = loader.Scratch.append, [0]

    def append(self, name, data) -> None:  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == fail_at:
            raise OSError("no space left on device")
        real(self, name, data)

    monkeypatch.setattr(loader.Scratch, "append", append)
    with pytest.raises(OSError, match="no space"):
        ingest_file(store, "customers", write_rows("many.csv", rows), chunk_rows=10)
    assert take_snapshot(store) == before


CRASH_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import personae.app.ingest.loader as loader
    from personae.app.ingest import ingest_file
    from personae.store import Store

    db, path, how = sys.argv[1:]
    real = loader.add_links_and_resolve

    def die(store, *args, **kwargs):
        real(store, *args, **kwargs)  # rows, rejects and links are written, not committed
        sys.stdout.flush()
        if how == "exit":
            os._exit(1)
        os.kill(os.getpid(), signal.SIGKILL)

    loader.add_links_and_resolve = die
    ingest_file(DuckDBStore.open(db), "customers", path)
    print("not reached")
""")


# "exit" (os._exit) behaves the same for DuckDB; SIGKILL alone keeps the suite fast
@pytest.mark.parametrize("how", ["sigkill"])
def test_killed_process_leaves_previous_ingest_intact(
    db_path: Path, write_rows, take_snapshot, how: str
) -> None:
    first = write_rows("first.csv", FIRST)
    with DuckDBStore.open(db_path) as store:
        ingest_file(store, "customers", first)
        before = take_snapshot(store)
    second = write_rows("second.csv", SECOND)

    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(db_path), str(second), how],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "not reached" not in proc.stdout

    with DuckDBStore.open(db_path) as store:
        assert take_snapshot(store) == before
        emails = dict(store.raw.execute("SELECT customer_id, email FROM customers").fetchall())
        assert emails == {"C1": "ann@example.com", "C2": "bob@example.com"}
        runs = store.raw.execute("SELECT file FROM ingest_runs").fetchall()
        assert runs == [(str(first),)]
        # and the store works: the same file now ingests completely
        summary = ingest_file(store, "customers", second)
        assert (summary.accepted, summary.merges) == (3, 1)
