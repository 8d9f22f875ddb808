"""Read CSV, Parquet and JSON Lines files into a :class:`RawBatch` that remembers lines.

A reader never drops a row: rows it cannot even split into fields (wrong number of fields,
bad encoding, invalid JSON) come back as :class:`StructuralReject` with their line number and
raw text, so that validation can report them with everything else.

Line numbers: in CSV the header is line 1 and a record's number is the line it starts on; in
JSON Lines the first line is line 1; in Parquet the "line" is the 1-based row number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from personae.errors import FormatError

FORMATS = ("csv", "tsv", "parquet", "jsonl")
csv.field_size_limit(2**31 - 1)  # long free-text fields (comments, JSON) are legitimate
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

Progress = Callable[[float], None]

T = TypeVar("T")


@dataclass
class StructuralReject:
    line: int
    reason: str
    raw: str


@dataclass
class RawBatch:
    """Rows read from one file, column by column, before any validation.

    Attributes:
        columns: source column name -> values (strings, ``None``, or already-typed values
            for Parquet/JSON Lines).
        lines: 1-based line number of each row in the file.
        raw: a callable giving the raw text of row ``i`` (only called for rejected rows).
        typed: ``True`` when values may already be typed (Parquet, JSON Lines).
    """

    source: str
    format: str
    sha256: str
    columns: dict[str, pd.Series]
    lines: np.ndarray
    raw: Callable[[int], str]
    typed: bool = False
    rejects: list[StructuralReject] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    @property
    def read(self) -> int:
        """Every row the file holds: parsed rows plus structurally broken ones."""
        return self.n_rows + len(self.rejects)


def detect_format(path: Path, explicit: str | None) -> str:
    if explicit:
        fmt = explicit.lower().replace("json-lines", "jsonl").replace("ndjson", "jsonl")
        if fmt not in FORMATS:
            raise FormatError(f"unknown format {explicit!r}", hint=f"use one of {', '.join(FORMATS)}")
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    for s in reversed(suffixes):
        if s in _EXTENSIONS:
            return _EXTENSIONS[s]
    raise FormatError(
        f"cannot tell the format of {path.name} from its extension",
        hint="pass --format csv, tsv, parquet or jsonl (and --delimiter for another separator)",
    )


def _checked_format(path: Path, fmt: str | None, delimiter: str | None) -> str:
    """The file's format, after the checks both readers (whole and streamed) make first."""
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    kind = detect_format(path, fmt)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
        raise FormatError(
            f"--delimiter {delimiter!r}: expected one character", hint="e.g. --delimiter ';' or $'\\t'"
        )
    return kind


def read_file(
    path: Path, fmt: str | None = None, progress: Progress | None = None, *, delimiter: str | None = None
) -> RawBatch:
    """Read ``path`` in ``fmt`` (guessed from the extension when ``None``).

    A delimited file's separator is ``delimiter`` when given, a tab for ``tsv``, else sniffed
    from the header line (``,`` tab ``;`` ``|``).
    """
    kind = _checked_format(path, fmt, delimiter)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if kind in ("csv", "tsv"):
        given = delimiter or ("\t" if kind == "tsv" else None)
        return _read_csv(path, data, digest, progress, given)
    if kind == "jsonl":
        return _read_jsonl(path, data, digest, progress)
    return _read_parquet(path, digest)


def _bad_utf8_lines(data: bytes) -> set[int]:
    """Physical line numbers (1-based) holding bytes that are not valid UTF-8."""
    bad = set()
    for i, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(i)
    return bad


def _read_csv(
    path: Path, data: bytes, digest: str, progress: Progress | None, delimiter: str | None
) -> RawBatch:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    fast = _read_csv_fast(path, data, digest, delimiter)
    if fast is not None:
        if progress:
            progress(1.0)
        return fast
    return _read_csv_exact(path, data, digest, progress, delimiter)


