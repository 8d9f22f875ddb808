"""Detractor prediction: each customer's likely NPS category, from behaviour alone.

Most customers never answer a survey. A multinomial logistic regression learns, from the NPS
answers, how behaviour (orders, returns, spend, channels, support contacts, failed deliveries,
e-mail engagement …) relates to the category of the answer, and scores everyone:
``detractor_risk`` is the predicted probability of being a detractor.

Why this model: it is fast, its probabilities are close to calibrated without tuning, and its
standardised coefficients *are* the drivers — a CX team can read "one standard deviation more
support contacts raises the odds of a detractor by ×1.4" and act on it.

No peeking (docs/experience.md, "Detractor risk"):

* **one row per answer, features as of the day before it** (:mod:`personae.experience.features`):
  what the customer had done before answering, not what they did after;
* **nothing derived from the label**: the features are a declared list
  (:data:`~personae.experience.features.FEATURE_INPUTS`), none of which reads a survey answer or
  a trait computed from one (``journey_stage``'s "advocacy" is every promoter);
* **a time-based hold-out**: the model is fitted on the earlier answers and measured on the later
  ones (a whole day is never split), as it will be used — to predict answers not given yet.
  AUC (detractor vs the rest, and the macro one-vs-rest AUC), Brier score, log loss and a
  calibration table (predicted vs observed detractor share in deciles of risk, with the expected
  calibration error) are measured on the later answers only, beside two baselines: the training
  base rate, and each answer's **RFM segment's detractor rate** in the training answers.

The model used for scoring is then refitted on every answer. Scoring uses each customer's
features as of the build date: that is what a prediction is (the answer it predicts is one
they have not given yet).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from personae.errors import ModelError, check_is_fitted
from personae.experience.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES

CATEGORIES = ("detractor", "passive", "promoter")


def feature_columns(available: Iterable[str]) -> tuple[list[str], list[str]]:
    """The declared numeric and categorical features among ``available`` — nothing else is one."""
    have = set(available)
    return [c for c in NUMERIC_FEATURES if c in have], [c for c in CATEGORICAL_FEATURES if c in have]


def time_split(answered_at: pd.Series, test_share: float) -> np.ndarray:
    """``True`` for the held-out (later) answers: those from the first day on which at least
    ``1 − test_share`` of the answers are earlier. A day is never split between the parts."""
    days = pd.to_datetime(answered_at).dt.normalize().to_numpy()
    if len(days) == 0:
        return np.zeros(0, dtype=bool)
    ordered = np.sort(days)
    boundary = ordered[min(len(days) - 1, int(np.floor(len(days) * (1 - test_share))))]
    return np.asarray(days >= boundary)


@dataclass(frozen=True)
class Driver:
    """One feature's pull on detractor odds (per standard deviation, or being in a category)."""

    feature: str
    effect: float  # log-odds of detractor vs the other categories' average
    odds_ratio: float
    direction: str  # "raises risk" / "lowers risk"


