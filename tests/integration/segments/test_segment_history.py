"""Snapshots, entries and exits across builds; members, overlap and migration reports."""

from __future__ import annotations

import html
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from personae.app.segments import reports
from personae.app.segments.library import install_templates
from personae.errors import InputError, NotFoundError
from personae.store import DuckDBStore, Store

JUNE, JULY = date(2025, 6, 30), date(2025, 7, 5)


def members_at(store: Store, name: str, day: date) -> set[str]:
    return set(reports.members(store, name, day)[1].column("customer_id").to_pylist())


def changes(store: Store, name: str) -> set[tuple[str, str, str, str]]:
    return {
        (c["customer_id"], c["change"], c["as_of"], c["previous_as_of"]) for c in reports.changes(store, name)
    }


def rfm(store: Store) -> dict[str, str | None]:
    t = store.execute(store.table("traits").select("customer_id", "rfm_segment"))
    return {
        r.customer_id: (r.rfm_segment if isinstance(r.rfm_segment, str) else None) for r in t.itertuples()
    }


@pytest.fixture(scope="module")
def _two_builds_file(
    _shop_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, build_shop_once
) -> tuple[Path, dict[str, str | None], dict[str, str | None]]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("two") / "two.duckdb"
    shutil.copy(_shop_files[0], path)
    with DuckDBStore.open(path) as store:
        install_templates(store, ["Cart abandoners", "Web-only shoppers", "Recent repeat buyers"])
        first = build_shop_once(store, JUNE)
        assert first["entered"] == first["exited"] == 0  # the first snapshot is the baseline
        june = rfm(store)
        second = build_shop_once(store, JULY)
        assert second["entered"] > 0 and second["exited"] > 0
        july = rfm(store)
    return path, june, july


@pytest.fixture
def two_builds(
    _two_builds_file, tmp_path: Path
) -> Iterator[tuple[Store, dict[str, str | None], dict[str, str | None]]]:  # type: ignore[no-untyped-def]
    """The shop built as of 30 June, then as of 5 July (a fresh copy per test)."""
    path, june, july = _two_builds_file
    copy = tmp_path / "two.duckdb"
    shutil.copy(path, copy)
    store = DuckDBStore.open(copy)
    try:
        yield store, june, july
    finally:
        store.close()


