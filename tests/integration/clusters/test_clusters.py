"""Clusters on a generated shop: recovery of the latent groups, storage, segments, renames."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from personae.app.clusters import (
    assign_clusters,
    build_clusters,
    cluster_members,
    cluster_summary,
    evaluate_truth,
    rename_cluster,
    write_map,
)
from personae.app.segments.library import add_segments, segment_library
from personae.app.segments.run import preview
from personae.errors import InputError, NotFoundError
from personae.segments.definitions import SegmentDefinition
from personae.segments.realtime import CustomerState, ProfileEvaluator
from personae.store import Store


def test_generator_groups_are_recovered(clustered: Store, clustered_files: dict[str, Any]) -> None:
    result = evaluate_truth(clustered, clustered_files["truth"])
    assert result["ari"] >= 0.8
    assert result["purity"] >= 0.85
    assert result["label"] == "group"
    assert sum(sum(r.values()) for r in result["confusion"].values()) == result["matched"]
    # duplicate profiles of one person are compared once, under the unified id
    assert result["matched"] <= result["truth_rows"]


def test_build_result_and_quality(clustered_files: dict[str, Any]) -> None:
    r = clustered_files["result"]
    assert r["k"] == 6 and len(r["clusters"]) == 6
    assert {"cluster", "name", "size"} <= set(r["clusters"][0])
    sizes = [c["size"] for c in r["clusters"]]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == r["customers"]
    assert sum(c["revenue_share"] for c in r["clusters"]) == pytest.approx(1.0, abs=1e-3)
    assert 0 < r["silhouette"] < 1 and r["davies_bouldin"] > 0
    assert 0.5 < r["stability_ari"] <= 1
    assert len({c["name"] for c in r["clusters"]}) == 6
    # who was not clustered, and why, adds up to everyone built
    left = r["left_out"]
    assert left["used"] == r["customers"]
    assert set(left["reasons"]) <= {"who objected to profiling", "without an order"}
    assert left["reasons"]["who objected to profiling"] > 0  # the generator has refusals


def test_every_consenting_buyer_is_clustered_once_and_traits_carry_it(clustered: Store) -> None:
    members = cluster_members(clustered).to_pandas()
    traits = clustered.execute(clustered.table("traits"))
    profiling = traits.consent_profiling.fillna(False).astype(bool)
    buyers = traits[(traits.frequency > 0) & profiling]
    assert members.customer_id.is_unique
    assert set(members.customer_id) == set(buyers.customer_id)
    assert traits[traits.frequency.fillna(0) == 0].cluster.isna().all()
    # the consent gate: buyers who did not consent to profiling are left out
    assert (~profiling & (traits.frequency > 0)).sum() > 0
    assert traits[~profiling].cluster.isna().all()
    merged = buyers.merge(members, on="customer_id", suffixes=("", "_export"))
    assert (merged.cluster == merged.cluster_export).all()
    assert (merged.cluster_name == merged.cluster_name_export).all()


def test_profiles_match_the_traits(clustered: Store) -> None:
    summary = cluster_summary(clustered)
    traits = clustered.execute(clustered.table("traits"))
    buyers = traits[(traits.frequency > 0) & traits.consent_profiling.fillna(False).astype(bool)]
    for c in summary["clusters"]:
        inside = buyers[buyers.cluster == c["cluster"]]
        assert c["size"] == len(inside)
        assert c["avg_clv"] == pytest.approx(inside.clv_12m.mean(), abs=0.01)
        assert c["revenue_share"] == pytest.approx(inside.monetary.sum() / buyers.monetary.sum(), abs=1e-4)
        assert c["distinguishing"], c
        assert all(abs(d["effect"]) >= 0.2 for d in c["distinguishing"])


def test_clusters_are_segments_in_the_snapshot(clustered: Store) -> None:
    summary = cluster_summary(clustered)
    snap = clustered.execute(clustered.table("segment_snapshots"))
    counts = snap[snap.segment.str.startswith("cluster:")].groupby("segment").size().to_dict()
    assert counts == {f"cluster:{c['name']}": c["size"] for c in summary["clusters"]}
    runs = clustered.execute(clustered.table("segment_runs"))
    assert runs[runs.segment.str.startswith("cluster:")].builtin.all()


def test_in_segment_cluster_in_rules_batch_and_real_time(clustered: Store) -> None:
    summary = cluster_summary(clustered)
    name = summary["clusters"][0]["name"]
    rule = f'in_segment("cluster:{name}") and frequency >= 3'
    add_segments(clustered, [SegmentDefinition("Regulars of cluster 0", rule)])
    traits = clustered.execute(clustered.table("traits"))
    expected = traits[(traits.cluster == 0) & (traits.frequency >= 3)]
    counts = preview(clustered, ["Regulars of cluster 0"])
    assert counts == {"Regulars of cluster 0": len(expected)}
    _, checked, _ = segment_library(clustered)
    evaluator = ProfileEvaluator(checked)
    as_of = pd.Timestamp(traits.as_of.iloc[0]).date()
    for _, row in traits.head(60).iterrows():
        state = CustomerState.of(row.customer_id, row.to_dict())
        member = evaluator.is_member("Regulars of cluster 0", state, as_of)
        assert member == (row.customer_id in set(expected.customer_id))


def test_defined_segments_cannot_take_cluster_names(clustered: Store) -> None:
    with pytest.raises(InputError, match="built-in"):
        add_segments(clustered, [SegmentDefinition("cluster:mine", "frequency > 1")])


def test_rename(clustered: Store) -> None:
    before = cluster_summary(clustered)["clusters"][1]
    result = rename_cluster(clustered, "1", "Weekend shoppers")
    assert result == {
        "cluster": 1,
        "old_name": before["name"],
        "name": "Weekend shoppers",
        "segment": "cluster:Weekend shoppers",
    }
    after = cluster_summary(clustered)["clusters"][1]
    assert after["name"] == "Weekend shoppers" and after["generated_name"] == before["generated_name"]
    t = clustered.table("traits")
    names = clustered.execute(t.filter(t.cluster == 1).cluster_name.value_counts())
    assert names.iloc[:, 0].tolist() == ["Weekend shoppers"]
    snap = clustered.execute(clustered.table("segment_snapshots"))
    assert (snap.segment == "cluster:Weekend shoppers").sum() == before["size"]
    # by current name, case-insensitively; clashes and unknown clusters are refused
    rename_cluster(clustered, "weekend SHOPPERS", "Weekenders")
    with pytest.raises(InputError, match="already called"):
        rename_cluster(clustered, "0", "weekenders")
    with pytest.raises(NotFoundError, match="no cluster"):
        rename_cluster(clustered, "17", "x")
    with pytest.raises(InputError):
        rename_cluster(clustered, "0", "bad:name")


def test_build_step_assigns_with_the_stored_model_and_keeps_names(clustered: Store) -> None:
    rename_cluster(clustered, "2", "Kept name")
    before = cluster_members(clustered).to_pandas()
    from personae.app.reads import last_data_date
    from personae.app.traits import build_traits
    from personae.config import load_settings

    s = load_settings()
    as_of = last_data_date(clustered)
    build_traits(clustered, as_of, s.traits)  # rewrites traits without clusters
    assert "cluster" not in clustered.table("traits").columns
    assert assign_clusters(clustered, as_of) == {"clusters": 6, "customers": len(before)}
    after = cluster_members(clustered).to_pandas()
    pd.testing.assert_frame_equal(before, after)
    assert "Kept name" in set(clustered.execute(clustered.table("traits")).cluster_name)


def test_rebuild_with_the_same_seed_is_reproducible(clustered: Store) -> None:
    before = cluster_members(clustered).to_pandas()
    build_clusters(clustered, k=6, seed=0, resamples=2, snapshot=False)
    after = cluster_members(clustered).to_pandas()
    pd.testing.assert_frame_equal(before, after)
    models = clustered.execute(clustered.table("cluster_models"))
    assert len(models) == 2 and models.active.sum() == 1


def test_map_image(clustered: Store, tmp_path: Any) -> None:
    out = tmp_path / "map.png"
    result = write_map(clustered, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["points"] > 100
    with pytest.raises(InputError):
        write_map(clustered, tmp_path / "map.txt")


def test_no_model_yet(store: Store) -> None:
    assert assign_clusters(store)["skipped"].startswith("no cluster model")
    with pytest.raises(NotFoundError, match="no cluster model"):
        cluster_summary(store)
