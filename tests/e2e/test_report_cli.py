"""``personae report`` through the real console script on a small generated shop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from personae.app.demo import INGEST_ORDER
from personae.app.report import SECTIONS

PERSONAE = Path(sys.executable).with_name("personae")


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report_cli")
    path = root / "shop.duckdb"
    res = cli(path, "generate", "--customers", "120", "--seed", "3", "--out", str(root / "data"))
    assert res.returncode == 0, res.stderr
    for kind in INGEST_ORDER:
        res = cli(path, "ingest", kind, str(root / "data" / f"{kind}.csv"))
        assert res.returncode == 0, res.stderr
    res = cli(path, "build")
    assert res.returncode == 0, res.stderr
    return path


def test_report_writes_html_and_prints_takeaways(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = cli(db, "report", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert Path(data["report"]) == out / "report.html" and (out / "report.html").stat().st_size > 10_000
    assert [s["key"] for s in data["sections"]] == [k for k, _ in SECTIONS]
    assert all(s["takeaways"] and all(t.strip() for t in s["takeaways"]) for s in data["sections"])
    html = (out / "report.html").read_text(encoding="utf-8")
    for s in data["sections"]:
        assert f'data-section="{s["key"]}"' in html
    text = cli(db, "report", "--out", str(out))
    assert text.returncode == 0, text.stderr
    assert (
        "Segment sizes and revenue share" in text.stdout and f"report: {out / 'report.html'}" in text.stdout
    )


def test_report_into_a_file_is_a_one_line_error(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "taken"
    f.write_text("x")
    res = cli(db, "report", "--out", str(f))
    assert res.returncode != 0
    assert "is a file" in res.stderr and "Traceback" not in res.stderr
