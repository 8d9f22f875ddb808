"""A rolled-back or killed ingest leaves the DuckDB file larger; compacting gives the space back
(issue 25.4): ``personae maintenance compact``, and on its own after a failed ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import personae.app.ingest.loader as loader
import personae.store.maintenance as maintenance
from personae.app.ingest import ingest_file
from personae.errors import StoreError
from personae.store import DuckDBStore, Store

#: more rows than one DuckDB row group (122,880): DuckDB writes such an insert's blocks to the
#: file before the commit, and a rollback leaves them there, free but not given back
ROWS = 150_000


@pytest.fixture(scope="module")
def big_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("events") / "events.csv"
    pd.DataFrame(
        {
            "customer_id": [f"C{i % 5_000}" for i in range(ROWS)],
            "type": "product_view",
            "product_id": [f"P{x}" for x in rng.integers(0, 3_000, ROWS)],
            "occurred_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, ROWS), "s"),
        }
    ).to_csv(path, index=False)
    return path


def _seed(db: Path, write_rows: Callable[..., Path]) -> None:
    with DuckDBStore.open(db) as store:
        rows = [{"order_id": f"O{i}", "customer_id": f"C{i % 50}", "amount": i % 90 + 1} for i in range(500)]
        rows = [{**r, "ordered_at": "2024-03-01"} for r in rows]
        ingest_file(store, "orders", write_rows("orders.csv", rows))


def _fail_after_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = loader.add_links_and_resolve

    def broken(store: Store, *args: object, **kwargs: object) -> int:
        real(store, *args, **kwargs)  # every row of the big insert is written, not committed
        raise RuntimeError("the machine fell over")

    monkeypatch.setattr(loader, "add_links_and_resolve", broken)


def test_a_failed_ingest_grows_the_file_and_compact_gives_it_back(
    db_path: Path, write_rows: Callable[..., Path], big_events: Path, take_snapshot, monkeypatch
) -> None:
    _seed(db_path, write_rows)
    with DuckDBStore.open(db_path) as store:
        before = take_snapshot(store)
    size = db_path.stat().st_size
    _fail_after_writing(monkeypatch)
    monkeypatch.setattr(maintenance, "COMPACT_AFTER_FAILURE_BYTES", 10**12)  # not on its own here
    with DuckDBStore.open(db_path) as store, pytest.raises(RuntimeError, match="fell over"):
        ingest_file(store, "events", big_events)
    grown = db_path.stat().st_size
    assert grown > size + 2 * 2**20, (size, grown)
    with DuckDBStore.open(db_path) as store:
        assert take_snapshot(store) == before  # rolled back: only the file is larger
        assert maintenance.reclaimable_bytes(store) >= grown - size - 2**20
        done = maintenance.compact_file(store)
        # the store is reconnected to the new file, and every table holds exactly what it held
        assert take_snapshot(store) == before
        assert maintenance.reclaimable_bytes(store) == 0
    assert (done.bytes_before, done.tables) == (grown, len(before))
    assert done.rows == sum(len(rows) for rows in before.values())
    assert db_path.stat().st_size <= size and done.given_back >= grown - size
    assert not list(db_path.parent.glob("*.compact*"))


def test_a_failed_ingest_compacts_on_its_own_when_worth_it(
    db_path: Path, write_rows: Callable[..., Path], big_events: Path, monkeypatch
) -> None:
    _seed(db_path, write_rows)
    size = db_path.stat().st_size
    _fail_after_writing(monkeypatch)
    monkeypatch.setattr(maintenance, "COMPACT_AFTER_FAILURE_BYTES", 2**20)
    with DuckDBStore.open(db_path) as store, pytest.raises(RuntimeError, match="fell over"):
        ingest_file(store, "events", big_events)
    assert db_path.stat().st_size <= size + 2**20
    # and the store still works: the same file now ingests
    monkeypatch.undo()
    with DuckDBStore.open(db_path) as store:
        assert ingest_file(store, "events", big_events).accepted == ROWS


def test_a_compaction_whose_copy_differs_leaves_the_database_untouched(
    db_path: Path, write_rows: Callable[..., Path], take_snapshot, monkeypatch
) -> None:
    _seed(db_path, write_rows)
    with DuckDBStore.open(db_path) as store:
        before = take_snapshot(store)
    data = db_path.read_bytes()

    def short(path: Path, fresh: Path) -> tuple[int, int]:
        fresh.write_bytes(b"half a copy")
        raise StoreError("the copy differs from the database (orders: 500 → 499)")

    monkeypatch.setattr(maintenance, "_copy_and_check", short)
    with DuckDBStore.open(db_path) as store:
        with pytest.raises(StoreError, match="could not compact") as caught:
            maintenance.compact_file(store)
        assert "intact" in str(caught.value)
        assert take_snapshot(store) == before
    assert db_path.read_bytes() == data and not list(db_path.parent.glob("*.compact*"))


KILL = textwrap.dedent("""
    import os, signal, sys
    import personae.app.ingest.loader as loader
    from personae.app.ingest import ingest_file
    from personae.store import DuckDBStore

    real = loader.add_links_and_resolve

    def die(store, *args, **kwargs):
        real(store, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    loader.add_links_and_resolve = die
    ingest_file(DuckDBStore.open(sys.argv[1]), "events", sys.argv[2])
""")


def test_a_killed_ingest_is_given_back_by_maintenance_compact(
    db_path: Path, write_rows: Callable[..., Path], big_events: Path, take_snapshot
) -> None:
    _seed(db_path, write_rows)
    with DuckDBStore.open(db_path) as store:
        before = take_snapshot(store)
    size = db_path.stat().st_size
    proc = subprocess.run(
        [sys.executable, "-c", KILL, str(db_path), str(big_events)], timeout=300, check=False
    )
    assert proc.returncode != 0
    assert db_path.stat().st_size > size + 2 * 2**20
    env = {**os.environ, "PERSONAE_DB": str(db_path)}
    cli = Path(sys.executable).parent / "personae"
    out = subprocess.run(
        [str(cli), "maintenance", "compact", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["given_back"] >= report["bytes_before"] - size - 2**20 and report["bytes_after"] <= size
    with DuckDBStore.open(db_path) as store:
        assert take_snapshot(store) == before
