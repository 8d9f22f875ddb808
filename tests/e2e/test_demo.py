"""`personae demo` end to end on a small generated shop, and the build's reproducibility."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from personae.store import DuckDBStore


def personae(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("personae")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    res = personae(d, "demo", "--customers", "600", "--seed", "7")
    assert res.returncode == 0, res.stderr
    assert "done in" in res.stdout
    return d


def test_demo_loads_everything_and_builds(demo_dir: Path) -> None:
    store = DuckDBStore.open(demo_dir / "personae.duckdb")
    try:
        for table in ("customers", "orders", "events", "surveys", "consents", "products", "stores"):
            assert store.count(table) > 0, table
        assert store.count("rejects") == 0
        assert store.count("identity_merges") > 0  # the generator plants duplicate profiles
        traits = store.execute(store.table("traits"))
    finally:
        store.close()
    assert len(traits) > 500
    buyers = traits[traits.frequency > 0]
    assert buyers.rfm_segment.notna().all()
    assert traits.lifecycle_stage.notna().all()
    # a buyer whose every order line was returned has no transaction for the CLV models
    # (clv.exclude_returned): no p_alive, by design; the generator plants a few
    kept = buyers[buyers.returns_ratio < 1]
    assert kept.p_alive.between(0, 1).all()
    assert buyers.loc[buyers.returns_ratio >= 1, "p_alive"].isna().all()
    assert set(kept.value_tier) <= {"top1", "top10", "top25", "rest"}


def test_rebuild_is_reproducible(demo_dir: Path) -> None:
    first = personae(demo_dir, "build", "--json")
    second = personae(demo_dir, "build", "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["steps"]["clv"]["result"] == b["steps"]["clv"]["result"]
    assert a["customers"] == b["customers"]


def test_customer_show_and_traits_show(demo_dir: Path) -> None:
    res = personae(demo_dir, "customers", "show", "C000001", "--json")
    assert res.returncode == 0, res.stderr
    profile = json.loads(res.stdout)
    assert profile["customer_id"] and "customer_id:" in " ".join(profile["identifiers"])
    res = personae(demo_dir, "traits", "show", profile["customer_id"], "--json")
    assert res.returncode == 0, res.stderr
    assert "affinities" in json.loads(res.stdout)


def test_demo_writes_and_names_the_report(demo_dir: Path) -> None:
    report = demo_dir / "report" / "report.html"
    assert report.stat().st_size > 10_000
    assert 'data-section="segments"' in report.read_text(encoding="utf-8")


def test_every_report_section_of_the_demo_has_content(demo_dir: Path) -> None:
    """Regression: the demo left segment migration, the cluster map and playbook impact empty
    (one build, no clusters, no activation). Now: two dated builds, clusters, one activation."""
    from personae.report.render import SECTIONS

    html = (demo_dir / "report" / "report.html").read_text(encoding="utf-8")
    shown = re.findall(r'data-section="([a-z_]+)"', html)
    assert shown == list(SECTIONS)
    parts = dict(zip(shown, re.split(r'(?=<section id="[a-z_]+" data-section=)', html)[1:], strict=True))
    empty = {k: re.findall(r'data-absent="true">([^<]*)', p) for k, p in parts.items() if "data-absent" in p}
    assert not empty, empty
    for part in parts.values():
        assert "data:image/svg+xml" in part  # every section draws a chart
    store = DuckDBStore.open(demo_dir / "personae.duckdb")
    try:
        snapshots = store.execute(store.table("segment_runs").select("as_of").distinct())
        assert len(snapshots) >= 2
        assert store.count("activations") > 0
    finally:
        store.close()
