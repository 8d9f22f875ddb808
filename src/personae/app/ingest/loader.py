"""``personae ingest``: read, validate, de-duplicate and store one file — atomically.

The whole write (new rows, updated entities, rejects, identity links and the run record)
happens in one transaction: a crash or Ctrl-C leaves the store exactly as it was.
Invariant of every run: ``read == accepted + rejected + duplicates`` (updates of entities
count as accepted, and are also reported as ``updated``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app.export import records
from personae.app.ingest.keys import (
    ENTITY_TABLES,
    content_hash,
    identifier_columns,
    identity_frame,
    primary_identity,
    row_keys,
)
from personae.app.ingest.linking import StagedLinks, add_links_and_resolve
from personae.app.ingest.readers import CHUNK_ROWS, RawBatch, StreamedFile, prefetched, stream_file
from personae.app.ingest.validate import ValidatedBatch, validate
from personae.app.tombstones import erased_hashes, tombstoned, tombstoned_texts
from personae.clock import DEFAULT_ZONE
from personae.config import IdentitySettings
from personae.config.ingest import IngestSettings
from personae.errors import InputError
from personae.identity.normalize import normalize_emails, normalize_phones
from personae.schema import BOOKKEEPING_COLUMNS, TABLES, TableSpec
from personae.store import Store
from personae.store.ddl import quote
from personae.store.maintenance import compact_if_worth_it
from personae.store.scratch import Scratch, scratch

Progress = Callable[[str, float], None]

#: What the store may hold while it takes the accepted rows (its ``memory_limit`` setting, if
#: lower, wins): a database's own pool is not all it holds (a 600 MB store took 0.98 GB for 6M
#: order lines in one INSERT), so it is kept small for the write.
WRITE_MEMORY = "400MB"


@dataclass
class IngestSummary:
    """What one ingest did. ``read == accepted + rejected + duplicates`` always.

    ``conflicts`` counts the rejected fact rows (events, surveys) that share their id with
    another row but differ from it: the first was kept, the others are rejects with the line
    of the one that won — never counted as duplicates and dropped.
    """

    kind: str
    file: str
    format: str
    read: int
    accepted: int
    rejected: int
    duplicates: int
    updated: int = 0
    ingest_id: str = ""
    merges: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class IngestPreview:
    """What ``personae ingest --dry-run`` shows: nothing is written.

    The counts are the file's own: duplicates of stored rows, conflicts with them and erased
    people are only found when the file is really ingested.
    """

    kind: str
    file: str
    format: str
    read: int
    valid: int
    rejected: int
    #: canonical column ← where it comes from (a source column, or ``= value`` from --set)
    mapping: dict[str, str]
    #: source columns kept as ``properties_extra``
    extra: list[str]
    #: the first parsed rows, JSON-ready
    rows: list[dict[str, Any]]
    #: the first rejects: line and reason
    rejects: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def preview_file(
    kind: str,
    path: Path | str,
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    identity: IdentitySettings | None = None,
    constants: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    n: int = 5,
    settings: IngestSettings | None = None,
    list_sep: str | None = None,
    timezone: str = DEFAULT_ZONE,
) -> IngestPreview:
    """Read and validate ``path`` as ``ingest_file`` would, and show the result; write nothing.

    The file is read in chunks, as by ``ingest_file``: a dry run of any size holds one chunk.
    """
    spec = table_spec(kind)
    identity = identity or IdentitySettings()
    path = Path(path)
    source = stream_file(path, fmt, delimiter=delimiter)
    read = valid = rejected = 0
    heads: list[pd.DataFrame] = []
    first_rejects: list[tuple[int, str]] = []
    sources: dict[str, str] = {}
    extra: list[str] = []
    for i, batch in enumerate(source.chunks()):
        checked = validate(
            batch,
            spec,
            mapping,
            date_format=date_format,
            default_country_code=identity.default_country_code,
            constants=constants,
            settings=settings,
            list_sep=list_sep,
            timezone=timezone,
        )
        if i == 0:
            sources = checked.sources
            extra = [c for c in batch.columns if c not in sources.values()]
        read += batch.read
        valid += len(checked.frame)
        rejected += len(checked.rejects)
        if sum(len(h) for h in heads) < n:
            heads.append(checked.frame.head(n))
        first_rejects = sorted(
            first_rejects
            + [
                (int(line), str(reason))
                for line, reason in zip(
                    checked.rejects["line"][:n], checked.rejects["reason"][:n], strict=True
                )
            ]
        )[:n]
    first = pd.concat(heads, ignore_index=True).head(n)
    # the mapped columns, and those the rules filled in (amount from unit_price, birth_year
    # from age, rating_max, a return's returned flag)
    shown = first[[c for c in spec.column_names if c in sources or first[c].notna().any()]]
    return IngestPreview(
        kind=spec.name,
        file=str(path),
        format=source.format,
        read=read,
        valid=valid,
        rejected=rejected,
        mapping=sources,
        extra=extra,
        rows=records(shown),
        rejects=[{"line": line, "reason": reason} for line, reason in first_rejects],
    )


def table_spec(kind: str) -> TableSpec:
    try:
        return TABLES[kind]
    except KeyError:
        raise InputError(f"unknown kind {kind!r}", hint=f"use one of {', '.join(TABLES)}") from None


def blocked_values(settings: IdentitySettings) -> set[str]:
    """Blocked identifiers in every normalised form they could take."""
    raw = pd.Series(settings.blocked, dtype=object)
    forms = set(raw.str.strip().str.lower())
    forms |= {v for v in normalize_emails(raw) if v}
    forms |= {v.lower() for v in normalize_phones(raw, settings.default_country_code) if v}
    return forms


def ingest_file(
    store: Store,
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
    chunk_rows: int = CHUNK_ROWS,
) -> IngestSummary:
    """Ingest one file of ``kind`` into ``store``. See the module docstring for guarantees.

    The file is read and validated ``chunk_rows`` rows at a time; accepted rows are staged in a
    scratch database where the de-duplication runs as SQL, so memory follows the chunk, not
    the file. The store is written at the end, in one transaction.
    """
    spec = table_spec(kind)
    identity = identity or IdentitySettings()
    path = Path(path)
    report = progress or (lambda step, frac: None)
    source = stream_file(path, fmt, delimiter=delimiter, chunk_rows=chunk_rows)
    blocked = blocked_values(identity)
    now = pd.Timestamp(datetime.now()).floor("us")
    seen: dict[str, int] = {}
    read = 0
    started = time.perf_counter()
    with scratch() as work, _Stager(work) as stage:
        # three stages overlap: the next chunk is read (Arrow's reader) while this one is
        # validated, and the last one is staged (DuckDB) meanwhile; both release the GIL
        for batch in prefetched(source.chunks()):
            read += batch.read
            checked = validate(
                batch,
                spec,
                mapping,
                date_format=date_format,
                default_country_code=identity.default_country_code,
                constants=constants,
                settings=settings,
                list_sep=list_sep,
                timezone=timezone,
            )
            frame, rejects = _keyed(store, spec, batch, checked, blocked, seen, tombstones)
            if len(rejects):
                # kept in the scratch database, not in memory: a file whose every row is refused
                # (a wrong date format) has as many rejects as lines
                stage.append("rejects", _reject_table(rejects))
            if len(frame):
                stage.append("staged", _to_arrow(frame, spec, path, now))
            report(
                _rate("reading and validating", read, started), 0.8 * (source.position / max(source.size, 1))
            )
        stage.wait()
        report("de-duplicating", 0.8)
        dup_rejects, in_file_dups = _dedupe_in_file(work, spec)
        known = _known_keys(store, work, spec)
        new_sql, updated_keys, store_dups, clash = _against_store(work, spec, known)
        superseded = pd.concat([dup_rejects, clash], ignore_index=True)
        if len(superseded):
            raws = source.raws(superseded["line"].to_numpy())
            superseded["raw"] = [raws.get(int(line), "") for line in superseded["line"]]
            work.append("rejects", _reject_table(superseded))
        rejected = _count(work, "SELECT * FROM rejects") if work.has("rejects") else 0
        conflicts = 0 if spec.name in ENTITY_TABLES else len(superseded)
        accepted = _count(work, new_sql)
        ingest_id = uuid.uuid4().hex[:12]
        summary = IngestSummary(
            kind=spec.name,
            file=str(path),
            format=source.format,
            read=read,
            accepted=accepted,
            rejected=rejected,
            duplicates=in_file_dups + store_dups,
            updated=len(updated_keys),
            ingest_id=ingest_id,
            conflicts=conflicts,
        )
        assert summary.read == summary.accepted + summary.rejected + summary.duplicates, summary

        kept = _masked_rejects(store, work, identity.default_country_code) if tombstones else "rejects"

        report("writing", 0.85)
        seen_before = _file_seen(store, spec.name, source.sha256)
        try:
            _write(
                store,
                spec,
                path,
                source,
                now,
                summary,
                work,
                new_sql,
                updated_keys,
                kept,
                blocked,
                seen_before,
                report,
            )
        except Exception:
            # rolled back, but DuckDB keeps the file as large as the rows made it: give the space back
            # when it is worth a copy of the database (store.maintenance.compact_if_worth_it)
            compact_if_worth_it(store)
            raise
    report("done", 1.0)
    return summary


def _reject_table(rejects: pd.DataFrame) -> pa.Table:
    """Rejects (line, reason, raw) as the scratch database keeps them."""
    return pa.table(
        {
            "line": pa.array(rejects["line"].astype("int64"), pa.int64()),
            "reason": pa.array(rejects["reason"].astype(str), pa.string()),
            "raw": pa.array(rejects["raw"].astype(str), pa.string()),
        }
    )


def _count(work: Scratch, sql: str) -> int:
    """How many rows the query ``sql`` gives in the scratch database."""
    return int(work.sql(f"SELECT count(*) AS n FROM ({sql})").column("n")[0].as_py())


def _masked_rejects(store: Store, work: Scratch, default_country_code: str) -> str:
    """The scratch table of rejects to store: a rejected line never reached identity resolution,
    so its raw text is searched for erased people, whose content is not kept (batch by batch)."""
    if not work.has("rejects") or not erased_hashes(store):
        return "rejects"
    for batch in work.batches("SELECT line, reason, raw FROM rejects", CHUNK_ROWS):
        frame = batch.to_pandas()
        gone = tombstoned_texts(store, frame["raw"], default_country_code=default_country_code)
        if gone.any():
            frame.loc[gone, "raw"] = ""
            frame.loc[gone, "reason"] = (
                frame.loc[gone, "reason"].astype(str) + " (belongs to an erased person: content not kept)"
            )
        work.append("rejects_kept", _reject_table(frame))
    return "rejects_kept"


class _Stager:
    """Appends to the scratch database in a thread of its own, one append at a time, so that
    validating the next chunk overlaps staging this one; an append's error surfaces at the
    next :meth:`append` or at :meth:`wait`."""

    def __init__(self, work: Scratch) -> None:
        self.work = work
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personae-stage")
        self._pending: Future[None] | None = None

    def __enter__(self) -> _Stager:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BaseException):
            self.wait()
        self._pool.shutdown(wait=True)

    def append(self, name: str, data: pa.Table) -> None:
        self.wait()
        self._pending = self._pool.submit(self.work.append, name, data)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()


def _rate(step: str, rows: int, started: float) -> str:
    """``step`` with the rows done and their rate, for the progress bar.

    >>> _rate("reading", 0, 0.0)
    'reading 0 rows'
    """
    elapsed = time.perf_counter() - started
    if rows == 0 or elapsed <= 0:
        return f"{step} {rows:,} rows"
    return f"{step} {rows:,} rows ({rows / elapsed:,.0f} rows/s)"


def _keyed(
    store: Store,
    spec: TableSpec,
    batch: RawBatch,
    checked: ValidatedBatch,
    blocked: set[str],
    seen: dict[str, int],
    tombstones: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One validated chunk with its row keys and identity, and every reject it gives."""
    frame, rejects = checked.frame, checked.rejects
    frame["_row_hash"] = content_hash(frame, spec)
    frame["_row_key"] = row_keys(frame, spec, frame["_row_hash"], seen)
    parts = [rejects]
    if not spec.identifiers:
        frame["_identity"] = None
        return frame, rejects
    ids = identity_frame(frame, spec, blocked)
    frame["_identity"] = primary_identity(ids)
    # only blocked values: rejected; no identifier at all (an anonymous review, possible in
    # texts alone, whose identifiers are optional): kept, linked to nobody
    given = frame[list(ids.columns)].notna().any(axis=1).to_numpy()
    no_id = frame["_identity"].isna().to_numpy() & given
    if no_id.any():
        lines = frame.loc[no_id, "_source_line"].to_numpy()
        position = {int(line): i for i, line in enumerate(batch.lines)}
        parts.append(
            pd.DataFrame(
                {
                    "line": lines,
                    "reason": "no usable identifier: only blocked placeholder values",
                    "raw": [batch.raw(position[int(line)]) for line in lines],
                }
            )
        )
        frame, ids = frame[~no_id].reset_index(drop=True), ids[~no_id].reset_index(drop=True)
    gone = tombstoned(store, ids) if tombstones else np.zeros(len(ids), dtype=bool)
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
    parts = [p for p in parts if len(p)]
    rejects = pd.concat(parts, ignore_index=True) if parts else rejects
    return frame, rejects


