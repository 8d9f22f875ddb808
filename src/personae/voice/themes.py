"""Themes discovered from the texts: what customers talk about, named by their most telling words.

Why TF-IDF + non-negative matrix factorisation (scikit-learn): on short customer texts it finds
themes that read as topics ("delivery / parcel / late", "refund / return / label") with nothing
to download and nothing to label; every theme is a non-negative mix of words, so its words *are*
its description; it is deterministic for a seed and fits 50k texts in seconds. (LDA needs longer
documents; clustering embeddings needs a model download.)

What makes the themes topics rather than noise (issue 22: on real tweets to airlines five of
eight themes were named after the companies' own handles):

* **Cleaning** (:class:`Cleaner`): @handles, URLs, e-mail addresses and numbers are cut out
  (they break phrases too: no bigram spans them); a hashtag keeps its word; the company's own
  names (``voice.own_names``), competitors' names (``voice.competitors``) and every word seen as
  an @handle in the texts never enter the vocabulary; neither does a word in more than half of
  the texts (``max_df``: on a brand's feed that is the brand).
* **Vocabulary**: English stop words, mood words ("great", "terrible": sentiment is measured
  apart, and themes should be about *what*, not *how it felt*) and filler are left out, words are
  lightly stemmed (:func:`stem`), and **phrases count**: two adjacent content words ("customer
  service", "runs small") are a term of their own.
* **Naming** (:func:`telling_terms`): a theme is named by its most *telling* terms — loading ×
  log(1 + lift), where lift is how much more often the term occurs in the theme's texts than in
  all texts (c-TF-IDF in spirit) — so a frequent word every theme shares does not name them all;
  two or three terms, a phrase counting for its words, and no two themes with the same name.
* **Guided themes** (``guides``): a theme given by seed words (``voice themes --seed FILE``) or
  by an analyst's labelled texts keeps its name; its vector is its seed words plus the words
  over-represented in its texts (those with a seed word, or labelled with it); the remaining
  themes are discovered by NMF on the texts no guide claims.
* **Assignment**: a text's loadings are the non-negative least-squares fit of its TF-IDF vector
  on the unit-norm theme vectors (multiplicative updates with the themes fixed: exactly what NMF
  itself gives the texts it was fitted on, so assignment agrees with the fit, and texts explained
  by two themes show both). A text whose strongest loading is below ``min_weight`` gets none
  (``-1``, shown as "other").
* The fitted model is plain lists (vocabulary, IDF weights, theme vectors, names), stored as
  JSON, so later builds assign new texts to the *same* themes, and names given by people survive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """great good bad love loved lovely terrible awful excellent amazing brilliant perfect perfectly
    best worst nice happy unhappy disappointed disappointing poor fantastic wonderful horrible really
    just thanks thank thankyou ok okay fine pretty quite bit lot lots ever absolutely totally highly
    definitely recommend recommended will shop again time times day days week weeks month months
    year years got get getting went go going make made did does thing things actually literally one
    two three four five like im ive dont didnt doesnt isnt wasnt cant wont don didn doesn isn wasn
    ain won couldn wouldn shouldn ve ll want wanted need know think say said tell told please pls
    hi hello guys lol omg yes yeah way today now still yet""".split()  # noqa: SIM905 (a list of 130 words)
)
OTHER = "other"
#: Where something was cut out of a text (a handle, URL, number, own or competitor name): a
#: phrase never spans it.
BREAK = " \x00 "


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


_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@(\w{1,50})")
_NUMBER = re.compile(r"[£$€#]?\b[^\W\d]*\d[\w,.:/'-]*")
_DIGIT = re.compile(r"\d")
_HASH = re.compile(r"(?<![\w#])#(?=[^\W\d_])")
_TOKEN = re.compile(r"(?u)\b[^\W\d_][^\W\d_]+\b")
_VOWELS = frozenset("aeiouy")
_PIECES = re.compile(r"[\x00.!?;:,()\[\]\"/|\n\r\t…–—-]+")


def handle_words(texts: Iterable[str]) -> set[str]:
    """Lower-case names seen as @handles (``@AmericanAir`` → ``americanair``), and their parts
    split at ``_`` and at case changes (``american``, ``air``): a company's own name, which the
    texts use as a word too, but never a topic.

    >>> sorted(handle_words(["@AmericanAir why", "thanks @jet_blue"]))
    ['air', 'american', 'americanair', 'blue', 'jet', 'jet_blue']
    """
    found: set[str] = set()
    for text in texts:
        for h in _HANDLE.findall(str(text)):
            found.add(h.lower())
            for part in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", h):
                if len(part) >= 3:
                    found.add(part.lower())
    return found


def name_words(names: Sequence[str]) -> set[str]:
    """The content words of brand names ("Marks and Spencer" → marks, spencer), lower case."""
    stop = stop_words()
    return {w for n in names for w in _TOKEN.findall(n.lower()) if w not in stop}


def _names_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = sorted({n.strip() for n in names if n.strip()}, key=lambda n: (-len(n), n))
    if not cleaned:
        return None
    alts = "|".join(r"\s+".join(re.escape(part) for part in n.split()) for n in cleaned)
    return re.compile(rf"(?<![\w])(?:{alts})(?![\w])", re.IGNORECASE)


class Cleaner:
    """Turns a text into its theme terms: words and two-word phrases, stemmed, with handles,
    URLs, e-mails, numbers, stop and mood words, and banned names left out.

    Args:
        names: brand names cut out as whole phrases (own and competitors').
        banned: single words never made a term (the names' words, handle words).
        bigrams: also count two adjacent content words as a phrase.
        stemming: ``light`` (:func:`stem`) or ``plural`` (:func:`singular`).

    >>> c = Cleaner(names=["Acme"], banned={"acme"}, stemming="plural")
    >>> c.terms("@AcmeHelp Customer service at Acme never replied http://x.co #refund 3 days")
    ['customer', 'service', 'replied', 'refund', 'customer service']
    """

    def __init__(
        self,
        names: Sequence[str] = (),
        banned: Iterable[str] = (),
        *,
        bigrams: bool = True,
        stemming: str = "light",
    ) -> None:
        self.names = tuple(names)
        self.banned = frozenset(w.lower() for w in banned)
        self.bigrams = bigrams
        self.stemming = stemming
        self._stem = STEMMERS[stemming]
        self._pattern = _names_pattern(self.names)

    def clean(self, text: str) -> str:
        """The text with handles, URLs, e-mails, numbers and names cut out (a break in their place)."""
        # each pattern only where it can match: most texts have no URL, "@" or digit
        t = text
        lower = t.lower()
        if "http" in lower or "www." in lower:
            t = _URL.sub(BREAK, t)
        if "@" in t:
            t = _HANDLE.sub(BREAK, _EMAIL.sub(BREAK, t))
        if "#" in t:
            t = _HASH.sub("", t)
        if _DIGIT.search(t):
            t = _NUMBER.sub(BREAK, t)
        if self._pattern is not None:
            t = self._pattern.sub(BREAK, t)
        return t

    def terms(self, text: str) -> list[str]:
        """Stemmed words, then (with ``bigrams``) the phrases of adjacent content words."""
        stop = stop_words()
        out: list[str] = []
        phrases: list[str] = []
        for piece in _PIECES.split(self.clean(str(text)).lower()):
            prev: str | None = None
            for w in _TOKEN.findall(piece):
                if w in stop or w in self.banned:
                    prev = None
                    continue
                s = self._stem(w)
                out.append(s)
                if prev is not None and self.bigrams:
                    phrases.append(f"{prev} {s}")
                prev = s
        return out + phrases

    __call__ = terms

    def surface(self, text: str) -> list[tuple[str, str]]:
        """(term, the words as written) for every term of ``text`` (how keywords are shown)."""
        stop = stop_words()
        out: list[tuple[str, str]] = []
        for piece in _PIECES.split(self.clean(str(text)).lower()):
            prev: tuple[str, str] | None = None
            for w in _TOKEN.findall(piece):
                if w in stop or w in self.banned:
                    prev = None
                    continue
                s = self._stem(w)
                out.append((s, w))
                if prev is not None and self.bigrams:
                    out.append((f"{prev[0]} {s}", f"{prev[1]} {w}"))
                prev = (s, w)
        return out


@dataclass(frozen=True)
class Theme:
    """One theme: its number, telling keywords, and its name (a guide's, or made of keywords)."""

    index: int
    keywords: tuple[str, ...]
    name: str = ""
    guided: bool = False

    @property
    def default_name(self) -> str:
        return self.name or " / ".join(self.keywords[:3])


class ThemeModel:
    """Themes fitted on texts (discovered, or guided by seed words and labelled texts), then used
    to assign any text.

    Args:
        n_themes: themes in all (guided ones included; at least one is discovered freely unless
            the guides fill them all).
        n_keywords: keywords kept per theme.
        min_weight: below this strongest loading a text gets no theme.
        seed: NMF seed.
        max_features: vocabulary size (most frequent terms).
        own_names: the company's own names (never in a theme).
        competitors: competitors' names (never in a theme).
        max_df: a term in more than this share of the texts is left out.
        bigrams: count two-word phrases.
        stemming: ``light``, ``plural`` or ``auto`` (chosen by text length at fit, see
            :func:`choose_stemming`).
    """

    def __init__(
        self,
        n_themes: int = 8,
        n_keywords: int = 8,
        min_weight: float = 0.05,
        seed: int = 0,
        max_features: int = 5000,
        own_names: Sequence[str] = (),
        competitors: Sequence[str] = (),
        max_df: float = 0.5,
        bigrams: bool = True,
        stemming: str = "auto",
    ) -> None:
        self.n_themes = n_themes
        self.n_keywords = n_keywords
        self.min_weight = min_weight
        self.seed = seed
        self.max_features = max_features
        self.own_names = list(own_names)
        self.competitors = list(competitors)
        self.max_df = max_df
        self.bigrams = bigrams
        self.stemming = stemming

    # -- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str] | pd.Series,
        guides: Mapping[str, Sequence[str]] | None = None,
        labelled: pd.DataFrame | None = None,
    ) -> ThemeModel:
        """Find the themes of ``texts`` (distinct texts are enough: repeats add nothing new).

        Args:
            texts: the texts to learn from.
            guides: seeded themes, name → seed words or phrases.
            labelled: analysts' labelled texts, columns ``text, theme``: each theme named there
                learns its vocabulary from its texts (and its seed words, if also seeded).
        """
        docs = pd.Series(texts, dtype=object).dropna().astype(str)
        docs = docs[docs.str.strip() != ""].reset_index(drop=True)
        if len(docs) < max(2 * self.n_themes, 10):
            raise ModelError(
                f"{len(docs)} texts are too few to find {self.n_themes} themes",
                hint="ingest more comments or reviews, or lower voice.n_themes",
            )
        seeds = _guides(guides, labelled)
        lab = _labelled(labelled)
        names = [*self.own_names, *self.competitors]
        banned = name_words(names) | handle_words(docs) | handle_words(lab["text"])
        self.stemming_ = choose_stemming(docs) if self.stemming == "auto" else self.stemming
        cleaner = Cleaner(names, banned, bigrams=self.bigrams, stemming=self.stemming_)
        seed_terms = {g: [t for w in words for t in _seed_terms(cleaner, w)] for g, words in seeds.items()}
        max_df = self.max_df if len(docs) >= 50 else 1.0
        vec = _vectorizer(
            cleaner, min_df=2 if len(docs) >= 200 else 1, max_df=max_df, max_features=self.max_features
        )
        try:
            vec.fit(docs)
        except ValueError as exc:  # every word a stop word
            raise ModelError(f"no theme words in the texts: {exc}") from exc
        vocab = [str(t) for t in vec.get_feature_names_out()]
        extra = sorted({t for ts in seed_terms.values() for t in ts} - set(vocab))
        if extra:  # seed words the frequency cut left out still count
            vec = _vectorizer(cleaner, vocabulary=sorted([*vocab, *extra]))
            vec.fit(docs)
            vocab = [str(t) for t in vec.get_feature_names_out()]
        X = _csr(vec.transform(docs))
        column = {t: j for j, t in enumerate(vocab)}
        rows: list[np.ndarray] = []
        claimed = np.zeros(len(docs), dtype=bool)
        Xl = _csr(vec.transform(lab["text"])) if len(lab) else None
        for g in seeds:
            cols = [column[t] for t in seed_terms[g] if t in column]
            members = _has_any(X, cols)
            claimed |= members
            parts = [X[np.flatnonzero(members)]]
            mine = np.asarray(lab["theme"] == g)
            if Xl is not None and mine.any():
                parts.append(Xl[np.flatnonzero(mine)])
            v = _guide_vector(parts, X, cols)
            if Xl is not None and mine.any():
                # a labelled theme claims the texts that share its most telling words (and its
                # labelled texts), so the free themes do not find it a second time
                learned = [int(j) for j in np.argsort(-v, kind="stable")[:LEARNED_SEEDS] if v[j] > 0]
                claimed |= _has_any(X, learned) | docs.isin(set(lab.loc[mine, "text"])).to_numpy()
            rows.append(v)
        n_free = max(self.n_themes - len(seeds), 0 if seeds else 1)
        free = X[np.flatnonzero(~claimed)] if (~claimed).sum() >= max(2 * n_free, 10) else X
        if n_free:
            from sklearn.decomposition import NMF

            k = min(n_free, X.shape[1], free.shape[0])
            nmf = NMF(n_components=k, init="nndsvda", random_state=self.seed, max_iter=600, tol=1e-4)
            nmf.fit(free)
            rows.extend(np.asarray(nmf.components_, dtype=np.float64))
        H = np.vstack(rows)
        self.vocabulary_ = vocab
        self.display_ = _display(cleaner, docs, vocab)
        self.idf_ = np.asarray(vec.idf_, dtype=np.float64)
        self.banned_ = sorted(banned)
        self.guides_ = {g: list(seeds[g]) for g in seeds}
        self._set_components(H)
        W = self._solve(X)
        self.keyword_ids_ = telling_terms(X, W, self.components_, self.min_weight, self.n_keywords)
        self._set_themes()
        return self

    def _set_components(self, H: np.ndarray) -> None:
        norms = np.linalg.norm(H, axis=1, keepdims=True)
        # kept at the precision :meth:`to_state` stores, so a reloaded model assigns texts
        # exactly as the fitted one did
        self.components_ = np.round(H / np.where(norms > 0, norms, 1.0), 6)
        names = [*self.own_names, *self.competitors]
        self._cleaner = Cleaner(names, self.banned_, bigrams=self.bigrams, stemming=self.stemming_)
        self._vectorizer = _vectorizer(self._cleaner, vocabulary=self.vocabulary_)
        self._vectorizer.idf_ = self.idf_

    def _set_themes(self) -> None:
        guided = list(self.guides_)
        themes: list[Theme] = []
        used: set[str] = set(guided)
        for i, ids in enumerate(self.keyword_ids_):
            words = tuple(self.display_[j] for j in ids)
            if i < len(guided):
                themes.append(Theme(i, words, guided[i], guided=True))
                continue
            name = theme_name(words, used)
            used.add(name)
            themes.append(Theme(i, words, name))
        self.themes_ = themes

    # -- using -----------------------------------------------------------------------------------
    def vectors(self, texts: Sequence[str] | pd.Series) -> Any:
        """TF-IDF vectors (sparse, one row per text) in the model's vocabulary."""
        check_is_fitted(self, "components_")
        return _csr(self._vectorizer.transform(pd.Series(texts, dtype=object).fillna("").astype(str)))

    def loadings(self, texts: Sequence[str] | pd.Series) -> np.ndarray:
        """(texts × themes) non-negative loadings: how much of each text each theme explains."""
        return self._solve(self.vectors(texts))

    def _solve(self, X: Any, iterations: int = 200, chunk: int = 100_000) -> np.ndarray:
        """Non-negative least squares of each row of ``X`` on the theme vectors (multiplicative
        updates with the themes fixed, as NMF's own ``transform``), in chunks of rows.

        The products are (rows × k) by (k × k): BLAS threads only cost there (80× slower on a
        busy 2-core machine), so they are held to one. Stops early once no loading moves by
        more than 1e-6 between checks (every 10 updates).
        """
        from threadpoolctl import threadpool_limits

        H = self.components_
        HH = H @ H.T
        out = np.zeros((X.shape[0], H.shape[0]))
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, X.shape[0], chunk):
                XH = np.asarray(X[start : start + chunk] @ H.T)
                W = np.where(XH.sum(axis=1, keepdims=True) > 0, 0.1, 0.0) * np.ones_like(XH)
                for i in range(iterations):
                    before = W.copy() if i % 10 == 9 else None
                    W *= XH / np.maximum(W @ HH, 1e-12)
                    if before is not None and np.abs(W - before).max() < 1e-6:
                        break
                out[start : start + chunk] = W
        return np.round(out, 6)

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
            "version": 2,
            "n_themes": self.n_themes,
            "n_keywords": self.n_keywords,
            "min_weight": self.min_weight,
            "seed": self.seed,
            "max_features": self.max_features,
            "own_names": self.own_names,
            "competitors": self.competitors,
            "max_df": self.max_df,
            "bigrams": self.bigrams,
            "stemming": self.stemming_,
            "banned": self.banned_,
            "guides": self.guides_,
            "vocabulary": self.vocabulary_,
            "display": self.display_,
            "idf": [round(float(v), 6) for v in self.idf_],
            "components": [[round(float(v), 6) for v in row] for row in self.components_],
            "keywords": [list(map(int, ids)) for ids in self.keyword_ids_],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ThemeModel:
        """A model from :meth:`to_state` (assigns exactly as the fitted one did, to 6 digits).

        States written before version 2 (stemmed single words, cosine assignment) are refused:
        the themes must be fitted afresh.
        """
        if int(state.get("version", 1)) < 2:
            raise ModelError(
                "the stored theme model predates phrases and name cleaning",
                hint="run `personae voice build --refit`",
            )
        m = cls(
            n_themes=int(state["n_themes"]),
            n_keywords=int(state["n_keywords"]),
            min_weight=float(state["min_weight"]),
            seed=int(state["seed"]),
            max_features=int(state["max_features"]),
            own_names=state.get("own_names", []),
            competitors=state.get("competitors", []),
            max_df=float(state["max_df"]),
            bigrams=bool(state["bigrams"]),
            stemming=str(state["stemming"]),
        )
        m.stemming_ = m.stemming
        m.vocabulary_ = list(state["vocabulary"])
        m.display_ = list(state.get("display", m.vocabulary_))
        m.idf_ = np.asarray(state["idf"], dtype=np.float64)
        m.banned_ = list(state.get("banned", []))
        m.guides_ = {str(k): list(v) for k, v in state.get("guides", {}).items()}
        m._set_components(np.asarray(state["components"], dtype=np.float64))
        m.keyword_ids_ = [[int(j) for j in ids] for ids in state["keywords"]]
        m._set_themes()
        return m


# -- naming ----------------------------------------------------------------------------------
def telling_terms(X: Any, W: np.ndarray, H: np.ndarray, min_weight: float, n: int) -> list[list[int]]:
    """Per theme, the ``n`` terms that tell it apart: loading × log(1 + lift).

    The lift of a term in a theme is its share of the TF-IDF mass of the theme's texts (those
    whose strongest loading it is) over its share in all texts — c-TF-IDF's idea: "size" may load
    on every theme of clothing reviews, but only the fit theme has it three times as often. The
    loading keeps a rare word that happens to sit in a small theme from naming it. Themes
    without texts fall back on their loadings.
    """
    mass = np.asarray(X.sum(axis=0)).ravel()
    overall = mass / max(mass.sum(), 1e-12)
    best = W.argmax(axis=1) if W.shape[0] else np.empty(0, dtype=np.int64)
    strong = W.max(axis=1) >= min_weight if W.shape[0] else np.empty(0, dtype=bool)
    out: list[list[int]] = []
    for i in range(H.shape[0]):
        rows = np.flatnonzero((best == i) & strong)
        score = H[i].copy()
        if len(rows):
            m = np.asarray(X[rows].sum(axis=0)).ravel()
            share = m / max(m.sum(), 1e-12)
            lift = np.divide(share, overall, out=np.zeros_like(share), where=overall > 0)
            score = H[i] * np.log1p(lift)
        order = np.lexsort((np.arange(len(score)), -np.round(score, 9)))
        out.append([int(j) for j in order[:n] if score[j] > 0])
    return [ids[:n] for ids in out]


def theme_name(keywords: Sequence[str], taken: Iterable[str] = ()) -> str:
    """Two or three telling keywords joined with " / " (a phrase counts as its words, and a
    keyword already inside a chosen phrase is skipped); a name another theme has grows a word.

    >>> theme_name(["customer service", "customer", "rude", "wait"])
    'customer service / rude'
    >>> theme_name(["size", "small", "runs", "fit"], taken=["size / small / runs"])
    'size / small / runs / fit'
    """
    taken = set(taken)
    chosen: list[str] = []
    words: set[str] = set()
    for k in keywords:
        parts = set(k.split())
        if parts <= words:
            continue
        chosen.append(k)
        words |= parts
        enough = len(chosen) >= 3 or (len(chosen) == 2 and len(words) >= 3)
        if enough and " / ".join(chosen) not in taken:
            return " / ".join(chosen)
    base = " / ".join(chosen) or "(no keywords)"
    name, i = base, 2
    while name in taken:
        name, i = f"{base} ({i})", i + 1
    return name


# -- guides ----------------------------------------------------------------------------------
def _guides(
    guides: Mapping[str, Sequence[str]] | None, labelled: pd.DataFrame | None
) -> dict[str, list[str]]:
    """Seeded themes first (in the order given), then themes only labelled texts name."""
    out: dict[str, list[str]] = {}
    for name, words in (guides or {}).items():
        name = str(name).strip()
        if name and name != OTHER:
            out[name] = [str(w) for w in words if str(w).strip()]
    lab = _labelled(labelled)
    for name in sorted(set(lab["theme"])):
        out.setdefault(name, [])
    return out


def _labelled(labelled: pd.DataFrame | None) -> pd.DataFrame:
    if labelled is None or labelled.empty:
        return pd.DataFrame({"text": pd.Series([], dtype=object), "theme": pd.Series([], dtype=object)})
    lab = labelled[["text", "theme"]].dropna()
    lab = lab.assign(text=lab["text"].astype(str), theme=lab["theme"].astype(str).str.strip())
    return lab[(lab["theme"] != "") & (lab["theme"] != OTHER)].reset_index(drop=True)


def _seed_terms(cleaner: Cleaner, word: str) -> list[str]:
    """A seed word or phrase as terms: its stem, and a two-word phrase as that phrase."""
    terms = cleaner.terms(word)
    phrases = [t for t in terms if " " in t]
    return phrases or terms


def _has_any(X: Any, cols: list[int]) -> np.ndarray:
    if not cols:
        return np.zeros(X.shape[0], dtype=bool)
    return np.asarray((X[:, cols] > 0).sum(axis=1)).ravel() > 0


def _guide_vector(parts: list[Any], X: Any, seed_cols: list[int], keep: int = 60) -> np.ndarray:
    """A guided theme's vector: the words over-represented in its texts (their mean TF-IDF above
    the corpus mean, the ``keep`` strongest), with its seed words on top."""
    import scipy.sparse as sp

    v = np.zeros(X.shape[1])
    members = sp.vstack([p for p in parts if p.shape[0]]) if any(p.shape[0] for p in parts) else None
    if members is not None:
        lift = np.asarray(members.mean(axis=0)).ravel() - np.asarray(X.mean(axis=0)).ravel()
        lift = np.clip(lift, 0, None)
        if np.count_nonzero(lift) > keep:
            lift[lift < np.sort(lift)[-keep]] = 0.0
        v = lift
    if seed_cols:
        top = v.max() if v.max() > 0 else 1.0
        v[seed_cols] = top
    return v


def _csr(X: Any) -> Any:
    import scipy.sparse as sp

    return sp.csr_matrix(X)


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


def singular(word: str) -> str:
    """The singular of an English plural ("deliveries" → "delivery", "jeans" → "jean") and
    nothing more: the stemming of long texts (see :func:`choose_stemming`).

    >>> [singular(w) for w in ("deliveries", "prices", "pricing", "returned", "dress", "status")]
    ['delivery', 'price', 'pricing', 'returned', 'dress', 'status']
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


#: Top words of a labelled theme that claim texts for it (as seed words do for a seeded one).
LEARNED_SEEDS = 3
#: Median words per text from which :func:`choose_stemming` only takes plurals off.
LONG_TEXT_WORDS = 30
STEMMERS: dict[str, Callable[[str], str]] = {"light": stem, "plural": singular}


def choose_stemming(texts: pd.Series) -> str:
    """``light`` (:func:`stem`) for short texts, ``plural`` (:func:`singular`) for long ones.

    Why it depends on length: a tweet or a survey comment has a dozen words, and only merging
    "delivered" with "delivery" or "returned" with "return" lets two such texts share a word at
    all (on the 108 hand-written short texts of the tests the themes agree with the labels at
    NMI 0.48 with light stemming, 0.39 plural-only). A review of sixty words says enough for
    co-occurrence to group words, and there merging "fitted" with "fit" or "ordered" with
    "order" blurs them (on the real clothing reviews, median 57 words: NMI with the product
    departments 0.165 light, 0.190 plural-only, averaged over 5–12 themes).
    """
    words = np.array([len(str(t).split()) for t in texts])
    return "plural" if len(words) and float(np.median(words)) >= LONG_TEXT_WORDS else "light"


def _display(cleaner: Cleaner, texts: pd.Series, vocabulary: Sequence[str]) -> list[str]:
    """How each term is shown: its most frequent surface form in ``texts`` (a phrase as written)."""
    counts: dict[str, dict[str, int]] = {}
    wanted = set(vocabulary)
    for text in texts:
        for term, form in cleaner.surface(str(text)):
            if term in wanted:
                forms = counts.setdefault(term, {})
                forms[form] = forms.get(form, 0) + 1
    out = []
    for t in vocabulary:
        f = counts.get(t)
        out.append(max(sorted(f), key=lambda k: f[k]) if f else t)
    return out


def _vectorizer(cleaner: Cleaner, **kwargs: Any) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # raw term counts (no sublinear tf): measured better on the real reviews (NMI 0.195 against
    # 0.172 with log counts, no stemming, 5–12 themes)
    return TfidfVectorizer(analyzer=cleaner, dtype=np.float64, **kwargs)


def fit_sample(texts: pd.Series, size: int, seed: int) -> pd.Series:
    """The distinct texts to fit on: all of them, or a seeded sample of ``size`` (sorted first,
    so the sample does not depend on row order)."""
    distinct = pd.Series(sorted(set(texts.dropna().astype(str))), dtype=object)
    if len(distinct) <= size:
        return distinct
    pick = np.random.default_rng(seed).choice(len(distinct), size=size, replace=False)
    return distinct.iloc[np.sort(pick)].reset_index(drop=True)
