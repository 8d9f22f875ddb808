"""Voice-of-the-customer use cases: build, themes, export, rename, pain points.

Application layer: reads texts from the store (resolved surveys and events), hands plain frames
to the domain (:mod:`personae.voice`) and writes back

* ``voice_texts`` — every text with language, sentiment, theme and competitor (replaced by each
  build);
* ``voice_traits`` — the voice traits per customer, which ``build_traits`` joins into ``traits``;
* ``voice_models`` / ``voice_theme_names`` (schema v10) — the fitted theme model, reused by later
  builds so themes (and the names people gave them) stay put until ``--refit``;
* ``voice_text_themes`` — every theme of every text with that theme's own sentiment (replaced
  by each build; ``voice_texts.theme`` stays the main one);
* ``voice_theme_seeds`` — seeded themes (``voice themes --seed FILE``), kept across refits.

Analysts' theme labels are read from ``voice_labels`` (``text_id, sentiment, theme``) when that
table exists: each theme named there learns its words from its labelled texts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app.ingest.readers import read_file
from personae.app.traits import consent_flags
from personae.clock import DEFAULT_ZONE
from personae.config.traits import TraitSettings
from personae.config.voice import VoiceSettings
from personae.coverage import Coverage
from personae.errors import InputError, ModelError, NotFoundError
from personae.privacy import consent
from personae.schema import SENTIMENTS, VOICE_LABELS_COLUMNS, VOICE_SENTIMENT_RUNS_COLUMNS
from personae.segments.check import snapshot_segments, suggest
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits.consent import default_flags
from personae.voice import analyse, painpoints, report
from personae.voice.labels import Teaching, teach, training_labels
from personae.voice.sources import all_texts
from personae.voice.themes import OTHER, ThemeModel
from personae.voice.traits import voice_traits

Progress = Callable[[str, float], None]

TEXT_THEMES_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("text_id", pa.string()),
        ("customer_id", pa.string()),
        ("theme_id", pa.int64()),
        ("theme", pa.string()),
        ("weight", pa.float64()),
        ("sentiment_score", pa.float64()),
        ("sentiment", pa.string()),
    ]
)

TEXTS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("text_id", pa.string()),
        ("customer_id", pa.string()),
        ("at", pa.timestamp("us")),
        ("touchpoint", pa.string()),
        ("channel", pa.string()),
        ("product_id", pa.string()),
        ("category", pa.string()),
        ("reach", pa.int64()),
        ("text", pa.string()),
        ("language", pa.string()),
        ("scored", pa.bool_()),
        ("sentiment_score", pa.float64()),
        ("sentiment", pa.string()),
        ("theme_id", pa.int64()),
        ("theme", pa.string()),
        ("theme_weight", pa.float64()),
        ("competitor", pa.string()),
    ]
)


# -- reading ---------------------------------------------------------------------------------
#: What the voice commands say when the store holds no text at all (and how to give it some).
NO_TEXTS = (
    "no texts to read: ingest survey answers with a `comment` column (`personae ingest surveys FILE`) "
    "or events whose properties carry the text (review, support contact, …: a text, comment, body, "
    "review or content column, `personae ingest events FILE`), or any texts with `personae ingest "
    "texts FILE` (columns text, created_at), then `personae voice build`"
)


def gather_texts(store: Store, as_of: date | None) -> pd.DataFrame:
    """Every text up to ``as_of`` (resolved customer ids), in a stable order."""
    texts = store.resolved("texts") if store.has_table("texts") else None
    expr = all_texts(store.resolved("surveys"), store.resolved("events"), as_of, texts)
    df = store.execute(expr.order_by(["source", "text_id", "at"]))
    return df.reset_index(drop=True)


def given_or_detected_languages(texts: pd.DataFrame, settings: VoiceSettings) -> np.ndarray:
    """Each text's language: the one its file gave (``ingest texts --map language=…``), else
    detected — so a shop that knows its texts' languages is never second-guessed."""
    given = texts["language"] if "language" in texts else pd.Series([None] * len(texts), dtype=object)
    known = given.notna().to_numpy()
    out = given.to_numpy(dtype=object, copy=True)
    if not known.all():
        rest = texts.loc[~known, "text"].fillna("").astype(str)
        out[~known] = analyse._languages(rest, settings)
    return out


