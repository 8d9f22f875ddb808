"""Refit the shipped sentiment model from the human-rated texts in the vaderSentiment sdist.

The corpus: Hutto & Gilbert (2014), "VADER: A Parsimonious Rule-based Model for Sentiment
Analysis of Social Media Text", ICWSM-14 — 23,699 texts each rated by about 20 people on −4…+4
(4,200 tweets, 3,708 Amazon review sentences, 10,605 movie review sentences, 5,190 New York
Times editorial sentences). It ships as ``additional_resources/hutto_ICWSM_2014.tar.gz`` inside
the source distribution of ``vaderSentiment`` 3.3.2 on PyPI, under the MIT licence
(``LICENSE.txt``: "Copyright (c) 2016 C.J. Hutto"); the archive's ``_README_.txt`` asks users
to cite the paper above.

A mean rating becomes a class: ≤ −0.5 negative, ≥ +0.5 positive, between them neutral (half a
point on a nine-point scale: where the raters, on average, leaned neither way).

    python -m personae.devtools.train_sentiment            # fetch (pip download), fit, write
    python -m personae.devtools.train_sentiment --evaluate # also leave-one-domain-out figures

Fetching uses ``pip download --no-deps --no-binary :all: vaderSentiment==3.3.2`` into a cache
folder; ``--sdist PATH`` uses a file already on disk.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personae.voice import sentiment_model as sm

SDIST = "vaderSentiment-3.3.2.tar.gz"
INNER = "additional_resources/hutto_ICWSM_2014.tar.gz"
DOMAINS = ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets")
#: Inverse regularisation strength, chosen by leave-one-domain-out macro-F1 (``--evaluate``).
C = 1.0
#: Weight of the dense-features-only model in the blend, and its inverse regularisation
#: strength: chosen by the mean macro-F1 over the four held-out domains (``--evaluate``).
DENSE_WEIGHT = 0.5
DENSE_C = 0.1
#: Blend weights ``--evaluate`` compares.
DENSE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
#: Mean ratings at or beyond these are negative / positive.
NEGATIVE_AT, POSITIVE_AT = -0.5, 0.5
DEFAULT_CACHE = Path.home() / ".cache" / "personae" / "sentiment"


def fetch_sdist(cache: Path = DEFAULT_CACHE) -> Path:
    """The vaderSentiment 3.3.2 sdist, downloaded with pip into ``cache`` unless already there."""
    target = cache / SDIST
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "vaderSentiment==3.3.2",
            "-d",
            str(cache),
        ],
        check=True,
        capture_output=True,
    )
    return target


def read_corpus(sdist: Path) -> pd.DataFrame:
    """``domain, id, rating, text, label`` of every rated text in the sdist's archive."""
    rows = []
    with tarfile.open(sdist) as outer:
        member = next(m for m in outer.getmembers() if m.name.endswith(INNER))
        data = outer.extractfile(member)
        assert data is not None
        with tarfile.open(fileobj=io.BytesIO(data.read())) as inner:
            for domain in DOMAINS:
                m = next(x for x in inner.getmembers() if x.name.endswith(f"{domain}_GroundTruth.txt"))
                f = inner.extractfile(m)
                assert f is not None
                for line in f.read().decode("utf-8", errors="replace").splitlines():
                    parts = line.split("\t", 2)
                    if len(parts) == 3 and parts[2].strip():
                        rows.append((domain, parts[0], float(parts[1]), parts[2].strip()))
    df = pd.DataFrame(rows, columns=["domain", "id", "rating", "text"])
    df["label"] = classes(df["rating"].to_numpy())
    return df


def classes(rating: np.ndarray) -> np.ndarray:
    """0 negative / 1 neutral / 2 positive from a mean rating on −4…+4.

    Example:
        >>> classes(np.array([-2.0, -0.5, 0.2, 0.5])).tolist()
        [0, 0, 1, 2]
    """
    return np.where(rating <= NEGATIVE_AT, 0, np.where(rating >= POSITIVE_AT, 2, 1))


