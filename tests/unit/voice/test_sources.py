"""Voice sources as expressions: ingested texts, and the scores every source carries."""

from __future__ import annotations

from datetime import datetime

import ibis
import pandas as pd

from personae.voice.sources import COLUMNS, ingested_texts, survey_texts

AT = datetime(2025, 3, 1)


def run(expr: ibis.Table) -> pd.DataFrame:
    return ibis.duckdb.connect().execute(expr).set_index("text_id")


def test_ingested_texts_keep_their_ids_scores_subjects_and_languages() -> None:
    rows = pd.DataFrame(
        {
            "text_id": ["T1", None, "T3", "T4"],
            "text": ["  Great fit ", "Where is my refund?", "   ", "Merci"],
            "created_at": [AT] * 4,
            "source": ["review", "email", "social", None],
            "customer_id": ["C1", None, None, None],
            "score": [4.0, None, None, None],
            "scale_max": [5.0, None, None, None],
            "subject": ["dress-88", None, None, None],
            "language": [None, "EN-us", None, "fr"],
            "_row_key": ["T1", "#abc:0", "T3", "T4"],
        }
    )
    out = run(ingested_texts(ibis.memtable(rows)))
    assert set(out.reset_index().columns) == set(COLUMNS)
    assert set(out.index) == {"T1", "#abc:0", "T4"}
    assert "T3" not in out.index  # a blank text is no text
    t1, mail, t4 = out.loc["T1"], out.loc["#abc:0"], out.loc["T4"]
    assert (t1.text, t1.score, t1.scale_max, t1.subject) == ("Great fit", 4.0, 5.0, "dress-88")
    assert t1.touchpoint == "product" and pd.isna(t1.channel) and pd.isna(t1.language)
    assert (mail.source, mail.channel, mail.touchpoint, mail.language) == ("email", "email", "email", "en")
    assert (t4.source, t4.touchpoint, t4.language) == ("other", "other", "fr")


def test_survey_comments_carry_happy_scores_with_their_scale() -> None:
    rows = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "customer_id": ["C1", "C2", "C3"],
            "answered_at": [AT] * 3,
            "kind": ["nps", "csat", "ces"],
            "score": [3.0, 4.0, 2.0],
            "scale_max": [None, 5.0, 7.0],  # R1 stored before scale_max was filled by kind
            "comment": ["Late again", "Nice staff", "Took a while"],
            "touchpoint": [None, "store", None],
            "_row_key": ["R1", "R2", "R3"],
        }
    )
    out = run(survey_texts(ibis.memtable(rows)))
    assert (out.loc["R1", "score"], out.loc["R1", "scale_max"]) == (3.0, 10.0)
    assert (out.loc["R2", "score"], out.loc["R2", "scale_max"]) == (4.0, 5.0)
    assert pd.isna(out.loc["R3", "score"]) and pd.isna(out.loc["R3", "scale_max"])
