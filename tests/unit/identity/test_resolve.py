"""resolve(): identifiers seen together become one customer, deterministically."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.identity.resolve import Resolution, resolve


def run(pairs: list[tuple[str, str]]) -> Resolution:
    a = np.array([p[0] for p in pairs], dtype=object)
    b = np.array([p[1] for p in pairs], dtype=object)
    return resolve(a, b)


def mapping_of(res: Resolution) -> dict[str, str]:
    return dict(zip(res.mapping["identifier"], res.mapping["customer_id"], strict=True))


def merges_of(res: Resolution) -> set[tuple[str, str, str, str]]:
    return set(
        res.merges[["customer_id", "merged_customer_id", "identifiers", "rule"]].itertuples(
            index=False, name=None
        )
    )


def owner(res: Resolution, identifier: str) -> str:
    """Who an identifier resolves to (itself when the map has no entry, as the store does)."""
    m = mapping_of(res)
    if identifier in m:
        return m[identifier]
    return identifier.removeprefix("customer_id:") if identifier.startswith("customer_id:") else identifier


def test_no_links_resolves_to_nothing() -> None:
    res = run([])
    assert res.mapping.empty
    assert res.merges.empty
    assert list(res.mapping.columns) == ["identifier", "customer_id"]


def test_links_are_transitive() -> None:
    res = run(
        [
            ("customer_id:C3", "email:ann@example.com"),
            ("email:ann@example.com", "anonymous_id:dev1"),
            ("anonymous_id:dev1", "phone:+15551234567"),
            ("customer_id:C2", "phone:+15551234567"),
        ]
    )
    for ident in (
        "customer_id:C3",
        "email:ann@example.com",
        "anonymous_id:dev1",
        "phone:+15551234567",
        "customer_id:C2",
    ):
        assert owner(res, ident) == "C2"


def test_smallest_customer_id_survives_and_map_omits_self() -> None:
    res = run([("customer_id:C9", "email:x@y.com"), ("customer_id:C10", "email:x@y.com")])
    # string order: "C10" < "C9"
    assert owner(res, "customer_id:C9") == "C10"
    assert mapping_of(res) == {"customer_id:C9": "C10", "email:x@y.com": "C10"}


def test_separate_components_stay_separate() -> None:
    res = run([("customer_id:A", "email:a@x.com"), ("customer_id:B", "email:b@x.com")])
    assert owner(res, "email:a@x.com") == "A"
    assert owner(res, "email:b@x.com") == "B"
    assert res.merges.empty


def test_anonymous_only_components_are_prospects_named_by_smallest_identifier() -> None:
    res = run([("anonymous_id:zz", "device_id:d1"), ("device_id:d1", "anonymous_id:aa")])
    m = mapping_of(res)
    assert m == {"anonymous_id:zz": "anonymous_id:aa", "device_id:d1": "anonymous_id:aa"}
    assert owner(res, "anonymous_id:aa") == "anonymous_id:aa"
    assert res.merges.empty  # no customer was merged


def test_prospect_becomes_the_customer_once_linked() -> None:
    res = run([("anonymous_id:dev1", "email:ann@example.com"), ("customer_id:C1", "email:ann@example.com")])
    assert owner(res, "anonymous_id:dev1") == "C1"
    assert res.merges.empty  # one customer id only: nothing was merged


def test_merge_record_names_the_shared_identifier_and_rule() -> None:
    res = run(
        [
            ("customer_id:C2", "email:ann@example.com"),
            ("customer_id:C1", "email:ann@example.com"),
            ("customer_id:C1", "phone:+15550000001"),
        ]
    )
    assert merges_of(res) == {("C1", "C2", "email:ann@example.com", "shared email")}


def test_merge_through_two_shared_kinds_lists_both() -> None:
    res = run(
        [
            ("customer_id:C1", "email:a@x.com"),
            ("customer_id:C1", "phone:+15551234567"),
            ("customer_id:C2", "email:a@x.com"),
            ("customer_id:C2", "phone:+15551234567"),
        ]
    )
    assert merges_of(res) == {("C1", "C2", "email:a@x.com;phone:+15551234567", "shared email and phone")}


def test_chain_of_merges_records_every_merged_id_into_the_survivor() -> None:
    res = run(
        [
            ("customer_id:C1", "email:a@x.com"),
            ("customer_id:C2", "email:a@x.com"),
            ("customer_id:C2", "phone:+15551234567"),
            ("customer_id:C3", "phone:+15551234567"),
        ]
    )
    by_merged = {m[1]: m for m in merges_of(res)}
    assert set(by_merged) == {"C2", "C3"}
    assert {m[0] for m in by_merged.values()} == {"C1"}
    # C3 reached the others only through the phone
    assert by_merged["C3"][2:] == ("phone:+15551234567", "shared phone")
    # C2 is the hub: it shares the email with C1 (and the phone with C3)
    assert "email:a@x.com" in by_merged["C2"][2].split(";")
    assert "email" in by_merged["C2"][3]


def test_merge_without_a_directly_shared_identifier() -> None:
    # C2 reaches C1 only through an anonymous device that saw C1's email
    res = run(
        [
            ("customer_id:C1", "email:a@x.com"),
            ("anonymous_id:dev", "email:a@x.com"),
            ("customer_id:C2", "anonymous_id:dev"),
        ]
    )
    assert merges_of(res) == {("C1", "C2", "", "linked through other identifiers")}


def test_accepts_pandas_series_and_duplicate_links() -> None:
    a = pd.Series(["customer_id:C2", "customer_id:C2", "email:a@x.com"])
    b = pd.Series(["email:a@x.com", "email:a@x.com", "customer_id:C1"])
    res = resolve(a, b)
    assert mapping_of(res) == {"customer_id:C2": "C1", "email:a@x.com": "C1"}
    assert len(res.merges) == 1


# -- properties ------------------------------------------------------------------------------

IDENTIFIERS = (
    [f"customer_id:C{i}" for i in range(6)]
    + [f"email:e{i}@x.com" for i in range(4)]
    + [f"phone:+1555000000{i}" for i in range(3)]
    + [f"anonymous_id:a{i}" for i in range(4)]
)

links_strategy = st.lists(
    st.tuples(st.sampled_from(IDENTIFIERS), st.sampled_from(IDENTIFIERS)).filter(lambda p: p[0] != p[1]),
    min_size=1,
    max_size=25,
)


def components(pairs: list[tuple[str, str]]) -> list[set[str]]:
    """A plain union-find, as the oracle."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in pairs:
        parent[find(x)] = find(y)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return list(groups.values())


