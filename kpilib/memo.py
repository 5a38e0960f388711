"""Results computed once per owner object (a data bundle) and dropped with it.

A data bundle (:class:`kpilib.datasets.Bundle`) never changes once opened: a new ingest opens
a new one. So what is computed from its tables — the complaint engine's tables, each
measure's value, indexes by unit — can be kept for as long as the bundle lives. A batch
worker renders hundreds of reports on one bundle; each such result is computed once per
worker instead of once per report.

Owners are held weakly; an owner that cannot be weakly referenced (a test's stand-in) gets
a small cache keyed by its identity (the last few owners only).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_CACHES: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_BY_ID: dict[int, tuple[Any, dict[Hashable, Any]]] = {}
_LOCK = threading.Lock()
_MAX_BY_ID = 4


def cache_for(owner: Any) -> dict[Hashable, Any]:
    """The cache dictionary of ``owner`` (created on first use)."""
    with _LOCK:
        try:
            return _CACHES.setdefault(owner, {})
        except TypeError:  # not weak-referenceable or not hashable
            entry = _BY_ID.get(id(owner))
            if entry is None or entry[0] is not owner:
                if len(_BY_ID) >= _MAX_BY_ID:
                    _BY_ID.pop(next(iter(_BY_ID)))
                entry = (owner, {})
                _BY_ID[id(owner)] = entry
            return entry[1]


_MISSING = object()


def memoized(owner: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``owner`` and ``key``; later calls return the same object.

    Two threads asking at once may both compute; the first result stored wins.
    """
    cache = cache_for(owner)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        value = cache.setdefault(key, value)
    return value  # type: ignore[return-value]


def freeze(value: Any) -> Hashable:
    """A hashable form of keyword arguments (dicts, lists and sets of hashables).

    Raises:
        TypeError: Something that cannot be made hashable.
    """
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    hash(value)
    return value
