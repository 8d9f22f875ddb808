"""Clusters on real data (CDNOW orders, MovieLens ratings): k with its evidence, distinct names.

The issue this pins: on real data automatic k collapsed to 2 and two clusters were named
"Typical customers" and "Typical customers #2". Ingested exactly as test_real_data.py does;
skips cleanly where ``../shared/datasets`` is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_real_data import DATASETS, NOT_A_NUMBER, REAL_DATA, RealData

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets absent")]


#: Clustering groups people by what they do: the data sets with orders or events (the clothing
#: reviews have survey answers only, and `clusters build` refuses them in one line).
BEHAVIOUR = [d for d in REAL_DATA if any(kind in ("orders", "events") for kind, *_ in d.ingests)]


@pytest.fixture(scope="module", params=BEHAVIOUR, ids=lambda d: d.name)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[RealData, str]:
    from test_real_data import _must

    data: RealData = request.param
    db = str(tmp_path_factory.mktemp(data.name) / "real.duckdb")
    for kind, path, *options in data.ingests:
        _must("--db", db, "ingest", kind, str(DATASETS / path), *options)
    _must("--db", db, "build")
    return data, db


def _names_say_what_sets_clusters_apart(clusters: list[dict]) -> None:
    names = [c["name"] for c in clusters]
    assert len({" ".join(sorted(n.lower().replace(",", " ").split())) for n in names}) == len(names), names
    assert not any("#" in n for n in names), names
    for c in clusters:
        if any(abs(d["effect"]) >= 0.5 for d in c["distinguishing"]):
            assert "Typical customers" not in c["name"], c


def test_k_evidence_and_names_on_real_data(
    built: tuple[RealData, str], main_in_process, tmp_path: Path
) -> None:
    data, db = built
    code, out, err = main_in_process("--quiet", "--db", db, "clusters", "build", "--seed", "0", "--json")
    assert code == 0, err
    result = json.loads(out)
    selection = result["k_selection"]
    assert selection["k"] == result["k"] == len(result["clusters"])
    assert selection["rule"] in {"gap among stable", "no structure"}
    assert (
        selection["reason"].startswith(("k = ", "The gap statistic"))
        and f"k = {result['k']}" in selection["reason"]
    )
    scores = selection["scores"]
    assert [s["k"] for s in scores] == list(range(1, 11))
    assert scores[0]["silhouette"] is None and "undefined" in scores[0]["note"]  # said in words
    assert all(s["silhouette"] is not None and s["stability"] is not None for s in scores[1:])
    assert 0 < selection["scored_on"] <= 3000
    _names_say_what_sets_clusters_apart(result["clusters"])
    assert NOT_A_NUMBER.search(out) is None
    if data.name == "movielens":  # ratings only: the raters are clustered, on taste too
        assert result["population"].startswith("customers with at least one event")
        assert "taste" in result["features"]
        assert any(d["feature"] == "taste" for c in result["clusters"] for d in c["distinguishing"])
        assert any("lovers" in c["name"] for c in result["clusters"])

    code, shown, err = main_in_process("--db", db, "clusters", "show")
    assert code == 0, err
    assert "choosing k" in shown and "gap" in shown and "stability" in shown
    assert "one cluster" in shown and f"k: k = {result['k']}" in " ".join(shown.split())
    assert NOT_A_NUMBER.search(shown) is None
    code, out, err = main_in_process("--quiet", "--db", db, "clusters", "show", "--json")
    assert code == 0, err
    assert json.loads(out)["k_selection"] == selection
