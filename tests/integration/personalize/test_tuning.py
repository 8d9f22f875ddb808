"""Recommender parameters chosen by validation on the store's own data (`recommend tune`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.app import recommend as recommending
from personae.cli import app as cli_app
from personae.config.personalize import RecommendSettings
from personae.errors import InputError
from personae.store import Store


def test_tune_scores_the_grid_stores_the_best_and_recommendations_use_it(shop: Store) -> None:
    settings = RecommendSettings()
    result = recommending.tune(shop, settings, k=10)
    grid = recommending.TUNING_GRID["ease"]
    assert len(result["tried"]) == len(grid["self_weight"]) * len(grid["ease_regularization"])
    best = max(r["ndcg"] for r in result["tried"])
    assert result["ndcg"] == best
    assert result["ndcg"] >= result["configured_ndcg"]
    chosen_row = next(r for r in result["tried"] if {k: r[k] for k in result["chosen"]} == result["chosen"])
    assert chosen_row["ndcg"] == best

    # stored, and applied to the configured model only
    stored = shop.execute(shop.table(recommending.TUNING_TABLE))
    assert json.loads(stored.params.iloc[0]) == result["chosen"]
    applied = recommending.tuned(shop, settings, "ease")
    for key, value in result["chosen"].items():
        assert getattr(applied, key) == value
    assert recommending.tuned(shop, settings, "item_knn") == settings
    off = settings.model_copy(update={"use_tuned": False})
    assert recommending.tuned(shop, off, "ease") == off

    # evaluate scores the default model with the tuned parameters: the same NDCG as the tuning
    evaluation = recommending.evaluate(shop, settings, k=10, models=("ease",))
    assert evaluation["models"][0]["ndcg"] == pytest.approx(result["ndcg"], abs=1e-4)


def test_a_model_without_parameters_to_tune_is_refused(shop: Store) -> None:
    with pytest.raises(InputError, match="nothing to tune"):
        recommending.tune(shop, RecommendSettings(), model="popularity")


def test_the_cli_tunes_and_prints_the_choice(shop_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    shutil.copy(shop_db, db)
    result = CliRunner().invoke(
        cli_app, ["recommend", "tune", "--model", "item_knn", "--json"], env={"PERSONAE_DB": str(db)}
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["model"] == "item_knn" and set(out["chosen"]) == {"self_weight", "knn_neighbours"}
    refused = CliRunner().invoke(
        cli_app, ["recommend", "tune", "--model", "als"], env={"PERSONAE_DB": str(db)}
    )
    # in-process the error reaches the runner; the console script turns it into one line
    assert isinstance(refused.exception, InputError) and "nothing to tune" in str(refused.exception)
