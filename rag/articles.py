"""The newsroom's corpus: list the indexed articles, add uploaded ones, remove one.

Uploaded files (``.txt``/``.md``, or a ``.zip`` of them) are checked with the same rules and
messages as ``rag ingest`` before anything is kept, then copied into ``Settings.uploads_dir``
(``data_dir/corpus``) and ingested from there, incrementally, through ``Assistant.ingest``.
Removing an article takes its chunks and sentences out of the index; the file is deleted only when
it is an uploaded copy under ``uploads_dir`` (files ingested from the user's own folders are kept).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from rag.errors import InvalidInput, NotFound, TooLarge
from rag.loading import SUFFIXES, load_article

if TYPE_CHECKING:
    from rag.assistant import Assistant


class NotIndexed(NotFound):
    """The named article is not in the index (HTTP 404)."""


class UploadTooLarge(TooLarge):
    """An upload over ``max_upload_bytes`` or ``max_upload_files`` (HTTP 413)."""


@dataclass(frozen=True)
class ArticleInfo:
    source: str  # what citations name; an opaque id (it may contain "/")
    title: str
    date: str | None
    outlet: str | None
    url: str | None
    author: str | None
    chunks: int
    uploaded: bool  # a copy under uploads_dir: removing it deletes the file

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Removal:
    source: str
    chunks: int  # chunks taken out of the index
    file_deleted: bool  # True for an uploaded copy; a file from the user's own folder is kept
    files: list[str]  # the files the article was read from

    def message(self) -> str:
        kept = (
            "the uploaded file was deleted"
            if self.file_deleted
            else "the file itself was kept: " + ", ".join(self.files)
        )
        return f"removed {self.source} ({self.chunks} chunks) from the index; {kept}"

    def to_dict(self) -> dict:
        return asdict(self) | {"message": self.message()}


@dataclass
class UploadResult:
    added: list[dict] = field(default_factory=list)  # {"name": uploaded name, "source": its id in the index}
    errors: list[str] = field(default_factory=list)  # files refused, and why (same messages as `rag ingest`)
    notes: list[str] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def list_articles(assistant: Assistant, query: str | None = None) -> list[ArticleInfo]:
    """Every indexed article, newest first (undated last); ``query`` keeps those whose title,
    file, outlet, author or date contain it (case-insensitive)."""
    chunks: dict[str, int] = defaultdict(int)
    first: dict[str, dict] = {}
    with assistant.store.reading():
        for meta in assistant.store.chunk_metadata():
            chunks[meta["path"]] += 1
            first.setdefault(meta["path"], meta)
    uploads = assistant.settings.uploads_dir.resolve()
    found = [
        ArticleInfo(
            source=meta["source"],
            title=meta.get("title", ""),
            date=meta.get("date"),
            outlet=meta.get("outlet"),
            url=meta.get("url"),
            author=meta.get("author"),
            chunks=chunks[path],
            uploaded=Path(path).is_relative_to(uploads),
        )
        for path, meta in first.items()
    ]
    if query and query.strip():
        wanted = " ".join(query.split()).casefold()
        found = [
            a
            for a in found
            if any(wanted in (value or "").casefold() for value in (a.title, a.source, a.outlet, a.author, a.date))
        ]
    found.sort(key=lambda a: (a.title.casefold(), a.source))
    found.sort(key=lambda a: a.date or "", reverse=True)
    return found


def remove_article(assistant: Assistant, source: str) -> Removal:
    """Take ``source`` out of the index; delete its file only if it is an uploaded copy."""
    if not isinstance(source, str) or not source.strip() or len(source) > 1000:
        raise NotIndexed("name an indexed article (its file name, as `rag articles list` shows it)")
    store = assistant.store
    with store.writing():
        found = store.source_metadata(source)
        paths = sorted({meta["path"] for meta in found})
        if not paths:
            raise NotIndexed(f"{_shown(source)}: not an indexed article; nothing was removed")
        chunks = store.delete_paths(paths)
    uploads = assistant.settings.uploads_dir.resolve()
    deleted = False
    for path in map(Path, paths):
        if path.is_relative_to(uploads):
            path.unlink(missing_ok=True)
            deleted = True
    return Removal(source=source, chunks=chunks, file_deleted=deleted, files=paths)


def add_articles(assistant: Assistant, files: list[tuple[str, bytes]], progress: bool = False) -> UploadResult:
    """Check, keep and ingest uploaded ``(file name, content)`` pairs; refused files are named with why.

    Raises :class:`UploadTooLarge` before anything is kept when the upload passes a limit.
    """
    settings = assistant.settings
    result = UploadResult()
    total = sum(len(data) for _, data in files)
    if total > settings.max_upload_bytes:
        raise UploadTooLarge(
            f"the upload is {total} bytes; the limit is {settings.max_upload_bytes} (max_upload_bytes)"
        )
    articles: list[tuple[str, bytes]] = []
    for name, data in files:
        shown = _shown(name or "")
        if name and name.lower().endswith(".zip"):
            articles += _unzip(shown, data, settings.max_file_bytes, settings.max_upload_bytes, result.errors)
        elif not _usable_name(name):
            result.errors.append(f"{shown!r}: not a usable file name")
        elif PurePosixPath(name).suffix.lower() not in SUFFIXES:
            result.errors.append(f"{shown}: not a .txt or .md file, skipped")
        else:
            articles.append((_base_name(name), data))
    if len(articles) > settings.max_upload_files:
        raise UploadTooLarge(
            f"the upload holds {len(articles)} articles; the limit is {settings.max_upload_files} (max_upload_files)"
        )
    kept = _keep_valid(articles, settings.uploads_dir, settings.max_file_bytes, settings.data_dir, result.errors)
    if kept:
        report = assistant.ingest([settings.uploads_dir], progress=progress)
        result.errors += [e for e in report.errors if e not in result.errors]
        result.notes = report.notes
        result.summary = report.summary()
        with assistant.store.reading():
            found = assistant.store.path_metadata(str(p) for _, p in kept)
        source_of = {meta["path"]: meta["source"] for meta in found}
        result.added = [{"name": name, "source": source_of[str(p)]} for name, p in kept if str(p) in source_of]
    return result


def _keep_valid(
    articles: list[tuple[str, bytes]], folder: Path, max_bytes: int, data_dir: Path, errors: list[str]
) -> list[tuple[str, Path]]:
    """Write each article to a staging folder, read it as ``rag ingest`` would, move the good ones into ``folder``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    kept: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(dir=data_dir, prefix="upload-") as staging:
        root = Path(staging)
        for name, data in articles:
            staged = root / name
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(data)
            try:
                load_article(staged, max_bytes)
            except InvalidInput as problem:  # the same message as `rag ingest`, naming the uploaded file
                errors.append(str(problem).replace(str(staged), name, 1))
                continue
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged, target)  # replaces an earlier upload of the same name: an update
            kept.append((name, target.resolve()))
    return kept


