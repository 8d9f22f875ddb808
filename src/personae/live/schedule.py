"""When the server runs its own build (``service.build_schedule``): a cron expression, parsed here.

Why cron: it is what operators already write for nightly jobs (crontab, Kubernetes CronJobs,
Airflow), so ``"0 3 * * *"`` needs no explanation. Five fields — minute, hour, day of month,
month, day of week (0 or 7 = Sunday) — each ``*``, a number, a range ``a-b``, a step ``*/n`` or
``a-b/n``, or a comma list of those. As in cron, when both day fields are restricted a day
matching either one is due. Also ``@hourly``, ``@daily`` (= ``@midnight``), ``@weekly``,
``@monthly`` and ``@every DURATION`` (``30s``, ``15m``, ``2h``, ``1h30m``; counted from the
server's start — for tests and for "every few hours" without caring about the clock).

Times are the service's clock: UTC (as every timestamp personae stores). No dependency: a
cron library would be one more package for forty lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from personae.errors import InputError

_NAMED = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
#: (name, lowest, highest) of the five fields
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_HINT = "write a cron expression such as '0 3 * * *' (03:00 UTC daily), '@daily' or '@every 6h'"
_DURATION = re.compile(r"(\d+)\s*([smhd])")


@dataclass(frozen=True)
class Schedule:
    """A parsed ``service.build_schedule``: :meth:`next_after` gives the next time it is due."""

    text: str
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    #: both day fields restricted: a day matching either is due (cron's rule)
    either_day: bool = False
    #: ``@every``: the period instead of the fields
    every: timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Parse a schedule, or raise :class:`InputError` saying which part is wrong.

        >>> Schedule.parse("0 3 * * *").next_after(datetime(2025, 6, 1, 3, 0))
        datetime.datetime(2025, 6, 2, 3, 0)
        >>> Schedule.parse("*/15 9-17 * * 1-5").next_after(datetime(2025, 6, 6, 17, 50))  # a Friday
        datetime.datetime(2025, 6, 9, 9, 0)
        >>> Schedule.parse("@every 90s").every
        datetime.timedelta(seconds=90)
        """
        given = " ".join(str(text).split())
        spec = _NAMED.get(given.lower(), given)
        if spec.lower().startswith("@every"):
            rest = spec[len("@every") :].replace(" ", "").lower()
            parts = _DURATION.findall(rest)
            if not parts or "".join(n + u for n, u in parts) != rest:
                raise InputError(f"service.build_schedule {text!r}: cannot read the duration", hint=_HINT)
            unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
            seconds = sum(int(n) * unit[u] for n, u in parts)
            if seconds < 1:
                raise InputError(f"service.build_schedule {text!r}: the period must be positive", hint=_HINT)
            return cls(given, every=timedelta(seconds=seconds))
        fields = spec.split(" ")
        if len(fields) != 5:
            raise InputError(
                f"service.build_schedule {text!r}: expected 5 fields (minute hour day month weekday), "
                f"got {len(fields)}",
                hint=_HINT,
            )
        sets = [_field(f, *meta, text) for f, meta in zip(fields, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(
            given,
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            either_day=fields[2] != "*" and fields[4] != "*",
        )

    def _day_ok(self, t: datetime) -> bool:
        dom, dow = t.day in self.days, (t.weekday() + 1) % 7 in self.weekdays
        return (dom or dow) if self.either_day else (dom and dow)

    def next_after(self, now: datetime, started: datetime | None = None) -> datetime:
        """The first due time strictly after ``now`` (``started``: when ``@every`` counts from)."""
        if self.every is not None:
            origin = started or now
            if now < origin:
                return origin + self.every
            periods = int((now - origin) / self.every) + 1
            return origin + periods * self.every
        t = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day_ok(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise InputError(f"service.build_schedule {self.text!r} is never due", hint=_HINT)


def _field(text: str, name: str, low: int, high: int, whole: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                a, b = body.split("-", 1)
                start, end = int(a), int(b)
            else:
                start = int(body)
                end = high if step_text else start
        except ValueError:
            raise InputError(
                f"service.build_schedule {whole!r}: cannot read the {name} field {text!r}", hint=_HINT
            ) from None
        if step < 1 or not (low <= start <= end <= high):
            raise InputError(
                f"service.build_schedule {whole!r}: the {name} field {text!r} is outside {low}-{high}",
                hint=_HINT,
            )
        values.update(range(start, end + 1, step))
    return frozenset(values)
