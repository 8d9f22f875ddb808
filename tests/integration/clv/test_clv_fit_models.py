"""``clv_fit`` with several models on CDNOW: keys, the choice and why, warnings, plots (issue 24)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from personae.app.clv import choose_model, clv_fit, fit_warning
from personae.clv.bgnbd import BetaGeoModel
from personae.clv.mbgnbd import ModifiedBetaGeoModel
from personae.clv.pareto_nbd import ParetoNBDModel
from personae.config import ClvSettings
from personae.errors import InputError, ModelError
from personae.store import DuckDBStore

pytestmark = pytest.mark.cdnow

CAL_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)


def sample() -> Path:
    env = os.environ.get("PERSONAE_CDNOW_DIR")
    root = Path(env) if env else Path(__file__).parents[3] / ".." / "shared" / "datasets" / "cdnow"
    return root / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory) -> Path:
    if not sample().is_file():
        pytest.skip(f"CDNOW sample not found at {sample()} (set PERSONAE_CDNOW_DIR)")
    from personae.app.ingest import ingest_file

    path = tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb"
    with DuckDBStore.open(path) as store:
        ingest_file(
            store,
            "orders",
            sample(),
            mapping={"ordered_at": "date", "quantity": "cds", "amount": "dollars"},
            date_format="%Y%m%d",
        )
    return path


def test_auto_fits_every_model_and_keeps_the_best_on_the_holdout(cdnow: Path, tmp_path: Path) -> None:
    plot = tmp_path / "cal.png"
    with DuckDBStore.open(cdnow) as store:
        result = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=HOLDOUT_END,
            time_unit="W",
            plot=plot,
            settings=ClvSettings(interval_draws=20),
            model="auto",
        )
    assert set(result["pareto_nbd"]) == {"r", "alpha", "s", "beta", "loglik"}
    assert set(result["mbg_nbd"]) == {"r", "alpha", "a", "b", "loglik"}
    assert result["bgnbd"] == result["bg_nbd"]  # the older key is kept
    assert result["pareto_nbd"]["loglik"] == pytest.approx(-9594.98, abs=0.01)
    assert result["model"]["chosen"] == "pareto_nbd"
    assert "holdout MAE" in result["model"]["why"]
    by_model = result["holdout"]["by_model"]
    assert min(by_model, key=lambda k: by_model[k]["mae"]) == "pareto_nbd"
    assert result["holdout"]["mae"] == by_model["pareto_nbd"]["mae"]
    assert plot.is_file() and (tmp_path / "cal-tracking.png").is_file()
    assert result["holdout"]["tracking_plot"].endswith("cal-tracking.png")
    assert 0 < result["clv_interval"]["median_relative_width"] < 1
    assert "interval" in result["clv_interval"]["in_words"]
    json.dumps(result, allow_nan=False)  # nothing a user cannot read


def test_one_model_and_no_plot_unless_asked(cdnow: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with DuckDBStore.open(cdnow) as store:
        result = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=HOLDOUT_END,
            time_unit="W",
            settings=ClvSettings(interval_draws=0),
            model="mbg_nbd",
        )
    assert "pareto_nbd" not in result and {"bgnbd", "bg_nbd", "mbg_nbd"} <= set(result)
    assert result["model"] == {"chosen": "mbg_nbd", "why": "asked for (--model or clv.model)"}
    assert set(result["holdout"]["by_model"]) == {"bg_nbd", "mbg_nbd"}
    assert "plot" not in result["holdout"] and not list(tmp_path.iterdir())
    with DuckDBStore.open(cdnow) as store, pytest.raises(InputError, match="unknown model"):
        clv_fit(store, calibration_end=CAL_END, holdout_end=None, time_unit="W", model="pareto")


def test_without_a_holdout_auto_compares_likelihoods(cdnow: Path) -> None:
    with DuckDBStore.open(cdnow) as store:
        result = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=None,
            time_unit="W",
            settings=ClvSettings(interval_draws=0),
        )
    assert result["model"]["chosen"] == "mbg_nbd"  # -9,582.14 beats -9,582.43 and -9,594.98
    assert "log-likelihood" in result["model"]["why"]


def test_choice_leaves_out_fits_that_say_nobody_leaves() -> None:
    good = ParetoNBDModel.from_params(0.553, 10.578, 0.606, 11.669)
    good.loglik_ = -100.0
    stuck = ModifiedBetaGeoModel.from_params(2.0, 198.0, 4e-7, 1e5)
    stuck.loglik_ = -50.0
    key, why = choose_model({"pareto_nbd": good, "mbg_nbd": stuck}, {"pareto_nbd": 0.9, "mbg_nbd": 0.1})
    assert key == "pareto_nbd" and "mbg_nbd left out" in why
    with pytest.raises(ModelError):
        choose_model({"mbg_nbd": stuck}, None)


def test_warnings_say_what_it_means_and_what_to_do() -> None:
    stuck = BetaGeoModel.from_params(2.0, 198.0, 4.3e-7, 1.1e5)
    assert "do not use them" in (fit_warning(stuck) or "")
    flat = ModifiedBetaGeoModel.from_params(0.5, 6.0, 8.2e5, 2.2e7)
    flat.log_covariance_ = np.eye(4)
    text = fit_warning(flat) or ""
    assert "weakly identified" in text and "longer history" in text
    fine = ParetoNBDModel.from_params(0.553, 10.578, 0.606, 11.669)
    fine.log_covariance_ = np.eye(4)
    assert fit_warning(fine) is None


def test_bg_bb_on_weekly_opportunities(cdnow: Path, tmp_path: Path) -> None:
    """Weeks as opportunities: 4.7% of CDNOW's weeks with a purchase have purchases on two or
    more days, under the 5% bar, so auto considers BG/BB and compares errors relative to each
    model's own mean holdout count (weeks with a purchase vs repeat transactions)."""
    plot = tmp_path / "cal.png"
    with DuckDBStore.open(cdnow) as store:
        result = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=HOLDOUT_END,
            time_unit="W",
            plot=plot,
            settings=ClvSettings(interval_draws=0, opportunity="week"),
            model="auto",
        )
    bgbb = result["bg_bb"]
    assert {"alpha", "beta", "gamma", "delta", "loglik"} <= set(bgbb)
    assert bgbb["customers"] == 2357 and bgbb["opportunity"] == "week"
    assert bgbb["loglik"] == pytest.approx(-8849.80, abs=0.01)
    assert [round(bgbb[k], 3) for k in ("alpha", "beta", "gamma", "delta")] == [0.591, 11.491, 0.671, 12.712]
    assert bgbb["busy_share"] == pytest.approx(0.0472, abs=1e-4)
    why = result["model"]["why"]
    assert "bg_bb considered" in why and "relative to the mean holdout count" in why
    assert result["model"]["chosen"] == "bg_bb"  # 0.9383 vs pareto_nbd 0.9450
    assert result["holdout"]["by_model"]["bg_bb"]["unit"] == "purchase weeks"
    assert "note" in result["clv_interval"]  # no CLV interval for bg_bb, said in words
    assert plot.is_file() and (tmp_path / "cal-tracking.png").is_file()  # in days: the others
    json.dumps(result, allow_nan=False)


