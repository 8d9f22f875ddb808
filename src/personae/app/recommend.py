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
from dataclasses import dataclass, field
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
from personae.errors import InputError, ModelError, NotFoundError
from personae.personalize.evaluation import (
    RELEVANT_FROM,
    REPURCHASE,
    UNSEEN,
    HeldOut,
    held_out,
    sample,
    summary,
    top_k,
)
from personae.personalize.feedback import LIKED_FROM, Feedback, five_stars
from personae.personalize.interactions import (
    CART,
    PURCHASE,
    VIEW,
    Interactions,
    encode,
    sample_customers,
    time_split,
)
from personae.personalize.models import (
    ALS,
    EASE,
    LIKED_WEIGHT,
    STAR_CENTRE,
    ItemKNN,
    Popularity,
    Recommender,
    recency_mask,
    recency_weighted,
    repeat_scores,
    repeat_share,
    star_weights,
    transitions,
)
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
        t.column("customer_id"),
        t.column("product_id"),
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
        return EASE(settings.ease_regularization, settings.self_weight, settings.ease_min_support)
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
    feedback: Feedback | None = None  # rows aligned with traits
    repeat: sp.csr_matrix | None = None  # repurchase scores, rows aligned with traits
    recent: sp.csr_matrix | None = None  # the recent part of each history, rows aligned with traits
    transitions: sp.csr_matrix | None = None  # what people turn to next, item × item


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
    """Load the data as of the traits' date and fit the model on everyone's history.

    The model is the one ``tune`` chose on this store's data (the configured one until then);
    with ratings, the item models learn from the stars and score people from the same input
    (:func:`scoring_input`), and the lists are :func:`~personae.personalize.ranking.rank`'s —
    the very path ``evaluate`` measures (:func:`_served`).
    """
    model = model or chosen_model(store, settings)
    settings = tuned(store, settings, model)
    as_of = traits_as_of(store)
    inter = load_interactions(store, as_of)
    catalogue = load_catalogue(store, inter.item_ids)
    history = inter.matrix(_weights(settings))
    stars = load_stars(store, as_of, inter) if model in STAR_MODELS else None
    # the item models learn which items go together from the stars where there are some, and
    # score each person from the same input: what they rated weighs stars − centre (a dislike
    # negatively, a like more than a purchase), exactly as `evaluate` scores them
    profile = scoring_input(history, stars, settings.star_centre, settings.liked_weight)
    purchased = inter.purchases()
    fitted = make(settings, model).fit(profile)
    feedback = load_feedback(store, as_of, inter)
    protocol = _protocol(repeat_share(purchased), settings)
    now = int(end_of_day(as_of).replace(tzinfo=UTC).timestamp()) if protocol == REPURCHASE else 0
    repeat = _repeat(inter, now, protocol)
    traits = _traits_frame(store)
    # rows of the traits' customers in the interaction matrix (-1: no history)
    rows = pd.Index(inter.customer_ids).get_indexer(traits.index)
    traits["row"] = rows
    # the order of each history: older items weigh less, the latest ones lead to what
    # people usually turn to next (both as `tune` chose, off until then)
    ordered, recent = _ordered(inter, profile, settings)
    seq = _transitions(inter, stars, settings) if recent is not None else None
    hist_t = _rows_of(ordered, rows)
    bought_t = _rows_of(purchased, rows)
    groups, group = _groups(traits, bought_t, settings.group_min_buyers)
    traits["group"] = group
    prefs = _preferences(store, traits.index, catalogue, settings.preference_min_strength)
    rebuy = _rebuy(purchased, catalogue, settings, protocol)
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
        None if repeat is None else _rows_of(repeat, rows),
        None if recent is None else _rows_of(recent, rows),
        seq,
    )


#: the models that learn from the stars (and score people from them) where there are some
STAR_MODELS = ("ease", "item_knn")


