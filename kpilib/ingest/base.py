"""The adapter contract and the parse every adapter shares.

An adapter turns one raw file of its source into a :class:`ParsedFile`: the canonical rows
carried over, the rows set aside (quarantine) and the notes. The generic work — reading the
declared columns, parsing them by type, the area filter, repeats of the key, state classes —
is done here from the declarations; an adapter adds what only its source needs
(:meth:`Adapter.derive`).

The file is read in chunks and the carried rows go to a :class:`RowSink` (memory, or a
Parquet file during an ingest), so memory stays near one chunk plus what is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.parquet as pq

from kpilib.ingest.parse import (
    NOTE_COLUMNS,
    QUARANTINE_HEAD,
    TS_DTYPE,
    FileParse,
    by_unique,
    check_of,
    const_str,
    empty_column,
    key_codes,
    select,
)
from kpilib.ingest.reader import MalformedRecords, TextChunks
from kpilib.tables import Reading, SourceDecl, TableDecl

_PARQUET = {"compression": "zstd"}


# --------------------------------------------------------------------------- where rows go


class RowSink:
    """The rows carried over from one file: kept in memory, or streamed to a Parquet file.

    Args:
        path: Write to this Parquet file (``None``: keep the rows in memory).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._frames: list[pd.DataFrame] = []
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        """Add the next rows (same columns and dtypes every time)."""
        self.rows += len(frame)
        if self.path is None:
            self._frames.append(frame)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.path, self._schema, **_PARQUET)
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish writing (Parquet mode)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def frame(self) -> pd.DataFrame:
        """All rows, in memory."""
        if self.path is None:
            if len(self._frames) == 1:
                return self._frames[0]
            return pd.concat(self._frames, ignore_index=True)
        return pd.read_parquet(self.path)

    def take(self, source_rows: np.ndarray) -> pd.DataFrame:
        """The rows whose ``source_row`` is one of ``source_rows`` (file order)."""
        if self.path is None:
            df = self.frame()
            return df.loc[df["source_row"].isin(source_rows)].reset_index(drop=True)
        wanted = pa.array(np.asarray(source_rows, dtype=np.int64))
        parts = []
        for batch in pq.ParquetFile(self.path).iter_batches():
            t = pa.Table.from_batches([batch])
            parts.append(t.filter(pac.is_in(t.column("source_row"), wanted)))
        return pa.concat_tables(parts).to_pandas() if parts else self.frame().iloc[:0]


# --------------------------------------------------------------------------- one file


@dataclass
class ParsedFile:
    """One raw file, parsed once (ingest writes it; validation reads the written result).

    Attributes:
        file: The name recorded in ``source_file``.
        source: The source's name (its declaration in ``params/tables``).
        table: The canonical table it feeds.
        rows: Data rows read (malformed records included): rows = carried + quarantined.
        carried: Rows carried over.
        sink: Where the carried rows are (canonical columns + ``source_file``, ``source_row``).
        quarantine: The rows set aside (``QUARANTINE_HEAD`` + the raw fields read).
        notes: Values read in spite of a quirk (``NOTE_COLUMNS``), for carried rows.
        sha256: Of the raw file.
    """

    file: str
    source: str
    table: str
    rows: int
    carried: int
    sink: RowSink
    quarantine: pd.DataFrame
    notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({c: [] for c in NOTE_COLUMNS}))
    sha256: str = ""

    @property
    def frame(self) -> pd.DataFrame:
        """The rows carried over (read from the Parquet file in ingest mode)."""
        return self.sink.frame()

    def reason_counts(self) -> dict[str, int]:
        """Rows set aside per reason code."""
        if not len(self.quarantine):
            return {}
        counts = self.quarantine["reason_code"].value_counts()
        return {str(k): int(v) for k, v in sorted(counts.items())}