def test_bg_bb_only_where_the_data_says_so(cdnow: Path) -> None:
    with DuckDBStore.open(cdnow) as store:
        monthly = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=HOLDOUT_END,
            time_unit="W",
            settings=ClvSettings(interval_draws=0, opportunity="month"),
        )
        plain = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=HOLDOUT_END,
            time_unit="W",
            settings=ClvSettings(interval_draws=0),
        )
        asked = clv_fit(
            store,
            calibration_end=CAL_END,
            holdout_end=None,
            time_unit="W",
            settings=ClvSettings(interval_draws=0, opportunity="month"),
            model="bg_bb",
        )
        with pytest.raises(InputError, match=r"clv\.opportunity is none"):
            clv_fit(store, calibration_end=CAL_END, holdout_end=None, time_unit="W", model="bg_bb")
    assert "bg_bb" not in monthly and monthly["model"]["chosen"] == "pareto_nbd"
    assert "bg_bb not considered: 15.0% of the months" in monthly["model"]["why"]
    assert "bg_bb" not in plain and "clv.opportunity is none" in plain["model"]["why"]
    # asked for explicitly, it is fitted even where auto would not consider it
    assert asked["model"]["chosen"] == "bg_bb" and asked["bg_bb"]["loglik"] < 0
    assert set(asked) >= {"bgnbd", "bg_nbd", "bg_bb", "gamma_gamma"}
