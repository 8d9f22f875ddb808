"""VADER's scores, the same to the last digit, at about twice the speed.

Why: the sentiment model runs VADER on every sentence of every text (its scores are features),
and VADER's own code spends most of its time on work it throws away — it lower-cases the whole
sentence again for each of the three words before every sentiment word (``_negation_check``,
``_special_idioms_check``), searches a 60-word *list* for each of them (``negated``), and looks
every character of a text up in its emoji dictionary. :class:`FastVader` overrides those three
spots with the same rules on only the words they read; everything else is VADER's own code
(``vaderSentiment`` 3.3.2, MIT licence, C.J. Hutto). ``tests/unit/voice/test_vader.py`` checks
that both give the same scores on the 23,703 texts VADER was validated on and on random text.

Example:
    >>> from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    >>> text = "The staff were NOT helpful, but kind of nice 😍"
    >>> FastVader().polarity_scores(text) == SentimentIntensityAnalyzer().polarity_scores(text)
    True
"""

from __future__ import annotations

import string
from typing import Any

from vaderSentiment import vaderSentiment as vs

_NEGATE = frozenset(vs.NEGATE)
_PUNCTUATION = string.punctuation


def _negated(word: str) -> bool:
    """VADER's ``negated([word])`` for one lower-case word."""
    return word in _NEGATE or "n't" in word


class _SentiText:
    """VADER's ``SentiText`` (the words, punctuation stripped unless that leaves two characters
    or fewer, and whether only some are in capitals), built without a call per word."""

    __slots__ = ("is_cap_diff", "text", "words_and_emoticons")

    def __init__(self, text: str) -> None:
        self.text = text
        words = []
        for token in text.split():
            stripped = token.strip(_PUNCTUATION)
            words.append(token if len(stripped) <= 2 else stripped)
        self.words_and_emoticons = words
        self.is_cap_diff = vs.allcap_differential(words)


class FastVader(vs.SentimentIntensityAnalyzer):
    """:class:`vaderSentiment.vaderSentiment.SentimentIntensityAnalyzer`, faster, same scores."""

    def __init__(self) -> None:
        super().__init__()
        # VADER replaces a character by its emoji description when the character is a key
        self._emoji = frozenset(k for k in self.emojis if len(k) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        """VADER's scores (``neg``, ``neu``, ``pos``, ``compound``) of ``text``."""
        if not self._emoji.isdisjoint(text):
            return dict(super().polarity_scores(text))
        # no emoji: VADER's loop would copy the text character by character
        text = text.strip()
        sentitext = _SentiText(text)
        sentiments: list[Any] = []
        words = sentitext.words_and_emoticons
        last = len(words) - 1
        lexicon = self.lexicon
        for i, item in enumerate(words):
            lower = item.lower()
            if (
                lower in vs.BOOSTER_DICT
                or (i < last and lower == "kind" and words[i + 1].lower() == "of")
                or lower not in lexicon  # VADER's sentiment_valence gives such a word 0
            ):
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return dict(self.score_valence(sentiments, text))

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if _negated(words[i - 1].lower()):
                valence = valence * vs.N_SCALAR
        elif start_i == 1:
            w2, w1 = words[i - 2].lower(), words[i - 1].lower()
            if w2 == "never" and (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w2 == "without" and w1 == "doubt":
                pass
            elif _negated(w2):
                valence = valence * vs.N_SCALAR
        elif start_i == 2:
            w3, w2, w1 = words[i - 3].lower(), words[i - 2].lower(), words[i - 1].lower()
            if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                pass
            elif _negated(w3):
                valence = valence * vs.N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        w3, w2, w1, w0 = words[i - 3].lower(), words[i - 2].lower(), words[i - 1].lower(), words[i].lower()
        twoone, threetwoone, threetwo = f"{w2} {w1}", f"{w3} {w2} {w1}", f"{w3} {w2}"
        for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", twoone, threetwoone, threetwo):
            if seq in vs.SPECIAL_CASES:
                valence = vs.SPECIAL_CASES[seq]
                break
        if len(words) - 1 > i:
            zeroone = f"{w0} {words[i + 1].lower()}"
            if zeroone in vs.SPECIAL_CASES:
                valence = vs.SPECIAL_CASES[zeroone]
        if len(words) - 1 > i + 1:
            zeroonetwo = f"{w0} {words[i + 1].lower()} {words[i + 2].lower()}"
            if zeroonetwo in vs.SPECIAL_CASES:
                valence = vs.SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in vs.BOOSTER_DICT:
                valence = valence + vs.BOOSTER_DICT[n_gram]
        return valence
