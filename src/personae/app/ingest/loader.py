"""``personae ingest``: read, validate, de-duplicate and store one file — atomically.

The whole write (new rows, updated entities, rejects, identity links and the run record)
happens in one transaction: a crash or Ctrl-C leaves the store exactly as it was.
Invariant of every run: ``read == accepted + rejected + duplicates`` (updates of entities
count as accepted, and are also reported as ``updated``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
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
    identity_frame,
    links,
    primary_identity,
    row_keys,
)
from personae.app.ingest.linking import add_links_and_resolve
from personae.app.ingest.readers import read_file
from personae.app.ingest.validate import validate
from personae.app.tombstones import tombstoned, tombstoned_texts
from personae.clock import DEFAULT_ZONE
from personae.config import IdentitySettings
from personae.config.ingest import IngestSettings
from personae.errors import InputError
from personae.identity.normalize import normalize_emails, normalize_phones
from personae.schema import BOOKKEEPING_COLUMNS, TABLES, TableSpec
from personae.store import Store
from personae.store.maintenance import compact_if_worth_it

Progress = Callable[[str, float], None]


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
    """Read and validate ``path`` as ``ingest_file`` would, and show the result; write nothing."""
    spec = table_spec(kind)
    identity = identity or IdentitySettings()
    path = Path(path)
    batch = read_file(path, fmt, delimiter=delimiter)
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
    first = checked.frame.head(n)
    # the mapped columns, and those the rules filled in (amount from unit_price, birth_year
    # from age, rating_max, a return's returned flag)
    shown = first[[c for c in spec.column_names if c in checked.sources or first[c].notna().any()]]
    rows = records(shown)
    return IngestPreview(
        kind=spec.name,
        file=str(path),
        format=batch.format,
        read=batch.read,
        valid=len(checked.frame),
        rejected=len(checked.rejects),
        mapping=checked.sources,
        extra=[c for c in batch.columns if c not in checked.sources.values()],
        rows=rows,
        rejects=[
            {"line": int(line), "reason": str(reason)}
            for line, reason in zip(checked.rejects["line"][:n], checked.rejects["reason"][:n], strict=True)
        ],
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
) -> IngestSummary:
    """Ingest one file of ``kind`` into ``store``. See the module docstring for guarantees."""
    spec = table_spec(kind)
    identity = identity or IdentitySettings()
    path = Path(path)
    report = progress or (lambda step, frac: None)
    batch = read_file(path, fmt, progress=lambda f: report("reading", 0.5 * f), delimiter=delimiter)
    report("validating", 0.5)
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
    frame, rejects = checked.frame, checked.rejects
    report("de-duplicating", 0.75)

    frame["_row_hash"] = content_hash(frame, spec)
    frame["_row_key"] = row_keys(frame, spec, frame["_row_hash"])
    ids = identity_frame(frame, spec, blocked_values(identity)) if spec.identifiers else None
    if ids is not None:
        frame["_identity"] = primary_identity(ids)
        # only blocked values: rejected; no identifier at all (an anonymous review, possible in
        # texts alone, whose identifiers are optional): kept, linked to nobody
        given = frame[list(ids.columns)].notna().any(axis=1).to_numpy()
        no_id = frame["_identity"].isna().to_numpy() & given
        if no_id.any():
            extra = pd.DataFrame(
                {
                    "line": frame.loc[no_id, "_source_line"].to_numpy(),
                    "reason": "no usable identifier: only blocked placeholder values",
                    "raw": _raw_for_lines(batch, frame.loc[no_id, "_source_line"].to_numpy()),
                }
            )
            rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("line", kind="stable")
            frame, ids = frame[~no_id].reset_index(drop=True), ids[~no_id].reset_index(drop=True)
        gone = tombstoned(store, ids) if tombstones else np.zeros(len(ids), dtype=bool)
        if gone.any():
            extra = pd.DataFrame(
                {
                    "line": frame.loc[gone, "_source_line"].to_numpy(),
                    "reason": "belongs to an erased person (tombstone): not ingested, content not kept",
                    "raw": "",
                }
            )
            rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("line", kind="stable")
            frame, ids = frame[~gone].reset_index(drop=True), ids[~gone].reset_index(drop=True)
    else:
        frame["_identity"] = None

    frame, in_file_dups, superseded = _dedupe_in_file(frame, spec)
    conflicts = 0 if spec.name in ENTITY_TABLES else len(superseded)
    if not superseded.empty:
        extra = pd.DataFrame(
            {
                "line": superseded["_source_line"].to_numpy(),
                "reason": superseded["_reason"].to_numpy(),
                "raw": _raw_for_lines(batch, superseded["_source_line"].to_numpy()),
            }
        )
        rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("line", kind="stable")

    existing = store.existing_keys(
        spec.name, "_row_key", pa.array(frame["_row_key"], pa.string())
    ).to_pandas()
    known_hash = dict(zip(existing["k"], existing["h"], strict=True))
    key_known = frame["_row_key"].isin(known_hash.keys()).to_numpy()
    if spec.name in ENTITY_TABLES:
        same = key_known & (frame["_row_key"].map(known_hash) == frame["_row_hash"]).to_numpy()
        updated_keys = frame.loc[key_known & ~same, "_row_key"]
        new = frame[~same]
        store_dups = int(same.sum())
    else:
        updated_keys = pd.Series([], dtype=object)
        same = key_known & (frame["_row_key"].map(known_hash) == frame["_row_hash"]).to_numpy()
        clash = key_known & ~same
        if clash.any():  # the id is stored already, with other content: a conflict, not a duplicate
            extra = pd.DataFrame(
                {
                    "line": frame.loc[clash, "_source_line"].to_numpy(),
                    "reason": f"same {spec.key[0]} as a row stored by an earlier ingest, different content",
                    "raw": _raw_for_lines(batch, frame.loc[clash, "_source_line"].to_numpy()),
                }
            )
            rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("line", kind="stable")
            conflicts += int(clash.sum())
        new = frame[~key_known]
        store_dups = int(same.sum())

    ingest_id = uuid.uuid4().hex[:12]
    now = pd.Timestamp(datetime.now()).floor("us")
    summary = IngestSummary(
        kind=spec.name,
        file=str(path),
        format=batch.format,
        read=batch.read,
        accepted=len(new),
        rejected=len(rejects),
        duplicates=in_file_dups + store_dups,
        updated=len(updated_keys),
        ingest_id=ingest_id,
        conflicts=conflicts,
    )
    assert summary.read == summary.accepted + summary.rejected + summary.duplicates, summary

    if tombstones and len(rejects):
        # a rejected line never reached identity resolution: look for erased people in its text
        gone = tombstoned_texts(store, rejects["raw"], default_country_code=identity.default_country_code)
        if gone.any():
            rejects.loc[gone, "raw"] = ""
            rejects.loc[gone, "reason"] = (
                rejects.loc[gone, "reason"].astype(str) + " (belongs to an erased person: content not kept)"
            )

    report("writing", 0.85)
    seen_before = _file_seen(store, spec.name, batch.sha256)
    try:
        _write(
            store, spec, path, batch, ingest_id, now, summary, new, updated_keys, rejects, ids, seen_before
        )
    except Exception:
        # rolled back, but DuckDB keeps the file as large as the rows made it: give the space back
        # when it is worth a copy of the database (store.maintenance.compact_if_worth_it)
        compact_if_worth_it(store)
        raise
    report("done", 1.0)
    return summary


def _write(
    store: Store,
    spec: TableSpec,
    path: Path,
    batch: Any,
    ingest_id: str,
    now: pd.Timestamp,
    summary: IngestSummary,
    new: pd.DataFrame,
    updated_keys: pd.Series,
    rejects: pd.DataFrame,
    ids: pd.DataFrame | None,
    seen_before: bool,
) -> None:
    """The ingest's one transaction: the rows, the rejects, the links, the run record."""
    with store.transaction():
        if len(updated_keys):
            store.delete_where_in(spec.name, "_row_key", updated_keys.tolist())
        store.append(spec.name, _to_arrow(new, spec, path, now))
        if not seen_before and len(rejects):
            store.append(
                "rejects",
                pa.table(
                    {
                        "ingest_id": pa.array([ingest_id] * len(rejects), pa.string()),
                        "kind": pa.array([spec.name] * len(rejects), pa.string()),
                        "file": pa.array([str(path)] * len(rejects), pa.string()),
                        "line": pa.array(rejects["line"].astype("int64")),
                        "reason": pa.array(rejects["reason"].astype(str), pa.string()),
                        "raw": pa.array(rejects["raw"].astype(str), pa.string()),
                        "rejected_at": pa.array([now] * len(rejects), pa.timestamp("us")),
                    }
                ),
            )
        if ids is not None and len(new):
            new_ids = ids.loc[new.index]
            summary.merges = add_links_and_resolve(
                store, links(new_ids, new["_identity"]), source=spec.name, now=now
            )
        store.append(
            "ingest_runs",
            pa.table(
                {
                    "ingest_id": [ingest_id],
                    "kind": [spec.name],
                    "file": [str(path)],
                    "file_sha256": [batch.sha256],
                    "format": [batch.format],
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


def _raw_for_lines(batch: object, lines: np.ndarray) -> list[str]:
    position = {int(line): i for i, line in enumerate(batch.lines)}  # type: ignore[attr-defined]
    return [batch.raw(position[int(line)]) for line in lines]  # type: ignore[attr-defined]


def _file_seen(store: Store, kind: str, sha256: str) -> bool:
    runs = store.table("ingest_runs")
    return bool(store.execute(runs.filter((runs.kind == kind) & (runs.file_sha256 == sha256)).count()))


def _dedupe_in_file(frame: pd.DataFrame, spec: TableSpec) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """Drop repeated keys inside the file.

    Facts: the first row of a key wins; later ones with the same content are duplicates, later
    ones with other content are rejected as conflicts (their reason names the line that won).
    Entities: the last row
    wins; earlier rows with identical values are duplicates, earlier rows with different
    values are rejected as superseded (so nothing disappears without a trace).
    """
    empty = pd.DataFrame({"_source_line": pd.Series(dtype="int64"), "_reason": pd.Series(dtype=object)})
    if spec.name not in ENTITY_TABLES:
        first = ~frame["_row_key"].duplicated(keep="first").to_numpy()
        if first.all():
            return frame, 0, empty
        winners = frame[first].set_index("_row_key")
        later = frame[~first]
        same = (later["_row_key"].map(winners["_row_hash"]) == later["_row_hash"]).to_numpy()
        differ = later[~same]
        reasons = (
            f"same {spec.key[0]} as line "
            + differ["_row_key"].map(winners["_source_line"]).astype(str)
            + ", different content (the first was kept)"
        )
        out = pd.DataFrame({"_source_line": differ["_source_line"].to_numpy(), "_reason": reasons.to_numpy()})
        return frame[first], int(same.sum()), out
    keep = ~frame["_row_key"].duplicated(keep="last").to_numpy()
    if keep.all():
        return frame, 0, empty
    winners = frame[keep].set_index("_row_key")
    losers = frame[~keep]
    winner_hash = losers["_row_key"].map(winners["_row_hash"])
    winner_line = losers["_row_key"].map(winners["_source_line"])
    exact = (winner_hash == losers["_row_hash"]).to_numpy()
    superseded = losers[~exact]
    reasons = (
        f"{spec.key[0]} "
        + superseded["_row_key"].astype(str)
        + " appears again on line "
        + winner_line[~exact].astype(str)
        + " with different values; that later row was kept"
    )
    out = pd.DataFrame({"_source_line": superseded["_source_line"].to_numpy(), "_reason": reasons.to_numpy()})
    return frame[keep], int(exact.sum()), out


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
    arrays["_source_file"] = pa.array([str(path)] * n, pa.string())
    arrays["_source_line"] = pa.array(frame["_source_line"].astype("int64"))
    arrays["_ingested_at"] = pa.array([now] * n, pa.timestamp("us"))
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
