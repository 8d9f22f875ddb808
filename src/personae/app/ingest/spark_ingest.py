"""``personae --engine spark ingest``: read, validate, de-duplicate and store files as Spark jobs.

The same guarantees as :mod:`personae.app.ingest.loader` (``read == accepted + rejected +
duplicates``, rejects with their line and reason, idempotent re-ingest, identity links, all or
nothing), with no DuckDB and no whole-file pass on the driver but one SHA-256 of each file:

1. **Read** — a file or a folder (every file of the format in it, as Spark reads a folder).
   CSV and JSON Lines are read as *text*, one row per physical line, numbered per file: each
   line's ``monotonically_increasing_id`` minus the first id of its file block, plus the lines
   of the blocks before it in the same file (a small job counts the lines of each block).
   Parquet rows are numbered by ``_metadata.row_index``.
2. **Validate** — ``mapInArrow`` runs THE validator (:func:`~personae.app.ingest.validate.validate`,
   the one the DuckDB path runs) on each slice of each file, with the content hash, the row
   key, the identity and the tombstone check; accepted rows and rejects are written to a
   staging folder of the warehouse (``_staging/<id>``), so the rest reads them back instead
   of validating twice.
3. **De-duplicate** — windows over the row key (inside the files: first fact wins, last entity
   wins) and a join with the table's stored keys (duplicates, updates, conflicts), as the
   DuckDB path does in SQL; id-less facts get their occurrence number per file and content.
4. **Write** — one :meth:`~personae.store.Store.transaction`: the executors write the new
   parts (:meth:`~personae.store.spark.SparkStore.append_frame`), rejects and the run record
   go with them, the manifest commits once. A failure deletes the staged parts.

What a "line" is on Spark: a CSV record is one physical line. A quoted value holding a line
break (which the DuckDB path reads as one record starting on its first line) is rejected
line by line on Spark — each piece keeps its line number and raw text, so nothing is lost,
and the hint says to ingest that file on DuckDB. Blank lines are no records (as on DuckDB);
a file's first line is its header, and every file of a folder must have the same header.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app.ingest.keys import (
    ENTITY_TABLES,
    content_hash,
    identifier_columns,
    identity_frame,
    links,
    primary_identity,
    row_keys,
)
from personae.app.ingest.linking import add_links_and_resolve
from personae.app.ingest.loader import IngestSummary, Progress, _to_arrow, blocked_values, table_spec
from personae.app.ingest.readers import (
    _EXTENSIONS,
    MAX_DEPTH,
    RawBatch,
    StructuralReject,
    _arrow_block,
    _delimiter,
    _depth,
    _parquet_batch,
    detect_format,
    header_names,
)
from personae.app.ingest.validate import ValidatedBatch, validate
from personae.app.tombstones import database_secret, erased_hashes, identifiers_hit, texts_hit
from personae.clock import DEFAULT_ZONE
from personae.config import IdentitySettings
from personae.config.ingest import IngestSettings
from personae.errors import FormatError
from personae.schema import TableSpec
from personae.store.spark import SparkStore

#: The id column of each fact table (id-less rows are keyed by content and occurrence).
_ID_COLUMN = {"orders": "order_id", "events": "event_id", "surveys": "response_id", "texts": "text_id"}

_SPARK_LINE_HINT = (
    "on Spark a CSV record is one line: ingest a file whose quoted values hold line breaks "
    "with the DuckDB engine"
)


@dataclass(frozen=True)
class _Files:
    """What is ingested: the files (local paths, in name order), their format and fingerprint."""

    given: Path
    files: list[Path]
    format: str
    delimiter: str | None
    sha256: str


def _files(path: Path, fmt: str | None, delimiter: str | None) -> _Files:
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
        kinds = {p: _EXTENSIONS.get(p.suffix.lower()) for p in candidates}
        kind = detect_format(path, fmt) if fmt else None
        if kind is None:
            found = sorted({k for k in kinds.values() if k})
            if len(found) != 1:
                what = "files of several formats" if found else "no CSV, Parquet or JSON Lines files"
                raise FormatError(
                    f"{path}: {what} in the folder",
                    hint="pass --format csv, parquet or jsonl to say which files to read",
                )
            kind = found[0]
        kind = "csv" if kind == "tsv" else kind
        files = [p for p in candidates if kinds[p] == kind or (fmt and kinds[p] is None)]
        if not files:
            raise FormatError(f"{path}: no {kind} files in the folder")
    elif path.is_file():
        kind = detect_format(path, fmt)
        files = [path]
    else:
        raise FormatError(f"{path}: no such file or folder")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
        raise FormatError(
            f"--delimiter {delimiter!r}: expected one character", hint="e.g. --delimiter ';' or $'\\t'"
        )
    digests = []
    for f in files:
        h = hashlib.sha256()
        with f.open("rb") as stream:
            while block := stream.read(8 * 1024 * 1024):
                h.update(block)
        digests.append(h.hexdigest())
    if len(files) == 1 and not path.is_dir():
        sha = digests[0]
    else:  # a folder: its files' names and contents
        sha = hashlib.sha256(
            "\n".join(f"{f.name}\t{d}" for f, d in zip(files, digests, strict=True)).encode()
        ).hexdigest()
    given = delimiter or ("\t" if kind == "tsv" else None)
    return _Files(path, files, "csv" if kind in ("csv", "tsv") else kind, given, sha)


def _csv_header(files: _Files) -> tuple[list[str], str]:
    """The column names and the separator, from the header lines (all the same)."""
    heads = []
    for f in files.files:
        with f.open("rb") as stream:
            head = stream.readline()
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        heads.append(head.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r"))
    first = heads[0]
    delimiter = _delimiter(files.files[0], first, files.delimiter)
    header = next(csv.reader([first], delimiter=delimiter), [])
    if not any(h.strip() for h in header):
        raise FormatError(f"{files.files[0]}: the header line is empty")
    for f, h in zip(files.files, heads, strict=True):
        if h != first:
            raise FormatError(
                f"{f}: its header differs from {files.files[0].name}'s",
                hint="a folder is ingested as one file: every file needs the same columns",
            )
    return header_names(header), delimiter


def _source_name(files: _Files, f: Path) -> str:
    """What ``_source_file`` and the rejects say: the path as given, or the folder's file."""
    return str(files.given) if not files.given.is_dir() else str(files.given / f.name)


