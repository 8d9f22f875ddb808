"""Voice of the customer on 1M texts: language, sentiment, themes, competitors (docs/voice.md).

The texts are built from the generator's phrase banks, two phrases each plus an order number,
so (almost) every text is distinct — the worst case for the per-distinct-text caches. The peer
is plain VADER on the same texts (what a notebook would do), measured on a 50k slice and scaled.

    python benchmarks/bench_voice.py [--texts 1000000] [--jobs 2]
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--texts", type=int, default=1_000_000)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
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
