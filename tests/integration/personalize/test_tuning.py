"""Recommender parameters chosen by validation on the store's own data (`recommend tune`)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.app import recommend as recommending
from personae.cli import app as cli_app
from personae.config.personalize import RecommendSettings
from personae.errors import InputError
from personae.store import Store


def test_tune_chooses_among_the_models_stores_the_choice_and_recommendations_use_it(shop: Store) -> None:
    settings = RecommendSettings()
    result = recommending.tune(shop, settings, k=10)
    grid = recommending.TUNING_GRID
    # the generated shop has review stars: the star centre is tried too
    first = [t for t in result["tried"] if "sequence_weight" not in t]
    assert len(first) == sum(math.prod(len(v) for v in g.values()) for g in grid.values())
    # then the order of the histories, on top of the best item model of the first round
    leader = max(enumerate(first), key=lambda t: (t[1]["ndcg"], -t[0]))[1]
    ordered = [t for t in result["tried"] if "sequence_weight" in t]
    if leader["model"] in recommending.STAR_MODELS:
        assert len(ordered) == math.prod(len(v) for v in recommending.SEQUENCE_GRID.values())
        assert all(t["model"] == leader["model"] for t in ordered)
    else:
        assert ordered == []
    assert {t["model"] for t in result["tried"]} == set(grid)
    best = max(r["ndcg"] for r in result["tried"])
    assert result["ndcg"] == best
    chosen_row = next(
        r
        for r in result["tried"]
        if r["model"] == result["model"] and all(r.get(k) == v for k, v in result["chosen"].items())
    )
    assert chosen_row["ndcg"] == best

    # stored, and used by recommendations from then on
    stored = shop.execute(shop.table(recommending.TUNING_TABLE))
    assert json.loads(stored.params.iloc[0]) == result["chosen"]
    assert recommending.chosen_model(shop, settings) == result["model"]
    applied = recommending.tuned(shop, settings, result["model"])
    for key, value in result["chosen"].items():
        assert getattr(applied, key) == value
    other = "ease" if result["model"] != "ease" else "item_knn"
    assert recommending.tuned(shop, settings, other) == settings
    off = settings.model_copy(update={"use_tuned": False})
    assert recommending.chosen_model(shop, off) == settings.model
    assert recommending.fit_context(shop, settings).model.name == result["model"]


def test_the_default_is_chosen_on_the_training_part_only(
    shop: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation split is carved from the evaluation's training part: the choice never sees
    an interaction the default is then judged on."""
    seen: list[int] = []
    real = recommending._choose

    def spy(inter, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(len(inter.customer))
        return real(inter, *args, **kwargs)

    monkeypatch.setattr(recommending, "_choose", spy)
    result = recommending.evaluate(shop, RecommendSettings(), k=10, models=("personae",))
    assert seen == [result["train_interactions"]]
    assert result["models"][0]["model"] == "personae" and "chosen" in result["models"][0]


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
    assert out["model"] == "item_knn"
    # the model's parameters, and the order of the histories when it helps on validation
    assert {"knn_neighbours", "star_centre"} <= set(out["chosen"])
    assert set(out["chosen"]) <= {"knn_neighbours", "star_centre", *recommending.SEQUENCE_GRID}
    refused = CliRunner().invoke(
        cli_app, ["recommend", "tune", "--model", "als"], env={"PERSONAE_DB": str(db)}
    )
    # in-process the error reaches the runner; the console script turns it into one line
    assert isinstance(refused.exception, InputError) and "nothing to tune" in str(refused.exception)
