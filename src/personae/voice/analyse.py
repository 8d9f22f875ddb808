"""One pass over the texts: language, sentiment, theme and competitor of each.

Pure functions on a pandas frame of texts (the columns of :data:`personae.voice.sources.COLUMNS`);
the application layer reads the frame from the store and writes the result back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from personae.config.voice import VoiceSettings
from personae.voice.competitors import competitor_mentions
from personae.voice.language import detect_languages
from personae.voice.sentiment import LexiconScorer, classify_in_parallel, labels
from personae.voice.themes import OTHER, ThemeModel, fit_sample

if TYPE_CHECKING:
    from personae.voice.labels import TaughtModel

#: Columns :func:`analyse_texts` adds.
ADDED = (
    "language",
    "scored",
    "sentiment_score",
    "sentiment",
    "theme_id",
    "theme",
    "theme_weight",
    "competitor",
)


def fit_themes(texts: pd.DataFrame, settings: VoiceSettings) -> ThemeModel:
    """Fit the theme model on the (distinct, default-language) texts of ``texts``."""
    lang = texts["language"] if "language" in texts else _languages(texts["text"], settings)
    own = texts.loc[np.asarray(lang == settings.default_language), "text"]
    model = ThemeModel(
        n_themes=settings.n_themes,
        n_keywords=settings.theme_keywords,
        min_weight=settings.min_theme_weight,
        seed=settings.seed,
    )
    return model.fit(fit_sample(own, settings.fit_sample, settings.seed))


def analyse_texts(
    texts: pd.DataFrame,
    model: ThemeModel | None,
    settings: VoiceSettings,
    names: Mapping[int, str] | None = None,
    n_jobs: int = 1,
    taught: TaughtModel | None = None,
) -> pd.DataFrame:
    """``texts`` with :data:`ADDED` columns.

    Texts in another language than ``settings.default_language`` are flagged: ``scored`` is
    false and sentiment and theme are empty. ``names`` gives theme names by index (default: the
    model's keyword names); texts without a theme get ``other``. Sentiment comes from the
    shipped model, or ``taught`` (a model taught on the user's labels), or — with
    ``settings.sentiment_model`` ``lexicon`` — VADER with the retail lexicon and the thresholds.
    """
    out = texts.copy()
    text = out["text"].fillna("").astype(str)
    if "language" not in out:
        out["language"] = _languages(text, settings)
    scored = (out["language"] == settings.default_language).to_numpy()
    out["scored"] = scored
    score = np.full(len(out), np.nan)
    label = np.full(len(out), None, dtype=object)
    if scored.any() and settings.sentiment_model == "lexicon":
        score[scored] = LexiconScorer().scores(text[scored].tolist())
        label = labels(score, settings.positive_threshold, settings.negative_threshold)
    elif scored.any():
        label[scored], score[scored] = classify_in_parallel(
            text[scored].tolist(), n_jobs=n_jobs, taught=taught
        )
    out["sentiment_score"] = score
    out["sentiment"] = label
    theme_id = np.full(len(out), -1, dtype=np.int64)
    weight = np.full(len(out), np.nan)
    if model is not None and scored.any():
        theme_id[scored], weight[scored] = model.assign(text[scored])
    out["theme_id"] = np.where(scored, theme_id, -1)
    theme_names = dict(names or {})
    if model is not None:
        theme_names = {t.index: theme_names.get(t.index, t.default_name) for t in model.themes_}
    # a copy: under copy-on-write pandas hands out read-only arrays, and this one is written below
    theme = pd.Series(theme_id).map(theme_names).fillna(OTHER).to_numpy(dtype=object, copy=True)
    theme[~scored] = None
    out["theme"] = theme
    out["theme_weight"] = weight
    out["competitor"] = competitor_mentions(text, settings.competitors)
    return out


def _languages(text: pd.Series, settings: VoiceSettings) -> np.ndarray:
    return detect_languages(
        text,
        default=settings.default_language,
        languages=settings.languages,
        min_confidence=settings.min_language_confidence,
        min_words=settings.min_words_to_detect,
    )
