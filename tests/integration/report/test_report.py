"""``write_report`` on a real store built from the synthetic generator (small): every section
present with a takeaway, nothing fetched from the network, consent respected, and a shop without
surveys still gets a report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from personae.app import actions, charts
from personae.app import journeys as journey_analytics
from personae.app.build import run_build
from personae.app.clusters import build_clusters
from personae.app.demo import INGEST_ORDER
from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.app.report import SECTIONS, gather
from personae.config import Settings, load_settings
from personae.devtools.generate import generate_dataset
from personae.report import write_report
from personae.store import DuckDBStore, Store


class ReportParser(HTMLParser):
    """Sections (by ``data-section``), their takeaways, and every URL the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[dict[str, Any]]] = {}
        self.loads: list[str] = []  # src/href of scripts, styles, images, links to stylesheets
        self.images: list[str] = []
        self._section: str | None = None
        self._takeaway: dict[str, Any] | None = None
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self._section = a["data-section"]
            self.sections[str(self._section)] = []
        if tag == "p" and "takeaway" in (a.get("class") or "").split() and self._section:
            self._takeaway = {"text": "", "absent": a.get("data-absent") == "true"}
            self.sections[self._section].append(self._takeaway)
        if tag in ("script", "img", "link", "iframe", "source", "embed", "object"):
            for key in ("src", "href", "data"):
                if a.get(key):
                    self.loads.append(str(a[key]))
        if tag == "img":
            self.images.append(str(a.get("src")))
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._takeaway = None
        if tag == "section":
            self._section = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._takeaway is not None:
            self._takeaway["text"] += data
        if self._in_style:
            self.style += data


def parse(path: Path) -> ReportParser:
    p = ReportParser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def load(store: Store, files: dict[str, Path], skip: tuple[str, ...] = ()) -> None:
    for kind in INGEST_ORDER:
        if kind not in skip:
            ingest_file(store, kind, files[kind])


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> Iterator[tuple[Store, dict[str, Any]]]:
    """Two snapshots (60 days apart), a playbook activated at the first, a cluster model, a report."""
    root = tmp_path_factory.mktemp("report")
    files = generate_dataset(250, 11, root / "data")
    store = DuckDBStore.open(root / "shop.duckdb")
    load(store, files)
    last = last_data_date(store)
    run_build(store, as_of=last - timedelta(days=60), settings=settings, quiet=True)
    actions.activate(store, settings.personalize, "abandoned_cart", root / "audience.csv")
    build_clusters(store, seed=0, k=3)
    run_build(store, settings=settings, quiet=True)
    result = write_report(store, root / "out", settings)
    try:
        yield store, result
    finally:
        store.close()


def test_every_section_is_present_with_a_takeaway(shop: tuple[Store, dict[str, Any]]) -> None:
    _, result = shop
    page = parse(Path(result["report"]))
    assert list(page.sections) == [key for key, _ in SECTIONS]
    for key, takeaways in page.sections.items():
        assert takeaways, key
        for t in takeaways:
            assert len(t["text"].strip()) > 10, (key, t)
    # this shop has every input: no section (and no part of one) says it has no data
    absent = {k: [t["text"] for t in ts if t["absent"]] for k, ts in page.sections.items()}
    assert not any(absent.values()), absent
    assert [s["key"] for s in result["sections"]] == list(page.sections)


def test_the_file_loads_nothing_from_the_network(shop: tuple[Store, dict[str, Any]]) -> None:
    _, result = shop
    path = Path(result["report"])
    page = parse(path)
    assert page.images and all(src.startswith("data:image/svg+xml;base64,") for src in page.images)
    assert not [u for u in page.loads if not u.startswith("data:")]
    assert "<script" not in path.read_text(encoding="utf-8")
    assert not re.search(r"url\(|@import", page.style)
    # one image per takeaway that is not an "absent" line
    shown = sum(1 for ts in page.sections.values() for t in ts if not t["absent"])
    assert len(page.images) == shown


def test_counts_only_customers_who_consent_to_analytics(
    shop: tuple[Store, dict[str, Any]], settings: Settings
) -> None:
    store, _ = shop
    t = store.execute(store.table("traits").select("consent_analytics", "rfm_segment", "monetary"))
    consenting = t[t["consent_analytics"].fillna(False).astype(bool) & t["rfm_segment"].notna()]
    assert len(consenting) < len(t[t["rfm_segment"].notna()])  # the generator has refusals
    (seg,) = gather(store, settings, only=["segments"])
    assert sum(r["customers"] for r in seg.data["rows"]) == len(consenting)
    assert sum(r["revenue"] for r in seg.data["rows"]) == pytest.approx(consenting["monetary"].sum())
    top = max(seg.data["rows"], key=lambda r: r["revenue"])
    share = top["customers"] / len(consenting)
    assert f"{top['segment']} are {100 * share:.0f}% of customers" in _takeaways(shop, "segments")[0]


