"""Fast builders of Arrow columns from NumPy arrays: ids, text timestamps, vocab lookups.

Formatting tens of millions of ids and timestamps with Python string operations (or even
with ``pyarrow.compute.strftime``) dominates the run time of a large data set. Every
fixed-width string here (``C000123``, ``2025-03-04T12:34:56``, ``+15551234567``) is
instead assembled as a ``(rows, width)`` byte matrix with integer arithmetic and handed to
Arrow as the data buffer of a string array, without copying. Variable text (names, JSON
properties) always comes from a small vocabulary, so it is a ``take`` by index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

#: a literal, or (values, width) for zero-padded decimals, or (values, width, base)
Part = str | tuple[np.ndarray, int] | tuple[np.ndarray, int, int]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MAX_BYTES = 2**31 - 1  # offsets of pa.string() are int32
SECONDS_PER_DAY = 86_400


_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).reshape(100, 2)
_QUADS = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), dtype=np.uint8).reshape(10_000, 4)


def _digits(values: np.ndarray, width: int, base: int) -> np.ndarray:
    """ASCII digits (base 10 or 16) of non-negative ``values`` as a ``(n, width)`` matrix.

    Decimal digits are produced four at a time from a table of "0000".."9999": this is
    the hottest loop of the generator (every id goes through it).
    """
    out = np.empty((len(values), width), dtype=np.uint8)
    if base == 16:  # shifts and masks, no division
        u = np.asarray(values).astype(np.uint64, copy=False)
        for k in range(width):
            shift = np.uint64(4 * (width - 1 - k))
            out[:, k] = _HEX[((u >> shift) & np.uint64(15)).astype(np.intp)]
        return out
    v = np.asarray(values).astype(np.int64, copy=True)
    k = width
    while k >= 4:
        v, quad = np.divmod(v, 10_000)
        out[:, k - 4 : k] = _QUADS[quad]
        k -= 4
    if k >= 2:
        v, pair = np.divmod(v, 100)
        out[:, k - 2 : k] = _PAIRS[pair]
        k -= 2
    if k == 1:
        out[:, 0] = _HEX[v % 10]
    return out


def fixed_width(parts: Sequence[Part], n: int, valid: np.ndarray | None = None) -> pa.Array:
    """Concatenate literals and zero-padded numbers into one fixed-width string array.

    Args:
        parts: literals (``"C"``) and ``(values, width[, base])`` number fields.
        n: number of rows (every number field has ``n`` values).
        valid: optional mask; rows where it is False become null.

    >>> fixed_width(["C", (np.array([1, 42]), 6)], 2).to_pylist()
    ['C000001', 'C000042']
    """
    widths = [len(p) if isinstance(p, str) else p[1] for p in parts]
    total = sum(widths)
    buf = np.empty((n, total), dtype=np.uint8)
    col = 0
    for part, width in zip(parts, widths, strict=True):
        if isinstance(part, str):
            buf[:, col : col + width] = np.frombuffer(part.encode("ascii"), dtype=np.uint8)
        else:
            base = part[2] if len(part) == 3 else 10
            buf[:, col : col + width] = _digits(part[0], width, base)
        col += width
    return _from_matrix(buf, valid)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers such as ``O0000042``; ``numbers`` below zero become null."""
    numbers = np.asarray(numbers)
    valid = numbers >= 0
    return fixed_width([prefix, (np.where(valid, numbers, 0), width)], len(numbers), valid)


