"""Token-sized chunks made of whole sentences, as LangChain documents with offset metadata.

Chunks are sized with tiktoken. Sentences are packed until the next one would pass
``chunk_tokens``; the next chunk starts with the last whole sentences of the previous one, up to
``chunk_overlap_tokens``. Only a sentence longer than a whole chunk is cut, at a token boundary.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from functools import lru_cache

import tiktoken
from langchain_core.documents import Document

from rag.loading import Article
from rag.sentences import leans_on_previous


@lru_cache(maxsize=4)
def encoding(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    paragraph: int
    tokens: int


def chunk_article(article: Article, *, tokenizer: str, chunk_tokens: int, overlap_tokens: int) -> list[Document]:
    """Split ``article`` into chunk documents; metadata says exactly where each came from."""
    enc = encoding(tokenizer)
    file_hash = hashlib.sha256(article.text.encode()).hexdigest()  # tells a file copied under another name
    pieces = [
        piece
        for number, paragraph in enumerate(article.paragraphs)
        for span in paragraph
        for piece in _pieces(article.text, span, number, enc, chunk_tokens)
    ]
    documents = []
    for index, group in enumerate(_pack(pieces, chunk_tokens, overlap_tokens)):
        content = _join(article.text, group)
        documents.append(
            Document(
                page_content=content,
                metadata={
                    "source": article.source,
                    "path": str(article.path),
                    "title": article.title,
                    "chunk": index,
                    "start": group[0].start,
                    "end": group[-1].end,
                    "spans": json.dumps([[p.start, p.end] for p in group]),
                    "content_hash": hashlib.sha256(content.encode()).hexdigest(),
                    "file_hash": file_hash,
                    **article.meta.fields(),  # date, day, outlet, url, author: only those the article gives
                },
            )
        )
    return documents


def sentence_documents(chunks: list[Document]) -> list[Document]:
    """One document per sentence of ``chunks`` (first occurrence), for sentence-level search.

    Metadata mirrors the chunk's, with the sentence's own offsets, so a sentence document is
    simply a one-sentence chunk to every reader.
    """
    documents = []
    seen: set[tuple[str, int]] = set()
    for chunk in chunks:
        for text, start, end, lead in sentences_with_leads(chunk):
            if (chunk.metadata["path"], start) in seen:  # the overlap repeats sentences of one file
                continue
            seen.add((chunk.metadata["path"], start))
            metadata = chunk.metadata | {
                "start": start,
                "end": end,
                "spans": json.dumps([[start, end]]),
                "lead": lead,
                "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            }
            documents.append(Document(page_content=text, metadata=metadata))
    return documents


def sentences_with_leads(document: Document) -> list[tuple[str, int, int, str]]:
    """Sentences with, for those opening with a pronoun, the sentence before ("lead").

    A one-sentence document carries its lead in its metadata.
    """
    sentences = sentences_of(document)
    if len(sentences) == 1:
        text, start, end = sentences[0]
        return [(text, start, end, document.metadata.get("lead", ""))]
    result = []
    previous = ""
    for text, start, end in sentences:
        result.append((text, start, end, previous if leans_on_previous(text) else ""))
        previous = text
    return result


def sentences_of(document: Document) -> list[tuple[str, int, int]]:
    """The ``(text, start, end)`` sentences a chunk was built from, offsets into the source file."""
    result = []
    position = 0
    for start, end in json.loads(document.metadata["spans"]):
        length = end - start
        result.append((document.page_content[position : position + length], start, end))
        position += length + 1  # every separator is one character: " " or "\n"
    return result


def _join(text: str, group: list[_Piece]) -> str:
    parts = [text[group[0].start : group[0].end]]
    for previous, piece in itertools.pairwise(group):
        parts.append(" " if piece.paragraph == previous.paragraph else "\n")
        parts.append(text[piece.start : piece.end])
    return "".join(parts)


def _pack(pieces: list[_Piece], limit: int, overlap: int) -> list[list[_Piece]]:
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    size = 0
    fresh = 0  # pieces in ``current`` not already in the previous chunk
    for piece in pieces:
        if current and size + piece.tokens > limit and fresh:
            groups.append(current)
            current, size = _tail(current, overlap, limit - piece.tokens)
            fresh = 0
        current.append(piece)
        size += piece.tokens
        fresh += 1
    if fresh:
        groups.append(current)
    return groups


def _tail(group: list[_Piece], overlap: int, room: int) -> tuple[list[_Piece], int]:
    """The last whole sentences of ``group`` that fit in ``overlap`` tokens (and in ``room``)."""
    tail: list[_Piece] = []
    size = 0
    for piece in reversed(group):
        if size + piece.tokens > min(overlap, room):
            break
        tail.insert(0, piece)
        size += piece.tokens
    return tail, size


def _pieces(text: str, span: tuple[int, int], paragraph: int, enc: tiktoken.Encoding, limit: int):
    """One piece per sentence; a sentence longer than ``limit`` tokens is cut at token boundaries."""
    start, end = span
    tokens = enc.encode(text[start:end], disallowed_special=())
    if len(tokens) <= limit:
        yield _Piece(start, end, paragraph, len(tokens))
        return
    _, offsets = enc.decode_with_offsets(tokens)
    for first in range(0, len(tokens), limit):
        piece_start = start + offsets[first]
        piece_end = start + offsets[first + limit] if first + limit < len(tokens) else end
        while piece_end > piece_start and text[piece_end - 1].isspace():
            piece_end -= 1
        while piece_start < piece_end and text[piece_start].isspace():
            piece_start += 1
        if piece_end > piece_start:
            yield _Piece(piece_start, piece_end, paragraph, len(tokens[first : first + limit]))