def _repeat(inter: Interactions, now: int, protocol: str) -> sp.csr_matrix | None:
    """Repurchase scores of every customer as of ``now`` where re-buying is common (None
    elsewhere): the same for serving (``now`` = the as-of date) and ``evaluate`` (the cut-off)."""
    if protocol != REPURCHASE:
        return None
    p = inter.kind == PURCHASE
    return repeat_scores(
        inter.customer[p], inter.item[p], inter.at[p], now, (inter.n_customers, inter.n_items)
    )


def _rebuy(
    purchased: sp.csr_matrix, catalogue: Catalogue, settings: RecommendSettings, protocol: str
) -> np.ndarray:
    """Items a customer who bought them may be offered again: every item where re-buying is
    common across the shop (the ``repurchase`` protocol, whose repurchase score orders them),
    else those of regularly re-bought categories (:func:`rebuy_items`)."""
    if protocol == REPURCHASE:
        return np.ones(purchased.shape[1], dtype=bool)
    return rebuy_items(purchased, catalogue.category, settings.rebuy_threshold)


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
        repeat=None if ctx.repeat is None else ctx.repeat[idx],
        repeat_weight=ctx.settings.repeat_weight,
        recent=None if ctx.recent is None else ctx.recent[idx],
        sequence_weight=ctx.settings.sequence_weight,
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
        transitions=ctx.transitions,
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
#: the standard baselines, then the default (the configuration ``tune`` chose)
BASELINES = ("popularity", "als", "item_knn", "ease")
DEFAULT = "personae"
EVALUATED = (*BASELINES, DEFAULT)


def load_stars(store: Store, as_of: date, inter: Interactions) -> sp.csr_matrix | None:
    """Each customer's latest rating of each item on five stars (every source
    :func:`load_ratings` reads), or None when the shop has no ratings.

    Two ratings at the same time: the lower one wins, as in :func:`load_feedback`."""
    df = load_ratings(store, as_of)
    if df.empty:
        return None
    df = df.sort_values(["at", "stars"], ascending=[True, False], kind="stable")
    df = df.drop_duplicates(["customer_id", "product_id"], keep="last")
    cust = pd.Index(inter.customer_ids).get_indexer(pd.Index(df["customer_id"].astype(str)))
    item = pd.Index(inter.item_ids).get_indexer(pd.Index(df["product_id"].astype(str)))
    # a 0★ rating is still a rating: keep it distinguishable from "none" (0 in a sparse matrix)
    stars = np.clip(df["stars"].to_numpy(np.float64), 1e-3, 5.0)
    ok = (cust >= 0) & (item >= 0)
    return sp.csr_matrix((stars[ok], (cust[ok], item[ok])), shape=(inter.n_customers, inter.n_items))


@dataclass
class _Split:
    """A time split of histories, prepared once for scoring several models on it."""

    train_inter: Interactions
    train: sp.csr_matrix  # confidence (log1p of weighted counts)
    stars: sp.csr_matrix | None  # ratings known at training time
    held: HeldOut
    repeat: float  # share of customer-item pairs bought in 2+ orders (training)
    cut: int  # latest training time (repurchase recency is measured from it)
    n_items: int
    split_customers: int
    catalogue: Catalogue | None = None  # categories and preference values; None: unknown
    fitted: dict[Any, Any] = field(default_factory=dict)  # models fitted on ``train``, by parameters


def _protocol(repeat: float, settings: RecommendSettings) -> str:
    """Re-buys count when the data shows they are common (``rebuy_threshold`` of pairs)."""
    return REPURCHASE if repeat >= settings.rebuy_threshold else UNSEEN


def _prepare(
    inter: Interactions,
    stars: sp.csr_matrix | None,
    settings: RecommendSettings,
    catalogue: Catalogue | None = None,
) -> _Split:
    split = time_split(inter, settings.holdout_share)
    train = split.train.matrix(_weights(settings))
    train_stars = None
    if stars is not None:
        # only the ratings given at training time (those of held-out items are the answers)
        train_stars = stars.multiply((train > 0).astype(np.float64)).tocsr()
        train_stars.eliminate_zeros()
    repeat = repeat_share(split.train.purchases())
    held = sample(
        held_out(train, split.test, stars, _protocol(repeat, settings)),
        settings.evaluate_customers,
        settings.seed,
    )
    cut = int(split.train.at.max()) if len(split.train.at) else 0
    return _Split(
        split.train, train, train_stars, held, repeat, cut, inter.n_items, inter.n_customers, catalogue
    )


