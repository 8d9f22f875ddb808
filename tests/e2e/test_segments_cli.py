"""``personae segments`` as a user meets it: the real console script and the Typer app in-process.

One small shop is ingested and built (as of 2025-06-30) once per module through the CLI;
tests that change it work on a copy.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.cli import app
from personae.errors import PersonaeError
from personae.store import DuckDBStore

PERSONAE = Path(sys.executable).with_name("personae")

FILES = {
    "products.csv": "product_id,category,brand,tags\nP1,apparel,Nike,team:Lakers\nP2,shoes,Adidas,\n",
    "customers.csv": (
        "customer_id,created_at,birth_date,region,interests\n"
        "A,2023-01-01,1995-07-05,North,outdoor;fitness\nB,2025-06-01,2000-06-01,South,\n"
        "C,2022-01-01,1990-01-01,North,outdoor\nD,2024-01-01,1995-01-01,West,\n"
    ),
    "orders.csv": (
        "order_id,customer_id,ordered_at,channel,product_id,category,amount\n"
        "O1,A,2025-06-20,web,P2,shoes,80\nO2,A,2025-05-10,web,P2,shoes,50\nO3,A,2025-04-01,web,P2,shoes,30\n"
        "O4,B,2025-06-29,web,P2,shoes,90\nO5,C,2025-02-15,store,P1,apparel,80\nO6,C,2025-03-15,web,P1,apparel,80\n"
        "O7,C,2025-05-01,web,P1,apparel,80\nO8,A,2025-07-03,store,P2,shoes,80\n"
    ),
    "events.csv": (
        "event_id,customer_id,occurred_at,type,category\n"
        "E1,D,2025-06-26,add_to_cart,shoes\nE2,B,2025-06-28,add_to_cart,shoes\nE3,C,2025-07-02,add_to_cart,shoes\n"
    ),
    "consents.csv": "customer_id,purpose,granted,recorded_at\nA,email,true,2024-01-01\n",
}
SEGMENTS_YAML = """
segments:
  - name: Cart abandoners
    rule: events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0
    description: Added to cart in the last week, no order since.
  - name: Web-only shoppers
    rule: orders(channel="web", within="365d") >= 1 and orders(channel="store", within="365d") == 0
  - name: Outdoor North
    rule: '"outdoor" in interests and in_segment("North")'
  - name: North
    rule: region == "North"
"""


def invoke(*args: str) -> tuple[int, str]:
    """Run in-process: ``(exit code, stdout)``; a personae error gives its exit code and message."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, PersonaeError):
        return result.exception.exit_code, str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PERSONAE), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("segshop")
    db = folder / "shop.duckdb"
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    for kind in ("products", "customers", "orders", "events", "consents"):
        code, out = invoke("--db", str(db), "ingest", kind, str(folder / f"{kind}.csv"))
        assert code == 0, out
    (folder / "segments.yaml").write_text(SEGMENTS_YAML, encoding="utf-8")
    code, out = invoke("--db", str(db), "segments", "add", "--file", str(folder / "segments.yaml"), "--json")
    assert code == 0, out
    code, out = invoke("--db", str(db), "-q", "build", "--as-of", "2025-06-30", "--json")
    assert code == 0, out
    return db


@pytest.fixture
def db(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(built, copy)
    return copy


def test_bad_rule_exits_2_with_the_position_and_a_suggestion(db: Path) -> None:
    proc = run(
        "--db", str(db), "segments", "add", "--name", "x", "--rule", "frequency > 1 and recncy_days <= 30"
    )
    assert proc.returncode == 2
    lines = proc.stderr.rstrip("\n").splitlines()
    assert lines[0].startswith("error: segment 'x': unknown trait or attribute `recncy_days` (column 19)")
    assert "did you mean `recency_days`" in lines[0]
    assert lines[1:] == ["  frequency > 1 and recncy_days <= 30", "                    ^"]
    assert "Traceback" not in proc.stderr
    _, out = invoke("--db", str(db), "segments", "list", "--json")
    assert "x" not in {s["name"] for s in json.loads(out)}  # nothing stored


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('events(within="7h") > 1', "unknown window unit `h`"),
        (
            'orders(categroy="shoes") > 0',
            "unknown filter `categroy` for orders() (column 8) (did you mean `category`?)",
        ),
        ('age == "old"', 'cannot compare `age` (a number) with "old" (a string)'),
        ("(" * 30 + "true" + ")" * 30, "nests deeper than 25 levels"),
        ("a == 1 or " * 500 + "true", "the limit is 4,000"),
    ],
)
def test_other_bad_rules(db: Path, rule: str, message: str) -> None:
    proc = run("--db", str(db), "segments", "check", rule)
    assert proc.returncode == 2 and message in proc.stderr.splitlines()[0]


def test_injection_is_just_a_value(db: Path) -> None:
    with DuckDBStore.open(db) as store:
        before = store.count("orders")
    evil = "x'; DROP TABLE orders; --"
    code, out = invoke(
        "--db",
        str(db),
        "segments",
        "add",
        "--name",
        "evil",
        "--rule",
        f'region == "{evil}"',
        "--description",
        evil,
        "--json",
    )
    assert code == 0 and json.loads(out)[0]["members_now"] == 0
    code, _ = invoke("--db", str(db), "-q", "build", "--as-of", "2025-06-30")
    assert code == 0
    code, out = invoke("--db", str(db), "segments", "members", "evil", "--format", "json")
    assert code == 0 and json.loads(out) == []
    with DuckDBStore.open(db) as store:
        assert store.count("orders") == before


