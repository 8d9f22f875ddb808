"""Teaching the sentiment model: free labels from scores, analyst labels, the taught model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personae.voice.labels import MIN_LABELS, REPEATS, score_classes, teach, training_labels
from personae.voice.sentiment import SentimentScorer, classify_in_parallel


@pytest.mark.parametrize(
    ("score", "scale_max", "expected"),
    [
        (1, 5, "negative"),
        (2, 5, "negative"),
        (3, 5, "neutral"),
        (4, 5, "positive"),
        (0, 10, "negative"),
        (6, 10, "negative"),
        (7, 10, "neutral"),
        (8, 10, "neutral"),
        (9, 10, "positive"),
        (3, 7, "negative"),
        (4, 7, "neutral"),
        (5, 7, "positive"),
        (None, 5, None),
        (4, None, None),
    ],
)
def test_score_classes(score: float | None, scale_max: float | None, expected: str | None) -> None:
    got = score_classes(pd.Series([score], dtype=float), pd.Series([scale_max], dtype=float))
    assert got.iloc[0] == expected


def test_ces_answers_give_no_free_label() -> None:
    got = score_classes(pd.Series([1.0, 1.0]), pd.Series([7.0, 7.0]), pd.Series(["ces", "csat"]))
    assert got.tolist() == [None, "negative"]


def _texts() -> pd.DataFrame:
    """A texts frame as the voice-ingest branch gives it: ``score`` and ``scale_max`` columns."""
    return pd.DataFrame(
        {
            "text_id": ["a", "b", "c", "d", "e"],
            "text": ["love it", "meh", "broken zip", "fine I guess", "   "],
            "channel": [None, None, None, "nps", None],
            "score": [5.0, 3.0, None, 9.0, 1.0],
            "scale_max": [5.0, 5.0, None, 10.0, 5.0],
        }
    )


def test_training_labels_free_and_analyst_override() -> None:
    analyst = pd.DataFrame({"text_id": ["b", "c", "zz"], "sentiment": ["negative", "negative", "positive"]})
    got = training_labels(_texts(), analyst).set_index("text_id")
    # "e" has a score but no words: nothing to learn from; "zz" is no text of ours
    assert sorted(got.index) == ["a", "b", "c", "d"]
    assert got.loc["a", "sentiment"] == "positive" and got.loc["a", "origin"] == "score"
    assert got.loc["b", "sentiment"] == "negative" and got.loc["b", "origin"] == "analyst"  # overrides 3★
    assert got.loc["c", "origin"] == "analyst" and got.loc["d", "sentiment"] == "positive"


def test_training_labels_without_score_columns() -> None:
    texts = _texts().drop(columns=["score", "scale_max"])
    assert training_labels(texts, None).empty


def test_too_few_labels_keeps_the_shipped_model() -> None:
    got = teach(training_labels(_texts(), None))
    assert not got.used and got.model is None and got.cv_macro_f1 is None
    assert f"need {MIN_LABELS}" in got.note and "\n" not in got.note


def _domain_labels(n: int, seed: int = 0) -> pd.DataFrame:
    """A domain whose words the shipped model reads wrongly: 'flat' and 'bouncy' are about a
    ball, where 'flat' is bad news and 'bouncy' good, and 'sealed' neither."""
    rng = np.random.default_rng(seed)
    words = {"negative": "flat", "neutral": "sealed", "positive": "bouncy"}
    rows = []
    for i in range(n):
        label = ["negative", "neutral", "positive"][i % 3]
        extra = rng.choice(["ball", "the ball", "my ball", "this ball", "ball arrived"])
        rows.append(
            {"text_id": str(i), "text": f"{extra} {words[label]}", "sentiment": label, "origin": "analyst"}
        )
    return pd.DataFrame(rows)


def test_teaching_learns_a_domain_and_reports_cross_validated_figures() -> None:
    labelled = _domain_labels(90)
    got = teach(labelled)
    assert got.used and got.model is not None
    assert got.cv_macro_f1 is not None and got.zero_shot_macro_f1 is not None
    assert got.cv_macro_f1 > got.zero_shot_macro_f1 and got.cv_accuracy > 0.9
    summary = got.summary()
    assert summary["labels"] == 90 and summary["by_origin"] == {"analyst": 90}
    texts = ["my ball flat", "the ball bouncy"]
    assert SentimentScorer(got.model).classify(texts)[0].tolist() == ["negative", "positive"]
    # the taught model travels to worker processes
    assert (
        classify_in_parallel(texts * 10, n_jobs=2, chunk=7, taught=got.model)[0].tolist()
        == [
            "negative",
            "positive",
        ]
        * 10
    )


def test_cross_validation_is_repeated_and_drops_a_model_only_when_clearly_worse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One 5-fold split of a few hundred labels is noisy and reads the taught model low (it is
    fitted on 4/5 of them): the figure is the mean over REPEATS shuffles, and a taught model is
    kept unless it is worse than the shipped one by more than that figure's spread."""
    import personae.voice.labels as lab

    labelled = _domain_labels(90)
    calls: list[int] = []

    def scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        calls.append(len(y))
        if len(calls) == 1:  # the shipped model on the labels
            return 0.80, 0.80
        # the three shuffles: 0.74, 0.78, 0.82 → mean 0.78, spread 0.033: within reach of 0.80
        f = 0.70 + 0.04 * (len(calls) - 1)
        return f, f

    monkeypatch.setattr(lab, "_scores", scores)
    got = teach(labelled)
    assert len(calls) == 1 + REPEATS
    assert got.used and got.cv_macro_f1 == pytest.approx(0.78)
    assert f"{REPEATS} shuffles" in got.note


def test_teaching_that_does_not_beat_the_shipped_model_keeps_it() -> None:
    rng = np.random.default_rng(1)
    labelled = _domain_labels(60)
    labelled["sentiment"] = rng.permutation(labelled["sentiment"].to_numpy())  # noise
    got = teach(labelled)
    if not got.used:
        assert got.model is None and "kept" in got.note


def test_two_classes_are_enough() -> None:
    labelled = _domain_labels(90)
    labelled = labelled[labelled["sentiment"] != "neutral"]
    got = teach(labelled)
    assert got.used and got.model is not None
    p = got.model.proba(["ball flat"])
    assert p.shape == (1, 3) and p[0, 1] == 0.0 and np.isclose(p.sum(), 1.0)