def test_migration_is_between_the_two_snapshots(
    shop: tuple[Store, dict[str, Any]], settings: Settings
) -> None:
    store, _ = shop
    (mig,) = gather(store, settings, only=["migration"])
    last = last_data_date(store)
    assert (mig.data["from"], mig.data["to"]) == ((last - timedelta(days=60)).isoformat(), last.isoformat())
    assert mig.data["stayed"] + mig.data["moved"] == sum(f["customers"] for f in mig.data["flows"])
    assert f"from {mig.data['from']} to {mig.data['to']}" in _takeaways(shop, "migration")[0]


def test_regions_and_stores_join(shop: tuple[Store, dict[str, Any]], settings: Settings) -> None:
    store, _ = shop
    (reg,) = gather(store, settings, only=["regions"])
    stores = reg.data["stores"]
    assert len(stores) == store.count("stores")
    o = store.execute(store.resolved("orders").select("store_id", "amount", "returned"))
    o = o[o["store_id"].notna() & ~o["returned"].fillna(False).astype(bool)]
    expected = o.groupby("store_id")["amount"].sum()
    for s in stores:
        assert s["sales"] == pytest.approx(float(expected.get(s["store_id"], 0.0)))
        if s["floor_area_sqm"]:
            assert s["sales_per_sqm"] == pytest.approx(s["sales"] / s["floor_area_sqm"])


def test_the_journey_section_draws_the_funnel_and_the_paths_to_a_first_order(
    shop: tuple[Store, dict[str, Any]], settings: Settings
) -> None:
    store, result = shop
    page = parse(Path(result["report"]))
    shown = page.sections["journeys"]
    assert len(shown) == 2 and not any(t["absent"] for t in shown)
    funnel_text, paths_text = _takeaways(shop, "journeys")
    (j,) = gather(store, settings, only=["journeys"])
    funnel, paths = j.data["funnel"], j.data["paths"]
    assert funnel["funnel"] == list(journey_analytics.PURCHASE_FUNNEL) and funnel["within_hours"] == 168
    first, last = funnel["steps"][0]["customers"], funnel["steps"][-1]["customers"]
    assert 0 < last <= first
    assert f"{100 * last / first:.0f}% reach order" in funnel_text
    # the paths count every consenting customer with a touch; "reached" = made an order by the as-of
    traits = store.execute(store.table("traits").select("customer_id", "consent_analytics", "as_of"))
    consenting = set(traits.loc[traits["consent_analytics"].fillna(False).astype(bool), "customer_id"])
    end = pd.Timestamp(traits["as_of"].max()) + pd.Timedelta(days=1)
    orders = store.execute(store.resolved("orders").select("customer_id", "ordered_at"))
    buyers = set(orders.loc[orders["ordered_at"] < end, "customer_id"]) & consenting
    assert paths["outcome"] == "order" and paths["reached"] == len(buyers)
    assert paths["customers"] <= len(consenting)
    assert f"{paths['customers']:,} customers" in paths_text and "made a first order" in paths_text
    top = paths["paths"][0]
    assert top["path"] in paths_text or top["path"] == "(no touches)"
    # the Sankey is the journeys package's flow chart (reused, not redrawn): a band layer and node labels
    spec = charts.journey_paths(paths).chart.to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "rect", "text"]


def _takeaways(shop: tuple[Store, dict[str, Any]], key: str) -> list[str]:
    _, result = shop
    return next(s["takeaways"] for s in result["sections"] if s["key"] == key)


def test_a_shop_without_surveys_still_gets_a_report(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> None:
    root = tmp_path_factory.mktemp("report_nosurveys")
    files = generate_dataset(120, 4, root / "data")
    with DuckDBStore.open(root / "shop.duckdb") as store:
        load(store, files, skip=("surveys",))
        run_build(store, settings=settings, quiet=True)
        result = write_report(store, root / "out", settings)
    page = parse(Path(result["report"]))
    assert list(page.sections) == [key for key, _ in SECTIONS]
    assert all(ts and all(t["text"].strip() for t in ts) for ts in page.sections.values())
    experience = page.sections["experience"]
    assert experience[0]["absent"] and "No survey answers" in experience[0]["text"]
    for key in ("migration", "clusters", "impact"):  # one snapshot, no model, nothing activated
        assert page.sections[key][0]["absent"], key
    assert not page.sections["segments"][0]["absent"]


def test_the_clv_section_says_the_fitted_model_in_words(shop: tuple[Store, dict[str, Any]]) -> None:
    """The lifetime-value parameters read as meanings (buys every ~N days, ~P% chance of leaving
    after a purchase), not as raw optimizer output."""
    store, result = shop
    (clv,) = [s for s in result["sections"] if s["key"] == "clv"]
    said = [t for t in clv["takeaways"] if "The fitted model: " in t]
    assert len(said) == 1
    assert "purchase rate: r " in said[0] and "a typical customer buys every ~" in said[0]
    params = store.rows(store.table("clv_params"))[0]
    assert f"α {params['alpha']:.2f}" in said[0] or f"α {params['alpha']:,.0f}" in said[0]
    assert str(params["alpha"]) not in said[0]
