"""Sentiment of a text: VADER's compound score with retail vocabulary, and its label.

Why VADER (``vaderSentiment``): it is a rule-based lexicon made for short, informal English —
reviews, tweets, comments — the texts customers write; it handles negation ("not good"), boosters
("very"), capitals and "but"; it needs no training data, no model download (the lexicon ships
inside the package) and gives the same score on every machine. Its compound score runs from −1
(most negative) to +1, and its authors' thresholds ±0.05 split negative / neutral / positive.
:mod:`personae.voice.lexicon` adds the retail words it lacks.

Scoring is per *distinct* text: surveys and reviews repeat short texts ("Great service"), so a
corpus is scored once per distinct text and the scores spread back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from personae.voice.lexicon import PHRASE_TOKENS, WORDS, rewrite_phrases

LABELS = ("negative", "neutral", "positive")


class SentimentScorer:
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


def score_in_parallel(texts: Sequence[str], n_jobs: int = 1, chunk: int = 20_000) -> np.ndarray:
    """:meth:`SentimentScorer.scores` split over ``n_jobs`` processes (1 = in this process).

    VADER is pure Python, so a second core halves the time on a large corpus; each worker builds
    its own scorer (the lexicon loads in about 50 ms).
    """
    if n_jobs == 1 or len(texts) <= chunk:
        return SentimentScorer().scores(texts)
    from joblib import Parallel, delayed

    parts = [list(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    results: Iterable[np.ndarray] = Parallel(n_jobs=n_jobs)(delayed(_score_part)(p) for p in parts)
    return np.concatenate(list(results))


def _score_part(texts: list[str]) -> np.ndarray:
    return SentimentScorer().scores(texts)


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
