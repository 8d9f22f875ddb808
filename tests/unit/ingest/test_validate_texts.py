"""Validation of texts (``personae ingest texts``): sources, handles, scores on their scale."""

from __future__ import annotations

import pandas as pd
import pytest

from personae.app.ingest.keys import content_hash, row_keys
from personae.app.ingest.readers import read_file
from personae.app.ingest.validate import ValidatedBatch, validate
from personae.schema import TABLES, TEXT_SOURCE_SYNONYMS, TEXT_SOURCES

HEADER = "text,created_at,source,handle,score,scale_max,language\n"


@pytest.fixture
def check(write_text):
    def run(text: str) -> ValidatedBatch:
        return validate(read_file(write_text("t.csv", text)), TABLES["texts"])

    return run


def reasons(result: ValidatedBatch) -> dict[int, str]:
    return dict(zip(result.rejects["line"], result.rejects["reason"], strict=True))


def test_sources_are_canonical_named_or_other(check) -> None:
    out = check(
        HEADER
        + "a,2025-01-01,Twitter,,,,\nb,2025-01-01,TICKET,,,,\nc,2025-01-01,,,,,\nd,2025-01-01,chat,,,,\n"
    )
    assert out.rejects.empty
    assert out.frame["source"].tolist() == ["social", "support", "other", "chat"]


def test_every_synonym_names_a_known_source_and_none_shadows_one() -> None:
    assert set(TEXT_SOURCE_SYNONYMS.values()) <= set(TEXT_SOURCES)
    assert not set(TEXT_SOURCE_SYNONYMS) & set(TEXT_SOURCES)


def test_an_unknown_source_is_refused_with_the_allowed_ones(check) -> None:
    out = check(HEADER + "a,2025-01-01,pigeon,,,,\n")
    assert reasons(out) == {2: "source: unknown value 'pigeon' (allowed: " + ", ".join(TEXT_SOURCES) + ")"}


def test_handles_lose_their_at_and_case(check) -> None:
    out = check(HEADER + "a,2025-01-01,social,@Ann_77,,,\nb,2025-01-01,social, ann_77 ,,,\n")
    assert out.frame["handle"].tolist() == ["ann_77", "ann_77"]


def test_a_score_needs_its_scale_and_must_lie_on_it(check) -> None:
    out = check(HEADER + "a,2025-01-01,review,,4,,\nb,2025-01-01,review,,6,5,\nc,2025-01-01,review,,0,10,\n")
    why = reasons(out)
    assert why[2].startswith("score: needs scale_max") and "--set scale_max=5" in why[2]
    assert why[3] == "score: 6 is above the top of the scale 5"
    assert out.frame["score"].tolist() == [0.0]  # 0 is a real NPS answer


def test_id_less_texts_get_stable_keys_and_repeats_stay_distinct(check) -> None:
    out = check(HEADER + "same words,2025-01-01,,,,,\nsame words,2025-01-01,,,,,\nother,2025-01-01,,,,,\n")
    frame = out.frame
    keys = row_keys(frame, TABLES["texts"], content_hash(frame, TABLES["texts"]))
    again = row_keys(frame, TABLES["texts"], content_hash(frame, TABLES["texts"]))
    assert keys.tolist() == again.tolist() and keys.is_unique
    assert keys.iloc[0].endswith(":0") and keys.iloc[1].endswith(":1")
    with_id = pd.DataFrame({**{c: [None] for c in frame.columns}, "text_id": ["T9"]})
    assert row_keys(with_id, TABLES["texts"], content_hash(with_id, TABLES["texts"])).tolist() == ["T9"]
