"""Ingested texts join survey comments and review events as voice sources, with their scores.

On a real DuckDB store: the union of the three sources carries ``score``/``scale_max`` (labels
for free) and ``subject``/``language``; a given language skips detection; the export's ``id``
is the ``text_id``.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from personae.app import voice as svc
from personae.app.export import finite
from personae.app.ingest import ingest_file
from personae.config.voice import VoiceSettings
from personae.store import Store

SURVEYS = [
    {
        "response_id": "R1",
        "customer_id": "C1",
        "answered_at": "2025-03-01",
        "kind": "nps",
        "score": "3",
        "comment": "Delivery was late again and nobody answered my emails",
    },
    {
        "response_id": "R2",
        "customer_id": "C2",
        "answered_at": "2025-03-01",
        "kind": "csat",
        "score": "5",
        "comment": "Lovely staff, quick and friendly checkout",
    },
    {
        "response_id": "R3",
        "customer_id": "C3",
        "answered_at": "2025-03-01",
        "kind": "ces",
        "score": "2",
        "comment": "It took a while to find the returns form",
    },
]
EVENTS = [
    {
        "event_id": "E1",
        "customer_id": "C1",
        "occurred_at": "2025-03-02",
        "type": "review",
        "properties": json.dumps({"text": "The fabric pilled after one wash", "rating": 2}),
    },
    {
        "event_id": "E2",
        "customer_id": "C2",
        "occurred_at": "2025-03-02",
        "type": "support_contact",
        "properties": json.dumps({"text": "Asked about my order status"}),
    },
]
TEXTS = [
    {
        "text_id": "T1",
        "text": "Great fit, I bought it in two colours",
        "created_at": "2025-03-03",
        "source": "review",
        "customer_id": "C3",
        "score": "4",
        "scale_max": "5",
        "subject": "dress-88",
    },
    {
        # English words, but the file says French: the file is believed, detection skipped
        "text_id": "T2",
        "text": "Thanks for nothing, the parcel never came",
        "created_at": "2025-03-03",
        "source": "email",
        "email": "ann@example.org",
        "language": "fr-FR",
    },
    {
        "text": "Runs small, order a size up",
        "created_at": "2025-03-04",
        "source": "social",
        "handle": "@runner_77",
    },
]


@pytest.fixture
def loaded(store: Store, write_rows) -> Store:
    ingest_file(store, "surveys", write_rows("surveys.csv", SURVEYS))
    ingest_file(store, "events", write_rows("events.csv", EVENTS))
    ingest_file(store, "texts", write_rows("texts.csv", TEXTS))
    return store


def _by_id(df: pd.DataFrame) -> dict[str, dict[str, object]]:
    return {str(r["text_id"]): r for r in df.to_dict("records")}


def test_sources_union_carries_scores_subjects_and_languages(loaded: Store) -> None:
    texts = svc.gather_texts(loaded, None)
    assert len(texts) == 8
    assert {"score", "scale_max", "subject", "language"} <= set(texts.columns)
    rows = _by_id(texts)
    # labels for free: NPS and CSAT answers with their scales, review stars on 5, texts' scores
    assert (rows["R1"]["score"], rows["R1"]["scale_max"]) == (3.0, 10.0)
    assert (rows["R2"]["score"], rows["R2"]["scale_max"]) == (5.0, 5.0)
    assert pd.isna(rows["R3"]["score"]) and pd.isna(rows["R3"]["scale_max"])  # CES: direction unknown
    assert (rows["E1"]["score"], rows["E1"]["scale_max"]) == (2.0, 5.0)
    assert pd.isna(rows["E2"]["score"])  # a support contact has no score
    assert (rows["T1"]["score"], rows["T1"]["scale_max"], rows["T1"]["subject"]) == (4.0, 5.0, "dress-88")
    assert rows["T1"]["source"] == "review" and rows["T1"]["touchpoint"] == "product"
    assert rows["T2"]["language"] == "fr" and rows["T2"]["channel"] == "email"
    anonymous_id = [k for k in rows if k.startswith("#")]
    assert len(anonymous_id) == 1 and rows[anonymous_id[0]]["customer_id"] == "handle:runner_77"
    assert texts["score"].dtype == "float64" and texts["scale_max"].dtype == "float64"
    # as_of cuts texts by their created_at too
    assert len(svc.gather_texts(loaded, date(2025, 3, 2))) == 5


def test_build_skips_detection_for_a_given_language_and_exports_text_ids(loaded: Store) -> None:
    summary = svc.build_voice(loaded, date(2025, 3, 31), VoiceSettings(n_themes=2, min_words_to_detect=1))
    assert summary["texts"] == 8 and summary["anonymous"] == 0
    stored = _by_id(loaded.execute(loaded.table("voice_texts")))
    assert stored["T2"]["language"] == "fr" and not stored["T2"]["scored"]  # believed, not scored
    assert stored["T1"]["language"] == "en" and stored["T1"]["scored"]  # detected
    table = finite(svc.export_texts(loaded))
    assert table.column_names[:6] == ["source", "id", "customer_id", "sentiment", "sentiment_score", "theme"]
    ids = set(table.column("id").to_pylist())
    assert {"T1", "T2", "R1", "E1"} <= ids
    t1 = table.filter(pd.Series(table.column("id").to_pylist()).eq("T1").to_numpy())
    assert t1.column("customer_id").to_pylist() == ["C3"] and t1.column("source").to_pylist() == ["review"]


def test_a_store_without_the_texts_table_still_reads_its_other_texts(loaded: Store) -> None:
    """A store written before texts existed (no table): surveys and events keep working."""
    loaded.raw.execute("DROP TABLE texts")
    texts = svc.gather_texts(loaded, None)
    assert set(texts["source"]) == {"survey", "review", "support"} and len(texts) == 5
