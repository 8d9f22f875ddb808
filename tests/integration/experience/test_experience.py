"""Experience use cases on a real store built from the synthetic generator (small).

Each figure is recomputed here by a second route (plain pandas over the traits, scipy) so a
wrong join, a missing consent filter or a wrong grouping would show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from personae.app import experience as svc
from personae.app.reads import traits_as_of
from personae.app.segments.library import add_segments
from personae.app.segments.run import preview
from personae.app.traits import trait_inputs
from personae.config import load_settings
from personae.config.traits import TraitSettings
from personae.errors import InputError, NotFoundError
from personae.experience import sampling
from personae.experience.features import FEATURE_INPUTS, features_as_of, reads_label
from personae.experience.metrics import nps
from personae.segments.definitions import SegmentDefinition
from personae.store import DuckDBStore, Store
from personae.traits.build import base_traits

KINDS = ("stores", "products", "customers", "orders", "events", "surveys", "consents")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, make_shop: Callable[..., Path]) -> Iterator[Store]:
    path = make_shop(tmp_path_factory.mktemp("experience"), 800, seed=11, full_build=True, kinds=KINDS)
    store = DuckDBStore.open(path)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def traits(built: Store) -> pd.DataFrame:
    return built.execute(built.table("traits"))


def _members(built: Store, name: str) -> set[str]:
    m, _ = svc.segment_members(built, [name])
    return set(m["customer_id"])


def test_build_adds_detractor_risk_within_consent(built: Store, traits: pd.DataFrame) -> None:
    assert {"detractor_risk", "predicted_nps_category"} <= set(traits.columns)
    scored = traits["detractor_risk"].notna()
    assert scored.any()
    assert traits.loc[scored, "detractor_risk"].between(0, 1).all()
    # only customers who consented to profiling are scored
    assert not (scored & ~traits["consent_profiling"].astype(bool)).any()
    assert (scored == traits["consent_profiling"].astype(bool)).all()
    summary = svc.detractor_summary(built)
    h = summary["holdout"]
    assert h["n_train"] + h["n_test"] == summary["answers"]
    nps_answers = svc.answers(built, traits_as_of(built)).query("kind == 'nps'")  # analytics consent
    assert summary["answers"] == len(nps_answers)
    assert summary["answerers"] == nps_answers["customer_id"].nunique()
    assert h["auc"] > 0.6 and h["brier"] < h["brier_baseline"]
    assert summary["drivers"] and all("nps" not in d["feature"] for d in summary["drivers"])


def test_detractor_model_does_not_peek(built: Store) -> None:
    """No driver is the label in disguise, every feature's inputs are declared and none is a
    survey column, and the hold-out is the later answers, beside the segment baseline."""
    summary = svc.detractor_summary(built)
    assert not any(
        word in d["feature"] for d in summary["drivers"] for word in ("journey_stage", "advocacy", "nps")
    )
    inputs = summary["features"]["inputs"]
    assert set(inputs) == set(summary["features"]["numeric"]) | set(summary["features"]["categorical"])
    assert not [f for f, cols in inputs.items() if reads_label(tuple(cols))]
    h = summary["holdout"]
    assert h["split"]["kind"] == "time" and h["split"]["train_to"] < h["split"]["test_from"]
    base = h["segment_baseline"]
    assert base["by"] == "rfm_segment" and 0 <= base["brier"] <= 1
    assert sum(r["train_answers"] for r in base["rates"]) == h["n_train"]


def test_answer_features_are_the_traits_of_the_day_before(built: Store) -> None:
    """Second route: each answer's features equal the traits built as of the day before the
    answer by the trait pipeline itself (so nothing from the answer's day or later enters)."""
    as_of = traits_as_of(built)
    settings = TraitSettings()
    asked = svc.nps_answers_at(built, as_of)
    rows = built.execute(
        features_as_of(trait_inputs(built, as_of, settings), asked).join(
            asked.select("key", "customer_id", "answered_at"), "key"
        )
    )
    rows = rows[rows["frequency"] > 0].sort_values("answered_at")
    picked = rows.iloc[np.linspace(0, len(rows) - 1, 4).astype(int)]
    for _, r in picked.iterrows():
        day_before = r["answered_at"].date() - timedelta(days=1)
        t = base_traits(trait_inputs(built, day_before, settings), built.table("affinities"))
        then = built.execute(t.filter(t.customer_id == r["customer_id"])).iloc[0]
        for f in FEATURE_INPUTS:
            a, b = r[f], then[f]
            if pd.isna(a) or pd.isna(b):
                assert pd.isna(a) and pd.isna(b), (f, a, b)
            elif isinstance(a, str) or isinstance(b, str):
                assert a == b, (f, a, b)
            else:
                assert float(a) == pytest.approx(float(b)), (f, r["answered_at"], a, b)


def test_detractor_risk_is_usable_in_rules(built: Store, traits: pd.DataFrame) -> None:
    add_segments(built, [SegmentDefinition("Likely detractors", "detractor_risk >= 0.5")], source="test")
    counts = preview(built, ["Likely detractors"])
    assert counts == {"Likely detractors": int((traits["detractor_risk"] >= 0.5).sum())}


def test_report_by_segment_matches_a_recount(built: Store, traits: pd.DataFrame) -> None:
    names = ["Champions", "lifecycle:lapsed"]
    data = svc.experience_report(built, segments=names)
    assert [g["segment"] for g in data["groups"]] == names
    consenting = traits[traits["consent_analytics"].astype(bool)].set_index("customer_id")
    for g in data["groups"]:
        ids = _members(built, g["segment"]) & set(consenting.index)
        expected = nps(consenting.loc[sorted(ids), "latest_nps"].to_numpy(dtype=float))
        assert g["nps_n"] == expected.n
        assert g["nps"] == pytest.approx(expected.score)
        assert g["nps_ci"] == pytest.approx(list(expected.ci))
        assert -100 <= g["nps"] <= 100
        csat = consenting.loc[sorted(ids), "latest_csat"].dropna()
        assert g["csat"] == pytest.approx(100 * (csat >= 4).mean())
    assert data["groups"][0]["nps"] > data["groups"][1]["nps"]  # the generator's loyal vs lapsed


def test_report_counts_only_customers_with_analytics_consent(built: Store, traits: pd.DataFrame) -> None:
    data = svc.experience_report(built, by="touchpoint")
    answered = traits["survey_answers"] > 0
    assert data["overall"]["n"] == int((answered & traits["consent_analytics"].astype(bool)).sum())
    assert data["overall"]["n"] < int(answered.sum())  # the generator has refusals
    assert {g["touchpoint"] for g in data["groups"]} <= {
        "checkout",
        "delivery",
        "support",
        "store",
        "app",
        "website",
        "email",  # the generator's relationship NPS
    }
    months = svc.experience_report(built, by="month")["groups"]
    assert [g["month"] for g in months] == sorted(g["month"] for g in months)


def test_report_errors(built: Store) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'Champions'"):
        svc.experience_report(built, segments=["Champion"])
    with pytest.raises(InputError):
        svc.experience_report(built, by="colour")


def test_survey_sample_respects_consent_and_recent_surveys(built: Store, traits: pd.DataFrame) -> None:
    names = ["Champions", "lifecycle:lapsed"]
    plan, a = svc.draw_survey_sample(built, names, margin=0.1, confidence=0.95, seed=3, record=False)
    _, b = svc.draw_survey_sample(built, names, margin=0.1, confidence=0.95, seed=3, record=False)
    pd.testing.assert_frame_equal(a, b)  # reproducible
    t = traits.set_index("customer_id")
    chosen = t.loc[a["customer_id"]]
    assert chosen["consent_email"].astype(bool).all()
    assert chosen["email"].notna().all()
    as_of = pd.Timestamp(plan["as_of"])
    recent = pd.to_datetime(chosen["last_survey_at"]) >= as_of - timedelta(days=89)
    assert not recent.any()
    assert set(a["customer_id"]) <= _members(built, "Champions") | _members(built, "lifecycle:lapsed")
    for p in plan["strata"]:
        got = a[a["segment"] == p["segment"]]
        assert len(got) == p["contacts"] and (got["weight"] == p["weight"]).all()
    # recording: the next sample skips the people just drawn
    first, drawn = svc.draw_survey_sample(built, ["Champions"], margin=0.2, confidence=0.9, seed=1)
    again, redrawn = svc.draw_survey_sample(built, ["Champions"], margin=0.2, confidence=0.9, seed=1)
    assert first["sample_id"] and not set(drawn["customer_id"]) & set(redrawn["customer_id"])
    assert again["excluded"]["sampled_recently"] == len(drawn)
    stored = built.execute(built.table("survey_samples"))
    assert set(stored["customer_id"]) == set(drawn["customer_id"]) | set(redrawn["customer_id"])


def test_survey_sample_refuses_unknown_channel(built: Store) -> None:
    with pytest.raises(InputError, match="--channel"):
        svc.draw_survey_sample(built, ["Champions"], margin=0.1, confidence=0.95, channel="fax")
    with pytest.raises(InputError, match="margin"):
        svc.draw_survey_sample(built, ["Champions"], margin=5, confidence=0.95)


def test_validation_matches_scipy(built: Store, traits: pd.DataFrame) -> None:
    names = ["Champions", "lifecycle:lapsed"]
    data = svc.validate_segments(built, names, ["nps", "nps_category"])
    champions, lapsed = _members(built, "Champions"), _members(built, "lifecycle:lapsed")
    both = champions & lapsed
    t = traits[traits["consent_analytics"].astype(bool)].set_index("customer_id")
    a = t.loc[sorted((champions - both) & set(t.index)), "latest_nps"].dropna()
    b = t.loc[sorted((lapsed - both) & set(t.index)), "latest_nps"].dropna()
    kw = next(r for r in data["results"] if r["on"] == "nps")
    ref = stats.kruskal(a, b)
    assert kw["statistic"] == pytest.approx(ref.statistic) and kw["p"] == pytest.approx(ref.pvalue)
    assert kw["groups"] == {"Champions": len(a), "lifecycle:lapsed": len(b)}
    assert kw["verdict"].startswith("segments differ")
    with pytest.raises(InputError, match="did you mean"):
        svc.validate_segments(built, names, ["nsp"])
    with pytest.raises(InputError, match="two segments"):
        svc.validate_segments(built, ["Champions"], ["nps"])


def test_pain_points_recount(built: Store, traits: pd.DataFrame) -> None:
    settings = load_settings()
    data = svc.pain_points(built, settings)
    rows = {(r["stage"], r["signal"]): r for r in data["pain_points"]}
    assert [r["rank"] for r in data["pain_points"]] == list(range(1, len(rows) + 1))
    values = [r["value_at_stake"] for r in data["pain_points"]]
    assert values == sorted(values, reverse=True)
    # returns: consenting customers with a returned line in the last 365 days
    o = built.execute(built.resolved("orders"))
    as_of = pd.Timestamp(data["as_of"])
    window = (o["ordered_at"] >= as_of - pd.Timedelta(days=364)) & (
        o["ordered_at"] < as_of + pd.Timedelta(days=1)
    )
    consenting = set(traits.loc[traits["consent_analytics"].astype(bool), "customer_id"])
    returners = set(o.loc[window & o["returned"].fillna(False).astype(bool), "customer_id"]) & consenting
    r = rows["after purchase", "return"]
    assert r["customers"] == len(returners)
    clv = traits.set_index("customer_id")["clv_12m"]
    assert r["value_at_stake"] == pytest.approx(float(np.nansum(clv.reindex(sorted(returners)))))
    assert rows["delivery", "failed_delivery"]["nps_gap"] < 0  # planted: failed deliveries hurt


def test_report_says_who_it_left_out_and_why(built: Store, traits: pd.DataFrame) -> None:
    """Members without consent or without an answer are counted, by reason, never silently."""
    names = ["Champions", "lifecycle:lapsed"]
    data = svc.experience_report(built, segments=names)
    members = set().union(*(_members(built, n) for n in names))
    t = traits.set_index("customer_id").loc[sorted(members)]
    allowed = t["consent_analytics"].astype(bool)
    answers = svc.answers(built)
    silent = allowed & ~t.index.isin(answers["customer_id"])
    left = data["left_out"]
    assert left["total"] == len(members)
    assert left["reasons"].get("who objected to analytics", 0) == int((~allowed).sum())
    assert left["reasons"].get("without a survey answer", 0) == int(silent.sum())
    assert left["used"] == left["total"] - left["left_out"]
    assert data["note"] is None


def test_validation_says_who_each_test_left_out(built: Store, traits: pd.DataFrame) -> None:
    data = svc.validate_segments(built, ["Champions", "lifecycle:lapsed"], ["nps", "recency_days"])
    nps_test, recency = data["results"]
    for r in (nps_test, recency):
        assert r["left_out"]["used"] == r["n"]
        assert (
            r["left_out"]["reasons"].get("in more than one of these segments", 0)
            == (data["left_out_in_several_segments"])
        )
    assert nps_test["left_out"]["reasons"]["without an answer"] > 0


def test_survey_sample_sizes_by_the_stores_past_response_rate(built: Store) -> None:
    """A past sample (drawn 200 days ago, so its 30-day window has closed): the rate is the share
    of its contacts with an answer in the 30 days after, recounted here with pandas; the next
    sample invites the answers wanted divided by it, and says the margin it will reach."""
    as_of = traits_as_of(built)
    settings = load_settings().experience
    empty = svc.past_response_rate(built, as_of, settings.response_window_days)
    plan0, _ = svc.draw_survey_sample(built, ["Champions"], margin=0.1, confidence=0.95, record=False)
    if empty["rate"] is None:
        assert plan0["response_rate"] == 0.2 and plan0["response_rate_source"] == "default"
    surveys = built.execute(built.resolved("surveys").select("customer_id", "answered_at"))
    sent = as_of - timedelta(days=200)
    start, end = pd.Timestamp(sent + timedelta(days=1)), pd.Timestamp(sent + timedelta(days=31))
    in_window = surveys[(surveys["answered_at"] >= start) & (surveys["answered_at"] < end)]
    answered = sorted(set(in_window["customer_id"]))[:12]
    silent = sorted(set(surveys["customer_id"]) - set(in_window["customer_id"]))[:28]
    assert len(answered) == 12 and len(silent) == 28
    built.append(
        "survey_samples",
        pd.DataFrame(
            {
                "sample_id": "S-past",
                "drawn_at": pd.Timestamp(sent),
                "as_of": sent,
                "channel": "email",
                "segment": "Champions",
                "customer_id": answered + silent,
                "weight": 1.0,
                "seed": 0,
            }
        ),
    )
    past = svc.past_response_rate(built, as_of, settings.response_window_days)
    assert (past["samples"], past["contacts"], past["answered"]) == (1, 40, 12)
    assert past["rate"] == pytest.approx(0.3)
    plan, drawn = svc.draw_survey_sample(built, ["Champions"], margin=0.1, confidence=0.95, record=False)
    assert plan["response_rate"] == pytest.approx(0.3) and plan["response_rate_source"] == "past samples"
    (p,) = plan["strata"]
    assert p["wanted"] == sampling.sample_size(p["eligible"], 0.1, 0.95)  # the FPC over the eligible
    assert p["contacts"] == min(p["eligible"], int(np.ceil(p["wanted"] / 0.3 - 1e-9)))
    assert p["expected_answers"] == pytest.approx(p["contacts"] * 0.3)
    assert p["expected_margin"] == pytest.approx(
        sampling.margin_of_error(p["contacts"] * 0.3, p["eligible"], 0.95)
    )
    assert drawn["weight"].sum() == pytest.approx(p["eligible"])
    given, _ = svc.draw_survey_sample(
        built, ["Champions"], margin=0.1, confidence=0.95, response_rate=0.5, record=False
    )
    assert given["response_rate"] == 0.5 and given["response_rate_source"] == "given"
    with pytest.raises(InputError, match="--response-rate"):
        svc.draw_survey_sample(built, ["Champions"], margin=0.1, confidence=0.95, response_rate=0)