def active_model(store: Store) -> tuple[str, ThemeModel, dict[int, str]] | None:
    """(model id, model, theme names by index) of the active theme model, if any."""
    m = store.table("voice_models")
    rows = store.execute(m.filter(m.active).order_by(m.built_at.desc()).limit(1))
    if rows.empty:
        return None
    model_id = str(rows["model_id"].iloc[0])
    try:
        model = ThemeModel.from_state(json.loads(rows["state"].iloc[0]))
    except ModelError:  # a model of an older version: the next build fits the themes afresh
        return None
    return model_id, model, _names(store, model_id, model)


def _names(store: Store, model_id: str, model: ThemeModel) -> dict[int, str]:
    n = store.table("voice_theme_names")
    renamed = store.execute(n.filter(n.model_id == model_id).order_by(n.renamed_at))
    names = {t.index: t.default_name for t in model.themes_}
    for r in renamed.itertuples():
        names[int(cast(int, r.theme))] = str(r.name)
    return names


def theme_keywords(store: Store) -> dict[str, list[str]]:
    """Theme name → keywords of the active model (empty without one)."""
    active = active_model(store)
    if active is None:
        return {}
    _, model, names = active
    return {names[t.index]: list(t.keywords) for t in model.themes_}


def _text_themes(store: Store) -> pd.DataFrame | None:
    """``voice_text_themes`` when a build wrote it (stores built before it existed: ``None``)."""
    if not store.has_table("voice_text_themes"):
        return None
    return store.execute(store.table("voice_text_themes"))


def _texts(store: Store) -> pd.DataFrame:
    if not store.has_table("voice_texts"):
        raise NotFoundError("no analysed texts yet", hint="run `personae voice build` (or `personae build`)")
    return store.execute(store.table("voice_texts"))


# -- build -----------------------------------------------------------------------------------
def build_voice(
    store: Store,
    as_of: date | None,
    settings: VoiceSettings,
    *,
    refit: bool = False,
    progress: Progress | None = None,
    traits: TraitSettings | None = None,
    timezone: str = DEFAULT_ZONE,
) -> dict[str, Any]:
    """Score every text, assign themes (fitting a model on the first build or with ``refit``),
    and write ``voice_texts`` and ``voice_traits``.

    Through the consent gate: the texts of people who objected to ``analytics`` are not read at
    all, and nobody who objected to ``profiling`` gets voice traits (``traits`` carries the
    consent policy; its defaults are the built-in one).
    """
    report_ = progress or (lambda step, fraction: None)
    report_("reading texts", 0.0)
    texts = gather_texts(store, as_of)
    texts, not_profiled, left_out = _through_the_gate(
        store, texts, as_of, traits or TraitSettings(), timezone
    )
    report_("detecting languages", 0.15)
    texts["language"] = given_or_detected_languages(texts, settings)
    summary: dict[str, Any] = {
        "texts": len(texts),
        **({} if len(texts) or left_out.left_out else {"note": NO_TEXTS}),
    }
    if left_out.left_out:
        summary["left_out"] = left_out.as_json()
    seeds = theme_seeds(store)
    labelled = theme_labels(store)
    active = None if refit else active_model(store)
    if active is not None and not _keeps_guides(active[1], seeds, labelled):
        active = None  # seeds or labelled themes changed since the model was fitted
        summary["note_themes"] = "theme seeds or labelled themes changed: themes discovered afresh"
    if active is None:
        report_("discovering themes", 0.35)
        try:
            model: ThemeModel | None = analyse.fit_themes(texts, settings, seeds=seeds, theme_labels=labelled)
        except ModelError as exc:
            model, model_id, names = None, None, {}
            summary["themes"] = f"skipped: {exc}"
        else:
            assert model is not None
            model_id = _save_model(store, model, as_of, len(texts))
            names = {t.index: t.default_name for t in model.themes_}
            summary["themes"] = f"{len(model.themes_)} new"
    else:
        model_id, model, names = active
        summary["themes"] = f"{len(model.themes_)} reused"
    taught = None
    if settings.sentiment_model == "model":
        report_("learning from labels", 0.45)
        teaching = teach_sentiment(store, texts, settings)
        summary["sentiment"] = teaching.summary()
        taught = teaching.model
    report_("scoring sentiment", 0.5)
    scored = analyse.analyse_texts(texts, model, settings, names, n_jobs=settings.n_jobs, taught=taught)
    report_("themes per text", 0.8)
    long = analyse.analyse_text_themes(scored, model, settings, names, n_jobs=settings.n_jobs)
    report_("writing", 0.9)
    store.replace("voice_texts", _arrow(scored))
    store.replace("voice_text_themes", _arrow(long, TEXT_THEMES_SCHEMA))
    traits_as_of = as_of or _last_text_day(scored)
    per_person = voice_traits(store.table("voice_texts"), traits_as_of, settings)
    if not_profiled:  # their texts count in the themes and figures, but no trait describes them
        per_person = _profiled(store, per_person, traits_as_of, traits or TraitSettings(), timezone)
    store.replace("voice_traits", per_person)
    if not_profiled:
        summary["left_out_traits"] = Coverage.of(
            store.count("voice_traits") + len(not_profiled), {"who objected to profiling": len(not_profiled)}
        ).as_json()
    flagged = int((~scored["scored"].astype(bool)).sum())
    summary.update(
        scored=len(scored) - flagged,
        other_language=flagged,
        customers=store.count("voice_traits"),
        # texts nobody could be linked to (an anonymous review): analysed, in no one's traits
        anonymous=int(scored["customer_id"].isna().sum()) if len(scored) else 0,
        model=model_id,
        text_themes=len(long),
        texts_with_several_themes=int(long.groupby(["source", "text_id"]).size().gt(1).sum())
        if len(long)
        else 0,
    )
    report_("done", 1.0)
    return summary


