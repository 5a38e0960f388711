"""File helpers used everywhere: content hashes and atomic writes.

An atomic write goes to a temporary file in the target's folder and is moved into place with
:func:`os.replace`, so a crash, Ctrl-C or a full disk never leaves a half-written file at the
final path (the previous version, if any, stays intact).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

TMP_PREFIX = ".tmp-"
"""Temporary files of atomic writes start with this (a crashed run's leftovers are removable)."""


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Write ``path`` atomically: ``writer(tmp)`` fills a temporary file that then replaces it.

    The file gets the usual permissions (``0o666`` minus the umask), parents are created.

    Returns:
        ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write bytes atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda p: p.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def remove_tmp_files(folder: str | Path) -> None:
    """Remove leftovers of interrupted atomic writes in ``folder``."""
    d = Path(folder)
    if not d.is_dir():
        return
    for p in d.iterdir():
        if p.name.startswith(TMP_PREFIX) and p.is_file():
            p.unlink(missing_ok=True)
