"""Row-wise validation, keys and identities for small groups of tracked rows. Pure, no I/O.

Why this exists: the file ingest (:mod:`personae.app.ingest.validate`, :mod:`personae.app.ingest.keys`)
is vectorised over whole columns with pandas — fast per row on a million-row file, but every
pandas operation has a fixed cost, and validating a group of 50 tracked events through it costs
hundreds of pandas calls (~150–300 ms per table on a busy machine) however few the rows. The
service commits small groups many times a second, so it needs the same rules applied row by row.

The rules are *the same* ones: they are read from the same :class:`~personae.schema.TableSpec`
(types, required, enums, minimums, ``at_least_one_of``, the survey scale rule), reuse the file
validator's helpers where those are already per value (``_to_list``, ``_json_text``,
``_stringify``) and reproduce the pandas/Arrow string semantics the file path has (Arrow's
lower-casing, RE2's ASCII ``\\D`` in phone normalisation, pandas' ISO 8601 and numeric parsers:
values outside the common fast shapes are parsed by pandas itself, one value at a time).
``tests/unit/live/test_rowcheck.py`` proves with hypothesis that, for the rows the service
builds, both paths accept and reject exactly the same rows with the same reasons, give the
same typed values, and the same content hashes and row keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personae.app.ingest.keys import ENTITY_TABLES, identifier_columns
from personae.app.ingest.validate import (
    _FALSE,
    _GENDER_SYNONYMS,
    _TRUE,
    _is_json_object,
    _json_text,
    _jsonable,
    _stringify,
    _to_list,
    approximate_birth_year,
    date_problem,
    epoch_unit,
    number_problem,
    plausible_window,
    text_problem,
    whole_id,
)
from personae.clock import DEFAULT_ZONE, OFFSET_SUFFIX, series_to_utc, to_local, to_utc
from personae.config.ingest import IngestSettings
from personae.identity.normalize import normalize_phones
from personae.schema import BOOKKEEPING_COLUMNS, DEFAULT_RATING_MAX, DEFAULT_SCALE_MAX, Column, TableSpec

Row = dict[str, Any]

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})?)?",
    re.ASCII,
)
_NUMBER = re.compile(r"[+-]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][+-]?\d{1,2})?", re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]")  # RE2's \D (what pandas' Arrow strings use) is ASCII-only


@dataclass
class CheckedRows:
    """Accepted rows (typed canonical values + ``properties_extra`` + ``_source_line``) and rejects.

    Typed values: timestamps/dates are naive UTC ``datetime`` (dates at midnight), numbers
    ``float``, booleans ``bool``, lists ``list[str]``, JSON and text ``str``; missing is ``None``.
    ``rejects`` holds ``(line, reason)`` sorted by line, as the file validator orders them.
    """

    rows: list[Row]
    rejects: list[tuple[int, str]]


def lower(text: str) -> str:
    """Lower-case exactly as pandas' Arrow-backed strings do (``utf8_lower``, not ``str.lower``)."""
    if text.isascii():
        return text.lower()
    return str(pc.utf8_lower(pa.scalar(text, pa.string())).as_py())


