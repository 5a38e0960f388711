"""Reading raw CSV files as text: the one raw reader of ingest and validation.

A raw file is ``*.csv`` or ``*.csv.gz`` (UTF-8, a byte-order mark is fine). Only the columns
an adapter reads are converted (pyarrow's streaming CSV reader, quoted newlines allowed), so
memory stays near the size of those columns, not of the file; the file's sha256 is computed
from the same bytes as they stream past. Malformed records (a wrong number of fields) make
the file be re-read row-exact with Python's csv module, so every row keeps its true number.
Raw files are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from kpilib.errors import InputError, SchemaError
from kpilib.fsio import sha256_file

RAW_SUFFIXES = (".csv", ".csv.gz")
_BLOCK = 1 << 22  # 4 MiB: pyarrow's read unit (and the hashing unit)
_SNIFF = 1 << 16


def is_raw_file(path: Path) -> bool:
    """True for ``*.csv`` and ``*.csv.gz`` files not starting with ``_`` or ``.``."""
    name = path.name
    return (
        path.is_file() and name.lower().endswith(RAW_SUFFIXES) and not name.startswith(("_", "."))
    )


def raw_files(raw_dir: str | Path) -> list[Path]:
    """The raw input files of a folder, sorted by name."""
    d = Path(raw_dir)
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if is_raw_file(p)), key=lambda p: p.name)


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def open_binary(path: Path) -> IO[bytes]:
    """Open a raw file for reading its (decompressed) bytes."""
    if _is_gzip(path):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _line_of(data: bytes, offset: int) -> int:
    """The 0-based line (= 1-based data row when the header is line 0) of a byte offset."""
    return data[:offset].count(b"\n")


def sniff(path: Path) -> None:
    """Refuse a file that is not CSV text, naming why (cheap: reads the first 64 KiB).

    Raises:
        InputError: Empty, binary (NUL bytes), HTML/XML, not UTF-8 (with the row), or a
            gzip file that cannot be decompressed.
    """
    try:
        with open_binary(path) as fh:
            head = fh.read(_SNIFF)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}", file=path.name) from exc
    if not head.strip():
        raise InputError("empty file: no header and no rows", file=path.name)
    if b"\x00" in head[:8192]:
        raise InputError("binary data, not a CSV text file", file=path.name)
    text_head = head.lstrip().lower()
    if text_head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<table")):
        raise InputError(
            "HTML/XML, not a CSV (a web page saved instead of the data?)", file=path.name
        )
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, head, exc.start) from exc


def _not_utf8(path: Path, data: bytes, offset: int) -> InputError:
    return InputError(
        f"not UTF-8 (byte 0x{data[offset]:02x} at offset {offset}); save it as UTF-8 "
        "(a Thai TIS-620/Windows-874 export must be converted first)",
        file=path.name,
        row=_line_of(data, offset),
    )


def _locate_utf8_error(path: Path) -> InputError:
    """Find the first invalid UTF-8 byte of a file (the rare slow path)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    pos = 0
    with open_binary(path) as fh:
        while chunk := fh.read(_BLOCK):
            try:
                dec.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                bad = chunk[exc.start]
                return InputError(
                    f"not UTF-8 (byte 0x{bad:02x} at offset {pos + exc.start}); save it as "
                    "UTF-8 (a Thai TIS-620/Windows-874 export must be converted first)",
                    file=path.name,
                    row=lines + _line_of(chunk, exc.start),
                )
            lines += chunk.count(b"\n")
            pos += len(chunk)
    return InputError("not UTF-8", file=path.name)


