"""The idempotency window: expired messageIds are forgotten from the front, the rest kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from personae.live.runtime import forget_before

T0 = datetime(2026, 3, 2, 10, 0, 0)


def test_forgets_exactly_the_ids_received_before_the_cut() -> None:
    seen = {f"m{i}": T0 + timedelta(hours=i) for i in range(10)}
    forget_before(seen, T0 + timedelta(hours=4))
    assert list(seen) == [f"m{i}" for i in range(4, 10)]
    forget_before(seen, T0)  # nothing older: nothing goes
    assert len(seen) == 6
    forget_before(seen, T0 + timedelta(days=1))
    assert seen == {}
