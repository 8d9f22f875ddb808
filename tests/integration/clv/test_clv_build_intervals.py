"""A backdated build on a generated shop: no crash, the reason in words (issue 28, point 3)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from personae.app.clv import build_clv, clv_status
from personae.config import ClvSettings
from personae.store import DuckDBStore


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory):
    from personae.app.ingest import ingest_file
    from personae.devtools.generate import generate_dataset

    root = tmp_path_factory.mktemp("clvshop")
    files = generate_dataset(5000, 42, root / "shop")
    path = root / "shop.duckdb"
    with DuckDBStore.open(path) as store:
        ingest_file(store, "orders", files["orders"])
    return path


def test_a_backdated_build_leaves_clv_empty_with_the_reason_instead_of_crashing(orders_only):
    # before: "overflow encountered in exp", then ZeroDivisionError in the interval draws
    with DuckDBStore.open(orders_only) as store:
        result = build_clv(store, date(2025, 6, 30), ClvSettings(model="bg_nbd"))
        assert "nobody ever leaves" in str(result["skipped"])
        assert not store.has_table("clv")
        assert "cannot tell when customers leave" in (clv_status(store) or "")


def test_auto_never_values_customers_with_a_fit_that_says_nobody_leaves(orders_only):
    # the same backdated build with clv.model: auto (the default): BG/NBD is degenerate there,
    # so it is never chosen; a model that sees drop-out values customers, or the step says why not
    with DuckDBStore.open(orders_only) as store:
        result = build_clv(store, date(2025, 6, 30), ClvSettings(interval_draws=10, predictive_draws=0))
        if "skipped" in result:
            assert "leave" in str(result["skipped"])
            return
        assert result["model"] in ("mbg_nbd", "pareto_nbd"), result
        assert "holdout MAE" in str(result["model_why"]) or "log-likelihood" in str(result["model_why"])
        clv = store.execute(store.table("clv"))
        assert np.isfinite(clv["p_alive"]).all() and (clv["p_alive"] < 1).any()
        params = store.execute(store.table("clv_params")).iloc[0]
        assert params["model"] == result["model"]


def test_the_full_build_says_which_uncertainty_each_interval_covers(orders_only):
    # Pareto/NBD named: `auto` picks by a holdout, and on this shop's calibration period (to
    # 2025-06-30) no model is identified — the Pareto/NBD optimum is on the boundary (r, alpha
    # -> inf, beta -> 0); the full period's fit is interior (r 47.0, alpha 3,911, s 0.20, beta 75)
    settings = ClvSettings(model="pareto_nbd", interval_draws=20, predictive_draws=100)
    with DuckDBStore.open(orders_only) as store:
        result = build_clv(store, date(2026, 6, 30), settings)
        assert result["interval"] in ("normal", "bootstrap")
        clv = store.execute(store.table("clv"))
        params = store.execute(store.table("clv_params")).iloc[0]
        assert params["status"] == "fitted" and params["interval_method"] == result["interval"]
        for col in (
            "clv_12m",
            "clv_12m_low",
            "clv_12m_high",
            "clv_12m_predictive_low",
            "clv_12m_predictive_high",
        ):
            assert np.isfinite(clv[col]).all(), col
        # the parameter interval is narrow around the expectation; the customer's own range is wide
        assert (clv["clv_12m_low"] <= clv["clv_12m"] * 1.001).all()
        assert (clv["clv_12m_high"] >= clv["clv_12m"] * 0.999).all()
        param_width = (clv["clv_12m_high"] - clv["clv_12m_low"]).median()
        own_width = (clv["clv_12m_predictive_high"] - clv["clv_12m_predictive_low"]).median()
        assert own_width > 5 * param_width
        assert clv_status(store) is None