def _through_the_gate(
    store: Store, texts: pd.DataFrame, as_of: date | None, settings: TraitSettings, timezone: str
) -> tuple[pd.DataFrame, set[str], Coverage]:
    """``texts`` less those whose authors objected to analytics; the authors who objected to
    profiling; and the texts' coverage. A text nobody is linked to (an anonymous review) is read:
    no one's consent is at stake in it."""
    linked = texts["customer_id"].notna().to_numpy() if len(texts) else np.zeros(0, dtype=bool)
    if not linked.any():
        return texts, set(), Coverage.of(len(texts), {}, unit="texts")
    day = as_of or _last_text_day(texts)
    purposes = ["analytics", "profiling"]
    flags = store.execute(
        consent_flags(store, day, settings, timezone).select(
            "customer_id", *consent.required_columns(purposes)
        )
    )
    default = default_flags(settings.consent_defaults)
    authors = pd.DataFrame({"customer_id": texts.loc[linked, "customer_id"].unique()})
    authors = authors.merge(flags, on="customer_id", how="left")
    # linked to no profile (a null flag): the general policy
    no_analytics = set(authors.loc[~consent.mask(authors, ["analytics"], unknown=default), "customer_id"])
    no_profiling = (
        set(authors.loc[~consent.mask(authors, ["profiling"], unknown=default), "customer_id"]) - no_analytics
    )
    dropped = texts["customer_id"].isin(no_analytics).to_numpy()
    coverage = Coverage.of(
        len(texts), {"by people who objected to analytics": int(dropped.sum())}, unit="texts"
    )
    return texts.loc[~dropped].reset_index(drop=True), no_profiling, coverage


def _profiled(
    store: Store, per_person: ibis.Table, as_of: date, settings: TraitSettings, timezone: str
) -> ibis.Table:
    """The rows of ``per_person`` whose customers may be profiled (no profile: the general policy)."""
    flags = consent_flags(store, as_of, settings, timezone).select(
        "customer_id", *consent.required_columns(["profiling"])
    )
    joined = join_on_customer(per_person, flags)
    ok = consent.allowed(joined, ["profiling"], unknown=default_flags(settings.consent_defaults))
    return joined.filter(ok).select(*per_person.columns)


def _last_text_day(df: pd.DataFrame) -> date:
    if df.empty or df["at"].isna().all():
        return datetime.now(UTC).date()
    return pd.Timestamp(df["at"].max()).date()