@dataclass
class Evaluation:
    """Held-out figures of the detractor model: fitted on the earlier answers, measured on the
    later ones (``split``), beside the base rate and the segment baseline."""

    n_train: int
    n_test: int
    detractor_share: float
    auc: float | None
    auc_macro: float | None
    brier: float
    brier_baseline: float  # forecasting every answer with the training base rate
    log_loss: float
    calibration: list[dict[str, float]] = field(default_factory=list)
    ece: float = 0.0
    base_rate: float = 0.0
    #: "time": the dates each part's answers span
    split: dict[str, Any] = field(default_factory=dict)
    #: each answer forecast by its segment's detractor rate among the training answers
    segment_baseline: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class DetractorModel:
    """Multinomial logistic regression on point-in-time behaviour features (scikit-learn style).

    There is no randomness to seed: the hold-out is the later answers, and the penalty's
    cross-validation folds are contiguous.

    Fitted state lives in attributes ending in ``_``: ``pipeline_``, ``evaluation_``,
    ``drivers_``, ``classes_``.
    """

    def __init__(
        self,
        *,
        test_share: float = 0.25,
        Cs: int = 8,
        min_answers: int = 60,
        min_per_class: int = 10,
    ) -> None:
        self.test_share = test_share
        self.Cs = Cs
        self.min_answers = min_answers
        self.min_per_class = min_per_class

    def _pipeline(self, numeric: list[str], categorical: list[str]) -> Pipeline:
        num = Pipeline(
            [("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())]
        )
        cat = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value="(none)")),
                ("onehot", OneHotEncoder(handle_unknown="ignore")),
            ]
        )
        prep = ColumnTransformer(
            [("num", num, numeric), ("cat", cat, categorical)], verbose_feature_names_out=False
        )
        # the penalty is chosen by 5-fold cross-validated log loss on the data it is fitted on:
        # with ~100 features and a few hundred answerers a fixed C gives over-confident risks
        model = LogisticRegressionCV(Cs=self.Cs, cv=5, scoring="neg_log_loss", max_iter=2000)
        return Pipeline([("prep", prep), ("model", model)])

    @staticmethod
    def _frame(features: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
        x = features[numeric + categorical].copy()
        for c in numeric:
            x[c] = pd.to_numeric(x[c].astype("float64") if x[c].dtype == bool else x[c], errors="coerce")
        for c in categorical:
            x[c] = x[c].astype(object).where(x[c].notna(), np.nan)
        return x

    def fit(
        self,
        features: pd.DataFrame,
        category: pd.Series,
        answered_at: pd.Series,
        segment: pd.Series | None = None,
    ) -> DetractorModel:
        """Fit on the rows whose ``category`` is known (one row per answer, its features as of
        the day before ``answered_at``); measure on the later answers first.

        ``segment`` (optional, per row): the baseline to beat — each held-out answer forecast by
        its segment's detractor rate among the training answers.
        """
        labelled = category.notna().to_numpy()
        y = category[labelled].astype(str).to_numpy()
        counts = {c: int((y == c).sum()) for c in CATEGORIES}
        if len(y) < self.min_answers:
            raise ModelError(
                f"detractor prediction needs at least {self.min_answers} NPS answers, found {len(y)}",
                hint="ingest more survey answers or lower experience.detractor_min_answers",
            )
        if counts["detractor"] < self.min_per_class or len(y) - counts["detractor"] < self.min_per_class:
            raise ModelError(
                f"detractor prediction needs at least {self.min_per_class} detractors and "
                f"{self.min_per_class} others among the answers, found {counts}",
            )
        self.numeric_, self.categorical_ = feature_columns(features.columns)
        if not self.numeric_ + self.categorical_:
            raise ModelError("detractor prediction found none of its features in the data")
        x = self._frame(features, self.numeric_, self.categorical_)[labelled]
        when = pd.to_datetime(pd.Series(answered_at).reset_index(drop=True)[labelled])
        test = time_split(when, self.test_share)
        train_det, test_det = int((y[~test] == "detractor").sum()), int((y[test] == "detractor").sum())
        if (
            train_det < self.min_per_class
            or (~test).sum() - train_det < self.min_per_class
            or test_det == 0
            or test_det == test.sum()
        ):
            raise ModelError(
                "detractor prediction needs earlier answers to learn from and later ones to measure "
                f"on: the time split gives {int((~test).sum())} earlier answers ({train_det} detractors) "
                f"and {int(test.sum())} later ones ({test_det} detractors)",
                hint="the answers span too few days, or too few of them are detractors",
            )
        # one BLAS thread: the problem is small, and on a busy machine a BLAS thread pool per
        # core made the same fit 20× slower (measured: 230 s vs 10 s at load 14 on 2 cores)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # scikit-learn 1.8+ announces future changes of LogisticRegressionCV's defaults and
            # attributes; nothing used here changes meaning
            warnings.simplefilter("ignore", FutureWarning)
            held_out = self._pipeline(self.numeric_, self.categorical_).fit(x[~test], y[~test])
            base_rate = float(np.mean(y[~test] == "detractor"))
            ev = evaluate(held_out, x[test], y[test], base_rate=base_rate)
            ev.n_train, ev.base_rate = int((~test).sum()), base_rate
            ev.split = {
                "kind": "time",
                "train_from": when[~test].min().date().isoformat(),
                "train_to": when[~test].max().date().isoformat(),
                "test_from": when[test].min().date().isoformat(),
                "test_to": when[test].max().date().isoformat(),
            }
            if segment is not None:
                seg = pd.Series(segment).reset_index(drop=True)[labelled].astype(object).to_numpy()
                ev.segment_baseline = segment_baseline(seg[~test], y[~test], seg[test], y[test])
            self.evaluation_ = ev
            self.pipeline_ = self._pipeline(self.numeric_, self.categorical_).fit(x, y)
        self.classes_ = [str(c) for c in self.pipeline_.classes_]
        self.drivers_ = self._drivers()
        return self

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        """One column per NPS category (probabilities adding to 1), rows as in ``features``."""
        check_is_fitted(self, "pipeline_")
        with threadpool_limits(limits=1):
            p = self.pipeline_.predict_proba(self._frame(features, self.numeric_, self.categorical_))
        out = pd.DataFrame(0.0, index=features.index, columns=list(CATEGORIES))
        for i, c in enumerate(self.classes_):
            out[c] = p[:, i]
        return out

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``detractor_risk`` and ``predicted_nps_category`` per row."""
        p = self.predict_proba(features)
        return pd.DataFrame(
            {
                "detractor_risk": p["detractor"].to_numpy(),
                "predicted_nps_category": p.idxmax(axis=1).to_numpy(),
            },
            index=features.index,
        )

    def _readable(self, name: str) -> str:
        """``missingindicator_clv_12m`` → ``clv_12m is missing``; ``journey_stage_retention`` →
        ``journey_stage = retention``."""
        if name.startswith("missingindicator_"):
            return f"{name.removeprefix('missingindicator_')} is missing"
        for c in self.categorical_:
            if name.startswith(c + "_"):
                return f"{c} = {name[len(c) + 1 :]}"
        return name

    def _drivers(self) -> list[Driver]:
        model: LogisticRegression = self.pipeline_.named_steps["model"]
        names = self.pipeline_.named_steps["prep"].get_feature_names_out()
        coef = np.asarray(model.coef_)
        if coef.shape[0] == 1:  # two classes: sklearn keeps one row, for the second class
            effect = coef[0] if self.classes_[1] == "detractor" else -coef[0]
        else:
            d = self.classes_.index("detractor")
            effect = coef[d] - np.delete(coef, d, axis=0).mean(axis=0)
        order = np.argsort(-np.abs(effect), kind="mergesort")
        return [
            Driver(
                self._readable(str(names[i])),
                float(effect[i]),
                float(np.exp(effect[i])),
                "raises risk" if effect[i] > 0 else "lowers risk",
            )
            for i in order
            if abs(effect[i]) > 1e-9
        ]


def evaluate(
    model: Pipeline, x: pd.DataFrame, y: np.ndarray, *, base_rate: float, bins: int = 10
) -> Evaluation:
    """Held-out AUC, Brier (vs the base rate), log loss and a calibration table."""
    classes = [str(c) for c in model.classes_]
    proba = model.predict_proba(x)
    is_det = (y == "detractor").astype(int)
    p_det = proba[:, classes.index("detractor")] if "detractor" in classes else np.zeros(len(y))
    auc = float(roc_auc_score(is_det, p_det)) if 0 < is_det.sum() < len(y) else None
    present = sorted(set(y))
    auc_macro = None
    if len(present) == len(classes) and len(classes) > 2:
        auc_macro = float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))
    table, ece = calibration_table(is_det, p_det, bins)
    return Evaluation(
        n_train=0,
        n_test=len(y),
        detractor_share=float(is_det.mean()),
        auc=auc,
        auc_macro=auc_macro,
        brier=float(brier_score_loss(is_det, p_det)),
        brier_baseline=float(brier_score_loss(is_det, np.full(len(y), base_rate))),
        log_loss=float(log_loss(y, proba, labels=classes)),
        calibration=table,
        ece=ece,
    )


def segment_baseline(
    train_segment: np.ndarray, train_y: np.ndarray, test_segment: np.ndarray, test_y: np.ndarray
) -> dict[str, Any]:
    """The forecast a CX team has without a model: each answer's segment's detractor rate.

    Rates are the shares of detractors among the *training* answers of each segment; a segment
    with no training answer gets the training base rate. Measured on the held-out answers with
    the model's own figures (AUC, Brier, expected calibration error).
    """
    train = pd.DataFrame({"segment": train_segment, "det": train_y == "detractor"})
    train["segment"] = train["segment"].fillna("(none)")
    per = train.groupby("segment")["det"].agg(["size", "mean"])
    base = float(train["det"].mean())
    seg = pd.Series(test_segment, dtype=object).fillna("(none)")
    p = seg.map(per["mean"]).astype(float).fillna(base).to_numpy()
    is_det = (test_y == "detractor").astype(int)
    _, ece = calibration_table(is_det, p)
    return {
        "by": "rfm_segment",
        "auc": float(roc_auc_score(is_det, p)) if 0 < is_det.sum() < len(is_det) else None,
        "brier": float(brier_score_loss(is_det, p)),
        "ece": ece,
        "rates": [
            {"segment": str(k), "train_answers": int(r["size"]), "detractor_rate": float(r["mean"])}
            for k, r in per.sort_values("mean", ascending=False).iterrows()
        ],
    }


def calibration_table(
    outcome: np.ndarray, predicted: np.ndarray, bins: int = 10
) -> tuple[list[dict[str, float]], float]:
    """Predicted vs observed rate in quantile bins of the prediction, and the expected
    calibration error ``Σ (n_b / n) · |observed_b − predicted_b|``."""
    n = len(outcome)
    if n == 0:
        return [], 0.0
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows, ece = [], 0.0
    for b in np.unique(which):
        m = which == b
        pred, obs = float(predicted[m].mean()), float(outcome[m].mean())
        rows.append({"bin": int(b) + 1, "n": int(m.sum()), "predicted": pred, "observed": obs})
        ece += m.sum() / n * abs(obs - pred)
    return rows, float(ece)
