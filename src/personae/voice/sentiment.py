"""Sentiment of a text: a score from −1 to +1 and its label negative / neutral / positive.

Two scorers, one interface (``scores(texts)`` → −1…+1):

* :class:`SentimentScorer` (the default) — the trained model of
  :mod:`personae.voice.sentiment_model`: hashed word and character n-grams, VADER's scores and
  cue features (negation, "but", polite complaints, sarcasm markers, emoji, elongation,
  @mentions, URLs), fitted on 23,699 human-rated texts. Its score is P(positive) − P(negative)
  and its label the most probable class (:meth:`SentimentScorer.classify`). On real clothing
  reviews it agrees with the stars far more often than a lexicon (docs/voice.md has the figures).
* :class:`LexiconScorer` — VADER's compound score with the retail lexicon of
  :mod:`personae.voice.lexicon`, labelled by the thresholds ±0.05 its authors validated
  (``voice.sentiment_model: lexicon`` in the settings).

Scoring is per *distinct* text: surveys and reviews repeat short texts ("Great service"), so a
corpus is scored once per distinct text and the scores spread back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from personae.voice import sentiment_model
from personae.voice.lexicon import PHRASE_TOKENS, WORDS, rewrite_phrases

if TYPE_CHECKING:
    from personae.voice.labels import TaughtModel

LABELS = ("negative", "neutral", "positive")


class LexiconScorer:
    """Scores texts from −1 to +1 (VADER compound) with the retail lexicon added.

    Args:
        extra_words: words (lower case) and valences added to VADER's lexicon; words VADER
            already rates keep VADER's value.
        phrases: rewrite known phrases into lexicon tokens before scoring.
    """

    def __init__(self, extra_words: Mapping[str, float] | None = None, phrases: bool = True) -> None:
        # Imported here, not at module level: the CLI imports this module at start-up.
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()
        words = WORDS if extra_words is None else extra_words
        lexicon = self._analyzer.lexicon
        for word, valence in {**words, **(PHRASE_TOKENS if phrases else {})}.items():
            lexicon.setdefault(word, valence)
        self._phrases = phrases

    def score(self, text: str) -> float:
        """Compound score of one text (0.0 for an empty one)."""
        if not text or not text.strip():
            return 0.0
        prepared = rewrite_phrases(text) if self._phrases else text
        return float(self._analyzer.polarity_scores(prepared)["compound"])

    def scores(self, texts: Sequence[str] | pd.Series) -> np.ndarray:
        """Scores of many texts, each distinct text scored once."""
        codes, uniques = pd.factorize(pd.Series(texts, dtype=object).fillna(""), sort=False)
        distinct = np.fromiter((self.score(t) for t in uniques), dtype=np.float64, count=len(uniques))
        return distinct[codes] if len(codes) else np.empty(0, dtype=np.float64)


class SentimentScorer:
    """Scores texts from −1 to +1 with the trained model (the shipped one, or a taught one).

    Args:
        taught: a model taught on the user's labels (:func:`personae.voice.labels.teach`);
            ``None`` for the shipped zero-shot model.

    Example:
        >>> scorer = SentimentScorer()
        >>> scorer.classify(["I love this dress", "@airline thanks... still waiting 3 hours"])[0].tolist()
        ['positive', 'negative']
    """

    def __init__(self, taught: TaughtModel | None = None) -> None:
        self._taught = taught

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(negative), P(neutral), P(positive) of each text, each distinct text scored once."""
        codes, uniques = pd.factorize(pd.Series(list(texts), dtype=object).fillna("").astype(str), sort=False)
        if not len(codes):
            return np.empty((0, 3))
        distinct = list(uniques)
        p = sentiment_model.shipped().proba(distinct)
        if self._taught is not None:
            p = self._taught.proba(distinct, base=p)
        return p[codes]

    def scores(self, texts: Sequence[str] | pd.Series) -> np.ndarray:
        """P(positive) − P(negative) of each text: −1 … +1."""
        p = self.proba(list(texts))
        return p[:, 2] - p[:, 0]

    def score(self, text: str) -> float:
        """Score of one text."""
        return float(self.scores([text])[0])

    def classify(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores): the most probable class of each text, and its score."""
        p = self.proba(list(texts))
        return np.asarray(LABELS, dtype=object)[p.argmax(axis=1)], p[:, 2] - p[:, 0]


def score_in_parallel(
    texts: Sequence[str], n_jobs: int = 1, chunk: int = 20_000, taught: TaughtModel | None = None
) -> np.ndarray:
    """:meth:`SentimentScorer.scores` split over ``n_jobs`` processes (1 = in this process)."""
    return classify_in_parallel(texts, n_jobs, chunk, taught)[1]


def classify_in_parallel(
    texts: Sequence[str], n_jobs: int = 1, chunk: int = 20_000, taught: TaughtModel | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`SentimentScorer.classify` split over ``n_jobs`` processes (1 = in this process).

    Feature extraction is pure Python, so a second core halves the time on a large corpus; each
    worker loads the shipped weights once.
    """
    if n_jobs == 1 or len(texts) <= chunk:
        return SentimentScorer(taught).classify(list(texts))
    from joblib import Parallel, delayed

    parts = [list(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    results: Iterable[tuple[np.ndarray, np.ndarray]] = Parallel(n_jobs=n_jobs)(
        delayed(_classify_part)(p, taught) for p in parts
    )
    done = list(results)
    return np.concatenate([r[0] for r in done]), np.concatenate([r[1] for r in done])


def _classify_part(texts: list[str], taught: TaughtModel | None) -> tuple[np.ndarray, np.ndarray]:
    return SentimentScorer(taught).classify(texts)


def labels(scores: np.ndarray, positive: float = 0.05, negative: float = -0.05) -> np.ndarray:
    """``negative`` / ``neutral`` / ``positive`` by the thresholds (NaN scores give ``None``).

    Example:
        >>> labels(np.array([0.6, 0.0, -0.3, np.nan])).tolist()
        ['positive', 'neutral', 'negative', None]
    """
    out = np.where(scores >= positive, "positive", np.where(scores <= negative, "negative", "neutral"))
    out = out.astype(object)
    out[np.isnan(scores)] = None
    return out
