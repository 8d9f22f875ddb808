"""How well themes match topics people labelled: NMI and purity against the labels, next to the
yardstick every topic-model comparison starts from — plain NMF (scikit-learn's ``NMF`` on
``TfidfVectorizer(stop_words="english")`` of the same texts, the same number of themes, each text
in its highest-loading component), measured in the same run.

Used by ``benchmarks/bench_voice.py`` and the real-data tests (docs/voice.md shows the figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from personae.voice.themes import ThemeModel


def purity(labels: Sequence[object] | pd.Series | np.ndarray, themes: Sequence[int] | np.ndarray) -> float:
    """Share of texts whose theme's most common label is their own label (1.0: every theme is
    a single label; rewards many small themes, so read it next to NMI).

    >>> purity(["a", "a", "b", "b"], [0, 0, 0, 1])
    0.75
    """
    frame = pd.DataFrame({"label": pd.Series(labels).astype(str).to_numpy(), "theme": np.asarray(themes)})
    if frame.empty:
        return 0.0
    top = frame.groupby("theme")["label"].agg(lambda s: s.value_counts().iloc[0]).sum()
    return round(float(top) / len(frame), 4)


def plain_nmf_themes(texts: Sequence[str] | pd.Series, k: int, seed: int = 0) -> np.ndarray:
    """Each text's theme under plain NMF: the yardstick (see the module docstring)."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(stop_words="english").fit_transform(pd.Series(texts, dtype=object).astype(str))
    W = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000).fit_transform(X)
    return np.asarray(W.argmax(axis=1), dtype=np.int64)


@dataclass(frozen=True)
class ThemeAgreement:
    """NMI and purity of personae's themes and of plain NMF against one set of labels."""

    label: str
    k: int
    nmi: float
    purity: float
    plain_nmi: float
    plain_purity: float


def compare_with_plain_nmf(
    texts: pd.Series, labels: pd.DataFrame, k: int, seed: int = 0
) -> tuple[list[ThemeAgreement], ThemeModel]:
    """Fit ``k`` themes on ``texts`` and plain NMF with ``k`` components; their agreement with
    every column of ``labels`` (same rows as ``texts``).

    Every text counts: a text personae leaves without a theme ("other", −1) is a cluster of its
    own, as it is to a user.
    """
    from sklearn.metrics import normalized_mutual_info_score

    model = ThemeModel(n_themes=k, seed=seed).fit(texts)
    ours, _ = model.assign(texts)
    plain = plain_nmf_themes(texts, k, seed)
    out = []
    for col in labels.columns:
        y = labels[col].astype(str).to_numpy()
        out.append(
            ThemeAgreement(
                label=str(col),
                k=k,
                nmi=round(float(normalized_mutual_info_score(y, ours)), 4),
                purity=purity(y, ours),
                plain_nmi=round(float(normalized_mutual_info_score(y, plain)), 4),
                plain_purity=purity(y, plain),
            )
        )
    return out, model