def _config(settings: RecommendSettings, name: str) -> dict[str, Any]:
    """The parameters of model ``name`` in ``settings`` (what ``tune`` varies)."""
    if name == "ease":
        return {
            "ease_regularization": settings.ease_regularization,
            "ease_min_support": settings.ease_min_support,
            "star_centre": settings.star_centre,
        }
    if name == "item_knn":
        return {"knn_neighbours": settings.knn_neighbours, "star_centre": settings.star_centre}
    return {}


def _scores(
    data: _Split, name: str, params: dict[str, Any], settings: RecommendSettings
) -> tuple[np.ndarray, float, float]:
    """Scores of the evaluated customers by baseline ``name``, its fit and scoring times (s).

    The baselines are the standard ones, on the interactions alone: ``popularity`` (distinct
    buyers), ``als`` (implicit's defaults), ``item_knn`` (shrunk cosine) and ``ease`` (all
    items). The default is measured through the serving path instead (:func:`_served`).
    """
    s = settings.model_copy(update=params)
    X = data.train
    cust = data.held.customers
    started = time.perf_counter()
    if name == "popularity":
        model: Recommender = Popularity().fit(X)
    elif name == "als":
        model = ALS(seed=s.seed).fit(X)
    elif name == "item_knn":
        model = ItemKNN(s.knn_neighbours).fit(X)
    else:
        model = EASE(s.ease_regularization).fit(X)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    out = model.score(X[cust], cust)
    return out, fit_s, time.perf_counter() - started


def _served(
    data: _Split, name: str, params: dict[str, Any], settings: RecommendSettings, k: int
) -> tuple[np.ndarray, float, float]:
    """The default's top-``k`` lists for the evaluated customers, its fit and ranking times (s).

    Measured through what serving runs (:func:`fit_context` and :func:`rank_rows`): the model
    :func:`make` builds, fitted on and scoring people from :func:`scoring_input`; then
    :func:`~personae.personalize.ranking.rank` with their verdicts (a dislike is never offered),
    the repurchase score where re-buying is common, their preferences learned from their
    training purchases (the stored affinities saw the held-out period), and the protocol's
    exclusions. What differs from serving is only what the split cannot know: the segment ×
    region groups of the popularity tie-break (everyone's popularity is used).
    """
    s = settings.model_copy(update=params)
    X = scoring_input(data.train, data.stars if name in STAR_MODELS else None, s.star_centre, s.liked_weight)
    cust = data.held.customers
    t = data.train_inter
    # candidates differing only in how the lists are blended share one fit (tune's grid)
    key = (name, *sorted((p, v) for p, v in params.items() if p not in RANKING_PARAMS))
    started = time.perf_counter()
    if key not in data.fitted:
        data.fitted[key] = make(s, name).fit(X)
    model = data.fitted[key]
    seq = None
    if s.sequence_weight:
        seq_key = ("transitions", s.sequence_window, s.sequence_other_weight)
        if seq_key not in data.fitted:
            data.fitted[seq_key] = _transitions(t, data.stars, s)
        seq = data.fitted[seq_key]
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    purchased = t.purchases()
    catalogue = data.catalogue or _bare_catalogue(t.item_ids)
    groups, _group = group_popularity(purchased, [], [], s.group_min_buyers)
    bought = purchased[cust]
    repeat = _repeat(t, data.cut, data.held.protocol)
    history, recent = _ordered(t, X, s)
    who = Customers(
        history=history[cust],
        purchased=bought,
        personal=np.ones(len(cust), dtype=bool),
        preferences=history_preferences(bought, catalogue.features, s.preference_min_strength),
        group=np.full(len(cust), groups.everyone, dtype=np.int64),
        rows=cust,
        feedback=None if data.stars is None else Feedback.of_stars(data.stars[cust]),
        repeat=None if repeat is None else repeat[cust],
        repeat_weight=s.repeat_weight,
        exclude=data.held.exclude,
        recent=None if recent is None else recent[cust],
        sequence_weight=s.sequence_weight,
    )
    rebuy = _rebuy(purchased, catalogue, s, data.held.protocol)
    ranked = rank(
        model,
        who,
        catalogue,
        groups,
        rebuy,
        k=k,
        preference_weight=s.preference_weight,
        explain=False,
        transitions=seq,
    )
    return ranked.items, fit_s, time.perf_counter() - started


