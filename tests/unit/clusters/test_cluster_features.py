"""Feature selection and preprocessing: transforms, block weights, reproducible state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.clusters.features import (
    BY_NAME,
    DEFAULT_FEATURES,
    DESCRIBING,
    FAMILIES,
    VOICE_FEATURES,
    Preprocessor,
    age_band,
    describing_features,
    needed_columns,
    select_features,
)
from personae.errors import InputError
from personae.traits.registry import ALL


def traits(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    freq = rng.integers(1, 20, n)
    web = rng.integers(0, 1, n) + (freq * rng.random(n)).astype(int)
    df = pd.DataFrame(
        {
            "recency_days": rng.exponential(100, n),
            "frequency": freq,
            "monetary": rng.lognormal(5, 1, n),
            "orders_web": web,
            "orders_app": freq - web,
            "orders_store": 0,
            "orders_phone": 0,
            "orders_marketplace": 0,
            "latest_nps": np.where(rng.random(n) < 0.3, rng.integers(0, 11, n), np.nan),
            "region": rng.choice(["North", "South", None], n),
        }
    )
    return df


def test_every_feature_reads_known_traits() -> None:
    assert set(needed_columns(BY_NAME.values())) <= set(ALL)
    # every feature is on by default except what customers say (opt-in: not every shop has
    # texts) and country and age band (they describe clusters; asked for, they shape them)
    voice = {f.name for f in VOICE_FEATURES}
    describing = {f.name for f in DESCRIBING}
    assert voice and set(DEFAULT_FEATURES) == set(BY_NAME) - voice - describing
    assert "taste" in DEFAULT_FEATURES


def test_select_by_name_and_family() -> None:
    assert [f.name for f in select_features("recency, frequency")] == ["recency", "frequency"]
    chosen = [f.name for f in select_features("channel,nps")]
    assert chosen == ["n_channels", "channel_focus", "channel_mix", "nps"]
    assert set(FAMILIES) == {"value", "behaviour", "channel", "attitude", "demographic", "taste"}
    assert [f.name for f in select_features("value,taste")][-1] == "taste"


def test_unknown_feature_suggests() -> None:
    with pytest.raises(InputError, match="did you mean 'recency'"):
        select_features("recncy")
    with pytest.raises(InputError, match="empty"):
        select_features(" , ")


def test_log_clip_and_standardise() -> None:
    df = traits()
    pre = Preprocessor(select_features("monetary")).fit(df)
    x = pre.transform(df)[:, 0]
    logged = np.log1p(df.monetary)
    lo, hi = logged.quantile([0.01, 0.99])
    expected = logged.clip(lo, hi)
    np.testing.assert_allclose(x, (expected - expected.mean()) / expected.std(ddof=0))
    assert x.mean() == pytest.approx(0, abs=1e-12) and x.std() == pytest.approx(1)


def test_missing_becomes_the_median() -> None:
    df = traits()
    pre = Preprocessor(select_features("nps")).fit(df)
    x = pre.transform(df)[:, 0]
    median = df.latest_nps.median()
    p = pre.params_["nps"]  # type: ignore[index]
    assert p["median"] == median
    assert np.allclose(x[df.latest_nps.isna().to_numpy()], (median - p["mean"]) / p["scale"])


def test_category_levels_and_unseen_values() -> None:
    df = traits()
    pre = Preprocessor(select_features("region")).fit(df)
    assert pre.columns_ == ["region=North", "region=South", "region=unknown"]
    x = pre.transform(pd.DataFrame({"region": ["Mars"]}))
    # an unseen level has no column: all zeros before centring
    p = pre.params_["region"]  # type: ignore[index]
    np.testing.assert_allclose(x[0], -np.asarray(p["mean"]) / p["scale"])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=30, max_value=300))
def test_blocks_count_like_one_feature(seed: int, n: int) -> None:
    """Whatever the data, a share block and a categorical block each have total variance 1."""
    df = traits(n, seed)
    pre = Preprocessor(select_features("channel_mix,region")).fit(df)
    x = pre.transform(df)
    owners = np.array(pre.feature_of_)
    for block in ("channel_mix", "region"):
        total = x[:, owners == block].var(axis=0).sum()
        assert total == pytest.approx(1.0) or total == pytest.approx(0.0)


def test_state_round_trips_through_json() -> None:
    df = traits()
    pre = Preprocessor(select_features(None)).fit(df)
    again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(pre.transform(df), again.transform(df))
    assert pre.transform(df).shape == (len(df), len(pre.columns_ or []))


def test_missing_trait_columns_carry_no_weight() -> None:
    df = traits().drop(columns=["latest_nps"])
    pre = Preprocessor(select_features("nps,recency")).fit(df)
    assert np.all(pre.transform(df)[:, 0] == 0)


def test_taste_is_a_block_of_category_shares_kept_by_the_fit() -> None:
    df = traits().assign(
        **{
            "taste:Drama": np.linspace(0, 1, 200),
            "taste:Comedy": np.r_[np.ones(100), np.zeros(100)],
        }
    )
    pre = Preprocessor(select_features("taste")).fit(df)
    assert pre.columns_ == ["taste:Drama", "taste:Comedy"]
    x = pre.transform(df)
    assert x.var(axis=0).sum() == pytest.approx(1.0)  # one block counts like one feature
    # later data: a category the fit did not have is ignored, a missing one is 0
    later = pd.DataFrame({"taste:Comedy": [1.0], "taste:Horror": [1.0]})
    p = pre.params_["taste"]  # type: ignore[index]
    np.testing.assert_allclose(pre.transform(later)[0], (np.array([0.0, 1.0]) - p["mean"]) / p["scale"])
    again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(again.transform(df), x)


def test_describing_features_and_age_bands() -> None:
    names = [f.name for f in describing_features(select_features("value"), taste=True)]
    assert names[-5:] == ["gender", "age_band", "country", "region", "taste"]
    assert "taste" not in [f.name for f in describing_features(select_features("value"), taste=False)]
    bands = age_band(pd.Series([17, 18, 24, 25, 34, 64, 65, None, -3, 200]))
    assert bands.tolist() == [
        "under 18",
        "18-24",
        "18-24",
        "25-34",
        "25-34",
        "55-64",
        "65+",
        None,
        None,
        None,
    ]
