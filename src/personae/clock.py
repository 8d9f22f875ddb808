"""The shop's clock: the time zone in which "a day", "an hour" and "a weekday" are read.

Stored timestamps are instants, written as naive UTC (what DuckDB's ``TIMESTAMP`` and the
Spark session, set to UTC, hold). People, though, live by the shop's clock: an order at
23:30 UTC is a night order in London but a morning order, on the next weekday, in Tokyo. So:

* **reading input** (files and the tracking API): a timestamp with an offset (``Z``,
  ``+02:00``) is the instant it names; one without (``2024-03-01 23:30``, ``2024-03-01``) is
  the shop's local time (:func:`to_utc`, :func:`series_to_utc`); a Unix time is an instant;
* **reading the clock** (dayparts, weekdays, months, holiday periods, anniversaries, "today"):
  the stored instant is turned back into the shop's wall clock first (:func:`to_local` for
  Python values, :func:`local_clock` for Ibis expressions).

The zone is the ``timezone`` setting (an IANA name such as ``Europe/Berlin``; ``UTC`` by
default, which makes every function here the identity).

A local time that happened twice (the hour the clocks go back) is read as the first; one that
never happened (the hour skipped when they go forward) is read with the offset before the
change, so 02:30 on the spring-forward night in Berlin is 03:30 summer time — Python's rule
(PEP 495, ``fold=0``), used by both the file and the tracking path.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.base import SQLGlotCompiler
from ibis.common.annotations import attribute

from personae.errors import InputError

#: The default zone: timestamps without an offset are UTC, as before the setting existed.
DEFAULT_ZONE = "UTC"
_ZONE_HINT = "use an IANA time zone name such as Europe/Berlin, America/New_York, Asia/Tokyo or UTC"

#: A time of day followed by an offset or a zone designator: the text names an instant.
#: ``2024-03-31`` (a date alone) ends in ``-31``, which is not an offset: a time must come first.
OFFSET_SUFFIX = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)$",
    re.ASCII,
)


def check_zone(name: str) -> str:
    """``name`` if it is a time zone this machine knows, else an :class:`InputError` with a hint.

    Example:
        >>> check_zone("Asia/Tokyo")
        'Asia/Tokyo'
        >>> try:
        ...     check_zone("Europe/Berln")
        ... except InputError as exc:
        ...     print(exc.message, "/", exc.hint.split("?")[0])
        timezone: unknown time zone 'Europe/Berln' / did you mean Europe/Berlin
    """
    text = name.strip()
    try:
        zone(text)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(text, sorted(available_timezones()), n=1, cutoff=0.75)
        lowered = {z.lower(): z for z in available_timezones()}
        guess = lowered.get(text.lower()) or (close[0] if close else None)
        hint = f"did you mean {guess}? {_ZONE_HINT}" if guess else _ZONE_HINT
        raise InputError(f"timezone: unknown time zone {name!r}", hint=hint) from None
    return text


@cache
def zone(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` of ``name`` (cached: looked up once per process)."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"not a time zone name: {name!r}")
    return ZoneInfo(name)


def is_utc(name: str) -> bool:
    """True when the zone is UTC itself (then every conversion here is the identity)."""
    return name.strip().upper() in ("UTC", "ETC/UTC", "Z", "ZULU", "UCT", "ETC/UCT", "ETC/ZULU")


def to_utc(at: datetime, zone_name: str) -> datetime:
    """An instant as naive UTC: an aware ``at`` is converted; a naive one is the shop's local time.

    Example:
        >>> to_utc(datetime(2024, 3, 1, 23, 30), "Asia/Tokyo")
        datetime.datetime(2024, 3, 1, 14, 30)
        >>> to_utc(datetime(2024, 3, 31, 2, 30), "Europe/Berlin")  # skipped: read as 03:30 CEST
        datetime.datetime(2024, 3, 31, 1, 30)
    """
    if at.tzinfo is not None:
        return at.astimezone(UTC).replace(tzinfo=None)
    if is_utc(zone_name):
        return at
    offset = zone(zone_name).utcoffset(at.replace(fold=0))
    try:
        return at - offset if offset is not None else at
    except OverflowError:  # year 1 or 9999: implausible anyway, and rejected as such
        return at


def to_local(at: datetime, zone_name: str) -> datetime:
    """The shop's wall clock (naive) at instant ``at`` (naive UTC, or aware).

    Example:
        >>> to_local(datetime(2024, 3, 1, 23, 30), "Asia/Tokyo")
        datetime.datetime(2024, 3, 2, 8, 30)
    """
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    try:
        if is_utc(zone_name):
            return aware.astimezone(UTC).replace(tzinfo=None)
        return aware.astimezone(zone(zone_name)).replace(tzinfo=None)
    except OverflowError:  # the first or last hours Python's datetime can hold
        return at.replace(tzinfo=None)


def local_today(zone_name: str, now: datetime | None = None) -> date:
    """The shop's date at ``now`` (naive UTC or aware; default: the current time)."""
    return to_local(now if now is not None else datetime.now(UTC), zone_name).date()