def test_definitions_list_show_edit_remove(db: Path) -> None:
    code, out = invoke("--db", str(db), "segments", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["Cart abandoners"]["members"] == 1 and rows["Champions"]["builtin"]
    assert rows["lifecycle:new"]["rule"] == 'lifecycle_stage == "new"'
    code, out = invoke(
        "--db",
        str(db),
        "segments",
        "add",
        "--name",
        "North",
        "--rule",
        'region in ["North"]',
        "--description",
        "northerners",
    )
    assert code == 0 and "updated segment North (version 2)" in out
    code, out = invoke("--db", str(db), "segments", "show", "North", "--json")
    data = json.loads(out)
    assert data["version"] == 2 and [v["rule"] for v in data["versions"]] == [
        'region == "North"',
        'region in ["North"]',
    ]
    assert data["history"] == [{"as_of": "2025-06-30", "version": 1, "members": 2, "entered": 0, "exited": 0}]
    code, message = invoke("--db", str(db), "segments", "remove", "North")
    assert code == 2 and "used by Outdoor North" in message
    assert invoke("--db", str(db), "segments", "remove", "Outdoor North")[0] == 0
    assert invoke("--db", str(db), "segments", "remove", "North")[0] == 0
    code, out = invoke("--db", str(db), "segments", "list", "--json")
    assert "North" not in {r["name"] for r in json.loads(out)}
    code, out = invoke("--db", str(db), "segments", "list")
    assert code == 0 and "Cart abandoners" in out


def test_members_in_csv_and_json(db: Path) -> None:
    code, out = invoke("--db", str(db), "segments", "members", "Web-only shoppers", "--format", "json")
    assert code == 0 and json.loads(out) == [{"customer_id": "A"}, {"customer_id": "B"}]
    code, out = invoke("--db", str(db), "segments", "members", "Web-only shoppers")
    assert out.splitlines() == ['"customer_id"', '"A"', '"B"']
    code, out = invoke("--db", str(db), "segments", "members", "Champions", "--format", "json")
    assert code == 0 and isinstance(json.loads(out), list)


def test_unknown_segment_is_exit_3_with_a_suggestion(db: Path) -> None:
    proc = run("--db", str(db), "segments", "members", "Cart abandoner")
    assert proc.returncode == 3 and "did you mean 'Cart abandoners'" in proc.stderr


def test_history_overlap_and_migration_across_two_builds(db: Path, tmp_path: Path) -> None:
    assert invoke("--db", str(db), "-q", "build", "--as-of", "2025-07-05")[0] == 0
    code, out = invoke("--db", str(db), "segments", "changes", "Cart abandoners", "--json")
    assert {(c["customer_id"], c["change"], c["as_of"]) for c in json.loads(out)} == {
        ("D", "exited", "2025-07-05"),
        ("C", "entered", "2025-07-05"),
    }
    code, out = invoke(
        "--db", str(db), "segments", "members", "Cart abandoners", "--as-of", "2025-06-30", "--format", "json"
    )
    assert json.loads(out) == [{"customer_id": "D"}]
    code, out = invoke(
        "--db", str(db), "segments", "overlap", "--segments", "Web-only shoppers,North", "--json"
    )
    data = json.loads(out)
    assert data["matrix"]["Web-only shoppers"]["North"] == 0  # A left web-only on 3 July; C never was
    assert data["pairs"][0]["jaccard"] == 0.0
    plot = tmp_path / "moves.png"
    code, out = invoke(
        "--db",
        str(db),
        "segments",
        "migration",
        "--from",
        "2025-06-30",
        "--to",
        "2025-07-05",
        "--kind",
        "lifecycle",
        "--json",
        "--plot",
        str(plot),
    )
    data = json.loads(out)
    assert code == 0 and data["kind"] == "lifecycle" and sum(f["customers"] for f in data["flows"]) == 4
    assert plot.read_bytes()[:4] == b"\x89PNG"
    flow = tmp_path / "moves.svg"
    code, _ = invoke(
        "--db", str(db), "segments", "migration", "--from", "2025-06-30", "--to", "2025-07-05",
        "--kind", "lifecycle", "--plot", str(flow),
    )  # fmt: skip
    texts = {html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", flow.read_text())}
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for f in data["flows"]:
        starts[f["from"]] += f["customers"]
        ends[f["to"]] += f["customers"]
    # the flow plot names every stage on each side with the customers leaving / arriving
    assert code == 0 and {f"{s} ({n:,})" for s, n in [*starts.items(), *ends.items()]} <= texts
    code, out = invoke("--db", str(db), "segments", "migration", "--from", "2025-06-30", "--to", "2025-07-05")
    assert code == 0 and "stayed" in out
    code, out = invoke("--db", str(db), "segments", "overlap")
    assert code == 0 and "Jaccard" in out


def test_templates_names_and_check(db: Path) -> None:
    code, out = invoke("--db", str(db), "segments", "templates", "--json")
    templates = json.loads(out)
    assert {t["approach"] for t in templates} >= {
        "behavioural",
        "geographic",
        "demographic",
        "psychographic",
        "value",
    }
    code, out = invoke("--db", str(db), "segments", "templates", "--install", "Lakers fans", "--json")
    assert json.loads(out) == [{"name": "Lakers fans", "version": 1, "action": "created"}]
    code, out = invoke("--db", str(db), "segments", "templates", "--all")
    assert code == 0 and "created segment High value at risk" in out
    code, out = invoke("--db", str(db), "segments", "names", "--json")
    names = {n["name"]: n for n in json.loads(out)}
    assert names["recency_days"]["type"] == "number" and names["events"]["kind"] == "function"
    code, out = invoke(
        "--db", str(db), "segments", "check", 'in_segment("Champions") or orders(within="7d") > 0', "--json"
    )
    data = json.loads(out)
    assert data["valid"] and data["segments_used"] == ["Champions"] and data["members_now"] == 1  # B
    assert data["function_calls"] == ['orders(within="7d")']
