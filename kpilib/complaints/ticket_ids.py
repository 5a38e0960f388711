"""Ticket ids of up to 16 bytes as integers: numbered by sorting, not by a string hash table.

An id such as ``2023-FCX4QQ`` (Traffy) or ``T0000042`` is packed into two big-endian 64-bit
words and its length. Compared as integers the words keep the ids' byte order, so "the ids
increase" is a vectorised comparison; numbering ids in any order is a sort of one 64-bit
hash of the words (then each pair of neighbours with the same hash is checked to hold the
same id; on a clash the words themselves are sorted). The ids come back from the words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: Longest id (in UTF-8 bytes) packed into integers; longer ids are numbered as strings.
KEY_BYTES = 16
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


@dataclass(frozen=True)
class PackedIds:
    """Ids as two big-endian words (bytes 0–7, 8–15, zero-padded) and a length."""

    hi: np.ndarray
    lo: np.ndarray
    length: np.ndarray

    @property
    def size(self) -> int:
        """How many ids."""
        return int(self.length.size)

    @classmethod
    def empty(cls, capacity: int) -> PackedIds:
        """Room for ``capacity`` ids (pages are only resident once written)."""
        return cls(
            np.empty(capacity, dtype=np.uint64),
            np.empty(capacity, dtype=np.uint64),
            np.empty(capacity, dtype=np.uint8),
        )

    def put(self, at: int, keys: PackedIds) -> None:
        """Write ``keys`` from position ``at`` on."""
        part = slice(at, at + keys.size)
        self.hi[part], self.lo[part], self.length[part] = keys.hi, keys.lo, keys.length

    def take(self, index: np.ndarray) -> PackedIds:
        """The ids at ``index`` (a copy)."""
        return PackedIds(self.hi[index], self.lo[index], self.length[index])

    def head(self, n: int) -> PackedIds:
        """The first ``n`` ids (views, no copy)."""
        return PackedIds(self.hi[:n], self.lo[:n], self.length[:n])

    def increasing(self) -> bool:
        """True when every id is greater than the one before (so no id appears twice)."""
        if self.size < 2:
            return True
        hi, lo, ln = self.hi, self.lo, self.length
        gt = hi[1:] > hi[:-1]
        eq = hi[1:] == hi[:-1]
        gt |= eq & (lo[1:] > lo[:-1])
        eq &= lo[1:] == lo[:-1]
        gt |= eq & (ln[1:] > ln[:-1])
        return bool(gt.all())

    def strings(self, index: np.ndarray) -> pa.Array:
        """The ids at ``index`` as an Arrow string array."""
        index = np.asarray(index, dtype=np.int64)
        m = index.size
        words = np.empty((m, 2), dtype=">u8")
        words[:, 0] = self.hi[index]
        words[:, 1] = self.lo[index]
        ln = self.length[index].astype(np.int64)
        raw = words.view(np.uint8).reshape(m, KEY_BYTES)
        data = raw[np.arange(KEY_BYTES) < ln[:, None]]
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(ln, out=offsets[1:])
        return pa.LargeStringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(data))


def pack(ids: pa.Array) -> PackedIds | None:
    """Pack an Arrow string array without nulls; None if an id is longer than 16 bytes."""
    t = ids.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)) or ids.null_count:
        return None
    m = len(ids)
    off_type = np.int64 if pa.types.is_large_string(t) else np.int32
    offs = np.frombuffer(ids.buffers()[1], dtype=off_type)[ids.offset : ids.offset + m + 1]
    data = np.frombuffer(ids.buffers()[2], dtype=np.uint8) if m else np.zeros(0, np.uint8)
    lens = np.diff(offs)
    if m and int(lens.max()) > KEY_BYTES:
        return None
    first, last = int(offs[0]), int(offs[-1])
    raw = np.zeros((m, KEY_BYTES), dtype=np.uint8)
    if m and (lens == lens[0]).all():  # fixed-width ids: one reshape
        raw[:, : int(lens[0])] = data[first:last].reshape(m, int(lens[0]))
    elif m:
        rows = np.repeat(np.arange(m), lens)
        cols = np.arange(last - first) - np.repeat(offs[:-1].astype(np.int64) - first, lens)
        raw[rows, cols] = data[first:last]
    words = raw.view(">u8")
    return PackedIds(
        words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64), lens.astype(np.uint8)
    )


def number(keys: PackedIds) -> tuple[np.ndarray, np.ndarray]:
    """Number equal ids alike: (ticket number per id, index of each ticket's first id).

    One in-place sort of 64-bit integers (a hash of the id in the high bits, the id's index in
    the low bits) brings equal ids together; neighbours are then compared id by id. Where two
    ids share the truncated hash (rare), that stretch is sorted by the ids themselves.
    """
    n = keys.size
    bits = np.uint64(max(1, (n - 1).bit_length()))
    h = _hash(keys)
    h >>= bits
    h <<= bits
    h |= np.arange(n, dtype=np.uint64)
    h.sort()
    index_type = np.int32 if n < 2**31 else np.int64
    order = (h & ((np.uint64(1) << bits) - np.uint64(1))).astype(index_type)
    h >>= bits
    same_hash = h[1:] == h[:-1]
    del h
    same = _equal_neighbours(keys, order)
    clash = np.flatnonzero(same_hash & ~same)
    if clash.size:
        _sort_clashes(keys, order, same_hash, clash)
        same = _equal_neighbours(keys, order)
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.logical_not(same, out=new[1:])
    ticket_sorted = np.cumsum(new, dtype=np.int32)
    ticket_sorted -= 1
    ticket = np.empty(n, dtype=np.int32)
    ticket[order] = ticket_sorted
    return ticket, order[new].astype(np.int64)


def _hash(keys: PackedIds) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = keys.hi * _MIX[0]
        h ^= keys.lo * _MIX[1]
        h ^= keys.length.astype(np.uint64) * _MIX[2]
        h ^= h >> np.uint64(29)
        h *= _MIX[0]
        h ^= h >> np.uint64(32)
    return h


def _sort_clashes(
    keys: PackedIds, order: np.ndarray, same_hash: np.ndarray, clash: np.ndarray
) -> None:
    """Sort, by the ids themselves, each stretch of equal hashes holding several ids."""
    starts = np.flatnonzero(np.concatenate(([True], ~same_hash)))  # runs of equal hashes
    ends = np.append(starts[1:], order.size)
    for run in np.unique(np.searchsorted(starts, clash, side="right") - 1):
        a, b = int(starts[run]), int(ends[run])
        seg = order[a:b]
        order[a:b] = seg[np.lexsort((seg, keys.length[seg], keys.lo[seg], keys.hi[seg]))]


def _equal_neighbours(keys: PackedIds, order: np.ndarray) -> np.ndarray:
    """Whether each id in ``order`` equals the one before it (in blocks: little memory)."""
    out = np.ones(max(order.size - 1, 0), dtype=bool)
    parts = [keys.hi]
    if keys.lo.any():  # ids longer than 8 bytes
        parts.append(keys.lo)
    if keys.size and (keys.length != keys.length[0]).any():
        parts.append(keys.length)
    step = 1 << 20
    for start in range(0, out.size, step):
        idx = order[start : start + step + 1]  # one id of overlap with the next block
        o = out[start : start + idx.size - 1]
        for part in parts:
            x = part[idx]
            o &= x[1:] == x[:-1]
    return out
