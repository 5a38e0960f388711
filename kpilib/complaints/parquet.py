"""Reading columns of the canonical Parquet tables as numpy arrays, batch by batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kpilib.errors import InputError, SchemaError


def open_columns(
    path: str | Path, columns: Sequence[str], *, dictionary: Sequence[str]
) -> pq.ParquetFile:
    """Open a Parquet file whose schema has ``columns``, reading ``dictionary`` ones encoded.

    Raises:
        InputError: The file is missing or unreadable.
        SchemaError: A column is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("Parquet file not found", file=str(path))
    try:
        names = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in names]
        if missing:
            raise SchemaError(
                f"lacks column(s) {missing}; has {sorted(names)}", file=str(path), column=missing[0]
            )
        # pages are read as decoded (not a whole row group's columns at once): less memory
        return pq.ParquetFile(
            path, read_dictionary=[c for c in dictionary if c in names], pre_buffer=False
        )
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", file=str(path)) from None


def plain(arr: pa.Array) -> pa.Array:
    """A dictionary-encoded column as plain values."""
    if pa.types.is_dictionary(arr.type):
        return arr.dictionary.take(arr.indices)
    return arr


def dictionary_indices(arr: pa.Array) -> np.ndarray:
    """Dictionary indices as int64, -1 for nulls (which pick a trailing -1 of a lookup)."""
    idx = arr.indices
    if idx.null_count:
        return np.asarray(idx.fill_null(-1), dtype=np.int64)
    return np.asarray(idx, dtype=np.int64)


def epoch_seconds(arr: pa.Array, path: str | Path) -> np.ndarray:
    """UTC epoch seconds of a tz-aware timestamp column; nulls become the minimum int64.

    Raises:
        SchemaError: For naive timestamps or another type.
    """
    t = arr.type
    if not pa.types.is_timestamp(t) or t.tz is None:
        raise SchemaError(
            f"expected timezone-aware timestamps (Asia/Bangkok), got {t}",
            file=str(path),
            column="timestamp",
        )
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[t.unit]
    ints = arr.cast(pa.int64())
    if not ints.null_count:
        return np.asarray(ints) // per_s
    i8 = np.asarray(ints.fill_null(np.iinfo(np.int64).min), dtype=np.int64)
    nat = i8 == np.iinfo(np.int64).min
    out = i8 // per_s
    out[nat] = np.iinfo(np.int64).min
    return out


def batches(pf: pq.ParquetFile, columns: Sequence[str], rows: int) -> Iterator[pa.RecordBatch]:
    """The file's batches of ``rows`` rows; Arrow's decoding buffers are given back to the
    system after each (its pool would otherwise keep them)."""
    for batch in pf.iter_batches(batch_size=rows, columns=list(columns)):
        yield batch
        del batch
        pa.default_memory_pool().release_unused()
