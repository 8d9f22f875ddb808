"""The sentiment model: a linear classifier over hashed n-grams, VADER's scores and cue features.

Why a trained model and not the lexicon alone: a lexicon adds up word valences, so "thanks… still
waiting 3 hours" is positive ("thanks") and "not bad at all" depends on one negation rule. A
linear model over word and character n-grams learns which words *in context* people read as
negative, and keeps VADER's scores (with the retail lexicon of :mod:`personae.voice.lexicon`)
as features, so what VADER knows is not lost.

The shipped weights (``sentiment_model.npz`` beside this module) were fitted on the 23,699
human-rated texts of Hutto & Gilbert (2014) — tweets, Amazon review sentences, movie review
sentences and New York Times editorial sentences, each the mean rating of about 20 people on
−4…+4 — which ship in the ``vaderSentiment`` 3.3.2 sdist under the MIT licence.
``python -m personae.devtools.train_sentiment`` refits them from that archive (see
docs/voice.md). Nothing is downloaded at run time.

What the features handle, each in :func:`prepare`:

* @mentions → ``@user``, URLs → ``http``, HTML entities unescaped, numbers → ``0``;
* elongation ("soooo") → "soo" plus a count (people stress with it);
* negation: words after "not", "never", "n't", "no" … up to the next punctuation get a ``not_``
  prefix, so "not good" and "good" are different features;
* contrast: VADER's score of the clause after the last "but" / "however" is a feature of its own
  (the clause after "but" usually carries the verdict);
* polite complaints: a "thanks" / "please" in a text that also waits, is delayed, lost,
  cancelled, still not … is rewritten to a courtesy token the model has never seen as
  positive, and VADER is scored on the text without the courtesy words;
* sarcasm markers ("yeah right", "thanks a lot", "love how", "#sarcasm", "🙄" …) and emoji
  (VADER's emoji lexicon plus counts of clearly positive and negative emoji).

The score of a text is P(positive) − P(negative) of the model, from −1 to +1.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from personae.voice.lexicon import PHRASE_TOKENS, WORDS, rewrite_phrases

if TYPE_CHECKING:
    import scipy.sparse as sp

#: Class order of every probability matrix.
CLASSES = ("negative", "neutral", "positive")
#: Where the shipped weights are.
SHIPPED = Path(__file__).with_name("sentiment_model.npz")
#: Texts with this many sentences or more are scored sentence by sentence (see ``proba``).
LONG_TEXT = 3
#: Size of each hashed space (words, characters).
WORD_BITS = 18
CHAR_BITS = 18

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[a-z0-9_'#@]+|[.,!?;:]|[^\sa-z0-9_'#@.,!?;:]")
_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "neither",
        "nor",
        "without",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "arent",
        "werent",
        "wont",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "havent",
        "hasnt",
        "hadnt",
        "aint",
        "barely",
        "hardly",
    ]
)
_CLAUSE_END = frozenset(".,!?;:")
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|except)\b", re.IGNORECASE)
_COURTESY = re.compile(
    r"\b(?:thanks|thank you|thank u|thx|ty|appreciate(?:d)?|please|pls|plz|great job|nice job"
    r"|good job|well done|love|lovely|great|awesome|amazing|fantastic|wonderful|perfect)\b",
    re.IGNORECASE,
)
_POLITE = re.compile(r"\b(?:thanks|thank you|thank u|thx|appreciate(?:d)?|please|pls|plz)\b", re.IGNORECASE)
#: Words of a service failure: waiting, delays, things lost, broken, cancelled, unanswered.
_COMPLAINT = re.compile(
    r"\b(?:still|again|never|no one|nobody|no response|no reply|no answer|wait(?:ed|ing)?"
    r"|hours?|hrs?|delay(?:ed|s)?|late|cancell?(?:ed|ation)|lost|missing|stuck|on hold"
    r"|refund|charged|overbooked|stranded|rebook(?:ed)?|broken|broke|useless|ignored|ridiculous"
    r"|unacceptable|terrible|worst|disappointed|disappointing|rude|problem|issue|fail(?:ed|s)?"
    r"|not working|complaint)\b",
    re.IGNORECASE,
)
_SARCASM = re.compile(
    r"(?:\byeah right\b|\boh great\b|\bjust great\b|\bthanks a lot\b|\b(?:thanks|thank you) for nothing\b"
    r"|\bthanks for (?:making|ruining|losing|wasting)\b|\blove (?:how|it when|that you|the way)\b"
    r"|\bso much for\b|\bwhat a (?:surprise|joke|shock)\b|\bshocker\b|\bbig surprise\b|#sarcasm"
    r"|(?:^|\s)/s\b|\bnot!|\bcool story\b|\bgood one\b|\bway to go\b|\bbravo\b|🙄|😒|🙃"
    r"|\bgreat job\b.*\b(?:again|still|never|lost|delay)|\bwell done\b.*\b(?:again|still|never))",
    re.IGNORECASE,
)
_POS_EMOJI = frozenset("😀😃😄😁😆😊🙂😍🥰😘😎👍👏🙌💯❤💕💖💗💙💚💛💜🎉✨😂🤣")
_NEG_EMOJI = frozenset("😠😡🤬😤😞😟😔😢😭😩😫😖😣😒🙄👎💔😑😐🤦😬")

#: Names of the dense features, in column order.
DENSE = (
    "vader_compound",
    "vader_pos",
    "vader_neg",
    "vader_neu",
    "vader_min_sentence",
    "vader_max_sentence",
    "vader_last_sentence",
    "vader_after_contrast",
    "has_contrast",
    "vader_without_courtesy",
    "polite",
    "complaint_cues",
    "polite_complaint",
    "sarcasm",
    "sarcasm_x_positive",
    "negations",
    "exclamations",
    "questions",
    "all_caps",
    "elongated",
    "mentions",
    "urls",
    "positive_emoji",
    "negative_emoji",
    "words",
)


_POS_EMOJI_RE = re.compile("[" + re.escape("".join(sorted(_POS_EMOJI))) + "]")
_NEG_EMOJI_RE = re.compile("[" + re.escape("".join(sorted(_NEG_EMOJI))) + "]")


class _OnLower:
    """A case-insensitive pattern, run on lower-case text as fast as the text allows.

    Why: Python's ``re`` is 2–10× slower with IGNORECASE, and these patterns run on every
    sentence. On ASCII lower-case text the pattern compiled without IGNORECASE matches exactly
    where the original does (its literals are lower case); other text gets the original. With
    ``keys`` (lower-case strings one of which is in every match), ASCII text holding none of
    them is not searched at all.

    Example:
        >>> _SARCASM_L.search("yeah right, as if") is not None, _SARCASM_L.search("fits well") is None
        (True, True)
    """

    def __init__(self, pattern: re.Pattern[str], keys: tuple[str, ...] = ()) -> None:
        self.pattern = pattern
        self.fast = re.compile(pattern.pattern)
        self.keys = keys

    def search(self, lower: str) -> re.Match[str] | None:
        if not lower.isascii():
            return self.pattern.search(lower)
        if self.keys and not any(k in lower for k in self.keys):
            return None
        return self.fast.search(lower)

    def count(self, lower: str) -> int:
        return len((self.fast if lower.isascii() else self.pattern).findall(lower))


_POLITE_L = _OnLower(_POLITE)
_COMPLAINT_L = _OnLower(_COMPLAINT)
_CONTRAST_L = _OnLower(_CONTRAST)
#: Every match of :data:`_SARCASM` holds one of these (``test_sarcasm_keys_cover_the_pattern``).
_SARCASM_KEYS = (
    "yeah right",
    "great",
    "thank",
    "love ",
    "so much for",
    "what a ",
    "shocker",
    "big surprise",
    "#sarcasm",
    "/s",
    "not!",
    "cool story",
    "good one",
    "way to go",
    "bravo",
    "well done",
)
_SARCASM_L = _OnLower(_SARCASM, _SARCASM_KEYS)
_LETTERS = re.compile(r"[A-Za-z]{2,}")
_CONTRAST_WORDS = frozenset(["but", "however", "although"])


@lru_cache(maxsize=1)
def _vader() -> Any:
    """VADER (:class:`personae.voice.vader.FastVader`: same scores, faster) with the retail lexicon."""
    from personae.voice.vader import FastVader  # start-up: VADER and its lexicon load when text is scored

    analyzer = FastVader()
    for word, valence in {**WORDS, **PHRASE_TOKENS}.items():
        analyzer.lexicon.setdefault(word, valence)
    return analyzer


_EMPTY = {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}


def _compound(text: str) -> dict[str, float]:
    if not text.strip():
        return _EMPTY
    scores: dict[str, float] = _vader().polarity_scores(rewrite_phrases(text))
    return scores


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def _sentences(text: str) -> tuple[float, float, float, float, float, float, float]:
    """VADER per sentence: the mean compound, pos, neg, neu and the lowest, highest and last compound.

    Per sentence, not the whole text: VADER's negation check is quadratic in a text's length,
    and a review's verdict is often one sentence among several (its lowest or its last).
    """
    sentences = [p for p in _SENTENCE.split(text) if p.strip()] or [""]
    if len(sentences) == 1:  # most pieces: one VADER call, no averaging
        g = _compound(sentences[0])
        one = g["compound"]
        return one, g["pos"], g["neg"], g["neu"], one, one, one
    got = [_compound(p) for p in sentences]
    c = [g["compound"] for g in got]
    n = len(got)
    return (
        sum(c) / n,
        sum(g["pos"] for g in got) / n,
        sum(g["neg"] for g in got) / n,
        sum(g["neu"] for g in got) / n,
        min(c),
        max(c),
        c[-1],
    )


def _normalise(text: str) -> tuple[str, int, int, int]:
    """Text with URLs, mentions, numbers and elongations normalised; and their counts."""
    text = html.unescape(text)
    text, urls = _URL.subn(" http ", text)
    text, mentions = _MENTION.subn(" @user ", text)
    text, elongated = _ELONGATED.subn(r"\1\1", text)
    return text, urls, mentions, elongated


def _negated_tokens(lower: str) -> tuple[list[str], int]:
    """Tokens, with ``not_`` before each word in the scope of a negation; and the negation count."""
    out: list[str] = []
    negated = False
    count = 0
    for tok in _TOKEN.findall(_NUMBER.sub("0", lower)):
        bare = tok.replace("'", "")
        if tok in _CLAUSE_END or bare in _CONTRAST_WORDS:
            negated = False
            out.append(tok)
        elif bare in _NEGATORS or (bare.endswith("nt") and tok.endswith("n't")):
            negated = True
            count += 1
            out.append(bare)
        else:
            out.append("not_" + tok if negated else tok)
    return out, count


def words(text: str) -> str:
    """The word tokens of :func:`prepare` (normalised, negation-scoped) without its VADER
    features: what a model taught on the user's texts reads, at a fraction of the cost.

    Example:
        >>> words("@shop NOT happy!!! http://x.co")
        '@user not not_happy ! ! ! http'
    """
    norm = _normalise(text or "")[0]
    return " ".join(_negated_tokens(norm.lower())[0])


def _is_polite_complaint(text: str) -> bool:
    """Courtesy ("thanks", "please") next to a service failure, and no praise besides.

    The @mentions and URLs are normalised first: a handle is a name, not praise ("@united"
    would otherwise lend the text VADER's +1.8 for "united" and hide the complaint).

    Example:
        >>> _is_polite_complaint("Thanks @airline, 2 hours on hold and still nothing")
        True
        >>> _is_polite_complaint("@united thanks for the update, still on the tarmac 2 hours later")
        True
        >>> _is_polite_complaint("Thanks, the refund came quickly, great service")
        False
    """
    lower = _MENTION.sub(" @user ", _URL.sub(" http ", text or "")).lower()
    if not (_POLITE_L.search(lower) and _COMPLAINT_L.search(lower)):
        return False
    return _compound(_POLITE.sub(" ", lower))["compound"] < 0.3


@dataclass(frozen=True)
class Prepared:
    """One text ready for the model: its tokens (negation-scoped), the distinct tokens its
    character n-grams are read from, the dense features, and whether it is a polite complaint
    (:func:`_is_polite_complaint`)."""

    tokens: list[str]
    chars: list[str]
    dense: np.ndarray = field(repr=False)
    polite_complaint: bool = False

    @property
    def words(self) -> str:
        """The tokens as the text the word n-grams are read from."""
        return " ".join(self.tokens)


def prepare(text: str) -> Prepared:
    """The n-gram inputs and dense features of one text (see the module docstring).

    Every VADER score a text needs is computed once here: the sentences' scores give the mean,
    lowest, highest and last, and only the clause after a "but" or a text stripped of courtesy
    words is scored again.

    Example:
        >>> p = prepare("@united thanks... still waiting for my bag, 3 hours now")
        >>> p.words
        '@user . . . still waiting for my bag , 0 hours now'
        >>> float(dict(zip(DENSE, p.dense.round(2)))["polite_complaint"])
        1.0
    """
    text = text or ""
    norm, urls, mentions, elongated = _normalise(text)
    lower = norm.lower()
    polite = _POLITE_L.search(lower) is not None
    cues = _COMPLAINT_L.count(lower)
    polite_complaint = polite and cues > 0
    if polite_complaint:  # the courtesy is not praise: the model reads the complaint alone
        norm = _POLITE.sub(" ", norm)
        lower = norm.lower()
    sarcasm = _SARCASM_L.search(lower) is not None
    compound, pos, neg, neu, low, high, last = _sentences(norm)
    parts = _CONTRAST.split(norm) if _CONTRAST_L.search(lower) else [norm]
    has_contrast = len(parts) > 1
    after = _compound(parts[-1])["compound"] if has_contrast else last
    without = _compound(_COURTESY.sub(" ", norm))["compound"] if polite_complaint else compound
    tokens, negations = _negated_tokens(lower)
    letters = _LETTERS.findall(norm)
    caps = sum(w.isupper() for w in letters) / len(letters) if letters else 0.0
    ascii = text.isascii()
    pos_e = (0 if ascii else len(_POS_EMOJI_RE.findall(text))) + text.count(":)") + text.count(":D")
    neg_e = (0 if ascii else len(_NEG_EMOJI_RE.findall(text))) + text.count(":(")
    log1p = math.log1p
    dense = np.array(
        [
            compound,
            pos,
            neg,
            neu,
            low,
            high,
            last,
            after,
            float(has_contrast),
            without,
            float(polite),
            log1p(cues),
            float(polite_complaint),
            float(sarcasm),
            float(sarcasm) * max(compound, 0.0),
            log1p(negations),
            log1p(text.count("!")),
            log1p(text.count("?")),
            caps,
            log1p(elongated),
            log1p(mentions),
            log1p(urls),
            log1p(pos_e),
            log1p(neg_e),
            log1p(len(tokens)) / 4,
        ],
        dtype=np.float64,
    )
    # the product's rule on the raw text (before normalisation), decided here so VADER runs once
    rule = _is_polite_complaint(text)
    chars = list(dict.fromkeys(t for t in tokens if not t.startswith("not_")))
    return Prepared(tokens=tokens, chars=chars, dense=dense, polite_complaint=rule)


@lru_cache(maxsize=1)
def _hashers() -> tuple[Any, Any]:
    """What hashes the word n-grams and the character n-grams into their columns.

    The model was fitted on ``HashingVectorizer(analyzer="word", ngram_range=(1, 2),
    token_pattern=r"\\S+", norm="l2")`` of the tokens joined by spaces and
    ``HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), norm="l2")`` of the distinct
    tokens joined by spaces (both ``lowercase=False, alternate_sign=False``). :func:`_hashed`
    builds the same matrices, hashing each distinct n-gram or token of a batch once.
    """
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import HashingVectorizer

    grams = FeatureHasher(n_features=2**WORD_BITS, input_type="string", alternate_sign=False)
    chars = HashingVectorizer(
        n_features=2**CHAR_BITS,
        analyzer="char_wb",
        ngram_range=(3, 5),
        lowercase=False,
        alternate_sign=False,
        norm=None,
    )
    return grams, chars


def _word_grams(tokens: list[str]) -> list[str]:
    """Word 1- and 2-grams, as scikit-learn's word analyzer makes them.

    Example:
        >>> _word_grams(["not", "not_bad", "!"])
        ['not', 'not_bad', '!', 'not not_bad', 'not_bad !']
    """
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def _hashed(docs: Sequence[list[str]], hash_rows: Any, n_features: int) -> sp.csr_matrix:
    """Sum of the hashed rows of each document's items, l2-normalised per document.

    Every distinct item of the batch is hashed once (``hash_rows(list of items)`` → one row
    each); a text is then a sparse product of counts and rows. Words repeat across texts, so
    this is several times cheaper than hashing every text's n-grams one by one, and gives the
    same matrix as :class:`~sklearn.feature_extraction.text.HashingVectorizer` (up to the
    order of floating-point sums).
    """
    import pandas as pd
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    flat = list(chain.from_iterable(docs))
    if not flat:
        return sp.csr_matrix((len(docs), n_features))
    codes, vocab = pd.factorize(np.asarray(flat, dtype=object))
    rows = hash_rows(list(vocab))
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(items) for items in docs], out=indptr[1:])
    counts = sp.csr_matrix(
        (np.ones(len(codes)), codes.astype(np.int64), indptr), shape=(len(docs), len(vocab))
    )
    counts.sum_duplicates()
    out: sp.csr_matrix = normalize(counts @ rows, norm="l2", copy=False)
    return out


def _matrix(prepared: Sequence[Prepared]) -> sp.csr_matrix:
    import scipy.sparse as sp

    grams, chars = _hashers()
    w = _hashed(
        [_word_grams(p.tokens) for p in prepared], lambda v: grams.transform([g] for g in v), 2**WORD_BITS
    )
    c = _hashed([p.chars for p in prepared], chars.transform, 2**CHAR_BITS)
    d = sp.csr_matrix(np.vstack([p.dense for p in prepared]) if prepared else np.empty((0, len(DENSE))))
    return sp.hstack([w, c, d], format="csr")


def features(texts: Sequence[str]) -> sp.csr_matrix:
    """The model's input matrix: hashed word 1–2-grams, character 3–5-grams, dense features."""
    return _matrix([prepare(t) for t in texts])


