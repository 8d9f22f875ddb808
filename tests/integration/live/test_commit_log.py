"""The commit journal in front of DuckDB: acknowledged before DuckDB has it, never lost, applied
once, and never read around (decisions, reads and admin calls all see every acknowledged group).

The applier is held back with a gate (the module's ``apply_groups`` waits for it), which stands
for DuckDB being busy — a checkpoint — while groups are acknowledged.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from personae.api.app import create_app
from personae.app import keys as keystore
from personae.app.segments.library import install_templates
from personae.config import Settings
from personae.errors import StoreError
from personae.live import applier as applier_module
from personae.live.commit_log import CommitLog
from personae.store import DuckDBStore, Store
from personae.store.journal import Journal, applied_seq, journal_path, read_groups


class Gate:
    """Holds the applier before it writes a batch while closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.open.set()
        self.fail: Exception | None = None
        real = applier_module.apply_groups

        def held(store: Store, groups: Any) -> None:
            self.open.wait(30)
            if self.fail is not None:
                raise self.fail
            real(store, groups)

        monkeypatch.setattr(applier_module, "apply_groups", held)


def _events(*ids: str) -> pa.Table:
    return pa.table({"event_id": pa.array(ids, pa.string()), "type": pa.array(["x"] * len(ids))})


def _event_ids(store: Store) -> list[str]:
    return sorted(r[0] for r in store.raw.execute("SELECT event_id FROM events").fetchall())


def _started(db: Path) -> tuple[Store, CommitLog]:
    """A store and its running commit log, as the server has them."""
    store = DuckDBStore.open(db)
    log = CommitLog.open(store)
    log.start()
    return store, log


def _crash(db: Path) -> Path:
    """What is on disk now (DuckDB's file and WAL, the journal): all a restart has after a crash."""
    crashed = db.parent / "crashed"
    crashed.mkdir()
    for p in db.parent.glob(f"{db.name}*"):
        shutil.copy(p, crashed / p.name)
    return crashed / db.name


def test_a_crash_replays_every_acknowledged_group_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    db = tmp_path / "live.duckdb"
    store, log = _started(db)
    log.write([], [("events", _events("e1"))])
    log.visible()  # group 1 is in DuckDB (and still in the journal)
    gate.open.clear()
    log.write([], [("events", _events("e2", "e3"))])
    log.write([("events", pa.table({"event_id": ["e1"]}))], [("events", _events("e4"))])
    assert _event_ids(store) == ["e1"]  # acknowledged, not yet in DuckDB
    with DuckDBStore.open(db) as other:  # another opening while the server runs: the journal is its
        assert _event_ids(other) == ["e1"]
    crashed = _crash(db)
    gate.open.set()
    log.close()
    store.close()
    with DuckDBStore.open(db) as done:
        assert _event_ids(done) == ["e2", "e3", "e4"]  # the server applied each group once

    # opening the database replays (the server at start, or any CLI command run before it)
    with DuckDBStore.open(crashed) as again:
        assert _event_ids(again) == ["e2", "e3", "e4"]  # group 1 not applied twice, 3's delete kept
        assert applied_seq(again) == 3
        reopened = CommitLog.open(again)
        assert reopened.seq == 3
        assert read_groups(journal_path(again.path)) == []  # emptied once applied
        reopened.start()
        reopened.write([], [("events", _events("e5"))])  # numbering goes on after the replay
        reopened.close()
        assert applied_seq(again) == 4 and _event_ids(again)[-1] == "e5"


def test_a_journal_left_by_a_crash_is_replayed_even_with_the_journal_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    gate.open.clear()
    store, log = _started(tmp_path / "live.duckdb")
    log.write([], [("events", _events("k1"))])
    crashed = _crash(tmp_path / "live.duckdb")
    gate.open.set()
    log.close()
    store.close()
    with DuckDBStore.open(crashed) as again:
        direct = CommitLog.open(again, enabled=False)
        assert direct.journal is None and not journal_path(again.path).exists()
        assert _event_ids(again) == ["k1"]
        direct.write([], [("events", _events("k2"))])  # straight to DuckDB
        assert _event_ids(again) == ["k1", "k2"]


def test_a_failed_apply_refuses_new_groups_and_keeps_them_for_the_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    db = tmp_path / "f.duckdb"
    store, log = _started(db)
    gate.fail = RuntimeError("disk full")
    log.write([], [("events", _events("a1"))])
    with pytest.raises(StoreError, match="disk full"):
        log.visible()
    with pytest.raises(StoreError, match="kept in the service journal"):
        log.write([], [("events", _events("a2"))])  # not journalled: never acknowledged
    log.close()
    store.close()
    gate.fail = None
    with DuckDBStore.open(db) as again:
        CommitLog.open(again)
        assert _event_ids(again) == ["a1"]


def test_the_journal_is_emptied_once_the_store_holds_it(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "t.duckdb") as store:
        log = CommitLog(store, Journal(journal_path(store.path)), truncate_bytes=1)
        log.start()
        log.write([], [("events", _events("t1"))])
        assert log.journal is not None and log.journal.size > 0
        log.visible()
        log.write([], [("events", _events("t2"))])  # over the size, and everything applied
        assert [g.seq for g in read_groups(journal_path(store.path))] == [2]
        log.close()
        assert _event_ids(store) == ["t1", "t2"] and journal_path(store.path).stat().st_size == 0


