"""Clusters on the store: build, assign at every ``personae build``, show, evaluate, export, rename.

Application layer over :mod:`personae.clusters`. One model is *active* at a time
(``cluster_models.active``); its fitted state (the preprocessing and the centres) is stored
as JSON, so every ``personae build`` assigns all customers — new ones too — with exactly
the same transform, without refitting. Assignments become two trait columns, ``cluster`` and
``cluster_name``, and every cluster a built-in segment ``cluster:NAME`` (rule
``cluster == N``), so ``in_segment("cluster:…")`` works in rules in batch and real time, and
the members are stored with the build's segment snapshot.

Who is clustered: customers with at least one order (prospects have no behaviour to
cluster on; they keep ``cluster`` unknown) — or, in a store with no orders at all (ratings or
views only, like MovieLens), customers with at least one event; the result says which.

Taste: the ``taste`` feature family is the share of each customer's orders in each of the 20
most common categories (the ``share`` of the ``affinities`` table's category rows), or, in a
store without orders, the share of their events on products of each category. It is on by
default where the data has categories, and describes (and may name) clusters even when it was
not clustered on, like gender, age band and country.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app.reads import ASSIGNMENTS, MODELS, PROFILES, built, cluster_names, latest_traits_as_of
from personae.app.segments.run import evaluate_segments
from personae.clusters.features import (
    MAX_LEVELS,
    TASTE_PREFIX,
    Feature,
    Preprocessor,
    describing_features,
    needed_columns,
    select_features,
    taste_columns,
)
from personae.clusters.model import ClusterModel, selection_dict
from personae.clusters.preferences import PreferenceProfile, preference_profile
from personae.clusters.profiles import PROFILE_COLUMNS, ClusterProfile, profile_clusters
from personae.clusters.quality import bootstrap_stability, davies_bouldin, recovery, silhouette
from personae.config.traits import TraitSettings
from personae.coverage import Coverage
from personae.errors import InputError, ModelError, NotFoundError
from personae.privacy import consent
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits.inputs import EVENT_COLUMNS

#: Customers the model is fitted on (all are assigned).
DEFAULT_SAMPLE = 50_000
SEGMENT_PREFIX = "cluster:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-'.&/+()#]*$")
Progress = Callable[[str, float], None]

_MODEL_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("built_at", pa.timestamp("us")),
        ("as_of", pa.date32()),
        ("k", pa.int32()),
        ("seed", pa.int32()),
        ("features", pa.string()),
        ("customers", pa.int64()),
        ("sample_size", pa.int64()),
        ("silhouette", pa.float64()),
        ("davies_bouldin", pa.float64()),
        ("stability_ari", pa.float64()),
        ("selection", pa.string()),
        ("state", pa.string()),
        ("active", pa.bool_()),
    ]
)
_PROFILE_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("cluster", pa.int32()),
        ("name", pa.string()),
        ("generated_name", pa.string()),
        ("size", pa.int64()),
        ("share", pa.float64()),
        ("revenue_share", pa.float64()),
        ("avg_clv", pa.float64()),
        ("nps", pa.float64()),
        ("distinguishing", pa.string()),
    ]
)


# -- reading -------------------------------------------------------------------------------------
#: Who is clustered, for people (``population`` in the results).
BUYERS = "customers with at least one order"
ACTIVE = "customers with at least one event (the store has no orders)"


def clustered_population(store: Store) -> str:
    """:data:`BUYERS`, or :data:`ACTIVE` in a store where nobody has an order."""
    t = built(store, "traits")
    if "frequency" not in t.columns:
        raise ModelError("the traits have no `frequency` column", hint="rebuild with `personae build`")
    if store.execute(t.filter(t.frequency > 0).count()) > 0 or "last_event_at" not in t.columns:
        return BUYERS
    return ACTIVE


def clustered_traits(
    store: Store,
    features: Sequence[Feature],
    *,
    taste_levels: Sequence[str] | None = None,
    population: str | None = None,
) -> pd.DataFrame:
    """The traits clustering reads, for every clustered customer who consented to profiling,
    in a fixed order, with the demographics that describe clusters and the ``taste:<category>``
    columns (the ``taste_levels`` categories, or the most common ones)."""
    t = built(store, "traits")
    population = population or clustered_population(store)
    describing = describing_features(features, taste=False)
    columns = [*needed_columns(describing), *PROFILE_COLUMNS]
    wanted = [c for c in dict.fromkeys(columns) if c in t.columns]
    # clustering is profiling: only customers who consented to it (the consent gate)
    t = consent.consented(t, ["profiling"])
    t = t.filter(t.frequency > 0) if population == BUYERS else t.filter(t.last_event_at.notnull())
    t = t.select("customer_id", *wanted).order_by("customer_id")
    df = store.execute(t).reset_index(drop=True)
    taste = taste_table(store, population, taste_levels)
    if not taste.empty:
        df = df.merge(taste, on="customer_id", how="left")
        cols = taste_columns(df)
        df[cols] = df[cols].fillna(0.0)
    return df


def taste_table(store: Store, population: str, levels: Sequence[str] | None = None) -> pd.DataFrame:
    """``customer_id`` and one ``taste:<category>`` column per category: the share of the
    customer's orders with it (from ``affinities``) or, without orders, of their events on its
    products. ``levels``: these categories (a fitted model's); else the :data:`MAX_LEVELS`
    categories the most customers have. Empty when the data has no categories."""
    if population == BUYERS:
        if not store.has_table("affinities"):
            return pd.DataFrame()
        a = store.table("affinities")
        long = a.filter(a.kind == "category").select("customer_id", "value", "share")
    else:
        if not store.has_table("events") or not store.has_table("products"):
            return pd.DataFrame()
        e = store.resolved("events", EVENT_COLUMNS)
        p = store.table("products")
        as_of = latest_traits_as_of(store)
        if as_of is not None:
            e = e.filter(e.occurred_at.date() <= as_of)
        j = e.join(p.select(pid="product_id", value="category"), e.product_id == p.product_id)
        j = j.filter(j.value.notnull())
        counts = j.group_by(["customer_id", "value"]).aggregate(n=j.count())
        totals = counts.group_by("customer_id").aggregate(total=counts.n.sum())
        c = counts.join(totals, "customer_id")
        long = c.select("customer_id", "value", share=c.n.cast("float64") / c.total)
    if levels is None:
        popular = long.group_by("value").aggregate(n=long.count())
        top = store.execute(popular.order_by([popular.n.desc(), popular.value]).limit(MAX_LEVELS).value)
        levels = [str(v) for v in top]
    else:
        levels = [lvl.removeprefix(TASTE_PREFIX) for lvl in levels]
    if not levels:
        return pd.DataFrame()
    df = store.execute(long.filter(long.value.isin(list(levels))))
    wide = df.pivot_table(index="customer_id", columns="value", values="share", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=list(levels), fill_value=0.0)
    wide.columns = [f"{TASTE_PREFIX}{c}" for c in wide.columns]
    return wide.reset_index()


def require_feature_columns(store: Store, features: Sequence[Feature]) -> None:
    """Refuse features whose traits were never built (rather than clustering without them)."""
    have = set(built(store, "traits").columns)
    missing = {f.name: [c for c in f.columns if c not in have] for f in features}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        raise InputError(
            "no traits for clustering feature(s) "
            + ", ".join(f"{k} ({', '.join(v)})" for k, v in missing.items()),
            hint="run `personae build` (voice features need texts: see docs/voice.md)",
        )


def active_model(store: Store) -> dict[str, Any] | None:
    """The active model's row (``state`` etc. parsed), or ``None``."""
    if not store.has_table(MODELS):
        return None
    m = store.table(MODELS)
    rows = store.rows(m.filter(m.active).order_by(m.built_at.desc()).limit(1))
    if not rows:
        return None
    row = rows[0]
    for key in ("features", "selection", "state"):
        row[key] = json.loads(row[key]) if row[key] else None
    return row


def _profiles(store: Store, model_id: str) -> list[dict[str, Any]]:
    p = store.table(PROFILES)
    rows = store.rows(p.filter(p.model_id == model_id).order_by("cluster"))
    for r in rows:
        r["distinguishing"] = json.loads(r["distinguishing"] or "[]")
    return rows


# -- fitting -------------------------------------------------------------------------------------
def build_clusters(
    store: Store,
    *,
    k: int | None = None,
    features: str | Sequence[str] | None = None,
    seed: int = 0,
    sample_size: int = DEFAULT_SAMPLE,
    resamples: int = 5,
    settings: TraitSettings | None = None,
    snapshot: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit a model on a sample, assign every customer, profile and name the clusters, store it.

    The new model becomes the active one; the previous models stay in ``cluster_models``
    (inactive) with their profiles. With ``snapshot``, the segment snapshot of the traits'
    as-of date is refreshed so the ``cluster:…`` segments are stored at once.
    """
    report = progress or (lambda step, fraction: None)
    chosen = select_features(features)
    if features is not None:  # asked for by name: each must have its traits
        require_feature_columns(store, chosen)
    report("reading traits", 0.0)
    population = clustered_population(store)
    traits = clustered_traits(store, chosen, population=population)
    has_taste = bool(taste_columns(traits))
    if not has_taste and any(f.name == "taste" for f in chosen):
        if features is not None:
            raise InputError(
                "the taste feature needs categories, and no clustered customer has one",
                hint="ingest products with a `category` column, then `personae build`",
            )
        chosen = [f for f in chosen if f.name != "taste"]  # by default: where there are categories
    n = len(traits)
    if n < 10:
        raise ModelError(
            f"only {n} {population.split(' (')[0]}: too few to cluster",
            hint="clustering groups customers by what they do: ingest orders or events, "
            "then `personae build`",
        )
    if sample_size < 10:
        raise InputError(f"--sample must be at least 10, got {sample_size}")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, min(sample_size, n), replace=False))
    sample = traits.iloc[idx]
    pre = Preprocessor(chosen).fit(sample)
    xs = pre.transform(sample)
    report("choosing k" if k is None else "fitting", 0.1)
    model = ClusterModel(k=k, seed=seed).fit(xs)
    assert model.k_ is not None
    selection = model.selection_ or {
        "k": model.k_,
        "rule": "given",
        "reason": f"k = {model.k_} was given (--k); the evidence for other k is computed only with --k auto.",
        "warning": None,
        "scored_on": 0,
        "scores": [],
    }
    labels_s = model.predict(xs)
    report("measuring quality", 0.6)
    sil, dbi = silhouette(xs, labels_s, seed), davies_bouldin(xs, labels_s)
    stability = bootstrap_stability(xs, labels_s, model.k_, seed=seed, resamples=resamples)
    report("assigning every customer", 0.8)
    labels = model.predict(pre.transform(traits))
    profiles = profile_clusters(chosen, traits, labels, describing=describing_features(chosen, has_taste))
    as_of = latest_traits_as_of(store)
    now = datetime.now(UTC).replace(tzinfo=None)
    model_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    row = {
        "model_id": model_id,
        "built_at": now,
        "as_of": as_of,
        "k": model.k_,
        "seed": seed,
        "features": json.dumps([f.name for f in chosen]),
        "customers": n,
        "sample_size": len(idx),
        "silhouette": _finite(sil),
        "davies_bouldin": _finite(dbi),
        "stability_ari": _finite(stability.mean),
        "selection": json.dumps(selection),
        "state": json.dumps(
            {"preprocessor": pre.to_dict(), "model": model.to_dict(), "population": population}
        ),
        "active": True,
    }
    report("storing", 0.9)
    with store.transaction():
        previous = store.rows(store.table(MODELS))
        store.delete_where_in(MODELS, "model_id", [r["model_id"] for r in previous])
        store.append(
            MODELS, pa.Table.from_pylist([*({**r, "active": False} for r in previous), row], _MODEL_SCHEMA)
        )
        store.append(PROFILES, _profile_table(model_id, profiles))
        _write_assignments(store, model_id, traits["customer_id"], labels, as_of)
        add_cluster_traits(store)
    if snapshot:
        _refresh_snapshot(store, settings)
    report("done", 1.0)
    t = built(store, "traits")
    total = int(store.scalar(t.count()))
    allowed = int(store.scalar(consent.consented(t, ["profiling"]).count()))
    outside = "without an order" if population == BUYERS else "without an event"
    left_out = Coverage.of(total, {"who objected to profiling": total - allowed, outside: allowed - n})
    return {
        "model_id": model_id,
        "k": model.k_,
        "customers": n,
        "left_out": left_out.as_json(),
        "population": population,
        "sample_size": len(idx),
        "features": [f.name for f in chosen],
        "seed": seed,
        "silhouette": _round(sil),
        "davies_bouldin": _round(dbi),
        "stability_ari": _round(stability.mean),
        "stability_ari_min": _round(stability.minimum),
        "k_selection": selection,
        "warnings": [w for w in [selection.get("warning")] if w],
        "clusters": [_profile_json(p.as_dict()) for p in profiles],
    }


def assign_clusters(store: Store, as_of: date | None = None) -> dict[str, Any]:
    """The ``clusters`` step of ``personae build``: assign everyone with the active model.

    Names are kept (generated or renamed); sizes, revenue, CLV and NPS are recomputed.
    """
    active = active_model(store)
    if active is None:
        return {"skipped": "no cluster model (run `personae clusters build`)"}
    pre = Preprocessor.from_dict(active["state"]["preprocessor"])
    model = ClusterModel.from_dict(active["state"]["model"])
    traits = _model_traits(store, active["state"], pre)
    if traits.empty:
        return {"skipped": "no customers to cluster"}
    labels = model.predict(pre.transform(traits))
    model_id = active["model_id"]
    old = {r["cluster"]: r for r in _profiles(store, model_id)}
    profiles = profile_clusters(
        pre.features,
        traits,
        labels,
        names={c: r["name"] for c, r in old.items()},
        describing=describing_features(pre.features, bool(taste_columns(traits))),
    )
    for p in profiles:  # keep the generated name of the fit: a rename is relative to it
        if p.cluster in old:
            p.generated_name = old[p.cluster]["generated_name"]
    # clusters that lost every member still exist (and keep their names)
    missing = [r for c, r in old.items() if c not in {p.cluster for p in profiles}]
    with store.transaction():
        store.delete_where_in(PROFILES, "model_id", [model_id])
        store.append(PROFILES, _profile_table(model_id, profiles))
        if missing:
            store.append(PROFILES, _profile_table(model_id, [_empty_profile(r) for r in missing]))
        _write_assignments(
            store, model_id, traits["customer_id"], labels, as_of or latest_traits_as_of(store)
        )
        add_cluster_traits(store)
    return {"clusters": int(active["k"]), "customers": len(traits)}


def _model_traits(store: Store, state: dict[str, Any], pre: Preprocessor) -> pd.DataFrame:
    """The traits a stored model reads: its population, and its fitted taste categories."""
    taste = (pre.params_ or {}).get("taste")
    return clustered_traits(
        store,
        pre.features,
        taste_levels=taste["levels"] if taste else None,
        population=state.get("population", BUYERS),
    )


def _write_assignments(
    store: Store, model_id: str, ids: pd.Series, labels: np.ndarray, as_of: date | None
) -> None:
    existing = store.to_arrow(store.table(ASSIGNMENTS).select("model_id").distinct()).column(0)
    store.delete_where_in(ASSIGNMENTS, "model_id", existing)
    days = np.full(len(ids), -1 if as_of is None else (as_of - date(1970, 1, 1)).days, dtype=np.int32)
    table = pa.table(
        {
            "model_id": pa.array([model_id] * len(ids), pa.string()),
            "customer_id": pa.array(ids.astype(str).tolist(), pa.string()),
            "cluster": pa.array(labels.astype(np.int32)),
            "as_of": pa.array(days).cast(pa.date32()) if as_of else pa.nulls(len(ids), pa.date32()),
        }
    )
    store.append(ASSIGNMENTS, table)


def add_cluster_traits(store: Store) -> None:
    """(Re)write the ``cluster`` and ``cluster_name`` trait columns from the assignments."""
    t = store.table("traits")
    base = t.drop(*[c for c in ("cluster", "cluster_name") if c in t.columns])
    a = store.table(ASSIGNMENTS)
    p = store.table(PROFILES)
    named = a.join(p, [a.model_id == p.model_id, a.cluster == p.cluster]).select(
        customer_id=a.customer_id, cluster=a.cluster, cluster_name=p.name
    )
    store.replace("traits", join_on_customer(base, named))


def _refresh_snapshot(store: Store, settings: TraitSettings | None) -> None:
    """Re-evaluate the segments at the traits' as-of date (cluster segments follow the model)."""
    as_of = latest_traits_as_of(store)
    if as_of is None:
        return
    evaluate_segments(store, as_of, settings)


# -- reading for people ----------------------------------------------------------------------------
def require_model(store: Store) -> dict[str, Any]:
    active = active_model(store)
    if active is None:
        raise NotFoundError("no cluster model yet", hint="run `personae clusters build`")
    return active


def cluster_summary(store: Store) -> dict[str, Any]:
    """The active model and its cluster profiles (what ``clusters show`` and the report print)."""
    m = require_model(store)
    return {
        "model_id": m["model_id"],
        "built_at": m["built_at"].isoformat(sep=" ", timespec="seconds"),
        "as_of": m["as_of"].isoformat() if m["as_of"] else None,
        "k": m["k"],
        "seed": m["seed"],
        "features": m["features"],
        "customers": m["customers"],
        "population": (m["state"] or {}).get("population", BUYERS),
        "sample_size": m["sample_size"],
        "silhouette": _round(m["silhouette"]),
        "davies_bouldin": _round(m["davies_bouldin"]),
        "stability_ari": _round(m["stability_ari"]),
        "k_selection": selection_dict(m["selection"]),
        "warnings": [w for w in [selection_dict(m["selection"]).get("warning")] if w],
        "clusters": [_profile_json(p) for p in _profiles(store, m["model_id"])],
    }


def cluster_members(store: Store) -> pa.Table:
    """``customer_id, cluster, cluster_name`` for every clustered customer (by id)."""
    m = require_model(store)
    a = store.table(ASSIGNMENTS)
    p = store.table(PROFILES)
    p = p.filter(p.model_id == m["model_id"])
    j = a.filter(a.model_id == m["model_id"]).join(p, "cluster")
    return store.to_arrow(j.select(j.customer_id, j.cluster, cluster_name=j.name).order_by(["customer_id"]))


def evaluate_truth(store: Store, truth_file: Path) -> dict[str, Any]:
    """Adjusted Rand index and confusion table of the clusters against a truth file.

    The file is CSV with ``customer_id`` and one label column (``group`` in the generator's
    ``truth.csv``; otherwise the first other column). Its ids are mapped through identity
    resolution, so profiles merged into one customer are compared under the unified id.
    """
    if not truth_file.is_file():
        raise InputError(f"--truth {truth_file}: no such file")
    try:
        truth = pd.read_csv(truth_file, dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"--truth {truth_file}: not a readable CSV file ({exc})") from None
    if "customer_id" not in truth.columns or len(truth.columns) < 2:
        raise InputError(
            f"--truth {truth_file}: needs a customer_id column and a label column",
            hint="e.g. the generator's truth.csv: customer_id,group",
        )
    label = "group" if "group" in truth.columns else next(c for c in truth.columns if c != "customer_id")
    truth = truth.dropna(subset=["customer_id", label])
    resolved = _resolve_ids(store, truth["customer_id"])
    truth = truth.assign(customer_id=resolved).drop_duplicates("customer_id")
    members = cluster_members(store).to_pandas()
    result = recovery(
        truth.set_index("customer_id")[label],
        members.set_index("customer_id")["cluster_name"],
    )
    confusion = result.confusion
    return {
        "ari": round(result.ari, 4),
        "purity": round(result.purity, 4),
        "matched": result.matched,
        "truth_rows": len(truth),
        "label": label,
        "confusion": {
            str(g): {str(c): int(confusion.loc[g, c]) for c in confusion.columns} for g in confusion.index
        },
    }


def _resolve_ids(store: Store, ids: pd.Series) -> pd.Series:
    """Source customer ids → unified ids (ids identity resolution does not know stay as they are)."""
    m = store.table("identity_map")
    m = m.filter(m.identifier.startswith("customer_id:"))
    mapping = store.execute(m.select(source=m.identifier.substr(len("customer_id:")), unified=m.customer_id))
    lookup = dict(zip(mapping["source"], mapping["unified"], strict=False))
    return ids.map(lambda i: lookup.get(i, i))


def rename_cluster(
    store: Store, cluster: str, new_name: str, settings: TraitSettings | None = None
) -> dict[str, Any]:
    """Rename a cluster of the active model (given by number or current name)."""
    m = require_model(store)
    profiles = _profiles(store, m["model_id"])
    target = _find_cluster(profiles, cluster)
    name = new_name.strip()
    if not name or len(name) > 70 or not _NAME.match(name):
        raise InputError(
            f"cluster name {new_name!r}: use 1–70 letters, digits, spaces and _ - ' . & / + ( ) #",
            hint='e.g. "Weekend family shoppers"',
        )
    clash = [p for p in profiles if p["name"].lower() == name.lower() and p["cluster"] != target["cluster"]]
    if clash:
        raise InputError(f"cluster {clash[0]['cluster']} is already called {clash[0]['name']!r}")
    old = target["name"]
    for p in profiles:
        if p["cluster"] == target["cluster"]:
            p["name"] = name
    with store.transaction():
        store.delete_where_in(PROFILES, "model_id", [m["model_id"]])
        store.append(PROFILES, _rows_table(m["model_id"], profiles))
        if store.has_table("traits"):
            add_cluster_traits(store)
    if store.has_table("traits"):
        _refresh_snapshot(store, settings)
    return {"cluster": target["cluster"], "old_name": old, "name": name, "segment": SEGMENT_PREFIX + name}


def _find_cluster(profiles: list[dict[str, Any]], key: str) -> dict[str, Any]:
    key = key.strip()
    for p in profiles:
        if key == str(p["cluster"]) or key.lower() == p["name"].lower() or key == SEGMENT_PREFIX + p["name"]:
            return p
    names = ", ".join(f"{p['cluster']} ({p['name']})" for p in profiles)
    raise NotFoundError(f"no cluster {key!r}", hint=f"clusters: {names}")


def write_map(store: Store, out: Path, *, seed: int = 0) -> dict[str, Any]:
    """Save the 2-D map (PCA) of customers coloured by cluster to ``out`` (.png, .svg, .html)."""
    from personae.clusters.projection import map_chart  # start-up: Altair, scikit-learn

    if out.suffix.lower() not in (".png", ".svg", ".html", ".json", ".pdf"):
        raise InputError(f"cannot write a map to {out.name}", hint="use a .png, .svg or .html path")
    m = require_model(store)
    pre = Preprocessor.from_dict(m["state"]["preprocessor"])
    model = ClusterModel.from_dict(m["state"]["model"])
    traits = _model_traits(store, m["state"], pre)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(traits), min(len(traits), 20_000), replace=False))
    x = pre.transform(traits.iloc[idx])
    labels = model.predict(x)
    chart = map_chart(
        x, labels, cluster_names(store), seed=seed, title=f"customers by cluster (model {m['model_id']})"
    )
    chart.save(str(out))
    return {"map": str(out), "points": int(min(len(idx), 5000))}