def read_header(path: str | Path) -> list[str]:
    """Return a CSV file's column names (BOM removed, names stripped).

    Raises:
        InputError: The file is not CSV text (see :func:`sniff`).
        SchemaError: The file has no header row.
    """
    p = Path(path)
    sniff(p)
    try:
        with open_binary(p) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            row = next(csv.reader(text), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the header: {exc}", file=p.name) from exc
    if not row or not any(c.strip() for c in row):
        raise SchemaError("the file is empty (no header row)", file=p.name)
    return [c.strip() for c in row]


class _Hashing(io.RawIOBase):
    """A read-only stream that hashes the bytes read through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._fh.readinto(b)  # type: ignore[attr-defined]
        if n:
            self.sha.update(memoryview(b)[:n])
        return n or 0

    def drain(self) -> str:
        """Hash whatever was not read yet; return the hex digest."""
        while chunk := self._fh.read(_BLOCK):
            self.sha.update(chunk)
        return self.sha.hexdigest()


@dataclass
class RawText:
    """The text of the columns read from (a chunk of) one raw file.

    Attributes:
        frame: One ``str`` column per column read ("" for an empty cell).
        rows: The 1-based data row of each record (the header is row 0).
        bad_rows: ``(row, record text)`` of each record with the wrong number of fields.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    bad_rows: list[tuple[int, str]] = field(default_factory=list)


class MalformedRecords(Exception):
    """Raised inside :class:`TextChunks` when a record has the wrong number of fields."""


_DONE = object()


def _prefetched(chunks: Iterator[RawText], depth: int = 1) -> Iterator[RawText]:
    """Iterate ``chunks`` in a background thread, ``depth`` chunks ahead.

    Arrow parses CSV without holding the GIL, so the next chunk is parsed while the caller
    works on this one (on two cores, reading and parsing overlap). Errors are re-raised here.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        q.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # the generator's file is closed in the thread that read it

    worker = threading.Thread(target=produce, name="kpilib-csv-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()


class TextChunks:
    """The text of some columns of a raw file, in chunks of about ``chunk_rows`` rows.

    Iterating yields :class:`RawText` chunks in file order; afterwards :attr:`sha256` holds
    the file's hash. With ``exact=False`` (the fast streaming reader), a malformed record
    raises :class:`MalformedRecords`: read again with ``exact=True`` (Python's csv module,
    one chunk, every row keeps its true number, malformed ones in ``bad_rows``).

    Raises:
        InputError: The file cannot be read or is not UTF-8 (the message names the row).
    """

    def __init__(
        self,
        path: str | Path,
        header: Sequence[str],
        columns: Sequence[str],
        *,
        chunk_rows: int = 200_000,
        exact: bool = False,
    ) -> None:
        self.path = Path(path)
        self.header = list(header)
        wanted = set(columns)
        self.columns = [c for c in self.header if c in wanted]
        self.chunk_rows = chunk_rows
        self.exact = exact
        self.sha256 = ""

    def __iter__(self) -> Iterator[RawText]:
        if self.exact:
            frame, rows, bad = _read_exact(self.path, self.header, self.columns)
            self.sha256 = sha256_file(self.path)
            yield RawText(frame, rows, bad)
            return
        yield from _prefetched(self._stream())

    def _stream(self) -> Iterator[RawText]:
        p = self.path
        bad: list[str] = []

        def _on_invalid(row: Any) -> str:
            bad.append(str(row.text))
            return "skip"

        with open(p, "rb") as fh:
            hashing = _Hashing(fh)
            stream: Any = pa.PythonFile(io.BufferedReader(hashing, _BLOCK), mode="r")
            if _is_gzip(p):
                stream = pa.CompressedInputStream(stream, "gzip")
            try:
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        block_size=_BLOCK, column_names=self.header, skip_rows=1
                    ),
                    parse_options=pacsv.ParseOptions(
                        newlines_in_values=True, invalid_row_handler=_on_invalid
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types={c: pa.large_string() for c in self.columns},
                        include_columns=self.columns,
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
                first = 1
                pending: list[pa.RecordBatch] = []
                size = 0
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    if bad:
                        raise MalformedRecords(p.name)
                    pending.append(batch)
                    size += batch.num_rows
                    if size >= self.chunk_rows:
                        yield self._chunk(pending, reader.schema, first)
                        first += size
                        pending, size = [], 0
                if bad:
                    raise MalformedRecords(p.name)
                if pending or first == 1:
                    yield self._chunk(pending, reader.schema, first)
            except pa.ArrowInvalid as exc:
                if "utf8" in str(exc).lower():
                    raise _locate_utf8_error(p) from exc
                raise InputError(f"cannot parse as CSV: {exc}", file=p.name) from exc
            except (OSError, EOFError) as exc:
                raise InputError(f"cannot read: {exc}", file=p.name) from exc
            self.sha256 = hashing.drain()

    @staticmethod
    def _chunk(batches: list[pa.RecordBatch], schema: pa.Schema, first: int) -> RawText:
        frame = pa.Table.from_batches(batches, schema=schema).to_pandas()
        for c in frame.columns:
            if frame[c].dtype != "str":
                frame[c] = frame[c].astype("str")
        return RawText(frame, np.arange(first, first + len(frame), dtype=np.int64))


def _read_exact(
    path: Path, header: Sequence[str], keep: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """Row-exact reader for files with malformed records (rare; Python's csv module).

    Blank lines are skipped and not counted, as the fast reader does.
    """
    good: list[list[str]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    width = len(header)
    pick = [list(header).index(c) for c in keep]
    with open_binary(path) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader, None)
        row = 0
        for rec in reader:
            if not rec:
                continue
            row += 1
            if len(rec) == width:
                good.append([rec[i] for i in pick])
                numbers.append(row)
            else:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(rec)
                bad.append((row, buf.getvalue()))
    frame = pd.DataFrame(good, columns=list(keep), dtype="str")
    if not good:
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in keep})
    return frame, np.asarray(numbers, dtype=np.int64), bad


__all__ = [
    "RAW_SUFFIXES",
    "MalformedRecords",
    "RawText",
    "TextChunks",
    "is_raw_file",
    "open_binary",
    "raw_files",
    "read_header",
    "sniff",
]
