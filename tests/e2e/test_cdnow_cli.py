"""The real-data check through the front door: ingest CDNOW with column mapping, fit, compare
with the published results (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CDNOW = Path(
    os.environ.get(
        "PERSONAE_CDNOW_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "cdnow"
    )
)
SAMPLE = CDNOW / "cdnow_sample.csv"

pytestmark = [
    pytest.mark.cdnow,
    pytest.mark.skipif(not SAMPLE.is_file(), reason="CDNOW data set not available"),
]


def personae(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("personae")
    return subprocess.run(
        [str(exe), "--db", str(db), *args], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb"
    res = personae(
        db,
        "ingest",
        "orders",
        str(SAMPLE),
        "--map",
        "amount=dollars",
        "--map",
        "ordered_at=date",
        "--map",
        "quantity=cds",
        "--date-format",
        "%Y%m%d",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    # identical id-less records are separate purchases: all 6,919 are kept
    assert summary["read"] == summary["accepted"] == 6919
    assert summary["rejected"] == summary["duplicates"] == 0
    return db


def test_fit_reproduces_published_parameters(db: Path, tmp_path: Path) -> None:
    plot = tmp_path / "calibration.png"
    res = personae(
        db,
        "clv",
        "fit",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--time-unit",
        "W",
        "--json",
        "--plot",
        str(plot),
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    bg, gg, hold = out["bgnbd"], out["gamma_gamma"], out["holdout"]
    assert bg["r"] == pytest.approx(0.243, abs=0.001)
    assert bg["alpha"] == pytest.approx(4.414, abs=0.002)
    assert bg["a"] == pytest.approx(0.793, abs=0.001)
    assert bg["b"] == pytest.approx(2.426, abs=0.002)
    assert bg["loglik"] == pytest.approx(-9582.4, abs=0.5)
    assert gg["p"] == pytest.approx(6.25, abs=0.01)
    assert gg["q"] == pytest.approx(3.74, abs=0.01)
    assert gg["gamma"] == pytest.approx(15.44, abs=0.02)
    assert out["customers"] == 2357 and out["repeat_customers"] == 946
    assert hold["actual_transactions"] == 1882
    # the holdout's headline figures are the chosen model's (clv.model: auto -> Pareto/NBD here)
    assert hold["by_model"]["bg_nbd"]["predicted_transactions"] == pytest.approx(1653.4, abs=0.5)
    assert out["model"]["chosen"] == hold["model"] == "pareto_nbd"
    assert hold["predicted_transactions"] == pytest.approx(1665.5, abs=0.5)
    pareto = out["pareto_nbd"]  # Fader, Hardie & Lee (2005), MATLAB note
    assert (round(pareto["r"], 3), round(pareto["alpha"], 3), round(pareto["s"], 3)) == (0.553, 10.578, 0.606)
    assert pareto["loglik"] == pytest.approx(-9595.0, abs=0.05)
    assert plot.is_file() and plot.stat().st_size > 1000
    assert (tmp_path / "calibration-tracking.png").is_file()


def test_fit_says_the_parameters_with_their_meaning(db: Path) -> None:
    """Without --json the fit reads as words: rounded parameters beside the means they imply
    (α / r = 4.414 / 0.243 = 18.2 weeks between purchases; a / (a + b) = 0.246)."""
    res = subprocess.run(
        [
            str(Path(sys.executable).with_name("personae")),
            *("--db", str(db), "clv", "fit", "--calibration-end", "1997-09-30"),
            *("--holdout-end", "1998-06-30", "--time-unit", "W"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "COLUMNS": "240"},  # one table row a clause, unwrapped
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "purchase rate: r 0.24, α 4.41 → a typical customer buys every ~18 weeks while active" in out
    assert "dropout: a 0.79, b 2.43 → ~25% chance of leaving after each purchase" in out
    assert "dropout: s 0.61, β 11.67 → a typical customer leaves at a rate of one per ~19 weeks" in out
    assert "spend per order: p 6.25, q 3.74, γ 15.44 → ~35 for a typical order" in out
    assert "alpha=" not in out and "4.414" not in out  # no raw optimizer output


def test_summary_follows_btyd_conventions(db: Path) -> None:
    res = personae(db, "clv", "summary", "--as-of", "1997-09-30", "--time-unit", "W", "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = {r["customer_id"]: r for r in json.loads(res.stdout)}
    assert len(rows) == 2357
    first = rows["0001"]
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(30.43, abs=0.005)
    assert first["T"] == pytest.approx(38.86, abs=0.005)
    assert first["monetary_value"] == pytest.approx(22.345, abs=1e-6)


def test_build_gives_every_customer_traits_and_clv(db: Path) -> None:
    res = personae(db, "build", "--as-of", "1997-09-30", "--json")
    assert res.returncode == 0, res.stderr
    res = personae(db, "traits", "show", "0001", "--json")
    assert res.returncode == 0, res.stderr
    t = json.loads(res.stdout)
    assert t["frequency"] == 3  # three purchase days in the calibration period
    assert 0 < t["p_alive"] <= 1
    assert t["clv_12m_low"] <= t["clv_12m"] <= t["clv_12m_high"]
    assert t["value_tier"] in ("top1", "top10", "top25", "rest")
    assert t["rfm_segment"] and t["lifecycle_stage"]
