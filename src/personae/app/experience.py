"""Experience use cases: report, survey sample, segment validation, pain points, detractors.

Application layer: reads the store (surveys, traits, segment snapshots), hands plain frames to
the domain (:mod:`personae.experience`) and returns JSON-ready dictionaries the CLI prints.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app.reads import built, traits_as_of
from personae.app.traits import trait_inputs
from personae.config import Settings
from personae.config.experience import ExperienceSettings
from personae.coverage import Coverage
from personae.errors import ConsentError, InputError, ModelError, NotFoundError
from personae.experience import groups as grp
from personae.experience import painpoints, sampling, validation
from personae.experience.features import FEATURE_INPUTS, features_as_of, rfm_segments_of
from personae.experience.scales import KINDS, SCALE_LABELS
from personae.privacy import consent as consent_gate
from personae.schema import DEFAULT_SCALE_MAX
from personae.segments.check import snapshot_segments, suggest
from personae.store import Store
from personae.tables import join_on_customer
from personae.traits.experience import normalised_score
from personae.traits.inputs import end_of

#: Report groupings: the CLI's ``--by`` values and the column each one groups on.
GROUPINGS = {
    "segment": "segment",
    "touchpoint": "touchpoint",
    "stage": "journey_stage",
    "channel": "preferred_channel",
    "month": "month",
}
#: Consent purposes that are contact channels (survey invitations go through one of them).
CONTACT_CHANNELS = {"email": "email", "sms": "phone", "push": None}
#: The consent flag every aggregate analysis here requires (and the one scoring requires).
ANALYTICS_CONSENT, PROFILING_CONSENT = consent_gate.required_columns(["analytics", "profiling"])
#: Question names ``segments validate --on`` accepts besides trait names.
QUESTIONS = {**{k: f"latest_{k}" for k in KINDS}, "nps_category": "nps_category"}


# -- reading ---------------------------------------------------------------------------------
def answers(store: Store, as_of: date | None = None, since: date | None = None) -> pd.DataFrame:
    """Every NPS/CES/CSAT/trust answer up to ``as_of`` on its standard scale, with the groupings.

    Only customers who consented to analytics (``consent_analytics``) are included: the
    report, validation and pain points are analytics uses of their data.

    Columns: ``customer_id, kind, score, scale_max, std_score, rescaled, answered_at, touchpoint,
    month, journey_stage, preferred_channel``.
    """
    s = store.resolved("surveys")
    s = s.filter(s.kind.isin(list(KINDS)))
    if as_of is not None:
        s = s.filter(s.answered_at < ibis.timestamp(end_of(as_of).isoformat(sep=" ")))
    if since is not None:
        s = s.filter(s.answered_at >= ibis.timestamp(datetime.combine(since, datetime.min.time())))
    default_top = ibis.cases(*[(s.kind == k, DEFAULT_SCALE_MAX[k]) for k in KINDS], else_=10.0)
    s = s.mutate(scale_max=s.scale_max.fill_null(default_top))
    s = s.mutate(std_score=normalised_score(s), rescaled=s.scale_max != default_top)
    s = s.select(
        "customer_id", "kind", "score", "scale_max", "std_score", "rescaled", "answered_at", "touchpoint"
    )
    t = analytics_population(store).select("customer_id", "journey_stage", "preferred_channel")
    s = join_on_customer(s, t, how="inner")
    df = store.execute(s.order_by(["customer_id", "answered_at", "kind"]))
    df["touchpoint"] = df["touchpoint"].fillna("(unknown)")
    df["month"] = grp.month_of(df["answered_at"])
    return df


def analytics_population(store: Store) -> ibis.Table:
    """The traits of the customers whose data may be used for analytics (the consent gate)."""
    t = built(store, "traits")
    if ANALYTICS_CONSENT not in t.columns:
        raise ConsentError(f"the traits have no {ANALYTICS_CONSENT} flag", hint="run `personae build` first")
    return consent_gate.consented(t, ["analytics"])


def segment_members(store: Store, names: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """``segment, customer_id`` of each segment's latest snapshot, and the segment order."""
    runs = store.table("segment_runs")
    latest = runs.group_by("segment").aggregate(as_of=runs.as_of.max())
    known_df = store.execute(latest)
    known = list(known_df["segment"])
    if not known:
        raise NotFoundError("no segment snapshots yet", hint="run `personae build` first")
    order = snapshot_segments(names, known) if names else sorted(known)
    snap = store.table("segment_snapshots")
    wanted = latest.filter(
        latest.segment.isin(ibis.memtable(pa.table({"v": pa.array(order, pa.string())})).v)
    )
    rows = snap.join(wanted, ["segment", "as_of"]).select("segment", "customer_id")
    return store.execute(rows), order


