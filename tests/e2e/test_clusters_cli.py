"""``personae clusters`` and ``personae preferences`` through the real console script.

A generated shop (600 customers) is ingested and built once per module through the CLI.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PERSONAE = Path(sys.executable).with_name("personae")
KINDS = ("stores", "products", "customers", "consents", "orders", "events", "surveys")


def run(db: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args], capture_output=True, text=True, timeout=600
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("clusters_cli")
    db = folder / "p.duckdb"
    run(db, "generate", "--customers", "600", "--seed", "11", "--out", str(folder / "data"))
    for kind in KINDS:
        run(db, "ingest", kind, str(folder / "data" / f"{kind}.csv"))
    run(db, "build")
    built = json.loads(run(db, "clusters", "build", "--k", "6", "--seed", "1", "--json").stdout)
    return {"db": db, "folder": folder, "built": built}


def test_build_json(shop: dict[str, Any]) -> None:
    built = shop["built"]
    assert built["k"] == 6
    assert [set(c) >= {"cluster", "name", "size"} for c in built["clusters"]] == [True] * 6
    assert sum(c["size"] for c in built["clusters"]) == built["customers"]


def test_show_and_evaluate(shop: dict[str, Any]) -> None:
    shown = json.loads(run(shop["db"], "clusters", "show", "--json").stdout)
    assert [c["name"] for c in shown["clusters"]] == [c["name"] for c in shop["built"]["clusters"]]
    text = run(shop["db"], "clusters", "show").stdout
    assert "silhouette" in text and shown["clusters"][0]["name"] in text
    truth = shop["folder"] / "data" / "truth.csv"
    result = json.loads(run(shop["db"], "clusters", "evaluate", "--truth", str(truth), "--json").stdout)
    assert result["ari"] >= 0.7
    assert "adjusted Rand index" in run(shop["db"], "clusters", "evaluate", "--truth", str(truth)).stdout


def test_export_csv_and_json(shop: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(shop["db"], "clusters", "export").stdout)))
    assert list(rows[0]) == ["customer_id", "cluster", "cluster_name"]
    assert len(rows) == shop["built"]["customers"]
    data = json.loads(run(shop["db"], "clusters", "export", "--format", "json").stdout)
    assert data[0] == {k: (int(v) if k == "cluster" else v) for k, v in rows[0].items()}


def test_segments_rename_and_map(shop: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(shop["db"], db)
    run(db, "clusters", "rename", "0", "Biggest group")
    listed = json.loads(run(db, "segments", "list", "--json").stdout)
    names = {r["name"] for r in listed}
    assert "cluster:Biggest group" in names
    members = run(db, "segments", "members", "cluster:Biggest group", "--format", "csv").stdout
    assert len(members.strip().splitlines()) - 1 == shop["built"]["clusters"][0]["size"]
    out = tmp_path / "map.png"
    run(db, "clusters", "map", "--out", str(out))
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_errors_are_one_line(shop: dict[str, Any], tmp_path: Path) -> None:
    bad = run(shop["db"], "clusters", "build", "--k", "many", ok=False)
    assert bad.returncode == 2 and "auto" in bad.stderr
    bad = run(shop["db"], "clusters", "build", "--features", "recncy", ok=False)
    assert bad.returncode == 2 and "did you mean 'recency'" in bad.stderr
    empty = tmp_path / "empty.duckdb"
    missing = run(empty, "clusters", "show", ok=False)
    assert missing.returncode == 3 and "clusters build" in missing.stderr


def test_preferences(shop: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(shop["db"], "clusters", "export").stdout)))
    cid = rows[0]["customer_id"]
    data = json.loads(run(shop["db"], "preferences", "show", cid, "--json").stdout)
    assert data["customer_id"] == cid
    assert set(data) >= {"category", "brand", "tag", "price_band", "channel", "daypart"}
    assert data["channel"] and {"strength", "signal", "orders", "months_recent"} <= set(data["channel"][0])
    assert "preferences of" in run(shop["db"], "preferences", "show", cid).stdout
