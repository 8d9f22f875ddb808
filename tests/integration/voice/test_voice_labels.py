"""`voice labels` on a real DuckDB store: rejects with reasons, replace by id, and the next
build teaching the sentiment model on them and reporting its cross-validated figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from personae.app import voice as svc
from personae.app.ingest import ingest_file
from personae.app.ingest.rejects import list_rejects
from personae.config.voice import VoiceSettings
from personae.devtools.generate import generate_dataset
from personae.errors import InputError
from personae.store import DuckDBStore, Store

KINDS = ("stores", "products", "customers", "orders", "events", "surveys", "consents")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("labelshop")
    generate_dataset(150, seed=3, out_dir=folder / "data")
    s = DuckDBStore.open(folder / "shop.duckdb")
    for kind in KINDS:
        ingest_file(s, kind, folder / "data" / f"{kind}.csv")
    yield s
    s.close()


def _survey_labels(store: Store) -> pd.DataFrame:
    """Every text labelled as an analyst might: survey comments by their own answer (NPS 0–6 /
    7–8 / 9–10, stars 1–2 / 3 / 4–5), the other texts as the shipped model reads them."""
    from personae.schema import DEFAULT_SCALE_MAX
    from personae.voice.labels import score_classes
    from personae.voice.sentiment import SentimentScorer

    # the survey's own answer, not the free label gather_texts derives from it
    texts = svc.gather_texts(store, None).drop(columns=["score", "scale_max"], errors="ignore")
    surveys = store.execute(store.resolved("surveys").select("response_id", "kind", "score", "scale_max"))
    s = texts.merge(surveys, left_on="text_id", right_on="response_id", how="left")
    scale = s["scale_max"].fillna(s["kind"].map(DEFAULT_SCALE_MAX))
    label = score_classes(s["score"], scale, s["kind"])
    label = label.fillna(pd.Series(SentimentScorer().classify(s["text"].tolist())[0], index=s.index))
    return pd.DataFrame({"id": s["text_id"], "sentiment": label})


def test_labels_reject_bad_rows_and_replace_by_id(store: Store, tmp_path: Path) -> None:
    good = _survey_labels(store)
    assert len(good) >= 60
    bad = pd.DataFrame(
        {"id": ["", "x1", "x2", good["id"].iloc[0]], "sentiment": ["positive", "angry", None, "neutral"]}
    )
    path = tmp_path / "labels.csv"
    pd.concat([good, bad], ignore_index=True).to_csv(path, index=False)
    r = svc.load_labels(store, path)
    # blank id, unknown class, no class, and the first row of the repeated id
    assert r["rejected"] == 4 and r["accepted"] == len(good) + 3 - 3
    reasons = " | ".join(x["reason"] for x in r["rejects"])
    assert "no id" in reasons and "'angry' is not negative" in reasons and "again on line" in reasons
    kept = list_rejects(store, kind="voice_labels")
    assert len(kept) == 4 and all(k["line"] >= 2 for k in kept)
    stored = svc.read_labels(store)
    assert stored is not None and stored["text_id"].is_unique
    assert stored.set_index("text_id").loc[good["id"].iloc[0], "sentiment"] == "neutral"
    # a re-load replaces by id and keeps the others
    again = tmp_path / "again.csv"
    pd.DataFrame({"id": [good["id"].iloc[1]], "sentiment": ["negative"], "theme": ["delivery"]}).to_csv(
        again, index=False
    )
    r2 = svc.load_labels(store, again)
    assert r2["replaced"] == 1 and r2["stored"] == r["stored"]
    row = svc.read_labels(store).set_index("text_id").loc[good["id"].iloc[1]]
    assert row["sentiment"] == "negative" and row["theme"] == "delivery"


def test_labels_file_without_the_columns_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    pd.DataFrame({"text_id": ["a"], "label": ["positive"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="no 'id' and no 'sentiment' column"):
        svc.load_labels(store, path)


def test_build_teaches_and_reports_its_figures(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    _survey_labels(store).to_csv(path, index=False)
    svc.load_labels(store, path)
    summary = svc.build_voice(store, None, VoiceSettings(n_themes=4))
    s = summary["sentiment"]
    assert s["labels"] >= 60 and s["by_origin"].get("analyst", 0) >= 60
    assert s["cv_macro_f1"] is not None and 0 <= s["cv_macro_f1"] <= 1
    assert s["zero_shot_macro_f1"] is not None and "macro-F1" in s["note"]
    runs = store.execute(store.table("voice_sentiment_runs"))
    assert len(runs) == 1 and runs["labels"].iloc[0] == s["labels"]
    texts = store.execute(store.table("voice_texts"))
    assert texts.loc[texts["scored"], "sentiment"].isin(["negative", "neutral", "positive"]).all()
    assert texts["sentiment_score"].dropna().between(-1, 1).all()


def test_lexicon_setting_keeps_the_old_scorer(store: Store) -> None:
    summary = svc.build_voice(store, None, VoiceSettings(n_themes=4, sentiment_model="lexicon"))
    assert "sentiment" not in summary
    texts = store.execute(store.table("voice_texts"))
    assert texts.loc[texts["scored"], "sentiment"].isin(["negative", "neutral", "positive"]).all()