def _arrow(df: pd.DataFrame, schema: pa.Schema = TEXTS_SCHEMA) -> pa.Table:
    cols = {}
    for field in schema:
        v = df[field.name] if field.name in df else pd.Series([None] * len(df), dtype=object)
        if pa.types.is_string(field.type):
            v = v.astype(object).where(v.notna(), None)
            v = v.map(lambda x: x if x is None else str(x))
        cols[field.name] = pa.array(
            v.tolist() if pa.types.is_string(field.type) else v, type=field.type, from_pandas=True
        )
    return pa.table(cols, schema=schema)


# -- guided themes: seeds and labels ---------------------------------------------------------
SEEDS_TABLE = "voice_theme_seeds"
LABELS_TABLE = "voice_labels"


def load_seeds(path: Path) -> dict[str, list[str]]:
    """Seeded themes from a YAML file ``name: [words, ...]`` (a single word may stand alone)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(f"no file {path}", hint="give a YAML file of `theme name: [words]`") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected `theme name: [words, ...]` lines",
            hint="e.g. `delivery: [parcel, courier, late]`",
        )
    seeds: dict[str, list[str]] = {}
    for name, words in data.items():
        key = str(name).strip()
        if not key or key == OTHER:
            raise InputError(
                f"{path}: {name!r} cannot be a theme name", hint="use a non-empty name other than 'other'"
            )
        items = [words] if isinstance(words, str) else words
        if not isinstance(items, list) or not all(isinstance(w, (str, int, float)) for w in items):
            raise InputError(
                f"{path}: the words of {key!r} must be a list", hint=f"e.g. `{key}: [word, other word]`"
            )
        kept = [str(w).strip() for w in items if str(w).strip()]
        if not kept:
            raise InputError(f"{path}: theme {key!r} has no seed words")
        seeds[key] = kept
    return seeds


def theme_seeds(store: Store) -> dict[str, list[str]]:
    """The stored seeded themes (empty when none were given)."""
    if not store.has_table(SEEDS_TABLE):
        return {}
    rows = store.execute(store.table(SEEDS_TABLE).order_by("position"))
    return {str(r.name): list(json.loads(str(r.words))) for r in rows.itertuples()}


def set_theme_seeds(store: Store, seeds: dict[str, list[str]]) -> None:
    """Store the seeded themes (replacing earlier ones); the next build fits the themes afresh."""
    now = datetime.now(UTC).replace(tzinfo=None)
    table = pa.table(
        {
            "position": pa.array(range(len(seeds)), pa.int64()),
            "name": pa.array(list(seeds), pa.string()),
            "words": pa.array([json.dumps(w) for w in seeds.values()], pa.string()),
            "set_at": pa.array([now] * len(seeds), pa.timestamp("us")),
        }
    )
    store.replace(SEEDS_TABLE, table)


def theme_labels(store: Store) -> pd.DataFrame | None:
    """Analysts' theme labels ``text_id, theme`` from ``voice_labels`` (``None`` without any)."""
    if not store.has_table(LABELS_TABLE):
        return None
    t = store.table(LABELS_TABLE)
    if not {"text_id", "theme"} <= set(t.columns):
        return None
    rows = store.execute(t.filter(t.theme.notnull()).select("text_id", "theme"))
    return rows if len(rows) else None


def _keeps_guides(model: ThemeModel, seeds: dict[str, list[str]], labelled: pd.DataFrame | None) -> bool:
    """Whether ``model`` was fitted with these seeds and has a theme for every labelled one."""
    same_seeds = all(model.guides_.get(name) == words for name, words in seeds.items()) and all(
        name in seeds for name, words in model.guides_.items() if words
    )
    names = set() if labelled is None else {str(t).strip() for t in labelled["theme"]} - {"", OTHER}
    return same_seeds and names <= set(model.guides_)


def _save_model(store: Store, model: ThemeModel, as_of: date | None, n_texts: int) -> str:
    model_id = f"V{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    row = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "built_at": datetime.now(UTC).replace(tzinfo=None),
                "as_of": as_of,
                "n_themes": len(model.themes_),
                "texts": n_texts,
                "state": json.dumps(model.to_state()),
                "active": True,
            }
        ]
    )
    with store.transaction():
        # through the store interface (no SQL), so the build also runs on Spark (docs/scaling.md)
        models = store.table("voice_models")
        store.replace("voice_models", models.mutate(active=ibis.literal(False)))
        store.append("voice_models", row)
    return model_id


