"""Voice of the customer on 1M texts: language, sentiment, themes, competitors (docs/voice.md).

The texts are built from the generator's phrase banks, two phrases each plus an order number,
so (almost) every text is distinct — the worst case for the per-distinct-text caches. The peer
is plain VADER on the same texts (what a notebook would do), measured on a 50k slice and scaled.

    python benchmarks/bench_voice.py [--texts 1000000] [--jobs 2]

Themes on real text (``--themes``): on the real clothing reviews (``../shared/datasets``), the
agreement (NMI, purity) of the themes with the product department and class, against plain NMF
on the same texts with the same number of themes, measured in the same run; then several
themes per review with a sentiment each.

    python benchmarks/bench_voice.py --themes [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from personae.config.voice import VoiceSettings
from personae.devtools.generate import voice as vt
from personae.voice.analyse import _languages
from personae.voice.competitors import competitor_mentions
from personae.voice.sentiment import score_in_parallel
from personae.voice.themes import ThemeModel, fit_sample

REVIEWS = "clothing-reviews/reviews.csv"
THEME_KS = (5, 6, 8, 10, 12)


def corpus(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    texts = np.array(vt.TEXTS, dtype=object)
    a = texts[rng.integers(0, len(texts), n)]
    b = texts[rng.integers(0, len(texts), n)]
    order = rng.integers(100_000, 999_999, n).astype(str)
    return pd.Series(a + " " + b + " Order " + order, dtype=object)


def timed(label: str, fn, n: int):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t
    print(f"{label:<34} {s:8.1f} s  {n / s:>12,.0f} texts/s")
    return out, s


def reviews(datasets: str) -> tuple[pd.Series, pd.DataFrame]:
    """The review texts and their topic labels (department, class) of the real reviews."""
    from pathlib import Path

    df = pd.read_csv(Path(datasets) / REVIEWS)
    df = df[df["Review Text"].notna() & df["Department Name"].notna()].reset_index(drop=True)
    return df["Review Text"].astype(str), df[["Department Name", "Class Name"]]


def bench_themes(datasets: str) -> None:
    """Themes against the reviews' departments and classes, next to plain NMF (same run)."""
    from personae.voice.theme_quality import compare_with_plain_nmf

    texts, labels = reviews(datasets)
    print(f"themes on {len(texts):,} real clothing reviews; plain NMF = sklearn NMF on TF-IDF, same k")
    print(f"{'k':>3} {'labels':<16} {'NMI':>6} {'plain':>6} {'purity':>7} {'plain':>6}")
    sums: dict[str, list[float]] = {}
    named = None
    for k in THEME_KS:
        rows, model = compare_with_plain_nmf(texts, labels, k)
        named = model if k == 8 else named
        for r in rows:
            print(
                f"{k:>3} {r.label:<16} {r.nmi:6.3f} {r.plain_nmi:6.3f} {r.purity:7.3f} {r.plain_purity:6.3f}"
            )
            acc = sums.setdefault(r.label, [0.0, 0.0, 0.0, 0.0])
            for i, v in enumerate((r.nmi, r.plain_nmi, r.purity, r.plain_purity)):
                acc[i] += v / len(THEME_KS)
    for label, (a, b, c, d) in sums.items():
        print(f"mean {label:<16} {a:6.3f} {b:6.3f} {c:7.3f} {d:6.3f}   NMI ratio {a / b:.2f}")
    assert named is not None
    print("themes (k=8):", "; ".join(t.default_name for t in named.themes_))
    bench_aspects(texts, named)


def bench_aspects(texts: pd.Series, model: ThemeModel) -> None:
    """How many reviews carry several themes, and how often their themes' sentiments differ."""
    from personae.voice import aspects
    from personae.voice.sentiment import labels

    main, _ = model.assign(texts)
    whole = score_in_parallel(texts.tolist())
    t = time.perf_counter()
    long = aspects.text_themes(texts, model, main, whole, lambda xs: score_in_parallel(xs))
    s = time.perf_counter() - t
    per_text = long.groupby("row")
    several = per_text.size().gt(1)
    polarity = pd.Series(labels(long["sentiment_score"].to_numpy(), 0.05, -0.05), index=long.index)
    mixed = polarity.groupby(long["row"]).nunique().gt(1)
    print(
        f"aspects: {several.sum():,} of {len(texts):,} reviews carry several themes "
        f"({long.groupby('row').size().mean():.2f} per review); {mixed.sum():,} say different "
        f"things about different themes (one positive, another negative or neutral); "
        f"{len(texts) / s:,.0f} reviews/s"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--texts", type=int, default=1_000_000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--themes", action="store_true", help="Only the themes on the real reviews")
    p.add_argument("--datasets", default="../shared/datasets")
    args = p.parse_args()
    if args.themes:
        bench_themes(args.datasets)
        return
    settings = VoiceSettings()
    texts = corpus(args.texts)
    n = len(texts)
    print(f"{n:,} texts, {texts.nunique():,} distinct, {args.jobs} processes for sentiment")
    total = 0.0
    lang, s = timed("language detection", lambda: _languages(texts, settings), n)
    total += s
    own = texts[lang == "en"]
    _, s = timed(
        "sentiment (VADER + retail lexicon)",
        lambda: score_in_parallel(own.tolist(), n_jobs=args.jobs),
        len(own),
    )
    total += s
    sample = fit_sample(own, settings.fit_sample, 0)
    model, s = timed("theme fit (50k sample, TF-IDF+NMF)", lambda: ThemeModel(8).fit(sample), len(sample))
    total += s
    _, s = timed("theme assignment", lambda: model.assign(own), len(own))
    total += s
    _, s = timed("competitor mentions", lambda: competitor_mentions(texts, settings.competitors), n)
    total += s
    print(f"{'total':<34} {total:8.1f} s  {n / total:>12,.0f} texts/s")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    peer = SentimentIntensityAnalyzer()
    part = texts.iloc[:50_000].tolist()
    t = time.perf_counter()
    for x in part:
        peer.polarity_scores(x)
    per = (time.perf_counter() - t) / len(part)
    print(
        f"peer: plain VADER, one process      {per * n:8.1f} s  {1 / per:>12,.0f} texts/s (scaled from 50k)"
    )
    print("themes:", "; ".join(t.default_name for t in model.themes_))


if __name__ == "__main__":
    main()