@dataclass
class SentimentModel:
    """A fitted three-class linear model: ``coef`` (features × 3) and ``intercept`` (3,).

    With ``dense_weight`` > 0, its probabilities are blended with those of a second linear
    model over the dense features alone (``dense_coef``, ``dense_intercept``): VADER's scores and
    the cue features mean the same in every kind of text, while the n-grams carry the
    vocabulary of the texts the model was fitted on. On a kind of text it never saw (tweets,
    when fitted on review and editorial sentences) the n-grams mislead more than they help, and
    the blend — its weight chosen by leave-one-domain-out, see
    :mod:`personae.devtools.train_sentiment` — keeps what each knows.
    """

    coef: np.ndarray
    intercept: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    dense_coef: np.ndarray | None = None
    dense_intercept: np.ndarray | None = None
    dense_weight: float = 0.0

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(negative), P(neutral), P(positive) of each text (rows sum to 1).

        A text of :data:`LONG_TEXT` sentences or more (a review, an email, a transcript) gets
        the mean of its sentences' probabilities: the model learned from single sentences and
        tweets, and a long text's verdict is the balance of its sentences. Shorter texts (posts,
        chat lines) are read whole, so "Thanks. Still waiting." keeps its context.
        """
        if len(texts) == 0:
            return np.empty((0, 3))
        parts: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            pieces = [p for p in _SENTENCE.split(text or "") if p.strip()]
            pieces = pieces if len(pieces) >= LONG_TEXT else [text or ""]
            parts.extend(pieces)
            owner.extend([i] * len(pieces))
        p = self.proba_whole(parts)
        own = np.asarray(owner)
        counts = np.bincount(own, minlength=len(texts)).astype(np.float64)
        out = np.zeros((len(texts), 3))
        for k in range(3):
            out[:, k] = np.bincount(own, weights=p[:, k], minlength=len(texts)) / counts
        return out

    def proba_whole(self, texts: Sequence[str]) -> np.ndarray:
        """P(negative), P(neutral), P(positive) of each text read whole."""
        if len(texts) == 0:
            return np.empty((0, 3))
        prepared = [prepare(t) for t in texts]
        p = self.proba_of(_matrix(prepared))
        # a polite complaint ("thanks… still waiting 3 hours") is never praise: its positive
        # probability goes to negative, unless the text praises something besides the courtesy
        polite = np.fromiter((x.polite_complaint for x in prepared), dtype=bool, count=len(prepared))
        if polite.any():
            p[polite, 0] += p[polite, 2]
            p[polite, 2] = 0.0
        return p

    def proba_of(self, x: sp.csr_matrix) -> np.ndarray:
        """Probabilities of rows of :func:`features` (before the polite-complaint rule)."""
        p = _softmax(np.asarray(x @ self.coef) + self.intercept)
        if self.dense_weight > 0 and self.dense_coef is not None and self.dense_intercept is not None:
            dense = x[:, x.shape[1] - len(DENSE) :].toarray()
            q = _softmax(dense @ self.dense_coef + self.dense_intercept)
            p = (1.0 - self.dense_weight) * p + self.dense_weight * q
        return p

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) − P(negative): −1 (surely negative) … +1 (surely positive)."""
        p = self.proba(texts)
        return p[:, 2] - p[:, 0]

    def save(self, path: Path) -> None:
        """Write the weights (float16, only the rows that are not zero) to ``path`` (.npz)."""
        rows = np.flatnonzero(np.abs(self.coef).sum(axis=1) > 0)
        arrays: dict[str, np.ndarray] = {
            "rows": rows.astype(np.int32),
            "weights": self.coef[rows].astype(np.float16),
            "intercept": self.intercept.astype(np.float64),
            "n_features": np.array(self.coef.shape[0]),
            "meta": np.array(repr(self.meta)),
        }
        if self.dense_coef is not None and self.dense_intercept is not None:
            arrays["dense_coef"] = self.dense_coef.astype(np.float64)
            arrays["dense_intercept"] = self.dense_intercept.astype(np.float64)
            arrays["dense_weight"] = np.array(self.dense_weight)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        """Read weights written by :meth:`save`."""
        import ast

        with np.load(path) as z:
            coef = np.zeros((int(z["n_features"]), 3), dtype=np.float64)
            coef[z["rows"]] = z["weights"]
            meta = ast.literal_eval(str(z["meta"]))
            head = "dense_coef" in z.files
            return cls(
                coef=coef,
                intercept=np.asarray(z["intercept"], dtype=np.float64),
                meta=meta,
                dense_coef=np.asarray(z["dense_coef"]) if head else None,
                dense_intercept=np.asarray(z["dense_intercept"]) if head else None,
                dense_weight=float(z["dense_weight"]) if head else 0.0,
            )


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def shipped() -> SentimentModel:
    """The model that ships with personae (loaded once per process)."""
    return SentimentModel.load(SHIPPED)