#: parameters that change how lists are blended, not the fitted model
RANKING_PARAMS = (
    "repeat_weight",
    "preference_weight",
    "sequence_weight",
    "sequence_last",
    "sequence_decay",
    "recency_decay",
    "recency_floor",
)


def _ordered(
    inter: Interactions, X: sp.csr_matrix, s: RecommendSettings
) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
    """What each customer is scored from, given the order of their history: the scoring input
    with older items weighing less (``recency_decay`` per step back, down to
    ``recency_floor``; unchanged at decay 1), and its recent part — their ``sequence_last``
    latest items, ``sequence_decay`` per step back, each with its input weight (a recent
    dislike pulls what usually follows it down) — that the transitions are scored from (None
    when ``sequence_weight`` is 0). One function for serving and ``evaluate``.
    """
    shape = X.shape
    history = X
    if s.recency_decay < 1.0:
        mask = recency_mask(
            inter.customer, inter.item, inter.at, shape, shape[1] + 1, s.recency_decay, s.recency_floor
        )
        history = recency_weighted(X, mask, s.recency_floor)
    recent = None
    if s.sequence_weight:
        last = recency_mask(inter.customer, inter.item, inter.at, shape, s.sequence_last, s.sequence_decay)
        recent = sp.csr_matrix(sp.csr_matrix(X).multiply(last), dtype=np.float32)
    return history, recent


def _transitions(inter: Interactions, stars: sp.csr_matrix | None, s: RecommendSettings) -> sp.csr_matrix:
    """What people turn to next (:func:`~personae.personalize.models.transitions`); with
    ratings, a step to an item its person rated below 4 of 5 counts ``sequence_other_weight``."""
    weight = None
    if stars is not None:
        st = np.asarray(sp.csr_matrix(stars)[inter.customer, inter.item]).ravel()
        weight = np.where((st > 0) & (st < LIKED_FROM), s.sequence_other_weight, 1.0)
    return transitions(inter.customer, inter.item, inter.at, inter.n_items, s.sequence_window, weight)


def _bare_catalogue(item_ids: np.ndarray) -> Catalogue:
    """A catalogue of ids alone (no names, categories or preference values): ratings read from
    a file (the benchmark) carry nothing else."""
    n = len(item_ids)
    features, names = item_features(np.full(n, "", dtype=object), np.full(n, "", dtype=object), [[]] * n)
    ids = np.asarray(item_ids).astype(str)
    return Catalogue(ids, ids.astype(object), np.full(n, "", dtype=object), features, names)


def scoring_input(
    history: sp.csr_matrix,
    stars: sp.csr_matrix | None,
    centre: float = STAR_CENTRE,
    liked_weight: float = LIKED_WEIGHT,
) -> sp.csr_matrix:
    """What the item models of the default learn from and score people on: the history with
    each rated pair's weight replaced by its stars − ``centre`` (:func:`star_weights`), or the
    history itself in a shop without ratings. ``centre`` (``star_centre``, chosen by ``tune``)
    stays above :data:`DISLIKED_UP_TO`, so a dislike always weighs negatively.

    One function for what ``fit_context`` fits on and what ``evaluate`` fits and scores on. A
    disliked item weighs negatively here; ``rank`` also excludes it and never cites it.
    """
    return history if stars is None else star_weights(history, stars, centre, liked_weight)


