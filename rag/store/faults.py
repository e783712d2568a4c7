"""What a failed store call means to a user: one :class:`StorageError` naming the cause and the folder."""

from __future__ import annotations

import errno
import os
import sqlite3

import chromadb.errors

from rag.errors import StorageError

LOW_SPACE = 1 << 20  # bytes: below this a failed write is put down to a full disk
# What a store call raises when its disk or the store itself fails (not a bug in our code).
FAILURES = (OSError, sqlite3.Error, chromadb.errors.ChromaError)


class StoreUnavailable(StorageError):
    """The Chroma server cannot be reached or the URL is not one."""


def storage_error(exc: BaseException, data_dir) -> StorageError:
    """One :class:`StorageError` for a failed store call, naming the cause and ``data_dir``."""
    cause = disk_cause(data_dir, exc)
    if cause is None:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return StorageError(
            f"the index in {folder(data_dir)} failed ({type(exc).__name__}: {detail}); "
            "run `rag ingest` again to repair it, or rebuild it by deleting the folder"
        )
    return StorageError(f"{cause}; nothing indexed is lost: fix that, then run `rag ingest` again")


def disk_cause(data_dir, exc: BaseException | None) -> str | None:
    """'no space left on the device holding data/', 'read-only', ... or None when the disk looks fine."""
    shown = folder(data_dir)
    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    said = " ".join(str(e) for e in chain).lower()
    codes = {getattr(e, "errno", None) for e in chain}
    try:
        disk = os.statvfs(data_dir if os.path.isdir(data_dir) else ".")
    except OSError:
        disk = None
    if (
        codes & {errno.ENOSPC, errno.EDQUOT}
        or "no space left" in said
        or "disk is full" in said
        or (disk is not None and disk.f_bavail * disk.f_frsize < LOW_SPACE)
    ):
        return f"no space left on the device holding {shown}"
    if (
        errno.EROFS in codes
        or "read-only file system" in said
        or "readonly database" in said
        or (disk is not None and disk.f_flag & os.ST_RDONLY)
    ):
        return f"the device holding {shown} is read-only"
    if codes & {errno.EACCES, errno.EPERM} or (os.path.isdir(data_dir) and not os.access(data_dir, os.W_OK)):
        return f"no permission to write to {shown}"
    return None


def folder(data_dir) -> str:
    """``data_dir`` as messages show it: ``data/``."""
    return str(data_dir).rstrip("/") + "/"
