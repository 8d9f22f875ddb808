"""A degenerate fit: no crash, the reason in words (issue 28, point 3); a full build's intervals."""

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


@pytest.fixture(scope="module")
def nobody_leaves(tmp_path_factory):
    """A shop whose customers all keep buying to the end: no fit can see anyone leave.

    The generated shop follows a BTYD story with drop-out (issue 24, point 4), so its fits are
    identified; this one is built to make BG/NBD's drop-out run off to zero, as real shops
    watched over a short period can.
    """
    from personae.app.ingest import ingest_file

    rng = np.random.default_rng(5)
    root = tmp_path_factory.mktemp("stayers")
    end = np.datetime64("2025-06-30")
    lines = ["customer_id,order_id,ordered_at,amount"]
    for c in range(600):
        day = np.datetime64("2023-01-01") + int(rng.integers(0, 180))
        gap = rng.gamma(4.0, 10.0)  # every customer keeps their own rhythm to the end
        n = 0
        while day <= end:
            lines.append(f"c{c},o{c}-{n},{day},{rng.gamma(2.0, 20.0):.2f}")
            day += max(1, int(rng.exponential(gap)))
            n += 1
    (root / "orders.csv").write_text("\n".join(lines) + "\n")
    path = root / "stayers.duckdb"
    with DuckDBStore.open(path) as store:
        ingest_file(store, "orders", root / "orders.csv")
    return path


def test_a_build_where_nobody_leaves_leaves_clv_empty_with_the_reason_instead_of_crashing(nobody_leaves):
    # before: "overflow encountered in exp", then ZeroDivisionError in the interval draws
    with DuckDBStore.open(nobody_leaves) as store:
        result = build_clv(store, date(2025, 6, 30), ClvSettings(model="bg_nbd"))
        why = str(result["skipped"])
        # the drop-out either runs off (a -> 0) or its mean lands at ~0: both said in words
        assert "nobody ever leaves" in why or "cannot identify the model" in why, why
        assert not store.has_table("clv")
        status = clv_status(store) or ""
        assert "cannot tell when customers leave" in status or "cannot identify the model" in status


def test_auto_never_values_customers_with_a_fit_that_says_nobody_leaves(nobody_leaves):
    # the same build with clv.model: auto (the default): BG/NBD is degenerate there, so it is
    # never chosen; a model that sees drop-out values customers, or the step says why not
    with DuckDBStore.open(nobody_leaves) as store:
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


def test_the_build_says_how_many_buyers_it_leaves_out_because_everything_came_back(orders_only):
    # never a silent zero: a buyer whose every order line was returned has no transaction left
    # (clv.exclude_returned), so no lifetime value; the build's result counts them
    from personae.app.build import left_out_line
    from personae.app.clv import clv_transactions

    with DuckDBStore.open(orders_only) as store:
        result = build_clv(store, date(2026, 6, 30), ClvSettings(interval_draws=0, predictive_draws=0))
        valued = store.count("clv")
        every = clv_transactions(store, False)
        buyers = int(
            store.scalar(every.filter(every.ordered_at.date() <= date(2026, 6, 30)).customer_id.nunique())
        )
    assert buyers > valued  # the generated shop has buyers who sent everything back
    assert result["left_out"]["total"] == buyers
    line = left_out_line(result) or ""
    assert f"{buyers - valued:,}" in line and "every order line was returned" in line, line
