"""Read article files into paragraphs of sentence spans, keeping offsets into the original file.

Cleaning never rewrites text: it decides which spans of the file to keep (non-blank lines, first
occurrence of a repeated line), so every quote the assistant makes is a substring of the file.

Encodings: UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read.
Anything else (Latin-1, Windows-1252, UTF-16 without a BOM) is refused with a message saying how
to convert it: guessing an 8-bit encoding would silently put wrong characters into quotes.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InvalidInput
from rag.metadata import Meta, MetadataError, read_meta
from rag.sentences import split_sentences
from rag.splitcache import SplitCache

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Article:
    path: Path
    text: str  # the file exactly as read
    title: str
    paragraphs: list[list[tuple[int, int]]] = field(default_factory=list)  # sentence spans per kept line
    name: str = ""  # the path relative to the folder ingested; "" for the bare file name
    meta: Meta = field(default_factory=Meta)  # date, outlet, url, author: from front matter or header lines

    @property
    def source(self) -> str:
        """What citations show and article pages are found by: unique among the files of one ingest."""
        return self.name or self.path.name

    def sentence(self, span: tuple[int, int]) -> str:
        return self.text[span[0] : span[1]]


def find_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders into their article files; return ``(files, problems)``."""
    found, problems = find_articles(paths)
    return list(found), problems


def find_articles(paths: list[Path]) -> tuple[dict[Path, str], list[str]]:
    """Expand folders into their article files; return ``({resolved file: source}, problems)``.

    A file's ``source`` is its path relative to the folder named (``a/report.txt`` and
    ``b/report.txt`` stay apart; a file at the top of the folder keeps its bare name), or its bare
    name when the file itself is named. A symlink found inside a folder must point inside that
    folder: a link to ``/etc/passwd.txt`` dropped into the corpus is refused, not indexed and
    served. Files named directly are trusted. Every problem is about one file, named printably.
    """
    files: dict[Path, str] = {}
    problems: list[str] = []

    def add(file: Path, source: str) -> None:
        if unprintable_name(file):
            problems.append(
                f"{shown_path(file)}: the file name is not valid UTF-8; rename it "
                "(e.g. `convmv -f latin1 -t utf8 FILE`), skipped"
            )
        elif not file.is_file():
            problems.append(f"{shown_path(file)}: not a regular file (a FIFO, socket or device), skipped")
        else:
            files.setdefault(file.resolve(), source)

    for path in paths:
        if path.is_dir():
            folder = path.resolve()
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.exists() and not p.is_dir())
            if not found:
                problems.append(f"{shown_path(path)}: folder has no .txt or .md files")
            for file in found:
                if file.resolve().is_relative_to(folder):
                    add(file, file.relative_to(path).as_posix())
                else:
                    problems.append(
                        f"{shown_path(file)}: symlink to {shown_path(file.resolve())}, outside {shown_path(path)}, "
                        "skipped"
                    )
        elif path.exists():
            if path.suffix.lower() in SUFFIXES:
                add(path, path.name)
            else:
                problems.append(f"{shown_path(path)}: not a .txt or .md file, skipped")
        else:
            problems.append(f"{shown_path(path)}: no such file or folder")
    return files, problems


def unprintable_name(path: Path) -> bool:
    """Whether the name holds bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_path(path: Path | str) -> str:
    """A path as a message shows it: bytes that are not UTF-8 and control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def load_article(path: Path, max_bytes: int, source: str = "", splits: SplitCache | None = None) -> Article:
    """Read one article; raise :class:`InvalidInput` naming the file when it cannot be used.

    ``source`` is what citations call it (default: the bare file name); ``splits`` holds sentence
    spans of texts split before (an ingest passes it, so unchanged files are not split again).
    """
    shown = shown_path(path)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # opening a FIFO would wait for a writer forever
            raise InvalidInput(f"{shown}: not a regular file (a FIFO, socket or device)")
        size = status.st_size
        if size > max_bytes:
            raise InvalidInput(
                f"{shown}: {size} bytes is larger than the {max_bytes}-byte limit (raise --max-file-bytes to read it)"
            )
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)  # a file that grows while we read still stops at the limit
    except OSError as exc:
        raise InvalidInput(f"{shown}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise InvalidInput(f"{shown}: larger than the {max_bytes}-byte limit (raise --max-file-bytes to read it)")
    text = decode(raw, shown)
    try:
        meta = read_meta(text)
    except MetadataError as problem:
        raise InvalidInput(f"{shown}: {problem}") from None
    paragraphs = splits.get(text, meta.body_start) if splits is not None else None
    if paragraphs is None:
        paragraphs = list(_paragraphs(text, meta.body_start))  # front matter and header lines are not article text
        if splits is not None and paragraphs:
            splits.put(text, meta.body_start, paragraphs)
    if not paragraphs:
        raise InvalidInput(f"{shown}: empty file")
    first = paragraphs[0]
    title = meta.title or " ".join(text[first[0][0] : first[-1][1]].split())
    return Article(path=path, text=text, title=title, paragraphs=paragraphs, name=source, meta=meta)


def decode(raw: bytes, path: Path | str) -> str:
    """The file's text: UTF-8 (BOM optional) or UTF-16 with a BOM; anything else is refused."""
    encoding = "utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    if encoding == "utf-8-sig" and b"\x00" in raw:
        raise InvalidInput(f"{path}: contains NUL bytes: a binary file (or UTF-16 without a byte-order mark), not text")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-16":
            raise InvalidInput(f"{path}: starts like UTF-16 but is not valid UTF-16 (byte {exc.start})") from exc
        raise InvalidInput(
            f"{path}: not valid UTF-8 (byte {exc.start}); if it is Latin-1 or Windows-1252, convert it: "
            f"iconv -f windows-1252 -t utf-8"
        ) from exc
    if "\x00" in text:
        raise InvalidInput(f"{path}: contains NUL characters: a binary file, not text")
    return text


def _paragraphs(text: str, start: int = 0):
    """Yield the sentence spans of each non-blank line from ``start``, skipping exact repeats of a line."""
    seen: set[str] = set()
    offset = start
    for line in text[start:].splitlines(keepends=True):
        key = " ".join(line.split())
        if key and key not in seen:
            seen.add(key)
            yield split_sentences(line, offset)
        offset += len(line)
