"""Incremental stitching gives exactly what a full re-resolution gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from personae.identity.resolve import resolve
from personae.service.identity import IdentityIndex

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