def _measure(
    data: _Split,
    name: str,
    params: dict[str, Any],
    settings: RecommendSettings,
    k: int,
    default: bool = False,
) -> dict[str, Any]:
    if default:
        items, fit_s, rank_s = _served(data, name, params, settings, k)
    else:
        scores, fit_s, score_s = _scores(data, name, params, settings)
        started = time.perf_counter()
        items = top_k(scores, k, data.held.exclude)
        # latency of a list: scoring and picking the top k, per customer (the fit is shared)
        rank_s = score_s + time.perf_counter() - started
    m = summary(items, data.held.gains, data.n_items, seed=settings.seed)
    out: dict[str, Any] = {"model": DEFAULT if default else name}
    for key, v in m.items():
        out[key] = (
            [round(x, 4) for x in v] if isinstance(v, list) else round(v, 4) if isinstance(v, float) else v
        )
    out["fit_seconds"] = round(fit_s, 2)
    out["ms_per_customer"] = round(1000 * rank_s / max(len(data.held.customers), 1), 3)
    if default:
        out["chosen"] = {"model": name, **params}
    return out


#: What ``tune`` tries: each model with these values of its parameters.
TUNING_GRID: dict[str, dict[str, tuple[float, ...]]] = {
    "popularity": {},
    "als": {},
    "item_knn": {"knn_neighbours": (25, 50, 100, 200), "star_centre": (3.0, 2.5)},
    "ease": {
        "ease_regularization": (100.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2000.0),
        "star_centre": (3.0, 2.5),
    },
}
#: repurchase-aware shops also try these weights of the repurchase score
REPEAT_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
#: then, for the best item model, what the order of each history adds: older items weighing
#: less (``recency_decay``) and what people turn to next (``sequence_weight``); the first is
#: the order ignored, so a shop without sequential signal keeps the plain model (ties go to it)
SEQUENCE_GRID: dict[str, tuple[float, ...]] = {
    "recency_decay": (1.0, 0.95),
    "sequence_weight": (0.0, 0.1, 0.2, 0.3),
}
TUNING_TABLE = "recommend_tuning"


def _choose(
    inter: Interactions,
    stars: sp.csr_matrix | None,
    settings: RecommendSettings,
    k: int,
    report: Progress,
    models: tuple[str, ...] | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], _Split]:
    """The best model and parameters by NDCG@k on a validation split of ``inter``.

    ``inter`` is the training part of whatever is being judged (the store's whole history for
    ``tune``; the training part of the test split for ``evaluate``), so the choice never sees
    the items it will be judged on.
    """
    val = _prepare(inter, stars, settings, catalogue)
    if len(val.held.customers) == 0:
        raise InputError(
            "no customer has purchases on both sides of the validation split",
            hint="choosing a model needs customers with several purchases; ingest more history",
        )
    combos: list[tuple[str, dict[str, Any]]] = []
    for name, grid in TUNING_GRID.items():
        if models is not None and name not in models:
            continue
        if stars is None:  # without ratings the centre of the stars changes nothing
            grid = {p: v for p, v in grid.items() if p != "star_centre"}
        keys = list(grid)
        for values in itertools.product(*grid.values()):
            params = dict(zip(keys, values, strict=True))
            if val.held.protocol == REPURCHASE:
                combos.extend((name, {**params, "repeat_weight": w}) for w in REPEAT_WEIGHTS)
            else:
                combos.append((name, params))
    tried: list[dict[str, Any]] = []

    def run(candidates: list[tuple[str, dict[str, Any]]], start: float, share: float) -> None:
        for i, (name, params) in enumerate(candidates):
            report(f"validation: {name} {params}", start + share * i / len(candidates))
            try:
                r = _measure(val, name, params, settings, k, default=True)
            except ModelError:
                continue  # a model that refuses this data (EASE above 20,000 items) is no candidate
            tried.append({"model": name, **params, "ndcg": r["ndcg"], "recall": r["recall"]})

    def best() -> dict[str, Any]:
        # ties go to the earlier (simpler) candidate
        top = max(enumerate(tried), key=lambda t: (t[1]["ndcg"], -t[0]))[1]
        return {key: v for key, v in top.items() if key not in ("ndcg", "recall")}

    run(combos, 0.0, 0.8)
    chosen = best()
    if chosen["model"] in STAR_MODELS:
        # the order of the histories, on top of the best model (its fit is reused)
        name = str(chosen["model"])
        params = {key: v for key, v in chosen.items() if key != "model"}
        keys = list(SEQUENCE_GRID)
        run(
            [
                (name, {**params, **dict(zip(keys, values, strict=True))})
                for values in itertools.product(*SEQUENCE_GRID.values())
            ],
            0.8,
            0.2,
        )
        chosen = best()
    return chosen, tried, val