def day_start(day: date, zone_name: str) -> datetime:
    """The instant (naive UTC) the shop's day ``day`` begins.

    Example:
        >>> day_start(date(2024, 3, 2), "Asia/Tokyo")
        datetime.datetime(2024, 3, 1, 15, 0)
    """
    return to_utc(datetime.combine(day, time.min), zone_name)


def series_to_utc(wall: pd.Series, zone_name: str) -> pd.Series:
    """Naive local wall-clock times (``datetime64``) as naive UTC instants (same unit).

    The bulk is converted by pandas; the few times a clock change makes ambiguous or skipped
    are converted one by one with :func:`to_utc`, so files and the tracking API agree.
    """
    if is_utc(zone_name) or wall.empty:
        return wall
    unit = np.datetime_data(np.dtype(str(wall.dtype)))[0]
    aware = wall.dt.tz_localize(zone(zone_name), ambiguous="NaT", nonexistent="NaT")
    out = aware.dt.tz_convert("UTC").dt.tz_localize(None).astype(wall.dtype)
    odd = (wall.notna() & out.isna()).to_numpy()
    if odd.any():
        fixed = [to_utc(v.to_pydatetime(), zone_name) for v in wall[odd]]
        out[odd] = pd.Series(fixed, dtype=f"datetime64[{unit}]").to_numpy()
    return out


# -- Ibis ---------------------------------------------------------------------------------------
class LocalClock(ops.Value):
    """The wall clock in ``zone`` of a naive-UTC timestamp (an Ibis operation; see :func:`local_clock`)."""

    arg: ops.Value[dt.Timestamp]
    zone: ops.Value[dt.String]

    dtype = dt.timestamp

    @attribute
    def shape(self) -> object:
        return self.arg.shape


def _compile_local_clock(
    self: SQLGlotCompiler, op: LocalClock, *, arg: sge.Expression, zone: sge.Expression
) -> sge.Expression:
    # sqlglot writes each engine's spelling: DuckDB ``ts AT TIME ZONE 'UTC' AT TIME ZONE z``,
    # Spark ``CONVERT_TIMEZONE('UTC', z, ts)`` — no SQL text here, and no engine named
    return sge.ConvertTimezone(source_tz=sge.convert("UTC"), target_tz=zone, timestamp=arg)


SQLGlotCompiler.visit_LocalClock = _compile_local_clock


def local_clock(ts: ibis.Value, zone_name: str) -> ibis.Value:
    """``ts`` (naive UTC) as the shop's naive wall clock, for ``.hour()``, ``.date()``, ….

    In UTC it is ``ts`` itself, so the SQL of a UTC shop is what it always was.
    """
    if is_utc(zone_name):
        return ts
    return LocalClock(ts, zone_name).to_expr()
