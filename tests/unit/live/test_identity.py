"""Incremental stitching gives exactly what a full re-resolution gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from personae.identity.resolve import resolve
from personae.live.identity import IdentityIndex

IDS = st.sampled_from(
    [f"customer_id:C{i}" for i in range(5)]
    + [f"email:e{i}" for i in range(4)]
    + [f"anonymous_id:a{i}" for i in range(5)]
)
LINKS = st.lists(st.tuples(IDS, IDS).filter(lambda p: p[0] != p[1]), max_size=25)


def _full(links: list[tuple[str, str]]) -> dict[str, str]:
    if not links:
        return {}
    r = resolve([a for a, _ in links], [b for _, b in links])
    return dict(zip(r.mapping["identifier"], r.mapping["customer_id"], strict=True))


@settings(max_examples=150, deadline=None)
@given(LINKS, LINKS)
def test_incremental_equals_full_resolution(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    index = IdentityIndex(first, _full(first))
    index.link(second)
    expected = _full(first + second)
    every = {i for pair in first + second for i in pair}
    for ident in every:
        want = expected.get(ident) or (ident.removeprefix("customer_id:"))
        assert index.resolved(ident) == want, ident


def test_link_reports_moves_and_merges() -> None:
    index = IdentityIndex()
    out = index.link([("anonymous_id:a1", "email:x")])
    assert index.resolved("anonymous_id:a1") == "anonymous_id:a1"  # a prospect: smallest identifier
    out = index.link([("customer_id:C2", "email:x")])
    assert index.resolved("anonymous_id:a1") == "C2"
    assert out.moved["anonymous_id:a1"] == ("anonymous_id:a1", "C2")
    out = index.link([("customer_id:C1", "email:x")])
    assert index.resolved("customer_id:C2") == "C1"  # smallest customer id survives
    assert out.merges is not None and list(out.merges["merged_customer_id"]) == ["C2"]
    assert index.link([("customer_id:C1", "email:x")]).new_edges == []  # known link: nothing to do


@settings(max_examples=150, deadline=None)
@given(LINKS, st.lists(LINKS, min_size=1, max_size=4))
def test_changed_rows_applied_to_the_stored_map_give_the_full_map(
    first: list[tuple[str, str]], groups: list[list[tuple[str, str]]]
) -> None:
    """The service writes only the map rows a group changed (delete ``identifiers``, insert
    ``mapping``); applied group after group, the stored map is the full re-resolution's."""
    stored = _full(first)
    index = IdentityIndex(first, dict(stored))
    seen = list(first)
    for links in groups:
        out = index.link(links)
        assert not set(out.identifiers) - set(stored)  # only stored rows are deleted
        for ident in out.identifiers:
            del stored[ident]
        for ident, cid in out.mapping:
            assert ident not in stored  # no row is inserted twice
            stored[ident] = cid
        seen += links
        assert stored == _full(seen)


def test_unchanged_rows_are_not_rewritten() -> None:
    index = IdentityIndex()
    index.link([("customer_id:C1", "email:x")])
    out = index.link([("customer_id:C1", "anonymous_id:a9")])  # a new device for C1
    # C1's own rows are as before: only the new device's row is written, nothing deleted
    assert out.identifiers == []
    assert out.mapping == [("anonymous_id:a9", "C1")]