def _unzip(name: str, data: bytes, max_file_bytes: int, max_total: int, errors: list[str]) -> list[tuple[str, bytes]]:
    """The ``.txt``/``.md`` entries of a zip; an archive with a link or a path leaving it is refused whole."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        errors.append(f"{name}: not a valid .zip archive")
        return []
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if stat.S_ISLNK(entry.external_attr >> 16):
            errors.append(f"{name}: entry {entry.filename!r} is a symbolic link; archives with links are refused")
            return []
        if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            errors.append(f"{name}: entry {entry.filename!r} points outside the archive; the archive is refused")
            return []
    if sum(e.file_size for e in entries) > max_total:
        raise UploadTooLarge(f"{name}: unpacks to more than {max_total} bytes (max_upload_bytes)")
    articles = []
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if entry.is_dir() or any(part.startswith((".", "__MACOSX")) for part in path.parts):
            continue  # folders, and the hidden files archivers add
        shown = f"{name}/{path}"
        if path.suffix.lower() not in SUFFIXES:
            errors.append(f"{shown}: not a .txt or .md file, skipped")
        elif not all(_usable_name(part) for part in path.parts):
            errors.append(f"{shown!r}: not a usable file name")
        elif entry.file_size > max_file_bytes:
            errors.append(
                f"{shown}: {entry.file_size} bytes is larger than the {max_file_bytes}-byte limit "
                "(raise --max-file-bytes to read it)"
            )
        else:
            try:
                with archive.open(entry) as file:
                    content = file.read(max_file_bytes + 1)  # a header that lies about the size still stops here
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                errors.append(f"{shown}: cannot unpack ({exc})")
                continue
            if len(content) > max_file_bytes:
                errors.append(
                    f"{shown}: larger than the {max_file_bytes}-byte limit (raise --max-file-bytes to read it)"
                )
                continue
            articles.append((str(path), content))
    return articles


def _base_name(name: str) -> str:
    """The file name alone: a browser may send a path ("C:\\\\news\\\\a.txt"), and no upload chooses its folder."""
    return PurePosixPath(name.replace("\\", "/")).name


def _usable_name(name: str | None) -> bool:
    if not name:
        return False
    base = _base_name(name)
    return (
        bool(base)
        and base not in {".", ".."}
        and not base.startswith(".")
        and len(base.encode()) <= 255
        and all(unicodedata.category(c) not in {"Cc", "Cs"} for c in base)
        and os.sep not in base
    )


def _shown(text: str, limit: int = 120) -> str:
    text = text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "…"
