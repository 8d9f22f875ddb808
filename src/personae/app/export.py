"""Writing tables out: CSV or Parquet to a file, CSV or JSON to a stream.

Application-layer helper shared by the ``export`` commands.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from personae.errors import InputError

EXPORT_FORMATS = ("csv", "parquet", "json")


def plain(v: Any) -> Any:
    """A JSON-friendly version of a value from a data frame.

    >>> from decimal import Decimal
    >>> [plain(Decimal("3")), plain(Decimal("1.5")), plain(Decimal("NaN")), plain(float("nan"))]
    [3, 1.5, None, None]
    """
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, Decimal):  # DuckDB's SUM of integers (e.g. voice_traits.negative_texts_90d)
        if not v.is_finite():
            return None
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    if isinstance(v, np.ndarray | list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def finite(table: pa.Table) -> pa.Table:
    """``table`` with every NaN or infinity in a float column made a null (an empty cell).

    A ``nan`` in a file a user opens reads as data; an empty cell reads as "no value", which
    is what it is.

    >>> finite(pa.table({"x": [1.5, float("nan"), float("inf")]})).column("x").to_pylist()
    [1.5, None, None]
    """
    cols = []
    for col in table.columns:
        if pa.types.is_floating(col.type):
            col = pc.if_else(pc.is_finite(col), col, pa.scalar(None, col.type))
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def write_table(table: pa.Table, fmt: str, out: Path | None) -> None:
    """Write ``table`` as ``fmt`` to ``out`` (or stdout for csv/json); never a NaN or an infinity."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"--format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    table = finite(table)
    if fmt == "parquet":
        if out is None:
            raise InputError("Parquet needs a file: add --out FILE.parquet")
        pq.write_table(table, out)
        return
    if fmt == "json":
        text = json.dumps(records(table.to_pandas()), indent=2, allow_nan=False)
        _emit(text + "\n", out)
        return
    # CSV: lists joined with ';' like the canonical files
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_list(col.type):
            cols[name] = pa.array(
                [None if v is None else ";".join(map(str, v)) for v in col.to_pylist()], pa.string()
            )
        else:
            cols[name] = col
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(cols), buf)
    _emit(buf.getvalue().decode("utf-8"), out)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