def _dedupe_in_file(work: Scratch, spec: TableSpec) -> tuple[pd.DataFrame, int]:
    """Mark repeated keys inside the file (staged rows); return the rejects and duplicates.

    Facts: the first row of a key wins; later ones with the same content are duplicates, later
    ones with other content are rejected as conflicts (their reason names the line that won).
    Entities: the last row wins; earlier rows with identical values are duplicates, earlier
    rows with different values are rejected as superseded (so nothing disappears without a
    trace). The losers' lines land in the scratch table ``losers``.

    The repeated keys are found by their 64-bit hash first (a collision only adds a candidate:
    the window below partitions by the key itself): grouping 100M distinct key strings ran out
    of the scratch database's 400 MB, grouping their hashes takes 12 s and stays inside it.
    """
    empty = pd.DataFrame({"line": pd.Series(dtype="int64"), "reason": pd.Series(dtype=object)})
    work.execute("CREATE TABLE losers (_source_line BIGINT)")
    if not work.has("staged"):
        return empty, 0
    order = "ASC" if spec.name not in ENTITY_TABLES else "DESC"
    work.execute(
        f"""CREATE TABLE ranked AS
            WITH twice AS (SELECT hash(_row_key) AS h FROM staged GROUP BY 1 HAVING count(*) > 1),
            rep AS (SELECT DISTINCT s._row_key FROM staged s SEMI JOIN twice ON hash(s._row_key) = twice.h)
            SELECT s._row_key, s._row_hash, s._source_line,
                   first_value(s._source_line) OVER w AS win_line,
                   first_value(s._row_hash) OVER w AS win_hash
            FROM staged s SEMI JOIN rep ON s._row_key = rep._row_key
            WINDOW w AS (PARTITION BY s._row_key ORDER BY s._source_line {order})"""
    )
    work.execute("INSERT INTO losers SELECT _source_line FROM ranked WHERE _source_line <> win_line")
    dups = _count(work, "SELECT * FROM ranked WHERE _source_line <> win_line AND _row_hash = win_hash")
    differ = work.sql(
        "SELECT _source_line AS line, _row_key AS key, win_line FROM ranked "
        "WHERE _source_line <> win_line AND _row_hash <> win_hash ORDER BY _source_line"
    ).to_pandas()
    if differ.empty:
        return empty, int(dups)
    key = spec.key[0]
    if spec.name not in ENTITY_TABLES:
        reasons = (
            f"same {key} as line "
            + differ["win_line"].astype(str)
            + ", different content (the first was kept)"
        )
    else:
        reasons = (
            f"{key} "
            + differ["key"].astype(str)
            + " appears again on line "
            + differ["win_line"].astype(str)
            + " with different values; that later row was kept"
        )
    return pd.DataFrame({"line": differ["line"].astype("int64"), "reason": reasons.to_numpy()}), int(dups)


