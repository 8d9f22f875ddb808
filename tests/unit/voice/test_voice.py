"""Voice domain: sentiment and language measured on hand-labelled texts, themes, traits, reports.

The fixture (fixtures/labelled_texts.csv) is 108 English texts written and labelled by hand —
six themes (delivery, price, staff, product quality, returns, website), each with positive,
negative and neutral texts — and 10 texts in six other languages. The measured figures are
pinned just under what they are, so a change that makes them worse fails.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import normalized_mutual_info_score

from personae.config.voice import VoiceSettings
from personae.errors import ModelError, NotFittedError
from personae.voice.analyse import analyse_texts, fit_themes
from personae.voice.charts import segment_heatmap, sentiment_trend, themes_by_sentiment
from personae.voice.competitors import competitor_mentions
from personae.voice.language import detect_languages
from personae.voice.painpoints import customer_value, theme_pain_points
from personae.voice.report import monthly_sentiment, theme_summary, themes_by_segment
from personae.voice.sentiment import LexiconScorer, labels
from personae.voice.themes import ThemeModel, stem
from personae.voice.traits import TRAIT_COLUMNS, voice_traits

FIXTURE = Path(__file__).parent / "fixtures" / "labelled_texts.csv"


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


@pytest.fixture(scope="module")
def english(labelled: pd.DataFrame) -> pd.DataFrame:
    return labelled[labelled["language"] == "en"].reset_index(drop=True)


def test_fixture_covers_every_theme_and_sentiment(english: pd.DataFrame, labelled: pd.DataFrame) -> None:
    assert len(english) >= 100 and labelled["language"].nunique() >= 6
    counts = english.groupby(["theme", "sentiment"]).size()
    assert len(counts) == 18 and counts.min() >= 5


# -- sentiment -------------------------------------------------------------------------------
def test_lexicon_accuracy_on_hand_labelled_texts(english: pd.DataFrame) -> None:
    got = labels(LexiconScorer().scores(english["text"]))
    accuracy = float((got == english["sentiment"]).mean())
    assert accuracy >= 0.92  # measured 0.926 (100 of 108)
    # negative texts found as negative: what a complaint-driven analyst needs most
    neg = english["sentiment"] == "negative"
    assert float((got[neg] == "negative").mean()) >= 0.97  # measured 35 of 36


def test_retail_lexicon_beats_plain_vader(english: pd.DataFrame) -> None:
    plain = labels(LexiconScorer(extra_words={}, phrases=False).scores(english["text"]))
    ours = labels(LexiconScorer().scores(english["text"]))
    plain_acc = float((plain == english["sentiment"]).mean())
    ours_acc = float((ours == english["sentiment"]).mean())
    assert plain_acc == pytest.approx(89 / 108)  # measured: plain VADER misses neutral-worded complaints
    assert ours_acc - plain_acc >= 0.09


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("My parcel never arrived.", -1),
        ("The zip fell apart after a week.", -1),
        ("Way too expensive.", -1),
        ("Not expensive at all, good value.", 1),
        ("Arrived on time, thanks!", 1),
        ("I ordered a jacket.", 0),
    ],
)
def test_lexicon_sentiment_signs(text: str, sign: int) -> None:
    score = LexiconScorer().score(text)
    assert np.sign(round(score, 1)) == sign, score


@given(st.text(max_size=60))
def test_scores_are_bounded_and_repeatable(text: str) -> None:
    scorer = LexiconScorer()
    a = scorer.score(text)
    assert -1.0 <= a <= 1.0 and scorer.score(text) == a


def test_labels_thresholds_and_missing() -> None:
    out = labels(np.array([0.05, 0.049, -0.05, np.nan]))
    assert list(out) == ["positive", "neutral", "negative", None]


# -- language --------------------------------------------------------------------------------
def test_language_detection_on_hand_labelled_texts(labelled: pd.DataFrame) -> None:
    got = detect_languages(labelled["text"])
    assert (got == labelled["language"]).all()  # measured 118 of 118
    assert list(detect_languages(["ok", "love it", ""])) == ["en", "en", "en"]  # too short to tell


def test_language_confidence_keeps_default_when_unsure() -> None:
    assert detect_languages(["Die Lieferung war viel zu spät."], min_confidence=1.01)[0] == "en"


# -- themes ----------------------------------------------------------------------------------
def test_theme_separation_on_hand_labelled_texts(english: pd.DataFrame) -> None:
    model = ThemeModel(n_themes=6).fit(english["text"])
    theme, _ = model.assign(english["text"])
    nmi = normalized_mutual_info_score(english["theme"], theme)
    assert nmi >= 0.45  # measured 0.479 on 108 short texts (better with more text)
    # returns separate cleanly: one discovered theme holds most returns texts and little else
    returns = theme[english["theme"] == "returns"]
    top = np.bincount(returns[returns >= 0]).argmax()
    assert (returns == top).mean() >= 0.9
    assert (english.loc[theme == top, "theme"] == "returns").mean() >= 0.9
    assert {"return", "refund"} <= set(model.themes_[top].keywords[:3])


def test_theme_model_round_trips_through_its_state(english: pd.DataFrame) -> None:
    model = ThemeModel(n_themes=6).fit(english["text"])
    again = ThemeModel.from_state(model.to_state())
    a, wa = model.assign(english["text"])
    b, wb = again.assign(english["text"])
    assert (a == b).all() and np.allclose(wa, wb, atol=1e-5)
    assert [t.keywords for t in model.themes_] == [t.keywords for t in again.themes_]


def test_theme_model_is_deterministic_and_checks_input(english: pd.DataFrame) -> None:
    a = ThemeModel(n_themes=6, seed=3).fit(english["text"]).to_state()
    b = ThemeModel(n_themes=6, seed=3).fit(english["text"].sample(frac=1, random_state=1)).to_state()
    assert a["vocabulary"] == b["vocabulary"]
    with pytest.raises(ModelError):
        ThemeModel(n_themes=6).fit(["too", "few"])
    with pytest.raises(NotFittedError):
        ThemeModel().assign(["x"])


def test_stem_merges_inflections() -> None:
    assert stem("returns") == stem("returned") == stem("returning") == stem("return")
    assert stem("prices") == stem("pricing") == stem("price")
    assert stem("staff") == "staff" and stem("business") == "business"


# -- competitors -----------------------------------------------------------------------------
def test_competitor_mentions_whole_words_any_case() -> None:
    got = competitor_mentions(
        ["Cheaper at AMAZON.", "amazonian forest", "marks and   spencer is better", "none", None],
        ["Amazon", "Marks and Spencer"],
    )
    assert list(got) == ["Amazon", None, "Marks and Spencer", None, None]
    assert list(competitor_mentions(["Amazon"], [])) == [None]


# -- analyse, traits, reports ----------------------------------------------------------------
def _texts() -> pd.DataFrame:
    rows = [
        # source, id, customer, at, touchpoint, channel, text
        ("survey", "R1", "A", "2025-06-01", "delivery", "nps", "My parcel never arrived, terrible."),
        ("survey", "R2", "A", "2025-06-20", "delivery", "nps", "Delivery was late again."),
        ("review", "E1", "A", "2025-01-05", "product", "web", "Great quality jacket, love it."),
        ("social", "E2", "B", "2025-06-25", "social", "twitter", "Amazon delivers on time, switching."),
        ("social", "E3", "B", "2025-05-25", "social", "twitter", "Refund still not received, awful."),
        ("review", "E4", "C", "2025-06-28", "product", "app", "Die Lieferung war viel zu spät und kaputt."),
        ("support", "E5", "C", "2025-06-29", "support", "chat", "The refund came quickly, thanks!"),
    ]
    df = pd.DataFrame(
        rows, columns=["source", "text_id", "customer_id", "at", "touchpoint", "channel", "text"]
    )
    df["at"] = pd.to_datetime(df["at"])
    df["product_id"] = None
    df["category"] = None
    df["reach"] = [None, None, None, 1200, 800, None, None]
    return df


@pytest.fixture(scope="module")
def analysed(english: pd.DataFrame) -> pd.DataFrame:
    settings = VoiceSettings(n_themes=6)
    model = ThemeModel(n_themes=6).fit(english["text"])
    return analyse_texts(_texts(), model, settings)


def test_analyse_flags_other_languages_and_finds_competitors(analysed: pd.DataFrame) -> None:
    row = analysed.set_index("text_id")
    assert row.loc["E4", "language"] == "de" and not row.loc["E4", "scored"]
    assert np.isnan(row.loc["E4", "sentiment_score"]) and pd.isna(row.loc["E4", "theme"])
    assert row.loc["R1", "sentiment"] == "negative" and row.loc["E1", "sentiment"] == "positive"
    assert row.loc["E2", "competitor"] == "Amazon" and pd.isna(row.loc["R1", "competitor"])
    assert row.loc["E3", "theme"] == row.loc["E5", "theme"]  # both about refunds


def test_voice_traits(analysed: pd.DataFrame) -> None:
    df = analysed.assign(reach=analysed["reach"].astype("Int64"))
    t = ibis.memtable(df)
    out = ibis.duckdb.connect().execute(voice_traits(t, date(2025, 6, 30), VoiceSettings(window_days=30)))
    out = out.set_index("customer_id")
    assert list(out.columns) == list(TRAIT_COLUMNS)
    s = analysed.set_index("text_id")["sentiment_score"]
    a = out.loc["A"]
    assert a.voice_texts == 3 and a.latest_sentiment == pytest.approx(s["R2"])
    assert a.avg_sentiment == pytest.approx(s[["R1", "R2", "E1"]].mean())
    # the 30-day window ending 06-30 starts on 06-01: R1 and R2, not the January review
    assert a.sentiment_90d == pytest.approx(s[["R1", "R2"]].mean())
    assert a.negative_texts_90d == 2 and not a.mentions_competitor and pd.isna(a.social_reach)
    themes = analysed.set_index("text_id")["theme"]
    assert a.top_complaint_theme in {themes["R1"], themes["R2"]}
    b = out.loc["B"]
    assert b.mentions_competitor and b.social_reach == 1200
    assert b.top_complaint_theme == themes["E3"] or b.top_complaint_theme == themes["E2"]
    c = out.loc["C"]  # the German review counts as a text but not in the sentiment figures
    assert c.voice_texts == 2 and c.latest_sentiment == pytest.approx(s["E5"])


def test_theme_summary_and_segments(analysed: pd.DataFrame) -> None:
    keywords = {n: [n] for n in analysed["theme"].dropna().unique() if n != "other"}
    rows = theme_summary(analysed, keywords, examples=2)
    scored = analysed[analysed["scored"]]
    assert sum(r["n"] for r in rows) == len(scored) == 6
    assert sum(r["share"] for r in rows) == pytest.approx(1.0, abs=1e-3)
    first = rows[0]
    assert first["n"] == max(r["n"] for r in rows)
    assert first["sentiment"] == pytest.approx(
        scored.loc[scored["theme"] == first["theme"], "sentiment_score"].mean(), abs=1e-4
    )
    assert sum(m["n"] for m in first["trend"]) == first["n"] and len(first["examples"]) <= 2
    members = pd.DataFrame({"segment": ["S1", "S1", "S2"], "customer_id": ["A", "B", "C"]})
    by = themes_by_segment(analysed, members, ["S1", "S2"], keywords)
    assert [s["texts"] for s in by] == [5, 1] and by[0]["customers"] == 2
    m = monthly_sentiment(analysed)
    assert m["n"].sum() == 6


def test_pain_points_value_at_stake(analysed: pd.DataFrame) -> None:
    value = customer_value(
        pd.DataFrame(
            {"customer_id": ["A", "B", "C"], "clv_12m": [100.0, None, 5.0], "monetary": [1.0, 40.0, 2.0]}
        )
    )
    assert value.to_dict() == {"A": 100.0, "B": 40.0, "C": 5.0}
    pp = theme_pain_points(analysed, value)
    neg = analysed[(analysed["sentiment"] == "negative") & (analysed["theme"] != "other")]
    assert pp["negative"].sum() == len(neg)
    top = pp.iloc[0]
    assert (
        top["value_at_stake"] == 100.0 and top["touchpoint"] == "delivery" and top["customers_affected"] == 1
    )
    members = pd.DataFrame({"segment": ["S1", "S2"], "customer_id": ["A", "A"]})
    by_seg = theme_pain_points(analysed, value, members)
    assert set(by_seg["segment"]) == {"S1", "S2"} and by_seg["value_at_stake"].max() == 100.0


def test_charts_render_to_specs(analysed: pd.DataFrame) -> None:
    keywords = {n: [n] for n in analysed["theme"].dropna().unique() if n != "other"}
    rows = theme_summary(analysed, keywords)
    for chart in (
        themes_by_sentiment(rows),
        sentiment_trend(monthly_sentiment(analysed)),
        segment_heatmap(
            themes_by_segment(
                analysed, pd.DataFrame({"segment": ["S"], "customer_id": ["A"]}), ["S"], keywords
            )
        ),
    ):
        spec = chart.to_dict()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_fit_themes_uses_only_the_default_language(english: pd.DataFrame) -> None:
    texts = pd.concat(
        [english[["text"]], pd.DataFrame({"text": ["Die Lieferung kam zu spät und kaputt."] * 30})]
    )
    model = fit_themes(texts.reset_index(drop=True), VoiceSettings(n_themes=6))
    assert not any("lieferung" in k for t in model.themes_ for k in t.keywords)
