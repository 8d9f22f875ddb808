"""``personae experience``, ``personae survey sample`` and ``personae segments validate`` through
the real console script, on a small generated shop (built once per module, in-process)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from personae.app.build import run_build
from personae.app.ingest import ingest_file
from personae.devtools.generate import generate_dataset
from personae.store import DuckDBStore

PERSONAE = Path(sys.executable).with_name("personae")
KINDS = ("stores", "products", "customers", "orders", "events", "surveys", "consents")


def run(db: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(PERSONAE), "--db", str(db), "--quiet", *args], capture_output=True, text=True, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated, ingested and built in-process (fast); the commands under test run for real."""
    root = tmp_path_factory.mktemp("experience_cli")
    path = root / "p.duckdb"
    files = generate_dataset(600, seed=5, out_dir=root / "data")
    with DuckDBStore.open(path) as store:
        for kind in KINDS:
            ingest_file(store, kind, Path(files[kind]))
        run_build(store, quiet=True)
    return path


def test_report_json_has_the_documented_shape(db: Path) -> None:
    data = json.loads(run(db, "experience", "report", "--segments", "Champions,Lost", "--json").stdout)
    assert [g["segment"] for g in data["groups"]] == ["Champions", "Lost"]
    for g in data["groups"]:
        assert {"segment", "n", "nps", "nps_ci", "csat", "ces", "trust", "net_trust"} <= set(g)
        if g["nps"] is not None:
            assert -100 <= g["nps"] <= 100 and g["nps_ci"][0] <= g["nps"] <= g["nps_ci"][1]
        if g["csat"] is not None:
            assert 0 <= g["csat"] <= 100
    table = run(db, "experience", "report", "--by", "touchpoint").stdout
    assert "NPS [95% CI]" in table and "checkout" in table


def test_report_unknown_segment_is_a_one_line_error(db: Path) -> None:
    done = run(db, "experience", "report", "--segments", "Champion", ok=False)
    assert done.returncode == 3 and "did you mean 'Champions'" in done.stderr
    assert "Traceback" not in done.stderr


def test_survey_sample_writes_the_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "invite.csv"
    plan = json.loads(
        run(
            db,
            "survey",
            "sample",
            "--segments",
            "Champions,Lost",
            "--margin",
            "0.1",
            "--confidence",
            "0.9",
            "--channel",
            "email",
            "--out",
            str(out),
            "--seed",
            "2",
            "--json",
        ).stdout
    )
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == plan["contacts"] == sum(s["contacts"] for s in plan["strata"])
    assert {r["segment"] for r in rows} <= {"Champions", "Lost"}
    assert all(r["contact"] for r in rows) and all(r["channel"] == "email" for r in rows)
    bad = run(
        db, "survey", "sample", "--segments", "Champions", "--channel", "fax", "--out", str(out), ok=False
    )
    assert bad.returncode == 2 and "--channel" in bad.stderr


def test_segments_validate(db: Path) -> None:
    data = json.loads(
        run(
            db,
            "segments",
            "validate",
            "--segments",
            "Champions,Lost",
            "--on",
            "nps,preferred_channel",
            "--json",
        ).stdout
    )
    tests = {r["on"]: r for r in data["results"]}
    assert tests["nps"]["test"] == "kruskal-wallis" and "eta_squared" in tests["nps"]
    assert tests["preferred_channel"]["test"] == "chi-square" and "cramers_v" in tests["preferred_channel"]
    text = run(db, "segments", "validate", "--segments", "Champions,Lost", "--on", "nps").stdout
    assert "segments differ" in text or "no evidence" in text or "cannot test" in text


def test_detractors_and_pain_points(db: Path) -> None:
    det = json.loads(run(db, "experience", "detractors", "--json").stdout)
    assert 0 <= det["holdout"]["auc"] <= 1 and det["drivers"]
    pain = json.loads(run(db, "experience", "pain-points", "--json", "--top", "5").stdout)
    assert len(pain["pain_points"]) <= 5 and pain["pain_points"][0]["rank"] == 1
    names = run(db, "segments", "names", "--json").stdout
    assert "detractor_risk" in names