def _in_sorted(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted right-hand side (binary search)."""
    if not len(sorted_values):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[pos] == values


def _key_hash(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's key (equal keys, equal hashes)."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


class Adapter:
    """Reads the raw files of one source. Subclasses set :attr:`name` and may :meth:`derive`.

    Args:
        source_name: The source's name in the declarations.
        table: The table declaration.
        source: The source declaration.
        reading: The reading rules.
    """

    #: The adapter's registered name (``adapter:`` in a source declaration).
    name: ClassVar[str] = ""

    def __init__(
        self, source_name: str, table: TableDecl, source: SourceDecl, reading: Reading
    ) -> None:
        self.source_name = source_name
        self.table = table
        self.source = source
        self.reading = reading

    def derive(self, fp: FileParse, out: dict[str, pd.Series]) -> None:
        """Fill the derived columns this source knows (default: nothing)."""

    def read(
        self,
        path: Path,
        *,
        header: list[str],
        file_name: str,
        districts: dict[str, str] | None = None,
        sink: Path | None = None,
    ) -> ParsedFile:
        """Read and parse one raw file of this source.

        Args:
            path: The raw file.
            header: Its header (:func:`kpilib.ingest.reader.read_header`).
            file_name: The name recorded in ``source_file``.
            districts: District name → geocode (sources naming districts).
            sink: Stream the carried rows to this Parquet file instead of keeping them.
        """
        columns = self.source.read_columns
        try:
            chunks = TextChunks(path, header, columns)
            return self._read(chunks, header, file_name, districts, RowSink(sink))
        except MalformedRecords:  # re-read row-exact so every row keeps its number
            chunks = TextChunks(path, header, columns, exact=True)
            return self._read(chunks, header, file_name, districts, RowSink(sink))

    def _read(
        self,
        chunks: TextChunks,
        header: list[str],
        file_name: str,
        districts: dict[str, str] | None,
        sink: RowSink,
    ) -> ParsedFile:
        key = list(self.table.key)
        quarantines: list[pd.DataFrame] = []
        notes: list[pd.DataFrame] = []
        bad_rows: list[tuple[int, str]] = []
        firsts: list[tuple[np.ndarray, np.ndarray]] = []  # key hash, row of each kept row
        later_rows: list[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = []  # set-aside repeats
        seen = np.empty(0, dtype=np.uint64)
        rows = 0
        try:
            for text in chunks:
                fp = FileParse(
                    text.frame,
                    text.rows,
                    table=self.table,
                    source_name=self.source_name,
                    source=self.source,
                    reading=self.reading,
                    file_name=file_name,
                    districts=districts,
                )
                fp.area()
                out: dict[str, pd.Series] = {}
                for raw_col, canon in self.source.read.items():
                    out[canon] = fp.parse(raw_col)
                self._state_classes(out)
                self.derive(fp, out)
                index = text.frame.index
                cols = {
                    c: out[c] if c in out else empty_column(d, fp.n, index)
                    for c, d in self.table.columns.items()
                }
                cols["source_file"] = const_str(file_name, index)
                cols["source_row"] = pd.Series(text.rows, index=index)
                ok = fp.rej.ok
                # a row repeating the key of an earlier carried row is set aside (why -
                # an exact copy or other content - is known once the file is read)
                kh = np.zeros(fp.n, dtype=np.uint64)
                kh[ok] = _key_hash(pd.DataFrame({c: cols[c] for c in key}).loc[ok])
                later = np.zeros(fp.n, dtype=bool)
                later[ok] = pd.Series(kh[ok]).duplicated().to_numpy() | _in_sorted(kh[ok], seen)
                if later.any():
                    rows_later = pd.DataFrame(cols).loc[later].reset_index(drop=True)
                    raw = text.frame.loc[later].reset_index(drop=True)
                    later_rows.append((rows_later, raw, kh[later]))
                keep = ok & ~later
                seen = np.sort(np.concatenate([seen, kh[keep]]))
                firsts.append((kh[keep], text.rows[keep]))
                sink.append(select(pd.DataFrame(cols), keep))
                quarantines.append(fp.quarantine())
                notes.append(fp.notes(keep))
                bad_rows.extend(text.bad_rows)
                rows += fp.n
                del fp, out, cols, text
            sink.close()
            repeats = self._repeats(sink, firsts, later_rows) if later_rows else None
        except BaseException:
            sink.close()
            if sink.path is not None:
                sink.path.unlink(missing_ok=True)
            raise
        if repeats is not None:
            quarantines.append(repeats)
        if bad_rows:
            quarantines.append(_bad_rows(bad_rows, file_name, len(header)))
        q = pd.concat([x for x in quarantines if len(x)] or quarantines[:1], ignore_index=True)
        if len(quarantines) > 1:
            q = q.sort_values("source_row", kind="stable", ignore_index=True)
        note = pd.concat(notes, ignore_index=True)
        return ParsedFile(
            file=file_name,
            source=self.source_name,
            table=self.table.table,
            rows=rows + len(bad_rows),
            carried=sink.rows,
            sink=sink,
            quarantine=q,
            notes=note,
            sha256=chunks.sha256,
        )

    def _repeats(
        self,
        sink: RowSink,
        firsts: list[tuple[np.ndarray, np.ndarray]],
        later_rows: list[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]],
    ) -> pd.DataFrame:
        """The quarantine rows of the rows that repeated an earlier carried row's key.

        A repeat whose canonical fields all equal the first row's is ``duplicate`` (an exact
        copy: nothing is lost by dropping it); the same key with other content is
        ``duplicate_<key>`` (``duplicate_key`` for a composite key): which row is right is
        not known. The first rows are read back from the sink (only when there are repeats).
        """
        later = pd.concat([c for c, _, _ in later_rows], ignore_index=True)
        raw = pd.concat([r for _, r, _ in later_rows], ignore_index=True)
        lh = np.concatenate([h for _, _, h in later_rows])
        kh = np.concatenate([h for h, _ in firsts])
        rows = np.concatenate([r for _, r in firsts])
        first_row = pd.Series(rows, index=kh).groupby(level=0).first()
        first_rows = first_row.reindex(lh).to_numpy(dtype=np.int64)
        first = sink.take(np.unique(first_rows)).set_index("source_row").loc[first_rows]
        content = [c for c in self.table.columns if c != "source_file"]
        both = pd.concat([first[content].reset_index(drop=True), later[content]], ignore_index=True)
        codes = key_codes(both)
        exact = codes[: len(later)] == codes[len(later) :]
        key = list(self.table.key)
        clash = f"duplicate_{key[0]}" if len(key) == 1 else "duplicate_key"
        what = f"duplicate key ({', '.join(key)}) of"
        reason_code = np.where(exact, "duplicate", clash)
        unit = self.table.unit_column
        head = pd.DataFrame(
            {
                "source_file": later["source_file"].to_numpy(dtype=object),
                "source_row": later["source_row"].to_numpy(),
                "reason_code": reason_code,
                "reason": [
                    f"exact duplicate of data row {int(f)}"
                    if e
                    else f"{what} data row {int(f)} with other content; the first row is kept"
                    for e, f in zip(exact, first_rows, strict=True)
                ],
                "check": [check_of(c) for c in reason_code],
                "column": ",".join(key),
                "unit_code": later[unit].astype(str).to_numpy() if unit else "",
            }
        )
        body = raw.drop(columns=[c for c in raw.columns if c in QUARANTINE_HEAD])
        return pd.concat([head, body], axis=1)

    def _state_classes(self, out: dict[str, pd.Series]) -> None:
        """``state_class`` from the declared meaning of each state; a ticket closed without
        being resolved has its end time in ``closed_at``, not ``finished_at``."""
        sc = self.table.state_classes
        if sc is None or sc.column not in out:
            return
        classes = by_unique(out[sc.column], lambda u: u.map(sc.class_of).astype("str"))
        if "state_class" in self.table.columns:
            out["state_class"] = classes
        if "closed_at" in self.table.columns:
            closed = (classes == "closed").to_numpy()
            closed_at = pd.Series(pd.NaT, index=classes.index, dtype=TS_DTYPE)
            fin = out.get("finished_at")
            if fin is not None and closed.any():
                closed_at[closed] = fin[closed]
                fin = fin.copy()
                fin[closed] = pd.NaT
                out["finished_at"] = fin
            out["closed_at"] = closed_at


def _bad_rows(bad: list[tuple[int, str]], file_name: str, width: int) -> pd.DataFrame:
    n = len(bad)
    return pd.DataFrame(
        {
            "source_file": [file_name] * n,
            "source_row": np.asarray([r for r, _ in bad], dtype=np.int64),
            "reason_code": ["bad_row_shape"] * n,
            "reason": [f"wrong number of fields (expected {width}; see raw_text)"] * n,
            "check": ["malformed_row"] * n,
            "column": [""] * n,
            "unit_code": [""] * n,
            "raw_text": [t for _, t in bad],
        }
    )[[*QUARANTINE_HEAD, "raw_text"]]


__all__ = ["Adapter", "ParsedFile", "RowSink"]