def fit(
    texts: Sequence[str],
    y: Sequence[int] | np.ndarray,
    *,
    c: float = 1.0,
    sample_weight: np.ndarray | None = None,
    x: sp.csr_matrix | None = None,
    meta: dict[str, Any] | None = None,
    dense_weight: float = 0.0,
    dense_c: float = 0.1,
) -> SentimentModel:
    """Fit the model on texts and classes (0 negative, 1 neutral, 2 positive).

    Multinomial logistic regression (L2, ``c`` the inverse strength), the standard for linear
    text classification; ``x`` lets a caller reuse a feature matrix it already built. With
    ``dense_weight`` > 0, a second one on the dense features alone (``dense_c``) is blended in
    with that weight (see :class:`SentimentModel`).
    """
    from sklearn.linear_model import LogisticRegression

    x = features(texts) if x is None else x
    lr = LogisticRegression(C=c, max_iter=300, tol=1e-3, solver="lbfgs")
    lr.fit(x, np.asarray(y), sample_weight=sample_weight)
    model = SentimentModel(coef=lr.coef_.T.copy(), intercept=lr.intercept_.copy(), meta=dict(meta or {}))
    if dense_weight > 0:
        head = LogisticRegression(C=dense_c, max_iter=2000)
        head.fit(x[:, x.shape[1] - len(DENSE) :].toarray(), np.asarray(y), sample_weight=sample_weight)
        model.dense_coef, model.dense_intercept = head.coef_.T.copy(), head.intercept_.copy()
        model.dense_weight = dense_weight
    return model