def parse_names(text: str | None) -> list[str] | None:
    """``A,B,C`` → ``["A", "B", "C"]`` (``None`` for nothing)."""
    if text is None:
        return None
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise InputError("give at least one name, comma-separated")
    return names


# -- 1. report -------------------------------------------------------------------------------
def experience_report(
    store: Store,
    *,
    segments: Sequence[str] | None = None,
    by: str = "segment",
    since: date | None = None,
    settings: ExperienceSettings | None = None,
) -> dict[str, Any]:
    """NPS, CSAT, CES, trust and Net Trust Score per group, with intervals and small-group flags."""
    s = settings or ExperienceSettings()
    if by not in GROUPINGS:
        raise InputError(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    as_of = traits_as_of(store) if store.has_table("traits") else None
    a = answers(store, as_of, since)
    if by == "segment" or segments:
        members, order = segment_members(store, segments)
    if by == "segment":
        a = a.merge(members, on="customer_id", how="inner")
        groups = grp.metrics_by(a, "segment", s, groups=order)
    else:
        if segments:
            a = a[a["customer_id"].isin(members["customer_id"])]
        groups = [{by: r.pop(GROUPINGS[by]), **r} for r in grp.metrics_by(a, GROUPINGS[by], s)]
    overall = grp.metrics_by(a.assign(_all="all"), "_all", s, groups=["all"])[0]
    overall.pop("_all")
    rescaled = a.loc[a["rescaled"].astype(bool)].groupby("kind").size().to_dict() if len(a) else {}
    asked = (
        set(members["customer_id"])
        if by == "segment" or segments
        else set(store.execute(built(store, "traits").select("customer_id"))["customer_id"])
    )
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "since": since.isoformat() if since else None,
        "by": by,
        "confidence": s.confidence,
        "min_group_size": s.min_group_size,
        "net_trust_weights": s.net_trust.model_dump(),
        "scales": SCALE_LABELS,
        "rescaled_answers": {k: int(v) for k, v in rescaled.items()},
        "groups": groups,
        "overall": overall,
        "left_out": respondents(store, asked, set(a["customer_id"]), since).as_json(),
        "note": None if len(a) or any_answers(store) else NO_ANSWERS,
    }


#: What a survey analysis says when the store has no answer at all (and how to give it some).
NO_ANSWERS = (
    "no NPS, CSAT, CES or trust answers in the data: ingest them with `personae ingest surveys FILE` "
    "(columns customer_id, answered_at, kind, score), then `personae build`"
)


def any_answers(store: Store) -> bool:
    """Whether the store holds a single NPS/CES/CSAT/trust answer (of anyone, any date)."""
    if not store.has_table("surveys"):
        return False
    s = store.table("surveys")
    return bool(store.scalar(s.filter(s.kind.isin(list(KINDS))).count()))


def respondents(store: Store, asked: set[str], answered: set[str], since: date | None = None) -> Coverage:
    """Who of ``asked`` a survey analysis used, and why the rest were left out.

    A customer is left out for an analytics objection first (their answers may not be used),
    then for having no answer (in the window).
    """
    allowed = set(store.execute(analytics_population(store).select("customer_id"))["customer_id"])
    objected = asked - allowed
    silent = (asked & allowed) - answered
    return Coverage.of(
        len(asked),
        {
            "who objected to analytics": len(objected),
            "without a survey answer" + (f" since {since.isoformat()}" if since else ""): len(silent),
        },
    )