def _read_csv_fast(path: Path, data: bytes, digest: str, delimiter: str | None) -> RawBatch | None:
    """Multi-threaded Arrow reader for well-formed files (one record per line, valid UTF-8).

    Returns ``None`` whenever the file is anything else (bad encoding, wrong field counts,
    blank lines, records spanning lines): the exact reader then handles it line by line, so
    line numbers are always right.
    """
    first_line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    delimiter = _delimiter(path, first_line, delimiter)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    if not any(h.strip() for h in header):
        return None
    header = header_names(header)
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if n_lines != table.num_rows + 1:
        return None  # blank lines or multi-line records: let the exact reader count lines
    columns = {
        h: pd.Series(table.column(h).to_pandas(types_mapper=pd.ArrowDtype)).astype("string") for h in header
    }
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    physical: list[str] = []

    def raw(i: int) -> str:
        if not physical:
            physical.extend(data.decode("utf-8").split("\n"))
        return physical[i + 1].rstrip("\r")

    return RawBatch(str(path), "csv", digest, columns, lines, raw, typed=False)


def _read_csv_exact(
    path: Path, data: bytes, digest: str, progress: Progress | None, delimiter: str | None
) -> RawBatch:
    """Line-exact reader for any CSV: tracks where each record starts and ends."""
    try:
        text = data.decode("utf-8")
        bad_lines: set[int] = set()
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad_lines = _bad_utf8_lines(data)
    physical = text.split("\n")
    delimiter = _delimiter(path, physical[0], delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError(f"{path}: the file is empty (no header line)") from None
    if not any(h.strip() for h in header):
        raise FormatError(f"{path}: the header line is empty")
    header = header_names(header)
    n_fields = len(header)
    rows: list[list[str]] = []
    starts: list[int] = []
    ends: list[int] = []
    rejects: list[StructuralReject] = []
    prev_end = reader.line_num
    total = max(len(physical), 1)

    def raw_text(start: int, end: int) -> str:
        return "\n".join(physical[start - 1 : end]).rstrip("\r")

    try:
        for row in reader:
            start, end = prev_end + 1, reader.line_num
            prev_end = end
            if not row or (len(row) == 1 and row[0] == ""):
                continue  # a blank line is not a record
            if bad_lines and any(ln in bad_lines for ln in range(start, end + 1)):
                rejects.append(
                    StructuralReject(start, "bad encoding: the line is not valid UTF-8", raw_text(start, end))
                )
                continue
            if len(row) != n_fields:
                rejects.append(
                    StructuralReject(
                        start,
                        f"wrong number of fields: expected {n_fields}, found {len(row)}",
                        raw_text(start, end),
                    )
                )
                continue
            rows.append(row)
            starts.append(start)
            ends.append(end)
            if progress and len(starts) % 200_000 == 0:
                progress(end / total)
    except csv.Error as exc:
        rejects.append(
            StructuralReject(prev_end + 1, f"unreadable CSV: {exc}", raw_text(prev_end + 1, prev_end + 1))
        )
    lines = np.asarray(starts, dtype=np.int64)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    columns: dict[str, pd.Series] = {}
    for name, values in zip(header, cols, strict=True):
        if name in columns:
            raise FormatError(f"{path}: column {name!r} appears twice in the header")
        columns[name] = pd.Series(values, dtype="string")

    def raw(i: int) -> str:
        return raw_text(starts[i], ends[i])

    if progress:
        progress(1.0)
    return RawBatch(str(path), "csv", digest, columns, lines, raw, typed=False, rejects=rejects)


def header_names(header: list[str]) -> list[str]:
    """Column names from a header line: stripped; an empty name becomes ``column_N`` (N its
    1-based position: a spreadsheet's unnamed row-index column) and a repeated one gets
    ``_2``, ``_3`` …, so every column can be mapped (``--map customer_id=column_1``).

    >>> header_names(["", "id", " name ", "id", "column_1"])
    ['column_1', 'id', 'name', 'id_2', 'column_1_2']
    """
    out: list[str] = []
    taken: set[str] = set()
    stripped = [h.strip() for h in header]
    given = set(stripped)
    for i, name in enumerate(stripped, start=1):
        name = name or f"column_{i}"
        if name in taken:
            n = 2
            while f"{name}_{n}" in taken or f"{name}_{n}" in given:
                n += 1
            name = f"{name}_{n}"
        taken.add(name)
        out.append(name)
    return out


def _delimiter(path: Path, header_line: str, given: str | None) -> str:
    if given:
        return given
    return "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(header_line.rstrip("\r"))


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


#: How deep a JSON line may nest (objects in arrays in objects …); real tracking data stays
#: within a handful of levels, and a deeper line is rejected on its own, not the whole file.
MAX_DEPTH = 32


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """Nesting depth of a parsed JSON value, counted up to ``limit`` (no recursion).

    >>> _depth({"a": [1, {"b": {}}]}), _depth(1)
    (4, 0)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and level <= limit:
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _jsonl_line(i: int, line: bytes) -> dict[str, Any] | StructuralReject | None:
    """Line ``i`` of a JSON Lines file: its object, why it is not one, or ``None`` if blank."""
    stripped = line.strip()
    if not stripped:
        return None
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        return StructuralReject(
            i, "bad encoding: the line is not valid UTF-8", stripped.decode("utf-8", errors="replace")
        )
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return StructuralReject(i, f"not valid JSON: {exc.msg} at column {exc.colno}", text)
    except RecursionError:
        return StructuralReject(i, f"nested deeper than {MAX_DEPTH} levels", text)
    if isinstance(obj, dict) and _depth(obj) > MAX_DEPTH:
        return StructuralReject(i, f"nested deeper than {MAX_DEPTH} levels", text)
    if not isinstance(obj, dict):
        return StructuralReject(i, "not a JSON object (expected {...} per line)", text)
    return obj


class _JsonlRows:
    """The parsed lines of one JSON Lines chunk, until they become a :class:`RawBatch`."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.starts: list[int] = []
        self.raws: list[bytes] = []
        self.rejects: list[StructuralReject] = []

    def add(self, i: int, line: bytes) -> None:
        parsed = _jsonl_line(i, line)
        if isinstance(parsed, StructuralReject):
            self.rejects.append(parsed)
        elif parsed is not None:
            self.records.append(parsed)
            self.starts.append(i)
            self.raws.append(line.strip())

    def __len__(self) -> int:
        return len(self.records) + len(self.rejects)

    def batch(self, path: Path, digest: str, names: dict[str, None] | None = None) -> RawBatch:
        """The rows as columns: ``names`` (every key of the whole file, in order of first
        appearance), or else the keys of these rows."""
        if names is None:
            names = {}
            for r in self.records:
                for k in r:
                    names.setdefault(k, None)
        records, raws = self.records, self.raws
        columns = {n: pd.Series([r.get(n) for r in records], dtype=object) for n in names}
        return RawBatch(
            str(path),
            "jsonl",
            digest,
            columns,
            np.asarray(self.starts, dtype=np.int64),
            lambda i: raws[i].decode("utf-8"),
            typed=True,
            rejects=self.rejects,
        )


def _read_jsonl(path: Path, data: bytes, digest: str, progress: Progress | None) -> RawBatch:
    physical = data.split(b"\n")
    rows = _JsonlRows()
    total = max(len(physical), 1)
    for i, line in enumerate(physical, start=1):
        rows.add(i, line)
        if progress and i % 200_000 == 0:
            progress(i / total)
    if progress:
        progress(1.0)
    return rows.batch(path, digest)


def _read_parquet(path: Path, digest: str) -> RawBatch:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(f"{path}: not a readable Parquet file: {exc}") from exc
    return _parquet_batch(path, digest, table, 1)


# -- streaming ---------------------------------------------------------------------------------

#: Rows per chunk of a streamed file: big enough for vectorised validation to pay off, small
#: enough that a chunk's strings and their validation stay far below the 2 GB budget.
CHUNK_ROWS = 200_000
#: Bytes read at once from a CSV file by the streaming reader (about 200k order lines).
BLOCK_BYTES = 32 * 1024 * 1024
#: A JSON Lines file up to this size is parsed in one pass and held whole while it is split
#: into chunks; a larger one is streamed in two passes (keys first, then the rows).
JSONL_WHOLE_BYTES = 64 * 1024 * 1024


@dataclass
class StreamedFile:
    """A file read chunk by chunk: :meth:`chunks` can be iterated more than once.

    Each chunk is a :class:`RawBatch` with the file's own line numbers (``lines``), so
    validating the chunks one after another gives the same rows, rejects and line numbers as
    validating the whole file at once. ``size`` is the file's length in bytes and ``position``
    how far the last chunk reached (for a progress bar).
    """

    path: Path
    format: str
    sha256: str
    size: int
    delimiter: str | None
    chunk_rows: int
    block_bytes: int
    position: int = 0

    def chunks(self) -> Iterator[RawBatch]:
        """The file's rows, ``chunk_rows`` at a time (at least one chunk, maybe empty)."""
        if self.format == "csv":
            yield from self._csv_chunks()
        elif self.format == "parquet":
            yield from self._parquet_chunks()
        elif self.size <= JSONL_WHOLE_BYTES:
            yield from split_batch(
                _read_jsonl(self.path, self.path.read_bytes(), self.sha256, None), self.chunk_rows
            )
        else:
            yield from self._jsonl_chunks()
        self.position = self.size

    def raws(self, lines: np.ndarray) -> dict[int, str]:
        """The raw text of the records starting on ``lines`` (one more pass over the file)."""
        wanted = np.unique(np.asarray(lines, dtype=np.int64))
        out: dict[int, str] = {}
        if not len(wanted):
            return out
        for chunk in self.chunks():
            hit = np.flatnonzero(np.isin(chunk.lines, wanted))
            out.update({int(chunk.lines[i]): chunk.raw(int(i)) for i in hit})
            if len(out) == len(wanted):
                break
        return out

    def _jsonl_chunks(self) -> Iterator[RawBatch]:
        """A large JSON Lines file in two passes: the first only learns the keys (a chunk's
        columns are those of the whole file, as when it is read at once), the second parses
        ``chunk_rows`` lines at a time."""
        names: dict[str, None] = {}
        with self.path.open("rb") as f:
            for i, line in enumerate(f, start=1):
                parsed = _jsonl_line(i, line)
                if isinstance(parsed, dict):
                    for k in parsed:
                        names.setdefault(k, None)
        produced = False
        with self.path.open("rb") as f:
            rows = _JsonlRows()
            for i, line in enumerate(f, start=1):
                rows.add(i, line)
                if len(rows) >= self.chunk_rows:
                    self.position = f.tell()
                    yield rows.batch(self.path, self.sha256, names)
                    produced = True
                    rows = _JsonlRows()
            if len(rows) or not produced:
                yield rows.batch(self.path, self.sha256, names)

    def _parquet_chunks(self) -> Iterator[RawBatch]:
        try:
            parquet = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise FormatError(f"{self.path}: not a readable Parquet file: {exc}") from exc
        first = 1
        produced = False
        for record_batch in parquet.iter_batches(batch_size=self.chunk_rows):
            table = pa.Table.from_batches([record_batch])
            yield _parquet_batch(self.path, self.sha256, table, first)
            first += table.num_rows
            produced = True
            self.position = min(self.size, int(self.size * first / max(parquet.metadata.num_rows, 1)))
        if not produced:
            yield _parquet_batch(self.path, self.sha256, parquet.schema_arrow.empty_table(), 1)

    def _csv_chunks(self) -> Iterator[RawBatch]:
        """Arrow's multi-threaded reader block by block while the file is simple (one record
        per line, valid UTF-8); from the first block that is not, the line-exact reader."""
        with self.path.open("rb") as f:
            head = f.readline()
            if head.startswith(b"\xef\xbb\xbf"):
                head = head[3:]
            first_line = head.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r")
            delimiter = _delimiter(self.path, first_line, self.delimiter)
            header = next(csv.reader([first_line], delimiter=delimiter), [])
            if not any(h.strip() for h in header) or not head.endswith(b"\n"):
                # an empty header, or nothing but a header line: the exact reader says what is wrong
                rest = head + f.read()
                yield from split_batch(
                    _read_csv_exact(self.path, rest, self.sha256, None, self.delimiter), self.chunk_rows
                )
                return
            names = header_names(header)
            line = 2  # the line the next record starts on
            carry = b""
            produced = False
            while True:
                block = f.read(self.block_bytes)
                data = carry + block
                if block:
                    cut = data.rfind(b"\n")
                    if cut < 0:
                        carry = data
                        continue
                    data, carry = data[: cut + 1], data[cut + 1 :]
                else:
                    carry = b""
                if data:
                    parsed = _arrow_block(data, names, delimiter)
                    if parsed is None:  # not simple from here on: read the rest line-exactly
                        physical = _lines_of(data, carry, f)
                        yield from self._exact_chunks(physical, line, names, delimiter, f)
                        self.position = self.size
                        return
                    self.position = f.tell() - len(carry)
                    for batch in split_batch(
                        _block_batch(self.path, self.sha256, data, parsed, line), self.chunk_rows
                    ):
                        produced = True
                        yield batch
                    line += parsed.num_rows
                if not block:
                    break
            if not produced:
                yield RawBatch(
                    str(self.path),
                    "csv",
                    self.sha256,
                    {h: pd.Series([], dtype="string") for h in names},
                    np.zeros(0, dtype=np.int64),
                    lambda i: "",
                )

    def _exact_chunks(
        self, lines: Iterator[bytes], first_line: int, names: list[str], delimiter: str, f: Any
    ) -> Iterator[RawBatch]:
        """The line-exact reader (as :func:`_read_csv_exact`) over the physical ``lines`` of the
        file from ``first_line`` on (a record boundary), ``chunk_rows`` records at a time: the
        rest of a file that stopped being simple is streamed too, never held whole."""
        pending: list[tuple[str, bool]] = []  # the lines of the record being read: text, bad UTF-8

        def feed() -> Iterator[str]:
            for raw in lines:
                try:
                    text, bad = raw.decode("utf-8"), False
                except UnicodeDecodeError:
                    text, bad = raw.decode("utf-8", errors="replace"), True
                # a lone carriage return ends a line too, as when the text is read whole
                parts = io.StringIO(text, newline="") if "\r" in text.rstrip("\r\n") else (text,)
                for part in parts:
                    pending.append((part, bad))
                    yield part

        n_fields = len(names)
        rows = _ExactRows()
        produced = False
        prev_end = 0
        offset = first_line - 1
        reader = csv.reader(feed(), delimiter=delimiter)
        try:
            for row in reader:
                start = prev_end + 1 + offset
                prev_end = reader.line_num
                record, bad = _record_text(pending), any(b for _, b in pending)
                pending.clear()
                if not row or (len(row) == 1 and row[0] == ""):
                    continue  # a blank line is not a record
                if bad:
                    rows.rejects.append(
                        StructuralReject(start, "bad encoding: the line is not valid UTF-8", record)
                    )
                elif len(row) != n_fields:
                    rows.rejects.append(
                        StructuralReject(
                            start, f"wrong number of fields: expected {n_fields}, found {len(row)}", record
                        )
                    )
                else:
                    rows.add(row, start, record)
                if len(rows) >= self.chunk_rows:
                    self.position = min(f.tell(), self.size)
                    yield rows.batch(self.path, self.sha256, names)
                    produced, rows = True, _ExactRows()
        except csv.Error as exc:
            first = _record_text(pending[:1])
            rows.rejects.append(StructuralReject(prev_end + 1 + offset, f"unreadable CSV: {exc}", first))
        if len(rows) or not produced:
            yield rows.batch(self.path, self.sha256, names)


def _lines_of(data: bytes, carry: bytes, f: Any) -> Iterator[bytes]:
    """The physical lines of ``data`` (whole lines), then of ``carry`` (the start of a line
    read past them) and the rest of file ``f``."""
    yield from io.BytesIO(data)
    first = carry + f.readline()
    if first:
        yield first
    yield from f


def _record_text(lines: list[tuple[str, bool]]) -> str:
    """A record's raw text from its lines, without the last line's end (as the whole reader)."""
    text = "".join(t for t, _ in lines)
    return text.removesuffix("\n").rstrip("\r")


class _ExactRows:
    """The records of one chunk read line-exactly, until they become a :class:`RawBatch`."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.starts: list[int] = []
        self.raws: list[str] = []
        self.rejects: list[StructuralReject] = []

    def add(self, row: list[str], start: int, raw: str) -> None:
        self.rows.append(row)
        self.starts.append(start)
        self.raws.append(raw)

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejects)

    def batch(self, path: Path, digest: str, names: list[str]) -> RawBatch:
        cols = list(zip(*self.rows, strict=True)) if self.rows else [() for _ in names]
        columns = {name: pd.Series(values, dtype="string") for name, values in zip(names, cols, strict=True)}
        raws = self.raws
        lines = np.asarray(self.starts, dtype=np.int64)
        return RawBatch(str(path), "csv", digest, columns, lines, lambda i: raws[i], rejects=self.rejects)


def stream_file(
    path: Path,
    fmt: str | None = None,
    *,
    delimiter: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    block_bytes: int | None = None,
) -> StreamedFile:
    """Open ``path`` for reading chunk by chunk: memory grows with the chunk, not the file.

    The same rules as :func:`read_file` (format, delimiter, line numbers, structural rejects);
    the file's SHA-256 is computed here in one streaming pass.
    """
    kind = _checked_format(path, fmt, delimiter)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 * 1024 * 1024):
            digest.update(block)
    given = delimiter or ("\t" if kind == "tsv" else None)
    return StreamedFile(
        path,
        "csv" if kind in ("csv", "tsv") else kind,
        digest.hexdigest(),
        path.stat().st_size,
        given,
        chunk_rows,
        block_bytes or BLOCK_BYTES,
    )


def _arrow_block(data: bytes, names: list[str], delimiter: str) -> pa.Table | None:
    """One block of whole lines parsed by Arrow, or ``None`` when it is not one record per line.

    A line with an odd number of quotes opens a quoted value that goes on past the line end:
    Arrow would cut it there, so such a block goes to the exact reader (and the block boundary
    before it is a record boundary, as every line before it closed its quotes).
    """
    if b'"' in data:
        raw = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(raw == ord('"'))
        ends = np.flatnonzero(raw == ord("\n"))
        if len(quotes) % 2 or (np.searchsorted(quotes, ends) % 2).any():
            return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in names}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return table if table.num_rows == n_lines else None


def _block_batch(path: Path, digest: str, data: bytes, table: pa.Table, first_line: int) -> RawBatch:
    columns = {
        h: pd.Series(table.column(i).to_pandas(types_mapper=pd.ArrowDtype)).astype("string")
        for i, h in enumerate(table.column_names)
    }
    physical: list[str] = []

    def raw(i: int) -> str:
        if not physical:
            physical.extend(data.decode("utf-8").split("\n"))
        return physical[i].rstrip("\r")

    lines = np.arange(first_line, first_line + table.num_rows, dtype=np.int64)
    return RawBatch(str(path), "csv", digest, columns, lines, raw, typed=False)


def split_batch(batch: RawBatch, rows: int) -> Iterator[RawBatch]:
    """``batch`` in slices of ``rows`` rows; the structural rejects travel with the first.

    >>> b = RawBatch("f", "csv", "", {"a": pd.Series(list("xyz"))}, np.array([2, 3, 4]), str)
    >>> [(s.lines.tolist(), s.raw(0)) for s in split_batch(b, 2)]
    [([2, 3], '0'), ([4], '2')]
    """
    if batch.n_rows <= rows:
        yield batch
        return
    for start in range(0, batch.n_rows, rows):
        stop = min(start + rows, batch.n_rows)
        yield RawBatch(
            batch.source,
            batch.format,
            batch.sha256,
            {k: v.iloc[start:stop].reset_index(drop=True) for k, v in batch.columns.items()},
            batch.lines[start:stop],
            _offset_raw(batch.raw, start),
            typed=batch.typed,
            rejects=batch.rejects if start == 0 else [],
        )


def _offset_raw(raw: Callable[[int], str], start: int) -> Callable[[int], str]:
    return lambda i: raw(start + i)


def _parquet_batch(path: Path, digest: str, table: pa.Table, first: int) -> RawBatch:
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if (
            pa.types.is_list(col.type)
            or pa.types.is_large_list(col.type)
            or pa.types.is_struct(col.type)
            or pa.types.is_map(col.type)
        ):
            columns[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            columns[name] = col.to_pandas()

    def raw(i: int) -> str:
        row = table.slice(i, 1).to_pylist()[0]
        return json.dumps(row, default=str)

    n = table.num_rows
    return RawBatch(
        str(path), "parquet", digest, columns, np.arange(first, first + n, dtype=np.int64), raw, typed=True
    )


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced ``depth`` ahead in a thread of its own.

    Why: reading a chunk (Arrow's CSV reader, Parquet, file reads) releases the GIL, so the
    next chunk can be read while this one is validated. The order is kept; an error of the
    producer is raised here, where the item would have come; leaving the loop early stops it.

    >>> list(prefetched(iter(range(5))))
    [0, 1, 2, 3, 4]
    >>> def broken():
    ...     yield 1
    ...     raise ValueError("bad block")
    >>> it = prefetched(broken()); next(it)
    1
    >>> next(it)
    Traceback (most recent call last):
    ValueError: bad block
    """
    import queue  # start-up: only ingest streams a file
    import threading

    done = object()
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((done, exc))

    worker = threading.Thread(target=produce, daemon=True, name="personae-read")
    worker.start()
    try:
        while True:
            item, exc = box.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join()