def _known_keys(store: Store, work: Scratch, spec: TableSpec) -> bool:
    """Stage ``known(k, h)``: the stored rows sharing a key with the file's; any at all?"""
    if not work.has("staged") or not store.execute(store.table(spec.name).count()):
        return False  # nothing stored yet: no need to fetch every key of the file (6M at 6M lines)
    keys = work.sql("SELECT DISTINCT _row_key AS k FROM staged").column("k")
    existing = store.existing_keys(spec.name, "_row_key", keys.combine_chunks().cast(pa.string()))
    if existing.num_rows == 0:
        return False
    work.append(
        "known", existing.select(["k", "h"]).cast(pa.schema([("k", pa.string()), ("h", pa.string())]))
    )
    return True


def _against_store(work: Scratch, spec: TableSpec, known: bool) -> tuple[str, pa.Array, int, pd.DataFrame]:
    """Compare the file's winning rows with the stored ones.

    Returns the SQL of the rows to add, the keys of entities to update (their stored rows are
    deleted first), how many rows the store holds already, and the rejects of facts whose id
    is stored with other content.
    """
    no_clash = pd.DataFrame({"line": pd.Series(dtype="int64"), "reason": pd.Series(dtype=object)})
    if not work.has("staged"):
        return "SELECT NULL AS _source_line WHERE false", pa.array([], pa.string()), 0, no_clash
    winners = "SELECT * FROM staged ANTI JOIN losers USING (_source_line)"
    if not known:
        return winners, pa.array([], pa.string()), 0, no_clash
    work.execute(
        f"""CREATE TABLE matched AS
            SELECT w._source_line, w._row_key,
                   bool_or(w._row_hash = k.h) AS same
            FROM ({winners}) w JOIN known k ON w._row_key = k.k
            GROUP BY w._source_line, w._row_key"""
    )
    same = _count(work, "SELECT * FROM matched WHERE same")
    if spec.name in ENTITY_TABLES:
        updated = work.sql("SELECT _row_key FROM matched WHERE NOT same ORDER BY _source_line").column(0)
        same_lines = "SELECT _source_line FROM matched WHERE same"
        new = f"SELECT * FROM ({winners}) w WHERE w._source_line NOT IN ({same_lines})"
        return new, updated.combine_chunks().cast(pa.string()), same, no_clash
    clash = work.sql(
        "SELECT _source_line AS line FROM matched WHERE NOT same ORDER BY _source_line"
    ).to_pandas()
    clash["reason"] = f"same {spec.key[0]} as a row stored by an earlier ingest, different content"
    new = f"SELECT * FROM ({winners}) w ANTI JOIN matched m USING (_source_line)"
    return new, pa.array([], pa.string()), same, clash