# -- 2. survey sample ------------------------------------------------------------------------
def draw_survey_sample(
    store: Store,
    segments: Sequence[str],
    *,
    margin: float,
    confidence: float,
    channel: str = "email",
    target: Literal["proportion", "nps"] = "proportion",
    allocation: sampling.Allocation = "segment",
    response_rate: float | None = None,
    recent_days: int | None = None,
    seed: int = 0,
    record: bool = True,
    settings: ExperienceSettings | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A stratified sample of customers to invite, who consented to ``channel``.

    Returns the plan (JSON-ready) and the sample (``customer_id, segment, weight, channel,
    contact``). With ``record`` the contacts are stored in ``survey_samples`` so the next sample
    skips them for ``recent_days``.

    ``response_rate`` (expected share who answer) defaults to the store's own past rate
    (:func:`past_response_rate`), or ``default_response_rate`` (20 %) when it has none: the
    invitations are the answers needed divided by it. Sizes, the finite-population correction and
    the weights are over the customers who can be drawn (``eligible``), not all members.
    """
    s = settings or ExperienceSettings()
    if channel not in CONTACT_CHANNELS:
        raise InputError(f"--channel {channel!r}: use one of {', '.join(CONTACT_CHANNELS)}")
    if target not in sampling.VARIANCE:
        raise InputError(f"--for {target!r}: use one of {', '.join(sampling.VARIANCE)}")
    recent = s.recent_survey_days if recent_days is None else recent_days
    if recent < 0:
        raise InputError("--recent-days must be 0 or more")
    try:  # fail on bad numbers before any reading
        sampling.sample_size(1, margin, confidence)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if response_rate is not None and not 0 < response_rate <= 1:
        raise InputError(f"--response-rate {response_rate}: expected a share in (0, 1], e.g. 0.2")
    as_of = traits_as_of(store)
    past = past_response_rate(store, as_of, s.response_window_days)
    if response_rate is not None:
        rate, rate_source = response_rate, "given"
    elif past["rate"] is not None:
        rate, rate_source = past["rate"], "past samples"
    else:
        rate, rate_source = s.default_response_rate, "default"
    members, order = segment_members(store, segments)
    strata = sampling.assign_strata(members, order)
    t = built(store, "traits")
    (consent_col,) = consent_gate.required_columns([consent_gate.channel_purpose(channel)])
    if consent_col not in t.columns:
        raise ConsentError(f"the traits have no {consent_col} flag", hint="run `personae build` first")
    address = CONTACT_CHANNELS[channel]
    cols = ["customer_id", consent_col, "last_survey_at", *([address] if address else [])]
    info = store.execute(t.select(*cols))
    frame = strata.merge(info, on="customer_id", how="left")
    consented = pd.Series(
        consent_gate.mask(frame, [consent_gate.channel_purpose(channel)]), index=frame.index
    )
    reachable = frame[address].notna() & (frame[address].astype(str).str.strip() != "") if address else True
    cutoff = pd.Timestamp(as_of - timedelta(days=recent - 1)) if recent else None
    answered = (
        pd.to_datetime(frame["last_survey_at"]) >= cutoff
        if cutoff is not None
        else pd.Series(False, index=frame.index)
    )
    contacted = frame["customer_id"].isin(recently_sampled(store, as_of, recent))
    frame["eligible"] = consented & reachable & ~answered.fillna(False) & ~contacted
    result = sampling.draw_sample(
        frame,
        order,
        margin,
        confidence,
        allocation=allocation,
        variance=sampling.VARIANCE[target],
        response_rate=rate,
        seed=seed,
    )
    sample = result.sample.rename(columns={"stratum": "segment"})
    sample["channel"] = channel
    sample["contact"] = (
        sample["customer_id"].map(frame.set_index("customer_id")[address]) if address else None
    )
    sample_id = f"S{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    excluded = {
        "no_consent": int((~consented).sum()),
        "no_address": int((consented & ~reachable).sum()) if address else 0,
        "answered_recently": int((consented & reachable & answered.fillna(False)).sum()),
        "sampled_recently": int((consented & reachable & ~answered.fillna(False) & contacted).sum()),
    }
    if record and len(sample):
        now = datetime.now(UTC).replace(tzinfo=None)
        store.append(
            "survey_samples",
            pd.DataFrame(
                {
                    "sample_id": sample_id,
                    "drawn_at": now,
                    "as_of": as_of,
                    "channel": channel,
                    "segment": sample["segment"],
                    "customer_id": sample["customer_id"],
                    "weight": sample["weight"].astype(float),
                    "seed": seed,
                }
            ),
        )
    plan = {
        "sample_id": sample_id if record else None,
        "as_of": as_of.isoformat(),
        "channel": channel,
        "margin": margin,
        "confidence": confidence,
        "for": target,
        "allocation": allocation,
        "response_rate": rate,
        "response_rate_source": rate_source,
        "past_response": past,
        "expected_answers": float(sum(p.expected_answers for p in result.plan)),
        "expected_margin": result.overall_margin,
        "margin_if_half_answer": result.overall_margin_if_half_answer,
        "frame": "eligible",
        "recent_days": recent,
        "seed": seed,
        "strata": [
            {"segment": p.stratum, **{k: v for k, v in p.as_dict().items() if k != "stratum"}}
            for p in result.plan
        ],
        "contacts": len(sample),
        "excluded": excluded,
        "in_several_assigned_to_first": int((members.groupby("customer_id")["segment"].nunique() > 1).sum()),
    }
    return plan, sample


def past_response_rate(store: Store, as_of: date, window_days: int) -> dict[str, Any]:
    """The share of customers invited by past samples who answered, as the store recorded it.

    A past sample's contact (a row of ``survey_samples``) answered when some survey answer of
    theirs (any kind) is dated after the sample's as-of date and within ``window_days`` days of
    it. Only samples whose window has closed by ``as_of`` count: a sample drawn last week has
    not had its answers yet. ``rate`` is ``None`` when no such sample exists, or none of its
    contacts answered (a zero rate cannot size a sample: the default is used, and this says why).
    """
    out: dict[str, Any] = {"samples": 0, "contacts": 0, "answered": 0, "window_days": window_days}
    if not store.has_table("survey_samples") or not store.has_table("surveys"):
        return {**out, "rate": None}
    t = store.table("survey_samples")
    closed = t.filter(t.as_of <= ibis.date((as_of - timedelta(days=window_days)).isoformat()))
    contacts = closed.select("sample_id", "customer_id", sent=closed.as_of).distinct()
    s = store.resolved("surveys")
    end = contacts.sent.cast("timestamp") + ibis.interval(days=window_days + 1)
    start = contacts.sent.cast("timestamp") + ibis.interval(days=1)
    j = contacts.left_join(
        s.select("customer_id", "answered_at"),
        [
            contacts.customer_id == s.customer_id,
            s.answered_at >= start,
            s.answered_at < end,
        ],
    )
    per = j.group_by(["sample_id", "customer_id"]).aggregate(answered=j.answered_at.notnull().any())
    counts = store.execute(
        per.aggregate(samples=per.sample_id.nunique(), contacts=per.count(), answered=per.answered.sum())
    ).iloc[0]
    out.update(
        samples=int(counts["samples"] or 0),
        contacts=int(counts["contacts"] or 0),
        answered=int(counts["answered"] or 0),
    )
    rate = out["answered"] / out["contacts"] if out["contacts"] and out["answered"] else None
    return {**out, "rate": rate}


def recently_sampled(store: Store, as_of: date, days: int) -> set[str]:
    """Customers drawn into a survey sample in the ``days`` before ``as_of`` (inclusive)."""
    if not days or not store.has_table("survey_samples"):
        return set()
    t = store.table("survey_samples")
    start = ibis.date((as_of - timedelta(days=days - 1)).isoformat())
    recent = t.filter((t.as_of >= start) & (t.as_of <= ibis.date(as_of.isoformat())))
    return set(store.execute(recent.select("customer_id").distinct())["customer_id"])


# -- 3. segment validation -------------------------------------------------------------------
def validate_segments(
    store: Store,
    segments: Sequence[str],
    on: Sequence[str],
    *,
    settings: ExperienceSettings | None = None,
) -> dict[str, Any]:
    """Test whether ``segments`` differ on each of ``on`` (survey questions or traits)."""
    s = settings or ExperienceSettings()
    if len(set(segments)) < 2:
        raise InputError("--segments: give at least two segments to compare")
    t = built(store, "traits")
    columns = {}
    for name in on:
        col = QUESTIONS.get(name, name)
        if col not in t.columns or col in ("customer_id", "as_of"):
            close = suggest(name, [*QUESTIONS, *t.columns])
            raise InputError(
                f"--on {name!r}: not a survey question ({', '.join(QUESTIONS)}) or a trait",
                hint=f"did you mean {close[0]!r}?" if close else "see `personae segments names`",
            )
        columns[name] = col
    members, order = segment_members(store, segments)
    exclusive, overlap = validation.exclusive_groups(members, order)
    pop = analytics_population(store)
    values = store.execute(pop.select("customer_id", *dict.fromkeys(columns.values())))
    data = exclusive.merge(values, on="customer_id", how="inner")
    results = []
    for name, col in columns.items():
        series = data[col]
        if name in KINDS or (
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        ):
            results.append(validation.kruskal_wallis(name, data["segment"], series.astype(float), order))
        else:
            cat = series.astype(object).where(series.notna(), None)
            results.append(validation.chi_square(name, data["segment"], cat, order))
    validation.conclude(results, s.alpha)
    asked = int(members["customer_id"].nunique())
    objected = int(len(exclusive) - len(data))
    out = []
    for (name, col), r in zip(columns.items(), results, strict=True):
        missing = int(data[col].isna().sum())
        what = "without an answer" if name in QUESTIONS else f"without a value of {col}"
        coverage = Coverage.of(
            asked,
            {
                "in more than one of these segments": overlap,
                "who objected to analytics": objected,
                what: missing,
            },
        )
        note = NO_ANSWERS if name in QUESTIONS and not coverage.used and not any_answers(store) else None
        out.append({**r.as_dict(), "left_out": coverage.as_json(), "note": note})
    return {
        "segments": list(order),
        "alpha": s.alpha,
        "left_out_in_several_segments": overlap,
        "results": out,
    }


# -- 5. pain points --------------------------------------------------------------------------
def pain_points(
    store: Store,
    settings: Settings,
    *,
    by: Literal["value", "customers"] = "value",
    window_days: int | None = None,
) -> dict[str, Any]:
    """Signals along the journey, ranked by value at stake (or customers affected)."""
    s = settings.experience
    if by not in ("value", "customers"):
        raise InputError(f"--by {by!r}: use value or customers")
    as_of = traits_as_of(store)
    window = window_days or s.pain_window_days
    inputs = trait_inputs(store, as_of, settings.traits, settings.timezone)
    # analytics consent gate: only consenting customers' events, orders and answers count
    ok = analytics_population(store).select("customer_id")
    inputs = replace(
        inputs,
        events=inputs.events.semi_join(ok, "customer_id"),
        orders=inputs.orders.semi_join(ok, "customer_id"),
        surveys=inputs.surveys.semi_join(ok, "customer_id"),
    )
    hits_expr, bases_expr = painpoints.pain_signals(
        inputs, window_days=window, abandon_days=s.checkout_abandon_days
    )
    t = built(store, "traits")
    value_col = "clv_12m" if "clv_12m" in t.columns else "monetary"
    pop = analytics_population(store)
    customers = store.execute(
        pop.select("customer_id", value=pop[value_col].cast("float64"), latest_nps=pop.latest_nps)
    )
    rows = painpoints.rank_pain_points(
        store.execute(hits_expr), store.execute(bases_expr), customers, by=by, confidence=s.confidence
    )
    return {
        "as_of": as_of.isoformat(),
        "window_days": window,
        "value": "12-month CLV" if value_col == "clv_12m" else "net spend",
        "ranked_by": by,
        "pain_points": rows,
    }


# -- 4. detractor model summary --------------------------------------------------------------
def detractor_summary(store: Store) -> dict[str, Any]:
    """What the last build's detractor model measured (held-out) and its drivers."""
    row = store.execute(built(store, "detractor_model", "detractor model")).iloc[0]
    out: dict[str, Any] = json.loads(row["report"])
    return out


# -- 4. detractor risk: the build step --------------------------------------------------------
DETRACTOR_COLUMNS = {"detractor_risk": "float64", "predicted_nps_category": "string"}


def nps_answers_at(store: Store, as_of: date) -> ibis.Table:
    """Every NPS answer up to ``as_of`` of a customer who consented to analytics, as a row to
    compute features for: ``key, customer_id, cutoff`` (the start of the answer's day: the
    features see what happened before it), ``answered_at`` and ``nps_category``."""
    s = store.resolved("surveys")
    s = s.filter((s.kind == "nps") & (s.answered_at < ibis.timestamp(end_of(as_of).isoformat(sep=" "))))
    s = s.mutate(scale_max=s.scale_max.fill_null(DEFAULT_SCALE_MAX["nps"]))
    s = s.mutate(std_score=normalised_score(s))
    s = s.filter(s.std_score.notnull())
    s = s.semi_join(analytics_population(store).select("customer_id"), "customer_id")
    category = ibis.cases((s.std_score >= 9, "promoter"), (s.std_score >= 7, "passive"), else_="detractor")
    order = ibis.row_number().over(order_by=[s.answered_at, s.customer_id, s.score])
    return s.select(
        key=order.cast("string"),
        customer_id=s.customer_id,
        cutoff=s.answered_at.truncate("D"),
        answered_at=s.answered_at,
        nps_category=category,
    )


def build_detractor_risk(store: Store, as_of: date, settings: Settings) -> dict[str, Any]:
    """Fit the detractor model on the NPS answers and add its traits to ``traits``.

    Training: one row per NPS answer (of a customer who consented to analytics), its features
    as of the day before the answer (:func:`personae.experience.features.features_as_of`), the
    earlier answers to fit and the later ones to measure. Scoring: every customer who consented
    to profiling, their features as of ``as_of`` — the same definitions, at the moment of the
    prediction (the others stay empty).

    ``detractor_risk`` and ``predicted_nps_category`` are always added (empty when the model
    cannot be fitted), so rules that use them never break for lack of a column.
    """
    from personae.experience.detractors import DetractorModel  # start-up: scikit-learn

    s = settings.experience
    t = built(store, "traits")
    t = t.drop(*[c for c in DETRACTOR_COLUMNS if c in t.columns])
    consent = [c for c in (ANALYTICS_CONSENT, PROFILING_CONSENT) if c in t.columns]
    if len(consent) < 2:
        raise ConsentError("the traits have no consent flags", hint="run `personae build` first")
    inputs = trait_inputs(store, as_of, settings.traits)
    asked = nps_answers_at(store, as_of)
    before = features_as_of(inputs, asked)
    rows = before.join(rfm_segments_of(before, settings.traits.rfm_rules), "key").join(
        asked.select("key", "customer_id", "answered_at", "nps_category"), "key"
    )
    train = store.execute(rows.order_by("answered_at", "key"))
    # scoring: everyone (profiling consent decides who keeps a score), as of the build date
    now = t.select(
        key=t.customer_id,
        customer_id=t.customer_id,
        cutoff=ibis.timestamp(end_of(as_of).isoformat(sep=" ")),
        may_score=t[PROFILING_CONSENT].fill_null(False),
    )
    current = store.execute(features_as_of(inputs, now).join(now.select("key", "may_score"), "key"))
    may_score = current["may_score"].astype(bool).to_numpy()
    scores = pd.DataFrame({"customer_id": current["key"].astype(str)})
    model = DetractorModel(test_share=s.detractor_test_share, min_answers=s.detractor_min_answers)
    try:
        model.fit(train, train["nps_category"], train["answered_at"], train["rfm_segment"])
    except ModelError as exc:
        scores["detractor_risk"] = np.nan
        scores["predicted_nps_category"] = None
        store.drop("detractor_model")
        summary: dict[str, Any] = {"skipped": str(exc)}
    else:
        pred = model.predict(current)
        scores["detractor_risk"] = np.where(may_score, pred["detractor_risk"].to_numpy(), np.nan)
        scores["predicted_nps_category"] = pred["predicted_nps_category"].where(may_score, None).to_numpy()
        used = [*model.numeric_, *model.categorical_]
        report = {
            "as_of": as_of.isoformat(),
            "answers": len(train),
            "answerers": int(train["customer_id"].nunique()),
            "scored": int(may_score.sum()),
            "not_scored_without_profiling_consent": int((~may_score).sum()),
            "features_as_of": "the day before each answer (training); the build date (scoring)",
            "holdout": model.evaluation_.as_dict(),
            "drivers": [d.__dict__ for d in model.drivers_],
            "features": {
                "numeric": model.numeric_,
                "categorical": model.categorical_,
                "inputs": {f: list(FEATURE_INPUTS[f]) for f in used},
            },
        }
        store.replace("detractor_model", pd.DataFrame([{"as_of": as_of, "report": json.dumps(report)}]))
        ev = model.evaluation_
        base = ev.segment_baseline or {}
        summary = {
            "answers": report["answers"],
            "auc": round(ev.auc, 3) if ev.auc is not None else None,
            "segment_auc": round(base["auc"], 3) if base.get("auc") is not None else None,
            "brier": round(ev.brier, 4),
            "brier_baseline": round(ev.brier_baseline, 4),
        }
    arrow = pa.Table.from_pandas(scores.astype({"detractor_risk": "float64"}), preserve_index=False).cast(
        pa.schema(
            [
                ("customer_id", pa.string()),
                ("detractor_risk", pa.float64()),
                ("predicted_nps_category", pa.string()),
            ]
        )
    )
    store.replace("_detractor_scores", arrow)
    store.replace("_traits_next", join_on_customer(t, store.table("_detractor_scores")))
    with store.transaction():
        store.replace("traits", store.table("_traits_next"))
    store.drop("_traits_next")
    store.drop("_detractor_scores")
    return summary