@settings(max_examples=60, deadline=None)
@given(pairs=links_strategy, data=st.data())
def test_order_and_direction_of_links_do_not_matter(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(pairs))
    flips = data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    reordered = [(b, a) if flip else (a, b) for (a, b), flip in zip(shuffled, flips, strict=True)]
    first, second = run(pairs), run(reordered)
    assert mapping_of(first) == mapping_of(second)
    assert merges_of(first) == merges_of(second)


@settings(max_examples=60, deadline=None)
@given(pairs=links_strategy)
def test_every_component_resolves_to_its_smallest_customer_id(pairs: list[tuple[str, str]]) -> None:
    res = run(pairs)
    for group in components(pairs):
        customers = sorted(i.removeprefix("customer_id:") for i in group if i.startswith("customer_id:"))
        expected = customers[0] if customers else min(group)
        assert {owner(res, i) for i in group} == {expected}
        # one merge per customer id that lost its own identity, into the survivor
        merged = {m[1] for m in merges_of(res) if m[0] == expected}
        assert merged == set(customers[1:])


_IDS = st.sampled_from(
    [f"customer_id:C{i}" for i in range(5)]
    + [f"email:e{i}@x.org" for i in range(4)]
    + [f"anonymous_id:a{i}" for i in range(4)]
    + ["phone:+15550001", "loyalty_id:L1"]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_IDS, _IDS), max_size=30))
def test_resolve_links_is_resolve_without_pandas(pairs: list[tuple[str, str]]) -> None:
    """The plain-Python resolution the service uses per group gives exactly resolve()'s
    mapping and merges (survivors, merged ids, shared identifiers, rules, order)."""
    from personae.identity.resolve import resolve_links

    mapping, merges = resolve_links([a for a, _ in pairs], [b for _, b in pairs])
    res = run(pairs)
    assert mapping == mapping_of(res)
    assert merges == list(
        res.merges[["customer_id", "merged_customer_id", "identifiers", "rule"]].itertuples(
            index=False, name=None
        )
    )