# -- micro-segments ------------------------------------------------------------------------------
def customer_preferences(store: Store, customer_id: str) -> PreferenceProfile:
    """One customer's preference profile from the ``affinities`` table (for personalization)."""
    a = built(store, "affinities")
    rows = store.rows(a.filter(a.customer_id == customer_id))
    if not rows:
        t = store.table("traits") if store.has_table("traits") else None
        known = t is not None and store.execute(t.filter(t.customer_id == customer_id).count()) > 0
        if not known:
            raise NotFoundError(f"no customer {customer_id!r}", hint="use a unified customer id")
    return preference_profile(rows, customer_id)


# -- helpers -------------------------------------------------------------------------------------
def _profile_table(model_id: str, profiles: Sequence[ClusterProfile]) -> pa.Table:
    return _rows_table(model_id, [p.as_dict() for p in profiles])


def _rows_table(model_id: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "model_id": model_id,
                **{k: r[k] for k in ("cluster", "name", "generated_name", "size", "share", "revenue_share")},
                "avg_clv": r["avg_clv"],
                "nps": r["nps"],
                "distinguishing": json.dumps(r["distinguishing"]),
            }
            for r in rows
        ],
        _PROFILE_SCHEMA,
    )


def _empty_profile(row: dict[str, Any]) -> ClusterProfile:
    return ClusterProfile(row["cluster"], row["name"], row["generated_name"], 0, 0.0, 0.0, None, None, [])


def _profile_json(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "cluster": p["cluster"],
        "name": p["name"],
        "segment": SEGMENT_PREFIX + p["name"],
        "generated_name": p["generated_name"],
        "size": p["size"],
        "share": p["share"],
        "revenue_share": p["revenue_share"],
        "avg_clv": _round(p["avg_clv"]),
        "nps": p["nps"],
        "distinguishing": p["distinguishing"],
    }


def _finite(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _round(v: float | None, digits: int = 4) -> float | None:
    f = _finite(v)
    return None if f is None else round(f, digits)