# -- themes, export --------------------------------------------------------------------------
def voice_themes(
    store: Store, settings: VoiceSettings, segments: Sequence[str] | None = None
) -> dict[str, Any]:
    """The ``voice themes`` report: totals, one entry per theme, and per segment when asked."""
    texts = _texts(store)
    keywords = theme_keywords(store)
    long = _text_themes(store)
    out: dict[str, Any] = {
        "overview": report.sentiment_overview(texts),
        "note": None if len(texts) else NO_TEXTS,
        "themes": report.theme_summary(texts, keywords, examples=settings.examples, text_themes=long),
    }
    if segments:
        members, order = segment_members(store, segments)
        out["segments"] = report.themes_by_segment(texts, members, order, keywords, examples=1)
    return out


def export_texts(store: Store) -> pa.Table:
    """Every text: ``source, id, customer_id, sentiment, sentiment_score, theme`` and context."""
    t = store.table("voice_texts") if store.has_table("voice_texts") else None
    if t is None:
        raise NotFoundError("no analysed texts yet", hint="run `personae voice build` first")
    expr = t.select(
        "source",
        id=t.text_id,
        customer_id=t.customer_id,
        sentiment=t.sentiment,
        sentiment_score=t.sentiment_score.round(4),
        theme=t.theme,
        language=t.language,
        competitor=t.competitor,
        touchpoint=t.touchpoint,
        channel=t.channel,
        at=t.at,
        text=t.text,
    ).order_by(["source", "id"])
    return store.to_arrow(expr)


def rename_theme(store: Store, theme: str, new_name: str) -> dict[str, Any]:
    """Give a theme (by current name or number) a name people use; kept until the next refit.

    The stored texts and traits follow at once (``top_complaint_theme`` included).
    """
    new_name = new_name.strip()
    if not new_name or new_name == OTHER:
        raise InputError(
            f"{new_name!r} cannot be a theme name", hint="give a non-empty name other than 'other'"
        )
    active = active_model(store)
    if active is None:
        raise NotFoundError("no theme model yet", hint="run `personae voice build` first")
    model_id, model, names = active
    by_name = {v: k for k, v in names.items()}
    if theme in by_name:
        index = by_name[theme]
    elif theme.strip().isdigit() and int(theme) in names:
        index = int(theme)
    else:
        close = suggest(theme, list(by_name))
        raise NotFoundError(
            f"no theme {theme!r}",
            hint=f"did you mean {close[0]!r}?" if close else "see `personae voice themes`",
        )
    if new_name in by_name and by_name[new_name] != index:
        raise InputError(f"another theme is already called {new_name!r}")
    old = names[index]
    row = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "theme": index,
                "name": new_name,
                "renamed_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ]
    )
    with store.transaction():
        store.append("voice_theme_names", row)
        for table, column in (
            ("voice_texts", "theme"),
            ("voice_text_themes", "theme"),
            ("voice_traits", "top_complaint_theme"),
            ("traits", "top_complaint_theme"),
        ):
            if store.has_table(table) and column in store.table(table).columns:
                t = store.table(table)
                renamed = ibis.cases((t[column] == old, ibis.literal(new_name)), else_=t[column])
                store.replace(f"_{table}_next", t.mutate(**{column: renamed}))
                store.replace(table, store.table(f"_{table}_next"))
                store.drop(f"_{table}_next")
    return {
        "theme": index,
        "old_name": old,
        "name": new_name,
        "keywords": list(model.themes_[index].keywords),
    }


