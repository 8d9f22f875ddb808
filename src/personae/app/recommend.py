"""Recommendations against the store: load histories, fit, rank, export and evaluate.

Application layer. Models are fitted on demand from the resolved orders and product events up
to the as-of date (the traits' date): a few seconds for a catalogue of thousands of items,
so every answer reflects the latest build without a stored model to go stale. Consent is
decided by :mod:`personae.privacy.consent` (``personalization``); customers without it get the
shop-wide bestsellers.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from personae.app.reads import traits_as_of
from personae.config.personalize import RecommendSettings
from personae.coverage import Coverage
from personae.errors import InputError, NotFoundError
from personae.personalize.evaluation import metrics
from personae.personalize.feedback import Feedback, five_stars
from personae.personalize.interactions import CART, PURCHASE, VIEW, Interactions, encode, time_split
from personae.personalize.models import ALS, EASE, ItemKNN, Popularity, Recommender
from personae.personalize.ranking import (
    Catalogue,
    Customers,
    Groups,
    Ranked,
    group_popularity,
    history_preferences,
    item_features,
    rank,
    rebuy_items,
)
from personae.privacy import consent
from personae.schema import DEFAULT_RATING_MAX
from personae.segments.functions import end_of_day
from personae.store import Store
from personae.tables import is_return_line

Progress = Callable[[str, float], None]
EXPORT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("rank", pa.int32()),
        ("product_id", pa.string()),
        ("score", pa.float64()),
        ("reason", pa.string()),
    ]
)


def load_interactions(store: Store, as_of: date) -> Interactions:
    """Purchases (order lines) and product views/adds to cart up to the end of ``as_of``."""
    end = ibis.timestamp(end_of_day(as_of).isoformat(sep=" "))
    o = store.resolved("orders")
    o = o.filter(
        o.product_id.notnull() & (o.ordered_at <= end) & ~is_return_line(o)
    )  # a return is no purchase
    parts = [o.select("customer_id", "product_id", at=o.ordered_at, kind=ibis.literal(PURCHASE, "int8"))]
    if store.has_table("events"):
        e = store.resolved("events")
        e = e.filter(
            e.product_id.notnull() & (e.occurred_at <= end) & e.type.isin(["product_view", "add_to_cart"])
        )
        kind = ibis.cases((e.type == "add_to_cart", CART), else_=VIEW).cast("int8")
        parts.append(e.select("customer_id", "product_id", at=e.occurred_at, kind=kind))
    t = store.to_arrow(ibis.union(*parts))
    if t.num_rows == 0:
        # orders without product ids (an order-level export such as CDNOW) carry no taste
        raise NotFoundError(
            f"nothing to recommend from: no order line or product view up to {as_of.isoformat()} "
            "names a product",
            hint="ingest orders with a product_id column (or product_view/add_to_cart events "
            "with one) and run `personae build`",
        )
    # whole seconds: events tracked through the API carry microseconds (safe=False truncates them)
    at = t.column("at").cast(pa.timestamp("s"), safe=False).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return encode(
        t.column("customer_id").to_numpy(zero_copy_only=False),
        t.column("product_id").to_numpy(zero_copy_only=False),
        at,
        t.column("kind").to_numpy(zero_copy_only=False),
    )


# -- explicit feedback ----------------------------------------------------------------------------
#: event types whose stars are feedback on their product
FEEDBACK_EVENTS = ("review", "rating")
#: property keys holding an event's stars, in order of preference, and the top of their scale
RATING_KEYS = ("rating", "score", "stars")
SCALE_KEYS = ("scale_max", "rating_max", "out_of")


def _number_property(columns: list[ibis.Value], keys: tuple[str, ...]) -> ibis.Value:
    """The first of ``keys`` found in the JSON texts ``columns``, as a number (null if none).

    Read from the text, not as JSON: a file's extra column arrives as a JSON string
    (``{"rating": "4.5"}``), a tracked event's property as a number (``{"rating": 4.5}``).
    """
    values = [
        col.re_extract(rf'"{key}"\s*:\s*"?\s*(-?[0-9]+(?:\.[0-9]+)?)', 1).nullif("").try_cast("float64")
        for key in keys
        for col in columns
    ]
    return ibis.coalesce(*values) if len(values) > 1 else values[0]


def load_ratings(store: Store, as_of: date) -> pd.DataFrame:
    """Every rating of a product up to the end of ``as_of``, on five stars.

    ``customer_id, product_id, at, stars``: order lines' ``rating`` (of ``rating_max``, 5 when
    unsaid), the ``rating``/``score``/``stars`` property of ``review`` and ``rating`` events
    (of their ``scale_max``/``rating_max``/``out_of`` property, 5 when unsaid), and the
    ``score`` of ingested texts (of ``scale_max``) whose ``subject`` is a product id (other
    subjects — a store, a brand — match no product and are left out by :func:`load_feedback`).
    """
    end = ibis.timestamp(end_of_day(as_of).isoformat(sep=" "))
    parts = []
    o = store.resolved("orders")
    if "rating" in o.columns:
        o = o.filter(o.product_id.notnull() & o.rating.notnull() & (o.ordered_at <= end) & ~is_return_line(o))
        top = o.rating_max.fill_null(DEFAULT_RATING_MAX) if "rating_max" in o.columns else DEFAULT_RATING_MAX
        parts.append(
            o.select("customer_id", "product_id", at=o.ordered_at, score=o.rating.cast("float64"), top=top)
        )
    if store.has_table("events"):
        e = store.resolved("events")
        e = e.filter(e.product_id.notnull() & (e.occurred_at <= end) & e.type.isin(FEEDBACK_EVENTS))
        texts = [e[c] for c in ("properties", "properties_extra") if c in e.columns]
        if texts:
            e = e.mutate(
                _score=_number_property(texts, RATING_KEYS), _top=_number_property(texts, SCALE_KEYS)
            )
            e = e.filter(e._score.notnull())
            parts.append(
                e.select(
                    "customer_id",
                    "product_id",
                    at=e.occurred_at,
                    score=e._score,
                    top=e._top.fill_null(DEFAULT_RATING_MAX),
                )
            )
    if store.has_table("texts"):
        # `personae ingest texts`: a review's score is about its subject when that is a product id
        t = store.resolved("texts")
        t = t.filter(t.score.notnull() & t.subject.notnull() & (t.created_at <= end))
        parts.append(
            t.select(
                "customer_id",
                product_id=t.subject,
                at=t.created_at,
                score=t.score.cast("float64"),
                top=t.scale_max.fill_null(DEFAULT_RATING_MAX),
            )
        )
    columns = ["customer_id", "product_id", "at", "stars"]
    if not parts:
        return pd.DataFrame({c: [] for c in columns})
    parts = [p.mutate(top=p.top.cast("float64")) for p in parts]
    df = store.execute(ibis.union(*parts))
    df = df[df["customer_id"].notna() & df["product_id"].notna()].copy()  # anonymous texts
    df["stars"] = five_stars(df["score"].to_numpy(float), df["top"].to_numpy(float))
    df["at"] = pd.to_datetime(df["at"]).astype("datetime64[s]").astype(np.int64)
    return df.loc[df["stars"].notna(), columns].reset_index(drop=True)


def load_feedback(store: Store, as_of: date, inter: Interactions) -> Feedback:
    """The verdicts (liked, disliked) of the customers and items of ``inter``.

    Ratings of items nobody bought, viewed or rated as consumption cannot be recommended and
    are left out.
    """
    df = load_ratings(store, as_of)
    shape = (inter.n_customers, inter.n_items)
    if df.empty:
        return Feedback.empty(shape)
    cust = pd.Index(inter.customer_ids).get_indexer(pd.Index(df["customer_id"].astype(str)))
    item = pd.Index(inter.item_ids).get_indexer(pd.Index(df["product_id"].astype(str)))
    return Feedback.of(cust, item, df["stars"].to_numpy(float), df["at"].to_numpy(np.int64), shape)


def load_catalogue(store: Store, item_ids: np.ndarray) -> Catalogue:
    """Names, categories and preference values (category, brand, tags) of the coded items."""
    p = store.table("products")
    df = store.execute(p.select("product_id", "name", "category", "brand", "tags")).drop_duplicates(
        "product_id"
    )
    df = df.set_index("product_id").reindex(pd.Index(item_ids.astype(str)))
    names = df["name"].where(df["name"].notna(), pd.Series(item_ids.astype(str), index=df.index))
    category = df["category"].fillna("").astype(str).to_numpy()
    brand = df["brand"].fillna("").astype(str).to_numpy()
    tags = [list(t) if isinstance(t, list | np.ndarray) else [] for t in df["tags"]]
    features, feature_names = item_features(category, brand, tags)
    return Catalogue(item_ids, names.astype(str).to_numpy(dtype=object), category, features, feature_names)


def make(settings: RecommendSettings, name: str | None = None) -> Recommender:
    """The model ``name`` (default: the configured one) with its configured parameters."""
    name = name or settings.model
    if name == "ease":
        return EASE(settings.ease_regularization, settings.self_weight)
    if name == "item_knn":
        return ItemKNN(settings.knn_neighbours, self_weight=settings.self_weight)
    if name == "als":
        return ALS(seed=settings.seed)
    return Popularity()


def _weights(s: RecommendSettings) -> tuple[float, float, float]:
    return (s.purchase_weight, s.cart_weight, s.view_weight)


@dataclass
class Context:
    """Everything ranking needs for the whole customer base, fitted once."""

    as_of: date
    inter: Interactions
    catalogue: Catalogue
    model: Recommender
    history: sp.csr_matrix
    purchased: sp.csr_matrix
    rebuy: np.ndarray
    groups: Groups
    traits: pd.DataFrame  # indexed by customer_id: personal, group, region, segment
    preferences: sp.csr_matrix  # rows aligned with traits
    settings: RecommendSettings
    feedback: Feedback | None = None  # rows aligned with traits; ``history`` is its profile


def _traits_frame(store: Store) -> pd.DataFrame:
    t = store.table("traits")
    cols = [c for c in ("customer_id", "rfm_segment", "lifecycle_stage", "region") if c in t.columns]
    df = store.execute(t.select(*cols, personal=consent.allowed(t, ["personalization"])))
    for c in ("rfm_segment", "lifecycle_stage", "region"):
        if c not in df:
            df[c] = None
    return df.set_index("customer_id")


def _groups(traits: pd.DataFrame, purchased: sp.csr_matrix, min_buyers: int) -> tuple[Groups, np.ndarray]:
    segment = traits["rfm_segment"].where(traits["rfm_segment"].notna(), traits["lifecycle_stage"])
    region = traits["region"]
    both = segment.notna() & region.notna()
    levels, names = [], []
    for key, label in [
        (
            (segment.astype(str) + "\x00" + region.astype(str)).where(both),
            "both",
        ),
        (segment.astype(str).where(segment.notna()), "segment"),
        (region.astype(str).where(region.notna()), "region"),
    ]:
        s = pd.Series(key)
        codes, uniq = pd.factorize(s)
        levels.append(codes.astype(np.int64))
        if label == "both":
            names.append(
                [f"popular with {a} in your region ({b})" for a, b in (u.split("\x00") for u in uniq)]
            )
        elif label == "segment":
            names.append([f"popular with {u}" for u in uniq])
        else:
            names.append([f"popular in {u}" for u in uniq])
    return group_popularity(purchased, levels, names, min_buyers)


def _preferences(
    store: Store, traits_index: pd.Index, catalogue: Catalogue, min_strength: float
) -> sp.csr_matrix:
    n, f = len(traits_index), len(catalogue.feature_names)
    if not store.has_table("affinities"):
        return sp.csr_matrix((n, f), dtype=np.float32)
    a = store.table("affinities")
    df = store.execute(
        a.filter(a.strength >= min_strength).select("customer_id", "kind", "value", "strength")
    )
    feat = {str(v): j for j, v in enumerate(catalogue.feature_names)}
    key = (df["kind"].astype(str) + ":" + df["value"].astype(str)).map(feat)
    row = traits_index.get_indexer(pd.Index(df["customer_id"]))
    ok = key.notna().to_numpy() & (row >= 0)
    return sp.csr_matrix(
        (df["strength"].to_numpy(np.float32)[ok], (row[ok], key.to_numpy()[ok].astype(np.int64))),
        shape=(n, f),
    )


def fit_context(store: Store, settings: RecommendSettings, model: str | None = None) -> Context:
    """Load the data as of the traits' date and fit the model on everyone's history."""
    settings = tuned(store, settings, model or settings.model)
    as_of = traits_as_of(store)
    inter = load_interactions(store, as_of)
    catalogue = load_catalogue(store, inter.item_ids)
    history = inter.matrix(_weights(settings))
    purchased = inter.purchases()
    fitted = make(settings, model).fit(history)
    # what people said of what they consumed changes the history they are scored from
    feedback = load_feedback(store, as_of, inter)
    profile = feedback.profile(history, settings.liked_weight, settings.disliked_weight)
    traits = _traits_frame(store)
    # rows of the traits' customers in the interaction matrix (-1: no history)
    rows = pd.Index(inter.customer_ids).get_indexer(traits.index)
    traits["row"] = rows
    hist_t = _rows_of(profile, rows)
    bought_t = _rows_of(purchased, rows)
    groups, group = _groups(traits, bought_t, settings.group_min_buyers)
    traits["group"] = group
    prefs = _preferences(store, traits.index, catalogue, settings.preference_min_strength)
    rebuy = rebuy_items(purchased, catalogue.category, settings.rebuy_threshold)
    return Context(
        as_of,
        inter,
        catalogue,
        fitted,
        hist_t,
        bought_t,
        rebuy,
        groups,
        traits,
        prefs,
        settings,
        feedback.rows(rows),
    )


def _rows_of(m: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Rows ``rows`` of ``m`` (``-1`` gives an empty row)."""
    safe = np.where(rows >= 0, rows, 0)
    out = m[safe].tocsr()
    empty = sp.diags((rows >= 0).astype(np.float32))
    out = (empty @ out).tocsr()
    out.eliminate_zeros()
    return out


