"""The tracking API in a shop east of UTC: what lands in the store is the right instant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.api.app import create_app
from personae.app import keys as keystore
from personae.config import Settings
from personae.store import DuckDBStore


@pytest.fixture()
def tokyo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = tmp_path / "svc.duckdb"
    with DuckDBStore.open(db) as store:
        key = keystore.create_key(store, "write")[1]
    settings = Settings(db=db, timezone="Asia/Tokyo", service={"expiry_check_seconds": 3600})
    app = create_app(db, settings, clock=lambda: datetime(2024, 3, 2, 0, 0))
    with TestClient(app) as client:
        yield {"client": client, "key": key, "app": app}


def _order(message_id: str, timestamp: str, order_id: str) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "U1",
        "event": "Order Completed",
        "messageId": message_id,
        "timestamp": timestamp,
        "properties": {"order_id": order_id, "total": 10},
    }


def test_tracked_times_are_stored_as_the_instants_they_name(tokyo: dict[str, Any], settled: Any) -> None:
    c = tokyo["client"]
    batch = {
        "batch": [
            _order("m1", "2024-03-01T23:30:00Z", "O1"),  # Segment's libraries: UTC with Z
            _order("m2", "2024-03-02T08:30:00+09:00", "O2"),  # the same instant, with an offset
            _order("m3", "2024-03-02T08:30:00", "O3"),  # no offset: Tokyo time
        ],
        "context": {"traits": {"createdAt": "2024-03-02"}},
    }
    r = c.post("/v1/batch", auth=(tokyo["key"], ""), json=batch)
    assert r.status_code == 200 and r.json()["accepted"] == 3
    con = settled(tokyo["app"].state.runtime)
    stored = con.execute("SELECT order_id, ordered_at FROM orders ORDER BY order_id").fetchall()
    assert stored == [(o, datetime(2024, 3, 1, 23, 30)) for o in ("O1", "O2", "O3")]
    events = con.execute("SELECT event_id, occurred_at FROM events ORDER BY event_id").fetchall()
    assert events == [(m, datetime(2024, 3, 1, 23, 30)) for m in ("m1", "m2", "m3")]


def test_an_identify_keeps_the_stored_creation_time(tokyo: dict[str, Any], settled: Any) -> None:
    c, key = tokyo["client"], tokyo["key"]
    first = {
        "type": "identify",
        "userId": "U2",
        "messageId": "i1",
        "traits": {"createdAt": "2024-03-02T09:00:00"},
    }
    assert c.post("/v1/batch", auth=(key, ""), json={"batch": [first]}).json()["accepted"] == 1
    # a later identify without createdAt merges with the stored profile: its time must not move
    later = {"type": "identify", "userId": "U2", "messageId": "i2", "traits": {"plan": "gold"}}
    assert c.post("/v1/batch", auth=(key, ""), json={"batch": [later]}).json()["accepted"] == 1
    con = settled(tokyo["app"].state.runtime)
    created = con.execute("SELECT DISTINCT created_at FROM customers WHERE customer_id = 'U2'").fetchall()
    assert created == [(datetime(2024, 3, 2, 0, 0),)]