# -- pain points -----------------------------------------------------------------------------
def segment_members(store: Store, names: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """``segment, customer_id`` of each named segment's latest snapshot, and the order."""
    if not store.has_table("segment_runs"):
        raise NotFoundError("no segment snapshots yet", hint="run `personae build` first")
    runs = store.table("segment_runs")
    latest = runs.group_by("segment").aggregate(as_of=runs.as_of.max())
    known = list(store.execute(latest)["segment"])
    order = snapshot_segments(names, known)
    snap = store.table("segment_snapshots")
    wanted = latest.filter(latest.segment.isin(order))
    rows = snap.join(wanted, ["segment", "as_of"]).select("segment", "customer_id")
    return store.execute(rows), order


def voice_pain_points(
    store: Store, segments: Sequence[str] | None = None, top: int | None = None
) -> pd.DataFrame:
    """Theme × touchpoint (× segment) pain points with value at stake (see
    :func:`personae.voice.painpoints.theme_pain_points`)."""
    texts = _texts(store)
    value = pd.Series(dtype=float)
    if store.has_table("traits"):
        t = store.table("traits")
        cols = [c for c in ("customer_id", "clv_12m", "monetary") if c in t.columns]
        value = painpoints.customer_value(store.execute(t.select(*cols)))
    members = segment_members(store, segments)[0] if segments else None
    out = painpoints.theme_pain_points(texts, value, members, text_themes=_text_themes(store))
    return out.head(top) if top else out


def empty_like_texts() -> pa.Table:
    """An empty ``voice_texts`` table (tests, and stores without texts)."""
    return pa.table({f.name: pa.array([], f.type) for f in TEXTS_SCHEMA}, schema=TEXTS_SCHEMA)


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in df.to_dict("records")
    ]


# -- sentiment labels: an analyst's sample, free labels, teaching ------------------------------
#: An analyst's labelled sample (``personae voice labels FILE``).
LABELS_TABLE = "voice_labels"
#: What each ``voice build`` found when teaching the sentiment model.
SENTIMENT_RUNS_TABLE = "voice_sentiment_runs"
_ARROW_TYPES = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


def _typed(df: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> pa.Table:
    schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns])
    data = {}
    for name, kind in columns:
        v = df[name] if name in df else pd.Series([None] * len(df), dtype=object)
        if kind == "string":
            v = v.astype(object).where(v.notna(), None)
        data[name] = pa.array(
            v.tolist() if kind == "string" else v, type=_ARROW_TYPES[kind], from_pandas=True
        )
    return pa.table(data, schema=schema)