def test_snapshots_are_dated(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    assert reports.snapshot_dates(store) == [JUNE, JULY]
    assert reports.latest_as_of(store) == JULY
    assert members_at(store, "Cart abandoners", JUNE) == {"D"}
    assert members_at(store, "Cart abandoners", JULY) == {"F"}  # F's cart of 2 July now counts; D's is old
    assert members_at(store, "Web-only shoppers", JUNE) == {"A", "B"}
    assert members_at(store, "Web-only shoppers", JULY) == {"B"}  # A bought in store on 3 July
    assert reports.members(store, "Web-only shoppers")[0] == JULY  # default: the latest build


def test_entries_and_exits_are_recorded_with_their_dates(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    assert changes(store, "Cart abandoners") == {
        ("F", "entered", "2025-07-05", "2025-06-30"),
        ("D", "exited", "2025-07-05", "2025-06-30"),
    }
    assert changes(store, "Web-only shoppers") == {("A", "exited", "2025-07-05", "2025-06-30")}
    detail = reports.detail(store, "Cart abandoners")
    assert [(h["as_of"], h["members"], h["entered"], h["exited"]) for h in detail["history"]] == [
        ("2025-06-30", 1, 0, 0),
        ("2025-07-05", 1, 1, 1),
    ]


def test_rebuilding_a_date_replaces_its_snapshot(two_builds, build_shop) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    before = store.count("segment_snapshots"), store.count("segment_runs"), store.count("segment_changes")
    build_shop(store, JULY)
    assert (
        store.count("segment_snapshots"),
        store.count("segment_runs"),
        store.count("segment_changes"),
    ) == before


def test_builds_out_of_order_recompute_the_later_changes(shop: Store, build_shop) -> None:  # type: ignore[no-untyped-def]
    install_templates(shop, ["Cart abandoners"])
    build_shop(shop, JULY)
    assert changes(shop, "Cart abandoners") == set()
    build_shop(shop, JUNE)  # an earlier snapshot arrives later: July is now compared with it
    assert changes(shop, "Cart abandoners") == {
        ("F", "entered", "2025-07-05", "2025-06-30"),
        ("D", "exited", "2025-07-05", "2025-06-30"),
    }
    assert reports.latest_as_of(shop) == JUNE  # "now" is the latest build


def test_rfm_migration_matches_the_traits_of_both_dates(two_builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, june, july = two_builds
    report = reports.migration(store, JUNE, JULY, "rfm")
    expected = Counter(
        (june.get(c) or "(none)", july.get(c) or "(none)")
        for c in set(june) | set(july)
        if june.get(c) or july.get(c)
    )
    assert {(f["from"], f["to"]): f["customers"] for f in report["flows"]} == dict(expected)
    assert report["stayed"] + report["moved"] == sum(expected.values())
    for f in report["flows"]:
        assert 0 < f["share_of_from"] <= 1
    plot = tmp_path / "rfm.png"
    reports.migration_chart(report).save(str(plot))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the flow diagram: a node per segment of each date, labelled with its customers
    svg = tmp_path / "rfm.svg"
    reports.migration_chart(report).save(str(svg))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text())
    starts, ends = Counter[str](), Counter[str]()
    for (a, b), n in expected.items():
        starts[a] += n
        ends[b] += n
    assert {f"{s} ({n:,})" for s, n in [*starts.items(), *ends.items()]} <= {html.unescape(t) for t in texts}


def test_lifecycle_and_named_migration(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    life = reports.migration(store, JUNE, JULY, "lifecycle")
    assert sum(f["customers"] for f in life["flows"]) == 6  # every customer has a stage
    named = reports.migration(store, JUNE, JULY, "Web-only shoppers,Cart abandoners")
    flows = {(f["from"], f["to"]): f["customers"] for f in named["flows"]}
    # A: web-only → none; B stays web-only; D: cart → none; F: none → cart
    assert flows == {
        ("Web-only shoppers", "(none)"): 1,
        ("Web-only shoppers", "Web-only shoppers"): 1,
        ("Cart abandoners", "(none)"): 1,
        ("(none)", "Cart abandoners"): 1,
    }


def test_migration_errors(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    with pytest.raises(NotFoundError, match="no segment snapshot as of 2025-01-01"):
        reports.migration(store, date(2025, 1, 1), JULY)
    with pytest.raises(InputError, match="must be before"):
        reports.migration(store, JULY, JUNE)
    with pytest.raises(NotFoundError, match="no segment named 'Champs'"):
        reports.migration(store, JUNE, JULY, "Champs")


def test_overlap_counts_and_jaccard(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    data = reports.overlap(store, ["Web-only shoppers", "Recent repeat buyers", "lifecycle:prospect"], JUNE)
    assert data["as_of"] == "2025-06-30"
    assert {s["name"]: s["members"] for s in data["segments"]} == {
        "Web-only shoppers": 2,
        "Recent repeat buyers": 1,
        "lifecycle:prospect": 3,
    }
    assert data["matrix"]["Web-only shoppers"]["Recent repeat buyers"] == 1  # A
    assert data["matrix"]["Recent repeat buyers"]["Web-only shoppers"] == 1
    pair = next(p for p in data["pairs"] if {p["a"], p["b"]} == {"Web-only shoppers", "Recent repeat buyers"})
    assert pair["shared"] == 1 and pair["jaccard"] == 0.5
    zero = next(p for p in data["pairs"] if {p["a"], p["b"]} == {"Web-only shoppers", "lifecycle:prospect"})
    assert zero["shared"] == 0 and zero["jaccard"] == 0.0
    everything = reports.overlap(store)
    assert (
        "Cart abandoners" in everything["matrix"] and "value:top1" not in everything["matrix"]
    )  # no members


def test_member_and_segment_errors(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    with pytest.raises(NotFoundError, match="did you mean 'Cart abandoners'"):
        reports.members(store, "Cart abandoner")
    with pytest.raises(NotFoundError, match="no segment snapshot as of 2024-01-01"):
        reports.members(store, "Cart abandoners", date(2024, 1, 1))
    install_templates(store, ["Lakers fans"])
    with pytest.raises(NotFoundError, match="was not evaluated"):
        reports.members(store, "Lakers fans")


def test_overview_lists_builtins_and_defined_with_members(two_builds) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = two_builds
    rows = {r["name"]: r for r in reports.overview(store)}
    assert rows["Cart abandoners"]["members"] == 1 and rows["Cart abandoners"]["version"] == 1
    assert rows["value:top1"]["builtin"] and rows["value:top1"]["members"] == 0
    assert rows["lifecycle:prospect"]["members"] == 3
    assert all(r["as_of"] == "2025-07-05" for r in rows.values())
