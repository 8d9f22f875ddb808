"""Privacy through the running service (FastAPI TestClient over a real DuckDB file, with the real
writer thread): every API read or change of personal data is in the audit log under the key's
name; admins export and erase a person while the server keeps accepting events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from personae.api.app import create_app
from personae.app import audit
from personae.app import keys as keystore
from personae.app.segments.library import install_templates
from personae.config import Settings
from personae.store import DuckDBStore

EMAIL = "Zed.Quux@Example.org"
PHONE = "+1 415 555 0199"


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = tmp_path / "svc.duckdb"
    with DuckDBStore.open(db) as store:
        install_templates(store, ["Cart abandoners"])
        keys = {
            "write": keystore.create_key(store, "write", "web tag")[1],
            "read": keystore.create_key(store, "read", "crm reader")[1],
            "admin": keystore.create_key(store, "admin", "dpo desk")[1],
        }
    settings = Settings(db=db, service={"expiry_check_seconds": 3600})
    app = create_app(db, settings)
    with TestClient(app) as client:
        yield {"client": client, "keys": keys, "app": app, "db": db}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _seed(c: TestClient, write_key: str) -> None:
    """One known person (U42, with email, phone and name) who browsed anonymously first."""
    w = (write_key, "")
    cart = {
        "type": "track",
        "anonymousId": "dev-42",
        "event": "Product Added",
        "messageId": "m1",
        "properties": {"product_id": "P1", "category": "shoes"},
    }
    assert c.post("/v1/batch", auth=w, json={"batch": [cart]}).json()["accepted"] == 1
    ident = {
        "userId": "U42",
        "anonymousId": "dev-42",
        "messageId": "m2",
        "traits": {"email": EMAIL, "phone": PHONE, "firstName": "Zebulon", "lastName": "Quuxley"},
    }
    assert c.post("/v1/identify", auth=w, json=ident).json()["accepted"] == 1


def _api_entries(db: Path) -> list[tuple[str, str, str, str | None, str | None]]:
    with DuckDBStore.open(db) as store:
        rows = audit.entries(store).sort_values("logged_at")
    rows = rows.astype(object).where(rows.notna(), None)
    return [
        (r.actor, r.channel, r.action, r.customer_id, r.detail)
        for r in rows.itertuples()
        if r.channel == "api"
    ]


def test_api_reads_and_changes_of_personal_data_are_audited_with_the_key_name(tmp_path: Path) -> None:
    db = tmp_path / "svc.duckdb"
    with DuckDBStore.open(db) as store:
        install_templates(store, ["Cart abandoners"])
        write = keystore.create_key(store, "write", "web tag")[1]
        read = _bearer(keystore.create_key(store, "read", "crm reader")[1])
        admin = _bearer(keystore.create_key(store, "admin", "dpo desk")[1])
    with TestClient(create_app(db, Settings(db=db, service={"expiry_check_seconds": 3600}))) as c:
        _seed(c, write)
        assert _api_entries(db) == []  # tracking is not a read; nothing logged yet
        assert c.get("/v1/customers/dev-42", headers=read).json()["customer_id"] == "U42"
        assert c.get("/v1/customers/nobody", headers=read).status_code == 404  # nothing read: no entry
        assert c.get("/v1/customers/U42", headers=admin).json()["profile"]["email"] == EMAIL.lower()
        r = c.post("/v1/customers/U42/consents", headers=admin, json={"purpose": "email", "granted": True})
        assert r.status_code == 200
        members = c.get("/v1/segments/Cart abandoners/members", headers=read).json()
        assert members["total"] == 1
        # before any build the library has no traits to decide from: 404 with the hint, nothing
        # was read, nothing is logged (with a build they are logged: test_api_personalize.py)
        for path in ("next-best-action", "recommendations"):
            r = c.get(f"/v1/customers/U42/{path}", headers=read)
            assert r.status_code == 404 and "personae build" in r.json()["hint"]
        # committed before the answer: visible on the service's own read connection at once
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        with runtime._read_lock:
            live = audit.entries(runtime.reader)
        assert len(live[live.channel == "api"]) == 4
    assert _api_entries(db) == [
        ("api:crm reader", "api", "read profile", "U42", "without personal data"),
        ("api:dpo desk", "api", "read profile", "U42", "with personal data"),
        ("api:dpo desk", "api", "change consent", "U42", "email=granted"),
        ("api:crm reader", "api", "list members", None, "segment Cart abandoners: 1 of 1 members"),
    ]


def _file_bytes(db: Path) -> bytes:
    wal = Path(str(db) + ".wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_admin_exports_then_erases_a_person_while_the_server_runs(env: dict[str, Any], settled: Any) -> None:
    c, keys, db = env["client"], env["keys"], env["db"]
    read, admin = _bearer(keys["read"]), _bearer(keys["admin"])
    _seed(c, keys["write"])
    runtime = env["app"].state.runtime
    runtime.run_on_writer(lambda: runtime.store.raw.execute("CHECKPOINT"))
    assert b"zed.quux@example.org" in _file_bytes(db).lower()  # the search below can fail

    # access: admin only, everything held, audited
    assert c.get("/v1/customers/U42/export", headers=read).status_code == 403
    report = c.get(f"/v1/customers/{EMAIL}/export", headers=admin).json()
    assert report["customer_id"] == "U42"
    assert "email:zed.quux@example.org" in report["identifiers"]
    assert report["data"]["customers"][0]["first_name"] == "Zebulon"
    assert len(report["data"]["events"]) == 2  # the anonymous cart add and the identify
    # erasure: admin only
    assert c.delete("/v1/customers/U42", headers=read, params={"reason": "x"}).status_code == 403
    assert c.delete("/v1/customers/nobody", headers=admin).status_code == 404
    # tracking sent while the file is rewritten waits in the queue and is committed afterwards
    w = (keys["write"], "")
    during: list[int] = []

    def track_meanwhile() -> None:
        for i in range(10):
            msg = {"userId": f"V{i}", "event": "Page Viewed", "messageId": f"v{i}"}
            during.append(c.post("/v1/track", auth=w, json=msg).json()["accepted"])

    sender = threading.Thread(target=track_meanwhile)
    sender.start()
    r = c.delete("/v1/customers/U42", headers=admin, params={"reason": "GDPR request #7"})
    sender.join()
    assert r.status_code == 200, r.text
    assert during == [1] * 10
    done = r.json()
    assert done["erased"] is True and done["customer_id"] == "U42"
    assert done["token"].startswith("erased:") and done["tombstones"] >= 3
    assert done["rows"]["customers"] >= 1 and done["rows"]["identity_map"] >= 3
    # gone from the file (rewritten) and from the server's memory
    raw = _file_bytes(db).lower()
    for needle in (b"zed.quux@example.org", b"zebulon", b"quuxley", b"4155550199"):
        assert needle not in raw, needle
    for given in ("U42", "dev-42", EMAIL):
        assert c.get(f"/v1/customers/{given}", headers=admin).status_code == 404, given
    members = c.get("/v1/segments/Cart abandoners/members", headers=read).json()
    assert members["total"] == 0
    # the server still accepts and commits events, and reads see them
    event = {"userId": "U43", "event": "Product Added", "messageId": "n1", "properties": {"product_id": "P2"}}
    assert c.post("/v1/track", auth=(keys["write"], ""), json=event).json()["accepted"] == 1
    assert c.get("/v1/customers/U43", headers=read).json()["customer_id"] == "U43"
    with runtime._read_lock:
        con = settled(runtime)
        assert con.execute("SELECT count(*) FROM events WHERE event_id = 'n1'").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM events WHERE event_id LIKE 'v%'").fetchone() == (10,)
        log = audit.entries(runtime.reader)
    erase = log[log.action == "erase"].iloc[0]
    assert (erase.actor, erase.channel, erase.customer_id, erase.detail) == (
        "api:dpo desk",
        "api",
        done["token"],
        "GDPR request #7",
    )
    assert "U42" not in set(log.customer_id.dropna())  # earlier entries now name the token
    assert (log.action == "access export").sum() == 1


def test_tracking_about_an_erased_person_is_acknowledged_and_not_stored(
    env: dict[str, Any], settled: Any
) -> None:
    """After an erasure, an SDK that still sends the person's events (by userId, email, phone or
    device id, matched by the tombstones as the file loader matches them) gets a 200 — retrying
    would not help — with the messages counted as ``suppressed``; nothing of them is stored:
    not as events, not as rejects (content not kept), not as seen messageIds."""
    c, keys = env["client"], env["keys"]
    admin, w = _bearer(keys["admin"]), (keys["write"], "")
    _seed(c, keys["write"])
    assert c.delete("/v1/customers/U42", headers=admin, params={"reason": "GDPR"}).status_code == 200
    runtime = env["app"].state.runtime

    def counts() -> tuple[int, ...]:
        with runtime._read_lock:
            con = settled(runtime)
            return tuple(
                con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("events", "customers", "orders", "rejects", "tracked_messages", "identity_links")
            )

    before = counts()
    erased = [
        {"type": "track", "userId": "U42", "event": "Product Added", "messageId": "e1"},
        {"type": "track", "anonymousId": "dev-42", "event": "Product Viewed", "messageId": "e2"},
        # a new user id, but the erased person's email (written differently) or phone
        {
            "type": "identify",
            "userId": "U77",
            "messageId": "e3",
            "traits": {"email": " zed.QUUX@example.org"},
        },
        {"type": "identify", "userId": "U78", "messageId": "e4", "traits": {"phone": "(415) 555-0199"}},
        # invalid as well (negative price): not even its reject is kept
        {
            "type": "track",
            "userId": "U42",
            "event": "Order Completed",
            "messageId": "e5",
            "properties": {"order_id": "O9", "products": [{"product_id": "P1", "price": -5}]},
        },
    ]
    erased.append({"type": "alias", "previousId": "U42", "userId": "U79", "messageId": "e6"})
    # refused by the message schema (no event name): its text names them, so not kept either
    erased.append({"type": "track", "userId": "U42", "messageId": "e7", "properties": {"n": 1}})
    other = {"type": "track", "userId": "U50", "event": "Product Added", "messageId": "k1"}
    r = c.post("/v1/batch", auth=w, json={"batch": [*erased, other]})
    assert r.status_code == 200
    assert r.json() == {"success": True, "accepted": 1, "duplicates": 0, "rejected": [], "suppressed": 7}
    after = counts()
    assert after[0] == before[0] + 1  # only U50's event
    assert after[1:] == (before[1], before[2], before[3], before[4] + 1, before[5])
    with runtime._read_lock:
        con = settled(runtime)
        assert (
            con.execute("SELECT message_id FROM tracked_messages WHERE message_id LIKE 'e%'").fetchall() == []
        )
    # nobody came back: not in the profiles, not in a live segment
    for given in ("U42", "dev-42", "U77", "U78", "U79"):
        assert c.get(f"/v1/customers/{given}", headers=admin).status_code == 404, given
    # sent again, still suppressed (a retry is not turned into a duplicate of a stored message)
    again = c.post("/v1/batch", auth=w, json={"batch": erased[:1]}).json()
    assert (again["accepted"], again["duplicates"], again["suppressed"]) == (0, 0, 1)


def test_a_read_key_cannot_test_whether_an_email_is_a_customer(env: dict[str, Any]) -> None:
    """Issue 25.4: a read key never sees email, phone or loyalty id, so it cannot look people up
    by them either. A known person's email and an unknown one answer the same 404 (same status,
    same body but for the value asked), by the same path: the personal identifiers are never
    tried for a read key. The same person by customer id or device id is found; an admin key
    finds them by email too."""
    c, keys = env["client"], env["keys"]
    read, admin = _bearer(keys["read"]), _bearer(keys["admin"])
    _seed(c, keys["write"])
    c.post(
        "/v1/identify",
        auth=(keys["write"], ""),
        json={"userId": "U42", "messageId": "m3", "traits": {"loyaltyId": "LOY-9"}},
    )

    def shape(r: Any, asked: str) -> tuple[int, str]:
        body = r.json()
        assert set(body) == {"code", "message", "hint"}
        return r.status_code, json.dumps(body).replace(asked, "<asked>")

    for route in (
        "/v1/customers/{}",
        "/v1/customers/{}/recommendations",
        "/v1/customers/{}/next-best-action",
    ):
        for known, unknown in (
            (EMAIL, "nobody@example.org"),
            ("zed.quux@example.org", "zed.quuy@example.org"),
            (PHONE, "+1 415 555 0100"),
            ("email:zed.quux@example.org", "email:nobody@example.org"),
            ("phone:+14155550199", "phone:+14155550100"),
            ("LOY-9", "LOY-8"),
            ("loyalty_id:LOY-9", "loyalty_id:LOY-8"),
        ):
            a = c.get(route.format(quote(known, safe="")), headers=read)
            b = c.get(route.format(quote(unknown, safe="")), headers=read)
            assert shape(a, known) == shape(b, unknown), (route, known)
            assert a.status_code == 404, (route, known)
    assert c.get("/v1/customers/U42", headers=read).status_code == 200
    assert c.get("/v1/customers/dev-42", headers=read).json()["customer_id"] == "U42"
    assert c.get("/v1/customers/anonymous_id:dev-42", headers=read).json()["customer_id"] == "U42"
    for given in (EMAIL, PHONE, "LOY-9", "email:zed.quux@example.org"):
        assert c.get(f"/v1/customers/{quote(given, safe='')}", headers=admin).json()["customer_id"] == "U42"
