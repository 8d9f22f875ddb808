"""Definitions in the store: versions, removal, templates, and nothing stored on a bad rule."""

from __future__ import annotations

import pytest

from personae.app.segments.library import (
    add_segments,
    current_definitions,
    definition_versions,
    install_templates,
    load_templates,
    remove_segment,
    segment_library,
)
from personae.app.segments.run import evaluate_segments, preview
from personae.errors import InputError, NotFoundError, RuleError
from personae.segments.definitions import SegmentDefinition
from personae.store import Store


def d(name: str, rule: str, description: str = "") -> SegmentDefinition:
    return SegmentDefinition(name, rule, description)


def test_add_edit_keeps_every_version(store: Store) -> None:
    assert add_segments(store, [d("vip", "monetary > 1000", "big")]) == [
        {"name": "vip", "version": 1, "action": "created"}
    ]
    assert add_segments(store, [d("vip", "monetary > 1000", "big")]) == [
        {"name": "vip", "version": 1, "action": "unchanged"}
    ]
    assert add_segments(store, [d("vip", "monetary > 2000", "bigger")]) == [
        {"name": "vip", "version": 2, "action": "updated"}
    ]
    assert current_definitions(store)["vip"].rule == "monetary > 2000"
    assert [(v["version"], v["rule"]) for v in definition_versions(store, "vip")] == [
        (1, "monetary > 1000"),
        (2, "monetary > 2000"),
    ]


def test_bad_rule_stores_nothing(store: Store) -> None:
    with pytest.raises(RuleError) as err:
        add_segments(store, [d("ok", "frequency > 1"), d("bad", "recncy_days <= 30")])
    assert err.value.position == 0 and err.value.suggestions[0] == "recency_days"
    assert "segment 'bad'" in str(err.value)
    assert store.count("segment_definitions") == 0


def test_bad_names_store_nothing(store: Store) -> None:
    for name in ("Champions", "lifecycle:vip", "a;b"):
        with pytest.raises(InputError):
            add_segments(store, [d(name, "true")])
    assert store.count("segment_definitions") == 0


def test_references_and_cycles(store: Store) -> None:
    add_segments(store, [d("a", "frequency > 1")])
    add_segments(store, [d("b", 'in_segment("a") and in_segment("Champions")')])
    with pytest.raises(RuleError, match="cycle: a → b → a"):
        add_segments(store, [d("a", 'in_segment("b")')])
    with pytest.raises(RuleError, match="cannot contain itself"):
        add_segments(store, [d("c", 'in_segment("c")')])
    with pytest.raises(RuleError, match='unknown segment "zz"'):
        add_segments(store, [d("c", 'in_segment("zz")')])
    # a batch may refer to segments defined in the same batch, in any order
    add_segments(store, [d("y", 'in_segment("x")'), d("x", "true")])
    assert set(current_definitions(store)) == {"a", "b", "x", "y"}


def test_remove_keeps_history_and_refuses_while_used(store: Store) -> None:
    add_segments(store, [d("a", "frequency > 1"), d("b", 'in_segment("a")')])
    with pytest.raises(InputError, match="used by b"):
        remove_segment(store, "a")
    with pytest.raises(InputError, match="built-in"):
        remove_segment(store, "Champions")
    with pytest.raises(NotFoundError):
        remove_segment(store, "nope")
    remove_segment(store, "b")
    remove_segment(store, "a")
    assert current_definitions(store) == {}
    assert [v["removed"] for v in definition_versions(store, "a")] == [False, True]
    add_segments(store, [d("a", "frequency > 5")])  # a name can come back: version 3
    assert current_definitions(store)["a"].version == 3


def test_templates_install_with_what_they_refer_to(store: Store) -> None:
    report = install_templates(store, ["Champions not staff"])
    assert [r["name"] for r in report] == ["staff", "Champions not staff"]
    assert install_templates(store, ["staff"]) == [{"name": "staff", "version": 1, "action": "unchanged"}]
    with pytest.raises(NotFoundError, match="did you mean 'Lakers fans'"):
        install_templates(store, ["Lakers fan"])
    install_templates(store)
    assert len(current_definitions(store)) == len(load_templates())
    _, checked, errors = segment_library(store)
    assert not errors and len(checked) > len(load_templates())


def test_build_skips_a_rule_that_no_longer_checks(built_shop: Store) -> None:
    add_segments(built_shop, [d("fine", "frequency >= 1"), d("uses fine", 'in_segment("fine")')])
    # simulate a rule stored by an older personae that the checker now refuses
    import datetime as dt

    import pyarrow as pa

    built_shop.append(
        "segment_definitions",
        pa.Table.from_pylist(
            [
                {
                    "name": "old",
                    "version": 1,
                    "rule": "retired_trait > 1",
                    "description": "",
                    "source": "cli",
                    "removed": False,
                    "created_at": dt.datetime(2024, 1, 1),
                }
            ]
        ),
    )
    summary = evaluate_segments(built_shop, __import__("datetime").date(2025, 6, 30))
    assert "old" in summary["invalid"] and "unknown trait" in summary["invalid"]["old"]
    assert preview(built_shop, ["fine", "uses fine"]) == {"fine": 3, "uses fine": 3}


def _store_raw(store: Store, name: str, rule: str, created_at: object = None) -> None:
    """A definition written by an older personae whose rule the checker now refuses."""
    import datetime as dt

    import pyarrow as pa

    store.append(
        "segment_definitions",
        pa.Table.from_pylist(
            [
                {
                    "name": name,
                    "version": 1,
                    "rule": rule,
                    "description": "",
                    "source": "cli",
                    "removed": False,
                    "created_at": created_at or dt.datetime(2024, 1, 1),
                }
            ]
        ),
    )


def test_the_current_version_is_the_highest_even_if_the_clock_went_back(store: Store) -> None:
    import datetime as dt

    _store_raw(store, "vip", "monetary > 1", created_at=dt.datetime(2099, 1, 1))  # clock was ahead
    _store_raw(store, "early", "monetary > 5", created_at=dt.datetime(2020, 1, 1))
    assert add_segments(store, [d("vip", "monetary > 2")]) == [
        {"name": "vip", "version": 2, "action": "updated"}
    ]
    current = current_definitions(store)
    assert current["vip"].rule == "monetary > 2" and current["vip"].version == 2
    assert list(current) == ["early", "vip"]  # still in order of first creation
    remove_segment(store, "vip")
    assert "vip" not in current_definitions(store)


def test_a_stored_rule_that_no_longer_checks_blocks_neither_add_nor_fix_nor_remove(store: Store) -> None:
    _store_raw(store, "old", "retired_trait > 1")
    _store_raw(store, "older", 'retired_trait > 2 or in_segment("old")')
    # an unrelated segment can still be added
    assert add_segments(store, [d("new", "frequency > 1")])[0]["action"] == "created"
    # a new rule that uses a broken segment is refused, and names it
    with pytest.raises(RuleError, match="old"):
        add_segments(store, [d("uses old", 'in_segment("old")')])
    # a broken segment can be removed once nothing uses it, even a broken one
    with pytest.raises(InputError, match="used by older"):
        remove_segment(store, "old")
    remove_segment(store, "older")
    # ... and fixed
    assert add_segments(store, [d("old", "frequency > 2")])[0]["action"] == "updated"
    assert set(current_definitions(store)) == {"old", "new"}
    assert "uses old" not in current_definitions(store)
