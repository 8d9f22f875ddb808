"""Per-customer BTYD summaries (frequency, recency, T, monetary value) as Ibis expressions.

The "buy till you die" models (:class:`~personae.clv.bgnbd.BetaGeoModel`,
:class:`~personae.clv.gamma_gamma.GammaGammaModel`) do not look at raw order lines but at
four sufficient statistics per customer, computed exactly as ``lifetimes`` and
``pymc-marketing`` do:

* all records of one customer on one calendar day are **one** transaction (amounts summed);
* records after ``observation_end`` (the *last day included*) are ignored;
* ``frequency`` = number of *repeat* transactions = distinct purchase days − 1;
* ``recency`` = time from the first to the last transaction (0 when ``frequency`` is 0);
* ``T`` = time from the first transaction to ``observation_end`` (0 for a customer whose
  first purchase is on ``observation_end``);
* ``monetary_value`` = mean value of the repeat transactions (the first transaction is
  excluded), 0 when ``frequency`` is 0.

Time is measured in days (``time_unit="D"``) or in *fractional* weeks (``"W"``, days / 7),
which is what Fader, Hardie & Lee (2005) use for CDNOW: a customer whose first purchase
was on 1997-01-01 has ``T = 272 / 7 = 38.86`` weeks at the end of 1997-09-30.
``lifetimes``' ``freq="W"`` instead converts dates to weekly *periods* and counts whole
periods, so its weekly ``recency`` and ``T`` are integers and differ slightly from ours;
compute in days with ``lifetimes`` and divide by 7 to match.

The functions here only *build* expressions (they run on DuckDB today and on PySpark
later, with no SQL strings); the storage layer executes them.
:func:`btyd_summary_reference` is a plain pandas implementation that the tests use as the
oracle.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from personae.errors import InputError, MissingColumnsError

TimeUnit = Literal["D", "W"]

#: days per unit of time for each supported ``time_unit``
DAYS_PER_UNIT: dict[str, float] = {"D": 1.0, "W": 7.0}

SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value")
HOLDOUT_COLUMNS = (
    "customer_id",
    "frequency_holdout",
    "value_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)


def days_per_unit(time_unit: str) -> float:
    """Return the number of days in one ``time_unit`` ("D" or "W").

    >>> days_per_unit("W")
    7.0
    """
    try:
        return DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise InputError(f"unknown time_unit {time_unit!r}", hint="use 'D' (days) or 'W' (weeks)") from None


def as_date(value: dt.date | dt.datetime | str | pd.Timestamp) -> dt.date:
    """Return the calendar day of a date, datetime, ``pandas.Timestamp`` or ISO string.

    >>> as_date("1997-09-30")
    datetime.date(1997, 9, 30)
    """
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except ValueError as exc:
            raise InputError(f"cannot read {value!r} as a date", hint="use YYYY-MM-DD") from exc
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"expected a date, got {type(value).__name__}: {value!r}")


def _daily_transactions(
    transactions: ir.Table,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    first_day: dt.date | None,
    last_day: dt.date,
) -> ir.Table:
    """One row per (customer, calendar day) in ``[first_day, last_day]``, amounts summed."""
    missing = [c for c in (customer_col, date_col, amount_col) if c not in transactions.columns]
    if missing:
        raise MissingColumnsError("transactions", missing, list(transactions.columns))
    if not transactions[date_col].type().is_temporal():
        raise InputError(
            f"column {date_col!r} has type {transactions[date_col].type()}, not a date/timestamp",
            hint="cast it to a date or timestamp before summarising",
        )
    day = transactions[date_col].cast("date")
    keep = (day <= ibis.literal(last_day)) & transactions[customer_col].notnull() & day.notnull()
    if first_day is not None:
        keep &= day >= ibis.literal(first_day)
    lines = transactions.filter(keep).select(
        customer_id=transactions[customer_col],
        day=day,
        amount=transactions[amount_col].cast("float64"),
    )
    return lines.group_by(["customer_id", "day"]).aggregate(amount=lines.amount.sum())


def btyd_summary(
    transactions: ir.Table,
    observation_end: dt.date | dt.datetime,
    time_unit: TimeUnit = "D",
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
    calibration_start: dt.date | dt.datetime | None = None,
) -> ir.Table:
    """Build the per-customer BTYD summary of a table of order lines.

    Args:
        transactions: one row per order line (several may share a customer and a day).
        observation_end: the last calendar day included; later rows are ignored.
        time_unit: ``"D"`` for days, ``"W"`` for fractional weeks (days / 7).
        customer_col, date_col, amount_col: column names in ``transactions``;
            ``date_col`` must be a date or timestamp (timestamps are cut to their day).
        calibration_start: if given, rows before this day are ignored too.

    Returns:
        An unexecuted Ibis expression with columns ``customer_id`` (as in the input),
        ``frequency`` (int64), ``recency``, ``T``, ``monetary_value`` (float64), one row
        per customer with at least one purchase in the window, in no particular order.

    Raises:
        MissingColumnsError: a named column is not in ``transactions``.
        InputError: bad ``time_unit`` or ``date_col`` is not temporal.
    """
    scale = days_per_unit(time_unit)
    end = as_date(observation_end)
    start = as_date(calibration_start) if calibration_start is not None else None
    daily = _daily_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        first_day=start,
        last_day=end,
    )
    per_customer = daily.group_by("customer_id").aggregate(
        first_day=daily.day.min(),
        last_day=daily.day.max(),
        n_days=daily.count(),
        total=daily.amount.sum(),
        # each (customer, day) is unique in `daily`, so the first day's value is well defined
        first_amount=daily.amount.argmin(daily.day),
    )
    frequency = (per_customer.n_days - 1).cast("int64")
    repeat_value = per_customer.total - per_customer.first_amount
    return per_customer.select(
        customer_id=per_customer.customer_id,
        frequency=frequency,
        recency=per_customer.last_day.delta(per_customer.first_day, unit="day").cast("float64") / scale,
        T=ibis.literal(end).delta(per_customer.first_day, unit="day").cast("float64") / scale,
        monetary_value=ibis.ifelse(
            frequency > 0, repeat_value / frequency.cast("float64"), ibis.literal(0.0)
        ),
    )


def holdout_summary(
    transactions: ir.Table,
    calibration_end: dt.date | dt.datetime,
    holdout_end: dt.date | dt.datetime,
    time_unit: TimeUnit = "D",
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
    calibration_start: dt.date | dt.datetime | None = None,
) -> ir.Table:
    """Build what each calibration customer did in the holdout ``(calibration_end, holdout_end]``.

    Only customers whose first purchase is in the calibration window
    ``[calibration_start, calibration_end]`` appear (customers first seen in the holdout are
    new customers, not a test of the model); those who bought nothing in the holdout have 0.

    Returns:
        An unexecuted Ibis expression with columns ``customer_id``, ``frequency_holdout``
        (int64: distinct purchase days in the holdout — every holdout purchase is a repeat),
        ``value_holdout`` (their summed value), ``monetary_value_holdout`` (their mean value,
        0 when none) and ``duration_holdout`` (length of the holdout in ``time_unit``).
    """
    scale = days_per_unit(time_unit)
    cal_end = as_date(calibration_end)
    hold_end = as_date(holdout_end)
    if hold_end <= cal_end:
        raise InputError(
            f"holdout_end {hold_end} must be after calibration_end {cal_end}",
            hint="the holdout is the period (calibration_end, holdout_end]",
        )
    start = as_date(calibration_start) if calibration_start is not None else None
    daily = _daily_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        first_day=start,
        last_day=hold_end,
    )
    in_holdout = daily.day > ibis.literal(cal_end)
    per_customer = daily.group_by("customer_id").aggregate(
        first_day=daily.day.min(),
        n_holdout=in_holdout.cast("int64").sum(),
        value_holdout=ibis.ifelse(in_holdout, daily.amount, 0.0).sum(),
    )
    calibration_customers = per_customer.filter(per_customer.first_day <= ibis.literal(cal_end))
    n = calibration_customers.n_holdout
    return calibration_customers.select(
        customer_id=calibration_customers.customer_id,
        frequency_holdout=n,
        value_holdout=calibration_customers.value_holdout,
        monetary_value_holdout=ibis.ifelse(
            n > 0, calibration_customers.value_holdout / n.cast("float64"), ibis.literal(0.0)
        ),
        duration_holdout=ibis.literal((hold_end - cal_end).days / scale, type="float64"),
    )


def btyd_summary_reference(
    df: pd.DataFrame,
    observation_end: dt.date | dt.datetime,
    time_unit: TimeUnit = "D",
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
    calibration_start: dt.date | dt.datetime | None = None,
) -> pd.DataFrame:
    """Plain, loop-based reference for :func:`btyd_summary` (used as a test oracle).

    Slow on purpose: one Python loop per customer, no cleverness. Returns a DataFrame with
    the same columns as :func:`btyd_summary`, sorted by ``customer_id``.
    """
    scale = days_per_unit(time_unit)
    end = as_date(observation_end)
    start = as_date(calibration_start) if calibration_start is not None else None
    per_day: dict[object, dict[dt.date, float]] = {}
    for customer, when, amount in zip(df[customer_col], df[date_col], df[amount_col], strict=True):
        if pd.isna(customer) or pd.isna(when):
            continue
        day = as_date(when)
        if day > end or (start is not None and day < start):
            continue
        days = per_day.setdefault(customer, {})
        value = 0.0 if pd.isna(amount) else float(amount)
        days[day] = days.get(day, 0.0) + value
    rows = []
    for customer in sorted(per_day, key=lambda c: (str(type(c)), c)):
        days = per_day[customer]
        ordered = sorted(days)
        first, last = ordered[0], ordered[-1]
        repeats = [days[d] for d in ordered[1:]]
        rows.append(
            {
                "customer_id": customer,
                "frequency": len(repeats),
                "recency": (last - first).days / scale,
                "T": (end - first).days / scale,
                "monetary_value": float(np.mean(repeats)) if repeats else 0.0,
            }
        )
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return out.astype(
        {"frequency": "int64", "recency": "float64", "T": "float64", "monetary_value": "float64"}
    )


def daily_cohort_activity(
    transactions: ir.Table,
    calibration_end: dt.date | dt.datetime,
    holdout_end: dt.date | dt.datetime,
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
) -> ir.Table:
    """Per calendar day: first purchases and repeat transactions of the calibration cohort.

    The cohort is every customer whose first purchase is on or before ``calibration_end``;
    a transaction is a (customer, day) as in :func:`btyd_summary`. Days run to
    ``holdout_end``. This is what the tracking plot of cumulative repeat transactions
    (Fader, Hardie & Lee 2005, Figure 2) needs: actual repeats per day, and when each
    customer started, for the model's expected repeats.

    Returns:
        An unexecuted Ibis expression with columns ``day`` (date), ``first_purchases`` and
        ``repeat_transactions`` (int64), one row per day with any of them.
    """
    cal_end, hold_end = as_date(calibration_end), as_date(holdout_end)
    daily = _daily_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        first_day=None,
        last_day=max(hold_end, cal_end),
    )
    firsts = daily.group_by("customer_id").aggregate(first_day=daily.day.min())
    joined = daily.join(firsts, "customer_id")
    cohort = joined.filter(joined.first_day <= ibis.literal(cal_end))
    is_first = (cohort.day == cohort.first_day).cast("int64")
    return (
        cohort.group_by("day")
        .aggregate(first_purchases=is_first.sum(), repeat_transactions=(1 - is_first).sum())
        .order_by("day")
    )


#: periods that can serve as BG/BB purchase opportunities (``clv.opportunity``)
Opportunity = Literal["week", "month"]
#: a Monday: weeks run Monday to Sunday, numbered from this one
_MONDAY = dt.date(1970, 1, 5)


def period_index(day: dt.date, period: Opportunity) -> int:
    """The number of the week (Monday to Sunday) or calendar month that ``day`` falls in.

    Example:
        >>> period_index(dt.date(2024, 1, 7), "week") - period_index(dt.date(2024, 1, 1), "week")
        0
        >>> period_index(dt.date(2024, 2, 1), "month") - period_index(dt.date(2023, 12, 31), "month")
        2
    """
    if period == "week":
        return (day - _MONDAY).days // 7
    if period == "month":
        return day.year * 12 + day.month - 1
    raise InputError(f"opportunity period {period!r}: use week or month")


def last_complete_period(end: dt.date, period: Opportunity) -> int:
    """The last period that ends on or before ``end`` (a period still running is no opportunity yet).

    Example:
        >>> sunday, monday = dt.date(2024, 1, 7), dt.date(2024, 1, 8)
        >>> last_complete_period(sunday, "week") == period_index(sunday, "week")
        True
        >>> last_complete_period(monday, "week") == period_index(sunday, "week")
        True
    """
    return period_index(end + dt.timedelta(days=1), period) - 1


def opportunity_summary(
    transactions: ir.Table,
    calibration_end: dt.date | dt.datetime,
    period: Opportunity,
    holdout_end: dt.date | dt.datetime | None = None,
    customer_col: str = "customer_id",
    date_col: str = "ordered_at",
    amount_col: str = "amount",
) -> ir.Table:
    """Orders as purchase/no-purchase per opportunity (week or month): the BG/BB summary.

    The first purchase's period is the customer's "trial"; every complete period after it,
    up to the last complete period on or before ``calibration_end``, is one opportunity. A
    period still running at ``calibration_end`` is no opportunity yet (its orders are
    ignored), so customers first seen in it have no row.

    Returns:
        An unexecuted Ibis expression, one row per customer: ``customer_id``, ``frequency``
        (opportunities with a purchase), ``recency`` (the last of them, counted from the
        trial; 0 if none), ``n_periods`` (opportunities), ``active_periods`` (periods with a
        purchase, the trial included), ``busy_periods`` (of those, the ones with purchases
        on two or more days: the binary summary drops those extra purchases), and
        ``frequency_holdout`` (opportunities with a purchase in the complete periods after
        the calibration ones, up to ``holdout_end``; 0 without a holdout).
    """
    cal_end = as_date(calibration_end)
    cal_last = last_complete_period(cal_end, period)
    hold_end = as_date(holdout_end) if holdout_end is not None else cal_end
    hold_last = last_complete_period(hold_end, period) if holdout_end is not None else cal_last
    daily = _daily_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        first_day=None,
        last_day=hold_end,
    )
    if period == "week":
        number = daily.day.delta(ibis.literal(_MONDAY), unit="day") // 7
    elif period == "month":
        number = daily.day.year() * 12 + daily.day.month() - 1
    else:
        raise InputError(f"opportunity period {period!r}: use week or month")
    days = daily.mutate(p=number.cast("int64"))
    periods = days.group_by(["customer_id", "p"]).aggregate(n_days=days.count())
    cal = periods.filter(periods.p <= cal_last)
    per_customer = cal.group_by("customer_id").aggregate(
        first=cal.p.min(),
        last=cal.p.max(),
        active=cal.count(),
        busy=(cal.n_days > 1).cast("int64").sum(),
    )
    hold = periods.filter((periods.p > cal_last) & (periods.p <= hold_last))
    hold_n = hold.group_by("customer_id").aggregate(frequency_holdout=hold.count())
    joined = per_customer.left_join(hold_n, per_customer.customer_id == hold_n.customer_id)
    frequency = (joined.active - 1).cast("int64")
    return joined.select(
        customer_id=joined.customer_id,
        frequency=frequency,
        recency=(joined["last"] - joined["first"]).cast("int64"),
        n_periods=(ibis.literal(cal_last) - joined["first"]).cast("int64"),
        active_periods=joined.active.cast("int64"),
        busy_periods=joined.busy.cast("int64"),
        frequency_holdout=joined.frequency_holdout.fill_null(0).cast("int64"),
    )
