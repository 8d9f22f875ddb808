"""Voice of the customer: sentiment on real reviews, and speed on 1M texts (docs/voice.md).

``--sentiment`` (the real clothing reviews of ../shared/datasets/clothing-reviews, stars as the
label: 1–2 negative, 3 neutral, 4–5 positive; title and text together): accuracy, macro-F1 and
per-class recall of plain VADER (compound, ±0.05), the retail-lexicon scorer, the shipped
zero-shot model, and the model taught on a labelled sample of 300 reviews (tested on the other
reviews, several seeds), all in the same run; then texts/s of the model on those reviews, one
process and ``--jobs`` processes, against plain VADER.

Without ``--sentiment``: the texts are built from the generator's phrase banks, two phrases each
plus an order number, so (almost) every text is distinct — the worst case for the
per-distinct-text caches. The peer is plain VADER on the same texts (what a notebook would do),
measured on a 50k slice and scaled.

    python benchmarks/bench_voice.py --sentiment [--jobs 2] [--seeds 5]
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
from pathlib import Path

import numpy as np
import pandas as pd

from personae.config.voice import VoiceSettings
from personae.devtools.generate import voice as vt
from personae.voice import sentiment_model
from personae.voice.analyse import _languages
from personae.voice.competitors import competitor_mentions
from personae.voice.labels import teach
from personae.voice.sentiment import LABELS, LexiconScorer, SentimentScorer, labels, score_in_parallel
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


CLOTHING = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clothing-reviews" / "reviews.csv"


def clothing_reviews(path: Path = CLOTHING) -> pd.DataFrame:
    """``text, sentiment`` of the real clothing reviews (title and text; empty ones left out)."""
    df = pd.read_csv(path)
    text = (df["Title"].fillna("").astype(str) + ". " + df["Review Text"].fillna("").astype(str)).str.strip(
        ". "
    )
    stars = df["Rating"].astype(int)
    out = pd.DataFrame(
        {
            "text_id": df.index.astype(str),
            "text": text,
            "sentiment": np.where(stars <= 2, "negative", np.where(stars == 3, "neutral", "positive")),
        }
    )
    return out[out["text"].str.len() > 0].reset_index(drop=True)


def figures(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and recall per class of three-class labels."""
    from sklearn.metrics import f1_score, recall_score

    recall = recall_score(truth, pred, labels=list(LABELS), average=None, zero_division=0)
    return {
        "accuracy": float((truth == pred).mean()),
        "macro_f1": float(f1_score(truth, pred, labels=list(LABELS), average="macro", zero_division=0)),
        **{f"recall_{k}": float(r) for k, r in zip(LABELS, recall, strict=True)},
    }


def vader_labels(texts: list[str]) -> np.ndarray:
    """Plain VADER: the compound score with its authors' ±0.05 thresholds."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    a = SentimentIntensityAnalyzer()
    return labels(np.array([a.polarity_scores(t)["compound"] for t in texts]))


def taught_figures(reviews: pd.DataFrame, base: np.ndarray, n: int, seed: int) -> dict[str, dict[str, float]]:
    """Teach on ``n`` reviews drawn at random, test on the rest; three ways of teaching.

    ``base``: the shipped model's probabilities of every review (computed once).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(reviews))
    tr, te = idx[:n], idx[n:]
    train, test = reviews.iloc[tr].copy(), reviews.iloc[te]
    train["origin"] = "analyst"
    teaching = teach(train, seed=seed, base=base[tr])
    truth = test["sentiment"].to_numpy()
    names = np.asarray(LABELS)
    out = {}
    # what `voice build` then scores with: the taught model, or the shipped one when teaching
    # did not beat it in cross-validation
    p = teaching.model.proba(test["text"].tolist(), base=base[te]) if teaching.model else base[te]
    out["taught (shipped probabilities + own n-grams)"] = figures(truth, names[p.argmax(1)])
    # the alternatives measured against it: recalibrating the shipped probabilities only, and
    # the user's n-grams only (what a model with no shipped knowledge learns from 300)
    lr = LogisticRegression(max_iter=2000, class_weight="balanced")
    lr.fit(np.log(base[tr] + 1e-6), train["sentiment"])
    out["recalibrated shipped probabilities only"] = figures(truth, lr.predict(np.log(base[te] + 1e-6)))
    tf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(train["text"])
    lr = LogisticRegression(max_iter=2000, class_weight="balanced")
    lr.fit(tf.transform(train["text"]), train["sentiment"])
    out["own n-grams only (TF-IDF, no shipped model)"] = figures(
        truth, lr.predict(tf.transform(test["text"]))
    )
    out["shipped zero-shot on the same test reviews"] = figures(truth, names[base[te].argmax(1)])
    out["_cv"] = {
        "cv_accuracy": teaching.cv_accuracy or 0.0,
        "cv_macro_f1": teaching.cv_macro_f1 or 0.0,
        "used": float(teaching.used),
    }
    return out