def load_labels(store: Store, path: Path, fmt: str | None = None) -> dict[str, Any]:
    """Store an analyst's labelled sample: ``id, sentiment`` (negative / neutral / positive) and
    an optional ``theme``, one row per text (``id`` is the text's ``text_id``).

    Bad rows are rejected with line and reason (kept in ``rejects``, kind ``voice_labels``); a
    second row for the same id keeps the last one; a re-load replaces the stored labels of the
    ids it carries and keeps the others. The next ``voice build`` learns from them.
    """

    batch = read_file(path, fmt)
    columns = {str(k).strip().lower(): v for k, v in batch.columns.items()}
    missing = [c for c in ("id", "sentiment") if c not in columns]
    if missing:
        raise InputError(
            f"{path.name}: no {' and no '.join(repr(c) for c in missing)} column",
            hint="a labels file has the columns id, sentiment (negative, neutral or positive) and "
            "optionally theme",
        )

    def clean(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        s = str(v).strip()
        return s or None

    n = batch.n_rows
    ids = [clean(v) for v in columns["id"]]
    sentiments = [(clean(v) or "").lower() or None for v in columns["sentiment"]]
    themes = [clean(v) for v in columns["theme"]] if "theme" in columns else [None] * n
    rejects = [{"line": r.line, "reason": r.reason, "raw": r.raw} for r in batch.rejects]
    last_line: dict[str, int] = {}
    ok = np.zeros(n, dtype=bool)
    for i in range(n):
        line = int(batch.lines[i])
        if ids[i] is None:
            reason = "no id: give the text_id of the labelled text"
        elif sentiments[i] is None:
            reason = "no sentiment: give negative, neutral or positive"
        elif sentiments[i] not in SENTIMENTS:
            reason = f"sentiment {sentiments[i]!r} is not negative, neutral or positive"
        else:
            ok[i] = True
            continue
        rejects.append({"line": line, "reason": reason, "raw": batch.raw(i)})
    for i in range(n):  # a repeated id: the last row wins, the earlier ones are rejected
        if ok[i]:
            key = str(ids[i])
            if key in last_line:
                j = last_line[key]
                ok[j] = False
                rejects.append(
                    {
                        "line": int(batch.lines[j]),
                        "reason": f"id {key!r} again on line {int(batch.lines[i])}: the last one is kept",
                        "raw": batch.raw(j),
                    }
                )
            last_line[key] = i
    now = datetime.now(UTC).replace(tzinfo=None)
    new = pd.DataFrame(
        {
            "text_id": [ids[i] for i in range(n) if ok[i]],
            "sentiment": [sentiments[i] for i in range(n) if ok[i]],
            "theme": [themes[i] for i in range(n) if ok[i]],
            "labelled_at": now,
            "source_file": str(path),
            "source_line": [int(batch.lines[i]) for i in range(n) if ok[i]],
        }
    )
    old = read_labels(store)
    replaced = int(old["text_id"].isin(new["text_id"]).sum()) if old is not None else 0
    kept = old[~old["text_id"].isin(new["text_id"])] if old is not None else new.iloc[:0]
    rejects_df = pd.DataFrame(rejects, columns=["line", "reason", "raw"]).sort_values("line", kind="stable")
    with store.transaction():
        store.replace(LABELS_TABLE, _typed(pd.concat([kept, new], ignore_index=True), VOICE_LABELS_COLUMNS))
        if len(rejects_df):
            store.append(
                "rejects",
                pa.table(
                    {
                        "ingest_id": pa.array([f"L{now:%Y%m%d%H%M%S}"] * len(rejects_df), pa.string()),
                        "kind": pa.array([LABELS_TABLE] * len(rejects_df), pa.string()),
                        "file": pa.array([str(path)] * len(rejects_df), pa.string()),
                        "line": pa.array(rejects_df["line"].astype("int64")),
                        "reason": pa.array(rejects_df["reason"].astype(str), pa.string()),
                        "raw": pa.array(rejects_df["raw"].astype(str), pa.string()),
                        "rejected_at": pa.array([now] * len(rejects_df), pa.timestamp("us")),
                    }
                ),
            )
    known = set(gather_texts(store, None)["text_id"].astype(str))
    return {
        "file": str(path),
        "read": batch.read,
        "accepted": len(new),
        "replaced": replaced,
        "rejected": len(rejects_df),
        "rejects": [
            {"line": int(cast(int, r.line)), "reason": str(r.reason)}
            for r in rejects_df.head(10).itertuples()
        ],
        "by_class": {k: int(v) for k, v in new["sentiment"].value_counts().items()},
        "unknown_ids": int((~new["text_id"].isin(known)).sum()),
        "stored": len(kept) + len(new),
    }


def read_labels(store: Store) -> pd.DataFrame | None:
    """The stored analyst labels (``None`` before the first ``voice labels``)."""
    if not store.has_table(LABELS_TABLE):
        return None
    return store.execute(store.table(LABELS_TABLE).order_by("text_id"))


def teach_sentiment(store: Store, texts: pd.DataFrame, settings: VoiceSettings) -> Teaching:
    """Teach the sentiment model on the store's labels (free ones from scores, the analyst's),
    record what it found in ``voice_sentiment_runs``, and return it (its ``model`` is ``None``
    when the shipped model stays)."""

    own = texts
    if "language" in texts:
        own = texts[(texts["language"] == settings.default_language).to_numpy()]
    analyst = read_labels(store)
    labelled = training_labels(own, analyst)
    teaching = teach(labelled, seed=settings.seed)
    if analyst is not None and len(analyst):
        unmatched = int((~analyst["text_id"].isin(own["text_id"])).sum())
        if unmatched:
            teaching.note += f"; {unmatched:,} analyst labels match no scored text (left out)"
    row = pd.DataFrame(
        [
            {
                "built_at": datetime.now(UTC).replace(tzinfo=None),
                "labels": teaching.labels,
                "analyst_labels": teaching.by_origin.get("analyst", 0),
                "score_labels": teaching.by_origin.get("score", 0),
                "used": teaching.used,
                "cv_accuracy": teaching.cv_accuracy,
                "cv_macro_f1": teaching.cv_macro_f1,
                "zero_shot_accuracy": teaching.zero_shot_accuracy,
                "zero_shot_macro_f1": teaching.zero_shot_macro_f1,
                "note": teaching.note,
            }
        ]
    )
    table = _typed(row, VOICE_SENTIMENT_RUNS_COLUMNS)
    if store.has_table(SENTIMENT_RUNS_TABLE):
        store.append(SENTIMENT_RUNS_TABLE, table)
    else:
        store.replace(SENTIMENT_RUNS_TABLE, table)
    return teaching