def weights(domains: pd.Series) -> np.ndarray:
    """Sample weights that give every domain the same total weight (movies would dominate)."""
    counts = domains.map(domains.value_counts())
    return (len(domains) / domains.nunique() / counts).to_numpy(dtype=np.float64)


def train(
    corpus: pd.DataFrame, c: float = C, x: Any = None, dense_weight: float = DENSE_WEIGHT
) -> sm.SentimentModel:
    """The model fitted on ``corpus`` (all of it)."""
    meta = {
        "corpus": "Hutto & Gilbert 2014 (vaderSentiment 3.3.2 sdist)",
        "texts": len(corpus),
        "c": c,
        "thresholds": [NEGATIVE_AT, POSITIVE_AT],
        "dense_weight": dense_weight,
        "dense_c": DENSE_C,
    }
    return sm.fit(
        corpus["text"].tolist(),
        corpus["label"].to_numpy(),
        c=c,
        sample_weight=weights(corpus["domain"]),
        x=x,
        meta=meta,
        dense_weight=dense_weight,
        dense_c=DENSE_C,
    )


def macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """(accuracy, macro-F1) of three-class predictions."""
    from sklearn.metrics import f1_score

    return float((y == pred).mean()), float(f1_score(y, pred, labels=[0, 1, 2], average="macro"))


def leave_one_domain_out(
    corpus: pd.DataFrame, cs: Sequence[float] = (C,), dense_weights: Sequence[float] = DENSE_WEIGHTS
) -> pd.DataFrame:
    """Accuracy and macro-F1 on each domain of a model fitted on the other three, for each
    ``c`` and each weight of the dense-features-only model in the blend (0: none, 1: only it)."""
    x = sm.features(corpus["text"].tolist())
    out = []
    for c in cs:
        for domain in DOMAINS:
            test = (corpus["domain"] == domain).to_numpy()
            model = train(corpus[~test], c, x=x[~test], dense_weight=1.0)
            truth = corpus.loc[test, "label"].to_numpy()
            vacc, vf1 = macro_f1(truth, _vader_classes(corpus.loc[test, "text"].tolist()))
            for w in dense_weights:
                model.dense_weight = w
                acc, f1 = macro_f1(truth, model.proba_of(x[test]).argmax(axis=1))
                out.append(
                    {
                        "c": c,
                        "dense_weight": w,
                        "held_out": domain,
                        "texts": int(test.sum()),
                        "accuracy": acc,
                        "macro_f1": f1,
                        "vader_accuracy": vacc,
                        "vader_macro_f1": vf1,
                    }
                )
    return pd.DataFrame(out)


def _vader_classes(texts: list[str]) -> np.ndarray:
    """Plain VADER's classes (compound, ±0.05): the yardstick on the same texts."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    a = SentimentIntensityAnalyzer()
    c = np.array([a.polarity_scores(t)["compound"] for t in texts])
    return np.where(c <= -0.05, 0, np.where(c >= 0.05, 2, 1))


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sdist", type=Path, help="vaderSentiment-3.3.2.tar.gz already on disk")
    p.add_argument("--out", type=Path, default=sm.SHIPPED, help="Where to write the weights (.npz)")
    p.add_argument("--evaluate", action="store_true", help="Print leave-one-domain-out figures")
    p.add_argument("--c", type=float, nargs="*", default=[C], help="C values to compare (--evaluate)")
    args = p.parse_args(argv)
    corpus = read_corpus(args.sdist or fetch_sdist())
    print(
        f"{len(corpus):,} rated texts:", corpus.groupby("domain")["label"].value_counts().unstack().to_dict()
    )
    if args.evaluate:
        table = leave_one_domain_out(corpus, args.c)
        print(table.round(3).to_string(index=False))
        mean = table.groupby(["c", "dense_weight"])[["accuracy", "macro_f1"]].mean().round(3)
        print("mean over the held-out domains:\n" + mean.to_string())
    model = train(corpus)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
