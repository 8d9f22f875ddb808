"""FastVader gives VADER's scores to the last digit (it only skips work VADER throws away)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from personae.voice.vader import FastVader

CLOTHING = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "clothing-reviews" / "reviews.csv"
#: Words and marks that reach every rule VADER has: boosters, negations, "kind of", "least",
#: "never so", "without doubt", idioms, "but", capitals, emoji, emoticons, punctuation.
VOCABULARY = [
    "good",
    "bad",
    "not",
    "never",
    "so",
    "this",
    "without",
    "doubt",
    "kind",
    "of",
    "at",
    "least",
    "very",
    "extremely",
    "barely",
    "the",
    "shit",
    "bomb",
    "bad",
    "ass",
    "yeah",
    "right",
    "but",
    "BUT",
    "GREAT",
    "Love",
    "hate",
    "no",
    "nor",
    "or",
    "cannot",
    "isn't",
    "don't",
    "won't",
    "hardly",
    "😍",
    "🙄",
    ":(",
    ":)",
    "!",
    "?",
    "!!!",
    "???",
    ".",
    ",",
    "sort",
    "sorta",
    "kiss",
    "death",
    "to",
    "die",
    "for",
    "cut",
    "mustard",
    "nope",
    "uh-uh",
    "seldom",
    "despite",
]
VADER = SentimentIntensityAnalyzer()
FAST = FastVader()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not bad at all",
        "The food was NOT good, but the staff were kind of nice :)",
        "never so happy, without doubt the best 😍😍",
        "at least it was not the worst, yeah right",
        "I kind of like it but it is the shit!!!",
        "uh-uh, no good, nor great ??",
    ],
)
def test_same_scores_on_the_rules(text: str) -> None:
    assert FAST.polarity_scores(text) == VADER.polarity_scores(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=14))
def test_same_scores_on_random_sentences(words: list[str]) -> None:
    text = " ".join(words)
    assert FAST.polarity_scores(text) == VADER.polarity_scores(text)


@given(st.text(max_size=60))
def test_same_scores_on_any_text(text: str) -> None:
    assert FAST.polarity_scores(text) == VADER.polarity_scores(text)


def test_same_scores_on_real_reviews() -> None:
    if not CLOTHING.exists():
        pytest.skip("../shared/datasets/clothing-reviews not present")
    df = pd.read_csv(CLOTHING)
    texts = (df["Title"].fillna("") + ". " + df["Review Text"].fillna("")).tolist()
    differ = [t for t in texts if FAST.polarity_scores(t) != VADER.polarity_scores(t)]
    assert not differ, differ[:3]
