"""What customers say can shape clusters: the voice features (issue 12) are clustering features."""

from __future__ import annotations

import pytest

from personae.app.clusters import build_clusters, cluster_summary
from personae.app.reads import last_data_date
from personae.app.traits import build_traits
from personae.app.voice import build_voice
from personae.clusters.features import DEFAULT_FEATURES, select_features
from personae.config import load_settings
from personae.errors import InputError
from personae.store import Store


def test_voice_features_are_opt_in_and_selectable_by_family() -> None:
    attitude = {f.name for f in select_features("attitude")}
    assert {"sentiment", "sentiment_90d", "complaints_90d", "nps"} <= attitude
    assert "sentiment" not in DEFAULT_FEATURES


def test_clusters_on_what_customers_say(clustered: Store) -> None:
    # named features whose traits were never built are refused, not silently dropped
    with pytest.raises(InputError, match="sentiment"):
        build_clusters(clustered, k=2, features="sentiment,complaints_90d", seed=0)
    s = load_settings()
    as_of = last_data_date(clustered)
    build_voice(clustered, as_of, s.voice)
    build_traits(clustered, as_of, s.traits)
    traits = clustered.execute(clustered.table("traits"))
    assert traits.avg_sentiment.notna().sum() > 50  # the generator's customers wrote texts

    result = build_clusters(clustered, k=2, features="sentiment,complaints_90d", seed=0)
    assert result["k"] == 2 and result["customers"] > 0
    summary = cluster_summary(clustered)
    named = {d["feature"] for c in summary["clusters"] for d in c["distinguishing"] if d["clustered"]}
    assert named and named <= {"sentiment", "complaints_90d"}, named
    # demographics and taste describe the clusters without having shaped them
    described = {d["feature"] for c in summary["clusters"] for d in c["distinguishing"] if not d["clustered"]}
    assert described <= {"gender", "age_band", "country", "region", "taste"}, described