def test_the_applier_backlog_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full backlog blocks the writer (its queue then fills and requests get 429)."""
    gate = Gate(monkeypatch)
    gate.open.clear()
    with DuckDBStore.open(tmp_path / "b.duckdb") as store:
        log = CommitLog.open(store, backlog=1)
        log.start()
        log.write([], [("events", _events("b1"))])  # taken by the applier, held at the gate
        log.write([], [("events", _events("b2"))])  # the backlog's one place
        third = threading.Thread(target=log.write, args=([], [("events", _events("b3"))]))
        third.start()
        third.join(0.5)
        assert third.is_alive()
        gate.open.set()
        third.join(30)
        log.close()
        assert _event_ids(store) == ["b1", "b2", "b3"]


@pytest.fixture()
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    gate = Gate(monkeypatch)
    db = tmp_path / "svc.duckdb"
    with DuckDBStore.open(db) as store:
        install_templates(store, ["Cart abandoners"])
        keys = {role: keystore.create_key(store, role)[1] for role in ("write", "read", "admin")}
    app = create_app(db, Settings(db=db, service={"expiry_check_seconds": 3600}))
    with TestClient(app) as client:
        yield {"client": client, "keys": keys, "gate": gate, "runtime": app.state.runtime}


def test_events_are_acknowledged_before_duckdb_has_them_and_reads_wait_for_them(
    served: dict[str, Any],
) -> None:
    c, keys, gate, runtime = served["client"], served["keys"], served["gate"], served["runtime"]
    gate.open.clear()  # DuckDB is busy (a checkpoint)
    event = {"userId": "U1", "event": "Product Added", "messageId": "m1", "properties": {"product_id": "P1"}}
    assert c.post("/v1/track", auth=(keys["write"], ""), json=event).json()["accepted"] == 1
    with runtime._read_lock:
        assert runtime.reader.raw.execute("SELECT count(*) FROM events").fetchone() == (0,)
    got: dict[str, Any] = {}
    read = threading.Thread(
        target=lambda: got.update(
            c.get("/v1/customers/U1", headers={"Authorization": f"Bearer {keys['read']}"}).json()
        )
    )
    read.start()
    read.join(0.5)
    assert read.is_alive()  # the profile read waits: read-your-writes
    gate.open.set()
    read.join(30)
    assert [s["name"] for s in got["segments"]] == ["Cart abandoners"]
    with runtime._read_lock:
        assert runtime.reader.raw.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_decisions_read_the_groups_not_yet_applied(served: dict[str, Any]) -> None:
    """An identify merges into the profile an earlier identify wrote, and an order sent again
    under a new messageId is not stored twice — while neither earlier group is in DuckDB."""
    c, keys, gate, runtime = served["client"], served["keys"], served["gate"], served["runtime"]
    w = (keys["write"], "")
    gate.open.clear()
    c.post("/v1/identify", auth=w, json={"userId": "U7", "messageId": "i1", "traits": {"firstName": "Ann"}})
    c.post("/v1/identify", auth=w, json={"userId": "U7", "messageId": "i2", "traits": {"lastName": "Lee"}})
    order = {
        "userId": "U7",
        "event": "Order Completed",
        "timestamp": "2026-03-02T09:00:00Z",
        "properties": {"order_id": "O1", "products": [{"product_id": "P1", "price": 20}]},
    }
    for mid in ("o1", "o2"):
        assert c.post("/v1/track", auth=w, json={**order, "messageId": mid}).json()["accepted"] == 1
    with runtime._read_lock:
        assert runtime.reader.raw.execute("SELECT count(*) FROM customers").fetchone() == (0,)
    gate.open.set()
    runtime.log.visible()
    with runtime._read_lock:
        con = runtime.reader.raw
        assert con.execute("SELECT first_name, last_name FROM customers").fetchall() == [("Ann", "Lee")]
        assert con.execute("SELECT order_id, product_id FROM orders").fetchall() == [("O1", "P1")]


def test_admin_calls_come_after_every_acknowledged_group(served: dict[str, Any]) -> None:
    c, keys, gate, runtime = served["client"], served["keys"], served["gate"], served["runtime"]
    gate.open.clear()
    event = {"userId": "U2", "event": "Product Added", "messageId": "m2", "properties": {"product_id": "P1"}}
    c.post("/v1/track", auth=(keys["write"], ""), json=event)
    seen: list[int] = []
    call = threading.Thread(
        target=lambda: seen.append(
            runtime.run_on_writer(
                lambda: runtime.store.raw.execute("SELECT count(*) FROM events").fetchone()[0]
            )
        )
    )
    call.start()
    call.join(0.5)
    assert call.is_alive()
    gate.open.set()
    call.join(30)
    assert seen == [1]
    assert journal_path(runtime.store.path).stat().st_size == 0  # the barrier emptied the journal
