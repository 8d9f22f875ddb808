"""``service.build_schedule``: cron expressions (UTC) and ``@every``, and one-line errors."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from personae.errors import InputError
from personae.live.schedule import Schedule


@pytest.mark.parametrize(
    ("text", "now", "due"),
    [
        ("0 3 * * *", datetime(2025, 6, 1, 2, 59, 30), datetime(2025, 6, 1, 3, 0)),
        ("0 3 * * *", datetime(2025, 6, 1, 3, 0), datetime(2025, 6, 2, 3, 0)),  # strictly after
        ("@daily", datetime(2025, 12, 31, 23, 0), datetime(2026, 1, 1, 0, 0)),
        ("@hourly", datetime(2025, 6, 1, 10, 15), datetime(2025, 6, 1, 11, 0)),
        ("@weekly", datetime(2025, 6, 4, 12, 0), datetime(2025, 6, 8, 0, 0)),  # Sunday
        ("@monthly", datetime(2025, 2, 14, 0, 0), datetime(2025, 3, 1, 0, 0)),
        ("30 2 * * 7", datetime(2025, 6, 1, 3, 0), datetime(2025, 6, 8, 2, 30)),  # 7 = Sunday too
        ("0 0 29 2 *", datetime(2025, 3, 1), datetime(2028, 2, 29)),  # the next leap day
        ("0,30 */6 * * *", datetime(2025, 6, 1, 6, 10), datetime(2025, 6, 1, 6, 30)),
        ("15 4 1-3 */2 *", datetime(2025, 2, 10), datetime(2025, 3, 1, 4, 15)),
        # both day fields restricted: either one (cron's rule): the 13th, or a Friday
        ("0 0 13 * 5", datetime(2025, 6, 1), datetime(2025, 6, 6)),
    ],
)
def test_next_due_time(text: str, now: datetime, due: datetime) -> None:
    assert Schedule.parse(text).next_after(now) == due


def test_every_counts_from_the_start() -> None:
    s = Schedule.parse("@every 1h30m")
    start = datetime(2025, 6, 1, 0, 0)
    assert s.every == timedelta(hours=1, minutes=30)
    assert s.next_after(start, start) == datetime(2025, 6, 1, 1, 30)
    assert s.next_after(datetime(2025, 6, 1, 4, 0), start) == datetime(2025, 6, 1, 4, 30)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0 3 * *", "expected 5 fields"),
        ("0 25 * * *", "the hour field '25' is outside 0-23"),
        ("x 3 * * *", "cannot read the minute field 'x'"),
        ("*/0 * * * *", "the minute field '*/0'"),
        ("@every soon", "cannot read the duration"),
        ("0 0 31 2 *", "is never due"),
    ],
)
def test_a_bad_schedule_is_one_line_with_a_hint(text: str, says: str) -> None:
    with pytest.raises(InputError) as err:
        Schedule.parse(text).next_after(datetime(2025, 1, 1))
    line = str(err.value)
    assert says in line and "\n" not in line and line.endswith("'@every 6h')")