def _uri_path(uri: str) -> str:
    return str(Path(unquote(urlparse(uri).path)).resolve())


# -- the executors' side: one slice of one file -> accepted rows and rejects ------------------
@dataclass(frozen=True)
class _Job:
    """Everything an executor needs (pickled to it): no store, no session."""

    spec: TableSpec
    format: str
    names: list[str]
    delimiter: str
    mapping: dict[str, str] | None
    date_format: str | None
    country: str
    constants: Mapping[str, str] | None
    settings: IngestSettings | None
    list_sep: str | None
    timezone: str
    blocked: frozenset[str]
    secret: str
    known: frozenset[str]
    now: pd.Timestamp
    schema: pa.Schema


def _csv_batch(job: _Job, source: str, lines: np.ndarray, values: list[str]) -> RawBatch:
    """Physical lines of a CSV file as a batch (fast: Arrow; else line by line)."""
    n_fields = len(job.names)
    parsed = _arrow_block("\n".join(values).encode("utf-8"), job.names, job.delimiter) if values else None
    if parsed is not None and not any("\ufffd" in v for v in values):
        columns = {
            h: pd.Series(parsed.column(i).to_pandas(types_mapper=pd.ArrowDtype)).astype("string")
            for i, h in enumerate(job.names)
        }
        kept = values
        return RawBatch(source, "csv", "", columns, lines, lambda i: kept[i].rstrip("\r"))
    rows: list[list[str]] = []
    keep: list[int] = []
    rejects: list[StructuralReject] = []
    for i, text in enumerate(values):
        text = text.rstrip("\r")
        line = int(lines[i])
        if "\ufffd" in text:
            rejects.append(StructuralReject(line, "bad encoding: the line is not valid UTF-8", text))
            continue
        if text.count('"') % 2:
            rejects.append(
                StructuralReject(
                    line, f"a quoted value runs past the end of the line ({_SPARK_LINE_HINT})", text
                )
            )
            continue
        try:
            row = next(csv.reader([text], delimiter=job.delimiter))
        except csv.Error as exc:
            rejects.append(StructuralReject(line, f"unreadable CSV: {exc}", text))
            continue
        if len(row) != n_fields:
            rejects.append(
                StructuralReject(line, f"wrong number of fields: expected {n_fields}, found {len(row)}", text)
            )
            continue
        rows.append(row)
        keep.append(i)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in job.names]
    columns = {name: pd.Series(v, dtype="string") for name, v in zip(job.names, cols, strict=True)}
    raws = [values[i].rstrip("\r") for i in keep]
    return RawBatch(source, "csv", "", columns, lines[keep], lambda i: raws[i], rejects=rejects)


