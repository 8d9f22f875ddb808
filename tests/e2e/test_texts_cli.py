"""``personae ingest texts`` through the real console script, on the real clothing reviews.

1,000 public reviews (``../shared/datasets/clothing-reviews``): 42 have no text and are
rejected with that reason, the rest go in as anonymous reviews scored on five stars; the voice
build analyses them and the CSV export keys each by the file's own row id. Skipped when the
datasets folder is absent.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATASETS = Path(
    os.environ.get("PERSONAE_DATASETS") or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)
REVIEWS = DATASETS / "clothing-reviews" / "reviews.csv"
PERSONAE = Path(sys.executable).with_name("personae")
#: the walk-through of docs/voice.md, "Getting texts in"
INGEST = (
    "ingest",
    "texts",
    str(REVIEWS),
    "--map",
    "text_id=column_1",
    "--map",
    "text=Review Text",
    "--map",
    "score=Rating",
    "--map",
    "subject=Clothing ID",
    "--set",
    "scale_max=5",
    "--set",
    "source=review",
    "--set",
    "created_at=2019-06-01",
)

pytestmark = pytest.mark.skipif(not REVIEWS.is_file(), reason="../shared/datasets/clothing-reviews absent")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args], capture_output=True, text=True, timeout=600
    )


def test_real_reviews_go_in_as_texts_and_come_out_keyed_by_their_ids(tmp_path: Path) -> None:
    db = tmp_path / "reviews.duckdb"
    r = run(db, *INGEST, "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert (first["read"], first["accepted"], first["rejected"], first["duplicates"]) == (1000, 958, 42, 0)
    rejects = json.loads(run(db, "rejects", "--json").stdout)
    assert len(rejects) == 42 and {x["reason"] for x in rejects} == {"text: required value is missing"}
    again = json.loads(run(db, *INGEST, "--json").stdout)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 958, 42)

    r = run(db, "voice", "build", "--json")
    assert r.returncode == 0, r.stderr
    built = json.loads(r.stdout)
    assert built["texts"] == 958 and built["anonymous"] == 958 and built["as_of"] == "2019-06-01"

    r = run(db, "voice", "export", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0])[:6] == ["source", "id", "customer_id", "sentiment", "sentiment_score", "theme"]
    assert len(rows) == 958 and {x["source"] for x in rows} == {"review"}
    with REVIEWS.open(newline="", encoding="utf-8") as f:
        with_text = {x[""] for x in csv.DictReader(f) if (x["Review Text"] or "").strip()}
    assert {x["id"] for x in rows} == with_text  # id = the text_id the file gave
    assert {x["sentiment"] for x in rows} <= {"negative", "neutral", "positive"}
    scores = [float(x["sentiment_score"]) for x in rows]  # every text scored: no empty cell, no nan
    assert all(-1.0 <= v <= 1.0 for v in scores)
