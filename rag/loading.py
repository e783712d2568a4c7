"""Read article files into paragraphs of sentence spans, keeping offsets into the original file.

Cleaning never rewrites text: it decides which spans of the file to keep (non-blank lines, first
occurrence of a repeated line), so every quote the assistant makes is a substring of the file.

Encodings: UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read.
Anything else (Latin-1, Windows-1252, UTF-16 without a BOM) is refused with a message saying how
to convert it: guessing an 8-bit encoding would silently put wrong characters into quotes.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InvalidInput
from rag.metadata import Meta, MetadataError, read_meta
from rag.sentences import split_sentences

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Article:
    path: Path
    text: str  # the file exactly as read
    title: str
    paragraphs: list[list[tuple[int, int]]] = field(default_factory=list)  # sentence spans per kept line
    meta: Meta = field(default_factory=Meta)  # date, outlet, url, author: from front matter or header lines

    @property
    def source(self) -> str:
        """The file name: what citations show."""
        return self.path.name

    def sentence(self, span: tuple[int, int]) -> str:
        return self.text[span[0] : span[1]]


def find_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders into their article files; return ``(files, problems)``.

    A symlink found inside a folder must point inside that folder: a link to ``/etc/passwd.txt``
    dropped into the corpus is refused, not indexed and served. Files named directly are trusted.
    """
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            folder = path.resolve()
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                problems.append(f"{path}: folder has no .txt or .md files")
            for file in found:
                if file.resolve().is_relative_to(folder):
                    files.append(file)
                else:
                    problems.append(f"{file}: symlink to {file.resolve()}, outside {path}, skipped")
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                files.append(path)
            else:
                problems.append(f"{path}: not a .txt or .md file, skipped")
        else:
            problems.append(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def load_article(path: Path, max_bytes: int) -> Article:
    """Read one article; raise :class:`InvalidInput` naming the file when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidInput(
                f"{path}: {size} bytes is larger than the {max_bytes}-byte limit (raise --max-file-bytes to read it)"
            )
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)  # a file that grows while we read still stops at the limit
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise InvalidInput(f"{path}: larger than the {max_bytes}-byte limit (raise --max-file-bytes to read it)")
    text = decode(raw, path)
    try:
        meta = read_meta(text)
    except MetadataError as problem:
        raise InvalidInput(f"{path}: {problem}") from None
    paragraphs = list(_paragraphs(text, meta.body_start))  # front matter and header lines are not article text
    if not paragraphs:
        raise InvalidInput(f"{path}: empty file")
    first = paragraphs[0]
    title = meta.title or " ".join(text[first[0][0] : first[-1][1]].split())
    return Article(path=path, text=text, title=title, paragraphs=paragraphs, meta=meta)


def decode(raw: bytes, path: Path) -> str:
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
