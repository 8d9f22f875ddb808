"""Themes discovered from the texts: TF-IDF + NMF, each theme named by its top keywords.

Why TF-IDF + non-negative matrix factorisation (scikit-learn): on short customer texts it finds
themes that read as topics ("delivery / parcel / late", "refund / return / label") with nothing
to download and nothing to label; every theme is a non-negative mix of words, so its top
keywords *are* its description; it is deterministic for a seed and fits 50k texts in seconds.
(LDA needs longer documents; clustering embeddings needs a model download.)

* Words that only say how the customer *feels* ("great", "terrible", "love") are left out of
  the vocabulary: sentiment is measured separately, and themes should be about *what* went well
  or wrong, not a "happy" and an "unhappy" theme.
* A text's theme is the one its TF-IDF vector loads on most (cosine projection on the unit-norm
  theme vectors: one sparse product, so assigning a million texts takes seconds); texts that
  share no keyword with any theme (weight below ``min_weight``) get none (``-1``, shown as
  "other").
* The fitted model is plain lists (vocabulary, IDF weights, theme vectors), stored as JSON, so
  later builds assign new texts to the *same* themes, and names given by people survive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from personae.errors import ModelError, check_is_fitted

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

#: Evaluative and filler words: they carry sentiment (measured apart) or nothing at all.
MOOD_WORDS = frozenset(
    [
        "great",
        "good",
        "bad",
        "love",
        "loved",
        "lovely",
        "terrible",
        "awful",
        "excellent",
        "amazing",
        "brilliant",
        "perfect",
        "perfectly",
        "best",
        "worst",
        "nice",
        "happy",
        "unhappy",
        "disappointed",
        "disappointing",
        "poor",
        "fantastic",
        "wonderful",
        "horrible",
        "really",
        "just",
        "thanks",
        "thank",
        "thankyou",
        "ok",
        "okay",
        "fine",
        "pretty",
        "quite",
        "bit",
        "lot",
        "lots",
        "ever",
        "absolutely",
        "totally",
        "highly",
        "definitely",
        "recommend",
        "recommended",
        "will",
        "shop",
        "again",
        "time",
        "times",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "got",
        "get",
        "getting",
        "went",
        "go",
        "going",
        "make",
        "made",
        "did",
        "does",
        "thing",
        "things",
        "actually",
        "literally",
        "one",
        "two",
        "three",
        "four",
        "five",
    ]
)
OTHER = "other"


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words plus :data:`MOOD_WORDS`.

    A cached function rather than a module constant so that importing this module (which the
    CLI does at start-up) does not import scikit-learn.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | MOOD_WORDS)


def __getattr__(name: str) -> list[str]:
    """``STOP_WORDS`` (the sorted stop-word list) computed on first access, see :func:`stop_words`."""
    if name == "STOP_WORDS":
        return sorted(stop_words())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Theme:
    """One discovered theme: its number, top keywords and default name."""

    index: int
    keywords: tuple[str, ...]

    @property
    def default_name(self) -> str:
        return " / ".join(self.keywords[:3])


class ThemeModel:
    """TF-IDF + NMF themes, fitted on texts, then used to assign any text.

    Args:
        n_themes: themes to find.
        n_keywords: keywords kept per theme.
        min_weight: below this strongest loading a text gets no theme.
        seed: NMF seed.
        max_features: vocabulary size (most frequent terms).
    """

    def __init__(
        self,
        n_themes: int = 8,
        n_keywords: int = 8,
        min_weight: float = 0.05,
        seed: int = 0,
        max_features: int = 5000,
    ) -> None:
        self.n_themes = n_themes
        self.n_keywords = n_keywords
        self.min_weight = min_weight
        self.seed = seed
        self.max_features = max_features

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str] | pd.Series) -> ThemeModel:
        """Discover the themes of ``texts`` (distinct texts are enough: repeats add nothing new)."""
        docs = pd.Series(texts, dtype=object).dropna().astype(str)
        docs = docs[docs.str.strip() != ""]
        if len(docs) < max(2 * self.n_themes, 10):
            raise ModelError(
                f"{len(docs)} texts are too few to find {self.n_themes} themes",
                hint="ingest more comments or reviews, or lower voice.n_themes",
            )
        vec = _vectorizer(min_df=2 if len(docs) >= 200 else 1, max_features=self.max_features)
        try:
            X = vec.fit_transform(docs)
        except ValueError as exc:  # every word a stop word
            raise ModelError(f"no theme words in the texts: {exc}") from exc
        k = min(self.n_themes, X.shape[1])
        from sklearn.decomposition import NMF

        nmf = NMF(n_components=k, init="nndsvda", random_state=self.seed, max_iter=600, tol=1e-4)
        nmf.fit(X)
        H = np.asarray(nmf.components_, dtype=np.float64)
        self.vocabulary_ = [str(t) for t in vec.get_feature_names_out()]
        forms = surface_forms(docs)
        self.display_ = [forms.get(t, t) for t in self.vocabulary_]
        self.idf_ = np.asarray(vec.idf_, dtype=np.float64)
        self._set_components(H)
        return self

    def _set_components(self, H: np.ndarray) -> None:
        norms = np.linalg.norm(H, axis=1, keepdims=True)
        # kept at the precision :meth:`to_state` stores, so a reloaded model ranks keywords that
        # tie in the 6th digit exactly as the fitted one did (renormalising those values moves
        # them by less than half a unit in the 6th digit, so rounding returns them unchanged)
        self.components_ = np.round(H / np.where(norms > 0, norms, 1.0), 6)
        order = np.argsort(-self.components_, axis=1, kind="stable")[:, : self.n_keywords]
        self.themes_ = [
            Theme(i, tuple(self.display_[j] for j in row if self.components_[i, j] > 0))
            for i, row in enumerate(order)
        ]
        self._vectorizer = _vectorizer(vocabulary=self.vocabulary_)
        self._vectorizer.idf_ = self.idf_

    # -- using -----------------------------------------------------------------------------------
    def loadings(self, texts: Sequence[str] | pd.Series) -> np.ndarray:
        """(texts × themes) cosine of each text's TF-IDF vector with each theme vector."""
        check_is_fitted(self, "components_")
        import scipy.sparse as sp

        X = self._vectorizer.transform(pd.Series(texts, dtype=object).fillna("").astype(str))
        return np.asarray(sp.csr_matrix(X) @ self.components_.T)

    def assign(self, texts: Sequence[str] | pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(theme index or −1, strongest loading) per text."""
        W = self.loadings(texts)
        if W.shape[0] == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        best = W.argmax(axis=1)
        weight = W[np.arange(len(best)), best]
        return np.where(weight >= self.min_weight, best, -1).astype(np.int64), weight

    # -- persistence -----------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """The fitted model as plain JSON-ready data."""
        check_is_fitted(self, "components_")
        return {
            "n_themes": self.n_themes,
            "n_keywords": self.n_keywords,
            "min_weight": self.min_weight,
            "seed": self.seed,
            "max_features": self.max_features,
            "vocabulary": self.vocabulary_,
            "display": self.display_,
            "idf": [round(float(v), 6) for v in self.idf_],
            "components": [[round(float(v), 6) for v in row] for row in self.components_],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ThemeModel:
        """A model from :meth:`to_state` (assigns exactly as the fitted one did, to 6 digits)."""
        m = cls(
            n_themes=int(state["n_themes"]),
            n_keywords=int(state["n_keywords"]),
            min_weight=float(state["min_weight"]),
            seed=int(state["seed"]),
            max_features=int(state["max_features"]),
        )
        m.vocabulary_ = list(state["vocabulary"])
        m.display_ = list(state.get("display", m.vocabulary_))
        m.idf_ = np.asarray(state["idf"], dtype=np.float64)
        m._set_components(np.asarray(state["components"], dtype=np.float64))
        return m


_TOKEN = re.compile(r"(?u)\b[^\W\d_][^\W\d_]+\b")
_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stem, so "price, prices, pricing, priced" or "return, returns, returned,
    returning" count as one word — on short texts that is what makes themes hold together.

    Suffix stripping in the spirit of Porter's first step (plurals, -ed, -ing, a final e, a
    doubled consonant), deliberately mild: it never merges words of different meaning that a
    theme keyword would confuse. Keywords are shown in their most frequent surface form.

    >>> [stem(w) for w in ("deliveries", "prices", "pricing", "returned", "shipping", "staff")]
    ['delivery', 'pric', 'pric', 'return', 'ship', 'staff']
    """
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and _VOWELS & set(w[: -len(suffix)]):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if len(w) > 3 and w.endswith("e") and not w.endswith(("ee", "ye")):
        w = w[:-1]
    return w


def _analyze(text: str) -> list[str]:
    """Words of 2+ letters (no numbers: "2 days" and "3 days" are the same complaint), lower
    case, stop and mood words dropped, stemmed."""
    stop = stop_words()
    return [stem(w) for w in _TOKEN.findall(text.lower()) if w not in stop]


def surface_forms(texts: pd.Series) -> dict[str, str]:
    """The most frequent surface word of every stem in ``texts`` (how keywords are shown)."""
    counts: dict[str, dict[str, int]] = {}
    stop = stop_words()
    for text in texts:
        for w in _TOKEN.findall(str(text).lower()):
            if w not in stop:
                forms = counts.setdefault(stem(w), {})
                forms[w] = forms.get(w, 0) + 1
    return {s: max(sorted(f), key=lambda k: f[k]) for s, f in counts.items()}


def _vectorizer(**kwargs: Any) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=_analyze, sublinear_tf=True, dtype=np.float64, **kwargs)


def fit_sample(texts: pd.Series, size: int, seed: int) -> pd.Series:
    """The distinct texts to fit on: all of them, or a seeded sample of ``size`` (sorted first,
    so the sample does not depend on row order)."""
    distinct = pd.Series(sorted(set(texts.dropna().astype(str))), dtype=object)
    if len(distinct) <= size:
        return distinct
    pick = np.random.default_rng(seed).choice(len(distinct), size=size, replace=False)
    return distinct.iloc[np.sort(pick)].reset_index(drop=True)