def id_width(minimum: int, largest: int) -> int:
    """Digits needed for ids up to ``largest``, but at least ``minimum`` (keeps ids tidy)."""
    return max(minimum, len(str(max(largest, 1))))


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01.

    Calendar arithmetic runs once per distinct day of the covered range, then is indexed:
    data sets span a few thousand days but millions of rows.
    """
    days = np.asarray(days, dtype=np.int64)
    if not len(days):
        return days, days, days
    lo = int(days.min())
    d = np.arange(lo, int(days.max()) + 1).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    i = days - lo
    return year[i], month[i], day[i]


def _day_text(lo: int, hi: int) -> np.ndarray:
    """``(hi - lo + 1, 10)`` bytes: ``YYYY-MM-DD`` of each day from ``lo`` to ``hi``."""
    year, month, day = _civil(np.arange(lo, hi + 1))
    n = len(year)
    text = np.empty((n, 10), dtype=np.uint8)
    text[:, 0:4] = _digits(year, 4, 10)
    text[:, 4] = ord("-")
    text[:, 5:7] = _digits(month, 2, 10)
    text[:, 7] = ord("-")
    text[:, 8:10] = _digits(day, 2, 10)
    return text


def _time_text() -> np.ndarray:
    """``(86400, 9)`` bytes: ``THH:MM:SS`` of every second of a day."""
    tod = np.arange(SECONDS_PER_DAY)
    text = np.empty((SECONDS_PER_DAY, 9), dtype=np.uint8)
    text[:, 0] = ord("T")
    text[:, 1:3] = _digits(tod // 3600, 2, 10)
    text[:, 3] = ord(":")
    text[:, 4:6] = _digits(tod // 60 % 60, 2, 10)
    text[:, 6] = ord(":")
    text[:, 7:9] = _digits(tod % 60, 2, 10)
    return text


_TIME_TEXT = _time_text()


def _from_matrix(buf: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """A string array whose row i is the bytes of ``buf[i]`` (all rows equally wide)."""
    n, width = buf.shape
    if n * width > _MAX_BYTES:  # pragma: no cover - callers work in chunks far below this
        raise ValueError(f"{n} rows of {width} bytes do not fit one Arrow string array")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)[: n + 1]
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(buf.ravel())])


def timestamp_text(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """ISO 8601 text without time zone (``2025-03-04T12:34:56``) of epoch seconds."""
    days, tod = np.divmod(np.asarray(seconds, dtype=np.int64), SECONDS_PER_DAY)
    buf = np.empty((len(days), 19), dtype=np.uint8)
    if len(days):
        lo = int(days.min())
        buf[:, :10] = _day_text(lo, int(days.max()))[days - lo]
        buf[:, 10:] = _TIME_TEXT[tod]
    return _from_matrix(buf, valid)


def date_text(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``YYYY-MM-DD`` text of days since 1970-01-01."""
    days = np.asarray(days, dtype=np.int64)
    buf = np.empty((len(days), 10), dtype=np.uint8)
    if len(days):
        lo = int(days.min())
        buf[:] = _day_text(lo, int(days.max()))[days - lo]
    return _from_matrix(buf, valid)


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A ``timestamp[s]`` column (no time zone) of epoch seconds."""
    mask = None if valid is None else ~np.asarray(valid)
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.int64(), mask=mask).cast(pa.timestamp("s"))


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A ``date32`` column of days since 1970-01-01."""
    mask = None if valid is None else ~np.asarray(valid)
    return pa.array(np.asarray(days, dtype=np.int32), pa.int32(), mask=mask).cast(pa.date32())


def lookup(vocab: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """Strings ``vocab[index]``; negative indices become null."""
    values = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), pa.string())
    index = np.asarray(index, dtype=np.int64)
    return values.take(pa.array(index, pa.int64(), mask=index < 0))


def list_column(vocab: Sequence[str], codes: np.ndarray) -> pa.Array:
    """A ``list<string>`` column from a ``(rows, k)`` code matrix (-1 = no item).

    Rows without any item are null rather than empty lists, so CSV shows an empty cell.
    """
    present = codes >= 0
    counts = present.sum(axis=1)
    offsets = np.zeros(len(codes) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = lookup(vocab, codes[present])
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(counts == 0))


def floats(values: np.ndarray, decimals: int = 2) -> pa.Array:
    """A float64 column rounded to ``decimals`` so CSV shows ``19.99``, not float noise."""
    return pa.array(np.round(np.asarray(values, dtype=np.float64), decimals), pa.float64())


def hashed(keys: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 of ``keys`` (uint64): stable pseudo-random ids that need no generator state.

    Cookie and device ids are derived from the person and a salt this way, so the same
    person has the same device in every chunk and in every module without passing it around.
    """
    with np.errstate(over="ignore"):
        z = np.asarray(keys, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hex_ids(prefix: str, keys: np.ndarray, width: int = 16, valid: np.ndarray | None = None) -> pa.Array:
    """Opaque hexadecimal ids (``prefix`` + ``width`` hex digits) of uint64 keys.

    Only valid rows are formatted (most event rows carry no cookie or device id).
    """
    keys = np.asarray(keys, dtype=np.uint64)
    if width < 16:
        keys = keys >> np.uint64(64 - 4 * width)
    if valid is None:
        return fixed_width([prefix, (keys, width, 16)], len(keys))
    rows = np.flatnonzero(valid)
    text = fixed_width([prefix, (keys[rows], width, 16)], len(rows))
    index = np.full(len(keys), -1, dtype=np.int64)
    index[rows] = np.arange(len(rows))
    return lookup(text, index)


class Vocabulary:
    """An append-only list of distinct strings addressed by index.

    Modules register the JSON property strings they will use (``{"rating": 4}``) once and
    then emit integer codes per row; the writer turns codes into text with one ``take``.
    """

    def __init__(self) -> None:
        self._items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, items: Sequence[str]) -> np.ndarray:
        """Register ``items`` (duplicates allowed) and return their codes."""
        codes = np.empty(len(items), dtype=np.int64)
        for i, item in enumerate(items):
            code = self._index.get(item)
            if code is None:
                code = self._index[item] = len(self._items)
                self._items.append(item)
            codes[i] = code
        return codes

    def array(self) -> pa.Array:
        """The registered strings as an Arrow array (index = code)."""
        return pa.array(self._items, pa.string())

    def __len__(self) -> int:
        return len(self._items)