def evaluate(
    store: Store,
    settings: RecommendSettings,
    *,
    k: int = 10,
    models: tuple[str, ...] = EVALUATED,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Time-split evaluation of the standard baselines and of personae's default.

    Each customer's latest ``holdout_share`` of purchases is held out (``time_split``);
    models learn from what came before. Candidates and relevance follow the protocol the
    data calls for (:mod:`personae.personalize.evaluation`): ``unseen`` (the standard one:
    nothing the customer interacted with in training is recommended or counted), or
    ``repurchase`` where re-buying is common. With ratings, relevant means rated 4 of 5 or
    more and NDCG's gain is the rating. The default is chosen the way ``tune`` chooses it —
    by a validation split carved from the training part, never the held-out part — so its
    figure is what a user of this shop would get.
    """
    report = progress or (lambda step, fraction: None)
    as_of = traits_as_of(store)
    inter = load_interactions(store, as_of)
    everyone = inter.n_customers
    # every candidate is fitted on the histories: a shop of millions is judged on a sample
    inter, unsampled = sample_customers(inter, settings.evaluate_universe, settings.seed)
    stars = load_stars(store, as_of, inter)
    data = _prepare(inter, stars, settings, load_catalogue(store, inter.item_ids))
    cust = data.held.customers
    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    if len(cust):
        for i, name in enumerate(m for m in models if m in BASELINES):
            report(name, i / len(models))
            try:
                results.append(_measure(data, name, _config(settings, name), settings, k))
            except ModelError as exc:
                skipped[name] = str(exc)
        if DEFAULT in models:
            report("choosing the default", 0.8)
            chosen, _tried, _ = _choose(
                data.train_inter, stars, settings, k, report, catalogue=data.catalogue
            )
            name = chosen.pop("model")
            results.append(_measure(data, name, chosen, settings, k, default=True))
    report("done", 1.0)
    base = next((r for r in results if r["model"] == "popularity"), None)
    als = next((r for r in results if r["model"] == "als"), None)
    for r in results:
        r["ndcg_vs_popularity"] = round(r["ndcg"] / base["ndcg"], 3) if base and base["ndcg"] else None
        r["ndcg_vs_als"] = round(r["ndcg"] / als["ndcg"], 3) if als and als["ndcg"] else None
    left = {why: n for why, n in data.held.left_out.items() if n}
    if unsampled:
        left[f"not among the {settings.evaluate_universe:,} random customers the models were fitted on"] = (
            unsampled
        )
    return {
        "as_of": as_of.isoformat(),
        "k": k,
        "holdout_share": settings.holdout_share,
        "protocol": data.held.protocol,
        "repeat_share": round(data.repeat, 4),
        "rated": stars is not None,
        "relevance": (
            f"rated {RELEVANT_FROM:g} of 5 or more (gain = stars)"
            if stars is not None
            else "any held-out purchase (gain 1)"
        ),
        "customers_evaluated": len(cust),
        "items": int(inter.n_items),
        "train_interactions": len(data.train_inter.customer),
        "test_interactions": int(inter.n_items and len(inter.customer) - len(data.train_inter.customer)),
        "default_model": DEFAULT,
        "models": results,
        "models_skipped": skipped,
        "left_out": Coverage.of(int(everyone), left).as_json(),
    }


def tuned(store: Store, settings: RecommendSettings, model: str) -> RecommendSettings:
    """``settings`` with the parameters ``tune`` chose for ``model`` on this store's data.

    Unchanged when ``use_tuned`` is off, nothing was tuned, or the tuning chose another model.
    """
    if not settings.use_tuned or not store.has_table(TUNING_TABLE):
        return settings
    t = store.table(TUNING_TABLE)
    row = store.execute(t.filter(t.model == model).select("params"))
    if row.empty:
        return settings
    return settings.model_copy(update=json.loads(row.params.iloc[0]))


def chosen_model(store: Store, settings: RecommendSettings) -> str:
    """The model ``tune`` chose on this store's data (the configured one when not tuned)."""
    if not settings.use_tuned or not store.has_table(TUNING_TABLE):
        return settings.model
    t = store.table(TUNING_TABLE)
    row = store.execute(t.select("model"))
    return str(row.model.iloc[0]) if not row.empty else settings.model


def tune(
    store: Store,
    settings: RecommendSettings,
    *,
    k: int = 10,
    model: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Choose the model and its parameters by time-split validation on this store's own data.

    Why: which model wins, EASE's best smoothing, item-kNN's best neighbourhood and how much
    re-buys matter depend on the shop — a guess chosen on one data set is wrong elsewhere.
    Every candidate of :data:`TUNING_GRID` (``--model`` restricts it to one model) is fitted
    on the history before each customer's latest ``holdout_share`` of purchases and scored on
    those (NDCG@k, the ``evaluate`` protocol); the best is stored and used by
    recommendations, next best actions and the service from then on (``use_tuned``).
    """
    if model is not None and model not in TUNING_GRID:
        raise InputError(f"unknown recommender {model!r}", hint=f"tune one of: {', '.join(TUNING_GRID)}")
    if model is not None and not TUNING_GRID[model]:
        raise InputError(
            f"nothing to tune for the {model!r} recommender",
            hint=f"tune one of: {', '.join(m for m, g in TUNING_GRID.items() if g)}, or all (no --model)",
        )
    report = progress or (lambda step, fraction: None)
    as_of = traits_as_of(store)
    inter = load_interactions(store, as_of)
    stars = load_stars(store, as_of, inter)
    catalogue = load_catalogue(store, inter.item_ids)
    only = None if model is None else (model,)
    chosen, tried, val = _choose(inter, stars, settings, k, report, only, catalogue)
    report("done", 1.0)
    name = str(chosen.pop("model"))
    best = max(t["ndcg"] for t in tried)
    configured = next(
        (
            t
            for t in tried
            if t["model"] == settings.model
            and all(t[p] == v for p, v in _config(settings, settings.model).items() if p in t)
        ),
        None,
    )
    store.replace(
        TUNING_TABLE,
        pa.table(
            {
                "model": [name],
                "params": [json.dumps(chosen)],
                "ndcg": [best],
                "configured_ndcg": [configured["ndcg"] if configured else None],
                "k": [k],
                "customers_evaluated": [len(val.held.customers)],
                "as_of": [as_of],
                "tuned_at": [datetime.now(UTC).replace(tzinfo=None)],
            },
            schema=pa.schema(
                [
                    ("model", pa.string()),
                    ("params", pa.string()),
                    ("ndcg", pa.float64()),
                    ("configured_ndcg", pa.float64()),
                    ("k", pa.int64()),
                    ("customers_evaluated", pa.int64()),
                    ("as_of", pa.date32()),
                    ("tuned_at", pa.timestamp("us")),
                ]
            ),
        ),
    )
    return {
        "model": name,
        "as_of": as_of.isoformat(),
        "k": k,
        "protocol": val.held.protocol,
        "customers_evaluated": len(val.held.customers),
        "chosen": chosen,
        "ndcg": best,
        "configured": {"model": settings.model, **_config(settings, settings.model)},
        "configured_ndcg": configured["ndcg"] if configured else None,
        "tried": tried,
    }
