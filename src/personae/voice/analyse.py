"""One pass over the texts: language, sentiment, theme and competitor of each.

Pure functions on a pandas frame of texts (the columns of :data:`personae.voice.sources.COLUMNS`);
the application layer reads the frame from the store and writes the result back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from personae.config.voice import VoiceSettings
from personae.voice import aspects
from personae.voice.competitors import competitor_mentions
from personae.voice.language import detect_languages
from personae.voice.sentiment import LexiconScorer, classify_in_parallel, labels, score_in_parallel
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


def fit_themes(
    texts: pd.DataFrame,
    settings: VoiceSettings,
    seeds: Mapping[str, Sequence[str]] | None = None,
    theme_labels: pd.DataFrame | None = None,
) -> ThemeModel:
    """Fit the theme model on the (distinct, default-language) texts of ``texts``.

    Args:
        texts: the texts (``text_id``, ``text``, optionally ``language``).
        settings: ``voice`` settings (theme count, own and competitors' names …).
        seeds: seeded themes, name → seed words (``voice themes --seed FILE``).
        theme_labels: analysts' theme labels, columns ``text_id, theme``: each theme named there
            learns its words from its labelled texts (labels of unknown texts are ignored).
    """
    lang = texts["language"] if "language" in texts else _languages(texts["text"], settings)
    own = texts.loc[np.asarray(lang == settings.default_language), "text"]
    model = ThemeModel(
        n_themes=settings.n_themes,
        n_keywords=settings.theme_keywords,
        min_weight=settings.min_theme_weight,
        seed=settings.seed,
        own_names=settings.own_names,
        competitors=settings.competitors,
    )
    labelled = None
    if theme_labels is not None and not theme_labels.empty and "text_id" in texts:
        lab = theme_labels[["text_id", "theme"]].dropna().astype({"text_id": str})
        labelled = lab.merge(
            texts[["text_id", "text"]].astype({"text_id": str}).drop_duplicates("text_id"), on="text_id"
        )[["text", "theme"]]
    return model.fit(fit_sample(own, settings.fit_sample, settings.seed), guides=seeds, labelled=labelled)


#: Columns of :func:`analyse_text_themes` (the ``voice_text_themes`` table).
TEXT_THEMES = (
    "source",
    "text_id",
    "customer_id",
    "theme_id",
    "theme",
    "weight",
    "sentiment_score",
    "sentiment",
)


def analyse_text_themes(
    analysed: pd.DataFrame,
    model: ThemeModel | None,
    settings: VoiceSettings,
    names: Mapping[int, str] | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Every theme of every scored text with that theme's own sentiment (see
    :mod:`personae.voice.aspects`): the long ``voice_text_themes`` table.

    ``analysed`` is the output of :func:`analyse_texts`; texts without a theme have no row.
    """
    if model is None or analysed.empty:
        return pd.DataFrame(columns=list(TEXT_THEMES))
    scored = analysed[analysed["scored"].astype(bool)].reset_index(drop=True)
    long = aspects.text_themes(
        scored["text"].fillna("").astype(str),
        model,
        scored["theme_id"].to_numpy(dtype=np.int64),
        scored["sentiment_score"].to_numpy(dtype=np.float64),
        lambda xs: score_in_parallel(xs, n_jobs=n_jobs),
    )
    label = {t.index: (names or {}).get(t.index, t.default_name) for t in model.themes_}
    rows = scored.iloc[long["row"].to_numpy()]
    out = pd.DataFrame(
        {
            "source": rows["source"].to_numpy(),
            "text_id": rows["text_id"].to_numpy(),
            "customer_id": rows["customer_id"].to_numpy(),
            "theme_id": long["theme_id"].to_numpy(dtype=np.int64),
            "theme": long["theme_id"].map(label).to_numpy(dtype=object),
            "weight": long["weight"].to_numpy(dtype=np.float64),
            "sentiment_score": long["sentiment_score"].to_numpy(dtype=np.float64),
        }
    )
    out["sentiment"] = labels(
        out["sentiment_score"].to_numpy(), settings.positive_threshold, settings.negative_threshold
    )
    return out[list(TEXT_THEMES)]


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
