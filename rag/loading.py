"""Read article files into paragraphs of sentence spans, keeping offsets into the original file.

Cleaning never rewrites text: it decides which spans of the file to keep (non-blank lines, first
occurrence of a repeated line), so every quote the assistant makes is a substring of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InvalidInput
from rag.sentences import split_sentences

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Article:
    path: Path
    text: str  # the file exactly as read
    title: str
    paragraphs: list[list[tuple[int, int]]] = field(default_factory=list)  # sentence spans per kept line

    @property
    def source(self) -> str:
        """The file name: what citations show."""
        return self.path.name

    def sentence(self, span: tuple[int, int]) -> str:
        return self.text[span[0] : span[1]]


def find_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders into their article files; return ``(files, problems)``."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                problems.append(f"{path}: folder has no .txt or .md files")
            files.extend(found)
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
            raise InvalidInput(f"{path}: {size} bytes is larger than the {max_bytes}-byte limit")
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if b"\x00" in raw:
        raise InvalidInput(f"{path}: looks like a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    text = text.removeprefix("\ufeff")
    paragraphs = list(_paragraphs(text))
    if not paragraphs:
        raise InvalidInput(f"{path}: empty file")
    first = paragraphs[0]
    title = " ".join(text[first[0][0] : first[-1][1]].split())
    return Article(path=path, text=text, title=title, paragraphs=paragraphs)


def _paragraphs(text: str):
    """Yield the sentence spans of each non-blank line, skipping exact repeats of a line."""
    seen: set[str] = set()
    offset = 0
    for line in text.splitlines(keepends=True):
        key = " ".join(line.split())
        if key and key not in seen:
            seen.add(key)
            yield split_sentences(line, offset)
        offset += len(line)
