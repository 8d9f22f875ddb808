"""Occasion traits: age, days until the birthday and the join anniversary, holiday spending.

Birthdays on 29 February are celebrated on 28 February in non-leap years. Holiday periods and
the day of joining are read on the shop's calendar (the ``timezone`` setting).
"""

from __future__ import annotations

import ibis

from personae.config.traits import HolidayPeriod
from personae.traits.inputs import TraitInputs


def _month_day(s: str) -> int:
    month, day = (int(p) for p in s.split("-"))
    return month * 100 + day


def in_holiday(ts: ibis.Value, periods: list[HolidayPeriod]) -> ibis.Value:
    """True when ``ts`` falls in one of the yearly periods (inclusive; may wrap the year end)."""
    md = ts.month() * 100 + ts.day()
    hit: ibis.Value = ibis.literal(False)
    for p in periods:
        a, b = _month_day(p.start), _month_day(p.end)
        inside = (md >= a) & (md <= b) if a <= b else (md >= a) | (md <= b)
        hit = hit | inside
    return hit


def order_aggregates(o: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    return {"holiday_spend": o.net_amount.sum(where=in_holiday(o.local_at, inputs.settings.holidays))}


def days_until_anniversary(d: ibis.Value, inputs: TraitInputs) -> ibis.Value:
    """Days from ``as_of`` to the next recurrence of the month/day of date ``d`` (0 = today)."""
    as_of = inputs.as_of_date
    year = inputs.as_of.year
    month, day = d.month(), d.day()

    def on(y: int) -> ibis.Value:
        fixed_day = day if _year_is_leap(y) else ibis.ifelse((month == 2) & (day == 29), 28, day)
        return ibis.date(y, month, fixed_day)

    this_year, next_year = on(year), on(year + 1)
    nxt = ibis.ifelse(this_year >= as_of, this_year, next_year)
    return ibis.ifelse(d.isnull(), None, nxt.delta(as_of, unit="day"))


def _year_is_leap(y: int) -> bool:
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    as_of = inputs.as_of_date
    birth = t.birth_date
    as_of_md = inputs.as_of.month * 100 + inputs.as_of.day
    had_birthday = (birth.month() * 100 + birth.day()) <= as_of_md
    age = inputs.as_of.year - birth.year() - ibis.ifelse(had_birthday, 0, 1)  # completed years
    # without a birth date, the approximate birth year an age column gave (±1 year)
    approximate = (inputs.as_of.year - t.birth_year).cast("int64")
    from_year = ibis.ifelse(t.birth_year.isnull() | (t.birth_year > inputs.as_of.year), None, approximate)
    joined = inputs.local(ibis.coalesce(t.created_at, t.first_order_at)).date()
    return {
        "age": ibis.ifelse(birth.isnull() | (birth > as_of), from_year, age),
        "days_until_birthday": days_until_anniversary(birth, inputs),
        "days_until_join_anniversary": days_until_anniversary(joined, inputs),
        "holiday_spend_share": ibis.ifelse(t.monetary > 0, t.holiday_spend.fill_null(0.0) / t.monetary, None),
    }
