"""Property tests: the funnel expression equals a plain-Python reading of the definition, and
its invariants hold (non-increasing counts, strict ≤ loose, a longer window never counts less)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personae.journeys.funnel import FunnelSpec, counts, progress

from .conftest import touches

STEPS_POOL = ("view", "cart", "order", "other")
rows = st.lists(
    st.tuples(st.sampled_from("ABCD"), st.integers(0, 60), st.sampled_from(STEPS_POOL)), max_size=25
)
specs = st.tuples(
    st.lists(st.sampled_from(("view", "cart", "order")), min_size=2, max_size=3),
    st.sampled_from([None, 5, 20]),
)


def reference(
    stream: list[tuple[str, int, str]], steps: list[str], within: int | None, strict: bool
) -> list[int]:
    """Customers reaching each step, straight from the definition in journeys/funnel.py."""
    reached = [0] * len(steps)
    for cust in {r[0] for r in stream}:
        mine = [(h, 1 if s == "order" else 0, s) for c, h, s in stream if c == cust]
        if not strict:
            mine = [m for m in mine if m[2] in steps]
        mine.sort()
        best = 0
        for i, (h0, _, s0) in enumerate(mine):
            if s0 != steps[0]:
                continue
            level, pos = 1, i
            for step in steps[1:]:
                nxt = None
                for j in range(pos + 1, len(mine) if not strict else min(pos + 2, len(mine))):
                    if mine[j][2] == step and (within is None or mine[j][0] - h0 <= within):
                        nxt = j
                        break
                if nxt is None:
                    break
                level, pos = level + 1, nxt
            best = max(best, level)
        for k in range(best):
            reached[k] += 1
    return reached


def _counts(run, stream, steps, within, order):  # type: ignore[no-untyped-def]
    spec = FunnelSpec(tuple(steps), None if within is None else timedelta(hours=within), order)
    row = run(counts(progress(touches(stream), spec), len(steps)))[0]
    return [int(row[f"reached{k}"]) for k in range(1, len(steps) + 1)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=rows, spec=specs)
def test_matches_the_definition_and_invariants(run, stream, spec) -> None:  # type: ignore[no-untyped-def]
    steps, within = spec
    loose = _counts(run, stream, steps, within, "loose")
    strict = _counts(run, stream, steps, within, "strict")
    assert loose == reference(stream, steps, within, strict=False)
    assert strict == reference(stream, steps, within, strict=True)
    assert all(a >= b for a, b in pairwise(loose))  # non-increasing
    assert all(s <= lo for s, lo in zip(strict, loose, strict=True))  # strict never counts more
    unlimited = _counts(run, stream, steps, None, "loose")
    assert all(u >= w for u, w in zip(unlimited, loose, strict=True))  # a longer window never less
