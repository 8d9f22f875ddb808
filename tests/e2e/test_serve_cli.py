"""``personae serve`` for real: uvicorn in a subprocess, the Segment client library from PyPI,
schemathesis against the OpenAPI spec, and SIGKILL under load losing no acknowledged event."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import BIN, Server

from personae.app import keys as keystore
from personae.app.segments.library import install_templates
from personae.store import DuckDBStore


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    db = tmp_path / "live.duckdb"
    with DuckDBStore.open(db) as store:
        install_templates(store, ["Cart abandoners"])
        keys = {role: keystore.create_key(store, role)[1] for role in ("write", "read", "admin")}
    server = Server(db, tmp_path, log_level="warning")
    server.start()
    yield server, keys
    server.stop(signal.SIGKILL)


def test_segment_library_points_at_personae(served: tuple[Server, dict[str, str]]) -> None:
    from segment.analytics.client import Client

    server, keys = served
    errors: list[Any] = []
    client = Client(keys["write"], host=server.url, on_error=lambda e, batch: errors.append(e), max_retries=2)
    client.track(anonymous_id="browser-1", event="Product Viewed", properties={"product_id": "P1"})
    client.track(
        anonymous_id="browser-1", event="Product Added", properties={"product_id": "P1", "price": 9.5}
    )
    client.identify(
        user_id="U100", anonymous_id="browser-1", traits={"email": "lee@example.org", "name": "Lee Park"}
    )
    client.page(user_id="U100", name="Home", properties={"url": "https://shop.example/"})
    client.flush()
    client.shutdown()
    assert errors == []
    read = {"Authorization": f"Bearer {keys['read']}"}
    got = httpx.get(f"{server.url}/v1/customers/U100", headers=read, timeout=10).json()
    assert got["customer_id"] == "U100"
    # a read key does not find people by email (it cannot test who is a customer): as unknown
    known = httpx.get(f"{server.url}/v1/customers/lee@example.org", headers=read, timeout=10)
    unknown = httpx.get(f"{server.url}/v1/customers/nobody@example.org", headers=read, timeout=10)
    assert known.status_code == unknown.status_code == 404
    assert known.json()["message"].replace("lee", "nobody") == unknown.json()["message"]
    assert [s["name"] for s in got["segments"]] == ["Cart abandoners"]
    assert "email" not in got["profile"]
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    assert (
        httpx.get(f"{server.url}/v1/customers/lee@example.org", headers=admin, timeout=10).status_code == 200
    )
    got = httpx.get(f"{server.url}/v1/customers/browser-1", headers=admin, timeout=10).json()
    assert (got["profile"]["first_name"], got["profile"]["last_name"]) == ("Lee", "Park")
    members = httpx.get(f"{server.url}/v1/segments/Cart abandoners/members", headers=read, timeout=10).json()
    assert [m["customer_id"] for m in members["members"]] == ["U100"]


def test_segment_library_keeps_a_batch_with_one_broken_clock(served: tuple[Server, dict[str, str]]) -> None:
    """Issue 25.2 with the real library: one device clock centuries off used to make the whole
    batch a 400, which the library reports and drops; now the batch is a 200, its good events are
    stored and the bad one is kept in ``rejects`` with its reason."""
    from datetime import datetime

    from segment.analytics.client import Client

    server, keys = served
    errors: list[Any] = []
    client = Client(keys["write"], host=server.url, on_error=lambda e, batch: errors.append(e), max_retries=0)
    for i in range(5):
        client.track(anonymous_id=f"dev-{i}", event="Product Viewed", properties={"product_id": f"P{i}"})
    client.track(
        anonymous_id="dev-clock", event="Product Viewed", timestamp=datetime(2999, 1, 1), message_id="clock"
    )
    client.flush()
    client.shutdown()
    assert errors == []
    server.stop()  # SIGTERM: the journal is applied, the file is free to read
    with DuckDBStore.open(server.db) as store:
        con = store.raw
        assert con.execute("SELECT count(*) FROM events").fetchone() == (5,)
        got = con.execute("SELECT file, reason FROM rejects").fetchall()
    assert len(got) == 1 and got[0][0] == "api:/v1/batch" and "not a plausible time" in got[0][1]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{server.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {keys['admin']}",
            "--checks",
            "not_a_server_error,status_code_conformance,response_schema_conformance",
            "--max-examples",
            "15",
            "--workers",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--request-timeout",
            "120",  # a loaded 2-core CI machine can be slow; a timeout is not a finding
            "--seed",
            "0",  # reproducible in CI; run without it locally to explore further
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_sigkill_under_load_loses_no_acknowledged_event(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    acked: list[str] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(auth=(keys["write"], ""), timeout=10) as http:
            while not stop.is_set():
                ids = [uuid.uuid4().hex for _ in range(20)]
                batch = [
                    {"type": "track", "anonymousId": f"d{i % 7}", "event": "Product Added", "messageId": m}
                    for i, m in enumerate(ids)
                ]
                try:
                    r = http.post(f"{server.url}/v1/batch", json={"batch": batch})
                except httpx.HTTPError:
                    return  # the server died mid-request: this batch was not acknowledged
                if r.status_code == 200:
                    acked.extend(ids)

    senders = [threading.Thread(target=send) for _ in range(3)]
    for t in senders:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 400 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop(signal.SIGKILL)  # mid-load: requests are in flight
    stop.set()
    for t in senders:
        t.join()
    assert len(acked) >= 400
    server.start()  # recovers (DuckDB replays its WAL)
    read = {"Authorization": f"Bearer {keys['read']}"}
    assert httpx.get(f"{server.url}/v1/customers/d0", headers=read, timeout=10).status_code == 200
    # re-sending acknowledged ids is idempotent: they are all known
    resend = [
        {"type": "track", "anonymousId": "d0", "event": "Product Added", "messageId": m} for m in acked[:50]
    ]
    r = httpx.post(
        f"{server.url}/v1/batch", auth=(keys["write"], ""), json={"batch": resend}, timeout=10
    ).json()
    assert r["duplicates"] == 50
    server.stop()
    with DuckDBStore.open(server.db) as store:
        stored = set(store.raw.execute("SELECT event_id FROM events").fetchall())
    stored_ids = {row[0] for row in stored}
    missing = [m for m in acked if m not in stored_ids]
    assert missing == [], f"{len(missing)} acknowledged events lost of {len(acked)}"
    print(json.dumps({"acknowledged": len(acked), "stored": len(stored_ids)}))