def _jsonl_batch(job: _Job, source: str, lines: np.ndarray, values: list[str]) -> RawBatch:
    """Lines of a JSON Lines file as a batch, with the readers' structural checks."""
    records: list[dict[str, Any]] = []
    keep: list[int] = []
    rejects: list[StructuralReject] = []
    for i, raw in enumerate(values):
        text, line = raw.strip(), int(lines[i])
        if "\ufffd" in text:
            rejects.append(StructuralReject(line, "bad encoding: the line is not valid UTF-8", text))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            rejects.append(StructuralReject(line, f"not valid JSON: {exc.msg} at column {exc.colno}", text))
            continue
        except RecursionError:
            rejects.append(StructuralReject(line, f"nested deeper than {MAX_DEPTH} levels", text))
            continue
        if isinstance(obj, dict) and _depth(obj) > MAX_DEPTH:
            rejects.append(StructuralReject(line, f"nested deeper than {MAX_DEPTH} levels", text))
            continue
        if not isinstance(obj, dict):
            rejects.append(StructuralReject(line, "not a JSON object (expected {...} per line)", text))
            continue
        records.append(obj)
        keep.append(i)
    names: dict[str, None] = {}
    for r in records:
        for k in r:
            names.setdefault(k, None)
    for k in job.names:  # keys other slices of the files have
        names.setdefault(k, None)
    columns = {n: pd.Series([r.get(n) for r in records], dtype=object) for n in names}
    raws = [values[i].strip() for i in keep]
    return RawBatch(source, "jsonl", "", columns, lines[keep], lambda i: raws[i], typed=True, rejects=rejects)


def _validate(job: _Job, batch: RawBatch) -> ValidatedBatch:
    """THE validator with this job's options (one place, so the two calls cannot drift)."""
    return validate(
        batch,
        job.spec,
        job.mapping,
        date_format=job.date_format,
        default_country_code=job.country,
        constants=job.constants,
        settings=job.settings,
        list_sep=job.list_sep,
        timezone=job.timezone,
    )


def _checked(job: _Job, batch: RawBatch) -> tuple[pa.Table | None, pd.DataFrame]:
    """THE validator on one batch, then keys and identity as :func:`loader._keyed` makes them."""
    spec = job.spec
    checked = _validate(job, batch)
    frame, parts = checked.frame, [checked.rejects]
    if frame.empty:
        return None, checked.rejects
    position = {int(line): i for i, line in enumerate(batch.lines)}
    frame["_raw"] = [batch.raw(position[int(line)]) for line in frame["_source_line"]]
    frame["_row_hash"] = content_hash(frame, spec)
    frame["_row_key"] = row_keys(frame, spec, frame["_row_hash"], {})
    id_col = _ID_COLUMN.get(spec.name)
    frame["_needs_occ"] = frame[id_col].isna().to_numpy(dtype=bool) if id_col else False
    if not spec.identifiers:
        frame["_identity"] = None
    else:
        ids = identity_frame(frame, spec, set(job.blocked))
        frame["_identity"] = primary_identity(ids)
        given = frame[list(ids.columns)].notna().any(axis=1).to_numpy()
        no_id = frame["_identity"].isna().to_numpy() & given
        if no_id.any():
            parts.append(
                pd.DataFrame(
                    {
                        "line": frame.loc[no_id, "_source_line"].to_numpy(),
                        "reason": "no usable identifier: only blocked placeholder values",
                        "raw": frame.loc[no_id, "_raw"].to_numpy(),
                    }
                )
            )
            frame, ids = frame[~no_id].reset_index(drop=True), ids[~no_id].reset_index(drop=True)
        gone = identifiers_hit(ids, job.secret, set(job.known)) if job.known else np.zeros(len(ids), bool)
        if gone.any():
            parts.append(
                pd.DataFrame(
                    {
                        "line": frame.loc[gone, "_source_line"].to_numpy(),
                        "reason": "belongs to an erased person (tombstone): not ingested, content not kept",
                        "raw": "",
                    }
                )
            )
            frame = frame[~gone].reset_index(drop=True)
    rejects = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    )
    if frame.empty:
        return None, rejects
    rows = _to_arrow(frame, spec, Path(batch.source), job.now)
    rows = rows.append_column("_raw", pa.array(frame["_raw"].astype(str).tolist(), pa.string()))
    rows = rows.append_column("_needs_occ", pa.array(frame["_needs_occ"].to_numpy(dtype=bool)))
    # _to_arrow names the file as a Path would print it; keep the source as given
    rows = rows.set_column(
        rows.schema.get_field_index("_source_file"), "_source_file", pa.array([batch.source] * len(rows))
    )
    return rows, rejects


