"""Erasure reaches other people's text: B's event properties, extra columns, survey comment and
a rejected line of B's all mention A (email in another case, phone in other punctuation, loyalty
id, name). After ``personae customers erase A`` no spelling of A is left in any file of the
database folder (the .duckdb, its WAL, the service journal), B's data is otherwise intact and the
audit says an erasure happened without saying whose data it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.cli import app
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore

A_EMAIL = "Zebulon.Quackenbush@Example.net"
A_PHONE = "+1 (907) 555-0147"
A_LOYALTY = "LY-8841207"
A_FIRST, A_LAST = "Zebulon", "Quackenbush"
#: every spelling of A the files below use, and those a grep must not find afterwards
SPELLINGS = (
    A_EMAIL,
    A_EMAIL.lower(),
    "907.555.0147",
    "9075550147",
    "907-555-0147",
    "(907) 555-0147",
    "+19075550147",
    A_LOYALTY,
    f"{A_FIRST} {A_LAST}",
    f"{A_LAST}, {A_FIRST}",
    A_LAST,
)

CUSTOMERS = (
    "customer_id,email,phone,loyalty_id,first_name,last_name,created_at,region\n"
    f"ZA1,{A_EMAIL},{A_PHONE},{A_LOYALTY},{A_FIRST},{A_LAST},2024-01-05,North\n"
    "ZB1,bea.other@example.com,+1 (206) 555-0111,LY-1000001,Beatrix,Otherton,2024-01-06,North\n"
)
# B's events: A in the JSON properties (email in upper case, phone as dots, and as a JSON
# number), and in a column the schema does not know (kept in properties_extra); the third line
# has a bad date: rejected, its raw line kept — with A's phone in it.
EVENTS = (
    "event_id,customer_id,occurred_at,type,channel,category,properties,referrer_note\n"
    f'ZE1,ZB1,2026-06-01,page_view,web,shoes,"{{""friend"": ""{A_EMAIL.upper()}"", '
    f'""friend_phone"": ""907.555.0147"", ""tel"": 9075550147, ""page"": ""home""}}",'
    f"referred by {A_FIRST} {A_LAST} (card {A_LOYALTY})\n"
    'ZE2,ZB1,2026-06-02,add_to_cart,web,shoes,"{""items"": 2}",plain note\n'
    f'ZE3,ZB1,not-a-date,page_view,web,shoes,"{{""call"": ""907-555-0147""}}",x\n'
)
SURVEYS = (
    "response_id,customer_id,answered_at,kind,score,scale_max,comment,touchpoint\n"
    f'ZS1,ZB1,2026-06-03,nps,9,10,"My friend {A_LAST}, {A_FIRST} ({A_EMAIL.lower()}, '
    f'(907) 555-0147) told me about you. Great shoes.",store\n'
)


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("mentions-data")
    files = generate_dataset(120, seed=5, out_dir=data / "gen")
    for name, text in (("customers", CUSTOMERS), ("events", EVENTS), ("surveys", SURVEYS)):
        (data / f"z_{name}.csv").write_text(text)
    db = tmp_path_factory.mktemp("mentions-db") / "shop.duckdb"
    with DuckDBStore.open(db) as store:
        for kind in ("products", "stores", "customers", "orders", "events", "surveys"):
            ingest_file(store, kind, files[kind])
            path = data / f"z_{kind}.csv"
            if path.exists():
                ingest_file(store, kind, path)
        run_build(store, as_of=date(2026, 6, 30), quiet=True)
    return db


@pytest.fixture
def shop(_built: Path, tmp_path: Path) -> Path:
    """A copy of the built shop alone in its folder (the folder is what is searched)."""
    folder = tmp_path / "db"
    folder.mkdir()
    target = folder / "shop.duckdb"
    target.write_bytes(_built.read_bytes())
    return target


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of the database folder (the database, its WAL, the journal, anything else)."""
    return {p.name: p.read_bytes().lower() for p in sorted(folder.rglob("*")) if p.is_file()}


