"""The persistent Chroma collections (chunks and sentences) and the record managers that make re-ingesting a no-op."""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import chromadb
import sqlalchemy
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.embeddings import load_embeddings
from rag.settings import Settings


class Store:
    """Chroma collection ``settings.collection`` under ``settings.data_dir``.

    The embedding model is loaded on first use, so cheap questions (is anything indexed?) stay cheap.
    """

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def embeddings(self) -> Embeddings:
        return load_embeddings(self.settings.embedding_model, self.settings.embed_batch_size)

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(self.settings.chroma_dir),
            settings=chromadb.Settings(anonymized_telemetry=False),
        )

    @cached_property
    def vectors(self) -> Chroma:
        """Chunks: what the retriever returns and the answer cites."""
        return self._chroma(self.settings.collection)

    @cached_property
    def sentence_vectors(self) -> Chroma:
        """Single sentences: finds a fact that a chunk's averaged embedding blurs."""
        return self._chroma(f"{self.settings.collection}-sentences")

    @cached_property
    def records(self) -> SQLRecordManager:
        return self._records(self.settings.collection)

    @cached_property
    def sentence_records(self) -> SQLRecordManager:
        return self._records(f"{self.settings.collection}-sentences")

    def layers(self) -> list[tuple[Chroma, SQLRecordManager]]:
        return [(self.vectors, self.records), (self.sentence_vectors, self.sentence_records)]

    def _chroma(self, name: str) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=self.embeddings,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def _records(self, name: str) -> SQLRecordManager:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        manager = SQLRecordManager(namespace=f"chroma/{name}", db_url=f"sqlite:///{self.settings.record_db}")
        manager.create_schema()
        return manager

    def count(self) -> int:
        """Chunks in the index, without loading the embedding model."""
        if "vectors" in self.__dict__:
            return self.vectors._collection.count()
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        return self.client.get_collection(self.settings.collection).count() if self.settings.collection in names else 0

    def version(self) -> tuple[int, float]:
        """Changes whenever an ingest (in any process) adds, refreshes or removes sentences: cheap to poll."""
        with self.sentence_records.engine.connect() as connection:
            count, latest = connection.execute(
                sqlalchemy.text("SELECT count(*), max(updated_at) FROM upsertion_record WHERE namespace = :namespace"),
                {"namespace": self.sentence_records.namespace},
            ).one()
        return count, latest or 0.0

    def chunks_per_path(self) -> Counter[str]:
        """How many chunks each indexed file has, keyed by its resolved path."""
        metadatas = self.vectors.get(include=["metadatas"])["metadatas"]
        return Counter(m["path"] for m in metadatas)

    def all_sentences(self) -> list[Document]:
        """Every indexed sentence, for the lexical retriever."""
        found = self.sentence_vectors.get(include=["documents", "metadatas"])
        return [
            Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]

    def delete_paths(self, paths: list[str]) -> int:
        """Remove these files from every layer and its record manager; return the chunks removed."""
        removed = []
        for vectors, records in self.layers() if paths else []:
            ids = vectors.get(where={"path": {"$in": paths}}, include=[])["ids"]
            if ids:
                vectors.delete(ids=ids)
                records.delete_keys(ids)
            removed.append(len(ids))
        return removed[0] if removed else 0
