"""The retail words and phrases VADER's general lexicon lacks.

VADER (Hutto & Gilbert, 2014) was built on social-media English: it knows "awful" and "love",
but a retail complaint is often said in neutral words — "parcel never arrived", "the zip broke",
"way too expensive", "site keeps crashing". Scored with the plain lexicon those are 0.0
(neutral), which would hide most complaints. This module adds the customer-service vocabulary
on VADER's own scale (−4 … +4, a typical strong word is about ±2), chosen from what shoppers
say about delivery, price, staff, product quality, returns and websites — not fitted to any
test set. Words VADER already rates keep VADER's value.

Phrases (several words that carry the sentiment together, often with a negation VADER would
otherwise apply to the wrong word) are rewritten into one token before scoring; the token is
in the lexicon with the phrase's valence.
"""

from __future__ import annotations

import re

#: Single words, lower case, with their valence.
WORDS: dict[str, float] = {
    # delivery and waiting
    "late": -1.3,
    "delays": -1.3,
    "slow": -0.9,
    "soaked": -1.0,
    "unreachable": -1.5,
    "disconnected": -1.0,
    "fast": 1.0,
    "quick": 0.9,
    "quickly": 0.6,
    "speedy": 1.3,
    "prompt": 1.0,
    # price
    "overpriced": -2.0,
    "expensive": -1.2,
    "pricey": -0.9,
    "rubbish": -1.8,
    "affordable": 1.3,
    "cheaper": 0.6,
    # staff
    "unhelpful": -1.8,
    "dismissive": -1.6,
    "knowledgeable": 1.6,
    # product quality
    "ripped": -1.3,
    "flimsy": -1.5,
    "shoddy": -2.0,
    "scratched": -1.2,
    "leaking": -1.2,
    "stained": -1.1,
    "shrank": -1.3,
    "faded": -0.8,
    "sturdy": 1.4,
    "durable": 1.4,
    "comfy": 1.6,
    # returns and effort
    "hassle": -1.3,
    "nightmare": -2.3,
    "convenient": 1.3,
    "seamless": 1.7,
    "smooth": 1.1,
    # websites and apps
    "crashed": -1.6,
    "crashing": -1.6,
    "crashes": -1.6,
    "buggy": -1.6,
    "glitch": -1.2,
    "glitchy": -1.5,
    "intuitive": 1.3,
}

#: (pattern, token, valence): each match is replaced by ``token`` before VADER reads the text.
_PHRASES: tuple[tuple[str, str, float], ...] = (
    (
        r"\b(?:never|still not|not yet|has not|have not|had not|hasn'?t|haven'?t|hadn'?t)"
        r" (?:arrived|came|come|turned up|shown up|showed up|been delivered|received|got here)\b",
        "xxnotarrivedxx",
        -2.0,
    ),
    (
        r"\b(?:did not|didn'?t|does not|doesn'?t|do not|don'?t) (?:arrive|come|turn up|show up|get here)\b",
        "xxnotarrivedxx",
        -2.0,
    ),
    (r"\b(?:never|not) (?:received|delivered)\b", "xxnotarrivedxx", -2.0),
    (
        r"\b(?:stopped working|not working|(?:did not|didn'?t|does not|doesn'?t|do not|don'?t) work)\b",
        "xxbrokexx",
        -1.9,
    ),
    (r"\b(?:fell|falling|came|coming|come) (?:apart|loose|off)\b", "xxbrokexx", -1.9),
    (r"\b(?:still|kept|keep) waiting\b", "xxwaitingxx", -1.5),
    (r"\bon hold\b", "xxonholdxx", -1.0),
    (r"\brip[- ]?off\b", "xxripoffxx", -2.3),
    (r"\bgave up\b", "xxgaveupxx", -1.2),
    (r"\bno (?:refund|reply|response|answer)\b", "xxnoreplyxx", -1.6),
    (r"\bon time\b", "xxontimexx", 1.2),
    (r"\b(?:arrived|came|delivered) (?:early|ahead of time|ahead of schedule)\b", "xxearlyxx", 1.6),
    (r"\bvalue for money\b", "xxvaluexx", 1.6),
    (r"\bwell[- ]made\b", "xxwellmadexx", 1.8),
    (r"\b(?:hassle|stress|worry)[- ]free\b", "xxcarefreexx", 1.8),
)

PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), t) for p, t, _ in _PHRASES
)
PHRASE_TOKENS: dict[str, float] = {t: v for _, t, v in _PHRASES}
#: One pattern for all phrases: a text with none is passed through after one search.
_ANY = re.compile("|".join(f"(?:{p})" for p, _, _ in _PHRASES), re.IGNORECASE)
#: The same without IGNORECASE, for ASCII text in lower case (where it matches exactly where
#: ``_ANY`` does, at a third of the cost: this search runs before every VADER call).
_ANY_LOWER = re.compile(_ANY.pattern)


def rewrite_phrases(text: str) -> str:
    """Replace every known phrase by its token (case-insensitive; the rest of the text kept).

    Example:
        >>> rewrite_phrases("Great Value for Money and hassle-free returns")
        'Great xxvaluexx and xxcarefreexx returns'
    """
    if not (_ANY_LOWER.search(text.lower()) if text.isascii() else _ANY.search(text)):
        return text
    for pattern, token in PHRASES:
        if pattern.search(text):
            text = pattern.sub(token, text)
    return text