def rank_rows(ctx: Context, idx: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Ranked:
    """Rank for the customers at positions ``idx`` of ``ctx.traits``."""
    t = ctx.traits.iloc[idx]
    model_rows = t["row"].to_numpy()
    who = Customers(
        history=ctx.history[idx],
        purchased=ctx.purchased[idx],
        personal=t["personal"].fillna(False).to_numpy(dtype=bool),
        preferences=ctx.preferences[idx],
        group=t["group"].to_numpy(),
        rows=np.where(model_rows >= 0, model_rows, 0),
        feedback=None if ctx.feedback is None else ctx.feedback.rows(idx),
    )
    return rank(
        ctx.model,
        who,
        ctx.catalogue,
        ctx.groups,
        ctx.rebuy,
        k=k,
        preference_weight=ctx.settings.preference_weight,
        allowed=allowed,
    )


def position(ctx: Context, customer_id: str) -> int:
    try:
        return int(ctx.traits.index.get_loc(customer_id))  # type: ignore[arg-type]
    except KeyError:
        raise NotFoundError(
            f"no customer {customer_id!r} in the traits", hint="check the id, or run `personae build`"
        ) from None


def _rows_table(ctx: Context, idx: np.ndarray, ranked: Ranked) -> pa.Table:
    n, k = ranked.items.shape
    valid = ranked.items >= 0
    cust = np.repeat(ctx.traits.index.to_numpy()[idx], k).reshape(n, k)[valid]
    ranks = np.tile(np.arange(1, k + 1, dtype=np.int32), (n, 1))[valid]
    prod = ctx.catalogue.item_ids[ranked.items[valid]]
    return pa.table(
        [
            pa.array(cust.astype(str), pa.string()),
            pa.array(ranks, pa.int32()),
            pa.array(prod.astype(str), pa.string()),
            pa.array(np.round(ranked.scores[valid].astype(np.float64), 6)),
            pa.array(ranked.reasons[valid].astype(str), pa.string()),
        ],
        schema=EXPORT_SCHEMA,
    )


def recommend_one(ctx: Context, customer_id: str, k: int = 10) -> list[dict[str, Any]]:
    """Top ``k`` for one customer: ``rank, product_id, name, category, score, reason,
    because_product_ids`` (the products the reason cites; empty for an interest or popularity)."""
    i = position(ctx, customer_id)
    ranked = rank_rows(ctx, np.array([i]), k)
    out = []
    for r, item in enumerate(ranked.items[0]):
        if item < 0:
            continue
        cited = -1 if ranked.because is None else int(ranked.because[0, r])
        out.append(
            {
                "rank": r + 1,
                "product_id": str(ctx.catalogue.item_ids[item]),
                "name": str(ctx.catalogue.names[item]),
                "category": str(ctx.catalogue.category[item]),
                "score": round(float(ranked.scores[0, r]), 6),
                "reason": str(ranked.reasons[0, r]),
                "because_product_ids": [str(ctx.catalogue.item_ids[cited])] if cited >= 0 else [],
            }
        )
    return out


def export_batches(
    ctx: Context, k: int = 10, chunk: int = 5_000, progress: Progress | None = None
) -> Iterator[pa.Table]:
    """``customer_id, rank, product_id, score, reason`` for every customer, in Arrow batches."""
    n = len(ctx.traits)
    for start in range(0, n, chunk):
        idx = np.arange(start, min(start + chunk, n))
        if progress:
            progress("ranking", start / max(n, 1))
        yield _rows_table(ctx, idx, rank_rows(ctx, idx, k))
    if progress:
        progress("done", 1.0)


# -- offline evaluation ---------------------------------------------------------------------------
EVALUATED = ("popularity", "als", "item_knn", "ease")


@dataclass
class _Split:
    """A time split of the store's histories, prepared once for scoring several models."""

    as_of: date
    inter: Interactions
    catalogue: Catalogue
    train: sp.csr_matrix
    purchased: sp.csr_matrix
    test: sp.csr_matrix
    customers: np.ndarray
    rebuy: np.ndarray
    groups: Groups
    prefs: sp.csr_matrix


def _split(store: Store, settings: RecommendSettings) -> _Split:
    as_of = traits_as_of(store)
    inter = load_interactions(store, as_of)
    split = time_split(inter, settings.holdout_share)
    catalogue = load_catalogue(store, inter.item_ids)
    purchased = split.train.purchases()
    groups, _ = group_popularity(purchased, [], [], settings.group_min_buyers)
    return _Split(
        as_of,
        inter,
        catalogue,
        split.train.matrix(_weights(settings)),
        purchased,
        split.test,
        split.customers,
        rebuy_items(purchased, catalogue.category, settings.rebuy_threshold),
        groups,
        history_preferences(purchased, catalogue.features, settings.preference_min_strength),
    )


def _score(data: _Split, settings: RecommendSettings, name: str, k: int) -> dict[str, Any]:
    """Fit ``name`` on the training part and measure its top-k lists against the held-out part."""
    started = time.perf_counter()
    model = make(settings, name).fit(data.train)
    fit_s = time.perf_counter() - started
    personal = name != "popularity"
    cust = data.customers
    everyone = np.zeros(data.inter.n_customers, dtype=np.int64)
    recs = []
    for lo in range(0, len(cust), 5_000):
        c = cust[lo : lo + 5_000]
        who = Customers(
            data.train[c],
            data.purchased[c],
            np.full(len(c), personal),
            data.prefs[c] if personal else data.prefs[c] * 0,
            everyone[c],
            c,
        )
        recs.append(
            rank(
                model,
                who,
                data.catalogue,
                data.groups,
                data.rebuy,
                k=k,
                preference_weight=settings.preference_weight if personal else 0.0,
                explain=False,
            ).items
        )
    items = np.vstack(recs) if recs else np.zeros((0, k), dtype=np.int64)
    m = metrics(items, data.test[cust], data.inter.n_items)
    return {
        "model": name,
        **{key: round(v, 4) if isinstance(v, float) else v for key, v in m.items()},
        "fit_seconds": round(fit_s, 2),
    }


def evaluate(
    store: Store,
    settings: RecommendSettings,
    *,
    k: int = 10,
    models: tuple[str, ...] = EVALUATED,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Time-split evaluation of every model, through the same ranking as production.

    Each customer's most recent ``holdout_share`` of purchases is held out; models are fitted on
    what came before, preferences are re-derived from the training purchases (the stored
    affinities saw the future), and the lists leave out items already bought the way serving
    does. ``als`` is implicit's ALS with its default settings. The item models use the tuned
    parameters when ``personae recommend tune`` stored some (see :func:`tuned`).
    """
    report = progress or (lambda step, fraction: None)
    data = _split(store, settings)
    as_of, inter, cust = data.as_of, data.inter, data.customers
    results: list[dict[str, Any]] = []
    for i, name in enumerate(models):
        report(name, i / len(models))
        results.append(_score(data, tuned(store, settings, name), name, k))
    report("done", 1.0)
    base = next((r for r in results if r["model"] == "popularity"), None)
    if base:
        for r in results:
            r["ndcg_vs_popularity"] = round(r["ndcg"] / base["ndcg"], 3) if base["ndcg"] else None
    return {
        "as_of": as_of.isoformat(),
        "k": k,
        "holdout_share": settings.holdout_share,
        "customers_evaluated": len(cust),
        "items": int(inter.n_items),
        "default_model": settings.model,
        "models": results,
        "left_out": Coverage.of(
            int(inter.n_customers),
            {
                "with too little history to hold any purchase out (they need two or more)": inter.n_customers
                - len(cust)
            },
        ).as_json(),
    }


#: The parameters ``tune`` tries, per model (every combination).
TUNING_GRID: dict[str, dict[str, tuple[float, ...]]] = {
    "ease": {"self_weight": (0.0, 1.0, 3.0, 10.0, 30.0), "ease_regularization": (50.0, 200.0, 800.0)},
    "item_knn": {"self_weight": (0.0, 1.0, 3.0, 10.0, 30.0), "knn_neighbours": (50, 100, 200)},
}
TUNING_TABLE = "recommend_tuning"


def tuned(store: Store, settings: RecommendSettings, model: str) -> RecommendSettings:
    """``settings`` with the parameters ``tune`` chose for ``model`` on this store's data.

    Unchanged when ``use_tuned`` is off, nothing was tuned, or the tuning was for another model.
    """
    if not settings.use_tuned or not store.has_table(TUNING_TABLE):
        return settings
    t = store.table(TUNING_TABLE)
    row = store.execute(t.filter(t.model == model).select("params"))
    if row.empty:
        return settings
    return settings.model_copy(update=json.loads(row.params.iloc[0]))


def tune(
    store: Store,
    settings: RecommendSettings,
    *,
    k: int = 10,
    model: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Choose the model's parameters by time-split validation on this store's own data.

    Why: the best weight of a customer's own history, or the best smoothing, depends on the
    shop — how often people re-buy, how big the catalogue is. Defaults chosen on one data set
    are a guess anywhere else; this measures instead. Every combination in
    :data:`TUNING_GRID` is scored (NDCG@k on each customer's latest purchases, the
    ``evaluate`` protocol); the best is stored and used by recommendations, next best actions
    and the service from then on (``use_tuned``). Ties go to the configured parameters.
    """
    name = model or settings.model
    grid = TUNING_GRID.get(name)
    if grid is None:
        raise InputError(
            f"nothing to tune for the {name!r} recommender",
            hint=f"tune one of: {', '.join(TUNING_GRID)}",
        )
    report = progress or (lambda step, fraction: None)
    base = settings.model_copy(update={"use_tuned": False})
    data = _split(store, base)
    if len(data.customers) == 0:
        raise InputError(
            "no customer has purchases on both sides of the time split",
            hint="tuning needs customers with several purchases; ingest more history",
        )
    keys = list(grid)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]
    configured = {key: getattr(base, key) for key in keys}
    if configured not in combos:
        combos.insert(0, configured)
    tried: list[dict[str, Any]] = []
    for i, params in enumerate(combos):
        report(", ".join(f"{k_}={v}" for k_, v in params.items()), i / len(combos))
        scored = _score(data, base.model_copy(update=params), name, k)
        tried.append({**params, "ndcg": scored["ndcg"], "recall": scored["recall"]})
    report("done", 1.0)
    default = next(t for t in tried if {key: t[key] for key in keys} == configured)
    best = max(tried, key=lambda t: (t["ndcg"], t is default))
    chosen = {key: best[key] for key in keys}
    store.replace(
        TUNING_TABLE,
        pa.table(
            {
                "model": [name],
                "params": [json.dumps(chosen)],
                "ndcg": [best["ndcg"]],
                "configured_ndcg": [default["ndcg"]],
                "k": [k],
                "customers_evaluated": [len(data.customers)],
                "as_of": [data.as_of],
                "tuned_at": [datetime.now(UTC).replace(tzinfo=None)],
            }
        ),
    )
    return {
        "model": name,
        "as_of": data.as_of.isoformat(),
        "k": k,
        "customers_evaluated": len(data.customers),
        "chosen": chosen,
        "ndcg": best["ndcg"],
        "configured": configured,
        "configured_ndcg": default["ndcg"],
        "tried": tried,
    }
