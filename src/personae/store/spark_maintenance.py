"""The privacy operations of :mod:`personae.store.maintenance` on the Spark engine.

The same contract, as Spark jobs over the warehouse: a table that holds the person is
rewritten as a new part without them (or with their mentions masked) and the old parts are
deleted when the manifest commits (:meth:`~personae.store.spark.SparkStore.replace_frame`),
so after an erasure no Parquet file of the warehouse, live or left over, holds their data.
A table that does not hold them is not rewritten.

Text masking runs the masks with Python's ``re`` on the executors (``mapInArrow``), in the
order the DuckDB SQL applies them (bare-number masks first, on values that are JSON
documents, then the text masks, each twice), so both engines mask the same text the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from personae.store.spark import SparkStore

#: A mask as the store takes it: (pattern, replacement, only for a bare number in JSON).
MaskSpec = tuple[str, str, bool]


def table_columns(store: SparkStore) -> dict[str, list[str]]:
    return {name: list(store.arrow_schema(name).names) for name in store.base_tables()}


def text_columns(store: SparkStore) -> dict[str, list[tuple[str, str]]]:
    """Text columns (``VARCHAR``) and lists of text (``VARCHAR[]``), as DuckDB names them."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name in store.base_tables():
        for f in store.arrow_schema(name):
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
                out.setdefault(name, []).append((f.name, "VARCHAR"))
            elif pa.types.is_list(f.type) and pa.types.is_string(f.type.value_type):
                out.setdefault(name, []).append((f.name, "VARCHAR[]"))
    return out


def _any_in(columns: Sequence[str], values: Iterable[str]) -> Any:
    from pyspark.sql import functions as F  # start-up: pyspark only on this engine

    wanted = sorted(set(values))
    cond = F.lit(False)
    for c in columns:
        cond = cond | F.coalesce(F.col(f"`{c}`").cast("string").isin(wanted), F.lit(False))
    return cond


def delete_matching(store: SparkStore, table: str, columns: Sequence[str], values: Iterable[str]) -> int:
    df = store.dataframe(table)
    hit = _any_in(columns, values)
    n = df.filter(hit).count()
    if n:
        store.replace_frame(table, df.filter(~hit))
    return int(n)


def anonymise_matching(
    store: SparkStore,
    table: str,
    columns: Sequence[str],
    values: Iterable[str],
    token: str,
    clear: Sequence[str] = (),
) -> int:
    from pyspark.sql import functions as F  # start-up: pyspark only on this engine

    df = store.dataframe(table)
    hit = _any_in(columns, values)
    n = df.filter(hit).count()
    if not n:
        return 0
    df = df.withColumn("_hit", hit)
    out = [
        F.when(F.col("_hit"), F.lit(token)).otherwise(F.col(f"`{c}`")).alias(c)
        if c in columns
        else F.when(F.col("_hit"), F.lit(None)).otherwise(F.col(f"`{c}`")).alias(c)
        if c in clear
        else F.col(f"`{c}`")
        for c in df.columns
        if c != "_hit"
    ]
    store.replace_frame(table, df.select(*out))
    return int(n)


def delete_text_matching(
    store: SparkStore, table: str, columns: Sequence[str], patterns: Iterable[str]
) -> int:
    from pyspark.sql import functions as F  # start-up: pyspark only on this engine

    patterns = list(patterns)
    if not patterns or not columns:
        return 0
    union = "(?i)" + "|".join(f"(?:{p})" for p in patterns)
    hit = F.lit(False)
    for c in columns:
        hit = hit | F.coalesce(F.col(f"`{c}`").cast("string").rlike(union), F.lit(False))
    df = store.dataframe(table)
    n = df.filter(hit).count()
    if n:
        store.replace_frame(table, df.filter(~hit))
    return int(n)


def _is_json(text: str) -> bool:
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _masked(text: str, masks: Sequence[MaskSpec], union: re.Pattern[str]) -> str:
    """``text`` as the DuckDB SQL masks it (see the module docstring)."""
    if not union.search(text):
        return text
    numbers = [m for m in masks if m[2]] if _is_json(text) else []
    for pattern, replacement, _ in [*numbers, *[m for m in masks if not m[2]]]:
        for _ in range(2):
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


def mask_text_columns(
    store: SparkStore, table: str, columns: Sequence[tuple[str, str]], masks: Sequence[MaskSpec]
) -> dict[str, int]:
    """Mask every mention in the text ``columns`` of ``table``; how many values per column."""
    from pyspark.sql import functions as F  # start-up: pyspark only on this engine

    if not masks or not columns:
        return {}
    union = "|".join(f"(?:{m[0]})" for m in masks)
    df = store.dataframe(table)

    def hit(c: str, kind: str) -> Any:
        if kind.endswith("[]"):
            return F.coalesce(F.exists(F.col(f"`{c}`"), lambda x: x.rlike("(?i)" + union)), F.lit(False))
        return F.coalesce(F.col(f"`{c}`").cast("string").rlike("(?i)" + union), F.lit(False))

    counts = df.select(*[F.sum(hit(c, k).cast("long")).alias(c) for c, k in columns]).collect()[0]
    found = {c: int(counts[c]) for c, _ in columns if counts[c]}
    if not found:
        return {}
    spec = list(masks)
    names = [c for c, _ in columns if c in found]
    schema = df.schema

    def mask(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pattern = re.compile(union, re.IGNORECASE)
        for rb in batches:
            arrays = []
            for i, name in enumerate(rb.schema.names):
                col = rb.column(i)
                if name in names:
                    values = col.to_pylist()
                    if pa.types.is_list(col.type):
                        values = [
                            None
                            if v is None
                            else [None if x is None else _masked(x, spec, pattern) for x in v]
                            for v in values
                        ]
                    else:
                        values = [None if v is None else _masked(v, spec, pattern) for v in values]
                    col = pa.array(values, col.type)
                arrays.append(col)
            yield pa.RecordBatch.from_arrays(arrays, schema=rb.schema)

    store.replace_frame(table, df.mapInArrow(mask, schema))
    return found


def sweep(store: SparkStore) -> list[str]:
    """Delete every part folder of the warehouse the manifest does not list (a crashed
    writer's leftovers, an interrupted ingest's staging): after an erasure no file the
    manifest forgot may still hold the person. Returns what was deleted."""
    warehouse = store.warehouse
    live = {p for name in store.base_tables() for p in store._tables[name]}
    gone = []
    selector = pafs.FileSelector(warehouse.root, recursive=False)
    for top in warehouse.fs.get_file_info(selector):
        if top.type != pafs.FileType.Directory:
            continue
        name = top.path[len(warehouse.root) + 1 :]
        for part in warehouse.fs.get_file_info(pafs.FileSelector(top.path, recursive=False)):
            relative = f"{name}/{part.path[len(top.path) + 1 :]}"
            if part.type == pafs.FileType.Directory and relative not in live:
                gone.append(relative)
    warehouse.delete_parts(gone)
    return gone
