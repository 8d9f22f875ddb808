"""Coverage: who an output used, and why the others were left out (the one spelling every shell prints)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from personae.coverage import Coverage


@given(
    st.integers(0, 10**6),
    st.dictionaries(st.text(min_size=1, max_size=20), st.integers(0, 1000), max_size=4),
)
def test_counts_add_up_and_round_trip(total: int, reasons: dict[str, int]) -> None:
    c = Coverage.of(total + sum(reasons.values()), reasons)
    assert c.used + c.left_out == c.total
    assert all(n > 0 for n in c.reasons.values())
    assert Coverage.from_json(c.as_json()) == c
    assert (c.sentence() is None) == (c.left_out == 0)


def test_sentence_names_each_reason_with_its_count() -> None:
    c = Coverage.of(100, {"without an answer": 70, "who objected to analytics": 5, "nothing": 0})
    assert c.sentence() == (
        "25 of 100 customers used; left out 75: 70 without an answer, 5 who objected to analytics"
    )
    assert "nothing" not in c.as_json()["reasons"]
    assert (
        Coverage.of(3, {"without text": 1}, unit="texts").sentence()
        == "2 of 3 texts used; left out 1 without text"
    )