def where(folder: Path, spelling: str) -> list[str]:
    needle = spelling.lower().encode()
    return [name for name, data in folder_bytes(folder).items() if needle in data]


def q(db: Path, sql: str) -> list[tuple[object, ...]]:
    with DuckDBStore.open(db) as store:
        return [tuple(r) for r in store.raw.execute(sql).fetchall()]


@pytest.fixture
def cli(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.delenv("PERSONAE_CONFIG_FILE", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["--db", str(shop), *args])


def test_b_mentions_a_everywhere_before(shop: Path) -> None:
    ((props, extra),) = q(shop, "SELECT properties, properties_extra FROM events WHERE event_id = 'ZE1'")
    assert A_EMAIL.upper() in props and A_LAST in extra
    assert q(shop, "SELECT count(*) FROM rejects WHERE raw LIKE '%907-555-0147%'") == [(1,)]
    assert A_EMAIL.lower() in q(shop, "SELECT comment FROM surveys WHERE response_id = 'ZS1'")[0][0]
    with DuckDBStore.open(shop) as store:
        store.raw.execute("CHECKPOINT")
    assert where(shop.parent, A_LAST)  # the search below can find what is there


def test_erasing_a_masks_every_mention_in_others_data(shop: Path, cli: Callable[..., object]) -> None:
    b_before = q(shop, "SELECT count(*), sum(length(properties)) FROM events WHERE customer_id = 'ZB1'")
    r = cli("customers", "erase", A_EMAIL.lower(), "--reason", f"request from {A_EMAIL}", "--yes", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["rows"]["customers"] == 1
    assert result["masked"]["events"] >= 2 and result["masked"]["surveys"] >= 1
    assert result["masked"]["rejects"] >= 1

    # no spelling of A in any file of the folder
    for spelling in SPELLINGS:
        assert where(shop.parent, spelling) == [], spelling

    # B is intact: the same events, the JSON still JSON with its other keys, the score kept
    assert q(shop, "SELECT count(*) FROM events WHERE customer_id = 'ZB1'")[0][0] == b_before[0][0]
    ((props, extra),) = q(shop, "SELECT properties, properties_extra FROM events WHERE event_id = 'ZE1'")
    doc = json.loads(props)
    assert doc == {"friend": "[erased]", "friend_phone": "[erased]", "tel": None, "page": "home"}
    assert "[erased]" in json.loads(extra)["referrer_note"] and "referred by" in extra
    assert q(shop, "SELECT properties FROM events WHERE event_id = 'ZE2'") == [('{"items": 2}',)]
    ((comment, score),) = q(shop, "SELECT comment, score FROM surveys WHERE response_id = 'ZS1'")
    assert comment.endswith("told me about you. Great shoes.") and score == 9
    assert "[erased]" in comment
    ((raw, reason),) = q(shop, "SELECT raw, reason FROM rejects WHERE raw LIKE 'ZE3,%'")
    assert "[erased]" in raw and "not-a-date" in raw and "907" not in reason
    assert q(shop, "SELECT count(*) FROM customers WHERE customer_id = 'ZB1'") == [(1,)]

    # the audit names the erasure, not the person
    r = cli("audit", "--json")
    entries = [e for e in json.loads(r.stdout) if e["action"] == "erase"]
    assert len(entries) == 1 and entries[0]["customer_id"] == result["token"]
    assert entries[0]["detail"] == "request from [erased]"


def test_a_rebuild_after_the_erasure_reads_the_masked_json(shop: Path, cli: Callable[..., object]) -> None:
    assert cli("customers", "erase", "ZA1", "--yes").exit_code == 0
    r = cli("build", "--as-of", "2026-06-30")
    assert r.exit_code == 0, r.output
    assert q(shop, "SELECT count(*) FROM traits WHERE customer_id = 'ZB1'") == [(1,)]