def _write(
    store: Store,
    spec: TableSpec,
    path: Path,
    source: StreamedFile,
    now: pd.Timestamp,
    summary: IngestSummary,
    work: Scratch,
    new_sql: str,
    updated_keys: pa.Array,
    rejects: str,
    blocked: set[str],
    seen_before: bool,
    report: Progress,
) -> None:
    """The ingest's one transaction: the rows, the rejects, the links, the run record.

    The scratch database is closed first and the store takes the rows from its file in one
    statement (:meth:`~personae.store.Store.append_from`), and the identity links of those rows
    the same way (:func:`_links_sql`): one engine holds memory during the write, where two (the
    scratch streaming Arrow batches into the store) held twice as much, and no link is ever a
    Python string (ten million customers' links took 11 GB so).
    """
    linked = summary.accepted and len(identifier_columns(spec)) > 1
    views: dict[str, str] = {}
    if summary.rejected:
        views["rejects_out"] = f"SELECT line, reason, raw FROM {rejects} ORDER BY line"
    if summary.accepted:
        views["to_add"] = new_sql
    if linked:
        work.append("blocked", pa.table({"v": pa.array(sorted(blocked), pa.string())}))
        views["links"] = _links_sql(spec)
    staged = work.publish(views)
    started = time.perf_counter()

    def writing(done: float) -> None:
        report(_rate("writing", int(done * summary.accepted), started), 0.85 + 0.14 * done)

    # capped around the whole transaction: its COMMIT (and the checkpoint after it) touches the
    # new row groups too, and with the store's own setting it grew with the file
    with store.memory_capped(WRITE_MEMORY), store.transaction():
        if len(updated_keys):
            store.delete_where_in(spec.name, "_row_key", updated_keys)
        if summary.accepted:
            # in whatever order the scratch database gives them: a table has no order (the
            # readers sort by what they need), and sorting 6M staged rows cost a third of the write
            store.append_from(spec.name, staged, "to_add", progress=writing)
        if not seen_before and summary.rejected:
            store.append_from(
                "rejects",
                staged,
                "rejects_out",
                values={
                    "ingest_id": summary.ingest_id,
                    "kind": spec.name,
                    "file": str(path),
                    "rejected_at": now.to_pydatetime(),
                },
            )
        if linked:
            summary.merges = add_links_and_resolve(
                store, StagedLinks(staged, "links"), source=spec.name, now=now
            )
        store.append(
            "ingest_runs",
            pa.table(
                {
                    "ingest_id": [summary.ingest_id],
                    "kind": [spec.name],
                    "file": [str(path)],
                    "file_sha256": [source.sha256],
                    "format": [source.format],
                    "read": [summary.read],
                    "accepted": [summary.accepted],
                    "updated": [summary.updated],
                    "rejected": [summary.rejected],
                    "duplicates": [summary.duplicates],
                    "started_at": pa.array([now], pa.timestamp("us")),
                    "finished_at": pa.array([pd.Timestamp(datetime.now()).floor("us")], pa.timestamp("us")),
                }
            ),
        )


