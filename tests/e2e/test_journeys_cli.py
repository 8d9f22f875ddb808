"""``personae journey`` through the real console script, on a hand-made shop whose funnel is known.

Shop (as of 2025-06-30; everyone consents to analytics except D):

* A: product_view 1 June 10:00 → add_to_cart 10:05 → order 10:20 (web, 80)
* B: product_view 2 June → add_to_cart 2 June → no order
* C: product_view 3 June, nothing else; an order on 20 June (store, 50)
* D: product_view → add_to_cart → order, but refused analytics: never counted
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PERSONAE = Path(sys.executable).with_name("personae")

FILES = {
    "customers.csv": "customer_id,created_at\nA,2024-01-01\nB,2024-01-01\nC,2024-01-01\nD,2024-01-01\n",
    "orders.csv": (
        "order_id,customer_id,ordered_at,channel,amount\n"
        "O1,A,2025-06-01T10:20:00,web,80\nO2,C,2025-06-20T12:00:00,store,50\nO3,D,2025-06-01T12:00:00,web,70\n"
    ),
    "events.csv": (
        "event_id,customer_id,occurred_at,type,channel\n"
        "E1,A,2025-06-01T10:00:00,product_view,web\nE2,A,2025-06-01T10:05:00,add_to_cart,web\n"
        "E3,B,2025-06-02T09:00:00,product_view,app\nE4,B,2025-06-02T09:30:00,add_to_cart,app\n"
        "E5,C,2025-06-03T08:00:00,product_view,web\n"
        "E6,D,2025-06-01T11:00:00,product_view,web\nE7,D,2025-06-01T11:10:00,add_to_cart,web\n"
        "E8,B,2025-06-30T08:00:00,support_contact,chat\n"
    ),
    "consents.csv": (
        "customer_id,purpose,granted,recorded_at\nA,analytics,true,2024-01-01\nB,analytics,true,2024-01-01\n"
        "C,analytics,true,2024-01-01\nD,analytics,false,2024-01-01\n"
    ),
}


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journey_cli")
    path = root / "p.duckdb"
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
        assert cli(path, "ingest", name.removesuffix(".csv"), str(root / name)).returncode == 0
    assert cli(path, "build", "--as-of", "2025-06-30").returncode == 0
    return path


def test_funnel_json_is_counted_by_hand(db: Path, tmp_path: Path) -> None:
    chart = tmp_path / "funnel.png"
    out = cli(db, "journey", "funnel", "--steps", "product_view,add_to_cart,order", "--within", "7d",
              "--by", "channel", "--json", "--plot", str(chart))  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [s["customers"] for s in data["steps"]] == [3, 2, 1]  # A B C; A B; A (D refused analytics)
    assert data["steps"][0]["median_time_to_next"] == 0.2917  # A 5 min, B 30 min → 17.5 min
    assert data["steps"][1]["median_time_to_next"] == 0.25  # A: 15 min
    assert data["time_to_convert"]["p50_hours"] == 0.3333  # A: 20 min
    groups = {g["channel"]: [s["customers"] for s in g["steps"]] for g in data["groups"]}
    assert groups == {"app": [1, 1, 0], "web": [2, 1, 1]}
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_lifecycle_funnel_without_steps(db: Path) -> None:
    out = cli(db, "journey", "funnel", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["funnel"] == ["awareness", "consideration", "purchase", "retention", "advocacy"]
    # A and C bought once; B considered (viewed, added to cart in the last 90 days)
    assert [s["customers"] for s in data["steps"]] == [3, 3, 2, 0, 0]


def test_paths_touches_dropoffs(db: Path, tmp_path: Path) -> None:
    out = cli(db, "journey", "paths", "--to", "order", "--json", "--plot", str(tmp_path / "flow.svg"))
    assert out.returncode == 0, out.stderr
    paths = {p["path"]: p for p in json.loads(out.stdout)["common_paths"]}
    assert paths["product_view → add_to_cart"]["conversion"] == 1.0  # A
    # B never ordered: their window runs to the as-of date and ends with the support contact
    assert paths["product_view → add_to_cart → support_contact"]["reached"] == 0
    assert paths["product_view"] == {"path": "product_view", "customers": 1, "reached": 1, "conversion": 1.0}
    assert (tmp_path / "flow.svg").read_text().lstrip().startswith("<svg")
    out = cli(db, "journey", "touches", "--json")
    first = next(r for r in json.loads(out.stdout)["overall"] if r["kind"] == "first")
    assert first["orders"] == 2 and first["interactions"]["median"] == 1.5  # A 2, C 1
    out = cli(db, "journey", "dropoffs", "--steps", "product_view,add_to_cart,order", "--json")
    data = json.loads(out.stdout)
    assert [(t["dropped"], t["value_lost"]) for t in data["transitions"]] == [(1, 80.0), (1, 80.0)]
    table = cli(db, "journey", "dropoffs", "--steps", "product_view,add_to_cart,order")
    assert "pain points" in table.stdout


def test_unknown_step_is_one_line_with_a_suggestion(db: Path) -> None:
    out = cli(db, "journey", "funnel", "--steps", "product_view,add_to_crt")
    assert out.returncode == 3
    assert "add_to_crt" in out.stderr and out.stderr.count("\n") <= 2
