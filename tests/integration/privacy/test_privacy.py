"""Erasure, access, audit, retention and pseudonymised exports on a real DuckDB file.

A small generated shop is ingested (plus a rejected line holding the person's data), built,
and then one person — with a second profile merged into theirs — is erased. The database file
is searched byte by byte afterwards.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from personae.app import audit
from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.app.privacy import (
    access_report,
    apply_retention,
    erase_customer,
    find_subject,
    pseudonymise,
    pseudonymised_traits,
)
from personae.cli import app
from personae.devtools.generate import generate_dataset
from personae.errors import InputError, NotFoundError
from personae.store import DuckDBStore, Store

KINDS = ("products", "stores", "customers", "orders", "events", "surveys", "consents")
ACTOR = "test:privacy"
# A person with a second profile (a different customer id, the same email in other case and
# a phone in another format), and a line of theirs that is rejected (bad date) — so their data
# sits in customers, identity tables, orders, events, traits, segments and rejects.
JANE = {
    "email": "jane.quinton-erasure@example.org",
    "phone": "+1 (555) 010-7788",
    "first": "Janequa",
    "last": "Quintonova",
}
# Her home's coordinates are personal data too: in customers, and as her place traits.
HOME = (51.4321987, -0.9876543)
EXTRA_CUSTOMERS = (
    "customer_id,email,phone,first_name,last_name,created_at,region,latitude,longitude\n"
    f"JQ1,{JANE['email']},{JANE['phone']},{JANE['first']},{JANE['last']},2024-01-05,North,{HOME[0]},{HOME[1]}\n"
    f"JQ2,{JANE['email'].upper()},555.010.7788,{JANE['first']},{JANE['last']},2024-02-01,North,{HOME[0]},{HOME[1]}\n"
    f"JQ3,{JANE['email']},,{JANE['first']},{JANE['last']},not-a-date,North,,\n"
)
EXTRA_ORDERS = (
    "order_id,customer_id,ordered_at,channel,category,amount\n"
    "JQO1,JQ1,2025-03-01,web,shoes,120.0\n"
    "JQO2,JQ2,2025-05-20,store,baby,80.5\n"
    "JQO3,JQ1,2026-05-02,app,shoes,60.0\n"
)
EXTRA_EVENTS = (
    "event_id,customer_id,anonymous_id,occurred_at,type,channel,category,text\n"
    "JQE1,,anon-jq-77,2026-06-01,product_view,web,shoes,\n"
    "JQE2,JQ1,anon-jq-77,2026-06-02,add_to_cart,web,shoes,\n"
    "JQE3,JQ1,,2026-06-03,review,web,shoes,The delivery was late but the staff were kind and helpful\n"
)
SECRETS = (JANE["email"], JANE["email"].upper(), "+15550107788", "555.010.7788", JANE["first"], JANE["last"])


@pytest.fixture(scope="module")
def _shop_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("privacy")
    files = generate_dataset(300, seed=11, out_dir=folder / "data")
    (folder / "jane_customers.csv").write_text(EXTRA_CUSTOMERS)
    (folder / "jane_orders.csv").write_text(EXTRA_ORDERS)
    (folder / "jane_events.csv").write_text(EXTRA_EVENTS)
    path = folder / "shop.duckdb"
    with DuckDBStore.open(path) as store:
        for kind in KINDS:
            ingest_file(store, kind, files[kind])
        ingest_file(store, "customers", folder / "jane_customers.csv")
        ingest_file(store, "orders", folder / "jane_orders.csv")
        ingest_file(store, "events", folder / "jane_events.csv")
        run_build(store, as_of=date(2026, 6, 30), quiet=True)
    return path


@pytest.fixture
def shop(_shop_file: Path, tmp_path: Path) -> Iterator[Store]:
    """A fresh copy of the built shop, with the jane files next to it."""
    target = tmp_path / "shop.duckdb"
    shutil.copy(_shop_file, target)
    for name in ("jane_customers.csv", "jane_orders.csv", "jane_events.csv"):
        shutil.copy(_shop_file.parent / name, tmp_path / name)
    store = DuckDBStore.open(target)
    try:
        yield store
    finally:
        store.close()


def file_bytes(store: Store) -> bytes:
    store.raw.execute("CHECKPOINT")
    data = Path(store.path).read_bytes()
    wal = Path(store.path + ".wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def found(data: bytes, text: str) -> bool:
    low = data.lower()
    return text.lower().encode() in low or text.lower().encode("utf-16-le") in low


def scalar(store: Store, sql: str) -> object:
    return store.raw.execute(sql).fetchone()[0]


def test_the_person_is_findable_before(shop: Store) -> None:
    subject = find_subject(shop, JANE["email"])
    assert subject.customer_id == "JQ1"  # the smallest id survives the merge
    assert {"JQ1", "JQ2"} <= subject.source_ids
    assert "anonymous_id:anon-jq-77" in subject.identifiers
    data = file_bytes(shop)
    assert found(data, JANE["email"]) and found(data, JANE["last"])
    assert scalar(shop, "SELECT count(*) FROM rejects WHERE raw LIKE '%Quintonova%'") == 1
    assert scalar(shop, "SELECT count(*) FROM traits WHERE customer_id = 'JQ1'") == 1
    assert (
        scalar(shop, f"SELECT location_source FROM traits WHERE location_latitude = {HOME[0]}")
        == "coordinates"
    )


def test_erasure_leaves_no_byte_of_the_person(shop: Store) -> None:
    customers = scalar(shop, "SELECT count(*) FROM customers")
    revenue = scalar(shop, "SELECT sum(amount) FROM orders")
    order_count = scalar(shop, "SELECT count(*) FROM orders")
    others = scalar(shop, "SELECT count(*) FROM traits")
    # a webhook about them that was never delivered: the payload names them, no column does
    shop.raw.execute(
        "INSERT INTO webhook_dead_letters (message_id, url, payload, attempts) VALUES "
        f"""('m1', 'http://crm', '{{"customer_id": "JQ2", "email": "{JANE["email"]}"}}', 5), """
        """('m2', 'http://crm', '{"customer_id": "SOMEONE-ELSE"}', 5)"""
    )
    # their review has its themes, each with a sentiment, in voice_text_themes
    mine = "customer_id IN ('JQ1', 'JQ2', 'customer_id:JQ1')"
    assert scalar(shop, f"SELECT count(*) FROM voice_text_themes WHERE {mine}") >= 1
    subject = find_subject(shop, "JQ2")  # any of their ids works
    result = erase_customer(shop, subject, reason="customer request #42", actor=ACTOR)
    assert scalar(shop, "SELECT string_agg(message_id) FROM webhook_dead_letters") == "m2"

    data = file_bytes(shop)
    for text in SECRETS:
        assert not found(data, text), f"{text!r} is still in the database file"
    assert not found(data, "anon-jq-77")
    # only the person left: two profiles; the rejected line (JQ3, never one of their ids) is
    # kept with their email and name masked
    assert scalar(shop, "SELECT count(*) FROM customers") == customers - 2
    assert result["rows"]["customers"] == 2 and "rejects" not in result["rows"]
    assert result["masked"]["rejects"] == 1
    assert scalar(shop, "SELECT count(*) FROM rejects WHERE raw LIKE 'JQ3,[erased]%'") == 1
    # orders stay as anonymous revenue under the token, with nothing pointing back
    assert scalar(shop, "SELECT sum(amount) FROM orders") == pytest.approx(revenue)
    assert scalar(shop, "SELECT count(*) FROM orders") == order_count
    token = result["token"]
    assert token.startswith("erased:")
    assert scalar(shop, f"SELECT count(*) FROM orders WHERE customer_id = '{token}'") == 3
    for table, column in (
        ("traits", "customer_id"),
        ("identity_map", "customer_id"),
        ("segment_snapshots", "customer_id"),
        ("affinities", "customer_id"),
        ("events", "_identity"),
        ("voice_text_themes", "customer_id"),
    ):
        n = scalar(shop, f"SELECT count(*) FROM {table} WHERE {column} IN ('JQ1', 'JQ2', 'customer_id:JQ1')")
        assert n == 0, table
    assert scalar(shop, "SELECT count(*) FROM traits") == others - 1
    # no row anywhere keeps her home: not the profiles, not the place traits, not as text
    assert scalar(shop, f"SELECT count(*) FROM customers WHERE latitude = {HOME[0]}") == 0
    assert scalar(shop, f"SELECT count(*) FROM traits WHERE location_latitude = {HOME[0]}") == 0
    assert not found(data, str(HOME[0])) and not found(data, str(HOME[1]))
    # the audit log says an erasure happened, under the token
    log = audit.entries(shop)
    assert (log.action == "erase").sum() == 1 and set(log.customer_id.dropna()) <= {token}
    # and the store still works: a rebuild gives no row for the token
    run_build(shop, as_of=date(2026, 6, 30), quiet=True)
    assert scalar(shop, "SELECT count(*) FROM traits") == others - 1
    assert scalar(shop, "SELECT count(*) FROM traits WHERE customer_id LIKE 'erased:%'") == 0


def test_a_tombstone_stops_an_old_file_recreating_the_person(shop: Store) -> None:
    erase_customer(shop, find_subject(shop, "JQ1"), reason=None, actor=ACTOR)
    folder = Path(shop.path).parent
    summary = ingest_file(shop, "customers", folder / "jane_customers.csv")
    assert summary.accepted == 0 and summary.rejected == 3
    orders = ingest_file(shop, "orders", folder / "jane_orders.csv")
    assert orders.accepted == 0 and orders.rejected == 3
    # a new file with their rows and someone else's: the others get in, theirs are rejected
    # with a reason and without their content
    fresh = folder / "new_customers.csv"
    fresh.write_text(EXTRA_CUSTOMERS + "NEW1,new.person@example.org,,Newt,Person,2026-01-01,South,,\n")
    summary = ingest_file(shop, "customers", fresh)
    assert summary.accepted == 1 and summary.rejected == 3
    reasons = shop.raw.execute(
        "SELECT reason, raw FROM rejects WHERE reason LIKE '%erased person%'"
    ).fetchall()
    assert len(reasons) == 3 and all(raw == "" for _, raw in reasons)
    with pytest.raises(NotFoundError):
        find_subject(shop, JANE["email"])
    assert not found(file_bytes(shop), JANE["email"])


def test_tombstones_can_be_turned_off(shop: Store) -> None:
    erase_customer(shop, find_subject(shop, "JQ1"), reason=None, actor=ACTOR, tombstones=False)
    summary = ingest_file(shop, "customers", Path(shop.path).parent / "jane_customers.csv", tombstones=False)
    assert summary.accepted == 2


def test_erasure_is_all_or_nothing(shop: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import personae.app.privacy as rights

    before = {
        t: scalar(shop, f"SELECT count(*) FROM {t}") for t in ("customers", "orders", "traits", "rejects")
    }
    calls = {"n": 0}
    real = rights.delete_matching

    def failing(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rights, "delete_matching", failing)
    with pytest.raises(RuntimeError):
        erase_customer(shop, find_subject(shop, "JQ1"), reason=None, actor=ACTOR)
    after = {t: scalar(shop, f"SELECT count(*) FROM {t}") for t in before}
    assert after == before
    assert scalar(shop, "SELECT count(*) FROM erasures") == 0


def test_access_export_holds_everything_with_reasons(shop: Store) -> None:
    subject = find_subject(shop, JANE["email"])
    report = access_report(shop, subject, actor=ACTOR)
    data = report["data"]
    assert {r["customer_id"] for r in data["customers"]} == {"JQ1", "JQ2"}
    assert {r["order_id"] for r in data["orders"]} == {"JQO1", "JQO2", "JQO3"}
    assert {r["event_id"] for r in data["events"]} == {"JQE1", "JQE2", "JQE3"}
    # what they wrote, and each theme of it with its sentiment
    assert {r["text_id"] for r in data["voice_text_themes"]} == {"JQE3"}
    assert data["traits"][0]["customer_id"] == "JQ1"
    assert "identity_map" in data and "segment_snapshots" in data
    assert report["segments"], "the person is in some segment (at least the built-ins)"
    for seg in report["segments"]:
        assert seg["rule"] and isinstance(seg["because"], dict)
    # a segment's reason names the values its rule read
    assert any(seg["because"] for seg in report["segments"])
    json.dumps(report)  # JSON-ready
    assert (audit.entries(shop, customer_id="JQ1").action == "access export").sum() == 1


def test_pseudonymised_export_is_stable_and_has_no_direct_identifiers(shop: Store) -> None:
    a = pseudonymised_traits(shop, actor=ACTOR)
    b = pseudonymised_traits(shop, actor=ACTOR)
    assert a.column("customer_id").to_pylist() == b.column("customer_id").to_pylist()
    ids = set(shop.raw.execute("SELECT customer_id FROM traits").to_arrow_table().column(0).to_pylist())
    assert not ids & set(a.column("customer_id").to_pylist())
    for col in ("email", "phone", "first_name", "last_name", "birth_date"):
        assert col not in a.column_names
    assert "birth_year" in a.column_names
    text = a.to_pandas().to_csv()
    assert JANE["email"] not in text and JANE["last"] not in text


def test_pseudonyms_differ_between_databases() -> None:
    t = pa.table({"customer_id": ["C1", "C2", None], "email": ["a@x", "b@x", None]})
    one, two = pseudonymise(t, "secret-one"), pseudonymise(t, "secret-two")
    assert one.column("customer_id").to_pylist()[:2] != two.column("customer_id").to_pylist()[:2]
    assert one.column("customer_id").to_pylist()[2] is None
    assert one.column_names == ["customer_id"]


def test_retention_purges_old_raw_events_and_keeps_traits(shop: Store) -> None:
    traits = scalar(shop, "SELECT count(*) FROM traits")
    total = scalar(shop, "SELECT count(*) FROM events")
    old = scalar(shop, "SELECT count(*) FROM events WHERE occurred_at < TIMESTAMP '2026-03-02'")
    assert 0 < old < total
    dry = apply_retention(shop, 120, today=date(2026, 6, 30), actor=ACTOR, dry_run=True)
    assert dry["events_purged"] == old and scalar(shop, "SELECT count(*) FROM events") == total
    done = apply_retention(shop, 120, today=date(2026, 6, 30), actor=ACTOR)
    assert done["events_purged"] == old
    assert scalar(shop, "SELECT count(*) FROM events") == total - old
    assert scalar(shop, "SELECT min(occurred_at)::DATE FROM events") >= date(2026, 3, 2)
    assert scalar(shop, "SELECT count(*) FROM traits") == traits


@pytest.fixture
def cli(shop: Store, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    path = shop.path
    shop.close()  # the CLI opens the file itself
    monkeypatch.delenv("PERSONAE_CONFIG_FILE", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--db", path, *args])

    return invoke


def test_cli_erase_export_and_audit(cli: Callable[..., object], tmp_path: Path) -> None:
    out = tmp_path / "jane.json"
    r = cli("customers", "export", JANE["email"], "--out", str(out))
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["customer_id"] == "JQ1"
    r = cli("customers", "show", "JQ1", "--json")
    assert r.exit_code == 0, r.output
    r = cli("audit", "--customer", "JQ1", "--json")
    assert [e["action"] for e in json.loads(r.stdout)] == ["read profile", "access export"]
    r = cli("customers", "erase", "JQ1", "--reason", "request", "--yes", "--json")
    assert r.exit_code == 0, r.output
    token = json.loads(r.stdout)["token"]
    r = cli("audit", "--json")
    entries = json.loads(r.stdout)
    assert entries[0]["action"] == "erase" and {e["customer_id"] for e in entries if e["customer_id"]} == {
        token
    }
    # (in-process, the app raises; `personae` turns it into a one-line error and exit code)
    r = cli("customers", "show", "JQ1")
    assert isinstance(r.exception, NotFoundError)
    r = cli("customers", "erase", "nobody-here", "--yes")
    assert isinstance(r.exception, NotFoundError)


def test_cli_refuses_erasure_without_confirmation(cli: Callable[..., object]) -> None:
    r = CliRunner().invoke(app, ["customers", "erase", "JQ1"], input="n\n")
    assert r.exit_code != 0


def test_cli_retention_needs_a_period(cli: Callable[..., object]) -> None:
    r = cli("retention")
    assert isinstance(r.exception, InputError) and "retention" in str(r.exception)
    r = cli("retention", "--days", "120", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["dry_run"] is True