def _links_sql(spec: TableSpec) -> str:
    """The identity links of the rows to add, as SQL over the scratch database (its views
    ``to_add`` and table ``blocked``): each row's primary identity linked to each of its other
    usable identifiers — the pairs :func:`~personae.app.ingest.keys.links` gives for
    :func:`~personae.app.ingest.keys.identity_frame` (a test holds the two equal)."""
    parts = [
        f"SELECT _identity AS identifier_a, '{col}:' || {quote(col)} AS identifier_b FROM to_add "
        f"WHERE {quote(col)} IS NOT NULL AND lower({quote(col)}) NOT IN (SELECT v FROM blocked)"
        for col in identifier_columns(spec)
    ]
    return (
        "SELECT DISTINCT identifier_a, identifier_b FROM ("
        + " UNION ALL ".join(parts)
        + ") WHERE identifier_a IS NOT NULL AND identifier_a <> identifier_b"
    )


def _file_seen(store: Store, kind: str, sha256: str) -> bool:
    runs = store.table("ingest_runs")
    return bool(store.execute(runs.filter((runs.kind == kind) & (runs.file_sha256 == sha256)).count()))


def _to_arrow(frame: pd.DataFrame, spec: TableSpec, path: Path, now: pd.Timestamp) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    n = len(frame)
    for c in spec.columns:
        s = frame[c.name]
        if c.type in ("timestamp", "date"):
            arrays[c.name] = pa.array(s.astype("datetime64[us]"), pa.timestamp("us"))
            if c.type == "date":
                arrays[c.name] = arrays[c.name].cast(pa.date32())
        elif c.type in ("float", "int"):
            arrays[c.name] = pa.array(s.astype("float64"), pa.float64(), from_pandas=True)
            if c.type == "int":
                arrays[c.name] = arrays[c.name].cast(pa.int64())
        elif c.type == "bool":
            arrays[c.name] = pa.array(s.tolist(), pa.bool_())
        elif c.type == "list":
            arrays[c.name] = pa.array(s.tolist(), pa.list_(pa.string()))
        else:
            arrays[c.name] = _strings(s)
    book = dict(BOOKKEEPING_COLUMNS)
    arrays["_row_key"] = _strings(frame["_row_key"])
    arrays["_source_file"] = pa.repeat(pa.scalar(str(path), pa.string()), n)
    arrays["_source_line"] = pa.array(frame["_source_line"].astype("int64"))
    # a list of n Timestamps cost 0.24 CPU s per million rows; the same values from NumPy, none
    arrays["_ingested_at"] = pa.array(np.full(n, now.to_datetime64().astype("datetime64[us]")))
    arrays["properties_extra"] = _strings(frame["properties_extra"])
    arrays["_row_hash"] = _strings(frame["_row_hash"])
    arrays["_identity"] = _strings(frame["_identity"])
    assert set(book) <= set(arrays)
    return pa.table(arrays)


def _strings(s: pd.Series) -> pa.Array:
    """A string column as Arrow without a round trip through Python objects when possible."""
    if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype):
        return pa.array(s.astype("string[pyarrow]"), pa.string(), from_pandas=True)
    return pa.array(s.to_numpy(dtype=object), pa.string(), from_pandas=True)
