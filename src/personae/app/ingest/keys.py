"""Row keys that make ingestion idempotent, and identity keys that link records to people.

Policy (documented in docs/data-model.md):

* customers, products, stores and postcodes are *entities*: the key is their id (postcodes:
  country and postcode as matched, ``GB|SW1A1AA``); a row with a known id and different values
  updates the entity, identical values are a duplicate.
* orders, events, surveys, texts and consents are *facts*: the key is the natural id where the
  row has one (``event_id``, ``response_id``, ``text_id``; for orders ``order_id`` plus the line's content, as
  an order has several lines; for consents the decision itself). An exact duplicate of such a
  row inside a file counts as a duplicate.
* Fact rows **without** an id are keyed by their content *and its occurrence number* in the
  file (the 1st, 2nd … identical row). Re-ingesting the file, or a later export that repeats
  it, adds nothing; but two identical id-less order lines in one file are two purchases and
  both are kept. This is what the customer-base literature does with CDNOW, whose 21
  identical same-day records must be summed to reproduce the published Gamma-Gamma fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from personae.schema import IDENTIFIER_KINDS, TableSpec
from personae.traits.places import postcode_key

ENTITY_TABLES = frozenset({"customers", "products", "stores", "postcodes"})


def content_hash(frame: pd.DataFrame, spec: TableSpec) -> pd.Series:
    """A stable 64-bit hash (hex) of a row's canonical values.

    Columns added to the schema later (``Column.late``) only count when the row has a value in
    one of them: a row without is hashed as before they existed, so re-ingesting a file stored
    by an older personae finds the same keys (duplicates, not new rows or updates).
    """
    cols = {}
    for c in spec.columns:
        s = frame[c.name]
        if c.type == "list":
            s = s.map(lambda v: ";".join(v) if isinstance(v, list) else None)
        cols[c.name] = _column_hash(s)
    hashed = _combine([cols[c.name] for c in spec.columns], len(frame))
    late = [c.name for c in spec.columns if c.late]
    if late:
        with_late = frame[late].notna().any(axis=1).to_numpy()
        if not with_late.all():
            before = _combine([cols[c.name] for c in spec.columns if not c.late], len(frame))
            hashed = np.where(with_late, hashed, before)
    return pd.Series(_hex(hashed), dtype=object)


#: pandas' marker for a missing value in a hashed categorical
_NULL_HASH = np.uint64(np.iinfo(np.uint64).max)


def _column_hash(s: pd.Series) -> np.ndarray:
    """``pd.util.hash_pandas_object(s, index=False)``, faster for text columns.

    pandas hashes an object column by factorising it into a categorical first (the nulls then
    hash as the all-ones marker); hashing every string directly gives the same numbers at a
    third of the cost when the column holds only strings (a mixed or boolean column keeps
    pandas' own path: its categories may be inferred as another type).
    """
    values = s.to_numpy()
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        null = pd.isna(values)
        if null.any():
            values = np.where(null, "", values)
        hashed = pd.util.hash_array(values, categorize=False)
        hashed[null] = _NULL_HASH
        return hashed
    return pd.util.hash_pandas_object(s, index=False).to_numpy()


def _combine(hashes: list[np.ndarray], n: int) -> np.ndarray:
    """The row hash of ``hashes`` (one per column), as ``pd.util.hash_pandas_object`` combines
    a data frame's columns (CPython's tuple hash)."""
    if not hashes:
        return np.full(n, 0x345678 + 97531, dtype=np.uint64)
    mult = np.uint64(1000003)
    out = np.zeros(n, dtype=np.uint64) + np.uint64(0x345678)
    for i, a in enumerate(hashes):
        out ^= a
        out *= mult
        mult += np.uint64(82520 + 2 * (len(hashes) - i))
    out += np.uint64(97531)
    return out


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex(values: np.ndarray) -> np.ndarray:
    """Each 64-bit value as 16 lower-case hex digits (``"%016x"``), vectorised.

    >>> _hex(np.array([0, 255, 2**64 - 1], dtype=np.uint64)).tolist()
    ['0000000000000000', '00000000000000ff', 'ffffffffffffffff']
    """
    raw = np.ascontiguousarray(values, dtype=">u8").view(np.uint8).reshape(-1, 8)
    digits = np.empty((len(values), 16), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    return digits.view("S16").ravel().astype("U16").astype(object)


def row_keys(
    frame: pd.DataFrame, spec: TableSpec, hashes: pd.Series, seen: dict[str, int] | None = None
) -> pd.Series:
    """The natural key of each row (see the module docstring for the policy).

    ``seen``: for a file read in chunks, how often each id-less content was met in the chunks
    before (updated here), so that occurrence numbers count across the whole file.
    """
    if spec.name == "postcodes":  # one row per postcode as matched (SW1A 1AA = sw1a1aa)
        return pd.Series(
            [postcode_key(str(c), str(p)) for c, p in zip(frame["country"], frame["postcode"], strict=True)],
            index=frame.index,
            dtype=object,
        )
    if spec.name in ENTITY_TABLES:
        return frame[spec.key[0]].astype(object)
    if spec.name == "consents":
        return hashes
    id_col = {"orders": "order_id", "events": "event_id", "surveys": "response_id", "texts": "text_id"}[
        spec.name
    ]
    ids = frame[id_col]
    no_id = ids.isna().to_numpy(dtype=bool)
    occ = pd.Series(np.zeros(len(hashes), dtype=np.int64), index=hashes.index)
    if no_id.any():
        occ[no_id] = occurrences(hashes[no_id], seen).to_numpy()
    without_id = "#" + hashes.astype("string") + ":" + occ.astype("string")
    if spec.name == "orders":
        with_id = ids.astype("string") + "|" + hashes.astype("string")
        return with_id.astype(object).where(ids.notna(), without_id.astype(object))
    return ids.astype(object).where(ids.notna(), without_id.astype(object))


def identifier_columns(spec: TableSpec) -> list[str]:
    """The table's identifier columns in precedence order."""
    return [k for k in IDENTIFIER_KINDS if k in spec.identifiers]


