"""Validate a :class:`RawBatch` against a canonical table: typed columns in, reasons out.

Everything is vectorised over whole columns (pandas), so a million rows validate in seconds.
A row with any problem is rejected with every reason found, in words a person understands
(``"ordered_at: cannot read '2024-13-45' as a date/time"``), never dropped silently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personae.app.ingest.readers import RawBatch
from personae.clock import DEFAULT_ZONE, OFFSET_SUFFIX, is_utc, series_to_utc, zone
from personae.config.ingest import IngestSettings
from personae.errors import InputError, MissingColumnsError
from personae.identity.normalize import normalize_emails, normalize_handles, normalize_phones
from personae.schema import (
    DEFAULT_RATING_MAX,
    DEFAULT_SCALE_MAX,
    TEXT_SOURCE_SYNONYMS,
    Column,
    TableSpec,
)

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_GENDER_SYNONYMS = {
    "f": "female",
    "woman": "female",
    "w": "female",
    "m": "male",
    "man": "male",
    "nb": "non_binary",
    "non-binary": "non_binary",
    "nonbinary": "non_binary",
    "x": "other",
    "u": "unknown",
    "prefer_not_to_say": "unknown",
    "": "unknown",
}
#: Other values read as a canonical one, per enum column: a text's ``source`` (``twitter`` is
#: social). Only enum columns use these (consents' ``source`` is free text).
_SYNONYMS: dict[str, dict[str, str]] = {"gender": _GENDER_SYNONYMS, "source": TEXT_SOURCE_SYNONYMS}


@dataclass
class ValidatedBatch:
    """Rows that passed (typed, canonical) and rows that did not (with reasons).

    Attributes:
        frame: accepted rows: canonical columns plus ``properties_extra`` (JSON of the
            non-canonical source columns) and ``_source_line``.
        rejects: data frame of ``line, reason, raw`` for every rejected row (including the
            reader's structural rejects).
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    #: where each canonical column came from: a source column's name, or ``= value`` (``--set``)
    sources: dict[str, str] = field(default_factory=dict)


def map_columns(
    batch: RawBatch,
    spec: TableSpec,
    mapping: dict[str, str],
    constants: Mapping[str, str] | None = None,
    sources: dict[str, str] | None = None,
) -> dict[str, pd.Series]:
    """Rename source columns to canonical names and check that required ones are present.

    Explicit ``mapping`` (canonical -> source) wins; otherwise a source column matches a
    canonical name ignoring case, spaces and dashes. ``constants`` (``--set COLUMN=VALUE``) give
    a column one value on every row, whatever the file holds. ``sources``, when given, is filled
    with where each canonical column came from. Raises :class:`MissingColumnsError` before
    anything is written.
    """
    constants = constants or {}
    for flag, names in (("--map", list(mapping)), ("--set", list(constants))):
        unknown = [c for c in names if c not in spec.column_names]
        if unknown:
            raise InputError(
                f"{flag} names unknown {spec.name} column(s): {', '.join(unknown)}",
                hint=f"canonical columns are {', '.join(spec.column_names)}",
            )
    both = sorted(set(mapping) & set(constants))
    if both:
        raise InputError(f"--map and --set both give column(s) {', '.join(both)}", hint="keep one of the two")
    found = list(batch.columns)
    absent = [src for src in mapping.values() if src not in batch.columns]
    if absent:
        raise InputError(
            f"{batch.source}: --map refers to column(s) {', '.join(absent)} that the file lacks",
            hint=f"found columns: {', '.join(found)}",
        )
    out: dict[str, pd.Series] = {
        name: pd.Series([value] * batch.n_rows, dtype="string") for name, value in constants.items()
    }
    if sources is not None:
        sources.update({name: f"= {value!r}" for name, value in constants.items()})
    used: set[str] = set()
    for canonical, source in mapping.items():
        out[canonical] = batch.columns[source]
        used.add(source)
        if sources is not None:
            sources[canonical] = source
    by_norm = {_norm(c): c for c in found if c not in used}
    for canonical in spec.column_names:
        if canonical in out:
            continue
        match = by_norm.get(_norm(canonical))
        if match is not None:
            out[canonical] = batch.columns[match]
            used.add(match)
            if sources is not None:
                sources[canonical] = match
    missing = [
        c if c not in spec.derived else f"{c} (or {' and '.join(spec.derived[c])})"
        for c in spec.required
        if c not in out and not (c in spec.derived and all(p in out for p in spec.derived[c]))
    ]
    if spec.at_least_one_of and not any(c in out for c in spec.at_least_one_of):
        missing.append(" or ".join(spec.at_least_one_of))
    if missing and batch.n_rows == 0 and batch.rejects:
        # nothing parsed (e.g. every JSON line is broken): no columns to check, the
        # structural rejects say what is wrong with each line
        missing = []
    if missing:
        raise MissingColumnsError(batch.source, missing, found)
    extras = [c for c in found if c not in used]
    for c in extras:
        out["\x00extra:" + c] = batch.columns[c]
    return out


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def validate(
    batch: RawBatch,
    spec: TableSpec,
    mapping: dict[str, str] | None = None,
    *,
    date_format: str | None = None,
    default_country_code: str = "1",
    constants: Mapping[str, str] | None = None,
    settings: IngestSettings | None = None,
    list_sep: str | None = None,
    timezone: str = DEFAULT_ZONE,
) -> ValidatedBatch:
    """Check and type every row of ``batch`` for table ``spec``.

    ``settings`` gives the plausible date window (the tracking API's too); ``list_sep`` the
    separator of list columns (default ``;``), see :func:`split_list`. Timestamps become naive
    UTC instants: one with an offset is converted, one without is the shop's local time in
    ``timezone`` (see :mod:`personae.clock`).
    """
    if list_sep is not None and (not list_sep or "\n" in list_sep or "\r" in list_sep):
        raise InputError(f"--list-sep {list_sep!r}: expected a separator", hint="e.g. --list-sep '|'")
    sources: dict[str, str] = {}
    cols = map_columns(batch, spec, mapping or {}, constants, sources)
    n = batch.n_rows
    problems = _Problems(n)
    window = plausible_window(settings)
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    for column in spec.columns:
        if column.name not in cols:
            frame[column.name] = _empty(column, n)
            continue
        values = cols[column.name].reset_index(drop=True)
        optional = column.name in spec.derived  # required unless computed from other columns
        frame[column.name] = _parse(
            column, values, problems, date_format, window, list_sep, optional, timezone
        )
    if list_sep is not None:
        _split_categories(spec, frame, list_sep)
    _check_rules(spec, frame, problems)
    if "email" in frame:
        frame["email"] = normalize_emails(frame["email"])
    if "phone" in frame:
        frame["phone"] = normalize_phones(frame["phone"], default_country_code)
    if "handle" in frame:
        frame["handle"] = normalize_handles(frame["handle"])
    extra_names = [c for c in cols if c.startswith("\x00extra:")]
    frame["properties_extra"] = _extras_json(cols, extra_names, n)
    frame["_source_line"] = batch.lines
    bad = problems.mask()
    rejected_idx = np.flatnonzero(bad)
    rejects = pd.DataFrame(
        {
            "line": batch.lines[rejected_idx],
            "reason": problems.reasons[rejected_idx],
            "raw": [batch.raw(int(i)) for i in rejected_idx],
        }
    )
    if batch.rejects:
        structural = pd.DataFrame(
            [(r.line, r.reason, r.raw) for r in batch.rejects], columns=["line", "reason", "raw"]
        )
        rejects = pd.concat([structural, rejects], ignore_index=True)
    rejects = rejects.sort_values("line", kind="stable").reset_index(drop=True)
    return ValidatedBatch(frame[~bad].reset_index(drop=True), rejects, sources)


class _Problems:
    """Accumulates reasons per row, vectorised."""

    def __init__(self, n: int) -> None:
        self.reasons = np.full(n, "", dtype=object)
        #: rows without a value, for the required columns that other columns may stand in for
        self.missing: dict[str, np.ndarray] = {}

    def add(self, mask: np.ndarray | pd.Series, message: str | Callable[[], pd.Series]) -> None:
        """Record ``message`` for the rows in ``mask``.

        ``message`` may be a callable building per-row messages; it is only called when some
        row is affected, so clean files never pay for formatting.
        """
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        built = message() if callable(message) else message
        msg = built[m].to_numpy(dtype=object) if isinstance(built, pd.Series) else built
        current = self.reasons[m]
        self.reasons[m] = np.where(current == "", msg, current + "; " + msg)

    def add_each(
        self, candidates: np.ndarray | pd.Series, values: pd.Series, why: Callable[[Any], str | None]
    ) -> None:
        """Record ``why(value)`` for each candidate row where it names a problem.

        The per-value rules (:func:`number_problem`, :func:`date_problem`, :func:`text_problem`)
        are the tracking API's too; calling them here, on the few rows a vectorised test flags,
        keeps the two validators' words the same.
        """
        picked = np.flatnonzero(np.asarray(candidates, dtype=bool))
        if not len(picked):
            return
        reasons = np.full(len(values), "", dtype=object)
        reasons[picked] = [why(values.iloc[i]) or "" for i in picked]
        why_row = pd.Series(reasons)
        self.add(reasons != "", lambda: why_row)

    def mask(self) -> np.ndarray:
        return self.reasons != ""


def _empty(column: Column, n: int) -> pd.Series:
    if column.type in ("float", "int"):
        return pd.Series(np.full(n, np.nan))
    if column.type == "timestamp":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    if column.type == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    if column.type == "bool":
        return pd.Series([None] * n, dtype=object)
    return pd.Series([None] * n, dtype=object)


#: Beyond this a number is a mistake (a unit error, an overflow, a key in the wrong column).
MAX_MAGNITUDE = 1e12
#: Dates before this are taken for mistakes by default (``ingest.earliest_date``).
EARLIEST = datetime.combine(IngestSettings().earliest_date, datetime.min.time())


def latest_plausible(settings: IngestSettings | None = None) -> datetime:
    """The latest plausible moment: ``ingest.latest_days_ahead`` (1) days after now."""
    ahead = (settings or IngestSettings()).latest_days_ahead
    return datetime.now(UTC).replace(tzinfo=None) + timedelta(days=ahead)


def plausible_window(settings: IngestSettings | None = None) -> tuple[datetime, datetime]:
    """The earliest and latest plausible moments — one definition for files and tracking.

    >>> from datetime import date
    >>> plausible_window(IngestSettings(earliest_date=date(1850, 1, 1)))[0]
    datetime.datetime(1850, 1, 1, 0, 0)
    """
    s = settings or IngestSettings()
    return datetime.combine(s.earliest_date, datetime.min.time()), latest_plausible(s)


def number_problem(name: str, value: float) -> str | None:
    """Why a read number is not plausible, or ``None`` (one rule for files and tracking).

    >>> number_problem("amount", float("inf")), number_problem("quantity", 1e23)
    ('amount: inf is not a finite number', 'quantity: 1e+23 is beyond any plausible value (|x| <= 1e+12)')
    """
    if not math.isfinite(value):
        return f"{name}: {value:g} is not a finite number"
    if abs(value) > MAX_MAGNITUDE:
        return f"{name}: {value:g} is beyond any plausible value (|x| <= {MAX_MAGNITUDE:g})"
    return None


def date_problem(name: str, value: datetime, latest: datetime, earliest: datetime = EARLIEST) -> str | None:
    """Why a read date is not plausible (before ``earliest`` or after ``latest``), or ``None``.

    >>> date_problem("ordered_at", datetime(1850, 1, 1), datetime(2026, 1, 1))
    'ordered_at: 1850-01-01 is outside the plausible dates 1900-01-01 to 2026-01-01'
    """
    stamp = pd.Timestamp(value)  # pandas reads years Python's datetime cannot hold (0, -1, 10000)
    if pd.Timestamp(earliest) <= stamp <= pd.Timestamp(latest):
        return None
    day = f"{str(stamp.year).zfill(4)}-{stamp.month:02d}-{stamp.day:02d}"
    first = f"{str(earliest.year).zfill(4)}-{earliest.month:02d}-{earliest.day:02d}"
    return f"{name}: {day} is outside the plausible dates {first} to {latest:%Y-%m-%d}"


def text_problem(name: str, text: str) -> str | None:
    """Why a scalar text value is not plausible (a NUL byte, a JSON object or array), or ``None``.

    >>> text_problem("customer_id", '{"id": 1}'), text_problem("name", "a" + chr(0) + "b")
    ('customer_id: a JSON object or array is not a single value', 'name: contains a NUL byte')
    """
    if "\x00" in text:
        return f"{name}: contains a NUL byte"
    if text.startswith(("{", "[")) and text.endswith(("}", "]")):
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if isinstance(loaded, dict | list):
            return f"{name}: a JSON object or array is not a single value"
    return None


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, with missing/empty as NA (typed inputs stringified)."""
    if values.dtype == object:
        s = values.map(lambda v: v if v is None or isinstance(v, str) else _stringify(v))
    elif pd.api.types.is_float_dtype(values):
        # an integer column with nulls reads as float: id 1 must stay "1", not "1.0"
        s = values.map(_stringify).astype(object)
    else:
        s = values
    s = s.astype("string").str.strip()
    return s.mask(s == "")


def _stringify(v: object) -> str | None:
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list | dict):
        return json.dumps(v)
    return str(v)


def _quote(s: pd.Series) -> pd.Series:
    shown = s.astype("string").str.slice(0, 60)
    return "'" + shown.fillna("") + "'"


def _parse(
    column: Column,
    values: pd.Series,
    problems: _Problems,
    date_format: str | None,
    window: tuple[datetime, datetime],
    list_sep: str | None = None,
    optional: bool = False,
    timezone: str = DEFAULT_ZONE,
) -> pd.Series:
    name = column.name
    earliest, latest = window
    if column.type in ("timestamp", "date"):
        parsed = _parse_datetime(values, date_format, timezone)
        text = _as_text(values) if not pd.api.types.is_datetime64_any_dtype(values) else None
        if text is not None:
            expected = (
                f" as a date/time (expected {date_format})"
                if date_format
                else " as a date/time (expected e.g. 2024-03-31 or 2024-03-31T14:05:00)"
            )
            given: pd.Series = text
            problems.add(
                given.notna() & parsed.isna(), lambda: f"{name}: cannot read " + _quote(given) + expected
            )
        missing = parsed.isna() if text is None else text.isna()
        problems.add_each(
            parsed.notna() & ((parsed < earliest) | (parsed > latest)),
            parsed,
            lambda v: date_problem(name, v, latest, earliest),
        )
        if column.type == "date":  # the shop's calendar day of the instant
            parsed = _local_wall(parsed, timezone).dt.normalize()
    elif column.type in ("float", "int"):
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            parsed = values.astype("float64")
            missing = parsed.isna()
        else:
            number_text: pd.Series = _as_text(values)
            parsed = _to_float(number_text)
            problems.add(
                number_text.notna() & parsed.isna(),
                lambda: f"{name}: cannot read " + _quote(number_text) + " as a number",
            )
            missing = number_text.isna()
        if column.min_value is not None:
            problems.add(
                parsed < column.min_value,
                lambda: (
                    f"{name}: must be at least {column.min_value:g}, got " + parsed.map(lambda v: f"{v:g}")
                ),
            )
        if column.max_value is not None:
            problems.add(
                parsed > column.max_value,
                lambda: (
                    f"{name}: must be at most {column.max_value:g}, got " + parsed.map(lambda v: f"{v:g}")
                ),
            )
        implausible = parsed.notna() & (~np.isfinite(parsed) | (parsed.abs() > MAX_MAGNITUDE))
        problems.add_each(implausible, parsed, lambda v: number_problem(name, v))
    elif column.type == "bool":
        if pd.api.types.is_bool_dtype(values):
            parsed = values.astype(object)
            missing = values.isna()
        else:
            text = _as_text(values).str.lower()
            flags = np.full(len(text), None, dtype=object)
            flags[text.isin(_TRUE).to_numpy(dtype=bool)] = True
            flags[text.isin(_FALSE).to_numpy(dtype=bool)] = False
            parsed = pd.Series(flags, dtype=object)
            problems.add(
                text.notna() & pd.isna(parsed).to_numpy(),
                lambda: f"{name}: cannot read " + _quote(text) + " as true/false",
            )
            missing = text.isna()
        parsed = parsed.where(~missing, None)
    elif column.type == "list":
        parsed = values.astype(object).map(lambda v: _to_list(v, list_sep))
        missing = parsed.isna()
    elif column.type == "json":
        parsed, bad = _to_json(values)
        problems.add(bad, f"{name}: not a valid JSON object")
        missing = parsed.isna()
    else:
        parsed = _as_text(values)
        if name.endswith("_id"):
            # exports through a spreadsheet or pandas write integer ids as 17850.0 (see whole_id)
            parsed = _whole_ids(parsed)
        if column.enum is not None:
            lowered = parsed.str.lower()
            if column.name in _SYNONYMS:
                lowered = lowered.replace(_SYNONYMS[column.name])
            ok = lowered.isin(column.enum) | lowered.isna()
            allowed = f" (allowed: {', '.join(column.enum)})"
            problems.add(~ok, lambda: f"{name}: unknown value " + _quote(parsed) + allowed)
            parsed = lowered
        suspect = (
            parsed.str.contains("\x00", regex=False)
            | (parsed.str.slice(0, 1).isin(["{", "["]) & parsed.str.slice(-1).isin(["}", "]"]))
        ).fillna(False)
        problems.add_each(suspect, parsed, lambda t: text_problem(name, str(t)))
        missing = parsed.isna()
        parsed = parsed.astype(object).where(parsed.notna(), None)
    if column.required and not optional:
        problems.add(np.asarray(missing, dtype=bool), f"{name}: required value is missing")
    elif optional:
        problems.missing[name] = np.asarray(missing, dtype=bool)
    return parsed


#: ``--date-format`` names for Unix times, and the unit each counts in.
EPOCH_FORMATS: dict[str, Literal["s", "ms"]] = {"epoch": "s", "epoch_ms": "ms", "%s": "s"}
#: Without a format, a 9–10-digit integer is a Unix time in seconds, a 13-digit one in ms.
EPOCH_SECONDS, EPOCH_MILLIS = r"[0-9]{9,10}", r"[0-9]{13}"  # ASCII digits only, as pandas reads
_WHOLE_FLOAT = r"^\s*(-?[0-9]+)\.0+\s*$"


#: A number as plain decimal text (sign, digits, point, exponent): nothing Arrow and pandas
#: could read differently (no ``inf``, ``nan``, ``1_000``, spaces or thousands separators).
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _to_float(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")`` as float64.

    When every value of an Arrow-backed column is a plain decimal number, Arrow's cast reads
    them ten times faster than pandas and to the same doubles (both round correctly: a million
    random values of up to 21 digits compared equal); anything else goes through pandas.

    >>> _to_float(pd.Series(["1.5", None, "-2e3"], dtype="string[pyarrow]")).tolist()
    [1.5, nan, -2000.0]
    >>> _to_float(pd.Series(["1.5", "x"], dtype="string[pyarrow]")).tolist()
    [1.5, nan]
    """
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        values = pa.array(text.array)
        plain = pc.all(pc.match_substring_regex(values, _PLAIN_NUMBER)).as_py()
        if plain:
            try:
                cast = pc.cast(values, pa.float64())
            except pa.ArrowInvalid:
                pass
            else:
                return pd.Series(cast.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    return pd.to_numeric(text, errors="coerce").astype("float64")


def whole_id(text: str) -> str:
    """An identifier as text, with an integer exported as a float (``17850.0``) made whole.

    >>> whole_id("17850.0"), whole_id("C-2.50"), whole_id("0.0")
    ('17850', 'C-2.50', '0')
    """
    m = re.fullmatch(_WHOLE_FLOAT, text)
    return m.group(1) if m else text


def _whole_ids(text: pd.Series) -> pd.Series:
    """:func:`whole_id` on a column: in Arrow (RE2) when the column is Arrow-backed text, as
    from every reader here; pandas' own ``str.replace`` with a group loops in Python (9 s per
    million ids).

    >>> _whole_ids(pd.Series(["17850.0", "C-2.50", None], dtype="string")).tolist()
    ['17850', 'C-2.50', <NA>]
    """
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        replaced = pc.replace_substring_regex(pa.array(text.array), _WHOLE_FLOAT, r"\1")
        return pd.Series(replaced, dtype=text.dtype, index=text.index)
    return text.str.replace(_WHOLE_FLOAT, r"\1", regex=True)


def epoch_unit(text: str, date_format: str | None) -> Literal["s", "ms"] | None:
    """``"s"``/``"ms"`` when ``text`` is a Unix time (named by ``--date-format epoch`` /
    ``epoch_ms``, or a 9–10 / 13-digit integer when no format is given), else ``None``.

    >>> epoch_unit("964982703", None), epoch_unit("1445714994000", None), epoch_unit("20240131", None)
    ('s', 'ms', None)
    """
    if date_format is not None:
        return EPOCH_FORMATS.get(date_format)
    if re.fullmatch(EPOCH_SECONDS, text):
        return "s"
    return "ms" if re.fullmatch(EPOCH_MILLIS, text) else None


def _local_wall(utc: pd.Series, timezone: str) -> pd.Series:
    """Naive UTC instants as the shop's naive wall clock."""
    if is_utc(timezone):
        return utc
    local = utc.dt.tz_localize("UTC").dt.tz_convert(zone(timezone)).dt.tz_localize(None)
    return local.astype(utc.dtype)


def _parse_datetime(values: pd.Series, date_format: str | None, timezone: str = DEFAULT_ZONE) -> pd.Series:
    """Naive UTC instants: offsets converted, naive values read in ``timezone``, Unix times as is."""
    if pd.api.types.is_datetime64_any_dtype(values):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        return series_to_utc(s.astype("datetime64[us]"), timezone)  # e.g. Parquet without a zone
    text = _as_text(values)
    epoch = pd.Series(False, index=text.index)
    whole = _whole_ids(text)
    if date_format in EPOCH_FORMATS:
        unit = EPOCH_FORMATS[date_format]
        parsed = pd.to_datetime(pd.to_numeric(whole, errors="coerce"), unit=unit, errors="coerce", utc=True)
        epoch[:] = True
    else:
        fmt = date_format or "ISO8601"
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        except ValueError as exc:  # an unknown directive, not a bad value
            raise InputError(
                f"--date-format {fmt!r} is not a date format: {exc}",
                hint="use strftime codes such as %Y-%m-%d or %d/%m/%Y %H:%M, or epoch / epoch_ms",
            ) from None
        if date_format is None:  # Unix times, value by value (as the tracking API reads them)
            parsed = parsed.astype("datetime64[us, UTC]")
            for unit, pattern in (("s", EPOCH_SECONDS), ("ms", EPOCH_MILLIS)):
                hit = whole.str.fullmatch(pattern).fillna(False).astype(bool)
                if hit.any():
                    numbers = pd.to_numeric(whole[hit], errors="coerce")
                    stamps = pd.to_datetime(numbers, unit=unit, errors="coerce", utc=True)
                    parsed = parsed.mask(hit, stamps.astype("datetime64[us, UTC]"))
                    epoch |= hit
    utc = parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    if is_utc(timezone):
        return utc
    # pandas read a value without an offset as UTC: it was the shop's wall clock, so convert it
    offset = text.str.contains(OFFSET_SUFFIX).fillna(False).astype(bool)
    naive = (~epoch & ~offset & utc.notna()).to_numpy(dtype=bool)
    if naive.any():
        utc[naive] = series_to_utc(utc[naive], timezone).to_numpy()
    return utc


def _to_list(v: object, sep: str | None = None) -> list[str] | None:
    """A list column's value as a list of strings: typed lists as they are, JSON array text,
    else text split on ``sep`` (``--list-sep``; default ``;``)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, list | tuple | np.ndarray):
        items = [str(x).strip() for x in v if x is not None and str(x).strip()]
        return items
    if isinstance(v, float) and np.isnan(v):
        return None
    text = str(v).strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            loaded = json.loads(text)
            if isinstance(loaded, list):
                return [str(x).strip() for x in loaded if str(x).strip()]
        except json.JSONDecodeError:
            pass
    return [p.strip() for p in text.split(sep or ";") if p.strip()]


def _to_json(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """JSON-object text per row (dicts serialised), and which rows are not JSON objects.

    Each distinct text is parsed once: event properties repeat a lot, so this is fast.
    """
    raw = values.to_numpy(dtype=object)
    out = np.empty(len(raw), dtype=object)
    bad = np.zeros(len(raw), dtype=bool)
    is_dict = np.fromiter((isinstance(v, dict) for v in raw), dtype=bool, count=len(raw))
    for i in np.flatnonzero(is_dict):
        out[i] = json.dumps(raw[i], sort_keys=True, default=str)
    rest = np.flatnonzero(~is_dict)
    text = pd.Series(raw[rest], dtype=object).map(_json_text)
    uniques = pd.unique(text[text.notna()])
    valid = {u: _is_json_object(u) for u in uniques}
    ok = text.map(valid).astype("boolean").fillna(True).to_numpy(dtype=bool)
    texts = text.to_numpy(dtype=object, copy=True)
    texts[~ok] = None
    out[rest] = texts
    bad[rest] = ~ok
    return pd.Series(out, dtype=object), bad


def _json_text(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


def _extras_json(cols: dict[str, pd.Series], names: list[str], n: int) -> pd.Series:
    if not names:
        return pd.Series([None] * n, dtype=object)
    plain = [c.removeprefix("\x00extra:") for c in names]
    texts = [cols[c].reset_index(drop=True).to_numpy(dtype=object) for c in names]
    out = []
    for i in range(n):
        row = {k: _jsonable(t[i]) for k, t in zip(plain, texts, strict=True)}
        row = {k: v for k, v in row.items() if v is not None and v != ""}
        out.append(json.dumps(row, sort_keys=True, default=str) if row else None)
    return pd.Series(out, dtype=object)


def _jsonable(v: object) -> object:
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _split_categories(spec: TableSpec, frame: pd.DataFrame, sep: str) -> None:
    """``--list-sep`` on products: a category cell naming several (``Adventure|Animation``)
    keeps the first as the product's ``category`` and adds every one to its ``tags``, so tag
    affinities see each genre and category affinities a single one, never the joined text."""
    if spec.name != "products":
        return
    parts = frame["category"].map(lambda v: split_list(v, sep))
    several = parts.map(lambda p: p is not None and len(p) > 1).to_numpy(dtype=bool)
    if not several.any():
        return
    frame.loc[several, "category"] = parts[several].map(lambda p: p[0])
    frame.loc[several, "tags"] = pd.Series(
        [merge_tags(t, p) for t, p in zip(frame.loc[several, "tags"], parts[several], strict=True)],
        index=frame.index[several],
        dtype=object,
    )


def split_list(value: object, sep: str) -> list[str] | None:
    """The parts of a text cell split on ``sep``, stripped, empty parts dropped.

    >>> split_list("Adventure|Animation| Children", "|"), split_list(None, "|")
    (['Adventure', 'Animation', 'Children'], None)
    """
    if not isinstance(value, str):
        return None
    return [p.strip() for p in value.split(sep) if p.strip()]


def merge_tags(tags: object, more: list[str]) -> list[str]:
    """``tags`` (a list or missing) followed by the values of ``more`` not already in it."""
    out = list(tags) if isinstance(tags, list) else []
    out += [m for m in more if m not in out]
    return out


def _check_rules(spec: TableSpec, frame: pd.DataFrame, problems: _Problems) -> None:
    """Rules that involve more than one column (:func:`personae.live.rowcheck._rules` too)."""
    if spec.at_least_one_of:
        present = np.zeros(len(frame), dtype=bool)
        for c in spec.at_least_one_of:
            present |= frame[c].notna().to_numpy()
        problems.add(~present, "no identifier: needs one of " + ", ".join(spec.at_least_one_of))
    if spec.name == "orders":
        _order_rules(frame, problems)
    if spec.name == "customers":
        _customer_rules(frame)
    if spec.name == "texts":
        _text_rules(frame, problems)
    if spec.name == "surveys":
        default = frame["kind"].map(DEFAULT_SCALE_MAX).astype("float64")
        frame["scale_max"] = frame["scale_max"].fillna(default)
        _above_scale(frame, problems, "score", "scale_max")


def _above_scale(frame: pd.DataFrame, problems: _Problems, value: str, top: str) -> None:
    """Reject a ``value`` above the top of its scale (``top``); a missing value or top passes
    (NaN compares false), so rules about missing ones stay with their callers."""
    problems.add(
        (frame[value] > frame[top]).to_numpy(dtype=bool),
        lambda: (
            f"{value}: "
            + frame[value].map(lambda v: f"{v:g}")
            + " is above the top of the scale "
            + frame[top].map(lambda v: f"{v:g}")
        ),
    )


def _text_rules(frame: pd.DataFrame, problems: _Problems) -> None:
    """A text's source defaults to ``other``; a score needs its scale and must lie on it.

    A score without ``scale_max`` is rejected rather than guessed: 4 is a fine review on five
    stars and a detractor on an NPS scale, and the sentiment model learns from the difference.
    """
    frame["source"] = frame["source"].where(frame["source"].notna(), "other")
    scored = frame["score"].notna()
    problems.add(
        (scored & frame["scale_max"].isna()).to_numpy(dtype=bool),
        "score: needs scale_max, the top of its scale (e.g. --set scale_max=5 for stars, 10 for NPS)",
    )
    _above_scale(frame, problems, "score", "scale_max")


def _order_rules(frame: pd.DataFrame, problems: _Problems) -> None:
    """Amount from quantity × unit_price; returns; the rating against its scale.

    * ``amount`` missing (no column, or an empty cell) with a quantity and a unit price is
      their product; still missing, the row is rejected as before.
    * A negative quantity or amount is a **return** of that many units: both are stored
      negative (the value nets in spend) and ``returned`` is true.
    * ``rating_max`` is 5 where a row has a rating and no scale; a rating above it is rejected.
    """
    q, price = frame["quantity"], frame["unit_price"]
    missing = problems.missing.get("amount", frame["amount"].isna().to_numpy())
    derivable = (q.notna() & price.notna()).to_numpy()
    fill = missing & derivable
    if fill.any():
        product = (q * price).where(fill)
        frame["amount"] = frame["amount"].where(~fill, product)
        beyond = ~np.isfinite(product.to_numpy(dtype="float64")) | (product.abs() > MAX_MAGNITUDE).to_numpy()
        implausible = fill & beyond
        problems.add_each(implausible, product, lambda v: number_problem("amount", v))
    problems.add(missing & ~derivable, "amount: required value is missing")
    ret = ((q < 0) | (frame["amount"] < 0)).to_numpy(dtype=bool)
    if ret.any():
        frame["quantity"] = q.where(~ret, -q.abs())
        frame["amount"] = frame["amount"].where(~ret, -frame["amount"].abs())
        returned = frame["returned"].to_numpy(dtype=object, copy=True)
        returned[ret] = True
        frame["returned"] = pd.Series(returned, dtype=object)
    rated = frame["rating"].notna()
    frame["rating_max"] = frame["rating_max"].where(~rated | frame["rating_max"].notna(), DEFAULT_RATING_MAX)
    _above_scale(frame, problems, "rating", "rating_max")


def approximate_birth_year(age: float, now: datetime | None = None) -> float:
    """The birth year of someone ``age`` years old now: this year minus the completed years.

    Off by one for those whose birthday is still to come this year; the age trait made from it
    is as exact as an age column allows.

    >>> approximate_birth_year(34.9, datetime(2025, 3, 1))
    1991.0
    """
    year = (now or datetime.now(UTC)).year
    return float(year - math.floor(age))


def _customer_rules(frame: pd.DataFrame) -> None:
    """An age without a birth date (or birth year) becomes an approximate birth year."""
    need = (frame["age"].notna() & frame["birth_year"].isna() & frame["birth_date"].isna()).to_numpy(
        dtype=bool
    )
    if need.any():
        now = datetime.now(UTC)
        years = frame["age"].map(lambda a: approximate_birth_year(a, now) if pd.notna(a) else np.nan)
        frame["birth_year"] = frame["birth_year"].where(~need, years)
