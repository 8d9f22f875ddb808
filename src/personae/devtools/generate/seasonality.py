"""The calendar of the data set: its window, shopping seasonality and times of day.

Purchases are not uniform in time: weekends are busier, Black Friday and the weeks before
Christmas are peaks, there is a post-Christmas and a summer sale, January is quiet. We model
that as a daily intensity and place activity in *operational time* (the cumulative
intensity): a customer's regular rhythm in operational time becomes denser in peaks and
sparser in slumps in calendar time. Promotion-sensitive customers (bargain hunters) get the
peaks raised to a power, so they cluster their orders in sales.

Time is kept as integers: days and seconds since 1970-01-01 (no time zone); the writer
formats them. Nothing here reads the clock: the window ends at the given ``end`` date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from personae.devtools.generate.columns import SECONDS_PER_DAY

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25

#: relative activity by weekday, Monday first
WEEKDAY_FACTOR = np.array([0.92, 0.88, 0.9, 0.95, 1.08, 1.22, 1.05])
#: hour-of-day weights for online activity (lunch and evening peaks) and for stores
ONLINE_HOURS = np.array(
    [
        0.8,
        0.4,
        0.2,
        0.15,
        0.15,
        0.3,
        0.8,
        1.6,
        2.2,
        2.6,
        2.8,
        3.0,
        3.6,
        3.3,
        2.9,
        2.8,
        2.9,
        3.2,
        3.8,
        4.5,
        5.0,
        4.6,
        3.4,
        1.8,
    ]
)
STORE_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1.2, 2.2, 3.0, 3.8, 3.9, 3.6, 3.6, 3.9, 4.2, 3.8, 2.8, 1.6, 0.6, 0, 0],
    dtype=float,
)
ONLINE_HOURS = ONLINE_HOURS / ONLINE_HOURS.sum()
STORE_HOURS = STORE_HOURS / STORE_HOURS.sum()


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def _promo_multiplier(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand multiplier of each day and whether the day is a promotion day.

    Black Friday to Cyber Monday x3, December before Christmas x1.6, the post-Christmas
    sale x1.4, the summer sale (first half of July) x1.6, and a January-February slump.
    """
    d = days.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    mult = np.ones(len(days))
    promo = np.zeros(len(days), dtype=bool)
    # Black Friday: the day after the fourth Thursday of November.
    for y in np.unique(year):
        nov1 = day_number(dt.date(int(y), 11, 1))
        first_thursday = nov1 + (3 - (nov1 + 3) % 7) % 7
        black_friday = first_thursday + 22
        window = (days >= black_friday) & (days <= black_friday + 3)
        mult[window] = 3.0
        promo |= window
    december = (month == 12) & (dom <= 22) & ~promo
    mult[december] = 1.3 + 0.4 * dom[december] / 22
    post_xmas = ((month == 12) & (dom >= 26)) | ((month == 1) & (dom <= 3))
    mult[post_xmas] = 1.4
    summer = (month == 7) & (dom <= 14)
    mult[summer] = 1.6
    slump = ((month == 1) & (dom > 3)) | (month == 2)
    mult[slump] = 0.85
    promo |= post_xmas | summer
    return mult, promo


@dataclass(frozen=True)
class Timeline:
    """The data window ``[start_day, end_day]`` and its seasonal intensity.

    Attributes:
        start_day: first day of the window (days since epoch).
        end_day: last day of the window, inclusive.
    """

    start_day: int
    end_day: int
    _grid: np.ndarray = field(repr=False, compare=False)
    _mult: np.ndarray = field(repr=False, compare=False)
    _promo: np.ndarray = field(repr=False, compare=False)

    @classmethod
    def ending(cls, end: dt.date, years: float) -> Timeline:
        """The window of ``years`` years that ends (inclusive) on ``end``."""
        end_day = day_number(end)
        start_day = end_day - round(years * DAYS_PER_YEAR) + 1
        grid = np.arange(start_day, end_day + 1, dtype=np.int64)
        mult, promo = _promo_multiplier(grid)
        return cls(start_day, end_day, grid, mult, promo)

    @property
    def days(self) -> int:
        """Length of the window in days."""
        return self.end_day - self.start_day + 1

    @property
    def end_s(self) -> int:
        """Last second of the window."""
        return (self.end_day + 1) * SECONDS_PER_DAY - 1

    def is_promo(self, days: np.ndarray) -> np.ndarray:
        """Whether each (integer) day is in a sale period."""
        idx = np.clip(np.asarray(days, dtype=np.int64) - self.start_day, 0, self.days - 1)
        return self._promo[idx]

    def _cumulative(self, sensitivity: float) -> np.ndarray:
        weekday = WEEKDAY_FACTOR[(self._grid + 3) % 7]  # 1970-01-01 was a Thursday
        intensity = weekday * self._mult**sensitivity
        return np.concatenate([[0.0], np.cumsum(intensity)])

    def warp(self, lo: np.ndarray, hi: np.ndarray, frac: np.ndarray, sensitivity: float = 1.0) -> np.ndarray:
        """Days at fraction ``frac`` of the way from ``lo`` to ``hi`` in operational time.

        ``lo``/``hi`` are (fractional) days since epoch; ``frac`` in [0, 1]. With uniform
        ``frac`` this samples days proportionally to the seasonal intensity; with the
        cumulative gaps of a renewal process it places a regular rhythm on the calendar.
        """
        cum = self._cumulative(sensitivity)
        edges = np.arange(self.start_day, self.end_day + 2, dtype=np.float64)
        lo_u = np.interp(lo, edges, cum)
        hi_u = np.interp(hi, edges, cum)
        return np.interp(lo_u + frac * (hi_u - lo_u), cum, edges)

    def sample_days(
        self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, sensitivity: float = 1.0
    ) -> np.ndarray:
        """Random integer days in ``[lo, hi]`` weighted by the seasonal intensity."""
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.maximum(np.asarray(hi, dtype=np.float64), lo)
        days = self.warp(lo, hi + 0.999, rng.random(len(lo)), sensitivity)
        return np.clip(np.floor(days), self.start_day, self.end_day).astype(np.int64)


def time_of_day(rng: np.random.Generator, in_store: np.ndarray) -> np.ndarray:
    """Seconds after midnight: store activity in opening hours, online activity any time."""
    n = len(in_store)
    hours = rng.choice(24, size=n, p=ONLINE_HOURS)
    store_n = int(in_store.sum())
    if store_n:
        hours[in_store] = rng.choice(24, size=store_n, p=STORE_HOURS)
    return hours * 3600 + rng.integers(0, 3600, size=n)
