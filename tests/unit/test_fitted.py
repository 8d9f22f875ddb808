"""Every model says "not fitted" the same way, and keeps what ``fit`` learns in ``…_`` attributes.

Why: each model used to check its fitted state its own way (``hasattr``, ``is None``, a local
import); :func:`personae.errors.check_is_fitted` is now the one check. These tests use every
model before ``fit`` (one ``NotFittedError`` naming it and ``fit``), then after ``fit`` (the
attributes the check names are really the ones ``fit`` sets), and hold the scikit-learn
convention the check relies on: ``fit`` sets only attributes ending in ``_`` and leaves the
hyperparameters alone.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import personae
from personae.clusters.features import Preprocessor, select_features
from personae.clusters.model import ClusterModel
from personae.clv.bgbb import BetaGeoBetaBinomModel
from personae.clv.bgnbd import BetaGeoModel
from personae.clv.gamma_gamma import GammaGammaModel
from personae.clv.mbgnbd import ModifiedBetaGeoModel
from personae.clv.pareto_nbd import ParetoNBDModel
from personae.errors import NotFittedError, check_is_fitted, is_fitted
from personae.experience.detractors import DetractorModel
from personae.personalize.models import ALS, EASE, ItemKNN, Popularity, Recommender
from personae.voice.themes import ThemeModel

RNG = np.random.default_rng(0)
HISTORY = sp.csr_matrix((RNG.random((30, 8)) < 0.35).astype(np.float32))
POINTS = np.vstack([RNG.normal(0, 0.3, (15, 2)), RNG.normal(3, 0.3, (15, 2))])
TRAITS = pd.DataFrame(
    {"recency_days": RNG.exponential(100, 40), "frequency": RNG.integers(1, 20, 40)},
)
TEXTS = [
    f"{a} {b}"
    for a in ("delivery late", "parcel lost", "courier slow", "shipping delayed")
    for b in ("price expensive", "refund returned", "staff rude", "website crashed", "size wrong")
]
FREQUENCY, RECENCY, AGE = [0, 2, 1, 5], [0.0, 20.0, 3.0, 30.0], [38.0, 35.0, 30.0, 33.0]
#: discrete opportunities (BG/BB): purchases x in the last recency-of-n opportunities
OPP_X, OPP_TX, OPP_N = [0, 2, 1, 5, 3, 0], [0, 4, 1, 6, 5, 0], [6, 6, 6, 6, 6, 6]


def _spend() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 8, 300)
    return x, rng.gamma(6.0, 1.0 / rng.gamma(4.0, 1 / 15.0, 300))


def _answers() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 240
    failed = rng.poisson(0.6, n)
    p = 1 / (1 + np.exp(-(-1.0 + 1.5 * failed)))
    u = rng.random(n)
    category = np.where(u < p, "detractor", np.where(u < p + (1 - p) / 2, "passive", "promoter"))
    return pd.DataFrame(
        {
            "failed_deliveries": failed,
            "frequency": rng.poisson(4, n),
            "nps_category": category,
            "answered_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
        }
    )


ANSWERS = _answers()


#: model → (a new, unfitted instance; fit it; {method: a call that needs the fitted state})
MODELS: dict[type, tuple[Callable[[], Any], Callable[[Any], Any], dict[str, Callable[[Any], Any]]]] = {
    ThemeModel: (
        lambda: ThemeModel(n_themes=2),
        lambda m: m.fit(TEXTS),
        {
            "loadings": lambda m: m.loadings(["late delivery"]),
            "assign": lambda m: m.assign(["late delivery"]),
            "to_state": lambda m: m.to_state(),
        },
    ),
    Popularity: (
        Popularity,
        lambda m: m.fit(HISTORY),
        {"score": lambda m: m.score(HISTORY[:2])},
    ),
    ItemKNN: (
        ItemKNN,
        lambda m: m.fit(HISTORY),
        {
            "score": lambda m: m.score(HISTORY[:2]),
            "similarity": lambda m: m.similarity(np.array([0, 1]), np.array([2, 3])),
            "weights_": lambda m: m.weights_,
        },
    ),
    EASE: (
        EASE,
        lambda m: m.fit(HISTORY),
        {
            "score": lambda m: m.score(HISTORY[:2]),
            "similarity": lambda m: m.similarity(np.array([0, 1]), np.array([2, 3])),
            "weights_": lambda m: m.weights_,
        },
    ),
    ALS: (
        lambda: ALS(factors=4, iterations=2),
        lambda m: m.fit(HISTORY),
        {
            "score": lambda m: m.score(HISTORY[:2], np.array([0, 1])),
            "similarity": lambda m: m.similarity(np.array([0, 1]), np.array([2, 3])),
        },
    ),
    ClusterModel: (
        lambda: ClusterModel(k=2),
        lambda m: m.fit(POINTS),
        {"predict": lambda m: m.predict(POINTS), "to_dict": lambda m: m.to_dict()},
    ),
    Preprocessor: (
        lambda: Preprocessor(select_features("recency,frequency")),
        lambda m: m.fit(TRAITS),
        {"transform": lambda m: m.transform(TRAITS)},
    ),
    BetaGeoModel: (
        BetaGeoModel,
        lambda m: m.fit(FREQUENCY, RECENCY, AGE),
        {
            "summary": lambda m: m.summary(),
            "expected_transactions_new": lambda m: m.expected_transactions_new(10),
            "predict_transactions": lambda m: m.predict_transactions(10, FREQUENCY, RECENCY, AGE),
            "p_alive": lambda m: m.p_alive(FREQUENCY, RECENCY, AGE),
            "loglik_individual": lambda m: m.loglik_individual(FREQUENCY, RECENCY, AGE),
        },
    ),
    ModifiedBetaGeoModel: (
        ModifiedBetaGeoModel,
        lambda m: m.fit(FREQUENCY, RECENCY, AGE),
        {
            "summary": lambda m: m.summary(),
            "expected_transactions_new": lambda m: m.expected_transactions_new(10),
            "predict_transactions": lambda m: m.predict_transactions(10, FREQUENCY, RECENCY, AGE),
            "p_alive": lambda m: m.p_alive(FREQUENCY, RECENCY, AGE),
            "loglik_individual": lambda m: m.loglik_individual(FREQUENCY, RECENCY, AGE),
        },
    ),
    BetaGeoBetaBinomModel: (
        BetaGeoBetaBinomModel,
        lambda m: m.fit(OPP_X, OPP_TX, OPP_N),
        {
            "summary": lambda m: m.summary(),
            "expected_transactions_new": lambda m: m.expected_transactions_new(5),
            "predict_transactions": lambda m: m.predict_transactions(5, OPP_X, OPP_TX, OPP_N),
            "p_alive": lambda m: m.p_alive(OPP_X, OPP_TX, OPP_N),
            "loglik_individual": lambda m: m.loglik_individual(OPP_X, OPP_TX, OPP_N),
        },
    ),
    ParetoNBDModel: (
        ParetoNBDModel,
        lambda m: m.fit(FREQUENCY, RECENCY, AGE),
        {
            "summary": lambda m: m.summary(),
            "expected_transactions_new": lambda m: m.expected_transactions_new(10),
            "predict_transactions": lambda m: m.predict_transactions(10, FREQUENCY, RECENCY, AGE),
            "p_alive": lambda m: m.p_alive(FREQUENCY, RECENCY, AGE),
            "loglik_individual": lambda m: m.loglik_individual(FREQUENCY, RECENCY, AGE),
        },
    ),
    GammaGammaModel: (
        GammaGammaModel,
        lambda m: m.fit(*_spend()),
        {
            "summary": lambda m: m.summary(),
            "population_mean_spend": lambda m: m.population_mean_spend(),
            "expected_spend": lambda m: m.expected_spend([1, 3], [10.0, 20.0]),
        },
    ),
    DetractorModel: (
        lambda: DetractorModel(),
        lambda m: m.fit(
            ANSWERS[["failed_deliveries", "frequency"]], ANSWERS["nps_category"], ANSWERS["answered_at"]
        ),
        {
            "predict_proba": lambda m: m.predict_proba(ANSWERS[["failed_deliveries", "frequency"]]),
            "predict": lambda m: m.predict(ANSWERS[["failed_deliveries", "frequency"]]),
        },
    ),
}
#: classes with a ``fit`` that are not models to check (abstract bases)
NOT_MODELS = {Recommender}

USES = [pytest.param(cls, name, id=f"{cls.__name__}.{name}") for cls, c in MODELS.items() for name in c[2]]
FITTED: dict[type, Any] = {}


def _fitted(cls: type) -> Any:
    """Each model fitted once per session (the detractor model takes a second or two)."""
    if cls not in FITTED:
        make, fit, _ = MODELS[cls]
        FITTED[cls] = fit(make())
    return FITTED[cls]


@pytest.mark.parametrize(("cls", "method"), USES)
def test_used_before_fit_it_says_so_and_after_fit_it_works(cls: type, method: str) -> None:
    make, _, uses = MODELS[cls]
    with pytest.raises(NotFittedError) as info:
        uses[method](make())
    assert str(info.value) == f"{cls.__name__} is not fitted yet (call {cls.__name__}.fit(...) first)"
    uses[method](_fitted(cls))  # the attributes the check names are the ones fit sets


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_fit_sets_only_attributes_ending_in_underscore(cls: type) -> None:
    make, fit, _ = MODELS[cls]
    model = make()
    before = dict(vars(model))
    fit(model)
    after = vars(model)
    # private state (a leading ``_``: a cached vectorizer, a weights matrix behind a property)
    # is the class's own business; the convention is about what others may read
    learned = {k for k in after if not k.startswith("_") and (k not in before or after[k] is not before[k])}
    assert learned, f"{cls.__name__}.fit set no public attribute"
    assert all(k.endswith("_") for k in learned), f"{cls.__name__}.fit set {sorted(learned)}"
    assert is_fitted(model, sorted(learned)) and not is_fitted(make(), sorted(learned))


def test_every_model_is_covered() -> None:
    with_fit = set()
    for info in pkgutil.walk_packages(personae.__path__, "personae."):
        module = importlib.import_module(info.name)
        with_fit |= {
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and obj.__module__ == module.__name__
            and callable(getattr(obj, "fit", None))
        }
    assert with_fit - NOT_MODELS == set(MODELS), "add the new model to MODELS"


def test_check_is_fitted_counts_missing_and_none_as_unfitted() -> None:
    class Model:
        def __init__(self) -> None:
            self.k = 3
            self.centers_: Any = None

    m = Model()
    with pytest.raises(NotFittedError, match=r"^Model is not fitted yet \(call Model.fit\(\.\.\.\) first\)$"):
        check_is_fitted(m, "centers_")
    m.centers_ = np.zeros(2)
    check_is_fitted(m, "centers_")
    with pytest.raises(NotFittedError):
        check_is_fitted(m, ["centers_", "labels_"])
