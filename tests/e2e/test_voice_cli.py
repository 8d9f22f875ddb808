"""``personae voice`` through the real console script: build, themes, export, rename, pain points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from personae.devtools.generate import generate_dataset

PERSONAE = Path(sys.executable).with_name("personae")
KINDS = ("stores", "products", "customers", "orders", "events", "surveys", "consents")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("voicecli")
    generate_dataset(200, seed=9, out_dir=folder / "data")
    db = folder / "shop.duckdb"
    for kind in KINDS:
        r = run(db, "ingest", kind, str(folder / "data" / f"{kind}.csv"))
        assert r.returncode == 0, r.stderr
    return db


def test_voice_cli(db: Path) -> None:
    r = run(db, "voice", "themes")
    assert r.returncode == 3 and "voice build" in r.stderr  # nothing analysed yet
    r = run(db, "voice", "build", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["texts"] == summary["scored"] + summary["other_language"] > 0
    r = run(db, "voice", "themes", "--json")
    themes = json.loads(r.stdout)["themes"]
    assert r.returncode == 0 and themes and {"theme", "keywords", "n", "share", "sentiment"} <= set(themes[0])
    r = run(db, "voice", "export", "--format", "csv")
    import csv
    import io

    rows_csv = list(csv.reader(io.StringIO(r.stdout)))
    assert rows_csv[0][:6] == ["source", "id", "customer_id", "sentiment", "sentiment_score", "theme"]
    assert len(rows_csv) == summary["texts"] + 1
    rows = json.loads(run(db, "voice", "export", "--format", "json").stdout)
    assert len(rows) == summary["texts"]
    r = run(db, "voice", "rename", themes[0]["theme"], "Top theme")
    assert r.returncode == 0 and "Top theme" in r.stdout
    r = run(db, "voice", "rename", "no such theme", "x")
    assert r.returncode == 3 and "no theme" in r.stderr
    r = run(db, "build")
    assert r.returncode == 0, r.stderr
    r = run(db, "voice", "themes", "--segments", "lifecycle:active", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["segments"][0]["segment"] == "lifecycle:active"
    assert "Top theme" in {t["theme"] for t in json.loads(r.stdout)["themes"]}
    r = run(db, "voice", "pain-points", "--json")
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), list)
    r = run(
        db,
        "traits",
        "show",
        json.loads(run(db, "voice", "export", "--format", "json").stdout)[0]["customer_id"],
        "--json",
    )
    assert r.returncode == 0 and "sentiment_90d" in json.loads(r.stdout)


def test_voice_themes_seed(db: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.yaml"
    seeds.write_text("Deliveries: [delivery, parcel, courier]\n", encoding="utf-8")
    r = run(db, "voice", "themes", "--seed", str(seeds))
    assert r.returncode == 0, r.stderr
    assert "1 seeded theme(s) kept by later builds: Deliveries" in r.stdout
    r = run(db, "voice", "build", "--refit", "--json")
    assert r.returncode == 0, r.stderr
    themes = json.loads(run(db, "voice", "themes", "--json").stdout)["themes"]
    assert themes and "Deliveries" in {t["theme"] for t in themes}
    assert all("aspect_sentiment" in t for t in themes)
    seeds.write_text("- just\n- a list\n", encoding="utf-8")
    r = run(db, "voice", "themes", "--seed", str(seeds))
    assert r.returncode != 0 and "Traceback" not in r.stderr and "theme name" in r.stderr