def column_sources(spec: TableSpec, names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Which source name feeds each canonical column, and the extra names (``map_columns``' rule)."""
    found = list(names)
    by_norm = {_norm(c): c for c in found}
    sources: dict[str, str] = {}
    for canonical in spec.column_names:
        match = by_norm.get(_norm(canonical))
        if match is not None:
            sources[canonical] = match
    used = set(sources.values())
    return sources, [c for c in found if c not in used]


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def source_names(spec: TableSpec, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns a group of rows has: the canonical ones, then every other key in order seen."""
    names: dict[str, None] = dict.fromkeys(spec.column_names)
    for r in rows:
        names.update(dict.fromkeys(r))
    return list(names)


def validate_rows(
    rows: Sequence[Mapping[str, Any]],
    spec: TableSpec,
    lines: Sequence[int],
    *,
    default_country_code: str = "1",
    settings: IngestSettings | None = None,
    timezone: str = DEFAULT_ZONE,
) -> CheckedRows:
    """Check and type each row for table ``spec`` (the rules of
    :func:`personae.app.ingest.validate.validate`; ``settings``: the plausible date window).

    A key absent from a row is a missing value; values are plain Python (str, numbers, bool,
    dict, list, ``None``). Each row stands alone: its own keys are matched to canonical columns
    (``map_columns``' rule: case, spaces and dashes ignored), so one message's odd trait name
    (``"Customer ID"``) cannot re-map the columns of the other messages in its group, as it
    would if the group were one file.
    """
    accepted: list[Row] = []
    rejects: list[tuple[int, str]] = []
    layouts: dict[tuple[str, ...], tuple[dict[str, str], list[str]]] = {}
    window = plausible_window(settings)
    for row, line in zip(rows, lines, strict=True):
        shape = tuple(row)
        if shape not in layouts:
            layouts[shape] = column_sources(spec, source_names(spec, [row]))
        sources, extras = layouts[shape]
        reasons: list[str] = []
        out: Row = {}
        missing: set[str] = set()
        for column in spec.columns:
            source = sources.get(column.name)
            value = row.get(source) if source else None
            out[column.name] = _parse(column, value, reasons, window, column.name in spec.derived, timezone)
            if column.name in spec.derived and _text(value) is None:
                missing.add(column.name)
        _rules(spec, out, reasons, missing)
        if reasons:
            rejects.append((int(line), "; ".join(reasons)))
            continue
        if "email" in out and out["email"] is not None:
            out["email"] = lower(out["email"].strip()) or None
        if "phone" in out and out["phone"] is not None:
            out["phone"] = phone(out["phone"], default_country_code)
        extra = {k: _jsonable(row.get(k)) for k in extras}
        extra = {k: v for k, v in extra.items() if v is not None and v != ""}
        out["properties_extra"] = json.dumps(extra, sort_keys=True, default=str) if extra else None
        out["_source_line"] = int(line)
        accepted.append(out)
    rejects.sort(key=lambda r: r[0])
    return CheckedRows(accepted, rejects)


def _text(value: Any) -> str | None:
    """``_as_text`` for one value: stringified, stripped, empty as missing."""
    if value is None:
        return None
    text = value if isinstance(value, str) else _stringify(value)
    if text is None:
        return None
    return text.strip() or None


def _quote(text: str) -> str:
    return "'" + text[:60] + "'"


def _parse(
    column: Column,
    value: Any,
    reasons: list[str],
    window: tuple[datetime, datetime],
    optional: bool = False,
    timezone: str = DEFAULT_ZONE,
) -> Any:
    name = column.name
    earliest, latest = window
    parsed: Any
    if column.type in ("timestamp", "date"):
        text = _text(value)
        parsed = None if text is None else parse_datetime(text, timezone)
        if text is not None and parsed is None:
            reasons.append(
                f"{name}: cannot read {_quote(text)} as a date/time "
                "(expected e.g. 2024-03-31 or 2024-03-31T14:05:00)"
            )
        if parsed is not None and (why := date_problem(name, parsed, latest, earliest)):
            reasons.append(why)
        if parsed is not None and column.type == "date":  # the shop's calendar day of the instant
            parsed = (
                parsed.normalize()
                if isinstance(parsed, pd.Timestamp)
                else to_local(parsed, timezone).replace(hour=0, minute=0, second=0, microsecond=0)
            )
        missing = text is None
    elif column.type in ("float", "int"):
        text = _text(value)
        parsed = None if text is None else parse_number(text)
        if text is not None and parsed is None:
            reasons.append(f"{name}: cannot read {_quote(text)} as a number")
        if column.min_value is not None and parsed is not None and parsed < column.min_value:
            reasons.append(f"{name}: must be at least {column.min_value:g}, got {parsed:g}")
        if column.max_value is not None and parsed is not None and parsed > column.max_value:
            reasons.append(f"{name}: must be at most {column.max_value:g}, got {parsed:g}")
        if parsed is not None and (why := number_problem(name, parsed)):
            reasons.append(why)
        missing = text is None
    elif column.type == "bool":
        text = _text(value)
        text = None if text is None else lower(text)
        parsed = None if text is None else True if text in _TRUE else False if text in _FALSE else None
        if text is not None and parsed is None:
            reasons.append(f"{name}: cannot read {_quote(text)} as true/false")
        missing = text is None
    elif column.type == "list":
        parsed = _to_list(value)
        missing = parsed is None
    elif column.type == "json":
        if isinstance(value, dict):
            parsed = json.dumps(value, sort_keys=True, default=str)
        else:
            parsed = _json_text(value)
            if parsed is not None and not _is_json_object(parsed):
                reasons.append(f"{name}: not a valid JSON object")
                parsed = None
        missing = parsed is None
    else:
        parsed = _text(value)
        if parsed is not None and name.endswith("_id"):
            parsed = whole_id(parsed)
        if column.enum is not None and parsed is not None:
            lowered = lower(parsed)
            if column.name == "gender":
                lowered = _GENDER_SYNONYMS.get(lowered, lowered)
            if lowered not in column.enum:
                reasons.append(f"{name}: unknown value {_quote(parsed)} (allowed: {', '.join(column.enum)})")
            parsed = lowered
        if parsed is not None and (why := text_problem(name, parsed)):
            reasons.append(why)
        missing = parsed is None
    if column.required and missing and not optional:
        reasons.append(f"{name}: required value is missing")
    return parsed


def _rules(spec: TableSpec, row: Row, reasons: list[str], missing: set[str]) -> None:
    if spec.at_least_one_of and all(row[c] is None for c in spec.at_least_one_of):
        reasons.append("no identifier: needs one of " + ", ".join(spec.at_least_one_of))
    if spec.name == "orders":
        _order_rules(row, reasons, "amount" in missing)
    no_birth = spec.name == "customers" and row["birth_year"] is None and row["birth_date"] is None
    if no_birth and row["age"] is not None:
        row["birth_year"] = approximate_birth_year(row["age"], datetime.now(UTC))
    if spec.name == "surveys":
        if row["scale_max"] is None:
            row["scale_max"] = DEFAULT_SCALE_MAX.get(row["kind"]) if row["kind"] is not None else None
        _above_scale(row, reasons, "score", "scale_max")
    if spec.name == "texts":
        _text_rules(row, reasons)


def _text_rules(row: Row, reasons: list[str]) -> None:
    """``personae.app.ingest.validate._text_rules`` for one row."""
    if row["source"] is None:
        row["source"] = "other"
    if row["score"] is not None and row["scale_max"] is None:
        reasons.append(
            "score: needs scale_max, the top of its scale (e.g. --set scale_max=5 for stars, 10 for NPS)"
        )
    _above_scale(row, reasons, "score", "scale_max")


def _above_scale(row: Row, reasons: list[str], value: str, top: str) -> None:
    """``personae.app.ingest.validate._above_scale`` for one row."""
    v, t = row[value], row[top]
    if v is not None and t is not None and v > t:
        reasons.append(f"{value}: {v:g} is above the top of the scale {t:g}")


def _order_rules(row: Row, reasons: list[str], amount_missing: bool) -> None:
    """``personae.app.ingest.validate._order_rules`` for one row."""
    q, price = row["quantity"], row["unit_price"]
    derivable = q is not None and price is not None
    if amount_missing and derivable:
        row["amount"] = q * price
        if why := number_problem("amount", row["amount"]):
            reasons.append(why)
    if amount_missing and not derivable:
        reasons.append("amount: required value is missing")
    amount = row["amount"]
    if (q is not None and q < 0) or (amount is not None and amount < 0):
        row["quantity"] = None if q is None else -abs(q)
        row["amount"] = None if amount is None else -abs(amount)
        row["returned"] = True
    if row["rating"] is not None and row["rating_max"] is None:
        row["rating_max"] = DEFAULT_RATING_MAX
    _above_scale(row, reasons, "rating", "rating_max")


def parse_datetime(text: str, timezone: str = DEFAULT_ZONE) -> datetime | None:
    """Pandas' ``to_datetime(format="ISO8601", utc=True)`` for one value, as naive UTC (µs),
    with a value without an offset read as the shop's local time in ``timezone`` (the file
    validator's rule, :func:`personae.clock.to_utc`).

    The shapes clients send (``2024-03-31``, ``2024-03-31T14:05:00[.ffffff][Z|±hh:mm]``) are
    parsed directly; anything else is handed to pandas itself so the answer is always pandas'.

    Example:
        >>> parse_datetime("2024-03-31T14:05:00+02:00")
        datetime.datetime(2024, 3, 31, 12, 5)
        >>> parse_datetime("2024-03-31")
        datetime.datetime(2024, 3, 31, 0, 0)
        >>> parse_datetime("2024-03-31", "Asia/Tokyo")
        datetime.datetime(2024, 3, 30, 15, 0)
        >>> parse_datetime("yesterday") is None
        True
    """
    unit = epoch_unit(whole_id(text), None)
    if unit is not None:  # a Unix time, as file ingest reads one
        count = int(whole_id(text))
        since = timedelta(milliseconds=count) if unit == "ms" else timedelta(seconds=count)
        return datetime(1970, 1, 1) + since
    m = _ISO.fullmatch(text)
    if m is not None:
        y, mo, d, h, mi, s, frac, tz = m.groups()
        year = int(y)
        if 1678 < year < 2261:
            try:
                at = datetime(
                    year,
                    int(mo),
                    int(d),
                    int(h or 0),
                    int(mi or 0),
                    int(s or 0),
                    int((frac or "0").ljust(6, "0")),
                )
            except ValueError:
                at = None
            if at is not None and tz and tz != "Z":
                hours, minutes = int(tz[1:3]), int(tz[4:6])
                if hours > 23 or minutes > 59:
                    at = None
                else:
                    offset = timedelta(hours=hours, minutes=minutes)
                    at = at - offset if tz[0] == "+" else at + offset
            if at is not None:
                return at if tz else to_utc(at, timezone)
    parsed = pd.to_datetime(pd.Series([text], dtype="string"), format="ISO8601", errors="coerce", utc=True)
    value = parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]").iloc[0]
    if pd.isna(value):
        return None
    # pandas reads some odd text (e.g. "-1": the year -1) beyond Python's datetime; keep its Timestamp
    if OFFSET_SUFFIX.search(text):
        return value.to_pydatetime() if 1 <= value.year <= 9999 else value
    if not 1 <= value.year <= 9999:  # as the file validator converts it: by pandas
        return series_to_utc(pd.Series([value], dtype="datetime64[us]"), timezone).iloc[0]
    return to_utc(value.to_pydatetime(), timezone)


def parse_number(text: str) -> float | None:
    """Pandas' ``to_numeric(errors="coerce")`` for one value, as a float (``None``: unreadable).

    Example:
        >>> parse_number("1e3"), parse_number("-0"), parse_number("12,5")
        (1000.0, 0.0, None)
    """
    if _NUMBER.fullmatch(text):
        # pandas reads an integer as an integer first ("-0" is 0, not -0.0)
        return float(int(text)) if text.lstrip("+-").isdigit() else float(text)
    parsed = pd.to_numeric(pd.Series([text], dtype="string"), errors="coerce").astype("float64")
    value = float(parsed.iloc[0])
    return None if np.isnan(value) else value


def phone(text: str, default_country_code: str = "1") -> str | None:
    """:func:`personae.identity.normalize.normalize_phones` for one value.

    Example:
        >>> phone("(555) 123-4567"), phone("+44 (0)20 7946 0958"), phone("12")
        ('+15551234567', '+442079460958', '12')
    """
    raw = text.strip()
    if not raw.isascii():  # Arrow's string kernels on non-ASCII text: let pandas decide
        result = normalize_phones(pd.Series([text], dtype=object), default_country_code)[0]
        return None if result is None else str(result)
    if raw.startswith("+") or raw.startswith("00"):
        raw = raw.replace("(0)", "")
    plus = raw.startswith("+")
    digits = _NOT_DIGIT.sub("", raw)
    cc = str(default_country_code).lstrip("+")
    out = digits
    intl = not plus and digits.startswith("00")
    if intl:
        out = digits[2:]
    trunk = not plus and not intl and digits.startswith("0")
    if trunk:
        out = cc + digits[1:]
    nanp = not plus and not intl and not trunk and len(digits) == 10 and cc == "1"
    if nanp:
        out = "1" + digits
    national = not plus and not intl and not trunk and not nanp
    if national and len(digits) < 11:
        out = digits
    e164 = 8 <= len(out) <= 15 and (plus or intl or trunk or not national or len(digits) >= 11)
    result = "+" + out if e164 else digits
    return None if result in ("", "+") else result


# -- keys and identities (personae.app.ingest.keys, row by row) ------------------------------------------
def content_hashes(rows: Sequence[Mapping[str, Any]], spec: TableSpec) -> list[str]:
    """:func:`personae.app.ingest.keys.content_hash` of typed rows: the same 64-bit hex per row.

    Each column is built with the dtype the file validator gives it (datetime64[us], float64,
    object) and hashed by pandas' own ``hash_array``, combined as ``hash_pandas_object`` does.
    """
    n = len(rows)
    if n == 0:
        return []
    full = _column_hashes(rows, spec, spec.columns)
    late = [c for c in spec.columns if c.late]
    if late:
        with_late = np.array([any(r.get(c.name) is not None for c in late) for r in rows], dtype=bool)
        if not with_late.all():  # a row without late values hashes as before they existed
            early = _column_hashes(rows, spec, tuple(c for c in spec.columns if not c.late))
            full = np.where(with_late, full, early)
    return [f"{int(h):016x}" for h in full]


def _column_hashes(
    rows: Sequence[Mapping[str, Any]], spec: TableSpec, columns: Sequence[Column]
) -> np.ndarray:
    """``hash_pandas_object`` of the typed rows over ``columns``."""
    n = len(rows)
    arrays = []
    for c in columns:
        values = [r.get(c.name) for r in rows]
        if c.type in ("timestamp", "date"):
            arr = _datetimes(values)
        elif c.type in ("float", "int"):
            arr = np.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            if c.type == "list":
                values = [";".join(v) if isinstance(v, list) else None for v in values]
            # hash_array(categorize=True) hashes the distinct values and gives nulls the
            # maximum uint64; doing that directly skips pandas' factorize (same hashes)
            present = [i for i, v in enumerate(values) if v is not None]
            hashed = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
            if present:
                arr = np.empty(len(present), dtype=object)
                arr[:] = [values[i] for i in present]
                hashed[present] = pd.util.hash_array(arr, categorize=False)
            arrays.append(hashed)
            continue
        arrays.append(pd.util.hash_array(arr))
    return _combine(arrays)


def _combine(arrays: list[np.ndarray]) -> np.ndarray:
    """How ``hash_pandas_object`` combines column hashes (pandas' ``combine_hash_arrays``)."""
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, a in enumerate(arrays):
        inverse = len(arrays) - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


def _datetimes(values: Sequence[Any]) -> np.ndarray:
    """Naive datetimes (or pandas Timestamps, ``None``) as datetime64[us], the validator's dtype."""
    out = np.full(len(values), np.datetime64("NaT", "us"))
    for i, v in enumerate(values):
        if isinstance(v, pd.Timestamp):
            out[i] = v.as_unit("us").to_datetime64()
        elif v is not None:
            out[i] = np.datetime64(v, "us")
    return out


def row_key_list(rows: Sequence[Mapping[str, Any]], spec: TableSpec, hashes: Sequence[str]) -> list[str]:
    """:func:`personae.app.ingest.keys.row_keys` row by row."""
    if spec.name in ENTITY_TABLES:
        return [r[spec.key[0]] for r in rows]
    if spec.name == "consents":
        return list(hashes)
    id_col = {"orders": "order_id", "events": "event_id", "surveys": "response_id"}[spec.name]
    seen: dict[str, int] = {}
    keys = []
    for r, h in zip(rows, hashes, strict=True):
        occurrence = seen.get(h, 0)
        seen[h] = occurrence + 1
        ident = r.get(id_col)
        if ident is None:
            keys.append(f"#{h}:{occurrence}")
        elif spec.name == "orders":
            keys.append(f"{ident}|{h}")
        else:
            keys.append(ident)
    return keys


def identities(row: Mapping[str, Any], spec: TableSpec, blocked: set[str]) -> list[tuple[str, str]]:
    """The row's usable identifiers ``(kind, "kind:value")`` in precedence order (``identity_frame``)."""
    out = []
    for col in identifier_columns(spec):
        v = row.get(col)
        if v is not None and lower(str(v)) not in blocked:
            out.append((col, f"{col}:{v}"))
    return out


def keyed(rows: list[Row], spec: TableSpec, blocked: set[str]) -> list[Row]:
    """Add ``_row_hash``, ``_row_key``, ``_identity``; drop rows without identity and duplicates.

    The service's version of the file loader's keying: customers keep the last row per key
    (a later identify wins), facts the first.
    """
    hashes = content_hashes(rows, spec)
    keys = row_key_list(rows, spec, hashes)
    out: list[Row] = []
    for row, h, k in zip(rows, hashes, keys, strict=True):
        ids = identities(row, spec, blocked)
        primary = ids[0][1] if ids else None
        if primary is None and spec.name != "customers":
            continue
        out.append({**row, "_row_hash": h, "_row_key": k, "_identity": primary})
    if spec.name == "customers":
        last = {r["_row_key"]: i for i, r in enumerate(out)}
        return [r for i, r in enumerate(out) if last[r["_row_key"]] == i]
    first: set[Any] = set()
    kept = []
    for r in out:
        if r["_row_key"] not in first:
            first.add(r["_row_key"])
            kept.append(r)
    return kept


def link_pairs(rows: Sequence[Row], spec: TableSpec, blocked: set[str]) -> list[tuple[str, str]]:
    """:func:`personae.app.ingest.keys.links` row by row: primary identity to each other identifier."""
    per_row = [dict(identities(r, spec, blocked)) for r in rows]
    pairs: dict[tuple[str, str], None] = {}
    for col in identifier_columns(spec):  # column-major, as the vectorised version concatenates
        for r, ids in zip(rows, per_row, strict=True):
            other, primary = ids.get(col), r.get("_identity")
            if other is not None and primary is not None and other != primary:
                pairs[(primary, other)] = None
    return list(pairs)


def to_arrow(rows: Sequence[Row], spec: TableSpec, source: str, now: datetime) -> pa.Table:
    """Typed keyed rows as the stored table (the file loader's ``_to_arrow`` column layout)."""
    n = len(rows)
    arrays: dict[str, pa.Array] = {}
    for c in spec.columns:
        values = [r.get(c.name) for r in rows]
        if c.type in ("timestamp", "date"):
            arrays[c.name] = pa.array(_datetimes(values), pa.timestamp("us"), from_pandas=True)
            if c.type == "date":
                arrays[c.name] = arrays[c.name].cast(pa.date32())
        elif c.type in ("float", "int"):
            arrays[c.name] = pa.array(values, pa.float64())
            if c.type == "int":
                arrays[c.name] = arrays[c.name].cast(pa.int64())
        elif c.type == "bool":
            arrays[c.name] = pa.array(values, pa.bool_())
        elif c.type == "list":
            arrays[c.name] = pa.array(values, pa.list_(pa.string()))
        else:
            arrays[c.name] = pa.array(values, pa.string())
    arrays["_row_key"] = pa.array([r["_row_key"] for r in rows], pa.string())
    arrays["_source_file"] = pa.array([source] * n, pa.string())
    arrays["_source_line"] = pa.array([r["_source_line"] for r in rows], pa.int64())
    arrays["_ingested_at"] = pa.array([now] * n, pa.timestamp("us"))
    arrays["properties_extra"] = pa.array([r.get("properties_extra") for r in rows], pa.string())
    arrays["_row_hash"] = pa.array([r["_row_hash"] for r in rows], pa.string())
    arrays["_identity"] = pa.array([r["_identity"] for r in rows], pa.string())
    assert {name for name, _ in BOOKKEEPING_COLUMNS} <= set(arrays)
    return pa.table(arrays)


def as_frame(rows: Sequence[Row], spec: TableSpec) -> pd.DataFrame:
    """Typed rows as the file validator's frame (same dtypes), for the rare paths that need pandas."""
    data: dict[str, pd.Series] = {}
    for c in spec.columns:
        values = [r.get(c.name) for r in rows]
        if c.type in ("timestamp", "date"):
            data[c.name] = pd.Series(_datetimes(values))
        elif c.type in ("float", "int"):
            data[c.name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        else:
            data[c.name] = pd.Series(values, dtype=object)
    extra = [
        k
        for k in ("properties_extra", "_source_line", "_row_hash", "_row_key", "_identity")
        if rows and k in rows[0]
    ]
    for k in extra:
        data[k] = pd.Series([r[k] for r in rows], dtype="int64" if k == "_source_line" else object)
    return pd.DataFrame(data)