def _out(job: _Job, rows: pa.Table | None, rejects: pd.DataFrame, source: str) -> Iterator[pa.RecordBatch]:
    """Rows and rejects in the one output schema (``_kind`` tells them apart)."""
    schema = job.schema
    if rows is not None and rows.num_rows:
        n = rows.num_rows
        arrays = []
        for f in schema:
            if f.name == "_kind":
                arrays.append(pa.array(["row"] * n, pa.string()))
            elif f.name == "_reason":
                arrays.append(pa.nulls(n, pa.string()))
            elif f.name in rows.column_names:
                arrays.append(rows.column(f.name).cast(f.type))
            else:
                arrays.append(pa.nulls(n, f.type))
        yield from pa.Table.from_arrays(arrays, schema=schema).to_batches()
    if len(rejects):
        n = len(rejects)
        given = {
            "_kind": pa.array(["reject"] * n, pa.string()),
            "_reason": pa.array(rejects["reason"].astype(str).tolist(), pa.string()),
            "_raw": pa.array(rejects["raw"].astype(str).tolist(), pa.string()),
            "_source_line": pa.array(rejects["line"].astype("int64").to_numpy()),
            "_source_file": pa.array([source] * n, pa.string()),
        }
        arrays = [given.get(f.name, pa.nulls(n, f.type)) for f in schema]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _validate_batches(job: _Job, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: each input batch split by file, each part validated."""
    for rb in batches:
        if rb.num_rows == 0:
            continue
        table = pa.Table.from_batches([rb])
        sources = table.column("_src").to_numpy(zero_copy_only=False)
        for source in pd.unique(sources):
            part = table.filter(pa.array(sources == source))
            lines = part.column("_line").to_numpy().astype(np.int64)
            if job.format == "parquet":
                data = part.drop_columns(["_src", "_line"])
                batch = _parquet_batch(Path(source), "", data, 1)
                batch.source = str(source)
                batch.lines = lines
            else:
                values = part.column("value").to_pylist()
                make = _csv_batch if job.format == "csv" else _jsonl_batch
                batch = make(job, str(source), lines, values)
            rows, rejects = _checked(job, batch)
            yield from _out(job, rows, rejects, str(source))


# -- the driver's side ------------------------------------------------------------------------
def _numbered_text(session: Any, files: _Files) -> Any:
    """Every non-blank physical line with its file (as given) and 1-based line number."""
    from pyspark.sql import functions as F  # start-up: pyspark only on the Spark engine

    names = {_uri_path(f.resolve().as_uri()): _source_name(files, f) for f in files.files}
    text = session.read.text([f.resolve().as_uri() for f in files.files]).select(
        "value",
        F.col("_metadata.file_path").alias("_uri"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_mid"),
    )
    blocks = text.groupBy("_uri", "_block").agg(F.min("_mid").alias("_first"), F.count("*").alias("_n"))
    rows = sorted((r["_uri"], r["_block"], r["_first"], r["_n"]) for r in blocks.collect())
    offsets, before, last = [], 0, None
    for uri, block, first, n in rows:
        before = 0 if uri != last else before
        offsets.append((uri, block, first, before, names[_uri_path(uri)]))
        before, last = before + n, uri
    table = session.createDataFrame(
        offsets, "_uri string, _block long, _first long, _before long, _src string"
    )
    numbered = text.join(F.broadcast(table), ["_uri", "_block"]).select(
        "value", "_src", (F.col("_before") + F.col("_mid") - F.col("_first") + 1).alias("_line")
    )
    if files.format == "csv":
        numbered = numbered.filter(F.col("_line") > 1)
    return numbered.filter(F.trim(F.col("value")) != "")


def _parquet_rows(session: Any, files: _Files) -> Any:
    from pyspark.sql import functions as F  # start-up: pyspark only on the Spark engine

    names = {_uri_path(f.resolve().as_uri()): _source_name(files, f) for f in files.files}
    df = session.read.parquet(*[f.resolve().as_uri() for f in files.files])
    table = session.createDataFrame([(uri, src) for uri, src in names.items()], "_path string, _src string")
    with_meta = df.select(
        "*",
        F.col("_metadata.file_path").alias("_uri"),
        (F.col("_metadata.row_index") + 1).alias("_line"),
    )
    # file_path is a URI; the table maps the resolved local path to the name as given
    path_of = F.udf(_uri_path, "string")
    return (
        with_meta.withColumn("_path", path_of("_uri")).join(F.broadcast(table), "_path").drop("_path", "_uri")
    )


def _empty_check(job: _Job, names: list[str], fmt: str) -> None:
    """Run the validator on no rows of the files' columns: a missing column stops here, on the
    driver, as one line with a hint (not as an executor's stack trace)."""
    columns = {n: pd.Series([], dtype="string" if fmt == "csv" else object) for n in names}
    batch = RawBatch("", fmt, "", columns, np.zeros(0, dtype=np.int64), str, typed=fmt != "csv")
    _validate(job, batch)


def ingest_on_spark(
    store: SparkStore,
    kind: str,
    path: Path | str,
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    identity: IdentitySettings | None = None,
    progress: Progress | None = None,
    tombstones: bool = True,
    constants: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    settings: IngestSettings | None = None,
    list_sep: str | None = None,
    timezone: str = DEFAULT_ZONE,
) -> IngestSummary:
    """Ingest a file or a folder of files of ``kind`` into a warehouse; see the module docstring."""
    from pyspark.sql import Window  # start-up: pyspark only on the Spark engine
    from pyspark.sql import functions as F  # start-up: pyspark only on the Spark engine
    from pyspark.sql.pandas.types import from_arrow_schema  # start-up: pyspark only on the Spark engine

    spec = table_spec(kind)
    identity = identity or IdentitySettings()
    report = progress or (lambda step, frac: None)
    path = Path(path)
    files = _files(path, fmt, delimiter)
    session = store.session
    known = frozenset(erased_hashes(store)) if tombstones else frozenset()
    secret = database_secret(store) if known else ""
    stored = store.arrow_schema(spec.name)
    extra = [
        ("_raw", pa.string()),
        ("_needs_occ", pa.bool_()),
        ("_kind", pa.string()),
        ("_reason", pa.string()),
    ]
    out_schema = pa.schema([*stored, *[pa.field(n, t) for n, t in extra]])
    now = pd.Timestamp(datetime.now()).floor("us")

    report("reading", 0.0)
    if files.format == "csv":
        names, sep = _csv_header(files)
        source = _numbered_text(session, files)
    elif files.format == "jsonl":
        sep = ","
        inferred = session.read.json([f.resolve().as_uri() for f in files.files]).columns
        names = [c for c in inferred if c != "_corrupt_record"]
        source = _numbered_text(session, files)
    else:
        sep = ","
        source = _parquet_rows(session, files)
        names = [c for c in source.columns if c not in ("_src", "_line")]
    job = _Job(
        spec=spec,
        format=files.format,
        names=names,
        delimiter=sep,
        mapping=mapping,
        date_format=date_format,
        country=identity.default_country_code,
        constants=constants,
        settings=settings,
        list_sep=list_sep,
        timezone=timezone,
        blocked=frozenset(blocked_values(identity)),
        secret=secret,
        known=known,
        now=now,
        schema=out_schema,
    )
    if files.format != "jsonl":  # JSON Lines: a key any line lacks is no missing column
        _empty_check(job, names, files.format)

    staging = f"_staging/{uuid.uuid4().hex}"
    warehouse = store.warehouse
    try:
        report("validating", 0.1)
        spark_schema = from_arrow_schema(out_schema, prefer_timestamp_ntz=True)
        validated = source.mapInArrow(lambda it: _validate_batches(job, it), spark_schema)
        validated.write.parquet(warehouse.spark_path(f"{staging}/validated"))
        staged = session.read.parquet(warehouse.spark_path(f"{staging}/validated"))

        report("de-duplicating", 0.5)
        rows = staged.filter(F.col("_kind") == "row")
        occ = Window.partitionBy("_source_file", "_row_hash", "_needs_occ").orderBy("_source_line")
        rows = rows.withColumn(
            "_row_key",
            F.when(
                F.col("_needs_occ"),
                F.concat(
                    F.lit("#"), F.col("_row_hash"), F.lit(":"), (F.row_number().over(occ) - 1).cast("string")
                ),
            ).otherwise(F.col("_row_key")),
        )
        entity = spec.name in ENTITY_TABLES
        order = [F.col("_source_file"), F.col("_source_line")]
        w = Window.partitionBy("_row_key").orderBy(*[c.desc() if entity else c.asc() for c in order])
        rows = (
            rows.withColumn("_win_file", F.first("_source_file").over(w))
            .withColumn("_win_line", F.first("_source_line").over(w))
            .withColumn("_win_hash", F.first("_row_hash").over(w))
        )
        loser = (F.col("_source_file") != F.col("_win_file")) | (F.col("_source_line") != F.col("_win_line"))
        same_file = F.col("_source_file") == F.col("_win_file")
        key = spec.key[0]
        if not entity:
            where = F.when(same_file, F.lit("")).otherwise(F.concat(F.lit(" of "), F.col("_win_file")))
            in_file_reason = F.concat(
                F.lit(f"same {key} as line "),
                F.col("_win_line").cast("string"),
                where,
                F.lit(", different content (the first was kept)"),
            )
        else:
            where = F.when(same_file, F.lit("")).otherwise(F.concat(F.lit(" of "), F.col("_win_file")))
            in_file_reason = F.concat(
                F.lit(f"{key} "),
                F.col("_row_key"),
                F.lit(" appears again on line "),
                F.col("_win_line").cast("string"),
                where,
                F.lit(" with different values; that later row was kept"),
            )
        stored_keys = store.dataframe(spec.name).select(
            F.col("_row_key").alias("_k"), F.col("_row_hash").alias("_h")
        )
        winners = rows.filter(~loser)
        matched = (
            winners.select("_source_file", "_source_line", "_row_key", "_row_hash")
            .join(stored_keys, F.col("_row_key") == F.col("_k"))
            .groupBy("_source_file", "_source_line")
            .agg(F.max((F.col("_row_hash") == F.col("_h")).cast("int")).alias("_same"))
        )
        clash_reason = f"same {key} as a row stored by an earlier ingest, different content"
        fate = (
            F.when(loser & (F.col("_row_hash") == F.col("_win_hash")), F.lit("dup"))
            .when(loser, F.lit("conflict"))
            .when(F.col("_same") == 1, F.lit("dup"))
            .when(F.col("_same") == 0, F.lit("update" if entity else "clash"))
            .otherwise(F.lit("new"))
        )
        reason = (
            F.when(F.col("_fate") == "conflict", in_file_reason)
            .when(F.col("_fate") == "clash", F.lit(clash_reason))
            .otherwise(F.col("_reason"))
        )
        classified = (
            rows.join(matched, ["_source_file", "_source_line"], "left")
            .withColumn("_fate", fate)
            .withColumn("_reason", reason)
            .drop("_win_file", "_win_line", "_win_hash", "_same")
        )
        classified.write.parquet(warehouse.spark_path(f"{staging}/classified"))
        classified = session.read.parquet(warehouse.spark_path(f"{staging}/classified"))
        counts = {
            r["_fate"]: int(r["n"])
            for r in classified.groupBy("_fate").agg(F.count("*").alias("n")).collect()
        }
        n_rejects_read = staged.filter(F.col("_kind") == "reject").count()

        rejects = (
            staged.filter(F.col("_kind") == "reject")
            .select(
                F.col("_source_file").alias("file"),
                F.col("_source_line").alias("line"),
                F.col("_reason").alias("reason"),
                F.col("_raw").alias("raw"),
            )
            .unionByName(
                classified.filter(F.col("_fate").isin("conflict", "clash")).select(
                    F.col("_source_file").alias("file"),
                    F.col("_source_line").alias("line"),
                    F.col("_reason").alias("reason"),
                    F.col("_raw").alias("raw"),
                )
            )
        )
        if known:
            rejects = _mask_erased(rejects, secret, known, identity.default_country_code)
        superseded = counts.get("conflict", 0) + counts.get("clash", 0)
        summary = IngestSummary(
            kind=spec.name,
            file=str(path),
            format=files.format,
            read=n_rejects_read + sum(counts.values()),
            accepted=counts.get("new", 0) + counts.get("update", 0),
            rejected=n_rejects_read + superseded,
            duplicates=counts.get("dup", 0),
            updated=counts.get("update", 0),
            ingest_id=uuid.uuid4().hex[:12],
            conflicts=0 if entity else superseded,
        )
        assert summary.read == summary.accepted + summary.rejected + summary.duplicates, summary

        report("writing", 0.8)
        new = classified.filter(F.col("_fate").isin("new", "update"))
        runs = store.table("ingest_runs")
        seen_before = bool(
            store.execute(runs.filter((runs.kind == spec.name) & (runs.file_sha256 == files.sha256)).count())
        )
        with store.transaction():
            if summary.updated:
                keys = [
                    r[0] for r in classified.filter(F.col("_fate") == "update").select("_row_key").collect()
                ]
                store.delete_where_in(spec.name, "_row_key", pa.array(keys, pa.string()))
            if summary.accepted:
                store.append_frame(spec.name, new)
            if not seen_before and summary.rejected:
                store.append_frame(
                    "rejects",
                    rejects.select(
                        F.lit(summary.ingest_id).alias("ingest_id"),
                        F.lit(spec.name).alias("kind"),
                        "file",
                        "line",
                        "reason",
                        "raw",
                        F.lit(now.to_pydatetime()).cast("timestamp_ntz").alias("rejected_at"),
                    ),
                )
            if spec.identifiers and summary.accepted and len(identifier_columns(spec)) > 1:
                summary.merges = add_links_and_resolve(
                    store, _links(new, spec, job.blocked), source=spec.name, now=now
                )
            store.append(
                "ingest_runs",
                pa.table(
                    {
                        "ingest_id": [summary.ingest_id],
                        "kind": [spec.name],
                        "file": [str(path)],
                        "file_sha256": [files.sha256],
                        "format": [files.format],
                        "read": [summary.read],
                        "accepted": [summary.accepted],
                        "updated": [summary.updated],
                        "rejected": [summary.rejected],
                        "duplicates": [summary.duplicates],
                        "started_at": pa.array([now], pa.timestamp("us")),
                        "finished_at": pa.array(
                            [pd.Timestamp(datetime.now()).floor("us")], pa.timestamp("us")
                        ),
                    }
                ),
            )
    finally:
        warehouse.delete_parts([staging])
    report("done", 1.0)
    return summary


def _links(new: Any, spec: TableSpec, blocked: frozenset[str]) -> pd.DataFrame:
    """The identity links of the new rows, computed by the executors, distinct, on the driver."""
    cols = [*identifier_columns(spec), "_identity"]
    schema = pa.schema([("identifier_a", pa.string()), ("identifier_b", pa.string())])

    def pairs(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for rb in batches:
            frame = rb.to_pandas()
            ids = identity_frame(frame, spec, set(blocked))
            found = links(ids, frame["_identity"].astype(object).where(frame["_identity"].notna(), None))
            yield pa.RecordBatch.from_pandas(found, schema=schema, preserve_index=False)

    from pyspark.sql.pandas.types import from_arrow_schema  # start-up: pyspark only on the Spark engine

    found = new.select(*cols).mapInArrow(pairs, from_arrow_schema(schema)).distinct()
    out = found.toPandas()
    return out.astype(object) if len(out) else links(pd.DataFrame(), pd.Series([], dtype=object))


def _mask_erased(rejects: Any, secret: str, known: frozenset[str], country: str) -> Any:
    """Rejected lines that hold an erased person's identifier keep their line, not their text."""
    suffix = " (belongs to an erased person: content not kept)"

    def mask(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for rb in batches:
            frame = rb.to_pandas()
            gone = texts_hit(frame["raw"], secret, set(known), default_country_code=country)
            if gone.any():
                frame.loc[gone, "raw"] = ""
                frame.loc[gone, "reason"] = frame.loc[gone, "reason"].astype(str) + suffix
            yield pa.RecordBatch.from_pandas(frame, schema=rb.schema, preserve_index=False)

    return rejects.mapInArrow(mask, rejects.schema)
