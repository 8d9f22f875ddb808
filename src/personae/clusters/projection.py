"""A 2-D map of customers coloured by cluster: PCA of the clustering features, as a chart.

Principal components of the preprocessed features (the space k-means worked in), so
distances on the map are the clustering's distances squashed onto the two directions of
greatest spread; the axis titles say how much of the spread each keeps. PCA rather than
UMAP: deterministic, no extra dependency, and the same projection applies to every
customer. The chart is an Altair specification; the caller saves it (``.png`` through
vl-convert, ``.svg``, ``.html``).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

#: Most points drawn (a random sample beyond that: the picture is the same, the file small).
MAX_POINTS = 5000


def project(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    """Coordinates on the first two principal components and the variance share of each."""
    if X.shape[1] < 2:
        pad = np.zeros((len(X), 2 - X.shape[1]))
        return np.hstack([X, pad]), (1.0, 0.0)
    pca = PCA(n_components=2, random_state=seed).fit(X)
    ratio = pca.explained_variance_ratio_
    return pca.transform(X), (float(ratio[0]), float(ratio[1]))


def map_chart(
    X: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    *,
    seed: int = 0,
    title: str = "customers by cluster",
) -> alt.Chart:
    """A scatter of (a sample of) customers on the first two principal components."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(X), MAX_POINTS, replace=False)) if len(X) > MAX_POINTS else np.arange(len(X))
    coords, (r1, r2) = project(X[idx], seed)
    data = pd.DataFrame(
        {
            "pc1": coords[:, 0],
            "pc2": coords[:, 1],
            "cluster": [f"{int(c)}: {names.get(int(c), str(int(c)))}" for c in labels[idx]],
        }
    )
    return (
        alt.Chart(data, title=title)
        .mark_circle(size=14, opacity=0.55)
        .encode(
            x=alt.X("pc1:Q", title=f"PC1 ({r1:.0%} of spread)"),
            y=alt.Y("pc2:Q", title=f"PC2 ({r2:.0%} of spread)"),
            color=alt.Color(
                "cluster:N", legend=alt.Legend(title="cluster", orient="bottom", columns=2, labelLimit=320)
            ),
        )
        .properties(width=520, height=420)
    )