def identity_frame(frame: pd.DataFrame, spec: TableSpec, blocked: set[str]) -> pd.DataFrame:
    """Each row's identifiers as ``kind:value`` strings, blocked values removed (None)."""
    out = {}
    for col in identifier_columns(spec):
        values = frame[col].astype("string")
        usable = values.notna() & ~values.str.lower().isin(blocked)
        out[col] = (col + ":" + values).astype(object).where(usable, None)
    return pd.DataFrame(out)


def primary_identity(ids: pd.DataFrame) -> pd.Series:
    """The first usable identifier of each row, by precedence (``None`` when there is none)."""
    result = pd.Series([None] * len(ids), dtype=object)
    for col in ids.columns[::-1]:
        result = ids[col].where(ids[col].notna(), result)
    return result


def links(ids: pd.DataFrame, primary: pd.Series) -> pd.DataFrame:
    """Pairs ``(identifier_a, identifier_b)`` linking each row's primary identity to the rest."""
    parts = []
    for col in ids.columns:
        other = ids[col]
        mask = other.notna() & primary.notna() & (other != primary)
        if mask.any():
            parts.append(pd.DataFrame({"identifier_a": primary[mask], "identifier_b": other[mask]}))
    if not parts:
        return pd.DataFrame(
            {"identifier_a": pd.Series(dtype=object), "identifier_b": pd.Series(dtype=object)}
        )
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def occurrences(hashes: pd.Series, seen: dict[str, int] | None = None) -> pd.Series:
    """0 for the first row with a given hash, 1 for the second identical one, and so on.

    ``seen`` (updated in place) carries the counts of earlier chunks of the same file:

    >>> seen: dict[str, int] = {}
    >>> occurrences(pd.Series(["a", "b", "a"]), seen).tolist(), occurrences(pd.Series(["a"]), seen).tolist()
    ([0, 0, 1], [2])
    """
    codes, uniques = pd.factorize(hashes)
    if len(codes) == 0 or not pd.Series(codes).duplicated().any():
        out: pd.Series = pd.Series(np.zeros(len(codes), dtype=np.int64), index=hashes.index)
    else:
        out = pd.Series(codes, index=hashes.index).groupby(codes).cumcount().astype(np.int64)
    if seen is not None and len(codes):
        before = np.array([seen.get(u, 0) for u in uniques], dtype=np.int64)
        out = pd.Series(out.to_numpy() + before[codes], index=hashes.index)
        counts = np.bincount(codes, minlength=len(uniques))
        for u, b, c in zip(uniques, before, counts, strict=True):
            seen[u] = int(b + c)
    return out