def sentiment_bench(jobs: int, seeds: int, sample: int = 300) -> None:
    """The figures of docs/voice.md's sentiment section."""
    reviews = clothing_reviews()
    texts = reviews["text"].tolist()
    truth = reviews["sentiment"].to_numpy()
    dist = reviews["sentiment"].value_counts()
    print(f"{len(reviews):,} real clothing reviews: " + ", ".join(f"{k} {dist.get(k, 0)}" for k in LABELS))
    base = SentimentScorer().proba(texts)
    rows = {
        "VADER alone (compound ±0.05)": figures(truth, vader_labels(texts)),
        "retail lexicon scorer (before)": figures(truth, labels(LexiconScorer().scores(texts))),
        "shipped zero-shot model": figures(truth, np.asarray(LABELS)[base.argmax(1)]),
    }
    for name, f in rows.items():
        _print_row(name, f)
    runs = [taught_figures(reviews, base, sample, seed) for seed in range(seeds)]
    print(
        f"taught on {sample} labelled reviews, tested on the other {len(reviews) - sample}, "
        f"{seeds} seeds (mean ± sd):"
    )
    for name in runs[0]:
        if name == "_cv":
            continue
        vals = {k: [r[name][k] for r in runs] for k in runs[0][name]}
        _print_row(
            name,
            {k: float(np.mean(v)) for k, v in vals.items()},
            {k: float(np.std(v)) for k, v in vals.items()},
        )
    cv = [r["_cv"] for r in runs]
    acc, f1 = np.mean([c["cv_accuracy"] for c in cv]), np.mean([c["cv_macro_f1"] for c in cv])
    used = int(sum(c["used"] for c in cv))
    print(
        f"  what `voice build` reports (5-fold CV on the {sample}): accuracy {acc:.3f}, macro-F1 {f1:.3f}; "
        f"taught model used in {used} of {seeds} samples"
    )
    # speed: the model on the real reviews against plain VADER, measured in this run
    sentiment_model.shipped()
    t = time.perf_counter()
    SentimentScorer().scores(texts)
    one = len(texts) / (time.perf_counter() - t)
    many = texts * 4
    t = time.perf_counter()
    score_in_parallel(many, n_jobs=jobs, chunk=len(many) // jobs + 1)
    par = len(many) / (time.perf_counter() - t)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    a = SentimentIntensityAnalyzer()
    t = time.perf_counter()
    for x in texts:
        a.polarity_scores(x)
    vader = len(texts) / (time.perf_counter() - t)
    print(
        f"speed on these reviews: model {one:,.0f} texts/s in one process, {par:,.0f} texts/s in {jobs} "
        f"processes ({len(many):,} texts); plain VADER {vader:,.0f} texts/s in one process "
        f"(model/VADER {one / vader:.2f})"
    )


def _prior_em(p: np.ndarray, prior0: np.ndarray, steps: int = 100) -> np.ndarray:
    """Saerens et al. (2002): re-weight probabilities to the class priors EM estimates on the
    unlabelled texts themselves (the textbook fix for a shift of class priors)."""
    prior = prior0.copy()
    q = p
    for _ in range(steps):
        q = p * (prior / prior0)
        q /= q.sum(axis=1, keepdims=True)
        new = q.mean(axis=0)
        if np.abs(new - prior).max() < 1e-6:
            break
        prior = new
    return q


def domain_shift_bench(sdist: Path | None) -> None:
    """Two fixes for text unlike the training corpus, measured leave-one-domain-out and on the
    clothing reviews (docs/voice.md, "Social and support text"): EM re-estimation of the class
    priors, and a second stage over the model's log-probabilities and VADER's compound fitted on
    the other domains. Texts read whole, as ``train_sentiment --evaluate`` does."""
    from sklearn.linear_model import LogisticRegression

    from personae.devtools import train_sentiment as ts

    corpus = ts.read_corpus(sdist or ts.fetch_sdist())
    y, dom = corpus["label"].to_numpy(), corpus["domain"].to_numpy()
    x = sentiment_model.features(corpus["text"].tolist())
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    a = SentimentIntensityAnalyzer()
    v = np.array([a.polarity_scores(t)["compound"] for t in corpus["text"]])
    p = np.zeros((len(corpus), 3))
    for d in ts.DOMAINS:  # every text's probabilities from a model that never saw its domain
        test = dom == d
        p[test] = ts.train(corpus[~test], x=x[~test]).proba_of(x[test])
    reviews = clothing_reviews()
    pc = SentimentScorer().proba(reviews["text"].tolist())
    vc = np.array([a.polarity_scores(t)["compound"] for t in reviews["text"]])
    yc = reviews["sentiment"].map({k: i for i, k in enumerate(LABELS)}).to_numpy()
    names = np.asarray(LABELS)

    def stack_x(q: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.column_stack([np.log(np.clip(q, 1e-6, 1)), c, np.abs(c) < 0.05])

    for d in (*ts.DOMAINS, "clothing reviews"):
        train = dom != d
        truth, q, c = (yc, pc, vc) if d == "clothing reviews" else (y[~train], p[~train], v[~train])
        w = ts.weights(corpus.loc[train, "domain"])
        prior0 = np.array([w[y[train] == k].sum() for k in range(3)]) / w.sum()
        second = LogisticRegression(max_iter=1000).fit(stack_x(p[train], v[train]), y[train], sample_weight=w)
        print(f"{d} ({len(truth):,} texts)")
        for name, pred in (
            ("plain VADER (±0.05)", labels(c)),
            ("shipped model (blend)", names[q.argmax(1)]),
            ("  + class priors by EM", names[_prior_em(q, prior0).argmax(1)]),
            ("second stage with VADER, other domains", names[second.predict_proba(stack_x(q, c)).argmax(1)]),
        ):
            _print_row(name, figures(names[truth], pred))


def _print_row(name: str, f: dict[str, float], sd: dict[str, float] | None = None) -> None:
    def v(k: str) -> str:
        return f"{f[k]:.3f}" + (f"±{sd[k]:.3f}" if sd else "")

    print(
        f"  {name:<46} acc {v('accuracy')}  macro-F1 {v('macro_f1')}  recall neg {v('recall_negative')} "
        f"neu {v('recall_neutral')} pos {v('recall_positive')}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--texts", type=int, default=1_000_000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--themes", action="store_true", help="Only the themes on the real reviews")
    p.add_argument("--datasets", default="../shared/datasets")
    p.add_argument("--sentiment", action="store_true", help="Sentiment on the real clothing reviews")
    p.add_argument("--seeds", type=int, default=5, help="Samples of 300 labels (--sentiment)")
    p.add_argument("--domain-shift", action="store_true", help="Class priors by EM and a second stage")
    p.add_argument("--sdist", type=Path, help="vaderSentiment-3.3.2.tar.gz on disk (--domain-shift)")
    args = p.parse_args()
    if args.domain_shift:
        domain_shift_bench(args.sdist)
        return
    if args.themes or args.sentiment:
        if args.sentiment:
            sentiment_bench(args.jobs, args.seeds)
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
        "sentiment (shipped model)",
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
